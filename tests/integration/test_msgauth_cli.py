"""The debugging commands against a daemon serving records: `talon resolve`,
`talon spf` and `talon dkim verify`, each resolving through the configured
resolver (libunbound forwarding to our own DNS server on loopback).

One daemon serves the module: zone cli.test (records for resolve, the SPF
table, the DKIM keys that `talon dkim keygen` printed, pasted in as they
are) and zone "." (PTR records).  The SPF table is cross-checked against
python3-spf, whose DNSLookup is replaced by one that asks the same server
with dnspython (never the machine's resolver); DKIM signatures come from
`talon dkim sign` and from python3-dkim with the same keys."""
import base64
import concurrent.futures
import os
import re
import subprocess

import dkim
import dns.exception
import dns.resolver
import pytest
import spf

from conftest import TALON, Talon, free_port

ZONE = """$ORIGIN cli.test.
$TTL 60
@         IN SOA ns hostmaster 1 3600 600 86400 60
          IN NS  ns
ns        IN A   127.0.0.1
www       IN A   192.0.2.10
www       IN AAAA 2001:db8::10
@         IN MX  10 mx1
@         IN MX  20 mx2
mx1       IN A   192.0.2.25
mx2       IN A   192.0.2.26
alias     IN CNAME www
txt       IN TXT "hello world" "second string"
odd       IN TXT "quote\\" backslash\\\\ bell\\007"

; --- the SPF table (see SPF_TABLE) ---
pass      IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
inc       IN TXT "v=spf1 include:pass.cli.test ~all"
redir     IN TXT "v=spf1 redirect=pass.cli.test"
mx        IN TXT "v=spf1 mx -all"
mx        IN MX  10 mxhost.mx
mxhost.mx IN A   198.51.100.5
a24       IN TXT "v=spf1 a/24 -all"
a24       IN A   198.51.100.77
a6        IN TXT "v=spf1 a//64 ip4:203.0.113.9 -all"
a6        IN AAAA 2001:db8:6::1
ip6       IN TXT "v=spf1 ip6:2001:db8:1::/48 -all"
exists    IN TXT "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all"
5.2.0.192.bob._spf.exists IN A 127.0.0.2
soft      IN TXT "v=spf1 ip4:192.0.2.1 ~all"
neutral   IN TXT "v=spf1 ?all"
void      IN TXT "v=spf1 a:nx1.cli.test a:nx2.cli.test a:nx3.cli.test ip4:192.0.2.0/24 -all"
void2     IN TXT "v=spf1 a:nx1.cli.test mx:nx2.cli.test ip4:192.0.2.0/24 -all"
two       IN TXT "v=spf1 -all"
two       IN TXT "v=spf1 +all"
badcidr   IN TXT "v=spf1 ip4:192.0.2.0/33 -all"
incnone   IN TXT "v=spf1 include:nospf.cli.test -all"
nospf     IN TXT "just text"
many      IN TXT "v=spf1 a a a a a a a a a a a -all"
many      IN A   198.51.100.1
exp       IN TXT "v=spf1 ip4:192.0.2.1 -all exp=why.%{d}"
why.exp   IN TXT "%{i} is not one of %{d}'s designated mail servers."
helo      IN TXT "v=spf1 ip4:192.0.2.44 -all"
ptr       IN TXT "v=spf1 ptr -all"
host.ptr  IN A   192.0.2.80
revoked._domainkey IN TXT "v=DKIM1; k=rsa; p="
@DKIM@
"""

ROOT_ZONE = """$ORIGIN .
$TTL 60
@ IN SOA ns.cli.test. hostmaster.cli.test. 1 3600 600 86400 60
  IN NS ns.cli.test.
10.2.0.192.in-addr.arpa. IN PTR www.cli.test.
80.2.0.192.in-addr.arpa. IN PTR host.ptr.cli.test.
"""

