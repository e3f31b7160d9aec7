"""IMAP, first stage (issue 14): the auth process and the not-authenticated
state over STARTTLS and implicit TLS, with Python's imaplib and raw
sockets: LOGINDISABLED before TLS, LOGIN and AUTHENTICATE PLAIN/LOGIN
(SASL-IR too), failures that read the same for unknown users and wrong
passwords and are delayed by the auth process, the pre-login limits,
STARTTLS injection, autologout, and the roles' processes and users."""
import base64
import crypt
import imaplib
import os
import random
import re
import signal
import socket
import ssl
import string
import time
import warnings

import pytest

from conftest import free_port

warnings.filterwarnings("ignore", category=DeprecationWarning)

PASSWORD = "correct horse battery"


def yescrypt(pw):
    alphabet = string.ascii_letters + string.digits + "./"
    salt = "".join(random.choice(alphabet) for _ in range(16))
    h = crypt.crypt(pw, "$y$j9T$%s$" % salt)
    assert h.startswith("$y$"), h
    return h


def make(talon_factory, limits=None, extra=""):
    p_starttls, p_tls = free_port(), free_port()
    t = talon_factory(extra="listen imap 127.0.0.1:%d tls starttls\n"
                      "listen imap 127.0.0.1:%d tls implicit\n%s" % (p_starttls, p_tls, extra),
                      limits=limits)
    t.imap_port, t.imaps_port = p_starttls, p_tls
    with open(os.path.join(t.dir, "users"), "w") as f:
        f.write("# test accounts\nalice:{CRYPT}%s\nbob:\ncarol:%s\n" % (
            yescrypt(PASSWORD), yescrypt("other")))
    t.start()
    t.wait_log(r"auth event=users generation=1 accounts=3 with_password=2")
    t.wait_log(r"imap event=start listeners=2")
    return t


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def imap(t):
    m = imaplib.IMAP4("127.0.0.1", t.imap_port, timeout=30)
    m.starttls(ssl_context=ctx())
    return m


class Raw:
    """A line-at-a-time IMAP client over a socket (TLS optional)."""

    def __init__(self, t, implicit=False, source=None):
        s = socket.create_connection(("127.0.0.1", t.imaps_port if implicit else t.imap_port),
                                     timeout=15, source_address=(source, 0) if source else None)
        if implicit:
            s = ctx().wrap_socket(s)
        self.s = s
        self.f = s.makefile("rb")

    def tls(self):
        self.f.close()
        self.s = ctx().wrap_socket(self.s)
        self.f = self.s.makefile("rb")

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        return self.f.readline().decode()

    def until(self, tag):
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if ln.startswith(tag + " ") or ln == "":
                return out

    def close(self):
        self.f.close()
        self.s.close()


def test_capabilities_logindisabled_and_starttls(talon_factory):
    t = make(talon_factory)
    r = Raw(t)
    greeting = r.line()
    assert re.match(r"\* OK \[CAPABILITY IMAP4rev2 IMAP4rev1 STARTTLS LOGINDISABLED ", greeting)
    assert "AUTH=" not in greeting
    r.send("a LOGIN alice {%d+}\r\n%s\r\n" % (len(PASSWORD), PASSWORD))
    assert r.until("a")[-1].startswith("a NO [PRIVACYREQUIRED] ")
    r.send("b AUTHENTICATE PLAIN\r\n")
    assert r.until("b")[-1].startswith("b NO [PRIVACYREQUIRED] ")
    # STARTTLS injection: what follows it in the same packet is dropped
    r.send("c STARTTLS\r\nd CAPABILITY\r\n")
    assert r.line() == "c OK Begin TLS negotiation now\r\n"
    r.tls()
    r.send("e CAPABILITY\r\n")
    lines = r.until("e")
    assert lines[0].startswith("* CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN AUTH=LOGIN SASL-IR")
    assert "LOGINDISABLED" not in lines[0] and "STARTTLS" not in lines[0]
    assert not any(ln.startswith("d ") for ln in lines), lines
    assert lines[-1] == "e OK CAPABILITY completed\r\n"
    r.send("f LOGOUT\r\n")
    assert r.until("f") == ["* BYE Logging out\r\n", "f OK LOGOUT completed\r\n"]
    r.close()


def test_login_with_imaplib_starttls_and_implicit(talon_factory):
    t = make(talon_factory)
    m = imap(t)
    typ, data = m.login("alice", PASSWORD)
    assert typ == "OK" and b"Logged in" in data[0], (typ, data)
    assert "LITERAL+" in m.capabilities or b"LITERAL+" in data[0]
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"0"], (typ, data)
    assert m.noop()[0] == "OK"
    assert m.logout()[0] == "BYE"
    m = imaplib.IMAP4_SSL("127.0.0.1", t.imaps_port, ssl_context=ctx(), timeout=30)
    assert "AUTH=PLAIN" in m.capabilities
    assert m.login("alice", PASSWORD)[0] == "OK"
    m.logout()
    log = t.log()
    assert re.search(r"auth event=check user=alice client=\[127.0.0.1\] result=ok", log)
    assert re.search(r"imap session=\w+ event=login client=\[127.0.0.1\] user=alice result=ok",
                     log)
    # no password reaches the log, in any process
    assert PASSWORD not in log


