"""No client holds a slot for ever: caps on errors (recipient probing
included), do-nothing commands, the whole session and the TLS handshake;
a connection reset while its session waits costs no CPU; no TLS session
tickets."""
import os
import signal
import socket
import ssl
import struct
import time

from conftest import client_tls_context


def test_unknown_recipients_count_towards_the_error_limit(talon_factory):
    t = talon_factory(limits={"errors": 3}).start()
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO probe.example")
    assert c.cmd("MAIL FROM:<p@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<nobody1@test.example>")[0] == 550
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250     # a valid one in between
    assert c.cmd("RCPT TO:<nobody2@test.example>")[0] == 550
    code, lines = c.cmd("RCPT TO:<nobody3@test.example>")
    assert code == 550, lines
    code, lines = c.reply()
    assert code == 421 and lines[0].startswith("421 4.7.0"), lines
    assert c.closed()


def test_junk_commands_are_capped(talon_factory):
    t = talon_factory(limits={"junk-commands": 5}).start()
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO junk.example")
    for cmd in ("NOOP", "RSET", "VRFY alice", "HELP", "NOOP"):
        assert c.cmd(cmd)[0] in (250, 252, 214)
    code, lines = c.cmd("NOOP")
    assert code == 421 and lines[0].startswith("421 4.7.0"), lines
    assert c.closed()
    assert "too many NOOP/RSET/VRFY/HELP" in t.log()


def test_session_time_is_capped(talon_factory):
    t = talon_factory(limits={"session-time": 2, "junk-commands": 1000}).start()
    c = t.raw()
    c.expect(220)
    c.cmd("EHLO slow.example")
    start = time.time()
    # a client that is never idle long enough for the command timeout
    while time.time() - start < 10:
        c.send("NOOP\r\n")
        code, lines = c.reply()
        if code == 421:
            break
        time.sleep(0.3)
    assert code == 421 and "session time limit" in lines[0], lines
    assert 1.5 < time.time() - start < 5
    assert c.closed()


def test_tls_handshake_deadline(talon_factory):
    t = talon_factory(limits={"tls-handshake-timeout": 1}).start()
    s = socket.create_connection(("127.0.0.1", t.port_tls), timeout=10)
    s.sendall(b"\x16\x03\x01\x00")      # half a record header, then nothing
    start = time.time()
    try:
        data = s.recv(100)
    except ConnectionResetError:
        data = b""
    assert data == b"" and time.time() - start < 5, data
    s.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_reset_while_waiting_costs_no_cpu(talon_factory):
    """A session waiting for the policy process whose client resets the
    connection: the hangup must not be reported to the worker again and
    again (it spun at 100% CPU)."""
    t = talon_factory().start()
    worker = t.child_pids("smtp")[0]
    policy = t.child_pids("policy")[0]
    os.kill(policy, signal.SIGSTOP)     # admission never answers
    try:
        socks = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", t.port), timeout=5)
            socks.append(s)
        t.wait_log(r"event=connect", count=4)
        for s in socks:
            # RST instead of FIN
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        time.sleep(0.3)
        before = cpu_seconds(worker)
        time.sleep(2)
        used = cpu_seconds(worker) - before
        assert used < 0.3, "worker used %.2f s of CPU in 2 s" % used
    finally:
        os.kill(policy, signal.SIGCONT)
    with t.smtp() as s:
        s.sendmail("s@example.org", ["alice@test.example"], b"Subject: x\r\n\r\nx\r\n")
    t.wait_messages("alice", 1)


def test_no_tls_session_tickets(talon_factory):
    t = talon_factory().start()
    ctx = client_tls_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with socket.create_connection(("127.0.0.1", t.port_tls), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="mail.test.example") as s:
            assert s.recv(100).startswith(b"220")   # reads any NewSessionTicket too
            s.sendall(b"QUIT\r\n")
            s.recv(100)
            assert s.session is not None
            assert not s.session.has_ticket
    ctx = client_tls_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", t.port_tls), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="mail.test.example") as s:
            assert s.recv(100).startswith(b"220")
            assert not s.session.has_ticket