# (client IP, MAIL FROM, HELO, result both implementations must give)
SPF_TABLE = [
    ("192.0.2.7", "a@pass.cli.test", "h.example", "pass"),
    ("198.51.100.7", "a@pass.cli.test", "h.example", "fail"),
    ("192.0.2.7", "a@inc.cli.test", "h.example", "pass"),
    ("198.51.100.7", "a@inc.cli.test", "h.example", "softfail"),
    ("192.0.2.7", "a@redir.cli.test", "h.example", "pass"),
    ("198.51.100.7", "a@redir.cli.test", "h.example", "fail"),
    ("198.51.100.5", "a@mx.cli.test", "h.example", "pass"),
    ("198.51.100.6", "a@mx.cli.test", "h.example", "fail"),
    ("198.51.100.200", "a@a24.cli.test", "h.example", "pass"),
    ("198.51.101.1", "a@a24.cli.test", "h.example", "fail"),
    ("2001:db8:6::beef", "a@a6.cli.test", "h.example", "pass"),
    ("2001:db8:7::1", "a@a6.cli.test", "h.example", "fail"),
    ("2001:db8:1:ff::1", "a@ip6.cli.test", "h.example", "pass"),
    ("192.0.2.7", "a@ip6.cli.test", "h.example", "fail"),
    ("192.0.2.5", "bob@exists.cli.test", "h.example", "pass"),
    ("192.0.2.5", "bob-x@exists.cli.test", "h.example", "pass"),
    ("192.0.2.6", "bob@exists.cli.test", "h.example", "fail"),
    ("192.0.2.9", "a@soft.cli.test", "h.example", "softfail"),
    ("192.0.2.9", "a@neutral.cli.test", "h.example", "neutral"),
    ("192.0.2.9", "a@void.cli.test", "h.example", "permerror"),
    ("192.0.2.9", "a@void2.cli.test", "h.example", "pass"),
    ("192.0.2.9", "a@two.cli.test", "h.example", "permerror"),
    ("192.0.2.9", "a@badcidr.cli.test", "h.example", "permerror"),
    ("192.0.2.9", "a@incnone.cli.test", "h.example", "permerror"),
    ("198.51.100.2", "a@many.cli.test", "h.example", "permerror"),
    ("198.51.100.1", "a@many.cli.test", "h.example", "pass"),
    ("192.0.2.9", "a@nospf.cli.test", "h.example", "none"),
    ("192.0.2.9", "a@nowhere.cli.test", "h.example", "none"),
    ("192.0.2.9", "a@exp.cli.test", "h.example", "fail"),
    ("192.0.2.44", "", "helo.cli.test", "pass"),
    ("192.0.2.45", "", "helo.cli.test", "fail"),
    ("192.0.2.80", "a@ptr.cli.test", "h.example", "pass"),
    ("192.0.2.10", "a@ptr.cli.test", "h.example", "fail"),
]

ENV = dict(os.environ, ASAN_OPTIONS="abort_on_error=1:detect_leaks=1")


def run(*args, stdin=None, timeout=60):
    return subprocess.run([TALON, *args], input=stdin, capture_output=True, timeout=timeout,
                          env=ENV)


def clean(r):
    """The CLI's stderr has no sanitizer report; returns stdout as text."""
    err = r.stderr.decode("utf-8", "replace")
    assert "Sanitizer" not in err and "runtime error:" not in err, err
    return r.stdout.decode("utf-8", "replace")


