#!/usr/bin/python3
"""bench/imap_load.py - one round of bench/imap.sh against one server: two
IMAP sessions on a Maildir of N messages, each command timed from the
write of its line to the end of its tagged OK, and every answer checked.

    imap_load.py talon --port PORT --user NAME --password-file FILE
                       --pid MAILBOX_PID [--front-pid PID] --count N [...]
    imap_load.py dovecot --preauth PATH --maildir DIR --count N [...]

talon: implicit TLS to 127.0.0.1:PORT (certificate not verified: the
bench's own), LOGIN; the commands then reach the mailbox process through
the login front, which keeps the TLS and relays.  dovecot: PATH MAILDIR
(scripts/dovecot-local.sh's imap-preauth) on pipes, already logged in;
its index directory is DOVECOT_INDEX_DIR from the environment (the
caller keeps one per round, so the second session finds the first's
index, as a real installation would).  Dovecot's stderr goes to --log.

Session 1: greeting (and login), NOOP, the idle RSS, then the timed
    SELECT INBOX (the first: new/ -> cur/, UIDs assigned), LOGOUT.
Session 2: greeting (and login), NOOP, then timed: SELECT INBOX;
    UID FETCH 1:* (UID FLAGS); UID FETCH 1:* (UID FLAGS RFC822.SIZE
    INTERNALDATE ENVELOPE); UID FETCH 1:* BODY.PEEK[HEADER.FIELDS (FROM
    SUBJECT DATE MESSAGE-ID)]; UID FETCH 1:B BODY.PEEK[] (B = --body-n);
    the RSS; UID SEARCH TEXT WORD; UID STORE 1:S +FLAGS.SILENT (\\Seen)
    (S = --store-n); then, untimed, UID SEARCH SEEN must find S; LOGOUT.

A command that fails (NO, BAD, a closed connection, no reply within
--timeout, or no byte for --stall seconds in the middle of a reply: a
server that has stopped, not one that is slow) is reported with how much
of its reply came, its figure stays n/a, and the next command gets a new
session (login and SELECT, untimed), so that one stall does not hide the
other figures.

Checks (a bench that measures errors is worthless): every tagged reply
is OK; SELECT says N EXISTS (the first UIDNEXT N+1); each 1:* FETCH
gives N FETCH lines; the UIDs are exactly 1..N; the body fetch gives B
literals; SEARCH finds what the generator put in (messages i % 100 ==
42, UIDs i+1).  Hashes of the header and body literals (in UID order)
and of the SEARCH hits are printed for the caller to compare between
servers.  Anything wrong: a line on stderr and exit status 1 (the
figures measured so far are still printed).

One line on stdout:
    imap server=S n=N ok=yes|no select_first_ms=... select_again_ms=...
      fetch_flags_ms=... fetch_env_ms=... fetch_hdr_ms=... fetch_body_ms=...
      fetch_body_mb_s=... search_text_ms=... store_ms=... idle_rss_kb=...
      rss_kb=... peak_rss_kb=... (per timed command X: X_cpu_ms, the
      serving process's CPU; X_front_cpu_ms for talon's front; X_client_cpu_ms,
      this client's) and the check fields.
CPU times come from /proc/PID/stat in clock ticks (10 ms here): small
commands read 0 or 10.
"""
import argparse
import hashlib
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import time

CHUNK = 256 * 1024
TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")
LITERAL = re.compile(rb"~?\{(\d+)\}$")
MAX_LITERAL = 64 * 1024 * 1024       # far above any message of ours (20 KiB)



def select_parser(info):
    """An untagged-line callback for SELECT: EXISTS and UIDNEXT into info."""
    def untagged(text, lits):
        m = re.match(rb"\* (\d+) EXISTS", text)
        if m:
            info["exists"] = int(m.group(1))
        m = re.search(rb"\[UIDNEXT (\d+)\]", text)
        if m:
            info["uidnext"] = int(m.group(1))
    return untagged

class Fail(Exception):
    pass


# --- transports ------------------------------------------------------------------

