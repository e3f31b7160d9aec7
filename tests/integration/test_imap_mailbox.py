"""IMAP, second stage (issue 14): mailboxes.  The login front hands the
session to the mailbox process (the store's owner); clients see the Maildir
that deliver writes and that mutt or Dovecot would read: UIDs in
dovecot-uidlist, flags in file names, Maildir++ folders, IDLE on deliveries,
UIDPLUS, MOVE, changes made on disk shown as EXPUNGE/EXISTS/FETCH, and
UIDVALIDITY that never changes because of them."""
import base64
import glob
import imaplib
import os
import re
import select
import socket
import ssl
import time
import warnings

from test_imap import PASSWORD, Raw, ctx, imap, make

warnings.filterwarnings("ignore", category=DeprecationWarning)


def deliver(t, subject, body="hello\r\n", to="alice@test.example"):
    with t.smtp() as s:
        s.sendmail("s@example.org", [to],
                   ("From: Sender <s@example.org>\r\nTo: %s\r\nSubject: %s\r\n"
                    "Message-ID: <%s@example.org>\r\n\r\n%s" % (to, subject, subject, body))
                   .encode())


def login(t):
    m = imap(t)
    assert m.login("alice", PASSWORD)[0] == "OK"
    return m


def maildir(t, sub=""):
    return os.path.join(t.dir, "store", "alice", "Maildir", sub)


def uidlist(t, folder=""):
    with open(os.path.join(maildir(t, folder), "dovecot-uidlist")) as f:
        return f.read()


def fetch_dict(data):
    """imaplib's FETCH data -> {seq: raw bytes of the response}."""
    out = {}
    for item in data:
        if isinstance(item, tuple):
            head = item[0]
            seq = int(head.split()[0])
            out[seq] = out.get(seq, b"") + head + b"{}" + item[1]
        elif item and item != b")":
            seq = int(item.split()[0])
            out[seq] = out.get(seq, b"") + item
    return out


def test_delivered_mail_is_selected_and_fetched(talon_factory):
    t = make(talon_factory)
    deliver(t, "first", "line one\r\nline two\r\n")
    t.wait_messages("alice", 1)
    m = login(t)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"1"], (typ, data)
    assert m.untagged_responses.get("UIDVALIDITY")
    # a read-write SELECT moves new/ to cur/ and gives the file UID 1
    assert os.listdir(maildir(t, "new")) == []
    cur = os.listdir(maildir(t, "cur"))
    assert len(cur) == 1 and cur[0].endswith(":2,"), cur
    ul = uidlist(t)
    head, line = ul.splitlines()[0], ul.splitlines()[1]
    assert re.match(r"3 V\d+ N2", head), head
    assert line.startswith("1 ") and line.endswith(":" + cur[0].split(":")[0]), ul
    typ, data = m.uid("FETCH", "1", "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)]"
                      " BODY.PEEK[])")
    assert typ == "OK", (typ, data)
    raw = b"".join(x if isinstance(x, bytes) else x[0] + x[1] for x in data)
    with open(os.path.join(maildir(t, "cur"), cur[0]), "rb") as f:
        stored = f.read()
    assert b"\r\n" not in stored                      # stored with LF
    crlf = stored.replace(b"\n", b"\r\n")
    assert b"RFC822.SIZE %d" % len(crlf) in raw, raw
    assert b"Subject: first\r\n\r\n" in raw
    assert crlf in raw                                  # BODY[] shown with CRLF
    assert re.search(rb"FLAGS \((\\Recent)?\)", raw), raw  # PEEK: not seen
    # BODY[] without PEEK sets \Seen, on disk too
    typ, data = m.fetch("1", "(BODY[TEXT])")
    assert typ == "OK" and b"line one\r\nline two\r\n" in data[0][1], data
    assert os.listdir(maildir(t, "cur"))[0].endswith(":2,S")
    typ, data = m.fetch("1", "(FLAGS ENVELOPE BODYSTRUCTURE)")
    assert typ == "OK"
    assert b"\\Seen" in data[0] and b'"first"' in data[0] and b'"TEXT" "PLAIN"' in \
        data[0].upper(), data
    m.logout()
    log = t.log()
    assert re.search(r"mailbox session=\S+ event=login user=alice client=\[127.0.0.1\]", log)


def test_flags_both_ways_between_imap_and_the_maildir(talon_factory):
    t = make(talon_factory)
    deliver(t, "one")
    deliver(t, "two")
    t.wait_messages("alice", 2)
    m = login(t)
    assert m.select("INBOX")[1] == [b"2"]
    typ, data = m.store("1", "+FLAGS", r"(\Flagged $Important)")
    assert typ == "OK" and b"\\Flagged" in data[0] and b"$Important" in data[0], data
    names = sorted(os.listdir(maildir(t, "cur")))
    first = [n for n in names if ":2,F" in n]
    assert len(first) == 1 and first[0].endswith(":2,Fa"), names
    with open(os.path.join(maildir(t), "dovecot-keywords")) as f:
        assert f.read() == "0 $Important\n"
    # mutt marks the second message read and replied: a rename on disk
    other = [n for n in names if n not in first][0]
    os.rename(os.path.join(maildir(t, "cur"), other),
              os.path.join(maildir(t, "cur"), other.split(":")[0] + ":2,RS"))
    typ, data = m.noop()
    fetches = m.untagged_responses.get("FETCH", [])
    assert any(b"\\Answered" in x and b"\\Seen" in x for x in fetches), (fetches, data)
    typ, data = m.fetch("2", "(FLAGS)")
    assert b"\\Answered" in data[0] and b"\\Seen" in data[0]
    # -FLAGS and FLAGS (replace)
    assert m.store("1", "-FLAGS", "($Important)")[0] == "OK"
    assert m.store("2", "FLAGS", r"(\Draft)")[0] == "OK"
    names = sorted(os.listdir(maildir(t, "cur")))
    assert any(n.endswith(":2,F") for n in names) and any(n.endswith(":2,D") for n in names), \
        names
    m.logout()


