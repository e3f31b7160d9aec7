"""IMAP AUTHENTICATE SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC
7677, tls-exporter channel binding RFC 9266) against the real daemon, with
a SCRAM client written here (hashlib.pbkdf2_hmac, hmac) and, for -PLUS,
the exporter data of the very TLS connection from pyOpenSSL
(python3-openssl).  Keys are opt-in per account (`talon user --scram`);
accounts without them, unknown users and wrong passwords fail alike at the
final step, delayed and counted for bans like PLAIN failures."""
import base64
import hashlib
import hmac
import imaplib
import os
import re
import select
import socket
import subprocess
import time
import warnings

import pytest
from OpenSSL import SSL

from conftest import TALON, free_port
from test_imap import PASSWORD, Raw, ctx, yescrypt

warnings.filterwarnings("ignore", category=DeprecationWarning)

CB_LABEL = b"EXPORTER-Channel-Binding"


def scram_field(pw, iters=10000, salt=None):
    """The users file's extra pair for pw, computed here apart from talon."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, iters)
    ckey = hmac.new(salted, b"Client Key", "sha256").digest()
    stored = hashlib.sha256(ckey).digest()
    server = hmac.new(salted, b"Server Key", "sha256").digest()
    b = lambda x: base64.b64encode(x).decode()
    return "scram-sha-256=%d,%s,%s,%s" % (iters, b(salt), b(stored), b(server))


class Scram:
    """The client's side of one SCRAM-SHA-256(-PLUS) exchange."""

    def __init__(self, user, password, flag="n", cb_data=b"", authzid="", bare_extra=""):
        gs2 = "p=tls-exporter" if flag == "p" else flag
        self.gs2 = ("%s,%s," % (gs2, "a=" + authzid if authzid else "")).encode()
        self.cb_data = cb_data
        self.password = password
        self.cnonce = base64.b64encode(os.urandom(18)).decode()
        name = user.replace("=", "=3D").replace(",", "=2C")
        self.bare = "%sn=%s,r=%s" % (bare_extra, name, self.cnonce)
        self.expected_v = None
        self.server_first = None

    def first(self):
        return self.gs2 + self.bare.encode()

    def final(self, server_first):
        sf = server_first.decode()
        self.server_first = sf
        attrs = dict(kv.split("=", 1) for kv in sf.split(","))
        assert attrs["r"].startswith(self.cnonce) and len(attrs["r"]) > len(self.cnonce)
        self.salt, self.iters = base64.b64decode(attrs["s"]), int(attrs["i"])
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), self.salt, self.iters)
        ckey = hmac.new(salted, b"Client Key", "sha256").digest()
        stored = hashlib.sha256(ckey).digest()
        skey = hmac.new(salted, b"Server Key", "sha256").digest()
        without = "c=%s,r=%s" % (base64.b64encode(self.gs2 + self.cb_data).decode(), attrs["r"])
        am = ("%s,%s,%s" % (self.bare, sf, without)).encode()
        csig = hmac.new(stored, am, "sha256").digest()
        self.proof = base64.b64encode(bytes(a ^ b for a, b in zip(ckey, csig))).decode()
        self.expected_v = "v=" + base64.b64encode(hmac.new(skey, am, "sha256").digest()).decode()
        return ("%s,p=%s" % (without, self.proof)).encode()

    def verify(self, server_final):
        """RFC 5802 5: the client trusts the login only if v= is right."""
        return self.expected_v is not None and hmac.compare_digest(
            server_final if isinstance(server_final, bytes) else server_final.encode(),
            self.expected_v.encode())

    def imaplib_callback(self):
        """For imaplib.authenticate: first, final, then the empty line
        only after v= checked out (None makes imaplib send "*")."""
        step = [0]

        def cb(data):
            step[0] += 1
            if step[0] == 1:
                return self.first()
            if step[0] == 2:
                return self.final(data)
            return b"" if self.verify(data) else None
        return cb


def b64(x):
    return base64.b64encode(x).decode()


def unb64(line):
    assert line.startswith("+ "), line
    return base64.b64decode(line[2:].strip())


