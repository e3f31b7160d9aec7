"""The role table seen from outside: `talon status` (text and JSON) against
/proc, reload by generation (in place for deliver/queue/policy, replaced
for smtp workers), refused reloads, the control socket's access rules and
robustness, restart and rewiring of every role after kill -9, and
connection admission in the policy role (per address across workers, in
all, IPv6 clients counted by their prefix)."""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import TALON, free_port

ROLE_USERS = {"deliver": "_talonmail", "queue": "_talonq", "policy": "_talonpol",
              "smtp": "_talon"}
NEW_HOST = "mx2.test.example"


# --- helpers -------------------------------------------------------------------

def ctl(t, *args, conf=None, user=None, timeout=30):
    """Run the CLI against the running daemon (optionally as another user)."""
    cmd = [TALON, "-c", conf or t.conf] + list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid=%s" % user[0], "--regid=%s" % user[1],
               "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def status_json(t):
    r = ctl(t, "status", "--json")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout)


def status_text_rows(t):
    r = ctl(t, "status")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    assert lines[0].split() == ["role", "worker", "pid", "user", "uptime", "restarts",
                                "generation", "state"], r.stdout
    rows = []
    for l in lines[1:]:
        f = l.split()
        assert len(f) == 8, l
        rows.append(dict(role=f[0], worker=f[1], pid=int(f[2]), user=f[3], uptime=f[4],
                         restarts=f[5], generation=int(f[6]), state=f[7]))
    return rows


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", text, re.M).groups()
    ppid = int(re.search(r"^PPid:\s+(\d+)", text, re.M).group(1))
    state = re.search(r"^State:\s+(\S)", text, re.M).group(1)
    return {int(u) for u in uids}, ppid, state


def children_of(ppid):
    out = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == ppid and fields[0] != "Z":
            out.add(int(d))
    return out


def check_row_process(row, parent):
    """the pid is alive, a child of the parent, and runs as the named user"""
    uids, ppid, state = proc_status(row["pid"])
    assert state != "Z", row
    assert ppid == parent, (row, ppid, parent)
    assert row["user"] == ROLE_USERS[row["role"]], row
    assert uids == {pwd.getpwnam(row["user"]).pw_uid}, (row, uids)


def wait_started(t, role, pid):
    """the child logs its start only after dropping privileges (the
    parent's spawn line comes right after fork)"""
    t.wait_log(r"talon\[%d\]: %s info: %s event=start" % (pid, role, role))


def send(t, subject, rcpt="alice@test.example"):
    with t.smtp() as s:
        s.sendmail("s@example.org", [rcpt], ("Subject: %s\r\n\r\nbody\r\n" % subject).encode())


def by_subject(t, user):
    """{subject: (file name, content)} of the user's new/ messages"""
    d = t.maildir(user)
    out = {}
    for name in os.listdir(d):
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        m = re.search(rb"^Subject: (\S+)", data, re.M)
        out[m.group(1).decode() if m else None] = (name, data)
    return out


def greeting(t, source=None):
    c = t.raw(source=source)
    try:
        return c.reply()
    finally:
        c.close()


def first_line(c):
    """First reply line of a new connection, or "CLOSED"."""
    try:
        return c.line()
    except (EOFError, ConnectionResetError):
        return "CLOSED"


