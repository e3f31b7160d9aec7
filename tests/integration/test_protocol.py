"""SMTP protocol conformance against the real daemon: every row of the reply
table in docs/smtp.md, the strict bare-CR/LF policy and SMTP smuggling,
dot-unstuffing and byte-at-a-time framing, PIPELINING, BDAT/CHUNKING,
STARTTLS command injection (CVE-2011-0411) and non-blocking sessions.

Every check names the exact reply code and RFC 3463 enhanced code; where a
message may or may not be stored, the Maildir (and the spool) is checked
too.  Timeouts are configured small so the whole file stays fast.
"""
import os
import re
import socket
import ssl
import threading
import time

import pytest

from conftest import RawClient, client_tls_context

EHLO = "EHLO client.example"
SENDER = "MAIL FROM:<s@example.org>"


# --- helpers ----------------------------------------------------------------

def enh(lines):
    """enhanced status code of the first line of a reply ('' if none)"""
    parts = lines[0][4:].split(" ", 1)
    return parts[0] if parts and re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", parts[0]) else ""


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
        assert c.cmd(EHLO)[0] == 250
    return c


def tls_session(t, ehlo=True):
    """implicit-TLS session as a RawClient"""
    s = socket.create_connection(("127.0.0.1", t.port_tls), timeout=10)
    c = RawClient(client_tls_context().wrap_socket(s, server_hostname=None))
    c.expect(220)
    if ehlo:
        assert c.cmd(EHLO)[0] == 250
    return c


def start_tls(c):
    """STARTTLS on a plain RawClient; returns a RawClient over TLS"""
    cmd(c, "STARTTLS", 220, "2.0.0")
    return tls_over(c)


def tls_over(c):
    """TLS handshake on a plain RawClient's socket (after the 220 to
    STARTTLS); returns a RawClient over TLS"""
    assert c.buf == b"", "bytes after the STARTTLS 220: %r" % c.buf
    return RawClient(client_tls_context().wrap_socket(c.sock, server_hostname=None))


def no_reply_within(c, secs=0.4):
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
    while i < len(lines) and (lines[i].startswith((b"Return-Path:", b"Delivered-To:", b"Received:"))
                              or lines[i].startswith(b"\t")):
        i += 1
    return b"\n".join(lines[:i]) + b"\n", b"\n".join(lines[i:])


def accepted(t):
    """number of messages the server accepted (logged before its 250)"""
    return len(re.findall(r"event=accepted queue=", t.log()))


def spool_clean(t, timeout=5):
    """wait until no message file is left in the spool"""
    deadline = time.time() + timeout
    left = None
    while time.time() < deadline:
        left = []
        for sub in ("tmp", "queue"):
            d = os.path.join(t.dir, "spool", sub)
            if os.path.isdir(d):
                left += [os.path.join(sub, n) for n in os.listdir(d)]
        if not left:
            return
        time.sleep(0.05)
    raise AssertionError("spool not clean: %r\n%s" % (left, t.log()[-3000:]))


def envelope(c, *rcpts):
    cmd(c, SENDER, 250, "2.1.0")
    for r in rcpts:
        cmd(c, "RCPT TO:<%s>" % r, 250, "2.1.5")


def send_message(c, rcpt, body):
    """a complete DATA transaction that must be accepted"""
    envelope(c, rcpt)
    cmd(c, "DATA", 354, "")
    c.send(body + b".\r\n")
    lines = expect(c, 250, "2.0.0")
    return re.search(r"queued as (\S+)", lines[0]).group(1)


def control_delivery(t, c, user="carol"):
    """deliver a clean message in session c and wait until it is stored;
    proves the session still works and lets the queue catch up"""
    n = len(t.messages(user))
    send_message(c, "%s@test.example" % user, b"Subject: control\r\n\r\nok\r\n")
    t.wait_messages(user, n + 1)


def body_lines(n, width=100):
    line = b"x" * (width - 2) + b"\r\n"
    return line * n


# --- 1. the reply table --------------------------------------------------------

def test_line_too_long_then_session_works(talon):
    c = session(talon)
    c.send(b"NOOP " + b"x" * 3000 + b"\r\n")
    lines = expect(c, 500, "5.5.2")
    assert "too long" in lines[0]
    # exactly one reply for the whole long line: the next is our NOOP's
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    # and the transaction state machine is intact
    send_message(c, "alice@test.example", b"Subject: after long\r\n\r\nx\r\n")
    talon.wait_messages("alice", 1)


