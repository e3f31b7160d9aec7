"""SMTP protocol conformance against the real daemon (docs/smtp.md): every
row of the reply table, the strict bare-CR/LF policy and SMTP smuggling,
dot-unstuffing and byte-at-a-time framing, PIPELINING, BDAT/CHUNKING,
STARTTLS command injection (CVE-2011-0411) and non-blocking sessions.

Every check names the exact reply code and RFC 3463 enhanced code; where a
message must or must not be stored, the Maildir (and the spool) is checked.

Speed: tests that need no special limits share one daemon per module
(`srv`).  Each of them delivers only to mailboxes of its own (box()), and
on that daemon alice and bob must never receive anything: the smuggling
tests aim at them, and every test's teardown checks that it added nothing
to their mailboxes.
Tests that need their own limits start a daemon of their own (`fresh`).
"""
import glob
import os
import re
import socket
import ssl
import threading
import time

import pytest

from conftest import RawClient, Talon, client_tls_context

EHLO = "EHLO client.example"
SENDER = "MAIL FROM:<s@example.org>"
# sessions a failed test leaves open must not hold up the daemon's stop
FAST = {"shutdown-grace": 1}

SHARED_USERS = ("alice", "bob", "carol") + tuple("box%d" % i for i in range(300))
_boxes = iter(SHARED_USERS[3:])


def box():
    """a mailbox on the shared daemon that no other test uses"""
    return next(_boxes)


def sanitizer_clean(text):
    assert "ERROR: AddressSanitizer" not in text, text[-6000:]
    assert "runtime error:" not in text, text[-6000:]
    assert "ERROR: LeakSanitizer" not in text, text[-6000:]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    t = Talon(tmp_path_factory.mktemp("shared"), users=SHARED_USERS, limits=FAST)
    t.start()
    yield t
    t.stop()
    sanitizer_clean(t.log())


@pytest.fixture
def srv(shared):
    """the shared daemon; checks its invariants after each test"""
    mark = len(shared.log())
    before = victims(shared)
    yield shared
    sanitizer_clean(shared.log()[mark:])
    assert victims(shared) == before, "alice or bob got mail on the shared daemon"


def victims(t):
    """what alice and bob hold: on the shared daemon, this never changes"""
    return [len(t.messages("alice")), len(t.messages("bob"))]


@pytest.fixture
def fresh(talon_factory):
    """start a daemon of our own with the given limits"""
    def make(workers=1, **limits):
        lim = dict(FAST)
        lim.update({k.replace("_", "-"): v for k, v in limits.items()})
        return talon_factory(limits=lim, workers=workers).start()
    return make


# --- helpers ----------------------------------------------------------------

def enh(lines):
    """enhanced status code of the first line of a reply ('' if none)"""
    w = lines[0][4:].split(" ", 1)[0]
    return w if re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", w) else ""


def check(reply, code, ecode):
    c, lines = reply
    assert (c, enh(lines)) == (code, ecode), "expected %d %s, got %r" % (code, ecode, lines)
    return lines


def cmd(c, text, code, ecode):
    return check(c.cmd(text), code, ecode)


def expect(c, code, ecode):
    return check(c.reply(), code, ecode)


def session(t, ehlo=True, port=None, source=None, timeout=10):
    c = t.raw(port, timeout=timeout, source=source)
    c.expect(220)
    if ehlo:
        cmd(c, EHLO, 250, "")
    return c


def tls_over(c):
    """TLS handshake on a plain RawClient's socket (after the 220 to
    STARTTLS); returns a RawClient over TLS"""
    assert c.buf == b"", "bytes after the STARTTLS 220: %r" % c.buf
    return RawClient(client_tls_context().wrap_socket(c.sock, server_hostname=None))


def tls_session(t, ehlo=True):
    """implicit-TLS session as a RawClient"""
    s = socket.create_connection(("127.0.0.1", t.port_tls), timeout=10)
    c = RawClient(client_tls_context().wrap_socket(s, server_hostname=None))
    c.expect(220)
    if ehlo:
        cmd(c, EHLO, 250, "")
    return c


def start_tls(c):
    cmd(c, "STARTTLS", 220, "2.0.0")
    return tls_over(c)


def no_reply_within(c, secs=0.25):
    """True when nothing (no data, no close) arrives within secs"""
    if c.buf:
        return False
    old = c.sock.gettimeout()
    c.sock.settimeout(secs)
    try:
        d = c.sock.recv(65536)
    except (socket.timeout, ssl.SSLWantReadError):
        return True
    finally:
        c.sock.settimeout(old)
    c.buf += d
    return False


def ehlo_ext(lines):
    return [l[4:] for l in lines[1:]]


def split_trace(msg):
    """(trace header block, rest) of a delivered message"""
    lines = msg.split(b"\n")
    i = 0
    while i < len(lines) and (lines[i].startswith((b"Return-Path:", b"Delivered-To:",
                                                                 b"Authentication-Results:",
                                                                 b"Received:"))
                              or lines[i].startswith(b"\t")):
        i += 1
    return b"\n".join(lines[:i]) + b"\n", b"\n".join(lines[i:])


def accepted(t, mark=0):
    """messages the server accepted since log offset mark (logged before the 250)"""
    return len(re.findall(r"event=accepted queue=", t.log()[mark:]))