# --- 1. status --------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="users per role only when started as root")
def test_status_lists_every_process_as_its_user(talon_factory):
    t = talon_factory(workers=2).start()
    parent = t.main_pid()
    rows = status_text_rows(t)
    roles = [r["role"] for r in rows]
    assert roles.count("parent") == 1 and roles[0] == "parent", rows
    for role in ("deliver", "queue", "policy"):
        assert roles.count(role) == 1, rows
    smtp = [r for r in rows if r["role"] == "smtp"]
    assert sorted(r["worker"] for r in smtp) == ["0", "1"], rows
    for r in rows[1:]:
        wait_started(t, r["role"], r["pid"])
    prow = rows[0]
    assert prow["pid"] == parent and prow["user"] == "root", prow
    for r in rows:
        assert r["generation"] == 1 and r["state"] == "running", r
        if r["role"] != "parent":
            check_row_process(r, parent)
            assert r["restarts"] == "0", r

    js = status_json(t)
    assert js["pid"] == parent and js["generation"] == 1, js
    jroles = js["roles"]
    assert sorted(r["role"] for r in jroles) == ["deliver", "policy", "queue", "smtp", "smtp"]
    for r in jroles:
        assert r["generation"] == 1 and r["state"] == "running" and r["restarts"] == 0, r
        check_row_process(r, parent)
    # text and JSON describe the same processes ...
    assert {(r["role"], r["pid"]) for r in jroles} == \
        {(r["role"], r["pid"]) for r in rows if r["role"] != "parent"}
    # ... and exactly the parent's children: none is missing from status
    assert {r["pid"] for r in jroles} == children_of(parent)
    assert {r["pid"] for r in jroles if r["role"] == "smtp"} == set(t.child_pids("smtp"))


# --- 2. reload changes the hostname ------------------------------------------------

def test_reload_changes_hostname_in_place_and_replaces_workers(talon_factory):
    t = talon_factory(workers=2).start()
    old_host = t.hostname
    send(t, "before")
    t.wait_messages("alice", 1)
    before = status_json(t)
    pid_of = {r["role"]: r["pid"] for r in before["roles"] if r["role"] != "smtp"}
    old_smtp = {r["pid"] for r in before["roles"] if r["role"] == "smtp"}

    # a session opened before the reload, left in the middle of nothing
    old = t.raw()
    code, lines = old.reply()
    assert code == 220 and old_host in lines[0], lines
    assert old.cmd("EHLO before.example")[0] == 250

    t.hostname = NEW_HOST
    t.write_files()
    r = ctl(t, "reload")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "generation 2" in r.stdout, r.stdout
    # both old workers closed their listeners (see report: a connection
    # racing the STOP could still be taken by an old worker)
    t.wait_log(r"smtp event=drain", count=2)

    code, lines = greeting(t)
    assert code == 220 and lines[0] == "220 %s ESMTP Talon" % NEW_HOST, lines

    send(t, "after")
    t.wait_messages("alice", 2)
    got = by_subject(t, "alice")
    name_after, data_after = got["after"]
    name_before, data_before = got["before"]
    assert re.search(rb"^Received: .*\r?\n\s+by %s \(Talon\)" % re.escape(NEW_HOST.encode()),
                     data_after, re.M), data_after
    assert b"by %s (Talon)" % old_host.encode() in data_before
    # deliver took the new name in place (and the old message kept the old one)
    assert "." + NEW_HOST + "," in name_after and old_host not in name_after, name_after
    assert "." + old_host + "," in name_before, name_before

    after = status_json(t)
    assert after["generation"] == 2 and after["pid"] == before["pid"], after
    for role in ("deliver", "queue", "policy"):
        [row] = [x for x in after["roles"] if x["role"] == role]
        assert row["pid"] == pid_of[role], ("reloaded in place, not restarted", row)
        assert row["generation"] == 2, row
    running = [x for x in after["roles"] if x["role"] == "smtp" and x["state"] == "running"]
    assert sorted(x["worker"] for x in running) == [0, 1], after
    for x in running:
        assert x["generation"] == 2 and x["pid"] not in old_smtp, x
    # the worker holding the old session drains in generation 1
    assert any(x["state"] == "draining" for x in after["roles"]), after
    for x in after["roles"]:
        if x["role"] == "smtp" and x["state"] != "running":
            assert x["state"] == "draining" and x["generation"] == 1 and x["pid"] in old_smtp, x

    # the session opened before the reload completes a whole transaction
    assert old.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert old.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert old.cmd("DATA")[0] == 354
    old.send(b"Subject: old-session\r\n\r\nx\r\n.\r\n")
    code, lines = old.reply()
    assert code == 250, lines
    assert old.cmd("QUIT")[0] == 221
    old.close()
    t.wait_messages("alice", 3)
    assert "old-session" in by_subject(t, "alice")
    # and then its worker leaves cleanly
    for pid in old_smtp:
        t.wait_log(r"parent event=exit role=smtp pid=%d exit=0" % pid)
    assert "event=crash" not in t.log()