def test_line_too_long_followed_by_pipelined_command(talon):
    c = session(talon)
    c.send(b"X" * 3000 + b"\r\nNOOP\r\n")
    expect(c, 500, "5.5.2")
    expect(c, 250, "2.0.0")
    assert no_reply_within(c)


def test_line_too_long_in_several_pieces(talon):
    c = session(talon)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.send(b"RCPT TO:<" + b"a" * 1200)
    time.sleep(0.1)
    c.send(b"b" * 1200)
    time.sleep(0.1)
    c.send(b"c" * 1200 + b"\r")   # CR of the CRLF in this piece ...
    time.sleep(0.1)
    c.send(b"\nNOOP\r\n")          # ... its LF in the next one
    expect(c, 500, "5.5.2")
    expect(c, 250, "2.0.0")
    assert no_reply_within(c)
    cmd(c, "QUIT", 221, "2.0.0")
    assert c.closed()


def test_line_under_limit_is_not_too_long(talon):
    c = session(talon)
    # 2000 octets plus CRLF: under the 2048 limit, so a normal reply
    cmd(c, "NOOP " + "y" * 1995, 250, "2.0.0")


@pytest.mark.parametrize("line", [
    b"NOOP\nNOOP\r\n",
    b"RSET\nMAIL FROM:<evil@x>\r\n",
    b"NOOP\rNOOP\r\n",
    b"NOOP\r\rNOOP\r\n",
    b"NOOP\x00\r\n",
    b"VRFY al\x00ice\r\n",
], ids=["bare-LF", "bare-LF-smuggle", "bare-CR", "double-CR", "NUL", "NUL-in-arg"])
def test_bad_bytes_in_command_line(talon, line):
    c = session(talon)
    c.send(line)
    expect(c, 500, "5.5.2")
    # one reply only: nothing after the bare LF/CR ran as a command
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    # no MAIL was started by a smuggled command
    cmd(c, "RCPT TO:<alice@test.example>", 503, "5.5.1")


def test_unknown_command(talon):
    c = session(talon)
    cmd(c, "FOO bar", 500, "5.5.1")
    cmd(c, "MAILX FROM:<a@b>", 500, "5.5.1")
    cmd(c, "NOOP", 250, "2.0.0")


def test_bad_sequence(talon):
    c = session(talon, ehlo=False)
    cmd(c, SENDER, 503, "5.5.1")                       # MAIL before EHLO
    cmd(c, "EHLO client.example", 250, "")
    cmd(c, "RCPT TO:<alice@test.example>", 503, "5.5.1")  # RCPT before MAIL
    cmd(c, "DATA", 503, "5.5.1")                      # DATA before MAIL
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, SENDER, 503, "5.5.1")                      # nested MAIL
    cmd(c, "DATA", 503, "5.5.1")                      # DATA before RCPT
    cmd(c, "RCPT TO:<alice@test.example>", 250, "2.1.5")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: seq\r\n\r\nx\r\n.\r\n")
    expect(c, 250, "2.0.0")
    talon.wait_messages("alice", 1)


def test_data_and_bdat_with_no_valid_recipients(talon):
    c = session(talon)
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, "RCPT TO:<nobody@test.example>", 550, "5.1.1")
    cmd(c, "RCPT TO:<someone@elsewhere.example>", 550, "5.7.1")
    lines = cmd(c, "DATA", 554, "5.5.1")
    assert "no valid recipients" in lines[0]
    # BDAT: the chunk is read and discarded, then the same refusal
    c.send(b"BDAT 20 LAST\r\nNOOP\r\nNOOP\r\nNOOP\r\nXX")
    lines = expect(c, 554, "5.5.1")
    assert "no valid recipients" in lines[0]
    assert no_reply_within(c)
    cmd(c, "RSET", 250, "2.0.0")
    control_delivery(talon, c)
    assert accepted(talon) == 1
    assert talon.messages("alice") == [] and talon.messages("bob") == []