def make(talon_factory, extra="", limits=None, users=None):
    p_starttls, p_tls = free_port(), free_port()
    t = talon_factory(extra="listen imap 127.0.0.1:%d tls starttls\n"
                      "listen imap 127.0.0.1:%d tls implicit\n%s" % (p_starttls, p_tls, extra),
                      limits=limits)
    t.imap_port, t.imaps_port = p_starttls, p_tls
    if users is None:
        # alice: SCRAM keys (and a uid/gid/... like Dovecot's, and another
        # extra pair); carol: a password, no SCRAM keys; bob: no login
        users = ("# test accounts\n"
                 "alice:{CRYPT}%s:1000:1000::/home/alice::userdb_quota_rule=*:storage=1G %s\n"
                 "bob:\ncarol:{CRYPT}%s\n" % (yescrypt(PASSWORD), scram_field(PASSWORD),
                                            yescrypt("other")))
    with open(os.path.join(t.dir, "users"), "w") as f:
        f.write(users)
    t.start()
    t.wait_log(r"auth event=users generation=1 ")
    t.wait_log(r"imap event=start listeners=2")
    return t


def imaps(t):
    return imaplib.IMAP4_SSL("127.0.0.1", t.imaps_port, ssl_context=ctx(), timeout=30)


def caps(t, tries=50):
    """CAPABILITY over implicit TLS (the auth process tells the front
    whether to offer SCRAM right after it read the users file: retried
    briefly when expecting a change)."""
    r = Raw(t, implicit=True)
    r.line()
    r.send("c CAPABILITY\r\n")
    line = r.until("c")[0]
    r.close()
    return line


def wait_caps(t, want, timeout=10):
    deadline = time.time() + timeout
    while True:
        line = caps(t)
        if ("AUTH=SCRAM-SHA-256 " in line) == want:
            return line
        assert time.time() < deadline, line
        time.sleep(0.1)


class TLSRaw(Raw):
    """A line-at-a-time IMAP client over pyOpenSSL, which (unlike Python's
    ssl module) exports keying material (RFC 5705) for tls-exporter; Raw's
    until() over its own line()."""

    def __init__(self, t, max_version=None):
        c = SSL.Context(SSL.TLS_CLIENT_METHOD)
        c.set_verify(SSL.VERIFY_NONE, lambda *a: True)
        if max_version is not None:
            c.set_max_proto_version(max_version)
        self.sock = socket.create_connection(("127.0.0.1", t.imaps_port), timeout=15)
        self.sock.settimeout(None)      # pyOpenSSL wants a blocking socket
        self.conn = SSL.Connection(c, self.sock)
        self.conn.set_connect_state()
        self.conn.do_handshake()
        self.buf = b""

    def exporter(self):
        return self.conn.export_keying_material(CB_LABEL, 32)

    def send(self, data):
        self.conn.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\r\n" not in self.buf:
            if self.conn.pending() == 0:
                r, _, _ = select.select([self.sock], [], [], 15)
                assert r, "no answer within 15 s; have %r" % self.buf
            try:
                d = self.conn.recv(65536)
            except (SSL.ZeroReturnError, SSL.SysCallError):
                d = b""
            if not d:
                ln, self.buf = self.buf, b""
                return ln.decode()
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode() + "\r\n"

    def close(self):
        self.sock.close()


def scram_raw(r, tag, sc, mech="SCRAM-SHA-256", ir=False, confirm=True):
    """One exchange on a raw client: the last lines the server sent."""
    if ir:
        r.send("%s AUTHENTICATE %s %s\r\n" % (tag, mech, b64(sc.first())))
    else:
        r.send("%s AUTHENTICATE %s\r\n" % (tag, mech))
        assert r.line() == "+ \r\n"
        r.send(b64(sc.first()) + "\r\n")
    ln = r.line()
    if not ln.startswith("+ "):
        return [ln]
    r.send(b64(sc.final(unb64(ln))) + "\r\n")
    ln = r.line()
    if not ln.startswith("+ "):
        return [ln]
    assert sc.verify(unb64(ln)), ln
    if not confirm:
        return [ln]
    r.send("\r\n")
    return r.until(tag)


