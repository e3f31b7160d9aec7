"""A hostile peer: the tests take over one end of a channel between our
own processes (pidfd_getfd(2) copies a descriptor out of a running
process, as an attacker who owns that process could use it) and send what
a compromised process might.  Nothing it sends may stop the receiver or
the parent; the offender is killed and restarted, and mail keeps flowing.
"""
import ctypes
import os
import re
import signal
import socket
import struct
import subprocess
import time

import pytest

SYS_pidfd_getfd = 438       # x86_64 and aarch64 share the generic number

libc = ctypes.CDLL(None, use_errno=True)


def steal_fd(pid, fd):
    pfd = os.pidfd_open(pid)
    try:
        n = libc.syscall(SYS_pidfd_getfd, pfd, fd, 0)
        if n < 0:
            e = ctypes.get_errno()
            raise OSError(e, "pidfd_getfd: " + os.strerror(e))
        return n
    finally:
        os.close(pfd)


def seqpacket_links():
    """(pid, fd, local inode, peer inode) of every unix seqpacket socket"""
    out = subprocess.run(["ss", "-xpnH"], capture_output=True, text=True, check=True).stdout
    links = []
    for line in out.splitlines():
        f = line.split()
        # Netid State Recv-Q Send-Q Local Port Peer Port Process
        if len(f) < 9 or f[0] != "u_seq":
            continue
        local, peer = f[5], f[7]
        for pid, fd in re.findall(r"pid=(\d+),fd=(\d+)", line):
            links.append((int(pid), int(fd), local, peer))
    return links


def channel(from_pid, to_pid):
    """A copy of from_pid's end of its channel to to_pid, as a socket."""
    links = seqpacket_links()
    owners = {}
    for pid, fd, local, _ in links:
        owners.setdefault(local, set()).add(pid)
    for pid, fd, local, peer in links:
        if pid == from_pid and to_pid in owners.get(peer, set()):
            return socket.socket(fileno=steal_fd(pid, fd))
    raise AssertionError("no channel from %d to %d in %r" % (from_pid, to_pid, links))


def header(type_, length, id_=0):
    return struct.pack(">IIQ", type_, length, id_)


PROTO_PEER, PROTO_REPORT, PROTO_OPEN, PROTO_ADMIT = 2, 6, 20, 60


def send_mail(t, user="alice", subject="after", deadline=20):
    """Send until the daemon takes it (451 while a role restarts)."""
    end = time.time() + deadline
    while True:
        try:
            with t.smtp() as s:
                s.sendmail("s@example.org", ["%s@test.example" % user],
                           ("Subject: %s\r\n\r\nx\r\n" % subject).encode())
            return
        except (OSError, Exception) as e:
            if time.time() > end:
                raise AssertionError("mail does not flow: %r\n%s" % (e, t.log()[-3000:]))
            time.sleep(0.2)


def one(pids):
    assert pids, "no such process"
    return pids[0]


@pytest.mark.parametrize("payload, why", [
    (b"\x01", "malformed datagram"),
    (header(PROTO_OPEN, 0), "a child may send the parent only REPORT"),
    (header(PROTO_REPORT, 3) + b"abc", "bad REPORT"),
    (header(PROTO_OPEN, 100), "length does not match"),
])
def test_worker_garbage_to_parent_kills_the_worker_only(talon_factory, payload, why):
    t = talon_factory().start()
    t.crash_expected = True   # the test kills processes
    parent = t.main_pid()
    worker = one(t.child_pids("smtp"))
    queue = one(t.child_pids("queue"))
    s = channel(worker, parent)
    s.send(payload)
    s.close()
    t.wait_log(r"parent event=kill role=smtp pid=%d reason=\"%s" % (worker, re.escape(why)))
    t.wait_log(r"event=spawn role=smtp worker=0", count=2)
    assert t.main_pid() == parent and t.proc.poll() is None
    assert t.child_pids("queue") == [queue]     # nobody else was touched
    send_mail(t)
    t.wait_messages("alice", 1)


def test_worker_garbage_to_queue_gets_the_worker_restarted(talon_factory):
    t = talon_factory().start()
    t.crash_expected = True   # the test kills processes
    worker = one(t.child_pids("smtp"))
    queue = one(t.child_pids("queue"))
    s = channel(worker, queue)
    s.send(b"\x00\x00\x00\x14")          # a torn header
    s.close()
    t.wait_log(r"queue event=peer-refused role=smtp worker=0 reason=\"malformed datagram")
    # the queue reported the worker; the parent killed it
    t.wait_log(r"parent event=kill role=smtp pid=%d reason=\"reported by queue" % worker)
    t.wait_log(r"event=spawn role=smtp worker=0", count=2)
    assert t.child_pids("queue") == [queue]     # the queue did not stop
    send_mail(t)
    t.wait_messages("alice", 1)