@pytest.mark.parametrize("text,code,ecode", [
    ("MAIL FROM:foo", 501, "5.1.7"),
    ("MAIL FROM:<foo", 501, "5.1.7"),
    ("MAIL FROM:<a@b> BOGUS=1", 555, "5.5.4"),
    ("MAIL FROM:<a@b> SIZE=abc", 501, "5.5.4"),
    ("MAIL FROM:<a@b> SIZE=1 SIZE=2", 501, "5.5.4"),
    ("MAIL TO:<a@b>", 501, "5.5.4"),
    ("MAIL", 501, "5.5.4"),
], ids=["mail-no-brackets", "mail-unclosed", "mail-unknown-param", "mail-bad-size",
        "mail-dup-param", "mail-wrong-keyword", "mail-no-arg"])
def test_mail_syntax_errors(talon, text, code, ecode):
    c = session(talon)
    cmd(c, text, code, ecode)
    # the failed MAIL started no transaction
    cmd(c, "RCPT TO:<alice@test.example>", 503, "5.5.1")
    cmd(c, SENDER, 250, "2.1.0")


def test_rcpt_syntax_errors(talon):
    c = session(talon)
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, "RCPT TO:alice", 501, "5.1.3")
    cmd(c, "RCPT TO:<>", 501, "5.1.3")
    cmd(c, "RCPT TO:<alice@test.example> BOGUS=1", 555, "5.5.4")
    cmd(c, "RCPT FROM:<alice@test.example>", 501, "5.5.4")
    cmd(c, "DATA", 554, "5.5.1")
    cmd(c, "RCPT TO:<alice@test.example>", 250, "2.1.5")


def test_non_ascii_address_needs_smtputf8(talon):
    c = session(talon)
    cmd(c, "MAIL FROM:<s\u00fc@example.org>", 553, "5.6.7")
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, "RCPT TO:<\u00e4lice@test.example>", 553, "5.6.7")
    cmd(c, "RSET", 250, "2.0.0")
    # with SMTPUTF8 the same sender is fine
    cmd(c, "MAIL FROM:<s\u00fc@example.org> SMTPUTF8", 250, "2.1.0")


def test_too_many_recipients(talon_factory):
    t = talon_factory(users=("alice", "bob", "carol", "dave"), limits={"recipients": 3}).start()
    c = session(t)
    envelope(c, "alice@test.example", "bob@test.example", "carol@test.example")
    cmd(c, "RCPT TO:<dave@test.example>", 452, "4.5.3")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: three\r\n\r\nx\r\n.\r\n")
    expect(c, 250, "2.0.0")
    for u in ("alice", "bob", "carol"):
        t.wait_messages(u, 1)
    # the 4th recipient gets it in another transaction, not this one
    send_message(c, "dave@test.example", b"Subject: second\r\n\r\ny\r\n")
    msgs = t.wait_messages("dave", 1)
    assert b"Subject: second" in msgs[0]
    for u in ("alice", "bob", "carol"):
        assert len(t.messages(u)) == 1


def test_declared_size_too_big(talon_factory):
    t = talon_factory(limits={"message-size": 10000}).start()
    c = session(t, ehlo=False)
    lines = cmd(c, EHLO, 250, "")
    assert "SIZE 10000" in ehlo_ext(lines)
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


def test_actual_size_too_big(talon_factory):
    t = talon_factory(limits={"message-size": 10000}).start()
    c = session(t)
    envelope(c, "alice@test.example")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: big\r\n\r\n" + body_lines(200))     # ~20000 octets
    # the refusal comes only after the data is read to its end
    assert no_reply_within(c, 0.5)
    c.send(b"MAIL FROM:<evil@x>\r\n" + body_lines(10) + b".\r\n")
    expect(c, 552, "5.3.4")
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    # session usable; nothing of the big message stored or left behind
    control_delivery(t, c)
    assert accepted(t) == 1
    assert t.messages("alice") == []
    spool_clean(t)


def test_too_many_errors(talon_factory):
    t = talon_factory(limits={"errors": 3}).start()
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


def test_command_timeout(talon_factory):
    t = talon_factory(limits={"command-timeout": 2, "data-timeout": 30}).start()
    c = session(t)
    start = time.time()
    expect(c, 421, "4.4.2")
    assert time.time() - start >= 1.0
    assert c.closed()