def test_capability_offers_scram_only_under_tls(talon_factory):
    t = make(talon_factory)
    t.wait_log(r"auth event=users generation=1 accounts=3 with_password=2 with_scram=1")
    r = Raw(t)
    assert "AUTH=" not in r.line()
    r.close()
    line = wait_caps(t, True)
    # TLS 1.3 here: -PLUS is offered with the plain mechanism
    assert re.match(r"\* CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN AUTH=LOGIN SASL-IR "
                    r"AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-256-PLUS ", line), line
    m = imaps(t)
    assert "AUTH=SCRAM-SHA-256" in m.capabilities and "AUTH=SCRAM-SHA-256-PLUS" in m.capabilities
    m.logout()
    # TLS 1.2: OpenSSL negotiates the extended master secret, so -PLUS
    # stays (RFC 9266 4.2)
    r = TLSRaw(t, max_version=SSL.TLS1_2_VERSION)
    assert r.conn.get_protocol_version_name() == "TLSv1.2"
    assert "AUTH=SCRAM-SHA-256-PLUS" in r.line()
    r.close()


def test_scram_login_with_imaplib_then_select(talon_factory):
    t = make(talon_factory)
    m = imaps(t)
    sc = Scram("alice", PASSWORD)
    typ, data = m.authenticate("SCRAM-SHA-256", sc.imaplib_callback())
    assert typ == "OK", (typ, data)
    assert sc.iters == 10000 and len(sc.salt) == 16
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"0"], (typ, data)
    assert m.logout()[0] == "BYE"
    # the user name in another case is the same account (as for PLAIN)
    m = imaps(t)
    assert m.authenticate("SCRAM-SHA-256", Scram("Alice", PASSWORD).imaplib_callback())[0] == "OK"
    m.logout()
    log = t.log()
    assert re.search(r"auth event=scram user=alice client=\[127.0.0.1\] result=ok", log), log
    assert re.search(r"imap session=\w+ event=login client=\[127.0.0.1\] user=alice result=ok",
                     log)
    # no secret in any log line: password, proof, keys, signature
    for secret in (PASSWORD, sc.proof, sc.expected_v[2:]):
        assert secret not in log
    with open(os.path.join(t.dir, "users")) as f:
        for part in f.read().split("scram-sha-256=")[1].split()[0].split(",")[1:]:
            assert part not in log


def fail_exchange(t, user, pw, source=None):
    """A SCRAM exchange that must fail at the final step: the server-first
    message it got, and the tagged answer."""
    r = Raw(t, implicit=True, source=source)
    r.line()
    sc = Scram(user, pw)
    r.send("a AUTHENTICATE SCRAM-SHA-256 %s\r\n" % b64(sc.first()))
    ln = r.line()
    assert ln.startswith("+ "), ln         # never refused before the final step
    r.send(b64(sc.final(unb64(ln))) + "\r\n")
    answer = r.until("a")[-1]
    r.close()
    return sc, answer


def test_wrong_password_unknown_user_and_no_keys_fail_alike(talon_factory):
    t = make(talon_factory)
    out = {}
    for user, pw in (("alice", "wrong"), ("carol", "other"), ("nosuchuser", "x"),
                     ("bob", "")):
        sc, answer = fail_exchange(t, user, pw or "y")
        out[user] = (sc, answer)
        assert answer == "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n", (user, answer)
        # the same shape of challenge: 16 bytes of salt, 10000 iterations
        assert len(sc.salt) == 16 and sc.iters == 10000, (user, sc.server_first)
    # a fake salt is the same every time a name is asked for (else a
    # second try would tell), and another for another name
    again, _ = fail_exchange(t, "NoSuchUser", "z")
    assert again.salt == out["nosuchuser"][0].salt
    assert out["carol"][0].salt != out["nosuchuser"][0].salt
    # the failure delay of PLAIN: 0, 0, then 250 ms for the same pair
    for _ in range(2):
        fail_exchange(t, "nosuchuser", "x")
    for who in ("alice", "carol", "nosuchuser", "bob"):
        t.wait_log(r'auth event=scram user="%s" client=\[127.0.0.1\] result=fail delay_ms=0'
                   % who)
    t.wait_log(r'auth event=scram user="nosuchuser" client=\[127.0.0.1\] result=fail '
               r'delay_ms=250')
    # carol still logs in with PLAIN
    m = imaps(t)
    assert m.login("carol", "other")[0] == "OK"
    m.logout()