def test_failures_read_the_same_and_are_delayed(talon_factory):
    t = make(talon_factory)
    replies = []
    for user, pw in (("alice", "wrong"), ("nosuchuser", "wrong"), ("bob", ""),
                     ("bob", "anything")):
        m = imap(t)
        with pytest.raises(imaplib.IMAP4.error) as e:
            m.login(user, pw)
        replies.append(str(e.value))
        m.shutdown()
    assert all("[AUTHENTICATIONFAILED] Authentication failed" in r for r in replies), replies
    assert len(set(replies)) == 1, replies
    # the auth process delays the third failure of the same pair (0, 0,
    # 250 ms, doubling: auth/pw.h)
    for _ in range(2):
        m = imap(t)
        with pytest.raises(imaplib.IMAP4.error):
            m.login("alice", "wrong")
        m.shutdown()
    t.wait_log(r'auth event=check user="alice" client=\[127.0.0.1\] result=fail delay_ms=0')
    t.wait_log(r'auth event=check user="alice" client=\[127.0.0.1\] result=fail delay_ms=250')
    # a good password still works afterwards
    m = imap(t)
    assert m.login("alice", PASSWORD)[0] == "OK"
    m.logout()
    assert "wrong" not in re.sub(r'user="[^"]*"', "", t.log())


def test_authenticate_plain_login_sasl_ir_and_cancel(talon_factory):
    t = make(talon_factory)
    m = imap(t)
    typ, _ = m.authenticate("PLAIN", lambda _: ("\0alice\0%s" % PASSWORD).encode())
    assert typ == "OK"
    m.logout()
    r = Raw(t, implicit=True)
    r.line()
    ir = base64.b64encode(("alice\0alice\0%s" % PASSWORD).encode()).decode()
    r.send("a AUTHENTICATE PLAIN %s\r\n" % ir)      # SASL-IR, authzid = authcid
    assert r.until("a")[-1].startswith("a OK [CAPABILITY ")
    r.close()
    r = Raw(t, implicit=True)
    r.line()
    r.send("a AUTHENTICATE LOGIN\r\n")
    assert r.line() == "+ VXNlcm5hbWU6\r\n"
    r.send(base64.b64encode(b"alice").decode() + "\r\n")
    assert r.line() == "+ UGFzc3dvcmQ6\r\n"
    r.send(base64.b64encode(PASSWORD.encode()).decode() + "\r\n")
    assert r.until("a")[-1].startswith("a OK ")
    r.close()
    r = Raw(t, implicit=True)
    r.line()
    r.send("b AUTHENTICATE PLAIN\r\n")
    assert r.line() == "+ \r\n"
    r.send("*\r\n")
    assert r.line() == "b BAD AUTHENTICATE cancelled\r\n"
    r.send("c AUTHENTICATE PLAIN !!notbase64\r\n")
    assert r.until("c")[-1].startswith("c BAD Invalid SASL response")
    ir = base64.b64encode(("mallory\0alice\0%s" % PASSWORD).encode()).decode()
    r.send("d AUTHENTICATE PLAIN %s\r\n" % ir)      # authzid other than authcid
    assert r.until("d")[-1].startswith("d NO [AUTHORIZATIONFAILED] ")
    r.send("e AUTHENTICATE CRAM-MD5\r\n")
    assert r.until("e")[-1].startswith("e NO [CANNOT] ")
    r.close()


def test_preauth_limits_and_states(talon_factory):
    t = make(talon_factory)
    r = Raw(t, implicit=True)
    r.line()
    r.send("a SELECT INBOX\r\n")
    assert r.until("a")[-1] == "a BAD Log in first\r\n"
    r.send("b FROBNICATE\r\n")
    assert r.until("b")[-1].startswith("b BAD ")
    # an over-size synchronising literal is refused, never continued
    r.send("c LOGIN alice {9000}\r\n")
    line = r.line()
    assert line.startswith("c BAD "), line
    r.send("d NOOP\r\n")
    assert r.until("d")[-1] == "d OK NOOP completed\r\n"
    # a line longer than 8 KiB before login: BYE and close
    r.send("e NOOP " + "x" * 9000 + "\r\n")
    assert r.line().startswith("* BYE ")
    assert r.line() == ""
    r.close()
    # five failed logins in one session end it
    m = imap(t)
    for i in range(5):
        try:
            m.login("alice", "bad%d" % i)
        except imaplib.IMAP4.error:
            pass
        except imaplib.IMAP4.abort:
            break
    t.wait_log(r"imap session=\w+ event=login client=\[127.0.0.1\] result=fail failures=5")