class TlsTransport:
    def __init__(self, port, timeout):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE      # the bench's self-signed certificate
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = ctx.wrap_socket(s)
        self.desc = "%s/%s" % (self.s.version(), self.s.cipher()[0])

    def send(self, data, deadline):
        self.s.settimeout(max(0.1, deadline - time.monotonic()))
        self.s.sendall(data)

    def recv(self, wait):
        """Up to CHUNK bytes (b"" at EOF), or None after `wait` seconds."""
        self.s.settimeout(wait)
        try:
            return self.s.recv(CHUNK)
        except socket.timeout:
            return None

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class PipeTransport:
    def __init__(self, preauth, maildir, log):
        self.logf = open(log, "ab")
        self.p = subprocess.Popen([preauth, maildir], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.logf, bufsize=0)
        self.desc = "pipe"

    def send(self, data, deadline):
        # the server reads commands as they come; a command line is small
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def recv(self, wait):
        fd = self.p.stdout.fileno()
        if not select.select([fd], [], [], wait)[0]:
            return None
        return os.read(fd, CHUNK)

    def server_pid(self, deadline):
        """Dovecot's imap process: the wrapper's child (it runs doveconf,
        which execs imap)."""
        while time.monotonic() < deadline:
            for pid in children(self.p.pid):
                try:
                    with open("/proc/%d/comm" % pid) as f:
                        if f.read().strip() == "imap":
                            return pid
                except OSError:
                    pass
            time.sleep(0.02)
        raise Fail("no imap process under imap-preauth (pid %d)" % self.p.pid)

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.logf.close()


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


# --- /proc --------------------------------------------------------------------------

def cpu_ticks(pid):
    if not pid:
        return 0
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])        # utime, stime
    except (OSError, IndexError, ValueError):
        return 0