def refused_qids(t, mark=0):
    """queue ids of transactions refused since log offset mark"""
    return [q for q in re.findall(r"event=reject queue=(\S+) ", t.log()[mark:]) if q != "none"]


def assert_not_kept(t, qids, timeout=5):
    """nothing of these refused messages is left in the spool or a Maildir"""
    assert qids, "the refusal was not logged with its queue id:\n" + t.log()[-3000:]
    deadline = time.time() + timeout
    while True:
        left = []
        for q in qids:
            left += [p for p in (os.path.join(t.dir, "spool", "tmp", q),
                                 os.path.join(t.dir, "spool", "queue", q)) if os.path.exists(p)]
            left += glob.glob(os.path.join(t.dir, "store", "*", "Maildir", "*", "*%s*" % q))
        if not left or time.time() > deadline:
            break
        time.sleep(0.05)
    assert not left, "refused message kept: %r" % left


def spool_clean(t, timeout=5):
    """(own daemon only) no message file left anywhere in the spool"""
    deadline = time.time() + timeout
    while True:
        left = []
        for sub in ("tmp", "queue"):
            d = os.path.join(t.dir, "spool", sub)
            if os.path.isdir(d):
                left += [os.path.join(sub, n) for n in os.listdir(d)]
        if not left or time.time() > deadline:
            break
        time.sleep(0.05)
    assert not left, "spool not clean: %r" % left


def envelope(c, *users):
    cmd(c, SENDER, 250, "2.1.0")
    for u in users:
        cmd(c, "RCPT TO:<%s@test.example>" % u, 250, "2.1.5")


def send_message(c, user, body):
    """a complete DATA transaction that must be accepted; returns the queue id"""
    envelope(c, user)
    cmd(c, "DATA", 354, "")
    c.send(body + b".\r\n")
    lines = expect(c, 250, "2.0.0")
    return re.search(r"queued as (\S+)", lines[0]).group(1)


def control_delivery(t, c, user):
    """deliver a clean message in session c and wait until it is stored:
    the session still works, and the queue has caught up"""
    send_message(c, user, b"Subject: control\r\n\r\nok\r\n")
    msgs = t.wait_messages(user, 1)
    assert len(msgs) == 1 and msgs[0].endswith(b"\nSubject: control\n\nok\n"), msgs


def body_lines(n, width=100):
    return (b"x" * (width - 2) + b"\r\n") * n


# --- 1. the reply table --------------------------------------------------------

def test_line_too_long_then_session_works(srv):
    c = session(srv)
    c.send(b"NOOP " + b"x" * 3000 + b"\r\n")
    lines = expect(c, 500, "5.5.2")
    assert "line too long" in lines[0], lines
    # exactly one reply for the whole long line
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    # and the transaction state machine is intact
    u = box()
    send_message(c, u, b"Subject: after long\r\n\r\nx\r\n")
    srv.wait_messages(u, 1)


def test_line_too_long_followed_by_pipelined_command(srv):
    c = session(srv)
    c.send(b"X" * 3000 + b"\r\nNOOP\r\n")
    expect(c, 500, "5.5.2")
    expect(c, 250, "2.0.0")
    assert no_reply_within(c)


def test_line_too_long_in_several_pieces(srv):
    c = session(srv)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.send(b"RCPT TO:<" + b"a" * 1200)
    time.sleep(0.05)
    c.send(b"b" * 1200)
    time.sleep(0.05)
    c.send(b"c" * 1200 + b"\r")   # the CR of the CRLF in this piece ...
    time.sleep(0.05)
    c.send(b"\nNOOP\r\n")          # ... its LF in the next one
    expect(c, 500, "5.5.2")
    expect(c, 250, "2.0.0")
    assert no_reply_within(c)
    cmd(c, "QUIT", 221, "2.0.0")
    assert c.closed()


def test_line_under_limit_is_not_too_long(srv):
    c = session(srv)
    # 2000 octets plus CRLF is under the 2048 limit: a normal reply
    cmd(c, "NOOP " + "y" * 1995, 250, "2.0.0")


@pytest.mark.parametrize("line", [
    b"NOOP\nNOOP\r\n",
    b"RSET\nMAIL FROM:<evil@x>\r\n",
    b"NOOP\rNOOP\r\n",
    b"NOOP\r\rNOOP\r\n",
    b"NOOP\x00\r\n",
    b"VRFY al\x00ice\r\n",
], ids=["bare-LF", "bare-LF-smuggle", "bare-CR", "double-CR", "NUL", "NUL-in-arg"])
def test_bad_bytes_in_command_line(srv, line):
    c = session(srv)
    c.send(line)
    expect(c, 500, "5.5.2")
    # one reply only: nothing after the bare LF/CR ran as a command
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    # and no MAIL was started by a smuggled command
    cmd(c, "RCPT TO:<alice@test.example>", 503, "5.5.1")


def test_unknown_command(srv):
    c = session(srv)
    cmd(c, "FOO bar", 500, "5.5.1")
    cmd(c, "MAILX FROM:<a@b>", 500, "5.5.1")
    cmd(c, "NOOP", 250, "2.0.0")


