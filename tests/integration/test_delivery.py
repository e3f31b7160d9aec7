"""Mail in over plain SMTP, STARTTLS and implicit TLS; Maildir bytes checked
exactly (trace headers added, body unchanged, dot-unstuffing, LF ends)."""
import os
import re
import smtplib

from conftest import client_tls_context

BODY = (b"From: Sender <s@example.org>\r\n"
        b"To: alice@test.example\r\n"
        b"Subject: hello\r\n"
        b"\r\n"
        b"line one\r\n"
        b"..leading dot stays single\r\n"
        b".\tdot tab\r\n"
        b"last line\r\n")

EXPECT_BODY = (b"From: Sender <s@example.org>\n"
               b"To: alice@test.example\n"
               b"Subject: hello\n"
               b"\n"
               b"line one\n"
               b".leading dot stays single\n"
               b"\tdot tab\n"
               b"last line\n")


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


def raw_data(talon, payload, rcpt="alice@test.example", port=None):
    c = talon.raw(port)
    c.expect(220)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<%s>" % rcpt)[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(payload)
    code, lines = c.reply()
    c.cmd("QUIT")
    c.close()
    return code, lines


def test_plain_delivery_exact_bytes(talon):
    code, lines = raw_data(talon, BODY + b".\r\n")
    assert code == 250, lines
    qid = re.search(r"queued as (\S+)", lines[0]).group(1)
    msgs = talon.wait_messages("alice", 1)
    trace, rest = split_trace(msgs[0])
    assert rest == EXPECT_BODY
    assert trace.startswith(b"Return-Path: <s@example.org>\nDelivered-To: alice@test.example\n"
                            b"Authentication-Results: mail.test.example;")
    # the root zone of the test run knows no names: no SPF record, no
    # verified client name
    assert b"spf=none smtp.mailfrom=s@example.org" in trace
    assert b"iprev=fail policy.iprev=127.0.0.1" in trace
    assert b"\nReceived: from client.example (unknown [127.0.0.1])\n\tby mail.test.example (Talon) with ESMTP id " + qid.encode() in trace
    assert b"\tfor <alice@test.example>; " in trace
    # Maildir name: deterministic, with the sizes Dovecot uses (W: as IMAP
    # shows it, each LF a CRLF)
    name = os.listdir(talon.maildir("alice"))[0]
    assert qid in name and name.endswith(",S=%d,W=%d" % (len(msgs[0]),
                                                          len(msgs[0]) + msgs[0].count(b"\n")))
    # nothing left behind in tmp/ or the spool
    assert os.listdir(talon.maildir("alice", "tmp")) == []
    talon.wait_log(r"event=delivered queue=%s" % qid)
    assert os.listdir(os.path.join(talon.dir, "spool", "queue")) == []


def test_smtplib_starttls_and_received_names_tls(talon):
    with talon.smtp() as s:
        s.ehlo("client.example")
        assert s.has_extn("starttls")
        s.starttls(context=client_tls_context())
        s.ehlo("client.example")
        assert not s.has_extn("starttls")
        s.sendmail("s@example.org", ["bob@test.example"], b"Subject: tls\r\n\r\nsecret\r\n")
    msg = talon.wait_messages("bob", 1)[0]
    assert b"with ESMTPS id" in msg
    assert re.search(rb"\(TLSv1\.[23]:[A-Z0-9_-]+:\d+\)", msg), msg
    assert msg.endswith(b"\n\nsecret\n")


def test_implicit_tls(talon):
    with talon.smtp_tls() as s:
        s.ehlo("client.example")
        assert not s.has_extn("starttls")
        s.sendmail("s@example.org", ["carol@test.example"], b"Subject: implicit\r\n\r\nbody\r\n")
    msg = talon.wait_messages("carol", 1)[0]
    assert b"with ESMTPS id" in msg


def test_ehlo_extensions(talon):
    c = talon.raw()
    c.expect(220)
    code, lines = c.cmd("EHLO client.example")
    assert code == 250
    ext = [l[4:] for l in lines[1:]]
    for e in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "STARTTLS"):
        assert e in ext, lines
    assert any(e.startswith("SIZE ") for e in ext)
    assert lines[0].startswith("250-mail.test.example")


