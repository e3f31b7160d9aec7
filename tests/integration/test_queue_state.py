"""Per-recipient state in spool/results (a restart never redoes a
recipient) and the queue lifetime (retries stop, the message is set
aside in spool/expired)."""
import os
import re
import time


def broken_mailbox(t, user):
    """A mailbox deliver cannot open: its directory is a file."""
    store = os.path.join(t.dir, "store")
    os.makedirs(store, exist_ok=True)
    with open(os.path.join(store, user), "w") as f:
        f.write("not a directory\n")


def test_restart_does_not_redo_a_delivered_recipient(talon_factory):
    t = talon_factory()
    broken_mailbox(t, "bob")
    t.start()
    with t.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example", "bob@test.example"],
                   b"Subject: half\r\n\r\nx\r\n")
    t.wait_messages("alice", 1)
    t.wait_log(r"queue event=deferred queue=\S+ to=<bob@test.example> user=bob attempts=1")
    qid = re.search(r"event=queued queue=(\S+)", t.log()).group(1)
    results = os.path.join(t.dir, "spool", "results", qid)
    assert os.path.exists(results)
    t.stop()
    # take alice's copy away: if the restarted queue redid her, it would
    # come back (the Maildir name check cannot find what is gone)
    for name in os.listdir(t.maildir("alice")):
        os.unlink(os.path.join(t.maildir("alice"), name))
    os.unlink(os.path.join(t.dir, "store", "bob"))
    t.start()
    t.wait_messages("bob", 1)
    time.sleep(0.5)
    assert t.messages("alice") == [], "alice got her copy twice"
    end = time.time() + 10
    while os.path.exists(results) and time.time() < end:
        time.sleep(0.1)
    assert not os.path.exists(results)
    assert os.listdir(os.path.join(t.dir, "spool", "queue")) == []


def test_torn_results_record_is_cut_and_redone_safely(talon_factory):
    t = talon_factory()
    broken_mailbox(t, "bob")
    t.start()
    with t.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example", "bob@test.example"],
                   b"Subject: torn\r\n\r\nx\r\n")
    t.wait_messages("alice", 1)
    t.wait_log(r"event=deferred queue=\S+ to=<bob@test.example>")
    qid = re.search(r"event=queued queue=(\S+)", t.log()).group(1)
    t.stop()
    results = os.path.join(t.dir, "spool", "results", qid)
    with open(results, "ab") as f:
        f.write(b"\x00\x00\x00\x40garbage")      # a record cut short by a crash
    os.unlink(os.path.join(t.dir, "store", "bob"))
    t.start()
    t.wait_messages("bob", 1)
    time.sleep(0.5)
    assert len(t.messages("alice")) == 1        # found by its name, not redone


def test_expired_message_is_set_aside(talon_factory):
    t = talon_factory(limits={"queue-lifetime": 1})
    broken_mailbox(t, "bob")
    t.start()
    with t.smtp() as s:
        s.sendmail("s@example.org", ["bob@test.example"], b"Subject: old\r\n\r\nx\r\n")
    t.wait_log(r"event=deferred queue=\S+ to=<bob@test.example>")
    qid = re.search(r"event=queued queue=(\S+)", t.log()).group(1)
    # Ages are whole seconds and "past" means older than the lifetime:
    # 1.5 s can read as an age of 1 (queued at :03.9, retried at :04.9).
    time.sleep(2.2)
    t.stop()
    t.start()       # the retry at start fails again, past the lifetime
    t.wait_log(r"queue event=expired queue=%s session=\S+ to=<bob@test.example> user=bob "
               r"attempts=2" % qid)
    expired = os.path.join(t.dir, "spool", "expired", qid)
    end = time.time() + 5       # moved right after the log line
    while not os.path.exists(expired + ".r") and time.time() < end:
        time.sleep(0.05)
    assert os.path.exists(expired) and os.path.exists(expired + ".r")
    assert os.listdir(os.path.join(t.dir, "spool", "queue")) == []
    t.stop()
    t.start()       # nothing left to retry
    time.sleep(0.5)
    assert len(re.findall(r"event=deferred", t.log())) == 2


def test_addresses_are_escaped_in_queue_log_lines(talon_factory):
    t = talon_factory().start()
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO x.example")
    assert c.cmd('MAIL FROM:<"a\\\\b\\"c"@example.org>')[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: esc\r\n\r\nx\r\n.\r\n")
    assert c.reply()[0] == 250
    t.wait_messages("alice", 1)
    line = [l for l in t.log().splitlines() if "queue event=queued" in l][0]
    assert 'from=<\\x22a\\x5c\\x5cb\\x5c\\x22c\\x22@example.org>' in line, line


def test_deliver_writes_only_mailboxes_of_the_users_file(talon_factory):
    """A queued message for a user who is no longer in the users file:
    deliver creates no mailbox for the name the spool file carries."""
    t = talon_factory()
    broken_mailbox(t, "bob")
    t.start()
    with t.smtp() as s:
        s.sendmail("s@example.org", ["bob@test.example"], b"Subject: gone\r\n\r\nx\r\n")
    t.wait_log(r"event=deferred queue=\S+ to=<bob@test.example>")
    t.stop()
    os.unlink(os.path.join(t.dir, "store", "bob"))
    t.users = [u for u in t.users if u != "bob"]
    t.aliases = {"postmaster": ["alice"], "abuse": ["alice"]}
    t.write_files()
    t.start()
    t.wait_log(r"event=deferred queue=\S+ to=<bob@test.example> user=bob attempts=2 "
               r"reason=\"no mailbox bob \(not in the users file\)\"")
    assert not os.path.exists(os.path.join(t.dir, "store", "bob"))
    t.wait_log(r"deliver event=mailboxes generation=1 count=2")
