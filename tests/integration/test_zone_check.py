"""`talon zone check`: the built binary on the seed's zone before and after
the fix told in "SMTP or DNS?", on a zone with a syntax error, and with -v.
Output is one line per finding, "FILE:LINE[:COL]: error|warning: text",
then "N errors, M warnings"; exit 0 without errors, 1 with, 2 on usage."""
import os
import subprocess

from conftest import TALON

# copies of ../shared/testdata/zones/ (the seed zone before and after the fix),
# kept in the repository so a clean clone has them
ZONES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "dns")
BEFORE = os.path.join(ZONES, "nmrc.org.before-fix.zone")
AFTER = os.path.join(ZONES, "nmrc.org.zone")

MNAME = "SOA MNAME ns0.nmrc.org. is not one of the NS hosts (daemon.nmrc.org.)"
APEX_A = "apex A 65.70.17.132 is no MX host's address (MX: talon.nmrc.org.)"
# RFC 1034 4.1; the seed's zone lists one NS though the registrar runs two
# secondaries, so this warning is true of both seed files
SINGLE_NS = "only one NS record at the apex (daemon.nmrc.org.)"


def zone_check(*args):
    return subprocess.run([TALON, "zone", "check", *args], capture_output=True, text=True,
                          timeout=60)


def findings(out):
    return [l for l in out.splitlines() if ": error: " in l or ": warning: " in l]


def test_seed_before_fix_gives_both_seed_findings():
    # the file name does not give the origin here (nmrc.org.before-fix.)
    r = zone_check(BEFORE, "--origin", "nmrc.org")
    assert r.returncode == 1, r.stdout + r.stderr
    f = findings(r.stdout)
    assert f[0].startswith(BEFORE + ":8: error: " + MNAME), r.stdout
    assert "(fix: set MNAME to the primary name server, daemon.nmrc.org.)" in f[0]
    assert any(l.startswith(BEFORE + ":16: warning: " + APEX_A) for l in f), r.stdout
    assert any("(fix: point the apex A at an MX host's address such as 65.70.17.131" in l
               for l in f), r.stdout
    others = [l for l in f if MNAME not in l and APEX_A not in l]
    assert [l.split(": warning: ")[1][:len(SINGLE_NS)] for l in others] == [SINGLE_NS], r.stdout
    assert r.stdout.splitlines()[-1] == "1 error, 2 warnings"


def test_seed_after_fix_is_clean_of_both():
    # origin from the file name: nmrc.org.zone -> nmrc.org.
    r = zone_check(AFTER)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "MNAME" not in r.stdout and "apex A" not in r.stdout
    f = findings(r.stdout)
    assert len(f) == 1 and SINGLE_NS in f[0] and ": warning: " in f[0], r.stdout
    assert r.stdout.splitlines()[-1] == "0 errors, 1 warning"


def test_verbose_lists_passed_checks():
    r = zone_check(AFTER, "-v")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    for ok in ("ok: origin nmrc.org. (from the file name)",
               "ok: SOA MNAME daemon.nmrc.org. is an NS host",
               "ok: SOA serial 2020052800 (2020-05-28)",
               "ok: the apex addresses are MX host addresses",
               "ok: SPF record at nmrc.org.",
               "ok: DMARC record at _dmarc.nmrc.org.",
               "ok: DKIM key at default._domainkey.nmrc.org. (rsa, 1024 bits)"):
        assert ok in lines, r.stdout
    assert lines[-1] == "0 errors, 1 warning"
    # without -v: findings only
    assert not any(l.startswith("ok: ") for l in zone_check(AFTER).stdout.splitlines())


def test_syntax_error_names_file_line_column(tmp_path):
    z = tmp_path / "example.org.zone"
    z.write_text("$TTL 3600\n"
                 "@ SOA ns1 hostmaster 2024061500 7200 3600 1209600 3600\n"
                 "@ NS ns1\n"
                 "@ NS ns2\n"
                 "ns1 A 192.0.2.1\n"
                 "ns2 A 192.0.2.300\n")
    r = zone_check(str(z))
    assert r.returncode == 1, r.stdout + r.stderr
    assert '%s:6:7: error: found "192.0.2.300" (expected an IPv4 address)' % z in r.stdout, \
        r.stdout
    assert r.stdout.splitlines()[-1] == "1 error, 0 warnings"


