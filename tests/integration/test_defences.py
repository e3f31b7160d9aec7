"""The inbound defences of issue 13, parts 2-9, end to end with the real
daemon: DNS blocklists served by our own DNS server, greylisting, greet
pause, the pipelining check, relay control and relay tricks, listener ACLs
(reject and drop), auto-ban with `talon ban`, connection and message
limits, and the decision log.  Clients bind 127.0.0.x source addresses, so
every list, ACL and ban names a loopback address (TESTING.md)."""
import os
import re
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import free_port, TALON

BL_ZONE = """$ORIGIN bl.test.
$TTL 60
@  IN SOA ns.bl.test. hostmaster.bl.test. 1 3600 600 86400 60
   IN NS  ns
ns IN A   127.0.0.1
7.0.0.127    IN A 127.0.0.2
7.0.0.127    IN TXT "listed for tests"
11.0.0.127   IN A 127.0.0.3
12.0.0.127   IN A 127.255.255.254
13.0.0.127   IN A 192.0.2.1
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN A 127.0.0.2
spammer.example IN A 127.0.0.2
bad-helo.example IN A 127.0.0.2
"""

BL2_ZONE = """$ORIGIN two.test.
$TTL 60
@  IN SOA ns.two.test. hostmaster.two.test. 1 3600 600 86400 60
   IN NS  ns.bl.test.
7.0.0.127  IN A 127.0.0.4
9.0.0.127  IN A 127.0.0.4
"""

ROOT_ZONE = """$ORIGIN .
$TTL 60
@ IN SOA ns.bl.test. hostmaster.bl.test. 1 3600 600 86400 60
  IN NS ns.bl.test.
"""

MSG = "From: a@sender.example\r\nTo: alice@test.example\r\nSubject: t\r\n\r\nHello.\r\n"


def make(talon_factory, extra="", limits=None, access=None, dns_target=None, **kw):
    """A daemon that serves bl.test and two.test itself and resolves
    through its own DNS server (or through dns_target, a proxy)."""
    port = free_port()
    lim = {"dns-responses": 0, "resolver-timeout": 2}
    lim.update(limits or {})
    if access is not None:
        extra = "access access\n" + extra
    t = talon_factory(extra="listen dns 127.0.0.1:%d\nzone bl.test bl.zone\nzone two.test "
                      "two.zone\nzone . root.zone\nresolver forward 127.0.0.1@%d\n%s" % (
                          port, dns_target(port) if dns_target else port, extra),
                      limits=lim, **kw)
    t.dns_port = port
    for name, text in (("bl.zone", BL_ZONE), ("two.zone", BL2_ZONE), ("root.zone", ROOT_ZONE)):
        with open(os.path.join(t.dir, name), "w") as f:
            f.write(text)
    if access is not None:
        with open(os.path.join(t.dir, "access"), "w") as f:
            f.write(access)
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=3")
    return t


def client(t, ip, port=None):
    return smtplib.SMTP("127.0.0.1", port or t.port, source_address=(ip, 0), timeout=30)


def rcpt(t, ip, to="alice@test.example", frm="a@sender.example", helo="client.example"):
    """(code, text) of RCPT TO after EHLO and MAIL."""
    with client(t, ip) as s:
        s.ehlo(helo)
        code, text = s.mail(frm)
        assert code == 250, (code, text)
        code, text = s.rcpt(to)
        return code, text.decode()


def raw_connect(t, ip, port=None):
    s = socket.create_connection(("127.0.0.1", port or t.port), timeout=10,
                                 source_address=(ip, 0))
    return s