def test_alias_fans_out_one_copy_per_user(talon):
    # team -> alice, bob; bob also named directly: bob gets one copy
    with talon.smtp() as s:
        s.sendmail("s@example.org", ["team@test.example", "Bob@Test.Example"],
                   b"Subject: fan\r\n\r\nx\r\n")
    a = talon.wait_messages("alice", 1)
    b = talon.wait_messages("bob", 1)
    assert len(talon.messages("bob")) == 1
    assert b"Delivered-To: alice@test.example\n" in a[0]
    assert b"Delivered-To: bob@test.example\n" in b[0]
    # two recipients: the Received line must not name one (Bcc privacy)
    assert b"\tfor <" not in a[0]


def test_postmaster_without_domain_and_plus_detail(talon):
    with talon.smtp() as s:
        s.ehlo("client.example")
        s.mail("s@example.org")
        assert s.rcpt("<Postmaster>")[0] == 250
        assert s.rcpt("alice+lists@test.example")[0] == 250
        assert s.data(b"Subject: pm\r\n\r\nx\r\n")[0] == 250
    # postmaster -> alice, alice+lists -> alice: one copy
    msgs = talon.wait_messages("alice", 1)
    assert len(msgs) == 1


def test_unknown_user_and_relay_denied(talon):
    with talon.smtp() as s:
        s.ehlo("client.example")
        s.mail("s@example.org")
        code, msg = s.rcpt("nobody@test.example")
        assert (code, msg[:5]) == (550, b"5.1.1")
        code, msg = s.rcpt("someone@elsewhere.example")
        assert code == 550
        assert msg == b"5.7.1 <someone@elsewhere.example>... Relaying denied. Proper authentication required."
    talon.wait_log(r'to=<nobody@test.example> result="550 5\.1\.1" reason="no such user"')
    talon.wait_log(r'to=<someone@elsewhere.example> result="550 5\.7\.1" reason="relaying denied"')


def test_null_sender_and_8bit_and_smtputf8(talon):
    with talon.smtp() as s:
        s.ehlo("client.example")
        s.sendmail("<>", ["alice@test.example"], "Subject: bounce\r\n\r\nn\u00e4\r\n".encode(),
                   mail_options=["BODY=8BITMIME"])
        s.sendmail("s\u00fc@example.org", ["alice@test.example"], b"Subject: utf8\r\n\r\nx\r\n",
                   mail_options=["SMTPUTF8"])
    msgs = talon.wait_messages("alice", 2)
    joined = b"".join(msgs)
    assert b"Return-Path: <>\n" in joined
    assert "Return-Path: <s\u00fc@example.org>\n".encode() in joined
    assert b"with UTF8SMTP id" in joined
    assert "n\u00e4\n".encode() in joined


def test_log_follows_a_message(talon):
    code, lines = raw_data(talon, b"Subject: log\r\n\r\nx\r\n.\r\n")
    qid = re.search(r"queued as (\S+)", lines[0]).group(1)
    talon.wait_log(r"queue event=delivered queue=%s session=[0-9a-f]{16} to=<alice@test.example> user=alice path=alice/Maildir/new/" % qid)
    sid = re.search(r"smtp session=([0-9a-f]{16}) event=accepted queue=%s" % qid, talon.log()).group(1)
    # the copy is the commit: the session ends after the delivery line
    talon.wait_log(r"session=%s event=disconnect" % sid)
    log = talon.log()
    for ev in ("event=connect client=[127.0.0.1]", "event=mail", "event=rcpt", "event=disconnect"):
        assert re.search(r"session=%s %s" % (sid, re.escape(ev)), log), ev
    assert re.search(r"queue event=queued queue=%s session=%s .* commit=local$" % (qid, sid), log, re.M)


