#!/usr/bin/python3
"""bench/dns-probe.py - the waits and checks of bench/dns-qps.sh (loopback only).

    dns-probe.py wait PORT NAME A-ADDRESS --t0 EPOCH [--timeout 60] [--log FILE --pattern TEXT]
        Asks 127.0.0.1:PORT for NAME A over UDP every 2 ms until an answer
        with RCODE 0 carries A-ADDRESS; prints "answer_s=X" (seconds since
        EPOCH, the time the server was started) and, with --log, "log_s=Y":
        the first time TEXT was seen in FILE.  No dnspython here: this must
        start in a few milliseconds, well before any server has loaded.
        Exit 1 on timeout.

    dns-probe.py check NAME=PORT... [--sample FILE:COUNT]... [--label WORD] [--delay S]
        1. the fixed questions below (nmrc.org and bench.test) with their
           expected answers, against each server;
        2. COUNT questions picked evenly from each dnsperf query FILE, put to
           every server; each server's answer (RCODE, AA, answer RRsets,
           the types in the authority section) is set against the first
           server's.
        Prints "check server=NAME expected_ok=N/M same_as_FIRST=N/M" lines
        and the first differences ("check" is --label); --delay waits first
        (to start under a load that starts at the same time).  Exit 0 always: it reports, the caller
        decides.
"""
import os
import random
import socket
import struct
import sys
import time


def build_query(name, qtype=1, qid=None):
    qid = random.getrandbits(16) if qid is None else qid
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)  # RD=0
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return qid, q + b"\0" + struct.pack("!HH", qtype, 1)


def cmd_wait(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="dns-probe.py wait")
    ap.add_argument("port", type=int)
    ap.add_argument("name")
    ap.add_argument("addr")
    ap.add_argument("--t0", type=float, required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--log")
    ap.add_argument("--pattern")
    a = ap.parse_args(argv)
    want = socket.inet_aton(a.addr)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    log_s = None
    answer_s = None
    logf = None
    tail = b""
    pattern = (a.pattern or "").encode()
    deadline = a.t0 + a.timeout
    while time.time() < deadline:
        if a.log and log_s is None:
            if logf is None and os.path.exists(a.log):
                logf = open(a.log, "rb")
            if logf is not None:
                tail = tail[-len(pattern):] + logf.read()
                if pattern in tail:
                    log_s = time.time() - a.t0
        if answer_s is None:
            qid, q = build_query(a.name)
            try:
                s.sendto(q, ("127.0.0.1", a.port))
            except OSError:
                pass
            end = time.time() + 0.002
            while answer_s is None and time.time() < end:
                try:
                    r = s.recv(4096)
                except BlockingIOError:
                    time.sleep(0.0002)
                    continue
                except OSError:
                    break
                if len(r) >= 12:
                    rid, flags, qd, an = struct.unpack("!HHHH", r[:8])
                    if rid == qid and flags & 0x8000 and flags & 0xF == 0 and an >= 1 and want in r[12:]:
                        answer_s = time.time() - a.t0
        else:
            time.sleep(0.002)
        if answer_s is not None and (not a.log or log_s is not None):
            break
    out = ["answer_s=%s" % ("%.3f" % answer_s if answer_s is not None else "n/a")]
    if a.log:
        out.append("log_s=%s" % ("%.3f" % log_s if log_s is not None else "n/a"))
    print(" ".join(out))
    return 0 if answer_s is not None else 1


# (name, type, expected rcode, expected answer RRs as "type rdata" texts
# (None: do not look), a type the authority section must hold (or None))
EXPECT = [
    ("web.nmrc.org.", "A", "NOERROR", {"CNAME www.nmrc.org.", "A 65.70.17.132"}, None),
    ("nmrc.org.", "MX", "NOERROR", {"MX 5 talon.nmrc.org."}, None),
    ("talon.nmrc.org.", "A", "NOERROR", {"A 65.70.17.131"}, None),
    ("_dmarc.nmrc.org.", "TXT", "NOERROR", {'TXT "v=DMARC1; p=none"'}, None),
    ("nmrc.org.", "TXT", "NOERROR", None, None),
    ("talon.nmrc.org.", "AAAA", "NOERROR", set(), "SOA"),
    ("_domainkey.nmrc.org.", "TXT", "NOERROR", set(), "SOA"),
    ("mail.nmrc.org.", "A", "NXDOMAIN", set(), "SOA"),
    ("probe.bench.test.", "A", "NOERROR", {"A 198.19.255.254"}, None),
    ("n0000001.bench.test.", "A", "NXDOMAIN", set(), "SOA"),
    ("bench.test.", "MX", "NOERROR", {"MX 10 h000000.bench.test."}, None),
]


def canon(resp):
    import dns.rcode
    import dns.rdatatype
    import dns.flags
    ans = set()
    for rrset in resp.answer:
        for rd in rrset:
            ans.add("%s %s %s" % (rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype),
                                  rd.to_text().lower()))
    auth = sorted({dns.rdatatype.to_text(r.rdtype) for r in resp.authority})
    return (dns.rcode.to_text(resp.rcode()), bool(resp.flags & dns.flags.AA),
            tuple(sorted(ans)), tuple(auth))