def test_bad_sequence(srv):
    c = session(srv, ehlo=False)
    cmd(c, SENDER, 503, "5.5.1")                             # MAIL before EHLO
    cmd(c, EHLO, 250, "")
    cmd(c, "RCPT TO:<alice@test.example>", 503, "5.5.1")     # RCPT before MAIL
    cmd(c, "DATA", 503, "5.5.1")                             # DATA before MAIL
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, SENDER, 503, "5.5.1")                             # nested MAIL
    cmd(c, "DATA", 503, "5.5.1")                             # DATA before RCPT
    u = box()
    cmd(c, "RCPT TO:<%s@test.example>" % u, 250, "2.1.5")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: seq\r\n\r\nx\r\n.\r\n")
    expect(c, 250, "2.0.0")
    srv.wait_messages(u, 1)


def test_data_and_bdat_with_no_valid_recipients(srv):
    mark = len(srv.log())
    c = session(srv)
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, "RCPT TO:<nobody@test.example>", 550, "5.1.1")
    cmd(c, "RCPT TO:<someone@elsewhere.example>", 550, "5.7.1")
    lines = cmd(c, "DATA", 554, "5.5.1")
    assert "no valid recipients" in lines[0], lines
    # BDAT: the chunk is read and discarded, then the same refusal
    c.send(b"BDAT 20 LAST\r\nNOOP\r\nNOOP\r\nNOOP\r\nXX")
    lines = expect(c, 554, "5.5.1")
    assert "no valid recipients" in lines[0], lines
    assert no_reply_within(c)
    cmd(c, "RSET", 250, "2.0.0")
    control_delivery(srv, c, box())
    assert accepted(srv, mark) == 1


@pytest.mark.parametrize("text,code,ecode", [
    ("MAIL FROM:foo", 501, "5.1.7"),
    ("MAIL FROM:<foo", 501, "5.1.7"),
    ("MAIL FROM:<a@b> BOGUS=1", 555, "5.5.4"),
    ("MAIL FROM:<a@b> SIZE=abc", 501, "5.5.4"),
    ("MAIL FROM:<a@b> SIZE=1 SIZE=2", 501, "5.5.4"),
    ("MAIL TO:<a@b>", 501, "5.5.4"),
    ("MAIL", 501, "5.5.4"),
], ids=["no-brackets", "unclosed", "unknown-param", "bad-size", "dup-param",
        "wrong-keyword", "no-arg"])
def test_mail_syntax_errors(srv, text, code, ecode):
    c = session(srv)
    cmd(c, text, code, ecode)
    # the failed MAIL started no transaction
    cmd(c, "RCPT TO:<alice@test.example>", 503, "5.5.1")
    cmd(c, SENDER, 250, "2.1.0")


def test_rcpt_syntax_errors(srv):
    c = session(srv)
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, "RCPT TO:alice", 501, "5.1.3")
    cmd(c, "RCPT TO:<>", 501, "5.1.3")
    cmd(c, "RCPT TO:<alice@test.example> BOGUS=1", 555, "5.5.4")
    cmd(c, "RCPT FROM:<alice@test.example>", 501, "5.5.4")
    cmd(c, "DATA", 554, "5.5.1")
    cmd(c, "RCPT TO:<%s@test.example>" % box(), 250, "2.1.5")


def test_non_ascii_address_needs_smtputf8(srv):
    c = session(srv)
    cmd(c, "MAIL FROM:<s\u00fc@example.org>", 553, "5.6.7")
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, "RCPT TO:<\u00e4lice@test.example>", 553, "5.6.7")
    cmd(c, "RSET", 250, "2.0.0")
    # with SMTPUTF8 the same sender is fine
    cmd(c, "MAIL FROM:<s\u00fc@example.org> SMTPUTF8", 250, "2.1.0")


def test_too_many_recipients(talon_factory):
    t = talon_factory(users=("alice", "bob", "carol", "dave"),
                      limits=dict(FAST, recipients=3)).start()
    c = session(t)
    envelope(c, "alice", "bob", "carol")
    cmd(c, "RCPT TO:<dave@test.example>", 452, "4.5.3")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: three\r\n\r\nx\r\n.\r\n")
    expect(c, 250, "2.0.0")
    for u in ("alice", "bob", "carol"):
        assert b"Subject: three" in t.wait_messages(u, 1)[0]
    # the refused recipient gets it in the next transaction, not this one
    send_message(c, "dave", b"Subject: second\r\n\r\ny\r\n")
    msgs = t.wait_messages("dave", 1)
    assert len(msgs) == 1 and b"Subject: second" in msgs[0]
    for u in ("alice", "bob", "carol"):
        assert len(t.messages(u)) == 1


def test_declared_size_too_big(fresh):
    t = fresh(message_size=10000)
    c = session(t, ehlo=False)
    lines = cmd(c, EHLO, 250, "")
    assert "SIZE 10000" in ehlo_ext(lines), lines
    cmd(c, "MAIL FROM:<s@example.org> SIZE=20000", 552, "5.3.4")
    cmd(c, "NOOP", 250, "2.0.0")
    # no transaction was started
    cmd(c, "RCPT TO:<alice@test.example>", 503, "5.5.1")
    cmd(c, "MAIL FROM:<s@example.org> SIZE=5000", 250, "2.1.0")
    cmd(c, "RCPT TO:<alice@test.example>", 250, "2.1.5")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: small\r\n\r\nx\r\n.\r\n")
    expect(c, 250, "2.0.0")
    t.wait_messages("alice", 1)