def test_data_timeout(talon_factory):
    t = talon_factory(limits={"command-timeout": 30, "data-timeout": 2}).start()
    c = session(t, timeout=8)
    envelope(c, "alice@test.example")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: stalled\r\n\r\npartial line")
    expect(c, 421, "4.4.2")
    assert c.closed()
    assert accepted(t) == 0
    spool_clean(t)
    assert t.messages("alice") == []


def greet(t, source=None, want_ok=True, retry=5.0):
    """connect and read the greeting; a connection expected to be admitted
    is retried while earlier connections' slots are still being released"""
    deadline = time.time() + retry
    while True:
        c = t.raw(source=source)
        r = c.reply()
        if not want_ok or r[0] == 220 or time.time() > deadline:
            return c, r
        c.close()
        time.sleep(0.1)


def test_too_many_connections_per_ip(talon_factory):
    t = talon_factory(limits={"connections-per-ip": 2}).start()
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


def test_too_many_connections_overall(talon_factory):
    t = talon_factory(limits={"connections": 2}).start()
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


def test_vrfy_never_confirms(talon):
    c = session(talon)
    known = cmd(c, "VRFY alice", 252, "2.5.2")
    unknown = cmd(c, "VRFY nobody", 252, "2.5.2")
    full = cmd(c, "VRFY <alice@test.example>", 252, "2.5.2")
    assert known == unknown == full
    cmd(c, "VRFY", 501, "5.5.4")


def test_expn_help_noop_quit(talon):
    c = session(talon)
    cmd(c, "EXPN team", 502, "5.5.1")
    code, lines = c.cmd("HELP")
    assert code == 214 and enh(lines).startswith("2."), lines
    cmd(c, "NOOP", 250, "2.0.0")
    cmd(c, "NOOP with an argument", 250, "2.0.0")
    cmd(c, "QUIT", 221, "2.0.0")
    assert c.closed()


def test_rset_clears_transaction(talon):
    c = session(talon)
    envelope(c, "alice@test.example")
    cmd(c, "RSET", 250, "2.0.0")
    cmd(c, "RCPT TO:<bob@test.example>", 503, "5.5.1")
    cmd(c, "DATA", 503, "5.5.1")
    cmd(c, "RSET extra", 501, "5.5.4")
    # RSET keeps the EHLO: a new transaction works and has only its own rcpt
    send_message(c, "bob@test.example", b"Subject: after rset\r\n\r\nx\r\n")
    talon.wait_messages("bob", 1)
    assert talon.messages("alice") == []


@pytest.mark.parametrize("arg", ["EHLO", "EHLO bad_name!", "EHLO [1.2.3]", "EHLO a..b"])
def test_ehlo_invalid_argument(talon, arg):
    c = session(talon, ehlo=False)
    cmd(c, arg, 501, "5.5.4")
    # no HELO was recorded
    cmd(c, SENDER, 503, "5.5.1")
    cmd(c, EHLO, 250, "")
    cmd(c, SENDER, 250, "2.1.0")


def test_helo_and_esmtp_params_refused(talon):
    c = session(talon, ehlo=False)
    code, lines = c.cmd("HELO client.example")
    assert code == 250 and len(lines) == 1, lines
    cmd(c, "MAIL FROM:<s@example.org> SIZE=100", 555, "5.5.4")
    cmd(c, "MAIL FROM:<s@example.org> BODY=8BITMIME", 555, "5.5.4")
    send_message(c, "alice@test.example", b"Subject: helo\r\n\r\nx\r\n")
    msg = talon.wait_messages("alice", 1)[0]
    assert b"Received: from client.example ([127.0.0.1])\n" in msg
    assert b" with SMTP id " in msg


def test_implicit_tls_no_starttls(talon):
    c = tls_session(talon, ehlo=False)
    lines = cmd(c, EHLO, 250, "")
    assert "STARTTLS" not in ehlo_ext(lines)
    cmd(c, "STARTTLS", 503, "5.5.1")
    send_message(c, "alice@test.example", b"Subject: imp\r\n\r\nx\r\n")
    assert b" with ESMTPS id " in talon.wait_messages("alice", 1)[0]