def test_expunge_and_outside_deletion_keep_uidvalidity(talon_factory):
    t = make(talon_factory)
    for i in range(3):
        deliver(t, "m%d" % i)
    t.wait_messages("alice", 3)
    m = login(t)
    m.select("INBOX")
    validity = m.untagged_responses["UIDVALIDITY"][0]
    assert m.store("2", "+FLAGS", r"(\Deleted)")[0] == "OK"
    typ, data = m.expunge()
    assert typ == "OK" and data == [b"2"], data
    assert len(os.listdir(maildir(t, "cur"))) == 2
    # a cron job deletes a file: the client hears EXPUNGE, not a new UIDVALIDITY
    base = [l.split(":", 1)[1] for l in uidlist(t).splitlines()[1:] if l.startswith("1 ")][0]
    victim = [n for n in os.listdir(maildir(t, "cur")) if n.split(":")[0] == base][0]
    os.unlink(os.path.join(maildir(t, "cur"), victim))
    m.noop()
    assert m.untagged_responses.get("EXPUNGE") == [b"1"], m.untagged_responses
    deliver(t, "later")
    deadline = time.time() + 10
    while time.time() < deadline:
        m.noop()
        if m.untagged_responses.get("EXISTS"):
            break
        time.sleep(0.2)
    typ, data = m.uid("FETCH", "1:*", "(UID)")
    uids = sorted(int(x) for x in re.findall(rb"UID (\d+)", b" ".join(data)))
    assert uids == [3, 4], uids                       # never reused
    m.logout()
    m = login(t)
    m.select("INBOX")
    assert m.untagged_responses["UIDVALIDITY"][0] == validity
    m.logout()


def test_idle_hears_a_delivery(talon_factory):
    t = make(talon_factory)
    r = Raw(t, implicit=True)
    r.line()
    r.send("a LOGIN alice \"%s\"\r\n" % PASSWORD)
    assert r.until("a")[-1].startswith("a OK ")
    r.send("b SELECT INBOX\r\n")
    assert r.until("b")[-1].startswith("b OK [READ-WRITE]")
    r.send("c IDLE\r\n")
    assert r.line().startswith("+ ")
    deliver(t, "while idling")
    lines = []
    deadline = time.time() + 10
    while time.time() < deadline and "* 1 EXISTS\r\n" not in lines:
        lines.append(r.line())
    assert "* 1 EXISTS\r\n" in lines, lines
    r.send("DONE\r\n")
    assert r.until("c")[-1] == "c OK IDLE terminated\r\n"
    r.send("d LOGOUT\r\n")
    assert r.until("d")[-1] == "d OK LOGOUT completed\r\n"
    r.close()


def test_first_login_folders_list_create_rename_delete(talon_factory):
    t = make(talon_factory)
    m = login(t)
    typ, data = m.list()
    assert typ == "OK"
    text = b"\n".join(data)
    for name, use in (("Drafts", "Drafts"), ("Sent", "Sent"), ("Trash", "Trash"),
                      ("Junk", "Junk"), ("Archive", "Archive")):
        assert re.search(rb"\(\\HasNoChildren \\%s\) \"/\" \"?%s\"?" % (use.encode(),
                         name.encode()), text), text
        assert os.path.isdir(maildir(t, "." + name + "/cur"))
        assert os.path.exists(maildir(t, "." + name + "/maildirfolder"))
    assert re.search(rb'\(\\HasNoChildren\) "/" "?INBOX"?', text), text
    assert m.lsub()[0] == "OK" and len(m.lsub()[1]) == 6
    # hierarchy and a non-ASCII name (modified UTF-7 on the wire and on disk)
    assert m.create("Projects/2026")[0] == "OK"
    assert m.create("Entw&APw-rfe")[0] == "OK"
    assert os.path.isdir(maildir(t, ".Projects.2026/cur"))
    assert os.path.isdir(maildir(t, ".Entw&APw-rfe/new"))
    typ, data = m.list('""', "Projects/%")
    assert data == [b'(\\HasNoChildren) "/" "Projects/2026"'], data
    typ, data = m.create("../etc")
    assert typ == "NO", data
    assert m.create("Sent")[0] == "NO"
    assert m.rename("Projects/2026", "Projects/2027")[0] == "OK"
    assert os.path.isdir(maildir(t, ".Projects.2027"))
    assert not os.path.exists(maildir(t, ".Projects.2026"))
    assert m.delete("Projects/2027")[0] == "OK"
    assert not os.path.exists(maildir(t, ".Projects.2027"))
    assert m.delete("INBOX")[0] == "NO"
    typ, data = m.select("Nope")
    assert typ == "NO" and b"[TRYCREATE]" in data[0], data
    m.logout()


def test_append_copy_move_with_uidplus(talon_factory):
    t = make(talon_factory)
    m = login(t)
    msg = b"From: a@test.example\r\nSubject: draft\r\n\r\nbody\r\n"
    typ, data = m.append("Drafts", r"(\Draft \Seen)", '"01-Feb-2026 10:00:00 +0100"', msg)
    assert typ == "OK" and re.match(rb"\[APPENDUID \d+ 1\]", data[0]), data
    files = os.listdir(maildir(t, ".Drafts/cur"))
    assert len(files) == 1 and files[0].endswith(":2,DS"), files
    path = os.path.join(maildir(t, ".Drafts/cur"), files[0])
    assert os.stat(path).st_mtime == 1769936400          # 09:00 UTC
    with open(path, "rb") as f:
        assert f.read() == msg.replace(b"\r\n", b"\n")
    assert m.select("Drafts")[1] == [b"1"]
    typ, data = m.fetch("1", "(INTERNALDATE RFC822.SIZE)")
    assert b'INTERNALDATE "01-Feb-2026 09:00:00 +0000"' in data[0], data
    assert b"RFC822.SIZE %d" % len(msg) in data[0], data
    typ, data = m.uid("COPY", "1", "Archive")
    assert typ == "OK", data
    code = m.response("COPYUID")[1]
    assert re.match(rb"\d+ 1 1$", code[0]), code
    assert len(os.listdir(maildir(t, ".Archive/cur"))) == 1
    typ, data = m.uid("MOVE", "1", "Trash")
    assert typ == "OK", data
    code = m.response("COPYUID")[1]                   # untagged, before EXPUNGE
    assert code[0] is not None and re.match(rb"\d+ 1 1$", code[0]), code
    assert os.listdir(maildir(t, ".Drafts/cur")) == []
    assert len(os.listdir(maildir(t, ".Trash/cur"))) == 1
    typ, data = m.status("Trash", "(MESSAGES UIDNEXT UNSEEN)")
    assert typ == "OK" and b"MESSAGES 1" in data[0] and b"UIDNEXT 2" in data[0] and \
        b"UNSEEN 0" in data[0], data
    m.logout()