def test_actual_size_too_big(fresh):
    t = fresh(message_size=10000)
    c = session(t)
    envelope(c, "alice")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: big\r\n\r\n" + body_lines(200))     # ~20000 octets
    # the refusal comes only after the data is read to its end ...
    assert no_reply_within(c, 0.4)
    c.send(b"MAIL FROM:<evil@x>\r\n" + body_lines(10) + b".\r\n")
    expect(c, 552, "5.3.4")
    # ... and only once: the text after the limit was not run as commands
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    control_delivery(t, c, "carol")
    assert accepted(t) == 1
    assert t.messages("alice") == []
    spool_clean(t)


def test_too_many_errors(fresh):
    t = fresh(errors=3)
    c = session(t)
    cmd(c, "FOO", 500, "5.5.1")
    cmd(c, "RCPT TO:<alice@test.example>", 503, "5.5.1")
    c.send(b"BAR\r\n")
    replies = []
    while True:
        try:
            replies.append(c.reply())
        except (EOFError, ConnectionResetError):
            break
    assert replies, "no reply to the third error"
    check(replies[-1], 421, "4.7.0")
    # at most the third error's own 500 comes before the 421
    assert [r[0] for r in replies[:-1]] in ([], [500]), replies
    assert c.closed()


def test_command_timeout(fresh):
    t = fresh(command_timeout=2, data_timeout=30)
    c = session(t)
    start = time.time()
    expect(c, 421, "4.4.2")
    assert time.time() - start >= 1.0
    assert c.closed()


def test_data_timeout(fresh):
    t = fresh(command_timeout=30, data_timeout=2)
    c = session(t, timeout=8)
    envelope(c, "alice")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: stalled\r\n\r\npartial line")
    expect(c, 421, "4.4.2")
    assert c.closed()
    assert accepted(t) == 0
    spool_clean(t)
    assert t.messages("alice") == []


def greet(t, source=None, want_ok=True, retry=5.0):
    """connect and read the greeting; a connection that should be admitted
    is retried while earlier connections' slots are still being released"""
    deadline = time.time() + retry
    while True:
        c = t.raw(source=source)
        r = c.reply()
        if not want_ok or r[0] == 220 or time.time() > deadline:
            return c, r
        c.close()
        time.sleep(0.1)


def test_too_many_connections_per_ip(fresh):
    t = fresh(connections_per_ip=2)
    c1, r1 = greet(t)
    c2, r2 = greet(t)
    assert r1[0] == 220 and r2[0] == 220, (r1, r2)
    c3, r3 = greet(t, want_ok=False)
    check(r3, 421, "4.7.0")
    assert c3.closed()
    # another address is not affected by this address's limit
    c4, r4 = greet(t, source="127.0.0.2")
    assert r4[0] == 220, r4
    # the slot comes back when a connection ends
    cmd(c1, "QUIT", 221, "2.0.0")
    assert c1.closed()
    c5, r5 = greet(t)
    assert r5[0] == 220, r5
    cmd(c2, "NOOP", 250, "2.0.0")


def test_too_many_connections_overall(fresh):
    t = fresh(connections=2)
    c1, r1 = greet(t, source="127.0.0.11")
    c2, r2 = greet(t, source="127.0.0.12")
    assert r1[0] == 220 and r2[0] == 220, (r1, r2)
    c3, r3 = greet(t, source="127.0.0.13", want_ok=False)
    check(r3, 421, "4.7.0")
    assert c3.closed()
    cmd(c2, "QUIT", 221, "2.0.0")
    assert c2.closed()
    c4, r4 = greet(t, source="127.0.0.13")
    assert r4[0] == 220, r4
    cmd(c1, "NOOP", 250, "2.0.0")


def test_vrfy_never_confirms(srv):
    c = session(srv)
    known = cmd(c, "VRFY alice", 252, "2.5.2")
    unknown = cmd(c, "VRFY nobody", 252, "2.5.2")
    full = cmd(c, "VRFY <alice@test.example>", 252, "2.5.2")
    assert known == unknown == full
    cmd(c, "VRFY", 501, "5.5.4")


def test_expn_help_noop_quit(srv):
    c = session(srv)
    cmd(c, "EXPN team", 502, "5.5.1")
    code, lines = c.cmd("HELP")
    assert code == 214 and enh(lines).startswith("2."), lines
    cmd(c, "NOOP", 250, "2.0.0")
    cmd(c, "NOOP with an argument", 250, "2.0.0")
    cmd(c, "QUIT", 221, "2.0.0")
    assert c.closed()


def test_rset_clears_transaction(srv):
    c = session(srv)
    first, second = box(), box()
    envelope(c, first)
    cmd(c, "RSET", 250, "2.0.0")
    cmd(c, "RCPT TO:<%s@test.example>" % second, 503, "5.5.1")
    cmd(c, "DATA", 503, "5.5.1")
    cmd(c, "RSET extra", 501, "5.5.4")
    # RSET keeps the EHLO: a new transaction works and has only its own rcpt
    send_message(c, second, b"Subject: after rset\r\n\r\nx\r\n")
    srv.wait_messages(second, 1)
    assert srv.messages(first) == []