# --- 3. refused reloads ---------------------------------------------------------------

def test_reload_of_broken_config_keeps_generation(talon_factory):
    t = talon_factory(workers=2).start()
    old_host = t.hostname
    before = status_json(t)
    with open(t.conf) as f:
        n = len(f.read().splitlines())
    with open(t.conf, "a") as f:
        f.write("hostname-typo mx9.test.example\n")
    r = ctl(t, "reload")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "%s:%d:" % (t.conf, n + 1) in r.stderr, r.stderr
    assert "talon.conf:%d:" % (n + 1) in r.stderr
    t.wait_log(r"parent event=reload result=fail errors=1 \(keeping generation 1\)")

    code, lines = greeting(t)
    assert code == 220 and lines[0] == "220 %s ESMTP Talon" % old_host, lines
    after = status_json(t)
    assert after["generation"] == 1, after
    assert all(x["generation"] == 1 and x["state"] == "running" for x in after["roles"]), after
    # a refused reload replaces nothing
    assert {x["pid"] for x in after["roles"]} == {x["pid"] for x in before["roles"]}
    send(t, "still-flowing")
    t.wait_messages("alice", 1)

    # a changed spool needs a restart: refused, same generation
    t.write_files()
    with open(t.conf) as f:
        text = f.read()
    assert "\nspool spool\n" in text
    with open(t.conf, "w") as f:
        f.write(text.replace("\nspool spool\n", "\nspool spool2\n"))
    r = ctl(t, "reload")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "needs a restart" in r.stderr and "spool" in r.stderr, r.stderr
    after = status_json(t)
    assert after["generation"] == 1, after
    assert {x["pid"] for x in after["roles"]} == {x["pid"] for x in before["roles"]}
    assert not os.path.exists(os.path.join(t.dir, "spool2"))
    send(t, "still-flowing-2")
    t.wait_messages("alice", 2)
    # a good config after two failures: the next generation number is 2
    t.write_files()
    r = ctl(t, "reload")
    assert r.returncode == 0 and "generation 2" in r.stdout, (r.stdout, r.stderr)


# --- 4. users picked up by reload ------------------------------------------------------

def test_reload_picks_up_a_new_user(talon_factory):
    t = talon_factory().start()
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO c.example")
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    code, lines = c.cmd("RCPT TO:<dave@test.example>")
    assert code == 550, lines
    c.cmd("QUIT")
    c.close()

    t.users.append("dave")
    t.write_files()
    r = ctl(t, "reload")
    assert r.returncode == 0 and "generation 2" in r.stdout, (r.stdout, r.stderr)
    t.wait_log(r"smtp event=drain", count=1)
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO c.example")
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    code, lines = c.cmd("RCPT TO:<dave@test.example>")
    assert code == 250, lines
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: for-dave\r\n\r\nhi\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    c.close()
    t.wait_messages("dave", 1)