def ask(port, name, qtype):
    import dns.message
    import dns.query
    q = dns.message.make_query(name, qtype, use_edns=0, want_dnssec=False)
    q.flags &= ~0x0100  # no RD: an authoritative server's question
    for _ in range(3):
        try:
            return dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
        except Exception as e:  # timeout, bad answer: try again, then report
            err = e
    return err


def cmd_check(argv):
    import argparse
    import dns.rdatatype
    import dns.rcode
    ap = argparse.ArgumentParser(prog="dns-probe.py check")
    ap.add_argument("servers", nargs="+", help="NAME=PORT")
    ap.add_argument("--sample", action="append", default=[], help="QUERYFILE:COUNT")
    ap.add_argument("--label", default="check", help="the first word of every line")
    ap.add_argument("--delay", type=float, default=0, help="seconds to wait first")
    a = ap.parse_args(argv)
    time.sleep(a.delay)
    servers = [(s.split("=")[0], int(s.split("=")[1])) for s in a.servers]

    qs = []
    for spec in a.sample:
        path, count = spec.rsplit(":", 1)
        with open(path) as f:
            lines = [l.split() for l in f if l.strip()]
        step = max(1, len(lines) // int(count))
        qs.extend((l[0], l[1]) for l in lines[::step][:int(count)])

    first = servers[0][0]
    ref = {}
    diffs = []
    for sname, port in servers:
        ok = 0
        bad = []
        for name, t, rcode, answer, authtype in EXPECT:
            r = ask(port, name, t)
            if isinstance(r, Exception):
                bad.append("%s %s: %s" % (name, t, r))
                continue
            got_rcode = dns.rcode.to_text(r.rcode())
            got = set()
            for rrset in r.answer:
                for rd in rrset:
                    got.add("%s %s" % (dns.rdatatype.to_text(rrset.rdtype), rd.to_text()))
            auth = {dns.rdatatype.to_text(x.rdtype) for x in r.authority}
            if (got_rcode == rcode and (answer is None and got or answer == got)
                    and (authtype is None or authtype in auth) and r.flags & 0x0400):
                ok += 1
            else:
                bad.append("%s %s: rcode=%s aa=%d answer=%s authority=%s" % (
                    name, t, got_rcode, bool(r.flags & 0x0400), sorted(got), sorted(auth)))
        same = 0
        for name, t in qs:
            r = ask(port, name, t)
            c = canon(r) if not isinstance(r, Exception) else ("error", str(r))
            if sname == first:
                ref[(name, t)] = c
                same += 1
            elif ref.get((name, t)) == c:
                same += 1
            else:
                diffs.append("%s %s: %s=%s %s=%s" % (name, t, first, ref.get((name, t)), sname, c))
        print("%s server=%s expected_ok=%d/%d same_as_%s=%d/%d" % (
            a.label, sname, ok, len(EXPECT), first, same, len(qs)))
        for b in bad[:5]:
            print("%s server=%s WRONG %s" % (a.label, sname, b))
    for d in diffs[:10]:
        print("%s DIFFERS %s" % (a.label, d))
    if len(diffs) > 10:
        print("%s DIFFERS ... and %d more" % (a.label, len(diffs) - 10))
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("wait", "check"):
        sys.exit(__doc__)
    return cmd_wait(sys.argv[2:]) if sys.argv[1] == "wait" else cmd_check(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
