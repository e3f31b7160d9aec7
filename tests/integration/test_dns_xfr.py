"""Zone transfers, NOTIFY and response rate limiting of the dns process
(issue 11 parts 4 and 5), against the real daemon with dnspython and dig as
clients and a UDP socket of the test standing in for a secondary."""
import os
import re
import socket
import subprocess
import time

import pytest

import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.flags

from conftest import free_port

ZONE = """$ORIGIN xfr.test.
$TTL 300
@       IN SOA ns1 hostmaster %(serial)d 7200 3600 1209600 60
        IN NS  ns1
        IN MX  10 mail
ns1     IN A   192.0.2.53
mail    IN A   192.0.2.25
%(extra)s
"""


def write_zone(t, serial, extra=""):
    with open(os.path.join(t.dir, "xfr.zone"), "w") as f:
        f.write(ZONE % {"serial": serial, "extra": extra})


def make(talon_factory, zone_opts="allow-transfer 127.0.0.0/8", limits=None, serial=1,
         extra=""):
    port = free_port()
    t = talon_factory(extra="listen dns 127.0.0.1:%d\nzone xfr.test xfr.zone %s" % (
        port, zone_opts), limits=limits or {"dns-responses": 0})
    t.dns_port = port
    write_zone(t, serial, extra)
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=1")
    return t


def query(t, name, rdtype, tcp=False, source="127.0.0.1"):
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=t.dns_port, timeout=5, source=source)
    return dns.query.udp(q, "127.0.0.1", port=t.dns_port, timeout=5, source=source)


def axfr(t, rdtype="AXFR", serial=None):
    """All messages of one transfer over one TCP connection."""
    q = dns.message.make_query("xfr.test.", rdtype)
    if serial is not None:
        soa = dns.rrset.from_text("xfr.test.", 0, "IN", "SOA",
                                  "ns1.xfr.test. hostmaster.xfr.test. %d 1 1 1 1" % serial)
        q.authority.append(soa)
    wire = q.to_wire()
    s = socket.create_connection(("127.0.0.1", t.dns_port), timeout=5)
    s.sendall(len(wire).to_bytes(2, "big") + wire)
    msgs, soas = [], 0
    while True:
        ln = s.recv(2, socket.MSG_WAITALL)
        if len(ln) < 2:
            break
        m = dns.message.from_wire(s.recv(int.from_bytes(ln, "big"), socket.MSG_WAITALL),
                                  one_rr_per_rrset=True)
        msgs.append(m)
        if m.rcode() != dns.rcode.NOERROR:
            break
        soas += sum(1 for r in m.answer if r.rdtype == dns.rdatatype.SOA)
        if rdtype == "AXFR" and soas >= 2:
            break
        if rdtype == "IXFR" and (soas >= 2 or (soas == 1 and len(m.answer) == 1)):
            break
    s.close()
    return msgs


def records(msgs):
    return [r for m in msgs for r in m.answer]


import dns.rrset  # noqa: E402 (used by axfr)


def test_axfr_allowed_gives_the_zone_between_two_soas(talon_factory):
    t = make(talon_factory, extra="\n".join("h%d IN A 10.0.%d.%d" % (i, i // 250, i % 250)
                                            for i in range(3000)))
    msgs = axfr(t)
    rrs = records(msgs)
    assert all(m.rcode() == dns.rcode.NOERROR and m.flags & dns.flags.AA for m in msgs)
    # big enough for several messages; the question only in the first
    assert len(msgs) > 1
    assert len(msgs[0].question) == 1 and all(len(m.question) == 0 for m in msgs[1:])
    assert rrs[0].rdtype == dns.rdatatype.SOA and rrs[-1].rdtype == dns.rdatatype.SOA
    assert [r for r in rrs[1:-1] if r.rdtype == dns.rdatatype.SOA] == []
    # every record once: SOA, NS, MX, 2 A + 3000 A, and the closing SOA
    assert len(rrs) == 1 + 1 + 1 + 2 + 3000 + 1
    names = {r.name.to_text() for r in rrs}
    assert "h2999.xfr.test." in names and "mail.xfr.test." in names
    t.wait_log(r"dns event=transfer origin=xfr.test. client=127.0.0.1:\d+ type=AXFR serial=1 "
               r"result=start")
    t.wait_log(r"dns event=transfer origin=xfr.test. client=127.0.0.1:\d+ result=done "
               r"records=3006")
    # dig agrees it is a complete transfer
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(t.dns_port), "xfr.test.", "AXFR"],
                         capture_output=True, text=True, timeout=20).stdout
    assert "XFR size: 3006 records" in out, out[-500:]


