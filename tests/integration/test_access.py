"""The access map in the daemon (issue 13 part 1): Connect:, From:, To:,
DISCARD, the exception idiom, custom replies, reload on change without a
signal, a broken file keeping the old map; clients bound to 127.0.0.x."""
import os
import re
import smtplib
import socket
import time

import pytest

from conftest import free_port

ACCESS = """# test map
Connect:127.0.0.66\tREJECT
Connect:127.0.0.67\tERROR:5.7.1:550 go away, you relayed spam through us
127.0.0.68\tDISCARD
From:friend@blocked.example\tOK
To:friend@blocked.example\tOK
blocked.example\tREJECT
pest@spammy.example\t550 Seriously, stop and go away
From:spam@discard.example\tDISCARD
To:olduser@test.example\t550 5.1.1 this user left years ago
To:abuse-me@\tREJECT
temp.example\t451 4.7.1 try later please
"""


def make(talon_factory, text=ACCESS, extra=""):
    t = talon_factory(extra="access access\n" + extra)
    with open(os.path.join(t.dir, "access"), "w") as f:
        f.write(text)
    t.start()
    t.wait_log(r"policy event=access file=\S+ entries=\d+")
    return t


def client(t, ip="127.0.0.5"):
    return smtplib.SMTP("127.0.0.1", t.port, source_address=(ip, 0), timeout=30)


def greeting(t, ip):
    s = socket.create_connection(("127.0.0.1", t.port), timeout=10, source_address=(ip, 0))
    data = b""
    while not data.endswith(b"\r\n"):
        d = s.recv(4096)
        if not d:
            break
        data += d
    s.close()
    return data.decode()


def test_connect_reject_and_custom_error_at_connect(talon_factory):
    t = make(talon_factory)
    assert greeting(t, "127.0.0.66").startswith("554 5.7.1 Access denied")
    assert greeting(t, "127.0.0.67").startswith("550 5.7.1 go away, you relayed spam through us")
    assert greeting(t, "127.0.0.5").startswith("220 ")
    log = t.log()
    assert re.search(r"event=access check=connect client=\[127.0.0.66\] action=reject "
                     r"where=\"\S+access:2 Connect:127.0.0.66\"", log)
    assert re.search(r"event=reject .*result=\"554 5.7.1\"", log)


def test_exception_idiom_and_custom_sender_replies(talon_factory):
    t = make(talon_factory)
    with client(t) as c:
        c.ehlo("client.example")
        code, msg = c.mail("friend@blocked.example")
        assert code == 250, msg
        c.rset()
        code, msg = c.mail("other@blocked.example")
        assert (code, msg) == (550, b"5.7.1 Access denied")
        code, msg = c.mail("someone@sub.blocked.example")
        assert code == 550
        code, msg = c.mail("pest@spammy.example")
        assert (code, msg) == (550, b"5.7.1 Seriously, stop and go away")
        code, msg = c.mail("x@temp.example")
        assert (code, msg) == (451, b"4.7.1 try later please")
    assert "where=\"%s/access:7 blocked.example\"" % t.dir in t.log()


def test_recipient_texts_before_user_lookup(talon_factory):
    t = make(talon_factory)
    with client(t) as c:
        c.ehlo("client.example")
        assert c.mail("s@example.org")[0] == 250
        code, msg = c.rcpt("olduser@test.example")
        assert (code, msg) == (550, b"5.1.1 this user left years ago")
        code, msg = c.rcpt("abuse-me@test.example")
        assert (code, msg) == (550, b"5.7.1 Access denied")
        code, msg = c.rcpt("nobody@test.example")
        assert code == 550 and b"User unknown" in msg
        assert c.rcpt("alice@test.example")[0] == 250
        # not ours: relaying is refused before any map lookup
        code, msg = c.rcpt("friend@blocked.example")
        assert code == 550 and b"Relaying denied" in msg


def test_discard_accepts_and_drops(talon_factory):
    t = make(talon_factory)
    with client(t) as c:
        c.sendmail("spam@discard.example", ["alice@test.example"], b"Subject: x\r\n\r\nx\r\n")
    with client(t, "127.0.0.68") as c:
        c.sendmail("s@example.org", ["bob@test.example"], b"Subject: y\r\n\r\ny\r\n")
    with client(t) as c:
        c.sendmail("s@example.org", ["carol@test.example"], b"Subject: z\r\n\r\nz\r\n")
    t.wait_messages("carol", 1)
    time.sleep(0.3)
    assert t.messages("alice") == [] and t.messages("bob") == []
    assert len(re.findall(r"event=discard ", t.log())) == 2
    assert os.listdir(os.path.join(t.dir, "spool", "queue")) == []