@pytest.mark.parametrize("arg", ["EHLO", "EHLO bad_name!", "EHLO [1.2.3]", "EHLO a..b"])
def test_ehlo_invalid_argument(srv, arg):
    c = session(srv, ehlo=False)
    cmd(c, arg, 501, "5.5.4")
    # no HELO was recorded
    cmd(c, SENDER, 503, "5.5.1")
    cmd(c, EHLO, 250, "")
    cmd(c, SENDER, 250, "2.1.0")


def test_helo_and_esmtp_params_refused(srv):
    c = session(srv, ehlo=False)
    code, lines = c.cmd("HELO client.example")
    assert code == 250 and len(lines) == 1, lines
    cmd(c, "MAIL FROM:<s@example.org> SIZE=100", 555, "5.5.4")
    cmd(c, "MAIL FROM:<s@example.org> BODY=8BITMIME", 555, "5.5.4")
    u = box()
    send_message(c, u, b"Subject: helo\r\n\r\nx\r\n")
    msg = srv.wait_messages(u, 1)[0]
    assert b"Received: from client.example (unknown [127.0.0.1])\n" in msg
    assert b" with SMTP id " in msg


def test_implicit_tls_no_starttls(srv):
    c = tls_session(srv, ehlo=False)
    lines = cmd(c, EHLO, 250, "")
    assert "STARTTLS" not in ehlo_ext(lines), lines
    cmd(c, "STARTTLS", 503, "5.5.1")
    u = box()
    send_message(c, u, b"Subject: imp\r\n\r\nx\r\n")
    assert b" with ESMTPS id " in srv.wait_messages(u, 1)[0]


def test_starttls_twice_and_inside_transaction(srv):
    c = session(srv)
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, "STARTTLS", 503, "5.5.1")      # inside a mail transaction
    cmd(c, "RSET", 250, "2.0.0")
    tc = start_tls(c)
    lines = cmd(tc, EHLO, 250, "")
    assert "STARTTLS" not in ehlo_ext(lines), lines
    cmd(tc, "STARTTLS", 503, "5.5.1")
    cmd(tc, "NOOP", 250, "2.0.0")


# --- 2. SMTP smuggling ------------------------------------------------------

SMUGGLE = [
    ("LF.LF", b"\n.\n"),
    ("LF.CRLF", b"\n.\r\n"),
    ("CR.CR", b"\r.\r"),
    ("CRLF.LF", b"\r\n.\n"),
    ("CR.CRLF", b"\r.\r\n"),
    ("CRLF.CRCRLF", b"\r\n.\r\r\n"),
    ("CRLF.CR", b"\r\n.\r"),
    ("LF.CR", b"\n.\r"),
]


@pytest.mark.parametrize("variant", [v for _, v in SMUGGLE], ids=[n for n, _ in SMUGGLE])
def test_smuggling_refused(srv, variant):
    mark = len(srv.log())
    before = victims(srv)
    c = session(srv)
    envelope(c, "alice")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: s\r\n\r\nbefore" + variant +
           b"MAIL FROM:<evil@x>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\nsmuggled\r\n"
           b"\r\n.\r\n")
    lines = expect(c, 550, "5.5.2")
    assert "bare CR or LF" in lines[0], lines
    # exactly one reply for the whole data: no 250/354 for smuggled commands
    assert no_reply_within(c, 0.4)
    # back in command state, with no transaction open
    cmd(c, "NOOP", 250, "2.0.0")
    cmd(c, "RCPT TO:<bob@test.example>", 503, "5.5.1")
    # a clean message right after the refused one is delivered
    control_delivery(srv, c, box())
    cmd(c, "QUIT", 221, "2.0.0")
    assert accepted(srv, mark) == 1
    assert victims(srv) == before
    assert_not_kept(srv, refused_qids(srv, mark))


@pytest.mark.parametrize("data", [
    b"Subject: a\nX-Smuggle: b\r\n\r\nbody\r\n.\r\n",
    b"Subject: a\rX-Smuggle: b\r\n\r\nbody\r\n.\r\n",
    b"Subject: a\r\n\r\nbody ends with bare CR\r\r\n.\r\n",
    b"Subject: a\r\n\r\nbody\nwith bare LF\r\n.\r\n",
], ids=["LF-in-header", "CR-in-header", "CR-before-CRLF", "LF-in-body"])
def test_bare_cr_lf_in_content_refused(srv, data):
    mark = len(srv.log())
    before = victims(srv)
    c = session(srv)
    envelope(c, "alice")
    cmd(c, "DATA", 354, "")
    c.send(data)
    expect(c, 550, "5.5.2")
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    control_delivery(srv, c, box())
    assert accepted(srv, mark) == 1
    assert victims(srv) == before
    assert_not_kept(srv, refused_qids(srv, mark))


# --- 3. dot-unstuffing, empty message, byte-at-a-time ---------------------------