def test_damaged_uidlist_keeps_every_uid_that_parses(talon_factory):
    t = make(talon_factory)
    for i in range(3):
        deliver(t, "d%d" % i)
    t.wait_messages("alice", 3)
    m = login(t)
    m.select("INBOX")
    validity = m.untagged_responses["UIDVALIDITY"][0]
    m.logout()
    lines = uidlist(t).splitlines()
    lines[2] = "garbage without a name"               # the entry of UID 2
    with open(os.path.join(maildir(t), "dovecot-uidlist"), "w") as f:
        f.write("\n".join(lines) + "\n")
    m = login(t)
    m.select("INBOX")
    assert m.untagged_responses["UIDVALIDITY"][0] == validity
    typ, data = m.fetch("1:*", "(UID)")
    uids = sorted(int(x) for x in re.findall(rb"UID (\d+)", b" ".join(data)))
    assert uids == [1, 3, 4], uids     # the damaged line's file gets a new UID
    m.logout()
    assert re.search(r"event=uidlist-damaged mailbox=alice/INBOX file=dovecot-uidlist:3 ",
                     t.log()), t.log()[-3000:]


def test_selected_state_rules(talon_factory):
    t = make(talon_factory)
    r = Raw(t, implicit=True)
    r.line()
    r.send("a LOGIN alice \"%s\"\r\n" % PASSWORD)
    assert r.until("a")[-1].startswith("a OK [CAPABILITY ")
    r.send("b FETCH 1 FLAGS\r\n")
    assert r.until("b")[-1] == "b BAD No mailbox selected\r\n"
    r.send("c EXAMINE INBOX\r\n")
    assert r.until("c")[-1] == "c OK [READ-ONLY] EXAMINE completed\r\n"
    r.send("d FETCH 1 FLAGS\r\n")
    assert r.until("d")[-1].startswith("d BAD Invalid message sequence number")
    r.send("e STORE 1 +FLAGS (\\Seen)\r\n")
    assert r.until("e")[-1].startswith("e ")
    r.send("f UID FETCH 1:* FLAGS\r\n")
    assert r.until("f")[-1] == "f OK UID FETCH completed\r\n"
    r.send("g NAMESPACE\r\n")
    assert r.until("g") == ['* NAMESPACE (("" "/")) NIL NIL\r\n', "g OK NAMESPACE completed\r\n"]
    r.send("h LOGIN alice x\r\n")
    assert r.until("h")[-1] == "h BAD Already logged in\r\n"
    r.send("i LOGOUT\r\n")
    assert r.until("i")[-1] == "i OK LOGOUT completed\r\n"
    r.close()


def test_search_and_esearch(talon_factory):
    t = make(talon_factory)
    deliver(t, "lunch plans")
    deliver(t, "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from Zurich", "see you at the station\r\n")
    deliver(t, "invoice 42", "amount due\r\n")
    t.wait_messages("alice", 3)
    m = login(t)
    m.select("INBOX")
    assert m.store("3", "+FLAGS", r"(\Seen)")[0] == "OK"

    def search(*crit, charset=None):
        typ, data = m.search(charset, *crit)
        assert typ == "OK", (typ, data)
        return sorted(int(x) for x in data[0].split())

    # the order of deliveries is the order of UIDs, but not of the test's
    # subjects: find each message's number by its subject first
    by_subject = {}
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    for item in data:
        if isinstance(item, tuple):
            by_subject[item[1].decode().strip()] = int(item[0].split()[0])
    lunch = by_subject["Subject: lunch plans"]
    zurich = [v for k, v in by_subject.items() if "Zurich" in k][0]
    invoice = by_subject["Subject: invoice 42"]
    assert search("SUBJECT", "lunch") == [lunch]
    # the encoded-word is decoded and case is folded beyond ASCII
    assert search("SUBJECT", '"GRÜ"'.encode(), charset="UTF-8") == [zurich]
    assert search("BODY", "station") == [zurich]
    assert search("UNSEEN") == sorted([lunch, zurich])
    assert search("OR", "SUBJECT", "invoice", "BODY", "station") == sorted([invoice, zurich])
    assert search("NOT", "FROM", "s@example.org") == []
    assert search("ALL") == [1, 2, 3]
    typ, data = m.uid("SEARCH", "UID", "2:*")
    assert typ == "OK" and sorted(int(x) for x in data[0].split()) == [2, 3]
    typ, data = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)", "ALL")
    es = m.untagged_responses.pop("ESEARCH")
    assert typ == "OK" and b"MIN 1 MAX 3 COUNT 3" in es[0], es
    typ, data = m._simple_command("SEARCH", "CHARSET", "KOI8-R", "ALL")
    assert typ == "NO" and b"BADCHARSET" in data[0], data
    m.logout()


def test_search_decodes_bodies_and_parses_addresses(talon_factory):
    """BODY sees base64 and quoted-printable text in its charset (Latin-1
    by table, Shift_JIS by iconv) and not the encoded form; FROM matches a
    parsed address through comments, as Dovecot does."""
    t = make(talon_factory)
    m = login(t)
    msgs = [
        b"From: <carol (work)@ (hq) example.net>\r\nSubject: one\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes("Grüße aus Köln\n".encode()).replace(b"\n", b"\r\n"),
        b"From: dave@example.net (Dave Lister)\r\nSubject: two\r\n"
        b"Content-Type: multipart/alternative; boundary=b1\r\n\r\n--b1\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9 cr=E8me=\r\n br=FBl=E9e\r\n"
        b"--b1\r\nContent-Type: text/plain; charset=Shift_JIS\r\n\r\n"
        + "日本語".encode("shift_jis") + b"\r\n--b1--\r\n",
    ]
    for raw in msgs:
        assert m.append("INBOX", None, None, raw)[0] == "OK"
    m.select("INBOX")

    def search(*crit):
        typ, data = m.search("UTF-8", *crit)
        assert typ == "OK", (typ, data)
        return [int(x) for x in data[0].split()]

    assert search("BODY", '"KÖLN"'.encode()) == [1]
    assert search("BODY", "R3LDvMOfZ") == []
    assert search("BODY", '"crème brûlée"'.encode()) == [2]
    assert search("BODY", "E8me") == []
    assert search("TEXT", '"日本語"'.encode()) == [2]
    assert search("FROM", "carol@example.net") == [1]
    assert search("FROM", '"Dave Lister <dave@example.net>"') == [2]
    assert search("FROM", "hq") == [1]
    m.logout()