def test_many_pipelined_commands_in_one_write(talon_factory):
    """Regression: a burst larger than one processing round must not stall
    with commands left in our buffer and nothing in the socket."""
    talon = talon_factory(limits={"junk-commands": 1000}).start()
    c = talon.raw()
    c.expect(220)
    c.cmd("EHLO client.example")
    n = 500
    c.send(b"NOOP\r\n" * n + b"MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n")
    for _ in range(n):
        assert c.reply()[0] == 250
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(b"Subject: burst\r\n\r\nx\r\n.\r\nQUIT\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 221
    talon.wait_messages("alice", 1)


def test_ipv6_listener_and_address_literal_helo(talon_factory):
    import socket as _s
    probe = _s.socket(_s.AF_INET6)
    probe.bind(("::1", 0))
    port6 = probe.getsockname()[1]
    probe.close()
    t = talon_factory(listeners=[])
    t.listeners = ["listen smtp 127.0.0.1:%d" % t.port, "listen smtp [::1]:%d" % port6]
    t.write_files()
    t.start()
    s = _s.create_connection(("::1", port6), timeout=10)
    from conftest import RawClient
    c = RawClient(s)
    c.expect(220)
    assert c.cmd("EHLO [IPv6:::1]")[0] == 250
    assert c.cmd("MAIL FROM:<s@[IPv6:2001:db8::1]>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: v6\r\n\r\nx\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    msg = t.wait_messages("alice", 1)[0]
    assert b"Received: from [IPv6:::1] (unknown [::1])" in msg
    assert b"Return-Path: <s@[IPv6:2001:db8::1]>" in msg
    t.wait_log(r"event=connect client=\[::1\] listener=\[::1\]:%d" % port6)


def big_body(n_lines, tag):
    """A message of n_lines body lines of 78 characters (each different)"""
    head = b"From: <s@example.org>\r\nTo: alice@test.example\r\nSubject: %s\r\n\r\n" % tag
    return head + b"".join(b"%07d " % i + b"x" * 70 + b"\r\n" for i in range(n_lines))


def test_big_message_moves_from_memory_to_disk_and_arrives_whole(talon):
    """A message starts in memory and moves to spool/queue/QID once it
    passes 256 KiB (mail/spool.h SPOOL_MEM_SPILL): 1 MB over DATA, and
    over BDAT in chunks that cross the mark inside one and at the last
    (where the envelope must still fit).  Every byte arrives, once."""
    body = big_body(12000, b"data")                   # ~960 KB
    code, lines = raw_data(talon, body + b".\r\n")
    assert code == 250, lines
    # BDAT: 200 KB, then a chunk across the mark, then a small last one
    bd = big_body(4000, b"bdat")                      # ~320 KB
    c = talon.raw()
    c.expect(220)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<s@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<alice@test.example>")[0] == 250
    cuts = [0, 200000, 300000, len(bd)]
    for i in range(3):
        chunk = bd[cuts[i]:cuts[i + 1]]
        last = " LAST" if i == 2 else ""
        c.send(b"BDAT %d%s\r\n" % (len(chunk), last.encode()) + chunk)
        code, lines = c.reply()
        assert code == 250, lines
    c.cmd("QUIT")
    msgs = talon.wait_messages("alice", 2)
    got = sorted(split_trace(m)[1] for m in msgs)
    want = sorted([body.replace(b"\r\n", b"\n"), bd.replace(b"\r\n", b"\n")])
    assert got == want
    assert len(re.findall(r"queue event=queued .*commit=local", talon.log())) == 2
    talon.wait_log(r"event=delivered .*", count=2)
    assert os.listdir(os.path.join(talon.dir, "spool", "queue")) == []
    assert os.listdir(talon.maildir("alice", "tmp")) == []


def test_message_that_fits_in_memory_but_not_with_its_envelope(talon):
    """Under the mark with its content, over it with the room its envelope
    may take: it moves to disk at the end of the data, and arrives."""
    body = big_body(3000, b"edge")                    # ~240 KB
    code, lines = raw_data(talon, body + b".\r\n")
    assert code == 250, lines
    [m] = talon.wait_messages("alice", 1)
    assert split_trace(m)[1] == body.replace(b"\r\n", b"\n")