def test_axfr_refused_outside_the_allow_list(talon_factory):
    t = make(talon_factory, zone_opts="allow-transfer 192.0.2.1 198.51.100.0/24")
    [m] = axfr(t)
    assert m.rcode() == dns.rcode.REFUSED and not m.answer
    t.wait_log(r"dns event=transfer origin=xfr.test. client=127.0.0.1:\d+ type=AXFR "
               r"result=refused")
    # no allow-transfer at all: nobody
    t2 = make(talon_factory, zone_opts="")
    [m] = axfr(t2)
    assert m.rcode() == dns.rcode.REFUSED
    # and never over UDP
    q = dns.message.make_query("xfr.test.", "AXFR")
    r = dns.query.udp(q, "127.0.0.1", port=t.dns_port, timeout=5)
    assert r.rcode() == dns.rcode.REFUSED and not r.answer


def test_ixfr(talon_factory):
    t = make(talon_factory, serial=7)
    # the client has our serial: our SOA alone (RFC 1995 4)
    msgs = axfr(t, "IXFR", serial=7)
    rrs = records(msgs)
    assert len(rrs) == 1 and rrs[0].rdtype == dns.rdatatype.SOA and rrs[0][0].serial == 7
    # an older one: the whole zone (no journal yet)
    rrs = records(axfr(t, "IXFR", serial=5))
    assert rrs[0].rdtype == dns.rdatatype.SOA and rrs[-1].rdtype == dns.rdatatype.SOA
    assert len(rrs) == 6


class Secondary:
    """A UDP socket that answers NOTIFYs and remembers them."""

    def __init__(self, answer=True):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.port = self.s.getsockname()[1]
        self.answer = answer

    def collect(self, timeout):
        got = []
        self.s.settimeout(0.2)
        end = time.time() + timeout
        while time.time() < end:
            try:
                d, a = self.s.recvfrom(4096)
            except socket.timeout:
                continue
            m = dns.message.from_wire(d)
            got.append(m)
            if self.answer:
                self.s.sendto(dns.message.make_response(m).to_wire(), a)
        return got


def test_notify_on_a_new_serial_and_not_on_unchanged(talon_factory):
    sec = Secondary()
    t = make(talon_factory, zone_opts="allow-transfer 127.0.0.1 notify 127.0.0.1:%d" % sec.port,
             serial=10)
    assert sec.collect(0.5) == []       # nothing at start
    write_zone(t, 11, "new IN A 192.0.2.99")
    t.reload()
    got = sec.collect(2)
    assert len(got) == 1, got
    m = got[0]
    assert m.opcode() == dns.opcode.NOTIFY and m.flags & dns.flags.AA
    assert m.question[0].name.to_text() == "xfr.test." and m.question[0].rdtype == dns.rdatatype.SOA
    assert m.answer[0][0].serial == 11
    t.wait_log(r"dns event=notify origin=xfr.test. to=127.0.0.1:%d result=acked" % sec.port)
    assert query(t, "new.xfr.test.", "A").answer[0][0].address == "192.0.2.99"
    # content changed, serial not: served, a warning, no NOTIFY
    write_zone(t, 11, "new IN A 192.0.2.100")
    t.reload()
    t.wait_log(r"parent event=zone origin=xfr.test. serial=11 warning=\"content changed under "
               r"an unchanged serial")
    t.wait_log(r"dns event=zones generation=3")
    assert query(t, "new.xfr.test.", "A").answer[0][0].address == "192.0.2.100"
    assert sec.collect(1) == []


def test_notify_is_retried_then_given_up(talon_factory):
    sec = Secondary(answer=False)
    t = make(talon_factory, zone_opts="notify 127.0.0.1:%d" % sec.port, serial=1)
    write_zone(t, 2)
    t.reload()
    got = sec.collect(11)
    # the first try and four more, 2 s apart, all with the same id
    assert len(got) == 5, [m.id for m in got]
    assert len({m.id for m in got}) == 1
    t.wait_log(r"dns event=notify origin=xfr.test. to=127.0.0.1:%d result=no-answer tries=5" %
               sec.port)