def test_binary_append_is_stored_as_base64_and_fetched_exact(talon_factory):
    """RFC 3516 4.3: a literal8 with a binary part (NUL, bare LF, CR LF)
    is stored with that part in base64, so BODY[] is a normal literal and
    BINARY[1] gives back the exact bytes (imaptest's append-binary)."""
    t = make(talon_factory)
    m = login(t)
    data = b"\x00-\xe4\n\r\n\n"
    msg = (b"From: user@domain.org\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: binary\r\n\r\n" + data)
    tag = m._new_tag()
    m.send(tag + b" APPEND INBOX ~{%d}\r\n" % len(msg))
    assert m.readline().startswith(b"+")
    m.send(msg + b"\r\n")
    assert m.readline().startswith(tag + b" OK [APPENDUID ")
    m.select("INBOX")
    typ, d = m.fetch("1", "(BINARY.SIZE[1] BINARY.PEEK[1])")
    assert typ == "OK" and d[0][0].endswith(b"BINARY.SIZE[1] 7 BINARY[1] ~{7}"), d
    assert d[0][1] == data
    typ, d = m.fetch("1", "(BODY.PEEK[])")
    body = d[0][1]
    assert b"\x00" not in body and b"Content-Transfer-Encoding: base64\r\n" in body, body
    assert base64.b64decode(body.split(b"\r\n\r\n", 1)[1]) == data
    assert b"Content-Transfer-Encoding: binary" not in body
    m.logout()


def test_quota_is_reported_and_holds_append_and_copy(talon_factory):
    """RFC 9208 read-only: one root "" over every folder, STORAGE in KiB
    from `limit mailbox-quota`; APPEND and COPY past it get NO
    [OVERQUOTA] and store nothing, MOVE (which frees what it takes) does
    not; SETQUOTA is refused; STATUS DELETED-STORAGE."""
    t = make(talon_factory, limits={"mailbox-quota": "10k"})
    m = login(t)
    assert b"QUOTA=RES-STORAGE" in m.capability()[1][0]
    msg = b"Subject: q\r\n\r\n" + b"x" * 3000 + b"\r\n"
    assert m.append("INBOX", None, None, msg)[0] == "OK"
    typ, d = m._simple_command("GETQUOTAROOT", "INBOX")
    assert typ == "OK"
    assert m.untagged_responses.pop("QUOTAROOT") == [b'"INBOX" ""']
    assert m.untagged_responses.pop("QUOTA") == [b'"" (STORAGE 3 10)']
    assert m.append("Sent", None, None, msg)[0] == "OK"
    assert m.append("INBOX", None, None, msg)[0] == "OK"
    typ, d = m.append("INBOX", None, None, msg)
    assert typ == "NO" and b"[OVERQUOTA]" in d[0], d
    m.select("INBOX")
    typ, d = m.copy("1", "Archive")
    assert typ == "NO" and b"[OVERQUOTA]" in d[0], d
    m.select("Archive")
    assert m.untagged_responses.get("EXISTS") == [b"0"]
    m.select("INBOX")
    assert m._simple_command("MOVE", "1", "Archive")[0] == "OK"
    typ, d = m._simple_command("GETQUOTA", '""')
    assert typ == "OK" and m.untagged_responses.pop("QUOTA") == [b'"" (STORAGE 9 10)']
    typ, d = m._simple_command("GETQUOTA", "other")
    assert typ == "NO" and b"NONEXISTENT" in d[0]
    typ, d = m._simple_command("SETQUOTA", '""', "(STORAGE 99999)")
    assert typ == "NO" and b"NOPERM" in d[0]
    assert m.store("1", "+FLAGS", r"(\Deleted)")[0] == "OK"
    typ, d = m.status("INBOX", "(DELETED DELETED-STORAGE)")
    assert typ == "OK" and b"DELETED 1 DELETED-STORAGE 3" in d[0], d
    # deleting on the box frees the room at once
    for f in glob.glob(maildir(t, ".Sent/cur/*")):
        os.unlink(f)
    assert m.append("INBOX", None, None, msg)[0] == "OK"
    m.logout()


def test_delivery_past_the_quota_is_deferred(talon_factory):
    """A delivery that would pass `limit mailbox-quota` is not written: the
    queue keeps it (4.3.1) and tries again later."""
    t = make(talon_factory, limits={"mailbox-quota": "4k"})
    deliver(t, "fits", "x" * 1000 + "\r\n")
    t.wait_messages("alice", 1)
    deliver(t, "toobig", "y" * 5000 + "\r\n")
    t.wait_log(r"queue event=deferred .*mailbox alice is full \(mailbox-quota 4096 bytes.*code=4\.3\.1")
    names = os.listdir(maildir(t, "new")) + os.listdir(maildir(t, "cur"))
    assert len(names) == 1, names


def test_copy_of_a_message_removed_on_the_box_copies_nothing(talon_factory):
    """RFC 9051 6.4.7: a COPY that cannot copy every message copies none."""
    t = make(talon_factory)
    deliver(t, "first")
    deliver(t, "second")
    t.wait_messages("alice", 2)
    m = login(t)
    m.select("INBOX")
    typ, d = m.fetch("2", "(UID)")
    m.fetch("1:2", "(FLAGS)")   # both moved to cur/ by now
    files = sorted(glob.glob(maildir(t, "cur/*")) + glob.glob(maildir(t, "new/*")))
    assert len(files) == 2
    os.unlink(files[1])
    typ, d = m.copy("1:2", "Archive")
    assert typ == "NO" and b"[EXPUNGEISSUED]" in d[0], d
    assert glob.glob(maildir(t, ".Archive/cur/*")) + glob.glob(maildir(t, ".Archive/new/*")) == []
    m.logout()