# --- the daemon -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("clikeys")
    r = run("dkim", "keygen", "cli.test", "sel", "--dir", str(d))
    assert r.returncode == 0, r.stderr
    return d, clean(r)


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys):
    d = tmp_path_factory.mktemp("msgauthcli")
    port = free_port()
    t = Talon(d, extra="listen dns 127.0.0.1:%d\nzone cli.test cli.zone\nzone . root.zone\n"
              "resolver forward 127.0.0.1@%d" % (port, port),
              limits={"dns-responses": 0, "resolver-timeout": 1})
    # keygen's lines go into the zone as printed: the "; ..." notes are
    # zone-file comments and the owners absolute names
    with open(os.path.join(t.dir, "cli.zone"), "w") as f:
        f.write(ZONE.replace("@DKIM@", keys[1]))
    with open(os.path.join(t.dir, "root.zone"), "w") as f:
        f.write(ROOT_ZONE)
    # a second config for the same files whose resolver asks a port where
    # nobody answers
    t.dead_conf = os.path.join(t.dir, "dead.conf")
    with open(t.dead_conf, "w") as f:
        f.write(t.config_text().replace("@%d" % port, "@%d" % free_port()))
    t.dns_port = port
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=2")
    yield t
    rc = t.stop()
    log = t.log()
    assert rc == 0, log[-3000:]
    for bad in ("event=crash", "ERROR: AddressSanitizer", "runtime error:",
                "ERROR: LeakSanitizer", "LeakSanitizer has encountered a fatal error"):
        assert bad not in log, log[-6000:]


def talon_c(t, *args, conf=None, stdin=None):
    return run("-c", conf or t.conf, *args, stdin=stdin)


# --- talon resolve ------------------------------------------------------------------------

def test_resolve_ok_with_records(server):
    r = talon_c(server, "resolve", "www.cli.test")
    assert r.returncode == 0
    assert clean(r) == "A www.cli.test: ok\n  192.0.2.10\n"
    r = talon_c(server, "resolve", "WWW.Cli.Test.", "AAAA")
    assert r.returncode == 0
    assert clean(r) == "AAAA www.cli.test: ok\n  2001:db8::10\n"
    r = talon_c(server, "resolve", "cli.test", "mx")
    assert r.returncode == 0
    assert clean(r) == "MX cli.test: ok\n  10 mx1.cli.test\n  20 mx2.cli.test\n"
    r = talon_c(server, "resolve", "10.2.0.192.in-addr.arpa", "PTR")
    assert r.returncode == 0
    assert clean(r) == "PTR 10.2.0.192.in-addr.arpa: ok\n  www.cli.test\n"


def test_resolve_txt_strings_and_escapes(server):
    r = talon_c(server, "resolve", "txt.cli.test", "TXT")
    assert r.returncode == 0
    # the strings of one record are joined, as SPF and DKIM read them
    assert clean(r) == 'TXT txt.cli.test: ok\n  "hello worldsecond string"\n'
    r = talon_c(server, "resolve", "odd.cli.test", "TXT")
    assert r.returncode == 0
    # quotes, backslashes and control bytes escaped: nothing from DNS
    # reaches the terminal raw
    assert clean(r) == 'TXT odd.cli.test: ok\n  "quote\\x22 backslash\\x5c bell\\x07"\n'


def test_resolve_cname_followed(server):
    r = talon_c(server, "resolve", "alias.cli.test", "A")
    assert r.returncode == 0
    assert clean(r).endswith("\n  192.0.2.10\n")
    r = talon_c(server, "resolve", "alias.cli.test", "CNAME")
    assert r.returncode == 0
    assert clean(r) == "CNAME alias.cli.test: ok\n  www.cli.test\n"


def test_resolve_ok_without_records(server):
    r = talon_c(server, "resolve", "www.cli.test", "MX")
    assert r.returncode == 0
    assert clean(r) == "MX www.cli.test: ok (no records)\n"
    # an empty non-terminal: the name exists, nothing at it
    r = talon_c(server, "resolve", "_spf.exists.cli.test", "A")
    assert r.returncode == 0
    assert clean(r) == "A _spf.exists.cli.test: ok (no records)\n"


def test_resolve_nxdomain(server):
    r = talon_c(server, "resolve", "nope.cli.test", "TXT")
    assert r.returncode == 1
    assert clean(r) == "TXT nope.cli.test: nxdomain\n"


