"""The RFC 7208 test suite (tests/data/spf/rfc7208-tests.yml, 16 scenarios,
203 tests) end to end through real DNS.

tests/unit/test_spf.c runs the same suite against the evaluator with a fake
answer table; here every answer travels the way it does in production:
our DNS server loads a zone file written from the scenario's zonedata,
libunbound (in `talon spf`) forwards to it, and the CLI prints the result.

    talon spf --> libunbound --> DropProxy (dnsproxy.py) --> talon serve
                                 drops the TIMEOUT queries   one zone "."

One daemon per scenario serves ONE zone with origin "." that holds every
name of the scenario (our server is authoritative for the root, so names
under example.com, in-addr.arpa and xn--zckzah need no delegations).

Rules of tests/data/spf/README.md (those of pyspf's driver testspf.py):
- SPF-type records are copied to TXT when the name has no TXT entry
  (`TXT: NONE` counts as one and only suppresses the copy); the SPF-type
  records themselves are served too, as TYPE99 in RFC 3597 form, since our
  zone parser has no mnemonic for SPF.
- a name not listed is NXDOMAIN, or a timeout when it starts with "error.";
- a bare TIMEOUT makes every type of its name that has no record before it
  time out, `TYPE: TIMEOUT` that type: the proxy drops those queries and
  `limit resolver-timeout 1` makes the CLI give up after a second.
One difference is not expressible in DNS and does not change any result:
a name that is not listed but has listed names below it (example.com in
most scenarios) is an empty non-terminal, NODATA instead of NXDOMAIN; SPF
treats both as "no record" and counts both as void lookups (RFC 7208 4.6.4).

Names and values are written byte for byte: labels and TXT strings escape
every byte outside letters, digits, '-' and '_' (names) or printable ASCII
(strings) as \\DDD, so "foo:bar/baz.example.com" and "macro%percent
space%20url-space.example.com" are served exactly; TXT values of several
strings stay several strings, one string longer than 255 bytes is split.
"""
import concurrent.futures
import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import TALON, free_port
from dnsproxy import DropProxy

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "spf")
sys.path.insert(0, DATA)
from yml2cases import tobytes  # noqa: E402  (one reading of the YAML's bytes)

TOTAL = 203
PARALLEL = 8            # CLI runs at once: most of their time is waiting on DNS
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SPF": 99}
RESULTS = {}            # scenario -> (passed, total), for the summary test


def load_scenarios():
    with open(os.path.join(DATA, "rfc7208-tests.yml"), "rb") as f:
        return list(yaml.safe_load_all(f))


SCENARIOS = load_scenarios()


# --- zone file text ------------------------------------------------------------------

def zone_name(name):
    """An absolute name in zone-file syntax, every odd byte as \\DDD."""
    b = tobytes(name)
    if b.endswith(b"."):
        b = b[:-1]
    if not b:
        return "."
    labels = []
    for label in b.split(b"."):
        labels.append("".join(chr(c) if chr(c).isalnum() and c < 0x80 or c in b"-_"
                              else "\\%03d" % c for c in label))
    return ".".join(labels) + "."


def zone_string(b):
    """One character-string, quoted, with '"', '\\' and non-printable bytes
    as \\DDD."""
    return '"' + "".join(chr(c) if 0x20 <= c <= 0x7e and c not in b'"\\' else "\\%03d" % c
                         for c in b) + '"'


def txt_strings(v):
    """The character-strings of a TXT/SPF value: a YAML list is several
    strings; one string over 255 bytes is cut (RFC 1035 3.3: at most 255
    each; SPF and exp= join them without separator, RFC 7208 3.3, 6.2).
    An empty list (null.example.com's "null text") becomes one empty
    string: a TXT record of no strings is not valid DNS (RFC 1035 3.3.14
    asks for one or more), so neither our zone parser nor any server's
    wire format can carry it; either way it is not an SPF record."""
    parts = v if isinstance(v, list) else [v]
    out = []
    for p in parts:
        b = tobytes(p)
        out += [b[i:i + 255] for i in range(0, len(b), 255)] or [b""]
    return out or [b""]


def rdata(typ, v):
    """(type text, rdata text) for one zonedata entry."""
    if typ == "TXT":
        return "TXT", " ".join(zone_string(s) for s in txt_strings(v))
    if typ == "SPF":
        wire = b"".join(bytes([len(s)]) + s for s in txt_strings(v))
        return "TYPE99", "\\# %d %s" % (len(wire), wire.hex() or "")
    if typ == "MX":
        return "MX", "%d %s" % (int(v[0]), zone_name(v[1]))
    if typ in ("PTR", "CNAME"):
        return typ, zone_name(v)
    if typ in ("A", "AAAA"):
        return typ, str(v)
    raise AssertionError("zonedata type %s not handled" % typ)


def records(entries):
    """(type, value) of every record of one name, with the TXT copies of
    its SPF records when it has no TXT entry."""
    recs, spf = [], []
    has_txt = False
    for e in entries:
        if e == "TIMEOUT":
            continue
        for typ, v in e.items():
            if typ == "TXT":
                has_txt = True
            if v in ("NONE", "TIMEOUT"):
                continue
            recs.append((typ, v))
            if typ == "SPF":
                spf.append(v)
    if not has_txt:
        recs += [("TXT", v) for v in spf]
    return recs


