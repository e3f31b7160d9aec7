"""Random and hostile byte streams against the real daemon: no crash, no
sanitizer report, and the service still works afterwards.  Bounded in
count and time; deterministic seeds."""
import random
import socket
import ssl
import time

TOKENS = [b"EHLO x\r\n", b"HELO x\r\n", b"MAIL FROM:<a@b>\r\n", b"RCPT TO:<alice@test.example>\r\n",
          b"RCPT TO:<team@test.example>\r\n", b"DATA\r\n", b"BDAT 5\r\n", b"BDAT 0 LAST\r\n",
          b"BDAT 99999999999999999999\r\n", b"RSET\r\n", b"NOOP\r\n", b"STARTTLS\r\n", b".\r\n",
          b"\r\n", b"\n", b"\r", b"\x00", b"\xff", b".", b"MAIL FROM:<\"a b\"@[IPv6:::1]> SIZE=1 BODY=8BITMIME SMTPUTF8\r\n",
          b"x" * 3000, b"\r\n.\r\n", b"\n.\n", b"\x16\x03\x01\x00\x05hello"]


def fuzz_session(port, rnd, n_chunks):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError:
        return
    s.settimeout(0.05)
    try:
        for _ in range(n_chunks):
            if rnd.random() < 0.7:
                data = b"".join(rnd.choice(TOKENS) for _ in range(rnd.randint(1, 6)))
            else:
                data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200)))
            s.sendall(data)
            try:
                s.recv(65536)
            except socket.timeout:
                pass
    except OSError:
        pass
    finally:
        s.close()


def test_random_streams_do_not_crash(talon_factory):
    t = talon_factory(limits={"errors": 1000, "command-timeout": 5}).start()
    rnd = random.Random(20261123)
    deadline = time.time() + 10
    for i in range(120):
        if time.time() > deadline:
            break
        fuzz_session(t.port if i % 3 else t.port_tls, rnd, rnd.randint(1, 12))
    # still alive, nothing crashed, and mail still flows
    assert t.proc.poll() is None
    assert "event=crash" not in t.log()
    with t.smtp() as s:
        s.sendmail("s@example.org", ["bob@test.example"], b"Subject: after\r\n\r\nx\r\n")
    t.wait_messages("bob", 1)
