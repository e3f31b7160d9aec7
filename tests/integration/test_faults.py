"""Durability order and deterministic faults.

The order tests trace the whole daemon (strace -f) and tie every call to
its process.  Local commit (the usual path): deliver's tmp/ write, fsync,
link into new/ and fsync of new/ come before its answer, which comes before
the queue's COMMIT_OK, the 250 and the unlink of the spool file, which is
never fsynced.  Spool commit (after a copy failed): the commit mark (mode
0640) and the fsyncs of the file and of spool/queue come before the 250.

The fault tests use strace's fault injection instead of timing: an
`strace -p` attached to one process (the queue, deliver or an smtp worker)
fails or kills exactly the call we name (`-P` picks the file, `when=N` the
call), and every test checks in strace's output and in the daemon log that
the fault really happened.  Afterwards Maildir tmp/, spool/queue and
spool/corrupt/ are checked.

LeakSanitizer does not work under ptrace: a daemon traced from its start
runs with detect_leaks=0; an attached strace is gone (detached, or its
tracee killed) before the daemon stops, so those tests keep leak checks.

Two tests pin bugs they found (a copy left in tmp/ after a retry found
it in new/; a retry that answered done without fsyncing new/).
"""
import os
import re
import signal
import smtplib
import stat
import subprocess
import threading
import time

import pytest

NOLEAK = {"ASAN_OPTIONS": "detect_leaks=0"}
TRACED = ("openat,fchmod,fsync,fdatasync,syncfs,linkat,unlinkat,sendmsg,sendto,write,clone,clone3,"
          "fork,vfork,memfd_create,dup,fcntl,ftruncate")


# --- helpers ------------------------------------------------------------------