def test_resolve_tempfail_when_nobody_answers(server):
    r = talon_c(server, "resolve", "www.cli.test", conf=server.dead_conf)
    assert r.returncode == 3
    out = clean(r)
    assert re.fullmatch(r"A www\.cli\.test: tempfail (timeout|SERVFAIL)\n", out), out


def test_resolve_usage(server):
    r = talon_c(server, "resolve", "www.cli.test", "SOA")
    assert r.returncode == 2 and b"unknown type" in r.stderr
    r = talon_c(server, "resolve", "a..b", "A")
    assert r.returncode == 2 and b"not a name" in r.stderr
    r = talon_c(server, "resolve")
    assert r.returncode == 2 and b"usage:" in r.stderr
    r = talon_c(server, "resolve", "--help")
    assert r.returncode == 0 and b"Exit 0 ok, 1 nxdomain, 3 tempfail" in r.stdout


# --- talon spf: what an admin reads ----------------------------------------------------

def spf_cli(t, ip, sender, helo="h.example", conf=None):
    r = talon_c(t, "spf", ip, sender, helo, conf=conf)
    out = clean(r)
    fields = dict(re.findall(r"^(\w+): (.*)$", out, re.M))
    steps = out.split("steps:\n", 1)[1].splitlines() if "steps:\n" in out else []
    return r.returncode, fields, [s.strip() for s in steps], out


def test_spf_pass_lists_steps(server):
    rc, f, steps, out = spf_cli(server, "192.0.2.7", "someone@inc.cli.test")
    assert rc == 0, out
    assert f["result"] == "pass"
    assert f["identity"] == "someone@inc.cli.test"
    assert f["domain"] == "inc.cli.test"
    assert f["mechanism"] == "include:pass.cli.test"
    assert f["lookups"] == "1 (void 0)", out
    # every record fetched, and the decision, in order
    want = ['TXT inc.cli.test -> "v=spf1 include:pass.cli.test ~all"',
            'TXT pass.cli.test -> "v=spf1 ip4:192.0.2.0/24 -all"',
            "include:pass.cli.test -> pass => match",
            "result: pass"]
    pos = [next((i for i, s in enumerate(steps) if s.startswith(w)), -1) for w in want]
    assert -1 not in pos and pos == sorted(pos), (want, steps)


def test_spf_fail_with_explanation(server):
    rc, f, steps, out = spf_cli(server, "192.0.2.99", "x@exp.cli.test")
    assert rc == 1, out
    assert f["result"] == "fail"
    assert f["mechanism"] == "-all"
    # exp= fetched and its macros expanded (RFC 7208 6.2)
    assert f["explanation"] == \
        "192.0.2.99 is not one of exp.cli.test's designated mail servers.", out
    assert any(s.startswith('exp -> "192.0.2.99 is not one of') for s in steps), steps
    rc, f, steps, out = spf_cli(server, "198.51.100.7", "x@pass.cli.test")
    assert rc == 1 and f["result"] == "fail" and f["mechanism"] == "-all", out
    assert "explanation" not in f


def test_spf_lookup_count_and_void(server):
    rc, f, steps, out = spf_cli(server, "192.0.2.9", "a@void2.cli.test")
    assert rc == 0 and f["result"] == "pass", out
    assert f["lookups"] == "2 (void 2)", out
    rc, f, steps, out = spf_cli(server, "192.0.2.9", "a@void.cli.test")
    # the third void lookup is one over the limit of two (RFC 7208 4.6.4)
    assert rc == 1 and f["result"] == "permerror", out
    assert f["problem"] == "void lookup limit", out
    assert f["mechanism"] == "a:nx3.cli.test", out
    assert f["lookups"] == "3 (void 3)", out
    # 11 a mechanisms: the 11th is over the limit of 10 (RFC 7208 4.6.4)
    rc, f, steps, out = spf_cli(server, "198.51.100.2", "a@many.cli.test")
    assert rc == 1 and f["result"] == "permerror", out
    assert f["problem"] == "too many DNS lookups", out
    assert f["lookups"] == "11 (void 0)", out
    assert steps.count("a no match") == 10, steps
    # evaluation stops at the first match: the same record passes a
    # client that the first a matches, after one lookup
    rc, f, steps, out = spf_cli(server, "198.51.100.1", "a@many.cli.test")
    assert rc == 0 and f["result"] == "pass" and f["lookups"] == "1 (void 0)", out