def test_starttls_twice_and_inside_transaction(talon):
    c = session(talon)
    cmd(c, SENDER, 250, "2.1.0")
    cmd(c, "STARTTLS", 503, "5.5.1")      # inside a mail transaction
    cmd(c, "RSET", 250, "2.0.0")
    tc = start_tls(c)
    lines = cmd(tc, EHLO, 250, "")
    assert "STARTTLS" not in ehlo_ext(lines)
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
def test_smuggling_refused(talon, variant):
    c = session(talon)
    envelope(c, "alice@test.example")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: s\r\n\r\nbefore" + variant +
           b"MAIL FROM:<evil@x>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\nsmuggled\r\n"
           b"\r\n.\r\n")
    lines = expect(c, 550, "5.5.2")
    assert "bare CR or LF" in lines[0], lines
    # exactly one reply for the whole data: no 250/354 for smuggled commands
    assert no_reply_within(c, 0.5)
    # back in command state, with no transaction open
    cmd(c, "NOOP", 250, "2.0.0")
    cmd(c, "RCPT TO:<bob@test.example>", 503, "5.5.1")
    # a clean message right after the refused one is delivered
    control_delivery(talon, c)
    cmd(c, "QUIT", 221, "2.0.0")
    assert accepted(talon) == 1
    assert talon.messages("alice") == []
    assert talon.messages("bob") == []
    spool_clean(talon)


@pytest.mark.parametrize("data", [
    b"Subject: a\nX-Smuggle: b\r\n\r\nbody\r\n.\r\n",
    b"Subject: a\rX-Smuggle: b\r\n\r\nbody\r\n.\r\n",
    b"Subject: a\r\n\r\nbody ends with bare CR\r\r\n.\r\n",
    b"Subject: a\r\n\r\nbody\nwith bare LF\r\n.\r\n",
], ids=["LF-in-header", "CR-in-header", "CR-before-CRLF", "LF-in-body"])
def test_bare_cr_lf_in_content_refused(talon, data):
    c = session(talon)
    envelope(c, "alice@test.example")
    cmd(c, "DATA", 354, "")
    c.send(data)
    expect(c, 550, "5.5.2")
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    control_delivery(talon, c)
    assert accepted(talon) == 1
    assert talon.messages("alice") == []
    spool_clean(talon)


# --- 3. dot-unstuffing, empty message, byte-at-a-time ---------------------------

def test_dot_unstuffing(talon):
    c = session(talon)
    send_message(c, "alice@test.example",
                 b"Subject: dots\r\n\r\n..two\r\n...three\r\n.x\r\nmid.dle\r\n..\r\n")
    msg = talon.wait_messages("alice", 1)[0]
    _, rest = split_trace(msg)
    assert rest == b"Subject: dots\n\n.two\n..three\nx\nmid.dle\n.\n"


def test_empty_message(talon):
    c = session(talon)
    envelope(c, "alice@test.example")
    cmd(c, "DATA", 354, "")
    c.send(b".\r\n")
    expect(c, 250, "2.0.0")
    msg = talon.wait_messages("alice", 1)[0]
    trace, rest = split_trace(msg)
    assert rest == b""
    assert msg == trace
    assert msg.startswith(b"Return-Path: <s@example.org>\nDelivered-To: alice@test.example\nReceived: ")


def test_byte_at_a_time(talon):
    c = talon.raw()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def drip(data, pause=0.002):
        for i in range(len(data)):
            c.sock.sendall(data[i:i + 1])
            time.sleep(pause)

    c.expect(220)
    for line, code in ((b"EHLO client.example\r\n", 250), (b"MAIL FROM:<s@example.org>\r\n", 250),
                       (b"RCPT TO:<bob@test.example>\r\n", 250), (b"DATA\r\n", 354)):
        drip(line)
        assert c.reply()[0] == code
    body = b"Subject: drip\r\n\r\nline one\r\n..dotted\r\n\r\nlast\r\n"
    drip(body)
    # the terminator with every byte in its own write, CR and LF apart
    drip(b".\r\n", pause=0.05)
    expect(c, 250, "2.0.0")
    msg = talon.wait_messages("bob", 1)[0]
    _, rest = split_trace(msg)
    assert rest == b"Subject: drip\n\nline one\n.dotted\n\nlast\n"


# --- 4. PIPELINING ------------------------------------------------------------

