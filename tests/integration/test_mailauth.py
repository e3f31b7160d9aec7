"""Mail authentication end to end (issue 12 parts 1, 6 and 7): the real
daemon, its resolver forwarding to its own DNS server on loopback, clients
bound to 127.0.0.x addresses, DKIM signatures made by python3-dkim and the
Authentication-Results read back with python3-authres."""
import os
import re
import smtplib
import subprocess
import time

import authres
import dkim
import pytest

from conftest import free_port

AUTH_ZONE = """$ORIGIN auth.test.
$TTL 60
@        IN SOA ns hostmaster 1 3600 600 86400 60
         IN NS  ns
ns       IN A   127.0.0.1
@        IN TXT "v=spf1 ip4:127.0.0.5 -all"
_dmarc   IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@auth.test"
quar     IN TXT "v=spf1 ip4:127.0.0.5 -all"
_dmarc.quar IN TXT "v=DMARC1; p=quarantine"
sub      IN TXT "v=spf1 ip4:127.0.0.5 -all"
client7  IN A   127.0.0.7
liar     IN A   127.0.0.99
%(dkim)s
"""

ROOT_ZONE = """$ORIGIN .
$TTL 60
@ IN SOA ns.auth.test. hostmaster.auth.test. 1 3600 600 86400 60
  IN NS ns.auth.test.
7.0.0.127.in-addr.arpa. IN PTR client7.auth.test.
8.0.0.127.in-addr.arpa. IN PTR liar.auth.test.
"""


def txt_strings(s, n=200):
    return " ".join('"%s"' % s[i:i + n] for i in range(0, len(s), n))


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    d = tmp_path_factory.mktemp("dkimkey")
    key = os.path.join(str(d), "key.pem")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    import base64
    with open(key, "rb") as f:
        return f.read(), base64.b64encode(pub).decode()


def make(talon_factory, rsa_key, extra="", dead_dns=False, limits=None):
    port = free_port()
    dkim_rr = "sel._domainkey IN TXT %s" % txt_strings("v=DKIM1; k=rsa; p=" + rsa_key[1])
    target = free_port() if dead_dns else port
    lim = {"dns-responses": 0, "resolver-timeout": 2}
    lim.update(limits or {})
    t = talon_factory(extra="listen dns 127.0.0.1:%d\nzone auth.test auth.zone\n"
                      "zone . root.zone\nresolver forward 127.0.0.1@%d\n%s" % (
                          port, target, extra), limits=lim)
    with open(os.path.join(t.dir, "auth.zone"), "w") as f:
        f.write(AUTH_ZONE % {"dkim": dkim_rr})
    with open(os.path.join(t.dir, "root.zone"), "w") as f:
        f.write(ROOT_ZONE)
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=2")
    return t


def smtp_from(t, ip):
    return smtplib.SMTP("127.0.0.1", t.port, source_address=(ip, 0), timeout=30)


def message(frm="a@auth.test", extra_headers="", body="Hello.\r\n"):
    return ("From: %s\r\nTo: alice@test.example\r\nSubject: test\r\n"
            "Date: Tue, 01 Dec 2026 12:00:00 +0000\r\nMessage-ID: <m1@auth.test>\r\n"
            "%s\r\n%s" % (frm, extra_headers, body)).encode()


def send(t, ip, mail_from, msg, rcpt="alice@test.example"):
    c = smtp_from(t, ip)
    c.ehlo("client.example")
    code, reply = c.mail(mail_from)
    if code != 250:
        c.quit()
        return ("MAIL", code, reply.decode())
    code, reply = c.rcpt(rcpt)
    assert code == 250, reply
    code, reply = c.data(msg)
    c.quit()
    return ("DATA", code, reply.decode())


def delivered(t, user="alice", sub="new", n=1, folder=None):
    d = os.path.join(t.dir, "store", user, "Maildir")
    if folder:
        d = os.path.join(d, "." + folder)
    d = os.path.join(d, sub)
    deadline = time.time() + 15
    while time.time() < deadline:
        if os.path.isdir(d) and len(os.listdir(d)) >= n:
            break
        time.sleep(0.05)
    files = sorted(os.listdir(d)) if os.path.isdir(d) else []
    assert len(files) >= n, "no message in %s" % d
    with open(os.path.join(d, files[-1]), "rb") as f:
        return f.read()


