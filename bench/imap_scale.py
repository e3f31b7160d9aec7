#!/usr/bin/python3
"""bench/imap_scale.py - the client of bench/imap-scale.sh: talon's IMAP
server at scale, over implicit TLS on 127.0.0.1 (the bench's self-signed
certificate, not verified).  Three modes, each printing key=value lines:

  mailbox  one user's big INBOX (N messages, all in new/ at the start):
           select_first_ms (the first SELECT: new/ -> cur/, UIDs given,
           dovecot-uidlist written), then R SELECTs in new sessions with
           the page cache warm (select_warm_ms), R more after
           `sync; echo 3 > /proc/sys/vm/drop_caches` (select_cold_ms; the
           session logs in first, so only the SELECT pays), then in one
           session R x UID FETCH 1:* (FLAGS), UID SEARCH TEXT WORD once
           right after the cold SELECTs (search_text_first_ms: the message
           files are not cached when the drop worked) and --search-reps more
           times (search_text_ms), and the mailbox process's VmRSS and VmHWM
           with the mailbox still selected.
  deliver  a session in IDLE on USER's INBOX; K times a message over SMTP
           (smtplib, no TLS) to USER, timed from the SMTP connect, and from
           the 250 after DATA, to the "* N EXISTS" on the IDLE session.
  idle     COUNT sessions (spread over USERS, PER_USER each), each logged
           in, INBOX selected and in IDLE (--park select: left right after
           the SELECT instead), held by one asyncio loop; the Pss of
           talon's whole process tree (/proc/PID/smaps_rollup) before and
           after, per connection and per process; then one delivery to the
           first user must reach all of its sessions (IDLE only).

Every command has a deadline (--timeout) and a reply that stops for --stall
seconds fails; each mode checks what it got (EXISTS, UIDNEXT, FETCH lines
and UIDs, SEARCH hits, EXISTS after each delivery, sessions opened) and
prints check_...=yes|no.  Exit status 1 when a check failed.
"""
import argparse
import asyncio
import importlib.util
import os
import re
import resource
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# imap_load.py: the TLS transport, the IMAP session (literals, deadlines,
# stalls), /proc readers; idle-conns.py: the process tree and its Pss
IL = load("imap_load", "imap_load.py")
IC = load("idle_conns", "idle-conns.py")
Fail, TICK_MS = IL.Fail, IL.TICK_MS
cpu_ticks, status_kb = IL.cpu_ticks, IL.status_kb


def ms(dt):
    return "%.1f" % (dt * 1000)