def test_worker_garbage_to_policy(talon_factory):
    t = talon_factory().start()
    t.crash_expected = True   # the test kills processes
    worker = one(t.child_pids("smtp"))
    policy = one(t.child_pids("policy"))
    s = channel(worker, policy)
    # an ADMIT with an address family that does not exist
    s.send(header(PROTO_ADMIT, 21, 99) + b"\x07" + b"\x00" * 20)
    s.close()
    t.wait_log(r"policy event=peer-refused role=smtp worker=0 reason=\"bad ADMIT")
    t.wait_log(r"parent event=kill role=smtp pid=%d reason=\"reported by policy" % worker)
    assert t.child_pids("policy") == [policy]
    send_mail(t)
    t.wait_messages("alice", 1)


def test_worker_reporting_the_queue_gets_itself_killed(talon_factory):
    """A worker is trusted least: its report never stops the queue."""
    t = talon_factory().start()
    t.crash_expected = True   # the test kills processes
    parent = t.main_pid()
    worker = one(t.child_pids("smtp"))
    queue = one(t.child_pids("queue"))
    s = channel(worker, parent)
    reason = b"lies"
    body = struct.pack(">II", 1, 1) + struct.pack(">I", len(reason)) + reason
    s.send(header(PROTO_REPORT, len(body)) + body)
    s.close()
    t.wait_log(r"parent event=kill role=smtp pid=%d reason=\"reported queue: lies" % worker)
    time.sleep(0.3)
    assert t.child_pids("queue") == [queue]
    send_mail(t)
    t.wait_messages("alice", 1)


def test_worker_flooding_the_queue_without_reading(talon_factory):
    """OPEN in a loop: a worker gets at most `limit connections` spool
    files (one per session); asking for more gets it reported and killed;
    the queue and the parent live, and the files it opened are gone."""
    t = talon_factory(limits={"connections": 5}).start()
    t.crash_expected = True   # the test kills processes
    parent = t.main_pid()
    worker = one(t.child_pids("smtp"))
    queue = one(t.child_pids("queue"))
    qdir = os.path.join(t.dir, "spool", "queue")
    s = channel(worker, queue)
    s.setblocking(False)
    os.kill(worker, signal.SIGSTOP)     # the real worker reads nothing either
    sent, most_files, deadline = 0, 0, time.time() + 60
    killed = r"parent event=kill role=smtp pid=%d" % worker
    try:
        while time.time() < deadline and not re.search(killed, t.log()):
            try:
                for _ in range(1000):
                    s.send(header(PROTO_OPEN, 0, sent + 1))
                    sent += 1
            except BlockingIOError:
                time.sleep(0.005)
            except OSError:
                break
            most_files = max(most_files, len(os.listdir(qdir)))
    finally:
        s.close()
    t.wait_log(killed, timeout=10)
    t.wait_log(r"reported by queue: more spool files open than the worker has sessions")
    assert most_files <= 5, most_files
    assert t.main_pid() == parent and t.proc.poll() is None
    assert t.child_pids("queue") == [queue]
    # every file opened for the dead worker was dropped again
    end = time.time() + 10
    while os.listdir(qdir) and time.time() < end:
        time.sleep(0.1)
    assert os.listdir(qdir) == []
    send_mail(t)
    t.wait_messages("alice", 1)


@pytest.mark.parametrize("name, type_, tail", [
    ("COMMIT", 23, struct.pack(">Q", 10)),      # qid, size
    ("SPILL", 27, b""),                         # qid
])
def test_worker_request_for_a_file_it_does_not_hold(talon_factory, name, type_, tail):
    t = talon_factory().start()
    t.crash_expected = True   # the test kills processes
    worker = one(t.child_pids("smtp"))
    queue = one(t.child_pids("queue"))
    s = channel(worker, queue)
    qid = b"0123456789ABC"
    body = struct.pack(">I", len(qid)) + qid + tail
    s.send(header(type_, len(body), 5) + body)
    s.close()
    t.wait_log(r"parent event=kill role=smtp pid=%d reason=\"reported by queue: %s of a "
               r"spool file the worker does not hold" % (worker, name))
    assert t.child_pids("queue") == [queue]
    send_mail(t)
    t.wait_messages("alice", 1)


