"""Durability and process robustness: kill -9 of smtp and queue processes
mid-stream, full disks, reload under load, graceful shutdown, privilege
separation.  The fsync order is asserted in test_faults.py."""
import os
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from conftest import TALON


def subjects_in(talon, user):
    out = []
    for m in talon.messages(user):
        mm = re.search(rb"^Subject: (\S+)$", m, re.M)
        out.append(mm.group(1).decode() if mm else None)
    return out


def send_stream(talon, names, accepted, lock, deadline, rcpts=("alice@test.example",)):
    """Send one message per name; retry connection trouble (a worker may be
    restarting) but never resend a message that got 250."""
    pending = list(names)
    s = None
    while pending and time.time() < deadline:
        name = pending[0]
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", talon.port, timeout=10)
                s.ehlo("stream.example")
            s.sendmail("s@example.org", list(rcpts),
                       ("Subject: %s\r\n\r\nbody of %s\r\n" % (name, name)).encode())
            with lock:
                accepted.add(name)
            pending.pop(0)
        except smtplib.SMTPResponseException as e:
            # 4xx while the queue restarts: this message was not accepted;
            # send it again as a new message under a new name
            pending[0] = name + "r"
            try:
                s.rset()
            except Exception:
                s = None
        except (OSError, smtplib.SMTPException):
            # connection lost mid-transaction: outcome unknown to the client;
            # a real client would retry, which may duplicate.  Use a new name
            # so that "accepted exactly once" stays checkable.
            pending[0] = name + "x"
            s = None
            time.sleep(0.05)
    if s is not None:
        try:
            s.quit()
        except Exception:
            pass


@pytest.mark.parametrize("path", ["local", "spool"])
def test_kill9_smtp_and_queue_loses_nothing(talon_factory, path):
    """kill -9 of workers, the queue and deliver under load, on both commit
    paths: local (the Maildir copies are the commit) and spool (bob's
    mailbox is broken, so every message is committed in the spool with
    alice's copy recorded as done; bob's copies come at the restart)."""
    t = talon_factory(workers=2).start()
    t.crash_expected = True   # the test kills processes
    rcpts, users = ["alice@test.example"], ["alice"]
    if path == "spool":
        bob = os.path.join(t.dir, "store", "bob")
        os.makedirs(bob)
        os.chmod(bob, 0o700)        # root's: deliver cannot open it
        rcpts.append("bob@test.example")
        users.append("bob")
    accepted, lock = set(), threading.Lock()
    deadline = time.time() + 90
    names = [["m%d_%d" % (th, i) for i in range(40)] for th in range(4)]
    threads = [threading.Thread(target=send_stream, args=(t, n, accepted, lock, deadline, rcpts))
               for n in names]
    for th in threads:
        th.start()
    kills = 0
    for victim in ("smtp", "queue", "deliver", "smtp", "queue", "deliver"):
        time.sleep(0.4)
        pids = t.child_pids(victim)
        assert pids, t.log()[-3000:]
        os.kill(pids[0], signal.SIGKILL)
        kills += 1
    for th in threads:
        th.join(120)
    assert len(accepted) >= 100, "too few messages got through: %d" % len(accepted)
    # each kill is seen by the parent (the last one may still be reaped)
    t.wait_log(r"event=crash role=(smtp|queue|deliver) pid=\d+ signal=9", count=kills)
    t.wait_log(r"event=spawn role=queue", count=3)
    # the path under test is the one taken
    n = len(re.findall(r"event=queued queue=\S+ .* commit=%s" % path, t.log()))
    assert n >= len(accepted) * 9 // 10, (n, len(accepted))
    if path == "spool":
        # every message waits in the spool for bob: repair his mailbox
        # and restart, which delivers them all (alice's copies are done)
        os.rmdir(bob)
        assert t.stop() == 0
        t.start()
    # every accepted message is delivered exactly once to each recipient
    for user in users:
        deadline = time.time() + 60
        while time.time() < deadline:
            if accepted <= set(subjects_in(t, user)):
                break
            time.sleep(0.2)
        got = subjects_in(t, user)
        missing = accepted - set(got)
        assert not missing, "accepted but not delivered to %s: %s" % (user, sorted(missing)[:10])
        dups = {x for x in got if got.count(x) > 1}
        assert not dups, "delivered twice to %s: %s" % (user, dups)
    # the daemon still works afterwards (451 while the last queue restarts)
    deadline = time.time() + 15
    while True:
        try:
            with t.smtp() as s:
                s.sendmail("s@example.org", ["carol@test.example"], b"Subject: after\r\n\r\nx\r\n")
            break
        except smtplib.SMTPDataError as e:
            assert e.smtp_code == 451 and time.time() < deadline, e
            time.sleep(0.2)
    t.wait_messages("carol", 1)