def test_spf_helo_identity_for_null_sender(server):
    rc, f, steps, out = spf_cli(server, "192.0.2.44", "<>", "helo.cli.test")
    assert rc == 0 and f["result"] == "pass", out
    assert f["identity"] == "postmaster@helo.cli.test"


def test_spf_tempfail_when_nobody_answers(server):
    rc, f, steps, out = spf_cli(server, "192.0.2.7", "a@pass.cli.test", conf=server.dead_conf)
    assert rc == 1 and f["result"] == "temperror", out
    assert "problem" in f, out


def test_spf_usage(server):
    r = talon_c(server, "spf", "not-an-ip", "a@pass.cli.test")
    assert r.returncode == 2 and b"is not an IP address" in r.stderr
    r = talon_c(server, "spf", "192.0.2.1")
    assert r.returncode == 2 and b"usage:" in r.stderr


# --- talon spf against python3-spf ---------------------------------------------------

def pyspf_lookup(port):
    """spf.DNSLookup asking our server (and nothing else) with dnspython,
    answering in the shape of pyspf's own DNSLookup_dnspython."""
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = port
    res.search = []

    def lookup(name, qtype, tcpfallback=True, timeout=30):
        out = []
        try:
            answers = res.resolve(name, qtype, lifetime=5, search=False)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            return out
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as x:
            raise spf.TempError("DNS " + str(x))
        for rd in answers:
            if qtype in ("A", "AAAA"):
                out.append(((name, qtype), rd.address))
            elif qtype == "MX":
                out.append(((name, qtype), (rd.preference, rd.exchange)))
            elif qtype == "PTR":
                out.append(((name, qtype), rd.target.to_text(True)))
            elif qtype in ("TXT", "SPF"):
                out.append(((name, qtype), list(rd.strings)))
        return out
    return lookup


def test_spf_agrees_with_pyspf(server, monkeypatch):
    monkeypatch.setattr(spf, "DNSLookup", pyspf_lookup(server.dns_port))
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        ours = list(ex.map(lambda row: spf_cli(server, *row[:3]), SPF_TABLE))
    bad = []
    for (ip, sender, helo, want), (rc, f, steps, out) in zip(SPF_TABLE, ours):
        theirs, expl = spf.check2(ip, sender, helo, receiver="mail.test.example")
        if not (f.get("result") == theirs == want):
            bad.append("%s %s %s: talon %s, pyspf %s, want %s\n%s" % (
                ip, sender or "<>", helo, f.get("result"), theirs, want, out))
        elif sender == "a@exp.cli.test":
            assert f["explanation"] == expl, (f, expl)
    assert not bad, "\n".join(bad)


# --- talon dkim verify with keys in our DNS -------------------------------------------

MSG = (b"From: Alice <alice@cli.test>\r\nTo: bob@example.net\r\nSubject: keys in DNS\r\n"
       b"Date: Tue, 01 Dec 2026 12:00:00 +0000\r\nMessage-ID: <k1@cli.test>\r\n\r\n"
       b"The body.\r\nSecond line.\r\n")


def talon_sign(keys, *signers, msg=MSG):
    d, _ = keys
    args = ["dkim", "sign"]
    for sel, kind in signers:
        key = "sel.cli.test.rsa.pem" if kind == "rsa" else "sel-ed.cli.test.ed25519.pem"
        args += ["-d", "cli.test", "-s", sel, "-k", str(d / key)]
    r = run(*args, stdin=msg)
    assert r.returncode == 0, r.stderr
    return r.stdout


OK = " (signature verified)"