def test_rate_limit_slips_and_spares_other_networks_and_tcp(talon_factory):
    t = make(talon_factory, limits={"dns-responses": 5})
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    wire = dns.message.make_query("mail.xfr.test.", "A").to_wire()
    for i in range(60):
        s.sendto(wire, ("127.0.0.1", t.dns_port))
    full, tc = 0, 0
    while True:
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        m = dns.message.from_wire(d)
        if m.flags & dns.flags.TC:
            assert not m.answer
            tc += 1
        else:
            assert m.answer[0][0].address == "192.0.2.25"
            full += 1
    # about one second's worth in full (a few more may have refilled while
    # the burst was sent), every second limited one as TC, the rest dropped
    assert 5 <= full <= 15, (full, tc)
    assert 15 <= tc <= 30, (full, tc)
    assert full + tc < 60
    # another /24 is not limited by this one's flood; TCP never is
    assert query(t, "mail.xfr.test.", "A", source="127.0.1.1").answer
    for _ in range(10):
        assert query(t, "mail.xfr.test.", "A", tcp=True).answer


def test_tsig_signed_transfer(talon_factory):
    """transfer-key: only requests signed with the key get the zone, and
    every message of the answer is signed (dnspython checks each MAC,
    the running one of RFC 8945 5.3.1 included)."""
    import base64
    import dns.tsigkeyring
    import dns.zone
    import dns.tsig
    secret = base64.b64encode(os.urandom(32)).decode()
    port = free_port()
    t = talon_factory(extra="listen dns 127.0.0.1:%d\nzone xfr.test xfr.zone allow-transfer "
                      "127.0.0.1 transfer-key xfr-key.\ntsig-key xfr-key hmac-sha256 %s"
                      % (port, secret), limits={"dns-responses": 0})
    t.dns_port = port
    write_zone(t, 3, "\n".join("h%d IN TXT \"%s\"" % (i, "x" * 40) for i in range(2000)))
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=1")
    ring = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256", secret)})
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "xfr.test.", port=port, keyring=ring,
                                        keyname="xfr-key.", timeout=10))
    assert z.get_rdataset("h1999", "TXT") is not None and len(z.nodes) == 2000 + 3
    t.wait_log(r"dns event=transfer origin=xfr.test. client=127.0.0.1:\d+ result=done "
               r"records=2006")
    # unsigned, or signed with another secret or another key name: refused
    with pytest.raises(Exception):
        list(dns.query.xfr("127.0.0.1", "xfr.test.", port=port, timeout=5))
    t.wait_log(r'result=refused reason="no TSIG"')
    bad = dns.tsigkeyring.from_text({"xfr-key.": ("hmac-sha256",
                                                  base64.b64encode(os.urandom(32)).decode())})
    with pytest.raises(Exception):
        list(dns.query.xfr("127.0.0.1", "xfr.test.", port=port, keyring=bad,
                           keyname="xfr-key.", timeout=5))
    t.wait_log(r'result=refused reason="bad signature"')
    other = dns.tsigkeyring.from_text({"other-key.": ("hmac-sha256", secret)})
    with pytest.raises(Exception):
        list(dns.query.xfr("127.0.0.1", "xfr.test.", port=port, keyring=other,
                           keyname="other-key.", timeout=5))
    t.wait_log(r'result=refused reason="unknown key"')
    # the secret is in no log line
    assert secret not in t.log()


def test_zone_check_compares_with_the_served_serial(talon_factory):
    """`talon -c CONF zone check FILE` asks the running daemon which serial
    it serves: lower is an error, the same serial with other content a
    warning, a higher one fine."""
    from conftest import TALON
    t = make(talon_factory, serial=5)
    path = os.path.join(t.dir, "xfr.zone")

    def check(serial, extra=""):
        write_zone(t, serial, extra)
        return subprocess.run([TALON, "-c", t.conf, "zone", "check", path, "-v"],
                              capture_output=True, text=True, timeout=30)
    r = check(5)
    assert r.returncode == 0 and "ok: the running daemon serves this very zone (serial 5)" in \
        r.stdout, r.stdout
    r = check(5, "new IN A 192.0.2.1")
    assert r.returncode == 0, r.stdout
    assert ("%s: warning: serial 5 is the one the running daemon serves, but the content "
            "differs" % path) in r.stdout, r.stdout
    r = check(4)
    assert r.returncode == 1, r.stdout
    assert ("%s: error: serial 4 is lower than 5, which the running daemon serves (RFC 1982)"
            % path) in r.stdout, r.stdout
    # RFC 1982 wraps: 5 + 2^31 - 1 is higher, 5 + 2^31 + 1 is lower
    r = check(5 + 2**31 - 1)
    assert r.returncode == 0 and "is above 5" in r.stdout, r.stdout
    r = check((5 + 2**31 + 1) % 2**32)
    assert r.returncode == 1, r.stdout
    # without a daemon nothing is compared
    t.stop()
    r = check(4)
    assert r.returncode == 0, r.stdout