def test_selected_folder_removed_on_the_box_ends_the_session(talon_factory):
    """A folder deleted under a session that has it selected cannot be
    resynchronised: BYE (as Dovecot), not silence; other sessions go on."""
    import shutil
    t = make(talon_factory)
    m = login(t)
    other = login(t)
    assert m.append("Archive", None, None, b"Subject: a\r\n\r\nbody\r\n")[0] == "OK"
    m.select("Archive")
    other.select("INBOX")
    shutil.rmtree(maildir(t, ".Archive"))
    try:
        typ, d = m.noop()
        bye = m.untagged_responses.get("BYE")
    except imaplib.IMAP4.abort as e:
        bye = [str(e).encode()]
    assert bye and b"deleted" in bye[0], bye
    assert other.noop()[0] == "OK"
    other.logout()


def test_recent_is_not_shown_to_imap4rev2_clients(talon_factory):
    """RFC 9051 removed \\Recent: a rev2 session sees neither the flag nor
    the RECENT response; a rev1 session still does."""
    t = make(talon_factory)
    deliver(t, "new one")
    t.wait_messages("alice", 1)
    m = login(t)
    assert m._simple_command("ENABLE", "IMAP4rev2")[0] == "OK"
    m.select("INBOX", readonly=True)
    assert "RECENT" not in m.untagged_responses
    typ, d = m.fetch("1", "(FLAGS)")
    assert typ == "OK" and b"\\Recent" not in d[0], d
    m.logout()
    m = login(t)
    m.select("INBOX")
    typ, d = m.fetch("1", "(FLAGS)")
    assert typ == "OK" and b"\\Recent" in d[0], d
    m.logout()


def test_no_quota_means_no_quota_root(talon_factory):
    t = make(talon_factory)
    m = login(t)
    typ, d = m._simple_command("GETQUOTAROOT", "INBOX")
    assert typ == "OK" and m.untagged_responses.pop("QUOTAROOT") == [b'"INBOX"']
    assert "QUOTA" not in m.untagged_responses
    m.logout()


def test_sessions_survive_a_reload_and_run_as_the_store_owner(talon_factory):
    t = make(talon_factory)
    m = login(t)
    assert m.select("INBOX")[0] == "OK"
    (mbox_pid,) = t.child_pids("mailbox")
    (front_pid,) = t.child_pids("imap")
    with open("/proc/%d/status" % mbox_pid) as f:
        uid_mbox = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
    with open("/proc/%d/status" % front_pid) as f:
        uid_front = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
    store = os.stat(os.path.join(t.dir, "store", "alice", "Maildir"))
    assert int(uid_mbox) == store.st_uid               # the store's owner
    if os.geteuid() == 0:
        assert uid_front != uid_mbox                    # the front reads no mail
    t.reload()
    t.wait_log(r"parent event=spawn role=imap pid=(?!%d)\d+" % front_pid)
    # the old front relays this session until it ends; the mailbox process
    # is kept, so the client notices nothing
    deliver(t, "after reload")
    deadline = time.time() + 10
    m.untagged_responses.pop("EXISTS", None)          # SELECT's "0"
    while time.time() < deadline:
        typ, data = m.noop()
        assert typ == "OK"
        if m.untagged_responses.get("EXISTS"):
            break
        time.sleep(0.2)
    assert m.untagged_responses.get("EXISTS") == [b"1"], m.untagged_responses
    assert t.child_pids("mailbox") == [mbox_pid]
    m.logout()
    m = login(t)                                        # through the new front
    assert m.select("INBOX")[1] == [b"1"]
    m.logout()