def zone_text(sc):
    lines = ["$ORIGIN .", "$TTL 60",
             ". IN SOA ns.spf-suite.test. hostmaster.spf-suite.test. 1 3600 600 86400 60",
             ". IN NS ns.spf-suite.test.",
             "ns.spf-suite.test. IN A 127.0.0.1"]
    for name, entries in sc["zonedata"].items():
        owner = zone_name(name)
        for typ, v in records(entries):
            t, rd = rdata(typ, v)
            lines.append("%s IN %s %s" % (owner, t, rd))
    return "\n".join(lines) + "\n"


# --- which queries time out ---------------------------------------------------------

def times_out(entries, qtype):
    """pyspf's testspf.py rule: walking the name's entries in order (TXT
    copies of SPF records at the end), a bare TIMEOUT or `TYPE: TIMEOUT`
    reached before any record of the asked type is a timeout."""
    has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
    walk = list(entries)
    if not has_txt:
        walk += [{"TXT": e["SPF"]} for e in entries if isinstance(e, dict) and "SPF" in e]
    for e in walk:
        if e == "TIMEOUT":
            return True
        for typ, v in e.items():
            if TYPES.get(typ) != qtype:
                continue
            if v == "TIMEOUT":
                return True
            if v != "NONE":
                return False
    return False


def dropper(sc):
    names = {str(n).lower().rstrip("."): e for n, e in sc["zonedata"].items()}

    def drop(name, qtype):
        if name not in names:
            return name.startswith("error.")
        return times_out(names[name], qtype)
    return drop


# --- running a scenario --------------------------------------------------------------

def run_cli(conf, t):
    args = [TALON, "-c", conf, "spf", str(t["host"]), str(t["mailfrom"]), str(t["helo"])]
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=1:detect_leaks=1")
    return subprocess.run(args, capture_output=True, timeout=60, env=env)


def field(out, name):
    m = re.search(r"^%s: (.*)$" % name, out, re.M)
    return m.group(1) if m else None


def judge(tid, t, r):
    """None when the CLI's answer is one the suite accepts, else why not."""
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    if "Sanitizer" in err or "runtime error:" in err or r.returncode not in (0, 1):
        return "%s: exit %d\n%s" % (tid, r.returncode, err[-2000:])
    want = t["result"] if isinstance(t["result"], list) else [t["result"]]
    got = field(out, "result")
    if got not in want:
        return "%s: result %s, want %s\n%s" % (tid, got, "/".join(want), out)
    expl = t.get("explanation")
    if expl is not None and expl != "DEFAULT":
        if field(out, "explanation") != expl:
            return "%s: explanation %r, want %r\n%s" % (
                tid, field(out, "explanation"), expl, out)
    return None


def slug(sc):
    return re.sub(r"[^a-z0-9]+", "-", sc["description"].lower()).strip("-")


@pytest.mark.parametrize("sc", SCENARIOS, ids=slug)
def test_rfc7208_scenario_over_dns(sc, talon_factory):
    RESULTS[sc["description"]] = (0, len(sc["tests"]))     # until it has run
    dns_port = free_port()
    proxy = DropProxy(("127.0.0.1", dns_port), dropper(sc)).start()
    try:
        t = talon_factory(extra="listen dns 127.0.0.1:%d\nzone . suite.zone\n"
                          "resolver forward 127.0.0.1@%d" % (dns_port, proxy.port),
                          limits={"dns-responses": 0, "resolver-timeout": 1})
        with open(os.path.join(t.dir, "suite.zone"), "w") as f:
            f.write(zone_text(sc))
        t.start()
        t.wait_log(r"dns event=zones generation=1 zones=1")
        tests = list(sc["tests"].items())
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as ex:
            runs = list(ex.map(lambda it: run_cli(t.conf, it[1]), tests))
    finally:
        proxy.stop()
    failures = [f for f in (judge(tid, tc, r) for (tid, tc), r in zip(tests, runs)) if f]
    RESULTS[sc["description"]] = (len(tests) - len(failures), len(tests))
    assert not failures, "%d/%d failed:\n%s" % (len(failures), len(tests),
                                                "\n".join(failures))
    # the temperror cases must come from the dropped queries, not from
    # something else going wrong
    if any(tc["result"] == "temperror" for _, tc in tests):
        assert proxy.dropped, "temperror expected but the proxy dropped no query"


def test_rfc7208_suite_summary():
    """Runs last (pytest keeps file order): the count over every scenario
    that ran in this session."""
    if not RESULTS:
        pytest.skip("no scenario ran")
    passed = sum(p for p, _ in RESULTS.values())
    total = sum(n for _, n in RESULTS.values())
    line = "rfc7208 suite over DNS: %d/%d passed" % (passed, TOTAL)
    print(line)
    if len(RESULTS) == len(SCENARIOS):
        assert total == TOTAL
    assert passed == total, line