# --- 5. control socket access ------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as nobody")
def test_control_socket_access_and_garbage(talon_factory):
    cdir = tempfile.mkdtemp(prefix="talon-ctl-")
    t = None
    try:
        os.chmod(cdir, 0o755)
        sock = os.path.join(cdir, "control.sock")
        t = talon_factory(extra="control %s" % sock)
        # the CLI reads the config to find the socket: give nobody a
        # readable copy (the test's own directory is under root's 0700 tmp)
        nconf = os.path.join(cdir, "talon.conf")

        def publish_conf():
            shutil.copy(t.conf, nconf)
            os.chmod(nconf, 0o644)

        publish_conf()
        t.start()
        parent = t.main_pid()
        nobody = ("nobody", "nogroup")

        r = ctl(t, "status", conf=nconf, user=nobody)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "permission denied" in r.stderr, r.stderr
        assert r.stdout == "", r.stdout
        uid = pwd.getpwnam("nobody").pw_uid
        t.wait_log(r'parent event=control uid=%d request="status" result=refused' % uid)
        # refused means nothing ran: not even a reload
        r = ctl(t, "reload", conf=nconf, user=nobody)
        assert r.returncode == 1 and "permission denied" in r.stderr, (r.stdout, r.stderr)
        t.wait_log(r'parent event=control uid=%d request="reload" result=refused' % uid)
        assert "event=reload result" not in t.log()
        assert status_json(t)["generation"] == 1

        # garbage on the socket: each gets "error:" or a close; nothing breaks
        def raw_ctl(data):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(sock)
            if data:
                try:
                    s.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            return s

        def answer(s):
            buf = b""
            try:
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    buf += d
            except ConnectionResetError:
                pass
            s.close()
            return buf

        silent = raw_ctl(b"")
        binary = raw_ctl(b"\x00\xff\r\n")
        long = raw_ctl(b"s" * 2000)
        # the daemon serves others while these are open
        r = ctl(t, "status")
        assert r.returncode == 0 and "parent" in r.stdout, (r.stdout, r.stderr)
        for s in (binary, long):
            a = answer(s)
            assert a == b"" or a.startswith(b"error:"), a
            assert not a.startswith(b"ok"), a
        t0 = time.time()
        a = answer(silent)          # the daemon's own deadline closes it
        assert a == b"" or a.startswith(b"error:"), a
        assert time.time() - t0 < 9
        r = ctl(t, "status")
        assert r.returncode == 0 and "parent" in r.stdout, (r.stdout, r.stderr)
        assert t.main_pid() == parent and t.proc.poll() is None
        assert status_json(t)["pid"] == parent

        # with admin-group nogroup, nobody (primary group nogroup) may ask
        t.stop()
        t.extra = "control %s\nadmin-group nogroup" % sock
        t.write_files()
        publish_conf()
        t.start()
        r = ctl(t, "status", conf=nconf, user=nobody)
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        assert r.stdout.split()[:8] == ["role", "worker", "pid", "user", "uptime", "restarts",
                                        "generation", "state"], r.stdout
        assert re.search(r"^parent\s+-\s+%d\s+root" % t.main_pid(), r.stdout, re.M), r.stdout
        assert re.search(r"^smtp\s+0\s+\d+\s+_talon\s", r.stdout, re.M), r.stdout
        t.wait_log(r'parent event=control uid=%d request="status" result=ok' % uid)
        # admin-group opens the socket to that group only: a user outside
        # it is still refused ...
        r = ctl(t, "status", conf=nconf, user=("daemon", "daemon"))
        assert r.returncode == 1 and "permission denied" in r.stderr, (r.stdout, r.stderr)
        # ... and the caller's gid as the kernel reports it counts even
        # when /etc/group does not list the user in the group
        r = ctl(t, "status", conf=nconf, user=("daemon", "nogroup"))
        assert r.returncode == 0 and r.stdout.startswith("role "), (r.stdout, r.stderr)
    finally:
        if t is not None and t.proc is not None and t.proc.poll() is None:
            t.stop()
        shutil.rmtree(cdir, ignore_errors=True)


# --- 6. restart and rewiring of every role --------------------------------------------