def test_reload_on_change_without_a_signal_and_broken_file_kept(talon_factory):
    t = make(talon_factory)
    path = os.path.join(t.dir, "access")
    with client(t) as c:
        c.ehlo("x")
        assert c.mail("a@new.example")[0] == 250
    with open(path + ".new", "w") as f:
        f.write(ACCESS + "new.example\tREJECT\n")
    os.rename(path + ".new", path)
    deadline = time.time() + 5
    while time.time() < deadline and "new.example" not in t.log():
        time.sleep(0.1)
    t.wait_log(r"policy event=access file=\S+ entries=\d+", count=2)
    with client(t) as c:
        c.ehlo("x")
        assert c.mail("a@new.example")[0] == 550
    # a broken file: the old map stays, the problem is logged with file:line
    with open(path + ".new", "w") as f:
        f.write("ok.example OK\nbad.example FROBNICATE\n")
    os.rename(path + ".new", path)
    t.wait_log(r"policy event=access problem=\"\S+access:2: .*\" action=kept-old")
    with client(t) as c:
        c.ehlo("x")
        assert c.mail("a@new.example")[0] == 550
        assert c.mail("x@blocked.example")[0] == 550


def test_from_ok_overrides_spf_fail(talon_factory):
    """A sender the map accepts is not refused for SPF (it is still checked
    and reported): the admin's exception wins."""
    port = free_port()
    zone = ("$ORIGIN strict.test.\n$TTL 60\n@ IN SOA ns h 1 3600 600 86400 60\n"
            "  IN NS ns\nns IN A 127.0.0.1\n@ IN TXT \"v=spf1 -all\"\n")
    root = "$ORIGIN .\n$TTL 60\n@ IN SOA ns.strict.test. h.strict.test. 1 3600 600 86400 60\n" \
           "  IN NS ns.strict.test.\n"
    t = talon_factory(extra="access access\nlisten dns 127.0.0.1:%d\nzone strict.test s.zone\n"
                      "zone . root.zone\nresolver forward 127.0.0.1@%d" % (port, port),
                      limits={"dns-responses": 0})
    with open(os.path.join(t.dir, "s.zone"), "w") as f:
        f.write(zone)
    with open(os.path.join(t.dir, "root.zone"), "w") as f:
        f.write(root)
    with open(os.path.join(t.dir, "access"), "w") as f:
        f.write("From:trusted@strict.test OK\n")
    t.start()
    t.wait_log(r"policy event=access file=\S+ entries=1")
    with client(t) as c:
        c.ehlo("x")
        code, msg = c.mail("other@strict.test")
        assert code == 550 and msg.startswith(b"5.7.23"), msg
        assert c.mail("trusted@strict.test")[0] == 250
        assert c.rcpt("alice@test.example")[0] == 250
        assert c.data(b"From: trusted@strict.test\r\nSubject: x\r\n\r\nx\r\n")[0] == 250
    msg = t.wait_messages("alice", 1)[0]
    assert b"spf=fail smtp.mailfrom=trusted@strict.test" in msg


def test_no_map_configured_asks_nothing(talon):
    with talon.smtp() as c:
        c.sendmail("s@blocked.example", ["alice@test.example"], b"Subject: x\r\n\r\nx\r\n")
    talon.wait_messages("alice", 1)
    assert "event=access" not in talon.log()


def test_connect_key_on_the_verified_client_name(talon_factory):
    """Connect: keys on names match the forward-confirmed client name; the
    name arrives after the greeting, so the refusal comes at MAIL FROM."""
    port = free_port()
    zone = ("$ORIGIN acc.test.\n$TTL 60\n@ IN SOA ns h 1 3600 600 86400 60\n  IN NS ns\n"
            "ns IN A 127.0.0.1\nclient7 IN A 127.0.0.7\n")
    root = ("$ORIGIN .\n$TTL 60\n@ IN SOA ns.acc.test. h.acc.test. 1 3600 600 86400 60\n"
            "  IN NS ns.acc.test.\n7.0.0.127.in-addr.arpa. IN PTR client7.acc.test.\n")
    t = talon_factory(extra="access access\nlisten dns 127.0.0.1:%d\nzone acc.test a.zone\n"
                      "zone . root.zone\nresolver forward 127.0.0.1@%d" % (port, port),
                      limits={"dns-responses": 0})
    for name, text in (("a.zone", zone), ("root.zone", root),
                       ("access", "Connect:acc.test\t550 5.7.1 not from your network\n")):
        with open(os.path.join(t.dir, name), "w") as f:
            f.write(text)
    t.start()
    t.wait_log(r"policy event=access file=\S+ entries=1")
    with client(t, "127.0.0.7") as c:
        c.ehlo("x")
        t.wait_log(r"event=rdns client=\[127.0.0.7\] result=pass name=client7.acc.test")
        t.wait_log(r"event=access check=connect-name client=\[127.0.0.7\] action=error")
        code, msg = c.mail("s@example.org")
        assert (code, msg) == (550, b"5.7.1 not from your network")
    with client(t, "127.0.0.8") as c:
        c.ehlo("x")
        assert c.mail("s@example.org")[0] == 250