def headers(raw, name):
    """Unfolded values of the header fields called name, in order."""
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    out, cur = [], None
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and cur is not None:
            out[-1] += " " + line.strip()
            continue
        k, _, v = line.partition(":")
        cur = k.strip().lower() == name.lower()
        if cur:
            out.append(v.strip())
        else:
            cur = None
    return out


def our_ar(t, raw):
    ars = [a for a in headers(raw, "Authentication-Results")
           if a.split(";")[0].strip().lower() == t.hostname]
    assert len(ars) == 1, ars
    parsed = authres.AuthenticationResultsHeader.parse(
        "Authentication-Results: " + ars[0])
    return {r.method: r for r in parsed.results}, parsed


# --- SPF at MAIL FROM ----------------------------------------------------------

def test_spf_fail_refused_at_mail_and_pass_accepted(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key)
    where, code, reply = send(t, "127.0.0.9", "a@auth.test", message())
    assert (where, code) == ("MAIL", 550), reply
    assert reply.startswith("5.7.23"), reply
    assert "127.0.0.9" in reply
    assert re.search(r"event=reject .*spf=fail spf_domain=auth.test", t.log())
    where, code, reply = send(t, "127.0.0.5", "a@auth.test", message())
    assert (where, code) == ("DATA", 250), reply
    res, _ = our_ar(t, delivered(t))
    assert res["spf"].result == "pass"
    assert res["dmarc"].result == "pass"
    assert re.search(r"event=auth .* spf=pass dkim=none dmarc=pass header_from=auth.test", t.log())


def test_spf_fail_recorded_only_with_spf_fail_record(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key, extra="spf-fail record")
    # DMARC of sub.auth.test falls back to auth.test's record (p=reject, sp
    # unset -> reject), so use the null sender's HELO identity with a
    # From domain without a DMARC record
    where, code, reply = send(t, "127.0.0.9", "a@sub.auth.test", message(frm="a@elsewhere.test"))
    assert (where, code) == ("DATA", 250), reply
    res, _ = our_ar(t, delivered(t))
    assert res["spf"].result == "fail"
    assert any(p.value == "a@sub.auth.test" for p in res["spf"].properties)
    assert res["dmarc"].result == "none"


# --- Authentication-Results -------------------------------------------------------

def test_forged_authentication_results_removed_foreign_kept(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key)
    forged = ("Authentication-Results: %s;\r\n\tdkim=pass header.d=auth.test\r\n"
              "Authentication-Results: other.example; spf=pass smtp.mailfrom=x@y.example\r\n"
              "Authentication-Results: (comment) %s ; dmarc=pass\r\n" % (
                  t.hostname.upper(), t.hostname))
    where, code, reply = send(t, "127.0.0.5", "a@auth.test", message(extra_headers=forged))
    assert code == 250, reply
    raw = delivered(t)
    ars = headers(raw, "Authentication-Results")
    assert len(ars) == 2, ars
    assert ars[1].startswith("other.example")
    res, parsed = our_ar(t, raw)
    assert parsed.authserv_id == t.hostname
    assert res["dkim"].result == "none"
    assert res["iprev"].result == "fail"
    # ours comes before the Received header we add, the client's after
    head = raw.split(b"\n\n", 1)[0].decode()
    assert head.index("Authentication-Results: " + t.hostname) < head.index("Received:")
    assert head.index("Received:") < head.index("Authentication-Results: other.example")
    # the size in the file name counts what was written
    name = os.listdir(os.path.join(t.dir, "store", "alice", "Maildir", "new"))[0]
    assert int(re.search(r",S=(\d+)", name).group(1)) == len(raw)


# --- DKIM and DMARC at the end of the data -----------------------------------------

def signed(rsa_key, msg, domain=b"auth.test"):
    sig = dkim.sign(msg, b"sel", domain, rsa_key[0],
                    include_headers=[b"from", b"to", b"subject", b"date"])
    return sig + msg


def test_dkim_pass_makes_dmarc_pass_despite_spf_fail(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key, extra="spf-fail record")
    msg = signed(rsa_key, message())
    where, code, reply = send(t, "127.0.0.9", "bounce@sub.auth.test", msg)
    assert (where, code) == ("DATA", 250), reply
    res, _ = our_ar(t, delivered(t))
    assert res["dkim"].result == "pass"
    props = {p.type + "." + p.name: p.value for p in res["dkim"].properties}
    assert props["header.d"] == "auth.test" and props["header.s"] == "sel"
    assert res["spf"].result == "fail"
    assert res["dmarc"].result == "pass"