def test_worker_that_stops_reading_is_killed(talon_factory):
    """A worker that asks and never reads the answers: the policy
    process's backlog for it is capped (8 MiB), so its memory cannot grow
    without end; the channel is dropped and the worker killed."""
    t = talon_factory(limits={"connections": 1}).start()
    t.crash_expected = True   # the test kills processes
    worker = one(t.child_pids("smtp"))
    policy = one(t.child_pids("policy"))
    s = channel(worker, policy)
    s.setblocking(False)
    # the worker stops reading: its first recvmsg (the first answer) is
    # held for two minutes by strace.  Not SIGSTOP: the parent kills a
    # worker stopped for 10 s, which on a loaded machine comes before the
    # policy's backlog is full, and the cap would go untested.
    tracer = subprocess.Popen(["strace", "-qq", "-o", "/dev/null", "-p", str(worker), "-e",
                               "trace=recvmsg", "-e", "inject=recvmsg:delay_enter=120s"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    time.sleep(1)
    assert tracer.poll() is None, tracer.stderr.read()
    killed = r"parent event=kill role=smtp pid=%d" % worker
    addr = b"\x04" + bytes([127, 0, 0, 9]) + b"\x00" * 12 + struct.pack(">I", 25)
    deadline, sent, looked = time.time() + 90, 0, 0
    try:
        while time.time() < deadline:
            # the log grows by a line per refusal: read it once a second
            if time.time() - looked > 1:
                if re.search(killed, t.log()):
                    break
                looked = time.time()
            try:
                for _ in range(1000):
                    sent += 1
                    s.send(header(PROTO_ADMIT, len(addr), sent) + addr)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break
    finally:
        s.close()
        tracer.kill()
        tracer.wait(10)
    t.wait_log(killed, timeout=10)
    t.wait_log(r"reported by policy: peer does not read")
    assert t.child_pids("policy") == [policy]
    send_mail(t)
    t.wait_messages("alice", 1)


def test_queue_garbage_to_deliver_restarts_the_queue(talon_factory):
    t = talon_factory().start()
    t.crash_expected = True   # the test kills processes
    queue = one(t.child_pids("queue"))
    deliver = one(t.child_pids("deliver"))
    s = channel(queue, deliver)
    s.send(header(40, 5) + b"\x02\x00\x00\x00\x01")    # DELIVER, recovering=2
    s.close()
    t.wait_log(r"deliver event=peer-refused role=queue reason=\"bad DELIVER")
    t.wait_log(r"parent event=kill role=queue pid=%d reason=\"reported by deliver" % queue)
    t.wait_log(r"event=spawn role=queue", count=2)
    assert t.child_pids("deliver") == [deliver]
    send_mail(t)
    t.wait_messages("alice", 1)


def test_bdat_while_the_queue_restarts_is_data(talon_factory):
    """A BDAT chunk sent while no queue is connected is read as data and
    refused; none of its bytes run as commands."""
    t = talon_factory().start()
    t.crash_expected = True   # the test kills processes
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO c.example")
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    queue = one(t.child_pids("queue"))
    os.kill(queue, 9)
    t.wait_log(r"smtp event=queue-gone")
    chunk = b"RSET\r\nNOOP\r\n"
    c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    code, lines = c.reply()
    assert code == 451 and lines[0].startswith("451 4.3.0"), lines
    # nothing else came back: the chunk was not run as RSET and NOOP
    assert c.cmd("NOOP")[1] == ["250 2.0.0 Ok"]
    c.cmd("QUIT")


def test_stopped_worker_is_killed_and_replaced(talon_factory):
    """Workers share one user, so a taken-over worker can SIGSTOP its
    siblings: the parent notices a stopped child and replaces it."""
    t = talon_factory(workers=2).start()
    t.crash_expected = True   # the test kills processes
    victim = one(t.child_pids("smtp"))
    os.kill(victim, signal.SIGSTOP)
    t.wait_log(r"parent event=stopped role=smtp pid=%d" % victim)
    t.wait_log(r"parent event=kill role=smtp pid=%d reason=\"stopped for 10 s" % victim,
               timeout=20)
    t.wait_log(r"event=spawn role=smtp worker=\d", count=3)
    send_mail(t)
    t.wait_messages("alice", 1)


def test_worker_cannot_change_a_message_after_commit(talon_factory):
    """The spool file a worker writes is in memory; at COMMIT the queue cuts
    it to size and seals it.  A worker that kept its descriptor can then
    neither write nor truncate it: what deliver copies is what the queue
    checked."""
    t = talon_factory().start()
    worker = one(t.child_pids("smtp"))
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    fds = [n for n in os.listdir("/proc/%d/fd" % worker)
           if os.readlink("/proc/%d/fd/%s" % (worker, n)).startswith("/memfd:talon-spool")]
    assert len(fds) == 1, fds
    fd = steal_fd(worker, int(fds[0]))
    try:
        c.send(b"Subject: sealed\r\n\r\nthe text\r\n.\r\n")
        code, lines = c.reply()
        assert code == 250, lines
        size = os.fstat(fd).st_size
        for attempt in (lambda: os.pwrite(fd, b"X" * 10, 40), lambda: os.ftruncate(fd, 10),
                        lambda: os.ftruncate(fd, size + 4096)):
            with pytest.raises(PermissionError):
                attempt()
        assert os.fstat(fd).st_size == size
    finally:
        os.close(fd)
    [m] = t.wait_messages("alice", 1)
    assert m.endswith(b"Subject: sealed\n\nthe text\n")

