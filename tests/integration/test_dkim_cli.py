"""`talon dkim keygen|sign|verify`: keys written 0600 and never overwritten,
TXT records printed as zone-file lines that parse, messages signed by
`talon dkim sign` (RSA, Ed25519 and both, relaxed/relaxed, LF and CRLF)
verified by python3-dkim with a dnsfunc answering from our printed records
(never the real DNS), and the verify subcommand's output shape.

The other direction (python3-dkim signs, we verify) needs a key without
DNS: tests/unit/test_dkim.c verifies tests/data/dkim/pysigned/*.eml, made by
dkim.sign with the tests/data keys in both canonicalisations and both
algorithms; test_python_signed_files_still_verify_in_dkimpy below checks
those files against python3-dkim too, so both sides agree on them."""
import os
import re
import stat
import subprocess

import dkim
import pytest

from conftest import TALON

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "dkim")

MSG_LF = (b"From: Joe <joe@example.com>\n"
          b"To: Suzie <suzie@example.net>,\n\tMore <more@example.net>\n"
          b"Subject:  Is dinner   ready?\n"
          b"Date: Fri, 11 Jul 2003 21:00:37 -0700\n"
          b"Message-ID: <1@example.com>\n"
          b"MIME-Version: 1.0\n"
          b"Content-Type: text/plain; charset=utf-8\n"
          b"\n"
          b"Hi.  \n\nWe lost the game.\tAre you hungry yet?\nCaf\xc3\xa9\n\n\n")
MSG_CRLF = MSG_LF.replace(b"\n", b"\r\n")


def talon(*args, stdin=None):
    return subprocess.run([TALON, "dkim", *args], input=stdin, capture_output=True, timeout=120)


def parse_zone(text):
    """{owner: TXT text} from keygen's zone-file lines; checks the
    character-strings are at most 255 bytes."""
    recs = {}
    for m in re.finditer(r'^(\S+)\. IN TXT (\(.*?\)|"[^"\n]*")', text, re.M | re.S):
        parts = re.findall(r'"([^"]*)"', m.group(2))
        assert all(len(p) <= 255 for p in parts), parts
        recs[m.group(1)] = "".join(parts)
    return recs


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("dkimkeys")
    r = talon("keygen", "example.com", "sel", "--dir", str(d))
    assert r.returncode == 0, r.stderr
    return d, r.stdout.decode()


def dnsfunc_for(recs):
    def dnsfunc(name, timeout=5):
        return recs.get(name.decode().rstrip("."), "").encode()
    return dnsfunc


def test_keygen_files_and_records(keys):
    d, out = keys
    rsa = d / "sel.example.com.rsa.pem"
    ed = d / "sel-ed.example.com.ed25519.pem"
    for p in (rsa, ed):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
        assert p.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    recs = parse_zone(out)
    assert set(recs) == {"sel._domainkey.example.com", "sel-ed._domainkey.example.com"}
    assert recs["sel._domainkey.example.com"].startswith("v=DKIM1; k=rsa; p=MII")
    assert len(recs["sel._domainkey.example.com"]) > 255      # so it had to be split
    assert re.fullmatch(r"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=",
                        recs["sel-ed._domainkey.example.com"])
    # the output says where each record goes
    assert "sel-ed._domainkey" in out and "two selectors" in out


def test_keygen_refuses_to_overwrite(keys):
    d, _ = keys
    before = (d / "sel.example.com.rsa.pem").read_bytes()
    r = talon("keygen", "example.com", "sel", "--dir", str(d))
    assert r.returncode != 0
    assert b"refusing to overwrite" in r.stderr
    assert (d / "sel.example.com.rsa.pem").read_bytes() == before


def test_keygen_refuses_when_only_one_exists(tmp_path):
    (tmp_path / "s.example.org.rsa.pem").write_text("x")
    r = talon("keygen", "example.org", "s", "--dir", str(tmp_path))
    assert r.returncode != 0
    assert not (tmp_path / "s-ed.example.org.ed25519.pem").exists()
    assert (tmp_path / "s.example.org.rsa.pem").read_text() == "x"