def test_scram_failures_earn_ban_points(talon_factory):
    t = make(talon_factory, extra="auto-ban on\nban-points auth-failure 5\n",
             limits={"ban-threshold": 10})
    for _ in range(2):
        _, answer = fail_exchange(t, "alice", "guess", source="127.0.0.50")
        assert answer.startswith("a NO [AUTHENTICATIONFAILED]")
    t.wait_log(r"policy event=ban client=\[127.0.0.50\] ban=127.0.0.50 until=\S+ count=1 "
               r'reason="auto: auth-failure=2"')


def test_plus_with_tls_exporter(talon_factory):
    t = make(talon_factory)
    wait_caps(t, True)
    r = TLSRaw(t)
    r.line()
    cb = r.exporter()
    lines = scram_raw(r, "a", Scram("alice", PASSWORD, flag="p", cb_data=cb),
                      mech="SCRAM-SHA-256-PLUS")
    assert lines[-1].startswith("a OK "), lines
    r.send("b SELECT INBOX\r\n")
    assert r.until("b")[-1].startswith("b OK "), "logged in: SELECT works"
    r.close()
    # other exporter data (a man in the middle's connection): no
    r = TLSRaw(t)
    r.line()
    bad = bytes([r.exporter()[0] ^ 1]) + r.exporter()[1:]
    lines = scram_raw(r, "a", Scram("alice", PASSWORD, flag="p", cb_data=bad),
                      mech="SCRAM-SHA-256-PLUS")
    assert lines[-1] == "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n", lines
    # -PLUS without "p=tls-exporter", or another binding type
    for sc in (Scram("alice", PASSWORD), Scram("alice", PASSWORD, flag="y")):
        assert scram_raw(r, "b", sc, mech="SCRAM-SHA-256-PLUS")[-1].startswith(
            "b NO [AUTHENTICATIONFAILED]")
    sc = Scram("alice", PASSWORD)
    sc.gs2 = b"p=tls-unique,,"
    assert scram_raw(r, "c", sc, mech="SCRAM-SHA-256-PLUS")[-1].startswith(
        "c NO [AUTHENTICATIONFAILED]")
    r.close()
    # (five failures end a session: a new one)
    r = TLSRaw(t)
    r.line()
    # "y" under SCRAM-SHA-256 while -PLUS is offered: a downgrade
    sc = Scram("alice", PASSWORD, flag="y")
    assert scram_raw(r, "d", sc)[-1].startswith("d NO [AUTHENTICATIONFAILED]")
    # "p=" under the mechanism without -PLUS
    sc = Scram("alice", PASSWORD, flag="p", cb_data=r.exporter())
    assert scram_raw(r, "e", sc)[-1].startswith("e NO [AUTHENTICATIONFAILED]")
    r.close()
    t.wait_log(r"auth event=scram client=\[127.0.0.1\] result=refused reason=channel-binding")