def test_every_role_restarts_after_kill9_and_is_rewired(talon_factory):
    t = talon_factory().start()
    t.crash_expected = True   # the test kills processes
    parent = t.main_pid()
    delivered = 0
    for role in ("queue", "deliver", "policy", "smtp"):
        pids = t.child_pids(role)
        assert len(pids) == 1, (role, pids)
        victim = pids[0]
        spawns = len(re.findall(r"parent event=spawn role=%s " % role, t.log()))
        os.kill(victim, signal.SIGKILL)
        t.wait_log(r"parent event=crash role=%s pid=%d signal=9 .*action=restart" % (role, victim))
        t.wait_log(r"parent event=spawn role=%s " % role, count=spawns + 1)
        new = t.child_pids(role)
        assert len(new) == 1 and new[0] != victim, (role, new)
        wait_started(t, role, new[0])
        uids, ppid, _ = proc_status(new[0])
        assert ppid == parent and uids == {pwd.getpwnam(ROLE_USERS[role]).pw_uid}
        # one message through smtp -> policy -> queue -> deliver proves the
        # new process is wired to every peer it has
        send(t, "after-kill-%s" % role)
        delivered += 1
        t.wait_messages("alice", delivered)
        assert "after-kill-%s" % role in by_subject(t, "alice")
    js = status_json(t)
    assert js["pid"] == parent == t.main_pid()
    for role in ("queue", "deliver", "policy", "smtp"):
        [row] = [x for x in js["roles"] if x["role"] == role]
        assert row["restarts"] >= 1, row
        assert row["pid"] == t.child_pids(role)[0] and row["state"] == "running", row
    assert sorted(by_subject(t, "alice")) == sorted(
        "after-kill-%s" % r for r in ("queue", "deliver", "policy", "smtp"))


# --- 7. admission across workers -------------------------------------------------------

def worker_of(t, client):
    """pid of the smtp worker holding the server side of a client socket"""
    cip, cport = client.sock.getsockname()[:2]
    rem = "%s:%04X" % (socket.inet_aton(cip)[::-1].hex().upper(), cport)
    loc = "0100007F:%04X" % t.port
    inode = None
    with open("/proc/net/tcp") as f:
        for l in f.read().splitlines()[1:]:
            x = l.split()
            if x[1] == loc and x[2] == rem:
                inode = x[9]
    assert inode, "server side of %s:%d not found" % (cip, cport)
    for pid in t.child_pids("smtp"):
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
                    return pid
            except OSError:
                pass
    raise AssertionError("no smtp worker holds %s:%d" % (cip, cport))


def test_admission_per_address_across_workers(talon_factory):
    t = talon_factory(workers=2, limits={"connections-per-ip": 3}).start()
    # three sessions of one address that the kernel spread over both
    # workers (a new address per try: a try that landed on one worker
    # only leaves its sessions open and counted under its own address)
    for i in range(10, 22):
        src = "127.0.1.%d" % i
        conns = []
        for _ in range(3):
            c = t.raw(source=src)
            code, lines = c.reply()
            assert code == 220, lines
            conns.append(c)
        workers = {worker_of(t, c) for c in conns}
        if len(workers) == 2:
            break
    else:
        raise AssertionError("the kernel never spread 3 connections over 2 workers")

    c4 = t.raw(source=src)
    l = first_line(c4)
    assert l.startswith("421 4.7.0 ") and "too many connections from your address" in l, l
    assert c4.closed()
    c4.close()
    t.wait_log(r"policy event=admit client=\[%s\] worker=\d result=too-many-from-client open=3"
               % re.escape(src))
    # another address is not affected
    code, lines = greeting(t, source="127.0.0.2")
    assert code == 220, lines
    # closing one gives its slot back (reported asynchronously: retry)
    conns[0].cmd("QUIT")
    conns[0].close()
    deadline = time.time() + 5
    while True:
        c = t.raw(source=src)
        l = first_line(c)
        if l.startswith("220 "):
            break
        assert l.startswith("421 4.7.0") and time.time() < deadline, l
        c.close()
        time.sleep(0.1)
    conns[0] = c
    # and it is the fourth that is refused again
    c5 = t.raw(source=src)
    l = first_line(c5)
    assert l.startswith("421 4.7.0 ") and "from your address" in l, l
    c5.close()
    for c in conns:
        c.close()