def test_dmarc_reject_refused_at_end_of_data(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key, extra="spf-fail record")
    msg = signed(rsa_key, message())
    tampered = msg.replace(b"Hello.", b"Hullo.")
    where, code, reply = send(t, "127.0.0.9", "bounce@sub.auth.test", tampered)
    assert (where, code) == ("DATA", 550), reply
    assert reply.startswith("5.7.1") and "DMARC" in reply and "auth.test" in reply
    assert re.search(r"event=auth .* dkim=fail\(auth.test\) dmarc=fail .*policy=reject", t.log())
    assert not os.path.isdir(os.path.join(t.dir, "store", "alice", "Maildir", "new")) or \
        os.listdir(os.path.join(t.dir, "store", "alice", "Maildir", "new")) == []


def test_dmarc_quarantine_lands_in_junk(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key, extra="spf-fail record")
    where, code, reply = send(t, "127.0.0.9", "x@quar.auth.test", message(frm="x@quar.auth.test"))
    assert (where, code) == ("DATA", 250), reply
    raw = delivered(t, folder="Junk")
    res, _ = our_ar(t, raw)
    assert res["dmarc"].result == "fail"
    assert any(p.value == "quarantine" for p in res["dmarc"].properties)
    base = os.path.join(t.dir, "store", "alice", "Maildir")
    assert os.path.exists(os.path.join(base, ".Junk", "maildirfolder"))
    assert not os.listdir(os.path.join(base, "new"))


# --- the resolver: names, and a server that does not answer -------------------------

def test_received_names_only_a_forward_confirmed_client(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key)
    for ip in ("127.0.0.7", "127.0.0.8"):
        where, code, reply = send(t, ip, "a@elsewhere.test", message(frm="a@elsewhere.test"))
        assert code == 250, reply
    d = os.path.join(t.dir, "store", "alice", "Maildir", "new")
    delivered(t, n=2)
    raws = [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))]
    by_ip = {}
    for raw in raws:
        rcv = headers(raw, "Received")[0]
        by_ip[re.search(r"\[(127\.0\.0\.\d+)\]", rcv).group(1)] = (rcv, our_ar(t, raw)[0])
    rcv, res = by_ip["127.0.0.7"]
    assert "(client7.auth.test [127.0.0.7])" in rcv
    assert res["iprev"].result == "pass"
    # 127.0.0.8's PTR names liar.auth.test, whose address is another
    rcv, res = by_ip["127.0.0.8"]
    assert "(unknown [127.0.0.8])" in rcv and "liar" not in rcv
    assert res["iprev"].result == "fail"


def test_dns_that_does_not_answer_is_temperror(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key, dead_dns=True)
    where, code, reply = send(t, "127.0.0.5", "a@auth.test", message())
    # a fail would have been refused here, so a temporary error is 451
    assert (where, code) == ("MAIL", 451), reply
    assert reply.startswith("4.4.3")


def test_dns_that_does_not_answer_spf_recorded(talon_factory, rsa_key):
    t = make(talon_factory, rsa_key, dead_dns=True, extra="spf-fail record")
    msg = signed(rsa_key, message())
    where, code, reply = send(t, "127.0.0.5", "a@auth.test", msg)
    assert (where, code) == ("DATA", 250), reply
    res, _ = our_ar(t, delivered(t))
    assert res["spf"].result == "temperror"
    assert res["dkim"].result == "temperror"
    assert res["dmarc"].result == "temperror"
    assert res["iprev"].result == "temperror"


# --- the policy process dies while a message waits for its lookups ---------------