def test_dot_unstuffing(srv):
    c = session(srv)
    u = box()
    send_message(c, u, b"Subject: dots\r\n\r\n..two\r\n...three\r\n.x\r\nmid.dle\r\n..\r\n")
    msg = srv.wait_messages(u, 1)[0]
    assert split_trace(msg)[1] == b"Subject: dots\n\n.two\n..three\nx\nmid.dle\n.\n"


def test_empty_message(srv):
    c = session(srv)
    u = box()
    envelope(c, u)
    cmd(c, "DATA", 354, "")
    c.send(b".\r\n")
    expect(c, 250, "2.0.0")
    msg = srv.wait_messages(u, 1)[0]
    trace, rest = split_trace(msg)
    assert rest == b"" and msg == trace, msg
    assert msg.startswith(b"Return-Path: <s@example.org>\nDelivered-To: %s@test.example\n"
                          b"Authentication-Results: " % u.encode()), msg
    # no From field: DMARC cannot be evaluated, which is a permerror
    assert b"dmarc=permerror" in msg and b"\nReceived: " in msg


def test_byte_at_a_time(srv):
    c = srv.raw()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def drip(data, pause=0.002):
        for i in range(len(data)):
            c.sock.sendall(data[i:i + 1])
            time.sleep(pause)

    u = box()
    c.expect(220)
    for line, code, ecode in ((b"EHLO client.example\r\n", 250, ""),
                              (b"MAIL FROM:<s@example.org>\r\n", 250, "2.1.0"),
                              (b"RCPT TO:<%s@test.example>\r\n" % u.encode(), 250, "2.1.5"),
                              (b"DATA\r\n", 354, "")):
        drip(line)
        expect(c, code, ecode)
    drip(b"Subject: drip\r\n\r\nline one\r\n..dotted\r\n\r\nlast\r\n")
    # the terminator with every byte in its own write, CR and LF apart
    drip(b".\r\n", pause=0.05)
    expect(c, 250, "2.0.0")
    msg = srv.wait_messages(u, 1)[0]
    assert split_trace(msg)[1] == b"Subject: drip\n\nline one\n.dotted\n\nlast\n"


# --- 4. PIPELINING ------------------------------------------------------------

def test_pipelining_groups(srv):
    a, b, d = box(), box(), box()
    c = session(srv)
    c.send(b"MAIL FROM:<s@example.org>\r\nRCPT TO:<%s@test.example>\r\n"
           b"RCPT TO:<nobody@test.example>\r\nRCPT TO:<%s@test.example>\r\nDATA\r\n"
           % (a.encode(), b.encode()))
    expect(c, 250, "2.1.0")
    expect(c, 250, "2.1.5")
    expect(c, 550, "5.1.1")
    expect(c, 250, "2.1.5")
    expect(c, 354, "")
    c.send(b"Subject: p1\r\n\r\none\r\n.\r\n")
    expect(c, 250, "2.0.0")
    c.send(b"RSET\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<%s@test.example>\r\nDATA\r\n"
           % d.encode())
    expect(c, 250, "2.0.0")
    expect(c, 250, "2.1.0")
    expect(c, 250, "2.1.5")
    expect(c, 354, "")
    c.send(b"Subject: p2\r\n\r\ntwo\r\n.\r\n")
    expect(c, 250, "2.0.0")
    assert no_reply_within(c)
    assert split_trace(srv.wait_messages(a, 1)[0])[1] == b"Subject: p1\n\none\n"
    assert split_trace(srv.wait_messages(b, 1)[0])[1] == b"Subject: p1\n\none\n"
    assert split_trace(srv.wait_messages(d, 1)[0])[1] == b"Subject: p2\n\ntwo\n"
    assert len(srv.messages(a)) == 1 and len(srv.messages(b)) == 1


def test_pipelined_transactions_after_data_end(srv):
    a, b, d = box(), box(), box()
    c = session(srv)
    envelope(c, a)
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: A\r\n\r\nA\r\n.\r\n"
           b"MAIL FROM:<s@example.org>\r\nRCPT TO:<%s@test.example>\r\nDATA\r\n"
           b"Subject: B\r\n\r\nB\r\n.\r\n"
           b"MAIL FROM:<s@example.org>\r\nRCPT TO:<%s@test.example>\r\nDATA\r\n"
           b"Subject: C\r\n\r\nC\r\n.\r\n"
           b"QUIT\r\n" % (b.encode(), d.encode()))
    expect(c, 250, "2.0.0")
    for _ in range(2):
        expect(c, 250, "2.1.0")
        expect(c, 250, "2.1.5")
        expect(c, 354, "")
        expect(c, 250, "2.0.0")
    expect(c, 221, "2.0.0")
    assert c.closed()
    assert c.buf == b"", c.buf
    for user, subj in ((a, b"A"), (b, b"B"), (d, b"C")):
        msgs = srv.wait_messages(user, 1)
        assert len(msgs) == 1
        assert split_trace(msgs[0])[1] == b"Subject: " + subj + b"\n\n" + subj + b"\n"


# --- 5. BDAT / CHUNKING -------------------------------------------------------

BDAT_BODY = b"Subject: chunks\r\n\r\nline one\r\n.dot stays\r\n..two dots\r\nlast\r\n"
BDAT_STORED = b"Subject: chunks\n\nline one\n.dot stays\n..two dots\nlast\n"