def test_autologout_and_roles(talon_factory):
    t = make(talon_factory, limits={"imap-autologout": 1})
    r = Raw(t, implicit=True)
    r.line()
    r.send("a LOGIN alice \"%s\"\r\n" % PASSWORD)
    assert r.until("a")[-1].startswith("a OK ")
    assert r.line() == "* BYE Autologout; idle for too long\r\n"
    r.close()
    out = os.popen("ps -o user:20=,args= -p %s" % ",".join(
        str(p) for p in t.child_pids("auth") + t.child_pids("imap"))).read()
    assert "_talonauth" in out and "_talonimap" in out, out


def test_auth_process_restarts(talon_factory):
    t = make(talon_factory)
    t.crash_expected = True
    old = t.child_pids("auth")
    assert len(old) == 1
    os.kill(old[0], signal.SIGKILL)
    t.wait_log(r"parent event=spawn role=auth pid=(?!%d)\d+" % old[0])
    t.wait_log(r"auth event=users generation=1 accounts=3", count=2)
    deadline = time.time() + 10
    while True:
        m = imap(t)
        try:
            typ, _ = m.login("alice", PASSWORD)
            break
        except imaplib.IMAP4.error as e:
            assert "UNAVAILABLE" in str(e)
            assert time.time() < deadline
            time.sleep(0.2)
        finally:
            pass
    assert typ == "OK"
    m.logout()


def test_listen_imap_needs_tls(talon_factory, tmp_path):
    from conftest import TALON
    import subprocess
    t = talon_factory(extra="listen imap 127.0.0.1:%d\n" % free_port())
    out = subprocess.run([TALON, "-c", t.conf, "config", "check"], capture_output=True,
                         text=True)
    assert out.returncode != 0
    assert "expected tls starttls or tls implicit (IMAP logins need TLS)" in out.stderr


def test_login_failures_feed_bans_and_logins_spare(talon_factory):
    import smtplib
    t = make(talon_factory, extra="auto-ban on\nban-points auth-failure 5\nban-points relay 5\n",
             limits={"ban-threshold": 10})
    for pw in ("bad1", "bad2"):
        r = Raw(t, implicit=True, source="127.0.0.40")
        r.line()
        r.send('a LOGIN alice "%s"\r\n' % pw)
        assert r.until("a")[-1].startswith("a NO [AUTHENTICATIONFAILED]")
        r.close()
    t.wait_log(r"policy event=ban client=\[127.0.0.40\] ban=127.0.0.40 until=\S+ count=1 "
               r'reason="auto: auth-failure=2"')
    s = socket.create_connection(("127.0.0.1", t.port), timeout=10,
                                 source_address=("127.0.0.40", 0))
    assert s.recv(200).startswith(b"554 5.7.1 ")
    s.close()
    # and at IMAP: BYE before anything else, no TLS handshake on 993
    s = socket.create_connection(("127.0.0.1", t.imap_port), timeout=10,
                                 source_address=("127.0.0.40", 0))
    assert s.recv(200) == b"* BYE Access denied\r\n"
    s.close()
    s = socket.create_connection(("127.0.0.1", t.imaps_port), timeout=10,
                                 source_address=("127.0.0.40", 0))
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        ctx().wrap_socket(s).recv(10)
    s.close()
    t.wait_log(r"imap session=\w+ event=reject client=\[127.0.0.40\] reason=banned")
    # an address that logged in is spared: relay attempts earn it nothing
    r = Raw(t, implicit=True, source="127.0.0.41")
    r.line()
    r.send('a LOGIN alice "%s"\r\n' % PASSWORD)
    assert r.until("a")[-1].startswith("a OK ")
    r.close()
    time.sleep(0.3)
    for _ in range(3):
        with smtplib.SMTP("127.0.0.1", t.port, source_address=("127.0.0.41", 0)) as c:
            c.ehlo("x.example")
            c.mail("a@sender.example")
            assert c.rcpt("victim@elsewhere.example")[0] == 550
    t.wait_log(r"policy event=ban-points client=\[127.0.0.41\] what=relay result=ignored "
               r"reason=recently-logged-in", count=3)
    assert "client=[127.0.0.41] ban=" not in t.log()


def test_connections_per_user_and_address(talon_factory):
    t = make(talon_factory, limits={"imap-connections-per-user": 2})
    held = []
    for _ in range(2):
        m = imap(t)
        assert m.login("alice", PASSWORD)[0] == "OK"
        held.append(m)
    m = imap(t)
    with pytest.raises(imaplib.IMAP4.error, match=r"\[LIMIT\] .*imap-connections-per-user 2"):
        m.login("alice", PASSWORD)
    # another user from the same address is not counted with alice
    assert m.login("carol", "other")[0] == "OK"
    m.logout()
    held.pop().logout()
    m = imap(t)
    assert m.login("alice", PASSWORD)[0] == "OK"
    m.logout()
    for m in held:
        m.logout()