def test_mbsync_two_way(talon_factory, tmp_path):
    """isync's mbsync, a real client that checks UIDs hard: a pull, then
    flags, a new message and a deletion pushed back."""
    import shutil
    import subprocess
    from conftest import cert_dir
    assert shutil.which("mbsync"), "isync is installed by scripts/install-deps.sh"
    t = make(talon_factory)
    deliver(t, "sync one")
    deliver(t, "sync two")
    t.wait_messages("alice", 2)
    local = tmp_path / "local"
    local.mkdir()
    conf = tmp_path / "mbsyncrc"
    conf.write_text(
        # mbsync checks names, not IP addresses, against the certificate:
        # openssl does the TLS (verifying it) and mbsync talks through it
        "IMAPAccount talon\nTunnel \"openssl s_client -quiet -connect 127.0.0.1:%d "
        "-CAfile %s/cert.pem -verify_return_error -verify_ip 127.0.0.1\"\n"
        "User alice\nPass \"%s\"\n\n"
        "IMAPStore remote\nAccount talon\n\n"
        "MaildirStore local\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n"
        "Channel ch\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\n"
        "Expunge Both\nSyncState *\n" % (t.imaps_port, cert_dir(), PASSWORD, local, local))

    def sync():
        r = subprocess.run(["mbsync", "-c", str(conf), "-a"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr + t.log()[-3000:]

    sync()
    pulled = sorted(glob.glob(str(local / "INBOX" / "*" / "*")))
    assert len(pulled) == 2, pulled
    for folder in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
        assert (local / folder / "cur").is_dir(), folder
    # read one message locally, write one into Sent, delete the other
    seen, gone = pulled
    os.rename(seen, seen.split(":2,")[0].replace("/new/", "/cur/") + ":2,S")
    os.unlink(gone)
    with open(local / "Sent" / "new" / ("%d.local.x" % time.time()), "wb") as f:
        f.write(b"From: alice@test.example\nTo: bob@example.org\nSubject: sent by mbsync\n\n"
                b"hello\n")
    sync()
    server = maildir(t, "cur")
    names = os.listdir(server)
    assert len(names) == 1 and names[0].endswith(":2,S"), names
    sent = os.listdir(maildir(t, ".Sent/cur")) + os.listdir(maildir(t, ".Sent/new"))
    assert len(sent) == 1, sent
    sync()                                              # nothing left to do: stable
    assert os.listdir(server) == names


def test_append_over_the_limit_is_no_toobig_before_any_continuation(talon_factory):
    t = make(talon_factory, limits={"message-size": "2k"})
    r = Raw(t, implicit=True)
    r.line()
    r.send("a LOGIN alice \"%s\"\r\n" % PASSWORD)
    cap = r.until("a")[-1]
    assert "APPENDLIMIT=2048" in cap, cap
    r.send("b APPEND INBOX {4000}\r\n")
    line = r.line()
    assert line.startswith("b NO [TOOBIG] "), line      # never "+"
    r.send("c APPEND INBOX {5}\r\n")
    assert r.line().startswith("+ ")
    r.send("hello\r\n")
    assert re.match(r"c OK \[APPENDUID \d+ 1\] APPEND completed", r.until("c")[-1])
    r.send("d LOGOUT\r\n")
    r.until("d")
    r.close()


def test_compress_deflate(talon_factory):
    """RFC 4978: after the OK both directions are raw DEFLATE, and every
    reply arrives whole (sync flush), so a client waiting for it never
    hangs."""
    import zlib
    t = make(talon_factory)
    deliver(t, "squeeze", "a line that repeats\r\n" * 200)
    t.wait_messages("alice", 1)
    r = Raw(t, implicit=True)
    r.line()
    r.send("a LOGIN alice \"%s\"\r\n" % PASSWORD)
    assert "COMPRESS=DEFLATE" in r.until("a")[-1]
    r.send("b COMPRESS DEFLATE\r\n")
    assert r.line() == "b OK DEFLATE active\r\n"
    comp = zlib.compressobj(wbits=-15)
    decomp = zlib.decompressobj(wbits=-15)
    sock = r.s
    got = bytearray()

    def send(text):
        sock.sendall(comp.compress(text.encode()) + comp.flush(zlib.Z_SYNC_FLUSH))

    def until(tag):
        deadline = time.time() + 10
        while time.time() < deadline:
            lines = got.split(b"\r\n")
            for i, l in enumerate(lines):
                if l.startswith(tag.encode() + b" "):
                    out = bytes(got[:sum(len(x) + 2 for x in lines[:i + 1])])
                    del got[:len(out)]
                    return out
            chunk = sock.recv(65536)
            assert chunk, "connection closed"
            got.extend(decomp.decompress(chunk))
        raise AssertionError("no reply for %s: %r" % (tag, bytes(got)))

    send("c NOOP\r\n")
    assert until("c").endswith(b"c OK NOOP completed\r\n")
    send("d SELECT INBOX\r\n")
    assert b"* 1 EXISTS" in until("d")
    raw = sock.recv(0)   # nothing pending is needed: the reply came whole
    send("e FETCH 1 BODY.PEEK[TEXT]\r\n")
    reply = until("e")
    assert reply.count(b"a line that repeats\r\n") == 200, reply[:200]
    send("f COMPRESS DEFLATE\r\n")
    assert b"f NO [COMPRESSIONACTIVE]" in until("f")
    send("g LOGOUT\r\n")
    assert until("g").endswith(b"g OK LOGOUT completed\r\n")
    r.close()


def test_condstore_and_qresync(talon_factory):
    """RFC 7162: mod-sequences for flag changes, CHANGEDSINCE, UNCHANGEDSINCE,
    SEARCH MODSEQ, VANISHED, and a QRESYNC SELECT that tells a returning
    client only what changed; HIGHESTMODSEQ never goes back, even when
    talon-modseq is deleted."""
    t = make(talon_factory)
    for i in range(3):
        deliver(t, "cs%d" % i)
    t.wait_messages("alice", 3)

    def session():
        r = Raw(t, implicit=True)
        r.line()
        r.send("a LOGIN alice \"%s\"\r\n" % PASSWORD)
        assert "CONDSTORE QRESYNC" in r.until("a")[-1]
        r.send("b ENABLE QRESYNC\r\n")
        assert "* ENABLED QRESYNC CONDSTORE\r\n" in r.until("b")
        return r

    def number(lines, pattern):
        for l in lines:
            # \Recent: these messages came out of new/ in this session
            m = re.search(pattern, l.replace(" \\Recent", "").replace("\\Recent", ""))
            if m:
                return int(m.group(1))
        raise AssertionError("%s not in %r" % (pattern, lines))

    r = session()
    r.send("c SELECT INBOX\r\n")
    sel = r.until("c")
    h0 = number(sel, r"\[HIGHESTMODSEQ (\d+)\]")
    validity = number(sel, r"\[UIDVALIDITY (\d+)\]")
    r.send("d STORE 1 +FLAGS (\\Flagged)\r\n")
    got = r.until("d")
    m1 = number(got, r"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) MODSEQ \((\d+)\)\)")
    assert m1 > h0, (h0, got)
    r.send("e UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)\r\n" % h0)
    got = r.until("e")
    fetched = [l for l in got if l.startswith("* ")]
    assert len(fetched) == 1 and fetched[0].startswith("* 1 FETCH (") and "UID 1" in \
        fetched[0] and "MODSEQ (%d)" % m1 in fetched[0], got
    r.send("f STORE 2 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)\r\n")
    assert r.until("f")[-1] == "f OK [MODIFIED 2] Conditional STORE failed for some\r\n"
    r.send("g SEARCH MODSEQ %d\r\n" % (h0 + 1))
    got = r.until("g")
    assert "* SEARCH 1 (MODSEQ %d)\r\n" % m1 in got, got
    # changes on disk: mutt reads UID 3, a cron job deletes UID 2
    ul = uidlist(t).splitlines()[1:]
    base = {int(l.split()[0]): l.split(":", 1)[1] for l in ul}
    cur = maildir(t, "cur")
    for n in os.listdir(cur):
        if n.split(":")[0] == base[3]:
            os.rename(os.path.join(cur, n), os.path.join(cur, base[3] + ":2,S"))
        if n.split(":")[0] == base[2]:
            os.unlink(os.path.join(cur, n))
    r.send("h NOOP\r\n")
    got = r.until("h")
    assert "* VANISHED 2\r\n" in got, got
    m3 = number(got, r"FETCH \(UID 3 FLAGS \(\\Seen\) MODSEQ \((\d+)\)\)")
    assert m3 > m1
    r.send("i LOGOUT\r\n")
    r.until("i")
    r.close()
    # a client that was away since h0: only what changed
    r = session()
    r.send("c SELECT INBOX (QRESYNC (%d %d))\r\n" % (validity, h0))
    got = r.until("c")
    assert "* VANISHED (EARLIER) 2\r\n" in got, got
    fetches = sorted(l for l in got if " FETCH " in l)
    assert len(fetches) == 2 and "UID 1 " in fetches[0] and "UID 3 " in fetches[1], got
    h1 = number(got, r"\[HIGHESTMODSEQ (\d+)\]")
    assert h1 == m3
    # up to date: nothing to tell
    r.send("d SELECT INBOX (QRESYNC (%d %d 1:3))\r\n" % (validity, h1))
    got = r.until("d")
    assert not [l for l in got if "FETCH" in l or "VANISHED" in l], got
    r.send("e LOGOUT\r\n")
    r.until("e")
    r.close()
    # the index lost: rebuilt above everything given before
    t.stop()
    os.unlink(os.path.join(maildir(t), "talon-modseq"))
    t.start()
    r = session()
    r.send("c SELECT INBOX\r\n")
    got = r.until("c")
    assert number(got, r"\[HIGHESTMODSEQ (\d+)\]") > h1
    assert number(got, r"\[UIDVALIDITY (\d+)\]") == validity
    r.send("d LOGOUT\r\n")
    r.until("d")
    r.close()


def test_two_sessions_see_each_other_at_legal_points(talon_factory):
    t = make(talon_factory)
    for i in range(3):
        deliver(t, "shared%d" % i)
    t.wait_messages("alice", 3)
    a, b = login(t), login(t)
    a.select("INBOX")
    b.select("INBOX")
    assert a.store("1", "+FLAGS", r"(\Seen)")[0] == "OK"
    b.noop()
    assert any(b"\\Seen" in x for x in b.untagged_responses.get("FETCH", [])), \
        b.untagged_responses
    b.untagged_responses.clear()
    assert a.store("2", "+FLAGS", r"(\Deleted)")[0] == "OK"
    assert a.expunge()[1] == [b"2"]
    # not during B's FETCH by sequence number (RFC 9051 7.5.1): the numbers
    # B holds stay valid until it may hear EXPUNGE
    typ, data = b.fetch("1:3", "(UID)")
    assert typ == "OK" and "EXPUNGE" not in b.untagged_responses, b.untagged_responses
    b.noop()
    assert b.untagged_responses.get("EXPUNGE") == [b"2"], b.untagged_responses
    b.untagged_responses.clear()
    assert a.uid("MOVE", "3", "Archive")[0] == "OK"
    b.noop()
    assert b.untagged_responses.get("EXPUNGE") == [b"2"], b.untagged_responses
    assert b.status("Archive", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 1)")
    a.logout()
    b.logout()


def message_ids(t, folders):
    ids = {}
    for folder in folders:
        for sub in ("cur", "new"):
            d = maildir(t, (folder + "/" if folder else "") + sub)
            for n in os.listdir(d) if os.path.isdir(d) else []:
                with open(os.path.join(d, n), "rb") as f:
                    m = re.search(rb"Message-ID: <([^>]+)>", f.read())
                    ids.setdefault(m.group(1).decode(), []).append(folder or "INBOX")
    return ids


def kill_mailbox(t):
    """kill -9 the mailbox process and wait for its successor."""
    (pid,) = t.child_pids("mailbox")
    starts = t.log().count("mailbox event=start")
    os.kill(pid, 9)
    t.wait_log(r"parent event=crash role=mailbox pid=%d" % pid)
    t.wait_log(r"mailbox event=start", count=starts + 1)
    time.sleep(0.2)     # the front gets its new channel right after


def test_kill_9_during_move_append_and_expunge_loses_nothing(talon_factory):
    t = make(talon_factory)
    t.crash_expected = True
    n = 40
    for i in range(n):
        deliver(t, "k%02d" % i)
    t.wait_messages("alice", n)
    m = login(t)
    m.select("INBOX")
    m.send(b"x1 UID MOVE 1:* Archive\r\n")
    time.sleep(0.05)
    kill_mailbox(t)
    ids = message_ids(t, ["", ".Archive"])
    # MOVE may leave a message in both folders, never in neither
    assert len(ids) == n, sorted(ids)
    # APPEND: once the tagged OK came, the message is there, kill or not
    m = login(t)
    typ, data = m.append("Drafts", None, None, b"Message-ID: <app@x>\r\n\r\nkept\r\n")
    assert typ == "OK"
    kill_mailbox(t)
    assert "app@x" in message_ids(t, [".Drafts"])
    # a kill in the middle of a literal leaves no partial message in cur/ or new/
    r = Raw(t, implicit=True)
    r.line()
    r.send("a LOGIN alice \"%s\"\r\n" % PASSWORD)
    assert r.until("a")[-1].startswith("a OK ")
    r.send("b APPEND Drafts {100000}\r\n")
    assert r.line().startswith("+ ")
    r.send("Message-ID: <half@x>\r\n\r\n" + "y" * 5000)
    time.sleep(0.2)
    kill_mailbox(t)
    r.close()
    assert "half@x" not in message_ids(t, [".Drafts"])
    # EXPUNGE: what the tagged OK named is gone for good, the rest stays
    m = login(t)
    # the MOVE may have finished before the kill: take the fuller folder
    folder, dirname = ("INBOX", "") if message_ids(t, [""]) else ("Archive", ".Archive")
    m.select(folder)
    before = message_ids(t, [dirname])
    gone = min(5, len(before))
    assert gone > 0
    m.store("1:%d" % gone, "+FLAGS", r"(\Deleted)")
    assert m.expunge()[0] == "OK"
    kill_mailbox(t)
    after = message_ids(t, [dirname])
    assert len(after) == len(before) - gone, (len(before), len(after))


def test_full_disk_is_overquota_and_leaves_no_partial_file(talon_factory):
    import subprocess
    assert os.geteuid() == 0, "mounting the small file system needs root (CI is root)"
    t = make(talon_factory)
    m = login(t)
    small = maildir(t, ".Small")
    os.makedirs(small)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", small],
                   check=True)
    try:
        for sub in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(small, sub))
        st = os.stat(maildir(t))
        for root in (small, *(os.path.join(small, x) for x in ("cur", "new", "tmp"))):
            os.chown(root, st.st_uid, st.st_gid)
        typ, data = m.append("Small", None, None, b"Subject: big\r\n\r\n" + b"z" * 200000)
        assert typ == "NO" and data[0].startswith(b"[OVERQUOTA] "), (typ, data)
        for sub in ("cur", "new", "tmp"):
            assert os.listdir(os.path.join(small, sub)) == [], sub
        typ, data = m.append("Small", None, None, b"Subject: small\r\n\r\nfits\r\n")
        assert typ == "OK", data
        m.logout()
    finally:
        t.stop()
        subprocess.run(["umount", small], check=False)