def read_line(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while not data.endswith(b"\r\n"):
        d = s.recv(4096)
        if not d:
            break
        data += d
    return data.decode()


def talon_cli(t, *args):
    return subprocess.run([TALON, "-c", t.conf] + list(args), capture_output=True,
                          text=True, timeout=30)


# --- blocklists (part 2) -----------------------------------------------------

DNSBL = ("dnsbl bl.test text Mail from $&{client_addr} refused - see bl list at bl.test\n"
         "dnsbl two.test text 550 5.7.1 {ip} is on list two\n")


def test_dnsbl_refuses_at_rcpt_with_the_lists_text(talon_factory):
    t = make(talon_factory, DNSBL)
    code, text = rcpt(t, "127.0.0.7")
    assert code == 550
    # the first list in config order answers (127.0.0.7 is on both)
    assert text == "5.7.1 Mail from 127.0.0.7 refused - see bl list at bl.test"
    # only on the second list: its own text and code
    code, text = rcpt(t, "127.0.0.9")
    assert (code, text) == (550, "5.7.1 127.0.0.9 is on list two")
    # not listed: accepted
    assert rcpt(t, "127.0.0.5")[0] == 250
    log = t.log()
    assert re.search(r"event=reject queue=none from=<a@sender.example> to=<alice@test.example> "
                     r"client=\[127.0.0.7\] list=bl.test listed=client answer=127.0.0.2 "
                     r'result="550 5.7.1" reason="blocklist"', log), log[-3000:]


def test_dnsbl_postmaster_stays_reachable_and_exemptions(talon_factory):
    t = make(talon_factory, DNSBL + "mynetworks 127.0.0.9\n",
             access="Connect:127.0.0.7\tOK\n")
    t.wait_log(r"policy event=access file=\S+ entries=1")
    # Connect: OK skips the lists; mynetworks too
    assert rcpt(t, "127.0.0.7")[0] == 250
    assert rcpt(t, "127.0.0.9")[0] == 250
    t2 = make(talon_factory, DNSBL)
    assert rcpt(t2, "127.0.0.7", to="postmaster@test.example")[0] == 250
    with client(t2, "127.0.0.7") as s:
        s.ehlo("x.example")
        s.mail("a@sender.example")
        assert s.rcpt("<postmaster>")[0] == 250
        assert s.rcpt("bob@test.example")[0] == 550


def test_dnsbl_codes_refusal_answers_and_non_loopback_answers(talon_factory):
    t = make(talon_factory, "dnsbl bl.test codes 127.0.0.2\n")
    assert rcpt(t, "127.0.0.7")[0] == 550          # 127.0.0.2: in codes
    assert rcpt(t, "127.0.0.11")[0] == 250         # 127.0.0.3: not in codes
    assert rcpt(t, "127.0.0.12")[0] == 250         # Spamhaus "query refused"
    assert rcpt(t, "127.0.0.13")[0] == 250         # outside 127/8: never counts
    t.wait_log(r"policy event=dnsbl list=bl.test query=12.0.0.127.bl.test "
               r"answer=127.255.255.254 result=query-refused action=not-listed")
    t2 = make(talon_factory, "dnsbl bl.test\n")
    code, text = rcpt(t2, "127.0.0.11")             # no codes: any 127/8 answer
    assert (code, text) == (550, "5.7.1 Rejected: 127.0.0.11 listed at bl.test")


def test_rhsbl_on_sender_domain_and_helo(talon_factory):
    t = make(talon_factory, "rhsbl bl.test from text sender domain {domain} is listed\n"
             "rhsbl two.test helo\n")
    code, text = rcpt(t, "127.0.0.5", frm="x@spammer.example")
    assert (code, text) == (550, "5.7.1 sender domain spammer.example is listed")
    assert rcpt(t, "127.0.0.5", frm="x@clean.example")[0] == 250
    # the HELO list is two.test, which does not list bad-helo.example;
    # bl.test is asked for the sender domain only
    assert rcpt(t, "127.0.0.5", helo="bad-helo.example")[0] == 250
    t2 = make(talon_factory, "rhsbl bl.test helo\n")
    assert rcpt(t2, "127.0.0.5", helo="bad-helo.example")[0] == 550


def test_dnsbl_reject_at_connect(talon_factory):
    t = make(talon_factory, DNSBL + "dnsbl-reject connect\n")
    s = raw_connect(t, "127.0.0.7")
    assert read_line(s) == "554 5.7.1 Mail from 127.0.0.7 refused - see bl list at bl.test\r\n"
    assert s.recv(100) == b""
    s.close()
    s = raw_connect(t, "127.0.0.5")
    assert read_line(s).startswith("220 ")
    s.close()


def test_dnsbl_ipv6_client(talon_factory):
    v6port = free_port()
    t = make(talon_factory, DNSBL, listeners=None)
    # a second daemon would be simpler than a second listener: add one
    t.stop()
    t.extra += "\nlisten smtp [::1]:%d" % v6port
    t.write_files()
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=3", count=2)
    with smtplib.SMTP("::1", v6port, timeout=30) as s:
        s.ehlo("v6.example")
        s.mail("a@sender.example")
        code, text = s.rcpt("alice@test.example")
    assert code == 550 and b"::1" in text, (code, text)


def test_dnsbl_that_times_out_does_not_block_mail(talon_factory):
    from dnsproxy import DropProxy
    proxies = []

    def target(port):
        p = DropProxy(("127.0.0.1", port), drop=lambda n, qt: n.endswith("bl.test"))
        p.start()
        proxies.append(p)
        return p.port
    try:
        t = make(talon_factory, DNSBL, dns_target=target, limits={"resolver-timeout": 1})
        with client(t, "127.0.0.7") as s:
            s.ehlo("x.example")
            s.mail("a@sender.example")
            # bl.test times out (not listed); two.test still answers
            code, text = s.rcpt("alice@test.example")
            assert (code, text) == (550, b"5.7.1 127.0.0.7 is on list two")
        assert rcpt(t, "127.0.0.5")[0] == 250
        with client(t, "127.0.0.5") as s:
            s.sendmail("a@sender.example", ["alice@test.example"], MSG)
        t.wait_messages("alice", 1)
        t.wait_log(r"policy event=dnsbl list=bl.test query=\S+ result=tempfail .*"
                   r"action=not-listed")
    finally:
        for p in proxies:
            p.stop()


# --- greylisting (part 3) ------------------------------------------------------

GREY = "greylist on\n"


def test_greylist_cycle(talon_factory):
    t = make(talon_factory, GREY, limits={"greylist-delay": 2})
    code, text = rcpt(t, "127.0.0.5")
    assert code == 451
    assert re.match(r"4\.7\.1 <alice@test\.example>: Recipient address rejected: "
                    r"Greylisted, try again in 2 seconds", text), text
    code, text = rcpt(t, "127.0.0.5")         # too early
    assert code == 451 and "try again in" in text
    time.sleep(2.2)
    # another address of the same /24 shares the triplet
    assert rcpt(t, "127.0.0.6")[0] == 250
    # a new recipient is a new triplet
    assert rcpt(t, "127.0.0.5", to="bob@test.example")[0] == 451
    log = t.log()
    assert re.search(r"event=greylist from=<a@sender.example> to=<alice@test.example> "
                     r"client=\[127.0.0.6\] check=greylist net=127.0.0.0/24 state=passed "
                     r"result=pass", log), log[-3000:]
    assert re.search(r"check=greylist net=127.0.0.0/24 state=new result=\"451 4.7.1\"", log)
    # the state survives a restart
    t.stop()
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=3", count=2)
    assert rcpt(t, "127.0.0.5")[0] == 250
    # and the whole message goes through
    with client(t, "127.0.0.5") as s:
        s.sendmail("a@sender.example", ["alice@test.example"], MSG)
    t.wait_messages("alice", 1)


def test_greylist_exemptions(talon_factory):
    t = make(talon_factory, GREY + "mynetworks 127.0.0.9\ngreylist-exempt 127.0.0.10 "
             "trusted.example\n", access="Connect:127.0.0.11\tOK\nSpam:bob@test.example\tFRIEND\n"
             "To:carol@test.example\tOK\n")
    t.wait_log(r"policy event=access file=\S+ entries=3")
    assert rcpt(t, "127.0.0.9")[0] == 250                          # mynetworks
    assert rcpt(t, "127.0.0.10")[0] == 250                         # exempt network
    assert rcpt(t, "127.0.0.5", frm="x@trusted.example")[0] == 250  # exempt domain
    assert rcpt(t, "127.0.0.5", frm="x@mx.trusted.example")[0] == 250
    assert rcpt(t, "127.0.0.11")[0] == 250                         # Connect: OK
    assert rcpt(t, "127.0.0.5", to="bob@test.example")[0] == 250   # Spam: FRIEND
    assert rcpt(t, "127.0.0.5", to="carol@test.example")[0] == 250  # To: OK
    assert rcpt(t, "127.0.0.5")[0] == 451                          # everyone else


def test_greylist_listed_only(talon_factory):
    t = make(talon_factory, "greylist listed\ndnsbl bl.test\n")
    assert rcpt(t, "127.0.0.5")[0] == 250      # not listed: no greylisting
    code, text = rcpt(t, "127.0.0.7")          # listed: greylisted, not refused
    assert code == 451 and "Greylisted" in text, text


def test_greylist_store_unavailable_is_451_430(talon_factory):
    t = make(talon_factory, GREY)
    t.stop()
    db = os.path.join(t.dir, "state", "policy", "greylist.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    with open(db, "w") as f:
        f.write("this is not a database, and it is long enough to be read as one " * 20)
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=3", count=2)
    code, text = rcpt(t, "127.0.0.5")
    assert (code, text) == (451, "4.3.0 Error: temporary failure, try again later")


# --- greet pause and pipelining (part 4) ----------------------------------------

def test_greet_pause_refuses_early_talkers(talon_factory):
    t = make(talon_factory, access="Connect:127.0.0.9\tOK\n", limits={"greet-pause": 1000})
    s = raw_connect(t, "127.0.0.5")
    s.sendall(b"EHLO early.example\r\n")
    assert read_line(s) == "554 5.5.0 mail.test.example Error: talking before the greeting " \
                           "is not allowed\r\n"
    assert s.recv(100) == b""
    s.close()
    t.wait_log(r"event=reject queue=none client=\[127.0.0.5\] check=greet-pause waited_ms=\d+ "
               r"pause_ms=1000 result=\"554 5.5.0\"")
    # a patient client: nothing for a while, then the banner; two at once
    # do not wait for each other
    a, b = raw_connect(t, "127.0.0.6"), raw_connect(t, "127.0.0.8")
    a.settimeout(0.3)
    with pytest.raises(socket.timeout):
        a.recv(100)
    assert read_line(a).startswith("220 ")
    assert read_line(b).startswith("220 ")
    a.close()
    b.close()
    # Connect: OK is greeted at once
    c = raw_connect(t, "127.0.0.9")
    assert read_line(c, timeout=0.5).startswith("220 ")
    c.close()


def test_improper_pipelining(talon_factory):
    t = make(talon_factory, "pipelining-check on\n")
    # EHLO and MAIL in one packet: the client cannot know PIPELINING yet
    s = raw_connect(t, "127.0.0.5")
    assert read_line(s).startswith("220 ")
    s.sendall(b"EHLO x.example\r\nMAIL FROM:<a@sender.example>\r\n")
    data = b""
    s.settimeout(10)
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
    assert data.decode().endswith("554 5.5.0 Improper use of SMTP command pipelining\r\n"), data
    s.close()
    # after HELO (no PIPELINING at all)
    s = raw_connect(t, "127.0.0.5")
    read_line(s)
    s.sendall(b"HELO x.example\r\n")
    assert read_line(s).startswith("250 ")
    s.sendall(b"MAIL FROM:<a@sender.example>\r\nRCPT TO:<alice@test.example>\r\n")
    assert read_line(s) == "554 5.5.0 Improper use of SMTP command pipelining\r\n"
    s.close()
    t.wait_log(r"check=pipelining pending_bytes=\d+ result=\"554 5.5.0\"")
    # a client that negotiated it may pipeline (smtplib waits per command;
    # this one does not)
    s = raw_connect(t, "127.0.0.5")
    f = s.makefile("rb")
    assert f.readline().startswith(b"220 ")
    s.sendall(b"EHLO x.example\r\n")
    reply = []
    while not reply or not reply[-1].startswith(b"250 "):
        reply.append(f.readline())
    assert b"250-PIPELINING\r\n" in reply
    s.sendall(b"MAIL FROM:<a@sender.example>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n")
    assert f.readline().startswith(b"250 ")
    assert f.readline().startswith(b"250 ")
    assert f.readline().startswith(b"354 ")
    s.sendall(MSG.encode() + b".\r\nQUIT\r\n")
    assert f.readline().startswith(b"250 ")
    f.close()
    s.close()
    t.wait_messages("alice", 1)


# --- relay control (part 5) ------------------------------------------------------

RELAY_TEXT = "5.7.1 <%s>... Relaying denied. Proper authentication required."


@pytest.mark.parametrize("addr,shown", [
    ("user@elsewhere.example", "user@elsewhere.example"),
    ("user%elsewhere.example@test.example", "user%elsewhere.example@test.example"),
    ("@test.example:user@elsewhere.example", "user@elsewhere.example"),
    ('"user@elsewhere.example"@test.example', '"user@elsewhere.example"@test.example'),
    ("elsewhere.example!user@test.example", "elsewhere.example!user@test.example"),
])
def test_relay_denied_and_relay_tricks(talon, addr, shown):
    with client(talon, "127.0.0.5") as s:
        s.ehlo("x.example")
        s.mail("a@sender.example")
        code, text = s.rcpt("<%s>" % addr)
    assert (code, text.decode()) == (550, RELAY_TEXT % shown)


def test_relay_allowed_clients_are_told_to_wait(talon_factory):
    t = make(talon_factory, "mynetworks 127.0.0.9\n", access="Connect:127.0.0.10\tRELAY\n")
    t.wait_log(r"policy event=access file=\S+ entries=1")
    for ip in ("127.0.0.9", "127.0.0.10"):
        code, text = rcpt(t, ip, to="user@elsewhere.example")
        assert code == 451 and text.startswith("4.4.0 <user@elsewhere.example>... Relaying "
                                               "allowed"), (ip, code, text)
    assert rcpt(t, "127.0.0.5", to="user@elsewhere.example")[0] == 550


# --- listener ACLs (part 6) --------------------------------------------------------

def test_listener_allow_and_deny_reject_drop(talon_factory):
    p2 = free_port()
    t = make(talon_factory, "listen smtp 127.0.0.1:%d allow 127.0.0.5 127.0.1.0/24\n"
             "deny reject 127.0.0.70\ndeny drop 127.0.0.71 127.0.2.0/24\n" % p2)
    s = raw_connect(t, "127.0.0.5", p2)
    assert read_line(s).startswith("220 ")
    s.close()
    s = raw_connect(t, "127.0.1.9", p2)
    assert read_line(s).startswith("220 ")
    s.close()
    s = raw_connect(t, "127.0.0.6", p2)          # not on the allow list
    assert s.recv(100) == b""
    s.close()
    s = raw_connect(t, "127.0.0.6")              # the other listener allows all
    assert read_line(s).startswith("220 ")
    s.close()
    s = raw_connect(t, "127.0.0.70")
    assert read_line(s) == "554 5.7.1 mail.test.example Access denied\r\n"
    s.close()
    for ip in ("127.0.0.71", "127.0.2.3"):
        s = raw_connect(t, ip)
        assert s.recv(100) == b""
        s.close()
    log = t.log()
    assert re.search(r"smtp event=acl client=\[127.0.0.6\] listener=127.0.0.1:%d result=drop "
                     r'rule="listen-allow line=\d+"' % p2, log)
    assert re.search(r'smtp event=acl client=\[127.0.0.70\] listener=\S+ result=reject '
                     r'rule="deny 127.0.0.70 line=\d+"', log)
    assert re.search(r'result=drop rule="deny 127.0.2.0/24 line=\d+"', log)
    out = talon_cli(t, "firewall", "export", "--nft")
    assert out.returncode == 0, out.stderr
    assert "ip saddr { 127.0.0.71, 127.0.2.0/24 } tcp dport" in out.stdout
    assert "drop comment \"talon deny drop\"" in out.stdout
    assert "ip saddr { 127.0.0.70 } tcp dport" in out.stdout
    assert "ip saddr != { 127.0.0.5, 127.0.1.0/24 } tcp dport %d drop" % p2 in out.stdout
    assert "meta nfproto ipv6 tcp dport %d drop" % p2 in out.stdout


# --- auto-ban (part 7) ---------------------------------------------------------------

BAN = "auto-ban on\nban-points relay 5\nmynetworks 127.0.0.9\n"


def relay_attempt(t, ip):
    with client(t, ip) as s:
        s.ehlo("x.example")
        s.mail("a@sender.example")
        return s.rcpt("victim@elsewhere.example")[0]


def test_auto_ban_list_del_and_owner_spared(talon_factory):
    t = make(talon_factory, BAN, limits={"ban-threshold": 10})
    assert relay_attempt(t, "127.0.0.20") == 550
    assert relay_attempt(t, "127.0.0.20") == 550
    t.wait_log(r"policy event=ban client=\[127.0.0.20\] ban=127.0.0.20 until=\S+ count=1")
    s = raw_connect(t, "127.0.0.20")
    assert read_line(s) == "554 5.7.1 mail.test.example Access denied\r\n"
    s.close()
    t.wait_log(r"policy event=admit client=\[127.0.0.20\] result=banned ban=127.0.0.20")
    out = talon_cli(t, "ban", "list")
    assert out.returncode == 0, out.stderr
    assert re.search(r"^127\.0\.0\.20 until=\S+ since=\S+ count=1 reason=", out.stdout, re.M)
    # the owner's network is never banned, whatever it does
    for _ in range(4):
        assert relay_attempt(t, "127.0.0.9") == 451     # may relay: no outbound yet
        with client(t, "127.0.0.9") as s:
            s.ehlo("x.example")
            s.mail("a@sender.example")
            assert s.rcpt("nobody@test.example")[0] == 550
    assert rcpt(t, "127.0.0.9")[0] == 250
    # unban
    out = talon_cli(t, "ban", "del", "127.0.0.20")
    assert out.returncode == 0 and "127.0.0.20 unbanned" in out.stdout, out
    s = raw_connect(t, "127.0.0.20")
    assert read_line(s).startswith("220 ")
    s.close()


def test_ban_expires_and_persists(talon_factory):
    t = make(talon_factory, BAN, limits={"ban-threshold": 5, "ban-time": 3})
    assert relay_attempt(t, "127.0.0.21") == 550
    t.wait_log(r"policy event=ban client=\[127.0.0.21\]")
    # a manual ban for ever, of a prefix, survives a restart
    out = talon_cli(t, "ban", "add", "127.0.3.0/24", "forever", "spear", "phishing")
    assert out.returncode == 0, out.stderr
    assert "127.0.3.0/24 banned until forever" in out.stdout
    t.stop()
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=3", count=2)
    s = raw_connect(t, "127.0.3.77")
    assert read_line(s).startswith("554 5.7.1 ")
    s.close()
    out = talon_cli(t, "ban", "list")
    assert 'reason="spear phishing"' in out.stdout, out.stdout
    # the automatic one ran out
    deadline = time.time() + 10
    while True:
        s = raw_connect(t, "127.0.0.21")
        line = read_line(s)
        s.close()
        if line.startswith("220 ") or time.time() > deadline:
            break
        time.sleep(0.5)
    assert line.startswith("220 "), line


def test_ban_cli_errors(talon_factory):
    t = make(talon_factory, BAN)
    out = talon_cli(t, "ban", "add", "127.0.0.1/8")      # host bits set
    assert out.returncode == 1 and "not an address or prefix" in out.stderr, out
    out = talon_cli(t, "ban", "del", "127.0.0.99")
    assert out.returncode == 1 and "was not banned" in out.stderr, out
    out = talon_cli(t, "ban")
    assert out.returncode == 2


# --- limits (part 8) -------------------------------------------------------------------

def test_connection_rate_and_messages_per_connection(talon_factory):
    t = make(talon_factory, limits={"connection-rate": 3, "messages-per-connection": 1})
    for _ in range(3):
        s = raw_connect(t, "127.0.0.30")
        assert read_line(s).startswith("220 ")
        s.close()
    s = raw_connect(t, "127.0.0.30")
    assert read_line(s).startswith("421 4.7.0 mail.test.example Error: too many connections "
                                   "from your address in the last minute")
    s.close()
    t.wait_log(r"policy event=admit client=\[127.0.0.30\] worker=\d+ result=rate-limited "
               r"limit=connection-rate max=3/min")
    with client(t, "127.0.0.31") as s:
        s.sendmail("a@sender.example", ["alice@test.example"], MSG)
        with pytest.raises(smtplib.SMTPSenderRefused) as e:
            s.sendmail("a@sender.example", ["alice@test.example"], MSG)
        assert e.value.smtp_code == 421
    t.wait_log(r"reason=\"too many messages in one connection\" limit=messages-per-connection")