def run_in_tmpfs(t, subdir, size):
    """Start talon in a private mount namespace with a small tmpfs over
    one of its directories."""
    path = os.path.join(t.dir, subdir)
    os.makedirs(path, exist_ok=True)
    script = 'mount -t tmpfs -o size=%s tmpfs "%s" && exec "$@"' % (size, path)
    t.start(wrapper=["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"])


def ns_ls(t, path):
    out = subprocess.run(["nsenter", "-t", str(t.proc.pid), "-m", "ls", "-A", path],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_full_spool_gives_452_and_leaves_nothing(talon_factory):
    t = talon_factory()
    run_in_tmpfs(t, "spool", "64k")
    big = b"Subject: big\r\n\r\n" + (b"x" * 78 + b"\r\n") * 3000
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO c.example")
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(big + b".\r\n")
    code, lines = c.reply()
    assert (code, lines[0][:9]) == (452, "452 4.3.1"), lines
    # session still usable, and a small message still fits
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: small\r\n\r\nok\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    msgs = t.wait_messages("alice", 1)
    assert len(msgs) == 1 and b"Subject: small" in msgs[0]
    time.sleep(0.3)
    spool = os.path.join(t.dir, "spool")
    assert ns_ls(t, spool + "/queue") == []


def test_full_store_defers_and_leaves_no_partial_file(talon_factory):
    t = talon_factory()
    run_in_tmpfs(t, "store", "64k")
    big = b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * 3000
    with t.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example"], big)   # 250: it is in the spool
    t.wait_log(r"event=deferred queue=\S+ to=<alice@test.example> user=alice .*code=4\.3\.1")
    md = os.path.join(t.dir, "store", "alice", "Maildir")
    assert ns_ls(t, md + "/new") == []
    assert ns_ls(t, md + "/tmp") == []
    # still safe in the spool, waiting for a retry
    assert len(os.listdir(os.path.join(t.dir, "spool", "queue"))) == 1


def test_restart_delivers_spooled_messages_exactly_once(talon_factory):
    """A message left in spool/queue (here: deferred because the store was
    full) is delivered at the next start; a repeated delivery after a crash
    finds the copy already in new/ or moved to cur/ by a reader and does not
    deliver it twice."""
    import shutil
    t = talon_factory()
    run_in_tmpfs(t, "store", "64k")
    big = b"Subject: big\r\n\r\n" + (b"z" * 78 + b"\r\n") * 3000
    with t.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example", "bob@test.example"], big)
    t.wait_log(r"event=deferred queue=\S+ to=<bob@test.example>")
    t.stop()
    qdir = os.path.join(t.dir, "spool", "queue")
    [qfile] = os.listdir(qdir)
    saved = os.path.join(t.dir, "saved-spool-file")
    shutil.copy(os.path.join(qdir, qfile), saved)
    # restart on the real disk: recovery delivers both copies
    t.start()
    t.wait_messages("alice", 1)
    t.wait_messages("bob", 1)
    t.wait_log(r"event=recover messages=1")
    t.stop()
    assert os.listdir(qdir) == []
    # replay the spool file as if its unlink had been lost in a crash;
    # alice's reader has meanwhile moved her copy to cur/ with flags
    [aname] = os.listdir(t.maildir("alice"))
    os.rename(os.path.join(t.maildir("alice"), aname),
              os.path.join(t.maildir("alice", "cur"), aname + ":2,S"))
    shutil.copy(saved, os.path.join(qdir, qfile))
    st = os.stat(qdir)
    os.chown(os.path.join(qdir, qfile), st.st_uid, st.st_gid)
    t.start()
    t.wait_log(r"event=recover messages=1", count=2)
    deadline = time.time() + 10
    while os.listdir(qdir) and time.time() < deadline:
        time.sleep(0.1)
    assert os.listdir(qdir) == []
    assert len(t.messages("alice")) == 0 and len(t.messages("alice", "cur")) == 1
    assert len(t.messages("bob")) == 1


def test_reload_under_load_keeps_sessions(talon_factory):
    t = talon_factory(workers=2).start()
    # an established session survives the reload
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO before.example")
    accepted, lock = set(), threading.Lock()
    deadline = time.time() + 60
    th = threading.Thread(target=send_stream,
                          args=(t, ["h%d" % i for i in range(60)], accepted, lock, deadline))
    th.start()
    # change the config: a new user appears
    time.sleep(0.3)
    with open(os.path.join(t.dir, "users"), "a") as f:
        f.write("dave:\n")
    t.reload()
    t.wait_log(r"event=reload result=ok")
    th.join(90)
    assert len(accepted) == 60, "all messages of the stream accepted across the reload"
    # old session still alive and in its state
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    # the old worker still has the old users: dave unknown there
    assert c.cmd("RCPT TO:<dave@test.example>")[0] == 550
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: old-session\r\n\r\nx\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    # new sessions know dave
    with t.smtp() as s:
        s.sendmail("s@example.org", ["dave@test.example"], b"Subject: d\r\n\r\nx\r\n")
    t.wait_messages("dave", 1)
    got = subjects_in(t, "alice")
    assert set(accepted) | {"old-session"} <= set(got)
    assert len(got) == len(set(got))


def test_reload_with_broken_config_keeps_running(talon):
    with open(talon.conf, "a") as f:
        f.write("bogus directive\n")
    talon.reload()
    talon.wait_log(r"event=reload result=fail")
    with talon.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example"], b"Subject: x\r\n\r\nx\r\n")
    talon.wait_messages("alice", 1)


def test_sigterm_drains_then_421(talon_factory):
    t = talon_factory(limits={"shutdown-grace": 2}).start()
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO idle.example")
    t.proc.send_signal(signal.SIGTERM)
    # new connections are refused once the listeners are closed
    code, lines = c.reply()
    assert (code, lines[0][:9]) == (421, "421 4.3.2"), lines
    assert c.closed()
    assert t.proc.wait(20) == 0
    t.wait_log(r"parent event=exit")


def test_children_run_unprivileged(talon):
    if os.geteuid() != 0:
        pytest.skip("privilege separation is only exercised when started as root")
    import pwd
    for role, user in (("smtp", "_talon"), ("queue", "_talonq"), ("deliver", "_talonmail")):
        pid = talon.child_pids(role)[0]
        with open("/proc/%d/status" % pid) as f:
            st = f.read()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", st, re.M).groups()
        assert set(uids) == {str(pwd.getpwnam(user).pw_uid)}, (role, uids)
    # the store belongs to the delivery user, the spool to the queue user
    st = os.stat(os.path.join(talon.dir, "store"))
    assert st.st_uid == pwd.getpwnam("_talonmail").pw_uid
    assert st.st_mode & 0o077 == 0
    st = os.stat(os.path.join(talon.dir, "spool"))
    assert st.st_uid == pwd.getpwnam("_talonq").pw_uid
    assert st.st_mode & 0o077 == 0
    # and no process holds the other's directory
    for role, d in (("queue", "store"), ("deliver", "spool")):
        pid = talon.child_pids(role)[0]
        targets = [os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%d/fd" % pid)]
        assert os.path.join(talon.dir, d) not in targets, (role, targets)


def test_crashed_worker_is_restarted(talon_factory):
    # let the signal kill the worker instead of ASan's SEGV report
    talon = talon_factory().start(env={"ASAN_OPTIONS": "handle_segv=0:detect_leaks=0"})
    talon.crash_expected = True   # the test kills a worker
    pid = talon.child_pids("smtp")[0]
    os.kill(pid, signal.SIGSEGV)
    talon.wait_log(r"event=crash role=smtp pid=%d signal=11 .*action=restart" % pid)
    talon.wait_log(r"event=spawn role=smtp", count=2)
    talon.wait_ready()
    with talon.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example"], b"Subject: x\r\n\r\nx\r\n")
    talon.wait_messages("alice", 1)


def test_stuck_queue_gives_451_not_a_hang(talon_factory):
    """A queue that stops answering (here: SIGSTOP) must not hold clients
    forever: after the data timeout they get 451, never 250."""
    t = talon_factory(limits={"data-timeout": 2}).start()
    qpid = t.child_pids("queue")[0]
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO c.example")
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    os.kill(qpid, signal.SIGSTOP)
    try:
        c.send("DATA\r\n")
        code, lines = c.reply()
        assert (code, lines[0][:9]) == (451, "451 4.3.0"), lines
        assert c.closed()
    finally:
        os.kill(qpid, signal.SIGCONT)
    t.wait_log(r"event=timeout state=\d+ queue=none")
    # the queue resumes and the service works again
    with t.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example"], b"Subject: later\r\n\r\nx\r\n")
    t.wait_messages("alice", 1)


RELEASE = os.path.join(os.path.dirname(TALON), "..", "build", "talon")


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_release_build_chroots_smtp_workers(talon_factory):
    """smtp workers live in an empty root-owned directory: no file system.
    (The sanitizer build skips the chroot so LeakSanitizer can read /proc;
    `make test` builds the release binary for this test.)"""
    assert os.path.exists(RELEASE), "make test builds build/talon"
    t = talon_factory().start(binary=RELEASE)
    jail = os.path.join(t.dir, "state", "empty")
    t.wait_log(r"jail=%s" % re.escape(jail))
    spid = t.child_pids("smtp")[0]
    assert os.readlink("/proc/%d/root" % spid) == jail
    assert os.listdir(jail) == []
    st = os.stat(jail)
    assert st.st_uid == 0 and st.st_mode & 0o022 == 0
    # and it still serves mail, TLS included
    with t.smtp_tls() as s:
        s.sendmail("s@example.org", ["alice@test.example"], b"Subject: jail\r\n\r\nx\r\n")
    t.wait_messages("alice", 1)


def proc_limit(pid, name):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith(name):
                return line[len(name):].split()[0]
    raise AssertionError(name)


@pytest.mark.skipif(os.geteuid() != 0, reason="user switch needs root")
def test_release_build_contains_smtp_workers(talon_factory):
    """A worker may start no process and write no file bigger than a
    message; the other roles keep fork (the queue uses threads)."""
    t = talon_factory(limits={"message-size": "1m"}).start(binary=RELEASE)
    spid = t.child_pids("smtp")[0]
    assert proc_limit(spid, "Max processes") == "0"
    assert int(proc_limit(spid, "Max file size")) == (1 << 20) + (1 << 20) + 64 * 1024
    qpid = t.child_pids("queue")[0]
    assert proc_limit(qpid, "Max processes") != "0"
    with t.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example"], b"Subject: limits\r\n\r\nx\r\n")
    t.wait_messages("alice", 1)


def test_children_die_with_the_parent(talon_factory):
    """PR_SET_PDEATHSIG is set after the privilege drop (which clears it):
    a parent killed with SIGKILL leaves no child behind."""
    t = talon_factory(workers=2).start()
    t.crash_expected = True   # the test kills processes
    kids = [p for r in ("smtp", "queue", "deliver", "policy") for p in t.child_pids(r)]
    assert len(kids) == 5
    os.kill(t.main_pid(), signal.SIGKILL)
    t.proc.wait(10)
    deadline = time.time() + 10
    alive = kids
    while alive and time.time() < deadline:
        alive = [p for p in kids if os.path.exists("/proc/%d" % p) and
                 open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()[0] != "Z"]
        time.sleep(0.1)
    assert not alive, "children outlived the parent: %s" % alive


def test_reload_picks_up_a_new_certificate(talon_factory, tmp_path):
    import ssl
    t = talon_factory().start()

    def served_cn():
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", t.port_tls), timeout=10) as raw:
            with ctx.wrap_socket(raw) as s:
                der = s.getpeercert(binary_form=True)
        out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
                             input=der, capture_output=True, check=True)
        return out.stdout.decode()

    assert "mail.test.example" in served_cn()
    key, cert = str(tmp_path / "k2.pem"), str(tmp_path / "c2.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=renewed.test.example",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    with open(t.conf) as f:
        text = f.read()
    text = re.sub(r"tls-cert .*", "tls-cert " + cert, text)
    text = re.sub(r"tls-key .*", "tls-key " + key, text)
    with open(t.conf, "w") as f:
        f.write(text)
    t.reload()
    t.wait_log(r"event=reload result=ok")
    deadline = time.time() + 10
    while "renewed.test.example" not in served_cn():
        assert time.time() < deadline, "the new certificate is not served"
        time.sleep(0.2)


def test_recovery_removes_uncommitted_and_keeps_corrupt(talon_factory):
    """At start, a spool file still at mode 0600 was never acknowledged and
    is removed; a committed (0640) file that does not parse is moved to
    spool/corrupt/, never deleted."""
    t = talon_factory()
    q = os.path.join(t.dir, "spool", "queue")
    os.makedirs(q)
    for name, mode in (("1K0XZ9F46ST01", 0o600), ("1K0XZ9F46ST02", 0o640)):
        p = os.path.join(q, name)
        with open(p, "wb") as f:
            f.write(b"TALONQ1\nhalf a message")
        os.chmod(p, mode)
        if os.geteuid() == 0:     # as if the queue (_talonq) had written them
            import pwd
            pw = pwd.getpwnam("_talonq")
            os.chown(p, pw.pw_uid, pw.pw_gid)
    t.start()
    t.wait_log(r"event=recover file=1K0XZ9F46ST01 action=removed-uncommitted")
    t.wait_log(r"event=recover file=1K0XZ9F46ST02 error=.* action=moved-to-corrupt")
    assert os.listdir(q) == []
    assert os.listdir(os.path.join(t.dir, "spool", "corrupt")) == ["1K0XZ9F46ST02"]