def test_rate_limited_slip_of_a_malformed_query_is_a_header(talon_factory):
    """Regression: a slipped (TC) answer to a query whose question did not
    parse went out as an empty datagram; it must be at least the header."""
    t = make(talon_factory, limits={"dns-responses": 2})
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    bad = b"\x12\x34\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00"     # QDCOUNT 2, no question
    for _ in range(40):
        s.sendto(bad, ("127.0.0.1", t.dns_port))
    got = []
    while True:
        try:
            got.append(s.recv(4096))
        except socket.timeout:
            break
    assert len(got) >= 10, len(got)     # 2 in full, then every second one
    for d in got:
        assert len(d) >= 12 and d[:2] == b"\x12\x34" and d[2] & 0x80, d
    assert any(d[2] & 0x02 for d in got)    # some were slipped


def xfr_all(t, serial):
    """every message of an IXFR answer (read until the server goes quiet)"""
    q = dns.message.make_query("xfr.test.", "IXFR")
    q.authority.append(dns.rrset.from_text("xfr.test.", 0, "IN", "SOA",
                                           "ns1.xfr.test. hostmaster.xfr.test. %d 1 1 1 1" % serial))
    wire = q.to_wire()
    s = socket.create_connection(("127.0.0.1", t.dns_port), timeout=5)
    s.sendall(len(wire).to_bytes(2, "big") + wire)
    s.settimeout(1)
    rrs = []
    try:
        while True:
            ln = s.recv(2, socket.MSG_WAITALL)
            if len(ln) < 2:
                break
            m = dns.message.from_wire(s.recv(int.from_bytes(ln, "big"), socket.MSG_WAITALL),
                                      one_rr_per_rrset=True)
            rrs += [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype), r.ttl, r[0].to_text())
                    for r in m.answer]
    except socket.timeout:
        pass
    s.close()
    return rrs


def test_ixfr_from_the_journal(talon_factory):
    """Each reload that raises the serial adds the difference to the journal;
    an IXFR from a serial it knows gets exactly the changes (RFC 1995 4:
    new SOA, then per step the old SOA and the deletions, the new SOA and
    the additions, then the new SOA again)."""
    t = make(talon_factory, serial=7, extra="old IN A 192.0.2.7\nttl IN TXT \"t\"")
    write_zone(t, 8, "new IN A 192.0.2.8\nttl IN TXT \"t\"")            # -old +new
    t.reload()
    t.wait_log(r"dns event=zones generation=2")
    write_zone(t, 9, "new IN A 192.0.2.8\nttl 60 IN TXT \"t\"")         # TTL 300 -> 60
    t.reload()
    t.wait_log(r"dns event=zones generation=3")
    soa = lambda n: ("xfr.test.", "SOA", 300,
                     "ns1.xfr.test. hostmaster.xfr.test. %d 7200 3600 1209600 60" % n)
    got = xfr_all(t, 7)
    assert got == [soa(9),
                   soa(7), ("old.xfr.test.", "A", 300, "192.0.2.7"),
                   soa(8), ("new.xfr.test.", "A", 300, "192.0.2.8"),
                   soa(8), ("ttl.xfr.test.", "TXT", 300, '"t"'),
                   soa(9), ("ttl.xfr.test.", "TXT", 60, '"t"'),
                   soa(9)], got
    t.wait_log(r"type=IXFR serial=9 result=start incremental=yes")
    # from 8: the last step only
    got = xfr_all(t, 8)
    assert got == [soa(9), soa(8), ("ttl.xfr.test.", "TXT", 300, '"t"'),
                   soa(9), ("ttl.xfr.test.", "TXT", 60, '"t"'), soa(9)], got
    # a serial the journal does not know: the whole zone
    got = xfr_all(t, 3)
    assert got[0] == soa(9) and got[-1] == soa(9) and len(got) == 8, got
    t.wait_log(r"type=IXFR serial=9 result=start incremental=no")
    # content changed under serial 9: the journal starts over
    write_zone(t, 9, "new IN A 192.0.2.9\nttl 60 IN TXT \"t\"")
    t.reload()
    t.wait_log(r"dns event=zones generation=4")
    got = xfr_all(t, 8)
    assert len(got) == 8 and ("new.xfr.test.", "A", 300, "192.0.2.9") in got, got