def test_pipelining_groups(talon):
    c = session(talon)
    c.send(b"MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@test.example>\r\n"
           b"RCPT TO:<nobody@test.example>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n")
    expect(c, 250, "2.1.0")
    expect(c, 250, "2.1.5")
    expect(c, 550, "5.1.1")
    expect(c, 250, "2.1.5")
    expect(c, 354, "")
    c.send(b"Subject: p1\r\n\r\none\r\n.\r\n")
    expect(c, 250, "2.0.0")
    c.send(b"RSET\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<carol@test.example>\r\nDATA\r\n")
    expect(c, 250, "2.0.0")
    expect(c, 250, "2.1.0")
    expect(c, 250, "2.1.5")
    expect(c, 354, "")
    c.send(b"Subject: p2\r\n\r\ntwo\r\n.\r\n")
    expect(c, 250, "2.0.0")
    assert no_reply_within(c)
    assert b"Subject: p1" in talon.wait_messages("alice", 1)[0]
    assert b"Subject: p1" in talon.wait_messages("bob", 1)[0]
    assert b"Subject: p2" in talon.wait_messages("carol", 1)[0]
    assert len(talon.messages("alice")) == 1


def test_pipelined_transactions_after_data_end(talon):
    c = session(talon)
    envelope(c, "alice@test.example")
    cmd(c, "DATA", 354, "")
    c.send(b"Subject: A\r\n\r\nA\r\n.\r\n"
           b"MAIL FROM:<s@example.org>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n"
           b"Subject: B\r\n\r\nB\r\n.\r\n"
           b"MAIL FROM:<s@example.org>\r\nRCPT TO:<carol@test.example>\r\nDATA\r\n"
           b"Subject: C\r\n\r\nC\r\n.\r\n"
           b"QUIT\r\n")
    expect(c, 250, "2.0.0")
    for _ in range(2):
        expect(c, 250, "2.1.0")
        expect(c, 250, "2.1.5")
        expect(c, 354, "")
        expect(c, 250, "2.0.0")
    expect(c, 221, "2.0.0")
    assert c.closed()
    for user, subj in (("alice", b"A"), ("bob", b"B"), ("carol", b"C")):
        msgs = talon.wait_messages(user, 1)
        assert len(msgs) == 1
        assert split_trace(msgs[0])[1] == b"Subject: " + subj + b"\n\n" + subj + b"\n"


# --- 5. BDAT / CHUNKING -------------------------------------------------------

BDAT_BODY = b"Subject: chunks\r\n\r\nline one\r\n.dot stays\r\n..two dots\r\nlast\r\n"
BDAT_STORED = b"Subject: chunks\n\nline one\n.dot stays\n..two dots\nlast\n"


def test_bdat_three_chunks(talon):
    c = session(talon)
    envelope(c, "alice@test.example")
    parts = [BDAT_BODY[:10], BDAT_BODY[10:30], BDAT_BODY[30:]]
    for p in parts[:2]:
        c.send(b"BDAT %d\r\n" % len(p) + p)
        expect(c, 250, "2.0.0")
    c.send(b"BDAT %d LAST\r\n" % len(parts[2]) + parts[2])
    lines = expect(c, 250, "2.0.0")
    assert "queued as" in lines[0]
    msg = talon.wait_messages("alice", 1)[0]
    assert split_trace(msg)[1] == BDAT_STORED
    cmd(c, "NOOP", 250, "2.0.0")


def test_bdat_chunk_boundary_splits_crlf(talon):
    c = session(talon)
    envelope(c, "bob@test.example")
    i = BDAT_BODY.index(b"\r\n", 20) + 1        # after a CR, before its LF
    j = BDAT_BODY.index(b"\r\n", i + 5) + 1
    parts = [BDAT_BODY[:i], BDAT_BODY[i:j], BDAT_BODY[j:]]
    assert parts[0].endswith(b"\r") and parts[1].startswith(b"\n")
    # all three chunks pipelined in one write
    c.send(b"BDAT %d\r\n" % len(parts[0]) + parts[0] +
           b"BDAT %d\r\n" % len(parts[1]) + parts[1] +
           b"BDAT %d LAST\r\n" % len(parts[2]) + parts[2])
    expect(c, 250, "2.0.0")
    expect(c, 250, "2.0.0")
    expect(c, 250, "2.0.0")
    msg = talon.wait_messages("bob", 1)[0]
    assert split_trace(msg)[1] == BDAT_STORED