def wait_until(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out (%ss) waiting for %s" % (timeout, what))


def send(t, subject, rcpts=("alice@test.example",)):
    """One message in its own session; returns the queue id of its 250."""
    with t.smtp() as s:
        s.ehlo("client.example")
        assert s.mail("s@example.org")[0] == 250
        for r in rcpts:
            assert s.rcpt(r)[0] == 250
        code, msg = s.data(("Subject: %s\r\n\r\nbody of %s\r\n" % (subject, subject)).encode())
        assert code == 250, (code, msg)
        return re.search(rb"queued as (\S+)", msg).group(1).decode()


def open_data(t, rcpt="alice@test.example"):
    """A session waiting for the message text (the spool file is open)."""
    c = t.raw()
    c.expect(220)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<%s>" % rcpt)[0] == 250
    assert c.cmd("DATA")[0] == 354
    return c


def open_spilled(t, rcpt="alice@test.example"):
    """A session in DATA whose message outgrew memory (mail/spool.h:
    SPOOL_MEM_SPILL, 256 KiB) and moved to a file on disk,
    spool/queue/QID.  Returns (session, qid)."""
    c = open_data(t, rcpt)
    c.send(b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * 4000)   # 320 KB
    wait_until(lambda: len(listdir(spool(t))) == 1, 10, "the message to move to disk")
    [qid] = listdir(spool(t))
    return c, qid


MEMFD = "/memfd:talon-spool"   # a spool file in memory, as strace names it


def subjects(t, user, sub="new"):
    out = []
    for m in t.messages(user, sub):
        mm = re.search(rb"^Subject: (\S+)$", m, re.M)
        out.append(mm.group(1).decode() if mm else None)
    return out


def spool(t, sub="queue"):
    return os.path.join(os.path.realpath(t.dir), "spool", sub)


def listdir(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def role_pid(t, role, nth=0):
    """pid of the nth process of a role the parent spawned (from its log)"""
    pids = [int(p) for p in re.findall(r"event=spawn role=%s (?:worker=\d+ )?pid=(\d+)" % role,
                                       t.log())]
    assert len(pids) > nth, "no spawn #%d of %s:\n%s" % (nth, role, t.log()[-3000:])
    return pids[nth]


def check_clean(t, users=("alice",), timeout=10):
    """What every fault must leave: no file in any Maildir tmp/, nothing in
    spool/queue once the queue is done, nothing set aside as corrupt."""
    q = spool(t)
    wait_until(lambda: listdir(q) == [], timeout, "an empty spool/queue, have %s" % listdir(q))
    assert listdir(spool(t, "corrupt")) == [], "spool/corrupt: %s" % listdir(spool(t, "corrupt"))
    assert listdir(spool(t, "results")) == [], "spool/results: %s" % listdir(spool(t, "results"))
    for u in users:
        assert listdir(t.maildir(u, "tmp")) == [], "%s tmp/: %s" % (u, listdir(t.maildir(u, "tmp")))


class Tracer:
    """strace attached to a running process (all its threads with -f)."""

    def __init__(self, tmp_path, tag, pid, args):
        self.pid = pid
        self.out = str(tmp_path / ("%s.strace" % tag))
        self.errpath = str(tmp_path / ("%s.strace-err" % tag))
        self.errf = open(self.errpath, "w")
        # (no -e signal=none: strace prints "+++ killed by SIGKILL +++" only
        # for signals it traces)
        cmd = ["strace", "-f", "-y", "-s", "200", "-o", self.out,
               "-p", str(pid)] + list(args)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.errf)
        wait_until(lambda: self.proc.poll() is not None or
                   re.search(r"Process %d attached" % pid, self.err()), 10,
                   "strace to attach to %d" % pid)
        assert self.proc.poll() is None, "strace failed: %s" % self.err()

    def err(self):
        with open(self.errpath) as f:
            return f.read()

    def text(self):
        try:
            with open(self.out) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_exit(self, timeout=10):
        """strace ends by itself when its tracee dies (a SIGKILL we injected)"""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("the traced process %d did not die; trace:\n%s" % (
                self.pid, self.text()[-3000:]))

    def detach(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                # strace can wait for ever on a delayed call of a tracee
                # that died with its parent; the kernel detaches for it
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def tracers(tmp_path):
    made = []

    def make(tag, pid, *args):
        tr = Tracer(tmp_path, tag, pid, args)
        made.append(tr)
        return tr

    yield make
    for tr in made:     # before the daemon is stopped (fixture order)
        tr.detach()


# --- parsing strace -f output ----------------------------------------------------

CALL_RE = re.compile(r"^([a-z_0-9]+)\((.*)\)\s+= (-?\d+|\?)(.*)$")


class Call:
    def __init__(self, tid, name, args, ret, start, end, line):
        self.tid, self.name, self.args, self.ret = tid, name, args, ret
        self.start, self.end, self.line = start, end, line
        self.pid = tid  # the process (thread group); set by parse_trace

    def __repr__(self):
        return "[%d-%d] %s" % (self.start, self.end, self.line[:300])


def parse_trace(text):
    """strace -f output -> (calls sorted by the line where each began, killed
    pids).  A call another tracee interrupted is split into "<unfinished
    ...>" and "<... NAME resumed>": it is joined, and keeps both the line
    where it began (start) and where it returned (end), so "A before B"
    can be asserted as A.end < B.start.  Thread ids are mapped to their
    process from the clone()/clone3() results (CLONE_THREAD)."""
    pending, calls, killed = {}, [], set()
    for i, l in enumerate(text.splitlines()):
        m = re.match(r"^(\d+)\s+(.*)$", l)
        if not m:
            continue
        tid, body = int(m.group(1)), m.group(2)
        if body.startswith("+++ killed by SIGKILL"):
            killed.add(tid)
            continue
        if body.endswith("<unfinished ...>"):
            pending[tid] = (i, body[:-len("<unfinished ...>")].rstrip())
            continue
        r = re.match(r"<\.\.\. [a-z_0-9]+ resumed>\s?(.*)$", body)
        start = i
        if r:
            if tid not in pending:
                continue
            start, head = pending.pop(tid)
            body = head + r.group(1)
        c = CALL_RE.match(body)
        if not c:
            continue
        ret = None if c.group(3) == "?" else int(c.group(3))
        calls.append(Call(tid, c.group(1), c.group(2), ret, start, i, "%d %s" % (tid, body)))
    for tid, (i, head) in pending.items():      # never returned (killed)
        c = re.match(r"^([a-z_0-9]+)\((.*)$", head)
        if c:
            calls.append(Call(tid, c.group(1), c.group(2), None, i, i, "%d %s" % (tid, head)))
    tgid = {}
    for c in sorted(calls, key=lambda c: c.end):
        if c.name in ("clone", "clone3", "fork", "vfork") and c.ret and c.ret > 0:
            tgid[c.ret] = tgid.get(c.tid, c.tid) if "CLONE_THREAD" in c.args else c.ret
    for c in calls:
        c.pid = tgid.get(c.tid, c.tid)
    calls.sort(key=lambda c: c.start)
    return calls, killed


def find(calls, pred, what, after=None, last_before=None):
    """The first call matching pred (that begins after `after` returned), or
    the last one that returned before `last_before` began."""
    sel = [c for c in calls if pred(c) and (after is None or c.start > after.end)]
    if last_before is not None:
        sel = [c for c in sel if c.end < last_before.start]
        sel.sort(key=lambda c: c.end)
        assert sel, "no %s before %r" % (what, last_before)
        return sel[-1]
    assert sel, "no %s%s" % (what, " after %r" % after if after else "")
    return sel[0]


def openat_parts(c):
    """openat(DIRFD, "NAME", FLAGS[, MODE]) -> (dirfd, name, flags)"""
    m = re.match(r'^([^,]+), "([^"]*)", ([A-Z_|]+)', c.args)
    return (m.group(1), m.group(2), m.group(3)) if m else (None, None, "")


def is_open(c, pid, name=None, dirfd=None, flag=None):
    if c.name != "openat" or c.pid != pid or c.ret is None or c.ret < 0:
        return False
    d, n, f = openat_parts(c)
    return ((name is None or (n == name if isinstance(name, str) else name.search(n or "")))
            and (dirfd is None or d == str(dirfd)) and (flag is None or flag in f))


def is_fsync(c, pid, fd):
    return c.name in ("fsync", "fdatasync") and c.pid == pid and c.args == str(fd)


def before(a, b, why):
    assert a.end < b.start, "%s:\n  %r\nmust return before\n  %r" % (why, a, b)


# --- 1. the order of durability -------------------------------------------------------

def break_mailbox(t, user):
    """A mailbox deliver cannot open (root's, mode 0700): every copy for
    user fails, which makes the queue take the spool-commit path.  Returns
    the function that repairs it."""
    path = os.path.join(t.dir, "store", user)
    os.makedirs(path)
    os.chmod(path, 0o700)
    return lambda: os.rmdir(path)


def trace_start(t, tmp_path):
    """Start t under strace -f; returns the trace file."""
    trace = str(tmp_path / "strace.out")
    t.start(env=NOLEAK, wrapper=["strace", "-f", "-qq", "-e", "signal=none", "-s", "512",
                                 "-o", trace, "-e", "trace=" + TRACED])
    return trace


def parse_run(t, trace):
    t.stop()
    Q, D, W = role_pid(t, "queue"), role_pid(t, "deliver"), role_pid(t, "smtp")
    with open(trace) as f:
        calls, _ = parse_trace(f.read())
    # the pids of the log are the processes strace saw the parent fork
    forked = {c.ret for c in calls if c.name in ("clone", "clone3", "fork", "vfork")
              and "CLONE_THREAD" not in c.args}
    assert {Q, D, W} <= forked, (Q, D, W, forked)
    return calls, Q, D, W


class QueueSide:
    """The queue's calls for one message spooled in memory: spool/queue
    (qfd), the memfd it made (sfd, from memfd_create, dup'ed into OPEN_OK
    on the worker's channel), its cut and seal after COMMIT, the read-only
    copy of it (F_DUPFD) and the DELIVER that passed that.  A file
    spool/queue/QID is never created for it before deliver's answer."""

    def __init__(self, calls, Q, qid):
        self.qdir = find(calls, lambda c: is_open(c, Q, "queue", flag="O_DIRECTORY"),
                         "open of spool/queue")
        self.qfd = self.qdir.ret
        open_ok = find(calls, lambda c: c.name == "sendmsg" and c.pid == Q and qid in c.args and
                       "SCM_RIGHTS" in c.args, "OPEN_OK")
        self.chan = open_ok.args.split(",")[0]
        passed = int(re.search(r"cmsg_data=\[(\d+)\]", open_ok.args).group(1))
        dup = find(calls, lambda c: c.name == "dup" and c.pid == Q and c.ret == passed,
                   "dup for OPEN_OK", last_before=open_ok)
        self.sfd = int(dup.args)
        self.sopen = find(calls, lambda c: c.name == "memfd_create" and c.pid == Q and
                          c.ret == self.sfd, "memfd_create of the spool file", last_before=dup)
        self.seal = find(calls, lambda c: c.name == "fcntl" and c.pid == Q and
                         c.args.startswith("%d, F_ADD_SEALS" % self.sfd) and
                         "F_SEAL_WRITE" in c.args, "seal of the spool file", after=open_ok)
        assert self.seal.ret == 0, self.seal
        self.ropen = find(calls, lambda c: c.name == "fcntl" and c.pid == Q and
                          c.args.startswith("%d, F_DUPFD_CLOEXEC" % self.sfd),
                          "copy for deliver", after=self.seal)
        self.deliver_req = find(calls, lambda c: c.name == "sendmsg" and c.pid == Q and
                                "cmsg_data=[%d]" % self.ropen.ret in c.args, "DELIVER",
                                after=self.ropen)

    def commit_ok(self, calls, Q, after):
        return find(calls, lambda c: c.name == "sendmsg" and c.pid == Q and
                    c.args.split(",")[0] == self.chan, "COMMIT_OK", after=after)

    def disk_file(self, calls, Q, qid):
        """The creations of spool/queue/QID"""
        return [c for c in calls if is_open(c, Q, qid, self.qfd, "O_CREAT")]


def deliver_side(calls, D, qid, user, idx, qs):
    """deliver's copy for one recipient: openat(tmp/NAME) -> fsync(it) ->
    linkat(tmp/NAME, new/NAME) -> unlink tmp/NAME -> fsync(new/ fd from
    openat "new") -> DELIVER_DONE naming new/NAME.  Returns (fsync of new/,
    DELIVER_DONE)."""
    name_re = re.compile(r"^\d+\.Q%sI%d\." % (re.escape(qid), idx))
    tmpfile = find(calls, lambda c: is_open(c, D, name_re, flag="O_CREAT"), "tmp/NAME creation")
    name = openat_parts(tmpfile)[1]
    tmpfd, mfd = int(openat_parts(tmpfile)[0]), tmpfile.ret
    # tmp/ and new/: opened in this Maildir (user -> Maildir -> tmp, new)
    udir = find(calls, lambda c: is_open(c, D, user, flag="O_DIRECTORY"), "store/" + user,
                last_before=tmpfile)
    mdir = find(calls, lambda c: is_open(c, D, "Maildir", udir.ret, "O_DIRECTORY"),
                user + "/Maildir", after=udir)
    tdir = find(calls, lambda c: is_open(c, D, "tmp", mdir.ret, "O_DIRECTORY"), "Maildir/tmp",
                last_before=tmpfile)
    ndir = find(calls, lambda c: is_open(c, D, "new", mdir.ret, "O_DIRECTORY"), "Maildir/new",
                last_before=tmpfile)
    assert tdir.ret == tmpfd, (tdir, tmpfile)
    newfd = ndir.ret
    before(qs.deliver_req, tmpfile, "deliver works on what the queue handed it")
    fs_tmp = find(calls, lambda c: is_fsync(c, D, mfd), "fsync of tmp/NAME", after=tmpfile)
    assert fs_tmp.ret == 0, fs_tmp
    link = find(calls, lambda c: c.name == "linkat" and c.pid == D and name in c.args, "linkat")
    assert link.args == '%d, "%s", %d, "%s", 0' % (tmpfd, name, newfd, name), link
    assert link.ret == 0, link
    before(fs_tmp, link, "the file is durable before it appears in new/")
    unl_tmp = find(calls, lambda c: c.name == "unlinkat" and c.pid == D and
                   c.args == '%d, "%s", 0' % (tmpfd, name), "unlink of tmp/NAME")
    assert unl_tmp.ret == 0, unl_tmp
    before(link, unl_tmp, "tmp/NAME goes only once it is linked")
    fs_new = find(calls, lambda c: is_fsync(c, D, newfd), "fsync of new/ (fd %d)" % newfd,
                  after=link)
    assert fs_new.ret == 0, fs_new
    # newfd still names new/: no open returned that number in between
    reused = [c for c in calls if c.pid == D and c.name == "openat" and c.ret == newfd and
              ndir.end < c.start < fs_new.start]
    assert not reused, reused
    done = find(calls, lambda c: c.name == "sendmsg" and c.pid == D and
                "%s/Maildir/new/%s" % (user, name) in c.args, "DELIVER_DONE")
    before(fs_new, done, "new/ is durable before deliver answers")
    return fs_new, done


def the_250(calls, W, qid):
    return find(calls, lambda c: c.pid == W and c.name in ("write", "sendto", "sendmsg") and
                "250 2.0.0 Ok: queued as %s" % qid in c.args, "the 250 reply")


def test_order_local_commit(talon_factory, tmp_path):
    """Every recipient local and deliverable: the Maildir copies are the
    commit.  deliver: tmp/NAME fsync -> link -> new/ fsync -> DELIVER_DONE;
    queue: COMMIT_OK only after that -> the worker's 250.  The spool file
    is a sealed memfd: never a file in spool/queue, never marked (fchmod)
    or fsynced, nor is spool/queue."""
    t = talon_factory()
    trace = trace_start(t, tmp_path)
    qid = send(t, "order", rcpts=("alice@test.example", "bob@test.example"))
    t.wait_log(r"queue event=queued queue=%s .*commit=local" % qid)
    wait_until(lambda: listdir(spool(t)) == [], 10, "the spool file to go")
    calls, Q, D, W = parse_run(t, trace)
    qs = QueueSide(calls, Q, qid)
    last_done = None
    for user, idx in (("alice", 0), ("bob", 1)):
        fs_new, done = deliver_side(calls, D, qid, user, idx, qs)
        last_done = done if last_done is None or done.end > last_done.end else last_done
    commit_ok = qs.commit_ok(calls, Q, after=qs.deliver_req)
    before(last_done, commit_ok, "COMMIT_OK only once every copy is durable")
    ok250 = the_250(calls, W, qid)
    before(commit_ok, ok250, "the worker answers on COMMIT_OK")
    before(qs.seal, qs.deliver_req, "deliver reads only what can no longer change")
    # one durable file per copy: nothing of the message on disk in the
    # spool, nothing marked or fsynced there
    assert qs.disk_file(calls, Q, qid) == []
    spent = [c for c in calls if c.pid == Q and
             ((c.name == "fchmod" and c.args.startswith("%d," % qs.sfd)) or
              is_fsync(c, Q, qs.sfd) or is_fsync(c, Q, qs.qfd)) and
             qs.sopen.start < c.start < ok250.end]
    assert not spent, spent
    unl = [c for c in calls if c.pid == Q and c.name == "unlinkat" and '"%s"' % qid in c.args]
    assert not unl, unl
    assert sorted(subjects(t, "alice") + subjects(t, "bob")) == ["order", "order"]


def test_order_spool_commit_after_a_failed_copy(talon_factory, tmp_path):
    """bob's mailbox cannot be written: alice's copy is made as in a local
    commit, then the queue falls back to the spool.  queue: DELIVER_DONE
    (alice done, bob failed) -> fchmod(file, 0640) -> fsync(file) and
    fsync(spool/queue) -> COMMIT_OK -> the worker's 250.  The spool file
    stays committed with alice recorded as done; after a restart with the
    mailbox repaired bob gets his copy and alice no second one."""
    t = talon_factory()
    trace = trace_start(t, tmp_path)
    repair = break_mailbox(t, "bob")
    qid = send(t, "order", rcpts=("alice@test.example", "bob@test.example"))
    t.wait_log(r"queue event=local-commit queue=%s action=spool-commit" % qid)
    t.wait_log(r"queue event=queued queue=%s .*commit=spool" % qid)
    t.wait_log(r"queue event=deferred queue=%s to=<bob@test.example> user=bob attempts=1" % qid)
    calls, Q, D, W = parse_run(t, trace)
    qs = QueueSide(calls, Q, qid)
    fs_new, done = deliver_side(calls, D, qid, "alice", 0, qs)
    assert "Permission denied" in done.args, done
    # the message in memory becomes spool/queue/QID only now
    disk = qs.disk_file(calls, Q, qid)
    assert len(disk) == 1, disk
    before(done, disk[0], "the spool file is made after deliver's answer")
    dfd = disk[0].ret
    mark = find(calls, lambda c: c.name == "fchmod" and c.pid == Q and
                c.args == "%d, 0640" % dfd, "commit mark fchmod(%d, 0640)" % dfd,
                after=disk[0])
    assert mark.ret == 0, mark
    before(done, mark, "the spool commit follows deliver's answer")
    commit_ok = qs.commit_ok(calls, Q, after=mark)
    fs_file = find(calls, lambda c: is_fsync(c, Q, dfd), "fsync of the spool file",
                   last_before=commit_ok)
    fs_dir = find(calls, lambda c: is_fsync(c, Q, qs.qfd), "fsync of spool/queue",
                  last_before=commit_ok)
    ok250 = the_250(calls, W, qid)
    for fs in (fs_file, fs_dir):
        assert fs.ret == 0 and fs.pid == Q, fs
        before(mark, fs, "the commit mark is made durable by the fsync")
        before(fs, ok250, "fsync before the 250")
    before(commit_ok, ok250, "the worker answers on COMMIT_OK")
    # no spool fsync while the local commit was tried
    early = [c for c in calls if c.pid == Q and c.name in ("fsync", "fdatasync")
             and c.start < done.end and c.start > qs.sopen.start]
    assert not early, early
    # what stays: the committed file, alice's copy recorded as done
    assert listdir(spool(t)) == [qid]
    assert stat.S_IMODE(os.stat(os.path.join(spool(t), qid)).st_mode) == 0o640
    assert listdir(spool(t, "results")) == [qid]
    assert subjects(t, "alice") == ["order"]
    repair()
    t.start()
    t.wait_log(r"queue event=recover messages=1")
    t.wait_log(r"queue event=delivered queue=%s .*user=bob" % qid)
    wait_until(lambda: listdir(spool(t)) == [], 10, "the spool file to go")
    assert subjects(t, "alice") == ["order"] and subjects(t, "bob") == ["order"]
    check_clean(t, users=("alice", "bob"))


# --- 2a. an fsync failure in the commit refuses the message -----------------------------

@pytest.mark.parametrize("target", ["file", "dir"])
def test_commit_fsync_eio_refuses(talon_factory, tracers, target):
    """The spool commit (here: bob's copy fails, so there is nothing local
    to commit) cannot fsync: 451, and the file is dropped.  The message is
    big enough to have moved from memory to spool/queue/QID during DATA."""
    t = talon_factory().start()
    break_mailbox(t, "bob")
    Q = role_pid(t, "queue")
    c, qid = open_spilled(t, "bob@test.example")
    path = os.path.join(spool(t), qid) if target == "file" else spool(t)
    tr = tracers("queue", Q, "-P", path, "-e", "trace=fsync", "-e", "inject=fsync:error=EIO")
    c.send(b".\r\n")
    code, lines = c.reply()
    assert (code, lines[0][:9]) == (451, "451 4.3.0"), lines
    tr.detach()
    # the fault happened, where we meant it, and the queue said why
    injected = [l for l in tr.text().splitlines() if "(INJECTED)" in l]
    assert injected and all("fsync(" in l and "<%s>" % path in l and "EIO" in l
                            for l in injected), tr.text()
    t.wait_log(r"queue event=local-commit queue=%s action=spool-commit" % qid)
    t.wait_log(r'queue event=commit queue=%s error="fsync: Input/output error"' % qid)
    assert not re.search(r"event=(queued|accepted) queue=%s" % qid, t.log())
    # the file it could not make durable is gone, with its results
    wait_until(lambda: qid not in listdir(spool(t)), 5, "spool/queue/%s to be dropped" % qid)
    assert listdir(spool(t, "results")) == []
    # the session goes on: the next message is accepted and delivered
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: second\r\n\r\nx\r\n.\r\n")
    code, lines = c.reply()
    assert code == 250, lines
    c.cmd("QUIT")
    t.wait_messages("alice", 1)
    assert subjects(t, "alice") == ["second"]
    check_clean(t)


# --- 2b/2c. deliver killed mid-delivery ----------------------------------------------

def deliver_killed_at(t, tracers, syscall):
    """Warm up (the mailbox exists), then kill deliver with SIGKILL on its
    first `syscall` after the attach, which is the victim's.  Returns
    (qid of the victim, killed pid, trace text)."""
    t.crash_expected = True
    send(t, "warm")
    t.wait_log(r"queue event=delivered .*user=alice")
    D = role_pid(t, "deliver")
    tr = tracers("deliver", D, "-e", "trace=openat,fsync,linkat,unlinkat",
                 "-e", "inject=%s:signal=SIGKILL:when=1" % syscall)
    qid = send(t, "victim")     # 250: the queue has it
    tr.wait_exit(10)
    text = tr.text()
    assert re.search(r"^%d\s+\+\+\+ killed by SIGKILL \+\+\+$" % D, text, re.M), text
    t.wait_log(r"parent event=crash role=deliver pid=%d signal=9" % D)
    return qid, D, text


def check_once(t, qid):
    t.wait_log(r"event=spawn role=deliver", count=2)
    t.wait_log(r"queue event=delivered queue=%s " % qid)
    wait_until(lambda: listdir(spool(t)) == [], 10, "the spool file to go")
    got = subjects(t, "alice")
    assert sorted(got) == ["victim", "warm"], got
    assert len([n for n in listdir(t.maildir("alice")) if "Q%sI0." % qid in n]) == 1
    [m] = [m for m in t.messages("alice") if b"Subject: victim" in m]
    assert m.endswith(b"\nbody of victim\n") and b"Delivered-To: alice@test.example" in m


def test_deliver_killed_at_tmp_fsync(talon_factory, tracers):
    t = talon_factory().start()
    qid, D, text = deliver_killed_at(t, tracers, "fsync")
    # killed on the fsync of the victim's tmp/ file, before any link
    calls, _ = parse_trace(text)
    [k] = [c for c in calls if c.ret is None]
    assert k.name == "fsync" and re.search(r"/Maildir/tmp/\d+\.Q%sI0\." % qid, k.args), k
    assert not [c for c in calls if c.name == "linkat" and qid in c.args]
    check_once(t, qid)
    check_clean(t)


def test_deliver_killed_at_link(talon_factory, tracers):
    t = talon_factory().start()
    qid, D, text = deliver_killed_at(t, tracers, "linkat")
    calls, _ = parse_trace(text)
    [k] = [c for c in calls if c.ret is None]
    assert k.name == "linkat" and re.search(r"/Maildir/tmp>, \"\d+\.Q%sI0\." % qid, k.args), k
    fs = [c for c in calls if c.name == "fsync" and "/Maildir/tmp/" in c.args and qid in c.args]
    assert fs and fs[0].ret == 0 and fs[0].end < k.start, calls
    check_once(t, qid)
    check_clean(t)


def test_deliver_killed_between_link_and_tmp_unlink(talon_factory, tracers):
    """The copy is in new/ and still in tmp/ when deliver dies; the retry
    finds it in new/ (no duplicate), and tmp/ must not keep the twin."""
    t = talon_factory().start()
    qid, D, text = deliver_killed_at(t, tracers, "unlinkat")
    calls, _ = parse_trace(text)
    [k] = [c for c in calls if c.ret is None]
    assert k.name == "unlinkat" and re.search(r"/Maildir/tmp>, \"\d+\.Q%sI0\." % qid, k.args), k
    assert [c for c in calls if c.name == "linkat" and qid in c.args and c.ret == 0]
    check_once(t, qid)
    assert listdir(spool(t, "corrupt")) == []
    left = listdir(t.maildir("alice", "tmp"))
    # a retry that finds the copy in new/ removes the tmp/ leftover
    assert not left, "tmp/ keeps %s after a retry found the copy in new/" % left
    check_clean(t)


def test_deliver_fsync_eio_defers_and_keeps_the_spool_copy(talon_factory, tracers):
    """tmp/ file fsync fails: the copy is discarded (nothing half-written in
    tmp/ or new/), the recipient deferred, the message stays committed in
    the spool and is delivered once at the next start."""
    t = talon_factory().start()
    send(t, "warm")
    t.wait_log(r"queue event=delivered .*user=alice")
    tr = tracers("deliver", role_pid(t, "deliver"), "-e", "trace=fsync",
                 "-e", "inject=fsync:error=EIO:when=1")
    qid = send(t, "victim")
    t.wait_log(r'queue event=deferred queue=%s to=<alice@test.example> user=alice attempts=1 '
               r'reason="fsync: Input/output error" code=4\.3\.0' % qid)
    tr.detach()
    injected = [l for l in tr.text().splitlines() if "(INJECTED)" in l]
    assert len(injected) == 1 and "/Maildir/tmp/" in injected[0] and qid in injected[0], tr.text()
    assert listdir(t.maildir("alice", "tmp")) == []
    assert subjects(t, "alice") == ["warm"]
    assert listdir(spool(t)) == [qid]
    assert stat.S_IMODE(os.stat(os.path.join(spool(t), qid)).st_mode) == 0o640
    assert t.stop() == 0
    t.start()
    t.wait_log(r"queue event=recover messages=1")
    t.wait_log(r"queue event=delivered queue=%s " % qid)
    assert sorted(subjects(t, "alice")) == ["victim", "warm"]
    check_clean(t)


def test_recovered_copy_is_durable_before_done(talon_factory, tmp_path):
    """deliver dies on the fsync of new/ (after link and tmp unlink): the
    link may not be on disk.  The next deliver finds new/NAME and answers
    done; it must fsync new/ before that answer, or the queue unlinks the
    only durable copy."""
    # dry run: which fsync of its thread is deliver's new/ fsync, and no
    # other thread of the daemon makes that many
    dry = talon_factory()
    trace0 = str(tmp_path / "dry.strace")
    dry.start(env=NOLEAK, wrapper=["strace", "-f", "-qq", "-e", "signal=none", "-o", trace0,
                                   "-e", "trace=openat,fsync,linkat,clone,clone3,fork,vfork"])
    send(dry, "dry")
    dry.wait_messages("alice", 1)
    wait_until(lambda: listdir(spool(dry)) == [], 10, "the spool file to go")
    dry.stop()
    D0 = role_pid(dry, "deliver")
    with open(trace0) as f:
        calls, _ = parse_trace(f.read())
    ndir = [c for c in calls if is_open(c, D0, "new", flag="O_DIRECTORY")][-1]
    link = find(calls, lambda c: c.name == "linkat" and c.pid == D0, "linkat")
    fs_new = find(calls, lambda c: is_fsync(c, D0, ndir.ret), "new/ fsync", after=link)
    counts = {}
    for c in calls:
        if c.name == "fsync":
            counts.setdefault(c.tid, []).append(c)
    n = counts[fs_new.tid].index(fs_new) + 1
    assert all(len(v) < n for tid, v in counts.items() if tid != fs_new.tid), counts

    t = talon_factory()
    t.crash_expected = True
    trace = str(tmp_path / "strace.out")
    t.start(env=NOLEAK, wrapper=["strace", "-f", "-qq", "-e", "signal=none", "-s", "512",
                                 "-o", trace, "-e", "trace=" + TRACED,
                                 "-e", "inject=fsync:signal=SIGKILL:when=%d" % n])
    qid = send(t, "victim")
    D1 = role_pid(t, "deliver")
    t.wait_log(r"parent event=crash role=deliver pid=%d signal=9" % D1)
    t.wait_log(r"queue event=delivered queue=%s " % qid)
    wait_until(lambda: listdir(spool(t)) == [], 10, "the spool file to go")
    t.stop()
    Q, D2 = role_pid(t, "queue"), role_pid(t, "deliver", 1)
    with open(trace) as f:
        calls, _ = parse_trace(f.read())
    nd1 = [c for c in calls if is_open(c, D1, "new", flag="O_DIRECTORY")][-1]
    [k] = [c for c in calls if c.pid == D1 and c.ret is None and c.name == "fsync"]
    assert k.args == str(nd1.ret), ("the injected SIGKILL hit another fsync", k, nd1)
    assert [c for c in calls if c.pid == D1 and c.name == "linkat" and c.ret == 0 and qid in c.args]
    assert sorted(subjects(t, "alice")) == ["victim"]
    check_clean(t)
    done = find(calls, lambda c: c.pid == D2 and c.name == "sendmsg" and
                re.search(r"alice/Maildir/new/\d+\.Q%sI0\." % qid, c.args), "DELIVER_DONE of the retry")
    unl = find(calls, lambda c: c.pid == Q and c.name == "unlinkat" and '"%s"' % qid in c.args,
               "spool unlink")
    before(done, unl, "the spool copy goes only after deliver's answer")
    nd2 = [c for c in calls if is_open(c, D2, "new", flag="O_DIRECTORY") and c.end < done.start]
    synced = [c for c in calls if c.pid == D2 and c.end < done.start and c.ret == 0 and
              (c.name == "syncfs" or (nd2 and is_fsync(c, D2, nd2[-1].ret)))]
    # a copy found while recovering is made durable (new/ fsynced)
    # before deliver answers done
    assert synced, "the retry answered done for a copy found in new/ without fsyncing new/ (%r)" % done


# --- 2d. a full disk while the worker writes the spool file ----------------------------

def test_spool_write_enospc_gives_452(talon_factory, tracers):
    """The worker cannot write the message (here into its spool file in
    memory): 452, and nothing is kept."""
    t = talon_factory().start()
    W = role_pid(t, "smtp")
    c = open_data(t)
    path = MEMFD
    tr = tracers("smtp", W, "-P", path, "-e", "trace=write", "-e", "inject=write:error=ENOSPC")
    c.send(b"Subject: full\r\n\r\n" + b"y" * 5000 + b"\r\n.\r\n")
    code, lines = c.reply()
    assert (code, lines[0][:9]) == (452, "452 4.3.1"), lines
    tr.detach()
    injected = [l for l in tr.text().splitlines() if "(INJECTED)" in l]
    assert injected and all(re.match(r"^\d+\s+write\(", l) and "<%s>" % path in l and "ENOSPC" in l
                            for l in injected), tr.text()
    pat = r'event=spool-write queue=(\S+) error="No space left on device"'
    t.wait_log(pat)
    qid = re.search(pat, t.log()).group(1)
    t.wait_log(r'event=reject queue=%s .*result="452 4\.3\.1"' % qid)
    # the file nobody got a 250 for is dropped at once, not at the next start
    wait_until(lambda: listdir(spool(t)) == [], 5, "spool/queue to be empty")
    # the session still works
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: fits\r\n\r\nx\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    t.wait_messages("alice", 1)
    assert subjects(t, "alice") == ["fits"]
    assert not re.search(r"event=queued queue=%s" % qid, t.log())
    check_clean(t)


# --- 2e. the parent killed while mail flows --------------------------------------------

def stream(t, prefix, accepted, lock, stop, rcpts):
    """Messages one after another; a name counts as accepted only on 250."""
    s, i = None, 0
    while not stop.is_set():
        name = "%s_%d" % (prefix, i)
        i += 1
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", t.port, timeout=5)
                s.ehlo("stream.example")
            s.sendmail("s@example.org", rcpts,
                       ("Subject: %s\r\n\r\nbody of %s\r\n" % (name, name)).encode())
            with lock:
                accepted.add(name)
        except smtplib.SMTPResponseException:
            try:
                s.rset()
            except Exception:
                s = None
        except (OSError, smtplib.SMTPException):
            s = None
            time.sleep(0.05)
    if s is not None:
        try:
            s.close()
        except Exception:
            pass


@pytest.mark.parametrize("path", ["local", "spool"])
def test_parent_sigkill_loses_nothing(talon_factory, tracers, path):
    """SIGKILL to the parent while mail flows: the children go (parent-death
    signal, closed channels); at the next start with the same directories
    every message that got a 250 is delivered exactly once, the files
    nobody got a 250 for are removed, nothing is set aside as corrupt.
    local: deliver is slowed down (each fsync delayed) so that local
    commits are under way when the parent dies; their spool files are
    uncommitted (0600).  spool: every message also goes to bob, whose
    mailbox is broken, so each one is spool-committed (0640) with alice's
    copy recorded as done; bob's copies come after the restart.  One
    session is held in DATA with a message big enough to be on disk, so
    that an uncommitted file is there (local commits keep theirs in
    memory: nothing of them is on disk to see)."""
    t = talon_factory(workers=2).start()
    t.crash_expected = True        # the parent's exit status is -9
    kids = [p for r in ("smtp", "queue", "deliver", "policy") for p in t.child_pids(r)]
    assert len(kids) == 5
    rcpts = ["alice@test.example"]
    users = ("alice",)
    if path == "local":
        tracers("deliver", role_pid(t, "deliver"), "-e", "trace=fsync",
                "-e", "inject=fsync:delay_enter=300ms")
    else:
        repair = break_mailbox(t, "bob")
        rcpts.append("bob@test.example")
        users = ("alice", "bob")
    held, held_qid = open_spilled(t)
    q = spool(t)

    def files(mode):
        out = []
        for n in listdir(q):
            try:
                if stat.S_IMODE(os.stat(os.path.join(q, n)).st_mode) == mode:
                    out.append(n)
            except FileNotFoundError:
                pass
        return out
    accepted, lock, stop = set(), threading.Lock(), threading.Event()
    threads = [threading.Thread(target=stream, args=(t, "p%d" % k, accepted, lock, stop, rcpts))
               for k in range(3)]
    for th in threads:
        th.start()
    try:
        # local: deliver's delayed fsyncs keep commits in flight
        wait_until(lambda: len(accepted) >= 40 and
                   (len(files(0o640)) >= 3 if path == "spool" else True), 30,
                   "40 messages accepted and others under way")
        os.kill(t.main_pid(), signal.SIGKILL)
        assert t.proc.wait(10) == -signal.SIGKILL
    finally:
        stop.set()
        for th in threads:
            th.join(20)
    assert not any(th.is_alive() for th in threads)
    assert held.closed(), "the session held in DATA outlived the daemon"

    def alive():
        out = []
        for p in kids:
            try:
                with open("/proc/%d/stat" % p) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        out.append(p)
            except FileNotFoundError:
                pass
        return out
    wait_until(lambda: not alive(), 10, "the children to exit")
    # what the crash left: committed files (0640), delivered at the next
    # start; uncommitted ones (0600, nobody got a 250), removed
    modes = {n: stat.S_IMODE(os.stat(os.path.join(q, n)).st_mode) for n in listdir(q)}
    assert set(modes.values()) <= {0o600, 0o640}, modes
    assert modes.get(held_qid) == 0o600, modes
    n640 = sum(1 for m in modes.values() if m == 0o640)
    if path == "spool":
        assert n640 >= 3, modes
        repair()
    else:
        assert n640 == 0, modes
    t.start()
    for n, m in modes.items():
        if m == 0o600:
            t.wait_log(r"queue event=recover file=%s action=removed-uncommitted" % n)
    if n640:
        t.wait_log(r"queue event=recover messages=%d" % n640)
    for u in users:
        wait_until(lambda: accepted <= set(subjects(t, u)), 30,
                   "every accepted message delivered to " + u)
    wait_until(lambda: listdir(q) == [], 10, "spool/queue to empty")
    for u in users:
        got = subjects(t, u)
        dups = sorted({x for x in got if got.count(x) > 1})
        assert not dups, "delivered twice to %s: %s" % (u, dups[:10])
    assert "moved-to-corrupt" not in t.log()
    assert listdir(spool(t, "corrupt")) == []
    assert listdir(spool(t, "results")) == []
    # the restarted daemon works
    send(t, "after")
    wait_until(lambda: "after" in subjects(t, "alice"), 10, "delivery after the restart")
    # copies the killed deliver left in tmp/ (a local commit cut short, or
    # a link whose tmp/ unlink was lost) are gone once deliver opened the
    # mailbox again
    for u in users:
        assert listdir(t.maildir(u, "tmp")) == [], (u, listdir(t.maildir(u, "tmp")))