def test_imap_tls_without_any_smtp_tls(talon_factory):
    """Found by imaptest's setup: with no SMTP listener on TLS the parent
    made no TLS context, and every IMAP handshake failed."""
    from conftest import free_port
    from test_imap import yescrypt
    imaps = free_port()
    t = talon_factory()
    t.listeners = ["listen smtp 127.0.0.1:%d" % t.port,
                   "listen imap 127.0.0.1:%d tls implicit" % imaps]
    t.write_files()
    with open(os.path.join(t.dir, "users"), "w") as f:
        f.write("alice:%s\nbob:\n" % yescrypt(PASSWORD))
    t.start()
    t.wait_log(r"imap event=start listeners=1")
    m = imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=ctx(), timeout=30)
    assert m.login("alice", PASSWORD)[0] == "OK"
    m.logout()


def test_a_reply_larger_than_the_output_pause_completes(talon_factory):
    """A FETCH answered in parts (the output pauses at 256 KiB) goes on
    when the client has read: found by bench/imap.sh, where such replies
    stopped for ever once one flush drained the output."""
    t = make(talon_factory)
    for i in range(6):
        deliver(t, "big%d" % i, ("%d " % i + "z" * 98 + "\r\n") * 1000)
    t.wait_messages("alice", 6)
    m = login(t)
    m.select("INBOX")
    for _ in range(3):
        typ, data = m.fetch("1:*", "(BODY.PEEK[])")
        assert typ == "OK"
        bodies = [x[1] for x in data if isinstance(x, tuple)]
        assert len(bodies) == 6 and all(len(b) > 100000 for b in bodies), \
            [len(b) for b in bodies]
    m.logout()