def test_bdat_cr_at_chunk_end_not_followed_by_lf(talon):
    c = session(talon)
    envelope(c, "bob@test.example")
    first = b"Subject: x\r\n\r"
    c.send(b"BDAT %d\r\n" % len(first) + first)
    expect(c, 250, "2.0.0")
    c.send(b"BDAT 6 LAST\r\nbody\r\n")           # the held CR was bare
    expect(c, 550, "5.5.2")
    cmd(c, "NOOP", 250, "2.0.0")
    control_delivery(talon, c)
    assert talon.messages("bob") == []


def test_bdat_zero_last(talon):
    c = session(talon)
    envelope(c, "alice@test.example")
    cmd(c, "BDAT 0 LAST", 250, "2.0.0")
    msg = talon.wait_messages("alice", 1)[0]
    trace, rest = split_trace(msg)
    assert rest == b"" and msg == trace
    # a chunk and then an empty LAST chunk
    envelope(c, "bob@test.example")
    chunk = b"Subject: z\r\n\r\nz\r\n"
    c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
    expect(c, 250, "2.0.0")
    cmd(c, "BDAT 0 LAST", 250, "2.0.0")
    msg = talon.wait_messages("bob", 1)[0]
    assert split_trace(msg)[1] == b"Subject: z\n\nz\n"


def test_bdat_without_mail(talon):
    c = session(talon)
    chunk = b"QUIT\r\nQUIT\r\nQUIT\r\n"
    c.send(b"BDAT %d\r\n" % len(chunk) + chunk[:7])
    # no reply before the chunk has been read to its end
    assert no_reply_within(c)
    c.send(chunk[7:])
    expect(c, 503, "5.5.1")
    # the chunk bytes were not commands: the session is still open and in sync
    assert no_reply_within(c)
    cmd(c, "NOOP", 250, "2.0.0")
    c.send(b"BDAT 6 LAST\r\nRSET\r\n")
    expect(c, 503, "5.5.1")
    cmd(c, "NOOP", 250, "2.0.0")
    control_delivery(talon, c)
    assert accepted(talon) == 1


def test_bdat_too_big(talon_factory):
    t = talon_factory(limits={"message-size": 10000}).start()
    c = session(t)
    envelope(c, "alice@test.example")
    big = b"Subject: big\r\n\r\n" + body_lines(200)
    c.send(b"BDAT %d LAST\r\n" % len(big) + big)
    expect(c, 552, "5.3.4")
    cmd(c, "NOOP", 250, "2.0.0")
    # over the limit in the middle of a chunked message
    envelope(c, "alice@test.example")
    part = b"Subject: big\r\n\r\n" + body_lines(60)
    c.send(b"BDAT %d\r\n" % len(part) + part)
    expect(c, 250, "2.0.0")
    c.send(b"BDAT %d\r\n" % len(part) + part)
    expect(c, 552, "5.3.4")
    cmd(c, "RSET", 250, "2.0.0")
    control_delivery(t, c)
    assert accepted(t) == 1
    assert t.messages("alice") == []
    spool_clean(t)


def test_data_after_bdat(talon):
    c = session(talon)
    envelope(c, "alice@test.example")
    c.send(b"BDAT 12\r\nSubject: x\r\n")
    expect(c, 250, "2.0.0")
    cmd(c, "DATA", 503, "5.5.1")
    cmd(c, "RSET", 250, "2.0.0")
    control_delivery(talon, c)
    assert talon.messages("alice") == []


def test_bdat_bare_lf_refused_at_last(talon):
    c = session(talon)
    envelope(c, "alice@test.example")
    first = b"Subject: x\nX-Smuggle: y\r\n"
    c.send(b"BDAT %d\r\n" % len(first) + first)
    expect(c, 250, "2.0.0")
    last = b"\r\nbody\r\n"
    c.send(b"BDAT %d LAST\r\n" % len(last) + last)
    expect(c, 550, "5.5.2")
    cmd(c, "NOOP", 250, "2.0.0")
    # single LAST chunk with a bare LF in the body
    envelope(c, "alice@test.example")
    one = b"Subject: y\r\n\r\na\nb\r\n"
    c.send(b"BDAT %d LAST\r\n" % len(one) + one)
    expect(c, 550, "5.5.2")
    control_delivery(talon, c)
    assert accepted(talon) == 1
    assert talon.messages("alice") == []
    spool_clean(talon)