def sign(d, which, msg, via_stdin=True, tmp=None):
    args = ["sign"]
    if which in ("rsa", "dual"):
        args += ["-d", "example.com", "-s", "sel", "-k", str(d / "sel.example.com.rsa.pem")]
    if which in ("ed", "dual"):
        args += ["-d", "example.com", "-s", "sel-ed",
                 "-k", str(d / "sel-ed.example.com.ed25519.pem")]
    if via_stdin:
        r = talon(*args, stdin=msg)
    else:
        f = tmp / "msg.eml"
        f.write_bytes(msg)
        r = talon(*args, str(f))
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("which,count", [("rsa", 1), ("ed", 1), ("dual", 2)])
@pytest.mark.parametrize("msg", [MSG_LF, MSG_CRLF], ids=["lf", "crlf"])
def test_signed_by_talon_verified_by_dkimpy(keys, which, count, msg, tmp_path):
    d, out = keys
    signed = sign(d, which, msg, via_stdin=(msg is MSG_LF), tmp=tmp_path)
    assert signed.endswith(msg)                       # the message itself untouched
    head = signed[:len(signed) - len(msg)]
    eol = b"\r\n" if msg is MSG_CRLF else b"\n"
    lines = head.split(eol)
    assert lines[-1] == b""
    assert all(b"\r" not in l and b"\n" not in l for l in lines)   # the input's line ends
    assert all(len(l) <= 78 for l in lines)
    assert head.count(b"DKIM-Signature:") == count
    assert b"c=relaxed/relaxed" in head
    assert b"h=from:from:" in head                    # From over-signed
    dnsfunc = dnsfunc_for(parse_zone(out))
    # dkimpy wants CRLF
    wire = signed if msg is MSG_CRLF else signed.replace(b"\n", b"\r\n")
    v = dkim.DKIM(wire)
    for i in range(count):
        assert v.verify(idx=i, dnsfunc=dnsfunc), (i, head)
    # tampering is seen by dkimpy too
    bad = dkim.DKIM(wire.replace(b"hungry", b"Hungry"))
    with pytest.raises(dkim.ValidationError, match="body hash mismatch"):
        bad.verify(idx=0, dnsfunc=dnsfunc)


def test_sign_errors(keys, tmp_path):
    d, _ = keys
    r = talon("sign", "-d", "example.com", "-s", "sel", stdin=MSG_LF)
    assert r.returncode == 2
    r = talon("sign", "-d", "example.com", "-s", "sel", "-k", str(tmp_path / "nope.pem"),
              stdin=MSG_LF)
    assert r.returncode == 1 and b"cannot open" in r.stderr
    r = talon("sign", "-d", "example.com", "-s", "sel",
              "-k", str(d / "sel.example.com.rsa.pem"), stdin=b"To: x\n\nno from\n")
    assert r.returncode == 1 and b"no From" in r.stderr
    assert r.stdout == b""


def test_verify_output_without_resolver(keys, tmp_path):
    """The resolver is not reachable here (no config / no resolver): keys
    cannot be fetched, so each signature is temperror, named, and exit 1.
    A signature decided without a key (tampered body) says so."""
    d, _ = keys
    signed = sign(d, "dual", MSG_LF)
    tampered = signed.replace(b"hungry", b"Hungry")
    f = tmp_path / "m.eml"
    f.write_bytes(tampered)
    r = subprocess.run([TALON, "-c", str(tmp_path / "none.conf"), "dkim", "verify", str(f)],
                       capture_output=True, timeout=60)
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert lines == [
        "d=example.com s=sel a=rsa-sha256: fail (body hash mismatch)",
        "d=example.com s=sel-ed a=ed25519-sha256: fail (body hash mismatch)",
    ], r.stdout
    f.write_bytes(signed)
    r = subprocess.run([TALON, "-c", str(tmp_path / "none.conf"), "dkim", "verify", str(f)],
                       capture_output=True, timeout=60)
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 2
    assert all(re.fullmatch(r"d=example\.com s=sel(-ed)? a=\S+: temperror \(key lookup: .*\)", l)
               for l in lines), lines
    r = talon("verify", stdin=b"From: a\n\nno signature\n")
    assert r.returncode == 1 and r.stdout == b"no DKIM signature\n"


def test_help():
    for sub in ("keygen", "sign", "verify"):
        r = talon(sub, "--help")
        assert r.returncode == 0 and b"usage: talon" in r.stdout
    r = talon("keygen", "--help")
    assert b"SELECTOR-ed._domainkey" in r.stdout
    assert talon().returncode == 2
    assert talon("bogus").returncode == 2


@pytest.mark.parametrize("name", ["rsa-simple.eml", "rsa-relaxed.eml", "ed25519-simple.eml",
                                  "ed25519-relaxed.eml"])
def test_python_signed_files_still_verify_in_dkimpy(name):
    recs = {
        "test._domainkey.football.example.com":
            open(os.path.join(DATA, "dkimpy", "test.txt")).read().strip(),
        "brisbane._domainkey.football.example.com":
            "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    }
    msg = open(os.path.join(DATA, "pysigned", name), "rb").read()
    assert dkim.DKIM(msg).verify(dnsfunc=dnsfunc_for(recs))