def test_admission_total_limit(talon_factory):
    t = talon_factory(workers=2, limits={"connections": 4, "connections-per-ip": 3}).start()
    open_ = []
    for src in ("127.0.0.1", "127.0.0.1", "127.0.0.1"):
        c = t.raw(source=src)
        assert first_line(c).startswith("220 "), src
        open_.append(c)
    # the per-address limit is reached before the total one
    c = t.raw(source="127.0.0.1")
    l = first_line(c)
    assert l.startswith("421 4.7.0 ") and "from your address" in l, l
    c.close()
    c = t.raw(source="127.0.0.2")
    assert first_line(c).startswith("220 ")
    open_.append(c)
    # four open: a fifth from yet another address is refused, in all
    c = t.raw(source="127.0.0.3")
    l = first_line(c)
    assert l.startswith("421 4.7.0 ") and "too many connections" in l \
        and "from your address" not in l, l
    assert c.closed()
    c.close()
    t.wait_log(r"policy event=admit client=\[127\.0\.0\.3\] worker=\d result=too-many open=0 total=4")
    for c in open_:
        c.close()


def test_policy_restart_keeps_counts_and_worker_crash_gives_them_back(talon_factory):
    """A new policy process learns the open sessions from the workers
    (ADMIT_HOLD); the sessions of a worker that dies are given back."""
    t = talon_factory(limits={"connections-per-ip": 2}).start()
    t.crash_expected = True   # the test kills processes
    src = "127.0.0.9"
    conns = [t.raw(source=src) for _ in range(2)]
    for c in conns:
        assert first_line(c).startswith("220 ")
    [pol] = t.child_pids("policy")
    os.kill(pol, signal.SIGKILL)
    t.wait_log(r"parent event=crash role=policy pid=%d signal=9" % pol)
    t.wait_log(r"parent event=spawn role=policy ", count=2)
    # asked of the new policy process: the two held sessions still count
    c = t.raw(source=src)
    l = first_line(c)
    assert l.startswith("421 4.7.0 ") and "from your address" in l, l
    c.close()
    t.wait_log(r"policy event=admit client=\[127\.0\.0\.9\] worker=0 "
               r"result=too-many-from-client open=2")
    # the worker holding them dies: its sessions are no longer counted
    [w] = t.child_pids("smtp")
    os.kill(w, signal.SIGKILL)
    t.wait_log(r"parent event=spawn role=smtp ", count=2)
    for c in conns:
        c.close()
    got = []
    for _ in range(2):
        c = t.raw(source=src)
        got.append(first_line(c))
        conns.append(c)
    assert all(l.startswith("220 ") for l in got), got
    for c in conns:
        c.close()


# --- 8. IPv6 clients counted by prefix -------------------------------------------------

CLIENT = r"""
import socket, sys
port, dst, srcs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
keep = []
for src in srcs:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((src, 0))
    s.connect((dst, port))
    buf = b""
    try:
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
    except OSError as e:
        buf = ("ERROR %s\r\n" % e).encode()
    print(src, buf.split(b"\r\n")[0].decode() or "CLOSED", flush=True)
    keep.append(s)
for s in keep:
    s.close()
"""