def verify(t, tmp_path, msg):
    p = tmp_path / "m.eml"
    p.write_bytes(msg)
    r = talon_c(t, "dkim", "verify", str(p))
    return r.returncode, clean(r).splitlines()


def test_dkim_keygen_records_served(server, keys):
    r = talon_c(server, "resolve", "sel._domainkey.cli.test", "TXT")
    assert r.returncode == 0
    assert '"v=DKIM1; k=rsa; p=MII' in clean(r)
    r = talon_c(server, "resolve", "sel-ed._domainkey.cli.test", "TXT")
    assert r.returncode == 0
    assert '"v=DKIM1; k=ed25519; p=' in clean(r)


def test_dkim_verify_talon_signed(server, keys, tmp_path):
    signed = talon_sign(keys, ("sel", "rsa"), ("sel-ed", "ed"))
    rc, lines = verify(server, tmp_path, signed)
    assert (rc, lines) == (0, ["d=cli.test s=sel a=rsa-sha256: pass" + OK,
                               "d=cli.test s=sel-ed a=ed25519-sha256: pass" + OK])


def pkcs8_der(path):
    return subprocess.run(["openssl", "pkey", "-in", str(path), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def test_dkim_verify_dkimpy_signed(server, keys, tmp_path):
    d, _ = keys
    rsa_pem = (d / "sel.cli.test.rsa.pem").read_bytes()
    # dkimpy takes an Ed25519 key as the base64 of its 32-byte seed, the
    # last 32 bytes of the PKCS#8 form
    ed_seed = base64.b64encode(pkcs8_der(d / "sel-ed.cli.test.ed25519.pem")[-32:])
    heads = [b"from", b"to", b"subject", b"date", b"message-id"]
    sig_rsa = dkim.sign(MSG, b"sel", b"cli.test", rsa_pem, include_headers=heads,
                        canonicalize=(b"simple", b"simple"))
    sig_ed = dkim.sign(MSG, b"sel-ed", b"cli.test", ed_seed, include_headers=heads,
                       canonicalize=(b"relaxed", b"relaxed"),
                       signature_algorithm=b"ed25519-sha256")
    rc, lines = verify(server, tmp_path, sig_ed + sig_rsa + MSG)
    assert (rc, lines) == (0, ["d=cli.test s=sel-ed a=ed25519-sha256: pass" + OK,
                               "d=cli.test s=sel a=rsa-sha256: pass" + OK])
    # simple body canonicalisation sees an added trailing space, relaxed not
    rc, lines = verify(server, tmp_path, sig_ed + sig_rsa + MSG.replace(b"line.", b"line. "))
    assert (rc, lines) == (1, ["d=cli.test s=sel-ed a=ed25519-sha256: pass" + OK,
                               "d=cli.test s=sel a=rsa-sha256: fail (body hash mismatch)"])


def test_dkim_verify_tampered_fails_with_reason(server, keys, tmp_path):
    signed = talon_sign(keys, ("sel", "rsa"), ("sel-ed", "ed"))
    rc, lines = verify(server, tmp_path, signed.replace(b"The body.", b"The bodY."))
    assert (rc, lines) == (1, ["d=cli.test s=sel a=rsa-sha256: fail (body hash mismatch)",
                               "d=cli.test s=sel-ed a=ed25519-sha256: fail "
                               "(body hash mismatch)"])
    # a signed header changed: the body hash still matches, the signature not
    rc, lines = verify(server, tmp_path, signed.replace(b"Subject: keys", b"Subject: keyz"))
    assert rc == 1
    assert lines == ["d=cli.test s=sel a=rsa-sha256: fail (signature did not verify)",
                     "d=cli.test s=sel-ed a=ed25519-sha256: fail (signature did not verify)"]


def test_dkim_verify_missing_and_revoked_keys(server, keys, tmp_path):
    signed = talon_sign(keys, ("gone", "rsa"), ("revoked", "rsa"), ("sel", "rsa"))
    rc, lines = verify(server, tmp_path, signed)
    assert rc == 1
    assert lines == ["d=cli.test s=gone a=rsa-sha256: permerror (no key record)",
                     "d=cli.test s=revoked a=rsa-sha256: permerror (key revoked)",
                     "d=cli.test s=sel a=rsa-sha256: pass" + OK], lines


def test_dkim_verify_tempfail_when_nobody_answers(server, keys, tmp_path):
    signed = talon_sign(keys, ("sel", "rsa"))
    p = tmp_path / "m.eml"
    p.write_bytes(signed)
    r = talon_c(server, "dkim", "verify", str(p), conf=server.dead_conf)
    assert r.returncode == 1
    assert re.fullmatch(r"d=cli\.test s=sel a=rsa-sha256: temperror \(key lookup: "
                        r"(timeout|SERVFAIL)\)\n", clean(r)), r.stdout


# --- DNSSEC status through the resolver (issue 12 part 1) -------------------------

SIGNED_ZONE = """$ORIGIN sec.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
     IN NS  ns
ns   IN A   127.0.0.1
@    IN TXT "v=spf1 -all"
www  IN A   192.0.2.80
"""


def test_resolver_reports_secure_and_bogus(talon_factory, tmp_path):
    """A zone signed with ldns-signzone, served by our server: with its key
    as trust anchor the answers are "secure"; with another key they are
    bogus, which the checks get as a temporary failure; without an anchor
    they are insecure."""
    d = str(tmp_path)
    with open(os.path.join(d, "sec.zone"), "w") as f:
        f.write(SIGNED_ZONE)

    def keygen(*flags):
        return subprocess.run(["ldns-keygen", "-r", "/dev/urandom", "-a", "ED25519"] +
                              list(flags) + ["sec.test"], cwd=d, check=True,
                              capture_output=True, text=True).stdout.strip()
    ksk, zsk, other = keygen("-k"), keygen(), keygen("-k")
    subprocess.run(["ldns-signzone", "-f", "sec.zone.signed", "sec.zone", zsk, ksk], cwd=d,
                   check=True, capture_output=True)
    port = free_port()
    t = talon_factory(extra="listen dns 127.0.0.1:%d\nzone sec.test %s/sec.zone.signed\n"
                      "zone . root.zone\nresolver forward 127.0.0.1@%d" % (port, d, port),
                      limits={"dns-responses": 0, "resolver-timeout": 3})
    with open(os.path.join(t.dir, "root.zone"), "w") as f:
        f.write("$ORIGIN .\n$TTL 60\n@ IN SOA ns.sec.test. h.sec.test. 1 3600 600 86400 60\n"
                "  IN NS ns.sec.test.\n")
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=2")

    def resolve(anchor, name, rtype):
        # a config beside the daemon's (relative paths stay right) that
        # differs in its resolver line only
        conf = os.path.join(t.dir, "c-%s.conf" % (anchor or "none"))
        line = "resolver forward 127.0.0.1@%d" % port
        if anchor:
            line += " trust-anchor %s/%s.key" % (d, anchor)
        with open(t.conf) as f:
            text = re.sub(r"(?m)^resolver .*$", line, f.read())
        with open(conf, "w") as f:
            f.write(text)
        return subprocess.run([TALON, "-c", conf, "resolve", name, rtype], capture_output=True,
                              text=True, timeout=30)

    r = resolve(ksk, "www.sec.test", "A")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("A www.sec.test: ok secure\n"), r.stdout
    r = resolve(ksk, "sec.test", "TXT")
    assert r.stdout.startswith("TXT sec.test: ok secure\n"), r.stdout
    r = resolve(None, "www.sec.test", "A")
    assert r.stdout.startswith("A www.sec.test: ok\n"), r.stdout
    r = resolve(other, "www.sec.test", "A")
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout.startswith("A www.sec.test: tempfail bogus DNSSEC bogus"), r.stdout