def bdat(c, data, last=False):
    c.send(b"BDAT %d%s\r\n" % (len(data), b" LAST" if last else b"") + data)


def test_bdat_three_chunks(srv):
    u = box()
    c = session(srv)
    envelope(c, u)
    parts = [BDAT_BODY[:10], BDAT_BODY[10:30], BDAT_BODY[30:]]
    for p in parts[:2]:
        bdat(c, p)
        expect(c, 250, "2.0.0")
    bdat(c, parts[2], last=True)
    lines = expect(c, 250, "2.0.0")
    assert "queued as" in lines[0], lines
    msg = srv.wait_messages(u, 1)[0]
    assert split_trace(msg)[1] == BDAT_STORED
    cmd(c, "NOOP", 250, "2.0.0")


def test_bdat_chunk_boundary_splits_crlf(srv):
    u = box()
    c = session(srv)
    envelope(c, u)
    i = BDAT_BODY.index(b"\r\n", 20) + 1        # after a CR, before its LF
    j = BDAT_BODY.index(b"\r\n", i + 5) + 1
    parts = [BDAT_BODY[:i], BDAT_BODY[i:j], BDAT_BODY[j:]]
    assert parts[0].endswith(b"\r") and parts[1].startswith(b"\n") and parts[1].endswith(b"\r")
    # all three chunks pipelined in one write
    c.send(b"BDAT %d\r\n" % len(parts[0]) + parts[0] +
           b"BDAT %d\r\n" % len(parts[1]) + parts[1] +
           b"BDAT %d LAST\r\n" % len(parts[2]) + parts[2])
    expect(c, 250, "2.0.0")
    expect(c, 250, "2.0.0")
    expect(c, 250, "2.0.0")
    msg = srv.wait_messages(u, 1)[0]
    assert split_trace(msg)[1] == BDAT_STORED


def test_bdat_cr_at_chunk_end_not_followed_by_lf(srv):
    mark = len(srv.log())
    c = session(srv)
    envelope(c, "alice")
    bdat(c, b"Subject: x\r\n\r")
    expect(c, 250, "2.0.0")
    bdat(c, b"body\r\n", last=True)         # the CR held from the last chunk was bare
    expect(c, 550, "5.5.2")
    cmd(c, "NOOP", 250, "2.0.0")
    control_delivery(srv, c, box())
    assert accepted(srv, mark) == 1
    assert_not_kept(srv, refused_qids(srv, mark))


def test_bdat_zero_last(srv):
    a, b = box(), box()
    c = session(srv)
    envelope(c, a)
    cmd(c, "BDAT 0 LAST", 250, "2.0.0")
    msg = srv.wait_messages(a, 1)[0]
    trace, rest = split_trace(msg)
    assert rest == b"" and msg == trace, msg
    # a chunk, then an empty LAST chunk
    envelope(c, b)
    bdat(c, b"Subject: z\r\n\r\nz\r\n")
    expect(c, 250, "2.0.0")
    cmd(c, "BDAT 0 LAST", 250, "2.0.0")
    msg = srv.wait_messages(b, 1)[0]
    assert split_trace(msg)[1] == b"Subject: z\n\nz\n"


def test_bdat_without_mail(srv):
    mark = len(srv.log())
    c = session(srv)
    chunk = b"QUIT\r\nQUIT\r\nQUIT\r\n"
    c.send(b"BDAT %d\r\n" % len(chunk) + chunk[:7])
    # no reply before the chunk has been read to its end
    assert no_reply_within(c)
    c.send(chunk[7:])
    expect(c, 503, "5.5.1")
    # the chunk bytes were not commands: still open, still in step
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    bdat(c, b"RSET\r\n", last=True)
    expect(c, 503, "5.5.1")
    cmd(c, "NOOP", 250, "2.0.0")
    control_delivery(srv, c, box())
    assert accepted(srv, mark) == 1


def test_bdat_too_big(fresh):
    t = fresh(message_size=10000)
    c = session(t)
    envelope(c, "alice")
    bdat(c, b"Subject: big\r\n\r\n" + body_lines(200), last=True)
    expect(c, 552, "5.3.4")
    cmd(c, "NOOP", 250, "2.0.0")
    # over the limit in the middle of a chunked message
    envelope(c, "alice")
    part = b"Subject: big\r\n\r\n" + body_lines(60)
    bdat(c, part)
    expect(c, 250, "2.0.0")
    bdat(c, part)
    expect(c, 552, "5.3.4")
    cmd(c, "RSET", 250, "2.0.0")
    control_delivery(t, c, "carol")
    assert accepted(t) == 1
    assert t.messages("alice") == []
    spool_clean(t)


def test_data_after_bdat(srv):
    mark = len(srv.log())
    c = session(srv)
    envelope(c, "alice")
    bdat(c, b"Subject: x\r\n")
    expect(c, 250, "2.0.0")
    cmd(c, "DATA", 503, "5.5.1")
    cmd(c, "RSET", 250, "2.0.0")
    control_delivery(srv, c, box())
    assert accepted(srv, mark) == 1