def run_v6_case(talon_factory, ns, prefix, srcs):
    port = free_port()
    limits = {"connections-per-ip": 2}
    if prefix is not None:
        limits["ipv6-client-prefix"] = prefix
    t = talon_factory(limits=limits, listeners=["listen smtp [2001:db8::1]:%d" % port])
    t.crash_expected = True   # the test kills processes
    try:
        t.start(wrapper=["ip", "netns", "exec", ns], wait=False)
        deadline = time.time() + 20
        while "smtp event=start" not in t.log():
            assert t.proc.poll() is None, t.log()
            assert time.time() < deadline, t.log()
            time.sleep(0.05)
        r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", CLIENT,
                            str(port), "2001:db8::1"] + srcs,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (r.stdout, r.stderr, t.log()[-3000:])
        out = [l.split(" ", 1) for l in r.stdout.splitlines()]
        assert [o[0] for o in out] == srcs, r.stdout
        return [o[1] for o in out], t
    finally:
        if t.proc is not None and t.proc.poll() is None:
            t.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")
def test_ipv6_clients_counted_by_prefix(talon_factory):
    ns = "talon-v6-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        for a in ("2001:db8::1/64", "2001:db8::2/64", "2001:db8:1::1/64"):
            subprocess.run(["ip", "-n", ns, "addr", "add", a, "dev", "lo", "nodad"], check=True)

        # default /64: ::1 and ::2 are one client
        got, t = run_v6_case(talon_factory, ns, None,
                             ["2001:db8::1", "2001:db8::2", "2001:db8::1", "2001:db8::2",
                              "2001:db8:1::1"])
        assert got[0].startswith("220 ") and got[1].startswith("220 "), got
        for l in got[2:4]:
            assert l.startswith("421 4.7.0 ") and "from your address" in l, got
        assert got[4].startswith("220 "), got
        assert re.search(r"policy event=admit client=\[2001:db8::1\] .*result=too-many-from-client "
                         r"open=2", t.log()), t.log()

        # /128: each address counts alone (and the limit still holds per address)
        got, t = run_v6_case(talon_factory, ns, 128,
                             ["2001:db8::1", "2001:db8::2", "2001:db8::1", "2001:db8::1",
                              "2001:db8::2", "2001:db8::2", "2001:db8:1::1"])
        assert all(l.startswith("220 ") for l in got[:3]), got
        assert got[3].startswith("421 4.7.0 ") and "from your address" in got[3], got
        assert got[4].startswith("220 "), got
        assert got[5].startswith("421 4.7.0 "), got
        assert got[6].startswith("220 "), got
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def test_control_socket_cannot_be_filled_by_other_users(talon_factory):
    """A local user holding many idle connections to the control socket
    fills only the slots of refused callers: root is still answered.  An
    over-long request gets its error text, not a reset; CRLF is accepted."""
    cdir = tempfile.mkdtemp(prefix="talon-ctl-")
    try:
        os.chmod(cdir, 0o755)
        sock = os.path.join(cdir, "control.sock")
        t = talon_factory(extra="control %s" % sock).start()
        script = ("import socket,time\n"
                  "ss=[]\n"
                  "for i in range(40):\n"
                  "    s=socket.socket(socket.AF_UNIX); s.connect(%r); ss.append(s)\n"
                  "print('ok', flush=True)\n"
                  "time.sleep(30)\n" % sock)
        hog = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup",
                                "--clear-groups", "/usr/bin/python3", "-c", script],
                               stdout=subprocess.PIPE, text=True)
        try:
            assert hog.stdout.readline().strip() == "ok"
            for _ in range(3):
                r = ctl(t, "status")
                assert r.returncode == 0, (r.stdout, r.stderr)
                assert "policy" in r.stdout
            t.wait_log(r"event=control uid=\d+ result=dropped reason=\"16 refused connections")
        finally:
            hog.kill()
            hog.wait()
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(b"x" * 2000)
        got = b""
        s.settimeout(5)
        while True:
            d = s.recv(4096)        # a reset would raise here
            if not d:
                break
            got += d
        s.close()
        assert got.startswith(b"error: request longer than 512 bytes"), got
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(b"status\r\n")
        s.settimeout(5)
        got = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
        s.close()
        assert got.startswith(b"ok\n") and b"policy" in got, got
    finally:
        shutil.rmtree(cdir, ignore_errors=True)