@pytest.mark.parametrize("line", ["BDAT", "BDAT x", "BDAT 10 LASTING", "BDAT -5",
                                  "BDAT 5 LAST more", "BDAT 123456789012345678901234"])
def test_bdat_bad_syntax_closes(talon, line):
    c = session(talon)
    envelope(c, "alice@test.example")
    c.send(line + "\r\nNOOP\r\n")
    expect(c, 501, "5.5.4")
    assert c.closed()
    assert c.buf == b"", c.buf


# --- 6. STARTTLS command injection ------------------------------------------

def test_starttls_injection_discarded(talon):
    c = session(talon)
    c.send(b"STARTTLS\r\nNOOP\r\n")
    c.expect(220)
    assert c.buf == b"", c.buf
    tc = tls_over(c)
    tc.send(b"EHLO client.example\r\n")
    code, lines = tc.reply()
    # the first reply over TLS is EHLO's, not the injected NOOP's
    assert code == 250 and lines[0].startswith("250-mail.test.example"), lines
    assert "STARTTLS" not in ehlo_ext(lines)
    assert no_reply_within(tc)
    cmd(tc, "NOOP", 250, "2.0.0")


def test_starttls_injected_transaction_discarded(talon):
    c = session(talon)
    c.send(b"STARTTLS\r\nEHLO evil.example\r\nMAIL FROM:<evil@x>\r\n")
    c.expect(220)
    tc = tls_over(c)
    # if the injected EHLO/MAIL had run, this RCPT would be accepted
    cmd(tc, "RCPT TO:<alice@test.example>", 503, "5.5.1")
    assert no_reply_within(tc)


def test_starttls_requires_new_ehlo(talon):
    c = session(talon)
    cmd(c, "HELO before.example", 250, "")
    tc = start_tls(c)
    cmd(tc, SENDER, 503, "5.5.1")
    cmd(tc, EHLO, 250, "")
    send_message(tc, "alice@test.example", b"Subject: tls\r\n\r\nx\r\n")
    msg = talon.wait_messages("alice", 1)[0]
    assert b"Received: from client.example ([127.0.0.1])\n" in msg
    assert b" with ESMTPS id " in msg


# --- 7. non-blocking sessions ---------------------------------------------

def test_stalled_clients_do_not_block_others(talon_factory):
    t = talon_factory(workers=1).start()
    # 1: half a command line
    a = session(t)
    a.send(b"MAIL FROM:<s@exa")
    # 2: half a TLS ClientHello on the implicit port (a 10-byte record start)
    b = socket.create_connection(("127.0.0.1", t.port_tls), timeout=10)
    b.sendall(b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03")
    # 3: STARTTLS, then half a ClientHello
    s3 = session(t)
    cmd(s3, "STARTTLS", 220, "2.0.0")
    s3.send(b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03")
    # 4: DATA at one byte a second
    d = session(t)
    envelope(d, "bob@test.example")
    cmd(d, "DATA", 354, "")
    d.send(b"Subject: drip\r\n\r\n")
    stop = threading.Event()
    drip_data = b"slow body that never ends quickly"

    def drip():
        for i in range(len(drip_data)):
            if stop.is_set():
                return
            d.sock.sendall(drip_data[i:i + 1])
            stop.wait(1.0)
    th = threading.Thread(target=drip)
    th.start()
    try:
        time.sleep(0.3)
        # a second client completes a whole transaction meanwhile
        start = time.time()
        f = session(t, timeout=10)
        send_message(f, "alice@test.example", b"Subject: fast\r\n\r\nquick\r\n")
        cmd(f, "QUIT", 221, "2.0.0")
        elapsed = time.time() - start
        msgs = t.wait_messages("alice", 1, timeout=10)
        assert b"Subject: fast" in msgs[0]
        assert elapsed < 10, elapsed
    finally:
        stop.set()
        th.join()
    # the stalled sessions are still alive and still in step
    a.send(b"ample.org>\r\n")
    expect(a, 250, "2.1.0")
    d.send(b"\r\n.\r\n")
    expect(d, 250, "2.0.0")
    msg = t.wait_messages("bob", 1)[0]
    rest = split_trace(msg)[1]
    assert rest.startswith(b"Subject: drip\n\ns") and rest.endswith(b"\n"), rest
    assert drip_data.startswith(rest[len(b"Subject: drip\n\n"):-1]), rest
    b.close()
    s3.close()