def tls_over(sock):
    """A TLS client over sock through memory BIOs, so that the test decides
    what goes on the wire and when (here: a close_notify right after the
    last commands)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx().wrap_bio(inc, out)

    def flush():
        if out.pending:
            sock.sendall(out.read())

    def feed():
        data = sock.recv(65536)
        if data:
            inc.write(data)
        else:
            inc.write_eof()
        return data

    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush()
            if not feed():
                raise AssertionError("EOF in the TLS handshake")
    flush()
    return tls, flush, feed


def test_client_that_ends_its_stream_still_gets_its_replies(talon_factory):
    """A client that sends its last commands and its close_notify at once
    still gets every reply: the login front passes the end on to the
    mailbox process after the commands (it shuts the write side of their
    socket) instead of dropping the session and the replies on their way.
    (A FIN without close_notify is a TLS error to OpenSSL: that session
    ends at once, as before.)"""
    t = make(talon_factory)
    deliver(t, "ending")
    t.wait_messages("alice", 1)
    sock = socket.create_connection(("127.0.0.1", t.imaps_port), timeout=15)
    tls, flush, feed = tls_over(sock)
    got = b""

    def read_some():
        nonlocal got
        while True:
            try:
                data = tls.read(65536)
                got += data
                return bool(data)
            except ssl.SSLWantReadError:
                if not feed():
                    return False
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return False

    tls.write(b'a LOGIN alice "%s"\r\n' % PASSWORD.encode())
    flush()
    while b"\r\na OK" not in got and read_some():
        pass
    assert b"\r\na OK" in got, got
    tls.write(b"b SELECT INBOX\r\nc FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n"
              b"d LOGOUT\r\n")
    flush()
    try:
        tls.unwrap()    # our close_notify; the replies are read after it
    except ssl.SSLWantReadError:
        pass
    flush()
    while read_some():
        pass
    sock.close()
    for want in (b"b OK", b"Subject: ending", b"c OK", b"* BYE", b"d OK"):
        assert want in got, (want, got[-400:])
    assert got.index(b"* BYE") < got.index(b"d OK"), got[-400:]
    t.wait_log(r"imap session=\S+ event=disconnect client=\[127.0.0.1\] user=alice$")


def test_keyword_renamed_on_the_box_sends_flags_again(talon_factory):
    """Another program renames a keyword in dovecot-keywords (same index,
    same count): the session's next FLAGS names the new one, so no FETCH
    shows a keyword the client was not told of (RFC 9051 7.3.5)."""
    t = make(talon_factory)
    deliver(t, "one")
    t.wait_messages("alice", 1)
    m = login(t)
    m.select("INBOX")
    assert m.store("1", "+FLAGS", "(Old)")[0] == "OK"
    with open(os.path.join(maildir(t), "dovecot-keywords"), "w") as f:
        f.write("0 Renamed\n")
    # a change in cur/ makes the next sync read the folder (and keywords)
    (name,) = os.listdir(maildir(t, "cur"))
    os.rename(os.path.join(maildir(t, "cur"), name),
              os.path.join(maildir(t, "cur"), name.split(":")[0] + ":2,Sa"))
    m.untagged_responses.clear()
    assert m.noop()[0] == "OK"
    flags = m.untagged_responses.get("FLAGS", [])
    assert flags and b"Renamed" in flags[-1] and b"Old" not in flags[-1], m.untagged_responses
    typ, data = m.fetch("1", "(FLAGS)")
    assert b"Renamed" in data[0] and b"\\Seen" in data[0], data
    m.logout()


def test_the_end_of_a_session_is_no_reset(talon_factory):
    """After LOGOUT the front shuts its side (close_notify, then FIN) and
    reads what the client still sends until it closes, instead of closing
    a socket with unread input: that sends a reset, which can destroy the
    BYE and the tagged OK before the client has read them.  Bytes the
    client sends after the end are taken without a reset."""
    t = make(talon_factory)
    sock = socket.create_connection(("127.0.0.1", t.imaps_port), timeout=15)
    tls, flush, feed = tls_over(sock)
    got = b""
    tls.write(b'a LOGIN alice "%s"\r\nb LOGOUT\r\n' % PASSWORD.encode())
    flush()
    while True:
        try:
            data = tls.read(65536)
            if not data:
                break       # the server's close_notify
            got += data
        except ssl.SSLWantReadError:
            if not feed():
                break
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    assert b"* BYE" in got and b"\r\nb OK" in got, got
    # the server's side is shut; ours is open: what we send now is read
    # and dropped, never answered with a reset
    for _ in range(3):
        time.sleep(0.2)
        sock.sendall(b"c NOOP\r\n" * 64)
    sock.shutdown(socket.SHUT_WR)
    assert sock.recv(65536) == b""      # an orderly end, no ECONNRESET
    sock.close()
    t.wait_log(r"imap session=\S+ event=disconnect client=\[127.0.0.1\] user=alice$")