def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def nearest_rank(v, p):
    v = sorted(v)
    if not v:
        return None
    k = max(1, -(-len(v) * p // 100))      # ceil(n * p / 100), at least 1
    return v[int(k) - 1]


def fmt(v, f="%.1f"):
    return "n/a" if v is None else f % v


def yn(b):
    return "yes" if b else "no"


def password(a):
    with open(a.password_file) as f:
        return f.read().strip()


def connect(a, user):
    """A session logged in as user; the NOOP's OK comes from the mailbox
    process, so the session has been handed over when this returns."""
    tr = IL.TlsTransport(a.port, a.timeout)
    s = IL.Session(tr, a.timeout, a.stall)
    g = s.greeting()
    if not g.startswith(b"* OK"):
        raise Fail("greeting: %r" % g[:100])
    s.command(b'LOGIN %s "%s"' % (user.encode(), password(a).encode()))
    s.command(b"NOOP")
    return s


def close(s):
    try:
        s.command(b"LOGOUT")
    except (Fail, OSError, ssl.SSLError):
        pass
    s.tr.close()


def command_raw(s, cmd):
    """Sends one command and reads its reply as raw bytes until the tagged
    line: (seconds, untagged lines).  For replies without literals (FETCH
    FLAGS, SEARCH): the clock stops when the last byte has come, before
    this client splits 100,000 lines, so the figure is the server's and
    the relay's time rather than Python's parsing."""
    s.n += 1
    tag = b"b%d" % s.n
    deadline = time.monotonic() + s.timeout
    data = bytearray(s.buf[s.pos:])
    s.buf, s.pos = bytearray(), 0
    end = b"\r\n" + tag + b" "
    t0 = time.perf_counter()
    s.tr.send(tag + b" " + cmd + b"\r\n", deadline)
    start = 0
    while True:
        i = 0 if data.startswith(tag + b" ") else data.find(end, start)
        if i >= 0:
            j = data.find(b"\r\n", i + 2 if i else 0)
            if j >= 0:
                break
        start = max(0, len(data) - len(end))
        left = deadline - time.monotonic()
        chunk = s.tr.recv(max(0.01, min(s.stall, left)))
        if chunk is None:
            raise Fail("%s after %d bytes of the reply" % (
                "no reply within %.0f s" % s.timeout if left <= s.stall else
                "stalled: no byte for %.0f s" % s.stall, len(data)))
        if not chunk:
            raise Fail("the server closed the connection")
        data += chunk
    dt = time.perf_counter() - t0
    tagged = bytes(data[i + 2 if i else 0:j])
    s.buf = bytearray(data[j + 2:])
    if not tagged.startswith(tag + b" OK"):
        raise Fail("%s: %s" % (cmd.decode(errors="replace")[:60],
                               tagged.decode(errors="replace")[:200]))
    return dt, bytes(data[:i]).split(b"\r\n") if i else []


class Out:
    """key=value fields in insertion order, and the checks."""

    def __init__(self, mode):
        self.mode = mode
        self.kv = {}
        self.bad = []

    def __setitem__(self, k, v):
        self.kv[k] = v

    def check(self, name, ok, why=""):
        self.kv["check_" + name] = yn(ok)
        if not ok:
            self.bad.append("%s%s" % (name, ": " + why if why else ""))
        return ok

    def emit(self):
        for b in self.bad:
            print("imap_scale %s: check failed: %s" % (self.mode, b), file=sys.stderr)
        f = " ".join("%s=%s" % (k, "n/a" if v is None else v) for k, v in self.kv.items())
        print("scale %s ok=%s %s" % (self.mode, yn(not self.bad), f), flush=True)
        return 1 if self.bad else 0


# --- mailbox -----------------------------------------------------------------------

def resident_bytes(path):
    """Bytes of path in the page cache (fincore, util-linux), or None."""
    try:
        r = subprocess.run(["fincore", "-b", "-n", "-o", "RES", path], capture_output=True,
                           text=True, timeout=30)
        return int(r.stdout.split()[0]) if r.returncode == 0 else None
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def drop_caches(probe):
    """sync, then drop the page cache, dentries and inodes.  (worked, how):
    worked when the write succeeded and probe (a file the last SELECT
    read: dovecot-uidlist) left the page cache; a container may accept
    the write and do nothing."""
    os.sync()
    before = resident_bytes(probe)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError as e:
        return False, "write:%s" % e.strerror.replace(" ", "_")
    after = resident_bytes(probe)
    if after is None:
        return True, "unverified"
    return after == 0, "uidlist_resident:%s->%s" % (before, after)


class Profiler:
    """perf record (cpu-clock; call graphs from DWARF: the release build
    keeps no frame pointers) and strace -c on one process
    around one command, when --profile-dir is given; files go there."""

    def __init__(self, a, pid):
        self.dir = a.profile_dir
        self.pid = pid
        self.p = []

    def start(self, name):
        if not self.dir:
            return
        self.p = []
        for tool, argv in (
                ("perf", ["perf", "record", "-q", "-e", "cpu-clock", "-F", "999",
                          "--call-graph", "dwarf,8192",
                          "-p", str(self.pid), "-o", os.path.join(self.dir, name + ".perf.data")]),
                ("strace", ["strace", "-c", "-f", "-p", str(self.pid),
                            "-o", os.path.join(self.dir, name + ".strace.txt")])):
            try:
                self.p.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            except OSError as e:
                print("imap_scale: %s: %s" % (tool, e), file=sys.stderr)
        time.sleep(1.5)             # both attach before the command starts

    def stop(self):
        for p in self.p:
            p.send_signal(signal.SIGINT)
        for p in self.p:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.p = []


def run_mailbox(a, o):
    n = a.count
    pid, front = a.pid, a.front_pid
    o["n"] = n
    prof = Profiler(a, pid)

    def timed(s, cmd, on_line=None, name=None, raw=False):
        """(seconds, mailbox CPU ms, front CPU ms, untagged lines if raw)"""
        if name:
            prof.start(name)
        c0, f0 = cpu_ticks(pid), cpu_ticks(front)
        lines = None
        try:
            if raw:
                dt, lines = command_raw(s, cmd)
            else:
                dt, _ = s.command(cmd, on_line)
        finally:
            if name:
                prof.stop()
        return dt, (cpu_ticks(pid) - c0) * TICK_MS, (cpu_ticks(front) - f0) * TICK_MS, lines

    def select(s, name=None):
        info = {}
        dt, cpu, _, _ = timed(s, b"SELECT INBOX", IL.select_parser(info), name)
        ok = info.get("exists") == n and info.get("uidnext") == n + 1
        return dt, cpu, ok, info

    # the first SELECT: everything is in new/
    s = connect(a, a.user)
    idle_rss = status_kb(pid, "VmRSS")
    o["mailbox_idle_rss_kb"] = idle_rss
    dt, cpu, ok, info = select(s)
    o["select_first_ms"] = ms(dt)
    o["select_first_cpu_ms"] = "%.0f" % cpu
    o.check("select_first", ok, "%s EXISTS, UIDNEXT %s (want %d, %d)"
            % (info.get("exists"), info.get("uidnext"), n, n + 1))
    close(s)
    # cur/ was just renamed into; a sync within 2 s of a directory change
    # always reads it again: let the warm figures start settled
    time.sleep(3)

    warm, warm_cpu, sel_ok = [], [], True
    for _ in range(a.reps):
        s = connect(a, a.user)
        dt, cpu, ok, _ = select(s)
        warm.append(dt)
        warm_cpu.append(cpu)
        sel_ok &= ok
        close(s)
    if a.profile_dir:
        s = connect(a, a.user)
        select(s, "select_warm")
        close(s)
    o["select_warm_ms"] = fmt(median(warm) * 1000)
    o["select_warm_min_ms"] = fmt(min(warm) * 1000)
    o["select_warm_max_ms"] = fmt(max(warm) * 1000)
    o["select_warm_cpu_ms"] = fmt(median(warm_cpu), "%.0f")
    o["select_warm_all_ms"] = ",".join("%.0f" % (x * 1000) for x in warm)

    cold, cold_cpu, drops = [], [], []
    for _ in range(a.reps if a.drop_caches else 0):
        s = connect(a, a.user)
        worked, how = drop_caches(os.path.join(a.maildir, "dovecot-uidlist"))
        drops.append((worked, how))
        dt, cpu, ok, _ = select(s)
        sel_ok &= ok
        if worked:
            cold.append(dt)
            cold_cpu.append(cpu)
        close(s)
    if not a.drop_caches:
        o["cold_cache"] = "not-asked"
    elif drops and all(d[0] for d in drops):
        o["cold_cache"] = "drop_caches(%s)" % drops[-1][1]
    else:
        o["cold_cache"] = "unavailable(%s)" % ",".join(d[1] for d in drops)
    o["select_cold_ms"] = fmt(median(cold) * 1000) if cold else None
    o["select_cold_cpu_ms"] = fmt(median(cold_cpu), "%.0f") if cold else None
    o["select_cold_all_ms"] = ",".join("%.0f" % (x * 1000) for x in cold) or None
    o.check("select_again", sel_ok, "a SELECT did not say N EXISTS, UIDNEXT N+1")

    # one session for the FETCHes and SEARCHes, the mailbox selected
    s = connect(a, a.user)
    select(s)
    time.sleep(3)       # settled: the FETCH below does not rescan because of the SELECT
    fetch_uid = re.compile(rb"\* \d+ FETCH \(.*\bUID (\d+)")
    fl, fl_cpu, fl_front, fetch_ok = [], [], [], True
    for _ in range(a.reps):
        dt, cpu, fcpu, lines = timed(s, b"UID FETCH 1:* (FLAGS)", raw=True)
        fl.append(dt)
        fl_cpu.append(cpu)
        fl_front.append(fcpu)
        uids = [int(m.group(1)) for m in map(fetch_uid.match, lines) if m]
        fetch_ok &= uids == list(range(1, n + 1)) and len(lines) == n
    o["fetch_flags_ms"] = fmt(median(fl) * 1000)
    o["fetch_flags_cpu_ms"] = fmt(median(fl_cpu), "%.0f")
    o["fetch_flags_front_cpu_ms"] = fmt(median(fl_front), "%.0f")
    o["fetch_flags_all_ms"] = ",".join("%.0f" % (x * 1000) for x in fl)
    o.check("fetch_flags", fetch_ok, "UID FETCH 1:* did not give UIDs 1..%d in order" % n)

    want = [i + 1 for i in range(n) if i % 100 == 42]
    search = b'UID SEARCH TEXT "%s"' % a.word.encode()
    st, st_cpu, search_ok, hits_n = [], [], True, None
    for rep in range(1 + a.search_reps):
        dt, cpu, _, lines = timed(s, search, raw=True)
        hits = sorted(int(x) for ln in lines if ln.startswith(b"* SEARCH")
                      for x in ln[8:].split())
        search_ok &= hits == want
        hits_n = len(hits)
        if rep == 0:
            o["search_text_first_ms"] = ms(dt)
            o["search_text_first_cpu_ms"] = "%.0f" % cpu
        else:
            st.append(dt)
            st_cpu.append(cpu)
    o["search_text_ms"] = fmt(median(st) * 1000) if st else None
    o["search_text_cpu_ms"] = fmt(median(st_cpu), "%.0f") if st else None
    o["search_text_all_ms"] = ",".join("%.0f" % (x * 1000) for x in st) or None
    o["search_hits"] = hits_n
    o.check("search_hits", search_ok, "%s hits, the generator put the word in %d messages"
            % (hits_n, len(want)))
    if a.profile_dir:
        # extra runs, not in the figures: the tools slow what they watch
        timed(s, b"UID FETCH 1:* (FLAGS)", name="fetch_flags", raw=True)
        timed(s, search, name="search_text", raw=True)

    rss, hwm = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
    o["mailbox_rss_kb"] = rss
    o["mailbox_peak_rss_kb"] = hwm
    o["front_rss_kb"] = status_kb(front, "VmRSS") if front else None
    if rss is not None and idle_rss is not None:
        o["mailbox_bytes_per_msg"] = "%.0f" % ((rss - idle_rss) * 1024.0 / n)
    close(s)
    time.sleep(0.5)
    o["mailbox_rss_after_logout_kb"] = status_kb(pid, "VmRSS")


# --- deliver -----------------------------------------------------------------------

def message(i, user, domain):
    """About 2 KB, CRLF line ends (bytes go to smtplib as they are)."""
    body = "".join("line %d of a short message for the IDLE bench, nothing more to say\r\n"
                   % k for k in range(25))
    return ("From: Sender <sender@%s>\r\nTo: %s@%s\r\nSubject: idle bench %d\r\n"
            "Message-ID: <idle-bench-%d-%d@%s>\r\nDate: %s\r\n\r\n%s"
            % (domain, user, domain, i, os.getpid(), i, domain,
               time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), body))


def smtp_send(a, user, i, res):
    """One message over SMTP; res gets t0 (before connect), t250 (the 250
    after DATA) or error.  Runs in its own thread."""
    try:
        res["t0"] = time.monotonic()
        with smtplib.SMTP("127.0.0.1", a.smtp_port, timeout=60) as c:
            c.ehlo("client.bench.test")
            c.sendmail("sender@%s" % a.domain, ["%s@%s" % (user, a.domain)],
                       message(i, user, a.domain).encode())
            res["t250"] = time.monotonic()
    except (OSError, smtplib.SMTPException) as e:
        res["error"] = str(e)[:200]


def poll_line(s, wait):
    """The next response line of an idling session, or None when no whole
    line came within wait seconds (IDLE updates carry no literals, so
    nothing is consumed until a line is whole)."""
    if s.buf.find(b"\r\n", s.pos) < 0:
        data = s.tr.recv(wait)
        if data is None:
            return None
        if not data:
            raise Fail("the server closed the connection")
        s.buf += data
        if s.buf.find(b"\r\n", s.pos) < 0:
            return None
    return s.line(time.monotonic() + 10)[0]


def deliver_one(a, s, i, exists):
    """Message i over SMTP while s idles: {t0, t250, t_ex (None: no EXISTS
    came), exists, cpu_ms (the mailbox process's, up to GAP s after the
    EXISTS), errors}."""
    want = exists + 1
    res = {}
    errors = []
    c0 = cpu_ticks(a.pid)
    th = threading.Thread(target=smtp_send, args=(a, a.user, i, res), daemon=True)
    th.start()
    deadline = time.monotonic() + a.timeout
    t_ex = None
    try:
        while t_ex is None and time.monotonic() < deadline:
            if "error" in res:
                break           # refused or failed: no EXISTS will come
            text = poll_line(s, 0.2)
            m = re.match(rb"\* (\d+) EXISTS", text or b"")
            if m and int(m.group(1)) >= want:
                t_ex = time.monotonic()
                exists = int(m.group(1))
        if t_ex is None and "error" not in res:
            errors.append("delivery %d: no EXISTS within %.0f s" % (i, a.timeout))
    except Fail as e:
        errors.append("delivery %d: %s" % (i, e))
    th.join(60)
    if "error" in res:
        errors.append("delivery %d: smtp: %s" % (i, res["error"]))
    # the mailbox process's own rename new/ -> cur/ makes one more sync:
    # counted in this delivery's CPU, and over before the next
    time.sleep(a.gap)
    return {"t0": res.get("t0"), "t250": res.get("t250"),
            "t_ex": t_ex if "t0" in res else None, "exists": exists,
            "cpu_ms": (cpu_ticks(a.pid) - c0) * TICK_MS, "errors": errors}


def run_deliver(a, o):
    o["user"] = a.user
    s = connect(a, a.user)
    info = {}

    def untagged(text, lits):
        m = re.match(rb"\* (\d+) EXISTS", text)
        if m:
            info["exists"] = int(m.group(1))
    s.command(b"SELECT INBOX", untagged)
    exists = info.get("exists")
    o["exists_before"] = exists
    if exists is None:
        raise Fail("SELECT gave no EXISTS")
    time.sleep(3)       # settled: the figures do not include the SELECT's own dirty window
    s.tr.send(b"i IDLE\r\n", time.monotonic() + a.timeout)
    text, _ = s.line(time.monotonic() + a.timeout)
    if not text.startswith(b"+"):
        raise Fail("IDLE answered %r" % text[:80])
    # no byte may come for minutes while idling: no stall rule here
    s.stall = a.timeout
    total, after250, cpu, errors = [], [], [], []
    for i in range(a.k):
        r = deliver_one(a, s, i, exists)
        errors += r["errors"]
        if r["t_ex"] is None:
            break
        exists = r["exists"]
        total.append(r["t_ex"] - r["t0"])
        if r.get("t250") is not None:
            after250.append(r["t_ex"] - r["t250"])
        cpu.append(r["cpu_ms"])
    if a.profile_dir and len(total) == a.k:
        # one more, watched by perf and strace: not in the figures
        prof = Profiler(a, a.pid)
        prof.start("deliver_%s" % a.user)
        try:
            r = deliver_one(a, s, a.k, exists)
        finally:
            prof.stop()
        if r["t_ex"] is not None:
            exists = r["exists"]
    s.tr.send(b"DONE\r\n", time.monotonic() + a.timeout)
    s.stall = a.stall
    try:
        while True:
            text, _ = s.line(time.monotonic() + a.timeout)
            if text.startswith(b"i "):
                o.check("idle_done", text.startswith(b"i OK"), text[:80].decode(errors="replace"))
                break
    except Fail as e:
        o.check("idle_done", False, str(e))
    close(s)
    o["k"] = a.k
    o["delivered"] = len(total)
    o["exists_after"] = exists
    o["delivery_to_exists_ms"] = fmt(median(total) * 1000 if total else None)
    o["delivery_to_exists_p90_ms"] = fmt(nearest_rank(total, 90) * 1000 if total else None)
    o["delivery_to_exists_max_ms"] = fmt(max(total) * 1000 if total else None)
    o["after_250_ms"] = fmt(median(after250) * 1000 if after250 else None)
    o["after_250_p90_ms"] = fmt(nearest_rank(after250, 90) * 1000 if after250 else None)
    o["mailbox_cpu_per_delivery_ms"] = fmt(median(cpu), "%.0f")
    o["all_ms"] = ",".join("%.0f" % (x * 1000) for x in total) or None
    for e in errors[:5]:
        print("imap_scale deliver: %s" % e, file=sys.stderr)
    o.check("every_delivery_seen", len(total) == a.k and not errors,
            "%d of %d deliveries gave their EXISTS" % (len(total), a.k))


# --- idle ------------------------------------------------------------------------

class Conn:
    def __init__(self, user):
        self.user = user
        self.r = self.w = None
        self.exists = None


async def readline(c, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise Fail("deadline")
    ln = await asyncio.wait_for(c.r.readline(), left)
    if not ln:
        raise Fail("closed by the server")
    return ln


async def until_tagged(c, tag, deadline):
    while True:
        ln = await readline(c, deadline)
        m = re.match(rb"\* (\d+) EXISTS", ln)
        if m:
            c.exists = int(m.group(1))
        if ln.startswith(tag + b" "):
            if not ln.startswith(tag + b" OK"):
                raise Fail(ln[:120].decode(errors="replace").strip())
            return


async def open_idle(a, ctx, user, pw, sem, deadline):
    """A session in IDLE on INBOX, or Fail."""
    async with sem:
        c = Conn(user)
        left = max(0.1, deadline - time.monotonic())
        c.r, c.w = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", a.port, ssl=ctx, limit=1 << 20), left)
        try:
            g = await readline(c, deadline)
            if not g.startswith(b"* OK"):
                raise Fail("greeting %r" % g[:80])
            c.w.write(b'a LOGIN %s "%s"\r\n' % (user.encode(), pw.encode()))
            await until_tagged(c, b"a", deadline)
            c.w.write(b"b SELECT INBOX\r\n")
            await until_tagged(c, b"b", deadline)
            if a.park == "select":
                return c
            c.w.write(b"c IDLE\r\n")
            while True:
                ln = await readline(c, deadline)
                if ln.startswith(b"+"):
                    return c
                if ln.startswith(b"c "):
                    raise Fail("IDLE: %s" % ln[:80].decode(errors="replace").strip())
        except BaseException:
            c.w.close()
            raise


async def open_many(a, ctx, users, pw, deadline):
    sem = asyncio.Semaphore(a.parallel)
    tasks = [asyncio.ensure_future(open_idle(a, ctx, u, pw, sem, deadline)) for u in users]
    done = await asyncio.gather(*tasks, return_exceptions=True)
    conns, errs = [], []
    for d in done:
        (errs if isinstance(d, BaseException) else conns).append(d)
    return conns, errs


async def close_all(conns, idling):
    for c in conns:
        try:
            c.w.write((b"DONE\r\n" if idling else b"") + b"z LOGOUT\r\n")
        except (OSError, RuntimeError):
            pass

    async def one(c):
        try:
            await asyncio.wait_for(until_tagged(c, b"z", time.monotonic() + 10), 10)
        except (Fail, OSError, asyncio.TimeoutError, ssl.SSLError):
            pass
        c.w.close()
    await asyncio.gather(*(one(c) for c in conns), return_exceptions=True)


async def notified(conns, deadline):
    """How many of conns sent an EXISTS above the one they had, and when the
    last did (monotonic), before deadline."""
    async def one(c):
        while True:
            ln = await readline(c, deadline)
            m = re.match(rb"\* (\d+) EXISTS", ln)
            if m and c.exists is not None and int(m.group(1)) > c.exists:
                c.exists = int(m.group(1))
                return time.monotonic()
    got = await asyncio.gather(*(one(c) for c in conns), return_exceptions=True)
    ts = [g for g in got if isinstance(g, float)]
    return len(ts), (max(ts) if ts else None)


def sockstat_tcp_mem_pages():
    try:
        with open("/proc/net/sockstat") as f:
            for ln in f:
                if ln.startswith("TCP:"):
                    w = ln.split()
                    return int(w[w.index("mem") + 1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 256
    if soft < want:
        new_hard = hard if hard == resource.RLIM_INFINITY or hard >= want else want
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, new_hard))


async def idle_main(a, o):
    pairs = [kv.split("=", 1) for kv in a.roles.split(",") if "=" in kv]
    by_pid = {int(v): k for k, v in pairs if v.isdigit()}
    users = [u for u in a.users.split(",") if u]
    per = a.per_user
    if len(users) * per < a.count:
        raise Fail("%d users x %d do not hold %d connections" % (len(users), per, a.count))
    # user i % len(users): every user gets its share, the first ones one more
    plan = [users[i % len(users)] for i in range(a.count)]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    pw = password(a)

    # warm-up: one-time allocations (first sessions, TLS, log buffers) are
    # not counted per connection
    warm, werr = await open_many(a, ctx, users[:min(10, len(users))], pw,
                                 time.monotonic() + a.timeout)
    await close_all(warm, a.park == "idle")
    o["warmup_opened"] = len(warm)
    await asyncio.sleep(a.settle)

    pss0, rss0, procs0 = IC.measure(a.root)
    tcp0 = sockstat_tcp_mem_pages()
    t0 = time.monotonic()
    conns, errs = await open_many(a, ctx, plan, pw, t0 + a.timeout)
    t_open = time.monotonic() - t0
    await asyncio.sleep(a.settle)
    pss1, rss1, procs1 = IC.measure(a.root)
    tcp1 = sockstat_tcp_mem_pages()
    n = len(conns)
    o["count"] = a.count
    o["park"] = a.park
    o["users"] = len(set(plan))
    o["per_user"] = per
    o["opened"] = n
    o["failed"] = len(errs)
    o["open_s"] = "%.1f" % t_open
    for e in errs[:5]:
        print("imap_scale idle: open: %s" % (e or type(e).__name__), file=sys.stderr)
    o.check("all_idle", n == a.count, "%d of %d sessions reached IDLE" % (n, a.count))
    o["pss_kb_before"] = pss0
    o["pss_kb_after"] = pss1
    o["rss_sum_kb_before"] = rss0
    o["rss_sum_kb_after"] = rss1
    if pss0 is not None and pss1 is not None and n:
        o["kb_per_conn"] = "%.1f" % ((pss1 - pss0) / n)
    # per process: the front and the mailbox process by role, the rest summed
    before = {p: pss for p, _, pss, _ in procs0}
    rest = 0.0
    lines = []
    for p, comm, pss, rss in procs1:
        b = before.get(p)
        d = (pss - b) if (pss is not None and b is not None) else None
        role = by_pid.get(p)
        lines.append("scale idle_proc pid=%d role=%s comm=%s pss_kb_before=%s pss_kb_after=%s "
                     "rss_kb=%s" % (p, role or "-", comm, b, pss, rss))
        if role in ("imap", "mailbox") and d is not None and n:
            o["%s_kb_per_conn" % ("front" if role == "imap" else "mailbox")] = "%.1f" % (d / n)
        elif d is not None:
            rest += d
    if n:
        o["others_kb_per_conn"] = "%.1f" % (rest / n)
    if tcp0 is not None and tcp1 is not None and n:
        # both ends of every connection are on this machine: kernel memory,
        # in no process's Pss; half of it is the client's side
        o["kernel_tcp_kb_per_conn"] = "%.1f" % ((tcp1 - tcp0) * 4.0 / n)
    for ln in lines:
        print(ln)

    # every session really is in IDLE: one delivery to the first user
    mine = [c for c in conns if c.user == users[0]]
    if a.smtp_port and mine and a.park == "idle":
        res = {}
        th = threading.Thread(target=smtp_send, args=(a, users[0], 0, res), daemon=True)
        th.start()
        got, t_last = await notified(mine, time.monotonic() + 60)
        th.join(60)
        o["notify_sessions"] = len(mine)
        o["notified"] = got
        if t_last is not None and "t0" in res:
            o["notify_last_ms"] = ms(t_last - res["t0"])
        o.check("idle_notified", got == len(mine) and "error" not in res,
                "%d of %d IDLE sessions of %s saw the delivery%s"
                % (got, len(mine), users[0], "; smtp: " + res["error"] if "error" in res
                   else ""))
    await close_all(conns, a.park == "idle")
    await asyncio.sleep(a.settle)
    pss2, rss2, _ = IC.measure(a.root)
    o["pss_kb_after_close"] = pss2
    o["rss_sum_kb_after_close"] = rss2


def run_idle(a, o):
    raise_nofile(a.count * 2)
    try:
        asyncio.run(asyncio.wait_for(idle_main(a, o), a.total_timeout))
    except asyncio.TimeoutError:
        raise Fail("not done within --total-timeout %.0f s" % a.total_timeout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["mailbox", "deliver", "idle"])
    ap.add_argument("--port", type=int, required=True, help="talon's IMAPS port")
    ap.add_argument("--password-file", required=True, help="every user's password")
    ap.add_argument("--user", default="bench")
    ap.add_argument("--pid", type=int, default=0, help="the mailbox process")
    ap.add_argument("--front-pid", type=int, default=0, help="the imap front")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per command")
    ap.add_argument("--stall", type=float, default=60)
    # mailbox
    ap.add_argument("--count", type=int, default=0, help="messages (mailbox), sessions (idle)")
    ap.add_argument("--word", default="quokkaberry")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--search-reps", type=int, default=3)
    ap.add_argument("--drop-caches", action="store_true")
    ap.add_argument("--maildir", help="the user's Maildir (the drop's probe file)")
    ap.add_argument("--profile-dir")
    # deliver, idle
    ap.add_argument("--smtp-port", type=int, default=0)
    ap.add_argument("--domain", default="bench.test")
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--gap", type=float, default=1.0)
    # idle
    ap.add_argument("--users", default="", help="comma-separated user names")
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--root", type=int, default=0, help="talon serve's pid")
    ap.add_argument("--roles", default="", help="role=pid,... for the per-process lines")
    ap.add_argument("--parallel", type=int, default=8, help="sessions being opened at once")
    ap.add_argument("--park", choices=["idle", "select"], default="idle",
                    help="leave each session in IDLE, or right after its SELECT")
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--total-timeout", type=float, default=1800)
    a = ap.parse_args()
    if not 1 <= a.reps <= 50 or not 0 <= a.search_reps <= 20 or not 1 <= a.k <= 1000:
        ap.error("--reps 1..50, --search-reps 0..20, --k 1..1000")
    if not re.fullmatch(r"[A-Za-z]+", a.word):
        ap.error("--word must be letters")
    a.gap = min(max(a.gap, 0.0), 30.0)
    a.settle = min(max(a.settle, 0.0), 30.0)
    a.parallel = min(max(a.parallel, 1), 64)
    if a.mode == "mailbox" and not (1 <= a.count <= 1000000 and a.pid):
        ap.error("mailbox needs --count 1..1000000 and --pid")
    if a.drop_caches and not a.maildir:
        ap.error("--drop-caches needs --maildir")
    if a.mode == "deliver" and not (a.smtp_port and a.pid):
        ap.error("deliver needs --smtp-port and --pid")
    if a.mode == "idle" and not (1 <= a.count <= 100000 and a.root and a.users):
        ap.error("idle needs --count 1..100000, --root and --users")
    o = Out(a.mode)
    run = {"mailbox": run_mailbox, "deliver": run_deliver, "idle": run_idle}[a.mode]
    try:
        run(a, o)
    except (Fail, OSError, ssl.SSLError) as e:
        # the figures measured so far are printed all the same
        o.check("completed", False, str(e) or type(e).__name__)
    return o.emit()


if __name__ == "__main__":
    sys.exit(main())