def test_sasl_ir_cancel_and_malformed(talon_factory):
    t = make(talon_factory)
    r = Raw(t, implicit=True)
    r.line()
    lines = scram_raw(r, "a", Scram("alice", PASSWORD), ir=True)
    assert lines[-1].startswith("a OK [CAPABILITY "), lines
    r.close()
    r = Raw(t, implicit=True)
    r.line()
    # "*" instead of the client-first, the client-final, the empty line
    r.send("b AUTHENTICATE SCRAM-SHA-256\r\n")
    assert r.line() == "+ \r\n"
    r.send("*\r\n")
    assert r.line() == "b BAD AUTHENTICATE cancelled\r\n"
    sc = Scram("alice", PASSWORD)
    r.send("c AUTHENTICATE SCRAM-SHA-256 %s\r\n" % b64(sc.first()))
    assert r.line().startswith("+ ")
    r.send("*\r\n")
    assert r.line() == "c BAD AUTHENTICATE cancelled\r\n"
    lines = scram_raw(r, "d", Scram("alice", PASSWORD), confirm=False)
    r.send("*\r\n")
    assert r.line() == "d BAD AUTHENTICATE cancelled\r\n"
    # still not logged in
    r.send("e SELECT INBOX\r\n")
    assert r.until("e")[-1] == "e BAD Log in first\r\n"
    # malformed: BAD; authzid of another user: AUTHORIZATIONFAILED; m=: NO
    r.send("f AUTHENTICATE SCRAM-SHA-256 !!!!\r\n")
    assert r.until("f")[-1].startswith("f BAD Invalid SASL response (bad-base64)")
    r.send("g AUTHENTICATE SCRAM-SHA-256 %s\r\n" % b64(b"n,,n=alice"))
    assert r.until("g")[-1] == "g BAD Invalid SASL response (bad-syntax)\r\n"
    r.send("h AUTHENTICATE SCRAM-SHA-256 =\r\n")
    assert r.until("h")[-1].startswith("h BAD ")
    sc = Scram("alice", PASSWORD, authzid="carol")
    assert scram_raw(r, "i", sc, ir=True)[-1].startswith("i NO [AUTHORIZATIONFAILED] ")
    sc = Scram("alice", PASSWORD, bare_extra="m=x,")
    assert scram_raw(r, "j", sc, ir=True)[-1].startswith("j NO [AUTHENTICATIONFAILED] ")
    # a user name outside printable ASCII (no SASLprep here)
    sc = Scram("al\u00efce", PASSWORD)
    assert scram_raw(r, "k", sc, ir=True)[-1].startswith("k NO [AUTHENTICATIONFAILED] ")
    # a client-final that is not the grammar
    r.send("l AUTHENTICATE SCRAM-SHA-256 %s\r\n" % b64(Scram("alice", PASSWORD).first()))
    assert r.line().startswith("+ ")
    r.send(b64(b"c=biws,r=x") + "\r\n")
    assert r.until("l")[-1] == "l NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
    # an authzid equal to the user is fine
    lines = scram_raw(r, "m", Scram("alice", PASSWORD, authzid="alice"), ir=True)
    assert lines[-1].startswith("m OK "), lines
    r.close()
    t.wait_log(r"auth event=scram client=\[127.0.0.1\] result=refused reason=mext")
    t.wait_log(r"auth event=scram client=\[127.0.0.1\] result=refused reason=bad-syntax")


def test_tampered_server_signature_is_detected(talon_factory):
    """The client checks v= (RFC 5802 5): the real one verifies, one with
    a bit flipped does not, and a client that then cancels is not logged in."""
    t = make(talon_factory)
    r = Raw(t, implicit=True)
    r.line()
    sc = Scram("alice", PASSWORD)
    lines = scram_raw(r, "a", sc, confirm=False)
    v = unb64(lines[-1])
    assert sc.verify(v)
    sig = bytearray(base64.b64decode(v[2:]))
    sig[5] ^= 0x10
    assert not sc.verify(b"v=" + base64.b64encode(bytes(sig)))
    r.send("*\r\n")
    assert r.line() == "a BAD AUTHENTICATE cancelled\r\n"
    r.send("b SELECT INBOX\r\n")
    assert r.until("b")[-1] == "b BAD Log in first\r\n"
    r.close()
    # imaplib with a callback that sees a wrong password's signature never
    # gets a v= at all: the server said NO first
    m = imaps(t)
    with pytest.raises(imaplib.IMAP4.error, match=r"AUTHENTICATIONFAILED"):
        m.authenticate("SCRAM-SHA-256", Scram("alice", "nope").imaplib_callback())
    m.logout()