def test_origin_from_dollar_origin(tmp_path):
    z = tmp_path / "db.zone.txt"
    z.write_text("; a comment first\n"
                 "$TTL 3600\n"
                 "$ORIGIN example.org.\n"
                 "@ SOA ns1 hostmaster 2024061500 7200 3600 1209600 3600\n"
                 "@ NS ns1\n"
                 "@ NS ns2.example.net.\n"
                 "ns1 A 192.0.2.1\n")
    r = zone_check(str(z), "-v")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok: origin example.org. (from $ORIGIN)" in r.stdout.splitlines()
    # the file's $ORIGIN wins (DESIGN.md); a --origin naming another is
    # pointed out
    r = zone_check(str(z), "--origin", "example.net.")
    assert r.returncode == 0, r.stdout
    assert ("%s: warning: --origin example.net. is not the $ORIGIN example.org. the file "
            "sets; the file's is used" % z) in r.stdout, r.stdout


def test_usage():
    assert zone_check().returncode == 2
    assert zone_check(AFTER, "--bogus").returncode == 2
    assert zone_check(AFTER, AFTER).returncode == 2
    assert zone_check(AFTER, "--origin", "a..b").returncode == 2
    r = zone_check("--help")
    assert r.returncode == 0 and "usage: talon zone check FILE" in r.stdout
    r = subprocess.run([TALON, "zone"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2


def test_unreadable_file_is_an_error(tmp_path):
    missing = str(tmp_path / "nothing.zone")
    r = zone_check(missing)
    assert r.returncode == 1
    assert r.stdout.startswith(missing + ": error: ")


def test_mail_records_read_by_the_daemons_parsers(tmp_path):
    # SPF, DMARC and DKIM records are read by src/msgauth/, the parsers the
    # daemon evaluates mail with: their reasons, each with a fix, at the
    # record's line; what they drop silently is not reported
    z = tmp_path / "example.org.zone"
    z.write_text("$TTL 3600\n"
                 "@ SOA ns1 hostmaster 2024061500 7200 3600 1209600 3600\n"
                 "@ NS ns1\n"
                 "@ NS ns2\n"
                 "ns1 A 192.0.2.1\n"
                 "ns2 A 192.0.2.2\n"
                 '@ TXT "v=spf1 moo ip4:192.0.2.0/33 -all"\n'
                 '_dmarc TXT "v=DMARC1; p=none; pct=200; foo=bar"\n'
                 '_dmarc.sub TXT "v=DMARC1; rua=mailto:d@example.org"\n'
                 'a._domainkey TXT "v=DKIM1; k=dsa; p=MIGf"\n'
                 'b._domainkey TXT "v=DKIM1; s=tlsrpt; p="\n')
    r = zone_check(str(z), "-v")
    assert r.returncode == 1, r.stdout + r.stderr
    f = findings(r.stdout)
    assert f == [
        '%s:7: error: SPF record at example.org.: unknown mechanism in "moo" (fix: use all, '
        'include, a, mx, ptr, ip4, ip6 or exists, or name=value for a modifier)' % z,
        "%s:9: error: DMARC record at _dmarc.sub.example.org. has no valid p= (or a bad sp=): "
        "receivers act as if it said p=none, because rua= has a valid address (RFC 7489 "
        "6.6.3) (fix: write p= and sp= as none, quarantine or reject, once each)" % z,
        "%s:10: error: DKIM key at a._domainkey.example.org.: unknown key type (k=) (fix: "
        "k=rsa or k=ed25519)" % z,
        "%s:11: warning: DKIM key at b._domainkey.example.org. is revoked (empty p=): "
        "signatures with this selector fail (fix: remove the record once no mail signed with "
        "it is in transit, or publish the key again)" % z,
    ], r.stdout
    # pct=200 and foo= are dropped by the daemon's parser, as by receivers
    assert "ok: DMARC record at _dmarc.example.org." in r.stdout.splitlines(), r.stdout
    assert r.stdout.splitlines()[-1] == "3 errors, 1 warning"
