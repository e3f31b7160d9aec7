"""A DNS proxy for timeouts that a zone file cannot express.

It sits between the resolver under test and our own DNS server: every
query is forwarded to the server unchanged and its answer relayed back
unchanged, except the queries the test wants to time out, which are
dropped (UDP) or left unanswered (TCP).  The data always comes from our
server; the proxy only decides "no answer at all" (TESTING.md allows a
dnspython helper for faults only).

    p = DropProxy(("127.0.0.1", server_port), drop=lambda name, qtype: ...)
    p.start()          # p.port is where the resolver should forward
    ...
    p.stop()

drop(name, qtype) gets the question name in lower case without the
trailing dot and the numeric type; queries that do not parse as DNS are
forwarded as they are.
"""
import socket
import struct
import threading

import dns.message

UPSTREAM_TIMEOUT = 3.0      # the resolver under test gives up after 1 s anyway
TCP_IDLE = 5.0


def question(wire):
    """(name, qtype) of a query, or None when it does not parse."""
    try:
        m = dns.message.from_wire(wire)
    except Exception:       # any malformed query is simply forwarded
        return None
    if len(m.question) != 1:
        return None
    q = m.question[0]
    return q.name.to_text(omit_final_dot=True).lower(), int(q.rdtype)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        d = sock.recv(n - len(buf))
        if not d:
            return None
        buf += d
    return buf


class DropProxy:
    def __init__(self, upstream, drop, host="127.0.0.1"):
        self.upstream = upstream
        self.drop = drop
        self.dropped = []          # (name, qtype) of every query not answered
        self.lock = threading.Lock()
        self.udp, self.tcp = self.bind(host)
        self.port = self.udp.getsockname()[1]
        self.running = True
        self.threads = []

    @staticmethod
    def bind(host):
        """A UDP and a TCP socket on one port number (the resolver retries
        over TCP after a truncated answer); another port if TCP's is taken."""
        for _ in range(20):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((host, 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(64)
            return udp, tcp
        raise OSError("no port free for both UDP and TCP")

    def start(self):
        for fn in (self.serve_udp, self.serve_tcp):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.running = False
        for s in (self.udp, self.tcp):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def dropping(self, wire):
        q = question(wire)
        if q is not None and self.drop(*q):
            with self.lock:
                self.dropped.append(q)
            return True
        return False

    # --- UDP: one short-lived thread per query, so a slow one blocks nobody
    def serve_udp(self):
        while self.running:
            try:
                wire, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            if self.dropping(wire):
                continue
            threading.Thread(target=self.relay_udp, args=(wire, peer), daemon=True).start()

    def relay_udp(self, wire, peer):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(UPSTREAM_TIMEOUT)
            try:
                s.sendto(wire, self.upstream)
                answer = s.recv(65535)
                self.udp.sendto(answer, peer)
            except OSError:
                pass

    # --- TCP: one thread per connection, queries answered in turn
    def serve_tcp(self):
        while self.running:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self.relay_tcp, args=(conn,), daemon=True).start()

    def relay_tcp(self, conn):
        conn.settimeout(TCP_IDLE)
        up = None
        try:
            while True:
                head = recv_exact(conn, 2)
                if head is None:
                    return
                wire = recv_exact(conn, struct.unpack("!H", head)[0])
                if wire is None or self.dropping(wire):
                    # hold the connection silently until the client gives up
                    recv_exact(conn, 65536)
                    return
                if up is None:
                    up = socket.create_connection(self.upstream, timeout=UPSTREAM_TIMEOUT)
                up.sendall(head + wire)
                rhead = recv_exact(up, 2)
                answer = rhead and recv_exact(up, struct.unpack("!H", rhead)[0])
                if not answer:
                    return
                conn.sendall(rhead + answer)
        except OSError:
            pass
        finally:
            conn.close()
            if up is not None:
                up.close()