def status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith(key + ":"):
                    return int(ln.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


# --- the protocol --------------------------------------------------------------------

class Session:
    """IMAP over a transport: commands with tags, responses as logical
    lines (literals taken out and handed over apart)."""

    def __init__(self, tr, timeout, stall):
        self.tr = tr
        self.timeout = timeout
        self.stall = stall
        self.buf = bytearray()
        self.pos = 0
        self.n = 0
        self.got = 0            # bytes of the current command's reply so far
        self.untagged = 0       # and its untagged lines

    def fill(self, deadline):
        if self.pos > CHUNK:
            del self.buf[:self.pos]
            self.pos = 0
        left = deadline - time.monotonic()
        data = self.tr.recv(max(0.01, min(self.stall, left)))
        if data is None:
            # a server that sends nothing for `stall` seconds in the middle
            # of a reply has stopped, not slowed down
            why = "no reply within %.0f s" % self.timeout if left <= self.stall else \
                "stalled: no byte for %.0f s" % self.stall
            raise Fail("%s, after %d bytes and %d untagged lines of the reply"
                       % (why, self.got, self.untagged))
        if not data:
            raise Fail("the server closed the connection")
        self.got += len(data)
        self.buf += data

    def line(self, deadline):
        """One logical response line: (text without the literals, [literals])."""
        parts, lits = [], []
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            while i < 0:
                if len(self.buf) - self.pos > 1024 * 1024:
                    raise Fail("a response line over 1 MiB")
                self.fill(deadline)
                i = self.buf.find(b"\r\n", self.pos)
            seg = bytes(self.buf[self.pos:i])
            self.pos = i + 2
            parts.append(seg)
            m = LITERAL.search(seg)
            if m is None:
                return b"".join(parts), lits
            n = int(m.group(1))
            if n > MAX_LITERAL:
                raise Fail("a literal of %d bytes" % n)
            while len(self.buf) - self.pos < n:
                self.fill(deadline)
            lits.append(bytes(self.buf[self.pos:self.pos + n]))
            self.pos += n

    def greeting(self):
        text, _ = self.line(time.monotonic() + self.timeout)
        return text

    def command(self, cmd, on_line=None):
        """Sends one command, hands each untagged line to on_line, and
        returns (seconds to the tagged reply, tagged reply).  NO or BAD
        raise Fail."""
        self.n += 1
        tag = b"b%d" % self.n
        deadline = time.monotonic() + self.timeout
        self.got = self.untagged = 0
        t0 = time.perf_counter()
        self.tr.send(tag + b" " + cmd + b"\r\n", deadline)
        while True:
            text, lits = self.line(deadline)
            if text.startswith(tag + b" "):
                dt = time.perf_counter() - t0
                if not text.startswith(tag + b" OK"):
                    raise Fail("%s: %s" % (cmd.decode(errors="replace")[:60],
                                           text.decode(errors="replace")[:200]))
                return dt, text
            self.untagged += 1
            if on_line is not None:
                on_line(text, lits)


# --- one round ----------------------------------------------------------------------

class Round:
    def __init__(self, a):
        self.a = a
        self.out = {}          # key -> value, printed in insertion order
        self.errors = []
        self.pid = a.pid
        self.front = a.front_pid

    def check(self, cond, what):
        if not cond:
            self.errors.append(what)
        return cond

    def connect(self):
        a = self.a
        if a.server == "talon":
            tr = TlsTransport(a.port, a.timeout)
            self.out.setdefault("tls", tr.desc)
            s = Session(tr, a.timeout, a.stall)
            g = s.greeting()
            if not g.startswith(b"* OK"):
                raise Fail("greeting: %r" % g[:100])
            with open(a.password_file) as f:
                pw = f.read().strip()
            s.command(b'LOGIN %s "%s"' % (a.user.encode(), pw.encode()))
        else:
            tr = PipeTransport(a.preauth, a.maildir, a.log)
            s = Session(tr, a.timeout, a.stall)
            g = s.greeting()
            if not g.startswith(b"* PREAUTH"):
                raise Fail("no PREAUTH greeting: %r" % g[:100])
            self.pid = tr.server_pid(time.monotonic() + 10)
        # a NOOP's OK comes from the serving process itself: the session
        # has reached it (talon: handed over by the front)
        s.command(b"NOOP")
        return s

    def timed(self, key, s, cmd, on_line=None):
        c0, f0, k0 = cpu_ticks(self.pid), cpu_ticks(self.front), time.process_time()
        dt, tagged = s.command(cmd, on_line)
        c1, f1, k1 = cpu_ticks(self.pid), cpu_ticks(self.front), time.process_time()
        self.out[key + "_ms"] = "%.1f" % (dt * 1000)
        self.out[key + "_cpu_ms"] = "%.0f" % ((c1 - c0) * TICK_MS)
        if self.front:
            self.out[key + "_front_cpu_ms"] = "%.0f" % ((f1 - f0) * TICK_MS)
        self.out[key + "_client_cpu_ms"] = "%.0f" % ((k1 - k0) * 1000)
        return dt, tagged

    def select(self, key, s):
        info = {}
        self.timed(key, s, b"SELECT INBOX", select_parser(info))
        n = self.a.count
        self.check(info.get("exists") == n, "%s: %s EXISTS, not %d" % (key, info.get("exists"), n))
        self.check(info.get("uidnext") == n + 1,
                   "%s: UIDNEXT %s, not %d" % (key, info.get("uidnext"), n + 1))
        self.out.setdefault("exists", info.get("exists", "n/a"))

    def fetch(self, key, s, cmd, want):
        """A FETCH: counts its FETCH lines, collects UIDs, RFC822.SIZE and
        a hash of the literals in order of arrival (sequence order)."""
        st = {"n": 0, "uids": [], "size": 0, "bytes": 0, "h": hashlib.sha256()}

        def untagged(text, lits):
            if not (text.startswith(b"* ") and b" FETCH (" in text[:32]):
                return
            st["n"] += 1
            m = re.search(rb"\bUID (\d+)", text)
            if m:
                st["uids"].append(int(m.group(1)))
            m = re.search(rb"\bRFC822\.SIZE (\d+)", text)
            if m:
                st["size"] += int(m.group(1))
            for lit in lits:
                st["bytes"] += len(lit)
                st["h"].update(lit)
        dt, _ = self.timed(key, s, cmd, untagged)
        self.out[key + "_n"] = st["n"]
        self.check(st["n"] == want, "%s: %d FETCH lines, not %d" % (key, st["n"], want))
        self.check(st["uids"] == list(range(1, want + 1)),
                   "%s: the UIDs are not 1..%d in order" % (key, want))
        return dt, st

    # --- session 2's steps: each takes the session and may raise Fail --------

    def step_flags(self, s):
        self.fetch("fetch_flags", s, b"UID FETCH 1:* (UID FLAGS)", self.a.count)

    def step_env(self, s):
        _, st = self.fetch("fetch_env", s,
                           b"UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)",
                           self.a.count)
        self.out["env_size_sum"] = st["size"]

    def step_hdr(self, s):
        _, st = self.fetch("fetch_hdr", s, b"UID FETCH 1:* BODY.PEEK[HEADER.FIELDS "
                           b"(FROM SUBJECT DATE MESSAGE-ID)]", self.a.count)
        self.out["hdr_bytes"] = st["bytes"]
        self.out["hdr_sha"] = st["h"].hexdigest()[:16]

    def step_body(self, s):
        b = min(self.a.body_n, self.a.count)
        dt, st = self.fetch("fetch_body", s, b"UID FETCH 1:%d BODY.PEEK[]" % b, b)
        self.out["body_bytes"] = st["bytes"]
        self.out["body_sha"] = st["h"].hexdigest()[:16]
        self.out["fetch_body_mb_s"] = "%.1f" % (st["bytes"] / 1e6 / dt) if dt > 0 else "n/a"

    def step_rss(self, s):
        self.out["rss_kb"] = status_kb(self.pid, "VmRSS")
        self.out["peak_rss_kb"] = status_kb(self.pid, "VmHWM")
        if self.front:
            self.out["front_rss_kb"] = status_kb(self.front, "VmRSS")

    def step_search(self, s):
        n = self.a.count
        hits = []

        def search_line(text, lits):
            if text.startswith(b"* SEARCH"):
                hits.extend(int(x) for x in text[8:].split())
        self.timed("search_text", s, b'UID SEARCH TEXT "%s"' % self.a.word.encode(), search_line)
        hits.sort()
        want = [i + 1 for i in range(n) if i % 100 == 42]
        self.out["search_hits"] = len(hits)
        self.out["search_sha"] = hashlib.sha256(
            ",".join(map(str, hits)).encode()).hexdigest()[:16]
        self.out["search_as_generated"] = "yes" if hits == want else "no"
        self.check(hits == want, "search_text: %d hits, the generator put the word in %d "
                   "(UIDs i+1 for i %% 100 == 42)" % (len(hits), len(want)))

    def step_store(self, s):
        k = min(self.a.store_n, self.a.count)
        self.timed("store", s, b"UID STORE 1:%d +FLAGS.SILENT (\\Seen)" % k)
        seen = []

        def search_line(text, lits):
            if text.startswith(b"* SEARCH"):
                seen.extend(int(x) for x in text[8:].split())
        s.command(b"UID SEARCH SEEN", search_line)
        self.out["store_seen"] = len(seen)
        self.check(sorted(seen) == list(range(1, k + 1)),
                   "store: UID SEARCH SEEN found %d, not UIDs 1..%d" % (len(seen), k))

    def run(self):
        # session 1: the idle RSS, the first SELECT; nothing to measure
        # after a failure here
        s = self.connect()
        self.out["idle_rss_kb"] = status_kb(self.pid, "VmRSS")
        if self.front:
            self.out["front_idle_rss_kb"] = status_kb(self.front, "VmRSS")
        self.select("select_first", s)
        s.command(b"LOGOUT")
        s.tr.close()
        # session 2: a SELECT again, then what a mail client does first.
        # A command that fails is reported and costs its session: the next
        # one gets a new session (login and SELECT, untimed), so that one
        # stalled reply does not hide every other figure.
        s = self.connect()
        self.select("select_again", s)
        for name, step in (("fetch_flags", self.step_flags), ("fetch_env", self.step_env),
                           ("fetch_hdr", self.step_hdr), ("fetch_body", self.step_body),
                           ("rss", self.step_rss), ("search_text", self.step_search),
                           ("store", self.step_store)):
            if s is None:
                s = self.connect()
                s.command(b"SELECT INBOX")
            try:
                step(s)
            except (Fail, OSError, ssl.SSLError) as e:
                self.errors.append("%s: %s" % (name, e))
                s.tr.close()
                s = None
        if s is not None:
            s.command(b"LOGOUT")
            s.tr.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("server", choices=["talon", "dovecot"])
    ap.add_argument("--count", type=int, required=True, help="messages in the Maildir")
    ap.add_argument("--word", default="quokkaberry")
    ap.add_argument("--body-n", type=int, default=500)
    ap.add_argument("--store-n", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=300, help="seconds per command")
    ap.add_argument("--stall", type=float, default=60,
                    help="seconds without a byte that make a command fail as stalled")
    ap.add_argument("--port", type=int)
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--pid", type=int, default=0, help="talon's mailbox process")
    ap.add_argument("--front-pid", type=int, default=0, help="talon's imap front")
    ap.add_argument("--preauth")
    ap.add_argument("--maildir")
    ap.add_argument("--log", default="/dev/null")
    a = ap.parse_args()
    if not 1 <= a.count <= 1000000:
        ap.error("--count must be 1..1000000")
    if not re.fullmatch(r"[A-Za-z]+", a.word):
        ap.error("--word must be letters")
    if a.server == "talon" and not (a.port and a.user and a.password_file and a.pid):
        ap.error("talon needs --port, --user, --password-file and --pid")
    if a.server == "dovecot" and not (a.preauth and a.maildir):
        ap.error("dovecot needs --preauth and --maildir")
    if a.server == "dovecot":
        a.front_pid = 0
    r = Round(a)
    ok = True
    try:
        r.run()
    except (Fail, OSError, ssl.SSLError) as e:
        r.errors.append("stopped: %s" % e)
    ok = not r.errors
    for e in r.errors:
        print("imap_load %s: %s" % (a.server, e), file=sys.stderr)
    fields = " ".join("%s=%s" % (k, "n/a" if v is None else v) for k, v in r.out.items())
    print("imap server=%s n=%d ok=%s %s" % (a.server, a.count, "yes" if ok else "no", fields))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