def test_policy_killed_while_a_message_waits_for_lookups(talon_factory, rsa_key):
    """The worker gets temporary errors for what it waited for, commits the
    message with dmarc=temperror (no p=reject here: spf-fail record and an
    SPF pass), and the restarted policy process serves the next session."""
    import signal
    import threading
    from dnsproxy import DropProxy
    port = free_port()
    state = {"drop": True}
    proxy = DropProxy(("127.0.0.1", port),
                      drop=lambda n, qt: state["drop"] and n.startswith("_dmarc."))
    proxy.start()
    try:
        t = talon_factory(extra="listen dns 127.0.0.1:%d\nzone auth.test auth.zone\n"
                          "zone . root.zone\nresolver forward 127.0.0.1@%d\nspf-fail record"
                          % (port, proxy.port),
                          limits={"dns-responses": 0, "resolver-timeout": 30})
        t.crash_expected = True
        with open(os.path.join(t.dir, "auth.zone"), "w") as f:
            f.write(AUTH_ZONE % {"dkim": ""})
        with open(os.path.join(t.dir, "root.zone"), "w") as f:
            f.write(ROOT_ZONE)
        t.start()
        t.wait_log(r"dns event=zones generation=1 zones=2")
        out = {}
        th = threading.Thread(target=lambda: out.update(
            r=send(t, "127.0.0.5", "a@auth.test", message())))
        th.start()
        deadline = time.time() + 20
        while time.time() < deadline and not proxy.dropped:
            time.sleep(0.05)
        assert proxy.dropped, "the DMARC lookup never went out"
        old = t.child_pids("policy")
        assert len(old) == 1
        state["drop"] = False
        os.kill(old[0], signal.SIGKILL)
        th.join(30)
        assert out["r"][:2] == ("DATA", 250), out
        res, _ = our_ar(t, delivered(t))
        assert res["spf"].result == "pass"
        assert res["dmarc"].result == "temperror"
        t.wait_log(r"smtp event=policy-gone")
        t.wait_log(r"event=spawn role=policy pid=(?!%d)" % old[0])
        # the new policy process answers the next session
        deadline = time.time() + 10
        while time.time() < deadline and "policy event=resolver" not in \
                t.log().split("pid=%d" % old[0])[-1]:
            time.sleep(0.05)
        where, code, reply = send(t, "127.0.0.5", "a@auth.test", message())
        assert (where, code) == ("DATA", 250), reply
        res, _ = our_ar(t, delivered(t, n=2))
        assert res["spf"].result == "pass" and res["dmarc"].result == "pass"
    finally:
        proxy.stop()


def test_dkim_domain_with_odd_bytes_is_asked_not_fatal(talon_factory, rsa_key):
    """A d= with a byte a host name cannot have makes a key name with a
    \\DDD escape: the policy process must take the question (it once closed
    the worker's channel for it, and the worker was killed)."""
    t = make(talon_factory, rsa_key, extra="spf-fail record")
    import base64
    import hashlib
    # the right body hash, so that the verifier goes on to fetch the key
    bh = base64.b64encode(hashlib.sha256(b"Hello.\r\n").digest()).decode()
    sig = ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=exa!mple.test; "
           "s=sel;\r\n\th=from:subject; bh=%s;\r\n\tb=AAAA\r\n" % bh)
    workers = t.child_pids("smtp")
    where, code, reply = send(t, "127.0.0.5", "a@auth.test", sig.encode() + message())
    assert (where, code) == ("DATA", 250), reply
    res, _ = our_ar(t, delivered(t))
    assert res["dkim"].result == "permerror", res["dkim"].result
    assert res["dkim"].reason == "no key record", res["dkim"].reason
    assert "peer-refused" not in t.log()
    assert t.child_pids("smtp") == workers


def test_answers_are_cached_for_their_ttl_only(talon_factory, rsa_key):
    """An SPF record with a TTL of 2 s changes (zone reload): after the TTL
    the new one is asked for and used (both libunbound's cache and the
    policy process's own must let it go)."""
    t = make(talon_factory, rsa_key)
    zone = os.path.join(t.dir, "auth.zone")
    with open(zone) as f:
        text = f.read()
    text = text.replace('quar     IN TXT "v=spf1 ip4:127.0.0.5 -all"',
                        'quar   2 IN TXT "v=spf1 ip4:127.0.0.5 -all"')
    with open(zone, "w") as f:
        f.write(text)
    t.reload()
    t.wait_log(r"dns event=zones generation=2")
    assert send(t, "127.0.0.6", "x@quar.auth.test", message(frm="x@quar.auth.test"))[:2] == \
        ("MAIL", 550)
    with open(zone, "w") as f:
        f.write(text.replace("1 3600 600 86400 60", "2 3600 600 86400 60").replace(
            'quar   2 IN TXT "v=spf1 ip4:127.0.0.5 -all"',
            'quar   2 IN TXT "v=spf1 ip4:127.0.0.5 ip4:127.0.0.6 -all"'))
    t.reload()
    t.wait_log(r"dns event=zones generation=3")
    # (within the 2 s the old answer may still stand: not asserted, as a
    # loaded machine may take that long to reload)
    time.sleep(3)
    where, code, reply = send(t, "127.0.0.6", "x@quar.auth.test", message(frm="x@quar.auth.test"))
    assert (where, code) == ("DATA", 250), reply