def user_cli(t, *args, stdin=""):
    return subprocess.run([TALON, "-c", t.conf, "user"] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_cli_scram_keys_opt_in_and_removed_by_passwd(talon_factory):
    t = make(talon_factory, users="alice:{CRYPT}%s\nbob:\n" % yescrypt(PASSWORD))
    t.wait_log(r"auth event=users generation=1 accounts=2 with_password=1 with_scram=0")
    # nobody has keys: SCRAM is not offered (SASL libraries would pick it)
    line = wait_caps(t, False)
    assert "AUTH=PLAIN" in line and "SCRAM" not in line
    path = os.path.join(t.dir, "users")
    r = user_cli(t, "add", "dave", "--scram", stdin="dave pass 1\n")
    assert r.returncode == 0, r.stderr
    assert "stored SCRAM-SHA-256 keys (PBKDF2, 10000 iterations)" in r.stdout
    assert user_cli(t, "list").stdout == "alice\tlogin\nbob\tno login\ndave\tlogin\tscram-sha-256\n"
    with open(path) as f:
        text = f.read()
    assert re.search(r"^dave:\{CRYPT\}\$y\$[^:]+::::::scram-sha-256=10000,[A-Za-z0-9+/]{22}==,"
                     r"[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}=\n", text, re.M), text
    assert "dave pass 1" not in text
    # a non-ASCII password is refused for SCRAM (no SASLprep), not for PLAIN
    r = user_cli(t, "passwd", "alice", "--scram", stdin="caf\u00e9\n")
    assert r.returncode == 1 and "printable ASCII" in r.stderr
    t.reload()
    t.wait_log(r"auth event=users generation=2 accounts=3 with_password=2 with_scram=1")
    wait_caps(t, True)
    m = imaps(t)
    assert m.authenticate("SCRAM-SHA-256", Scram("dave", "dave pass 1").imaplib_callback())[0] \
        == "OK"
    m.logout()
    m = imaps(t)
    assert m.login("dave", "dave pass 1")[0] == "OK"
    m.logout()
    # passwd without --scram: the old keys go (they would let the old
    # password in); SCRAM then fails even with the new password, PLAIN works
    r = user_cli(t, "passwd", "dave", stdin="dave pass 2\n")
    assert r.returncode == 0, r.stderr
    assert "removed the old SCRAM-SHA-256 keys" in r.stdout
    assert user_cli(t, "list").stdout == "alice\tlogin\nbob\tno login\ndave\tlogin\n"
    with open(path) as f:
        text = f.read()
    assert "scram-sha-256" not in text and re.search(r"^dave:\{CRYPT\}\$y\$[^:]+\n", text, re.M)
    t.reload()
    t.wait_log(r"auth event=users generation=3 accounts=3 with_password=2 with_scram=0")
    for pw in ("dave pass 1", "dave pass 2"):
        m = imaps(t)
        with pytest.raises(imaplib.IMAP4.error, match=r"AUTHENTICATIONFAILED"):
            m.authenticate("SCRAM-SHA-256", Scram("dave", pw).imaplib_callback())
        m.logout()
    m = imaps(t)
    assert m.login("dave", "dave pass 2")[0] == "OK"
    m.logout()
    wait_caps(t, False)
    # passwd --scram keeps the other fields and extra pairs
    with open(path, "a") as f:
        f.write("erin:{CRYPT}%s:1000:1000:Erin:/home/erin:/bin/sh:userdb_x=1 "
                "scram-sha-256=old\n" % yescrypt("e"))
    r = user_cli(t, "list")
    assert r.returncode == 1 and "users:4: malformed scram-sha-256= value (expected ITER," \
        "SALT,STOREDKEY,SERVERKEY)" in r.stderr
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace(" scram-sha-256=old", ""))
    r = user_cli(t, "passwd", "erin", "--scram", stdin="erin pass\n")
    assert r.returncode == 0, r.stderr
    with open(path) as f:
        line = [ln for ln in f.read().splitlines() if ln.startswith("erin:")][0]
    assert re.fullmatch(r"erin:\{CRYPT\}\$y\$[^:]+:1000:1000:Erin:/home/erin:/bin/sh:userdb_x=1 "
                        r"scram-sha-256=10000,\S+", line), line
    r = user_cli(t, "passwd", "erin", stdin="erin pass 2\n")
    with open(path) as f:
        line = [ln for ln in f.read().splitlines() if ln.startswith("erin:")][0]
    assert re.fullmatch(r"erin:\{CRYPT\}\$y\$[^:]+:1000:1000:Erin:/home/erin:/bin/sh:userdb_x=1",
                        line), line