def test_bdat_bare_lf_refused_at_last(srv):
    mark = len(srv.log())
    c = session(srv)
    envelope(c, "alice")
    bdat(c, b"Subject: x\nX-Smuggle: y\r\n")
    expect(c, 250, "2.0.0")
    bdat(c, b"\r\nbody\r\n", last=True)
    expect(c, 550, "5.5.2")
    cmd(c, "NOOP", 250, "2.0.0")
    # a single LAST chunk with a bare LF in the body
    envelope(c, "bob")
    bdat(c, b"Subject: y\r\n\r\na\nb\r\n", last=True)
    expect(c, 550, "5.5.2")
    control_delivery(srv, c, box())
    assert accepted(srv, mark) == 1
    qids = refused_qids(srv, mark)
    assert len(qids) == 2, qids
    assert_not_kept(srv, qids)


@pytest.mark.parametrize("line", ["BDAT", "BDAT x", "BDAT 10 LASTING", "BDAT -5",
                                  "BDAT 5 LAST more", "BDAT 123456789012345678901234"])
def test_bdat_bad_syntax_closes(srv, line):
    c = session(srv)
    envelope(c, "alice")
    c.send(line + "\r\nNOOP\r\n")
    expect(c, 501, "5.5.4")
    assert c.closed()
    assert c.buf == b"", c.buf


# --- 6. STARTTLS command injection ------------------------------------------

def test_starttls_injection_discarded(srv):
    c = session(srv)
    c.send(b"STARTTLS\r\nNOOP\r\n")
    expect(c, 220, "2.0.0")
    tc = tls_over(c)
    tc.send(b"EHLO client.example\r\n")
    code, lines = tc.reply()
    # the first reply over TLS is EHLO's, not the injected NOOP's
    assert code == 250 and lines[0].startswith("250-mail.test.example"), lines
    assert "STARTTLS" not in ehlo_ext(lines), lines
    assert no_reply_within(tc)
    cmd(tc, "NOOP", 250, "2.0.0")


def test_starttls_injected_transaction_discarded(srv):
    c = session(srv)
    c.send(b"STARTTLS\r\nEHLO evil.example\r\nMAIL FROM:<evil@x>\r\n")
    expect(c, 220, "2.0.0")
    tc = tls_over(c)
    # had the injected EHLO and MAIL run, this RCPT would be accepted
    cmd(tc, "RCPT TO:<alice@test.example>", 503, "5.5.1")
    assert no_reply_within(tc)


def test_starttls_requires_new_ehlo(srv):
    c = session(srv, ehlo=False)
    cmd(c, "HELO before.example", 250, "")
    tc = start_tls(c)
    cmd(tc, SENDER, 503, "5.5.1")
    cmd(tc, EHLO, 250, "")
    u = box()
    send_message(tc, u, b"Subject: tls\r\n\r\nx\r\n")
    msg = srv.wait_messages(u, 1)[0]
    assert b"Received: from client.example (unknown [127.0.0.1])\n" in msg
    assert b" with ESMTPS id " in msg


# --- 7. non-blocking sessions ---------------------------------------------

HALF_CLIENT_HELLO = b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03"   # 10 bytes of a record


def test_stalled_clients_do_not_block_others(fresh):
    t = fresh(workers=1)
    # 1: half a command line
    a = session(t)
    a.send(b"MAIL FROM:<s@exa")
    # 2: half a TLS ClientHello on the implicit-TLS port
    b = socket.create_connection(("127.0.0.1", t.port_tls), timeout=10)
    b.sendall(HALF_CLIENT_HELLO)
    # 3: STARTTLS, then half a ClientHello
    s3 = session(t)
    cmd(s3, "STARTTLS", 220, "2.0.0")
    s3.send(HALF_CLIENT_HELLO)
    # 4: DATA at one byte a second
    d = session(t)
    envelope(d, "bob")
    cmd(d, "DATA", 354, "")
    d.send(b"Subject: drip\r\n\r\n")
    stop = threading.Event()
    slow = b"slow body that never ends quickly"

    def drip():
        for i in range(len(slow)):
            d.sock.sendall(slow[i:i + 1])
            if stop.wait(1.0):
                return
    th = threading.Thread(target=drip)
    th.start()
    try:
        time.sleep(0.3)
        # meanwhile a second client completes a whole transaction
        start = time.time()
        f = session(t, timeout=10)
        send_message(f, "alice", b"Subject: fast\r\n\r\nquick\r\n")
        cmd(f, "QUIT", 221, "2.0.0")
        elapsed = time.time() - start
        msgs = t.wait_messages("alice", 1, timeout=10)
        assert b"Subject: fast" in msgs[0]
        assert elapsed < 10, elapsed
    finally:
        stop.set()
        th.join()
    # the stalled sessions are still alive and in step
    assert no_reply_within(a, 0.1)
    a.send(b"ample.org>\r\n")
    expect(a, 250, "2.1.0")
    d.send(b"\r\n.\r\n")
    expect(d, 250, "2.0.0")
    rest = split_trace(t.wait_messages("bob", 1)[0])[1]
    assert rest.startswith(b"Subject: drip\n\ns") and rest.endswith(b"\n"), rest
    assert slow.startswith(rest[len(b"Subject: drip\n\n"):-1]), rest
    b.close()
    s3.close()
