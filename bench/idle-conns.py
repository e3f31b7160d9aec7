#!/usr/bin/python3
"""bench/idle-conns.py - memory per idle SMTP connection of a running daemon.

Opens COUNT TCP connections to HOST:PORT (loopback only), reads each one's
banner, and compares the daemon's memory before and after: the sum of Pss
(proportional set size, from /proc/PID/smaps_rollup; shared pages divided
among the processes that share them) over the daemon's whole process tree,
and the sum of VmRSS for reference.  Kernel socket memory is not counted
(it is not in any process's Pss).  Prints KB per idle connection, then
closes every connection.

Usage: /usr/bin/python3 bench/idle-conns.py 127.0.0.1:PORT [--pid PID]
           [--count 1000] [--timeout 60] [--settle 1.0] [--ehlo]
  --pid: the daemon's top process (talon serve's parent); its descendants
         (smtp workers, queue) are found through /proc.  Without it, the one
         running `talon ... serve` whose parent is not also one is used.
  --ehlo: park each connection after an EHLO and its reply instead of right
         after the banner.
Run as root to read every process's smaps_rollup (talon's children are not
dumpable); otherwise only VmRSS is summed.  Never run by CI.
"""
import argparse
import errno
import os
import resource
import selectors
import socket
import sys
import time


def die(msg):
    print(f"idle-conns: {msg}", file=sys.stderr)
    sys.exit(1)


def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return int(s[s.rindex(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def tree(root):
    """root and all its descendants (pids alive now)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            p = ppid_of(int(d))
            if p is not None:
                kids.setdefault(p, []).append(int(d))
    out, todo = [], [root]
    while todo and len(out) < 10000:
        p = todo.pop()
        if os.path.isdir(f"/proc/{p}"):
            out.append(p)
            todo.extend(kids.get(p, []))
    return out


def find_talon():
    cands = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]).startswith(b"talon") and b"serve" in argv:
            cands.add(int(d))
    roots = [p for p in cands if ppid_of(p) not in cands]
    if len(roots) != 1:
        die(f"found {len(roots)} 'talon ... serve' process trees {sorted(roots)}; pass --pid")
    return roots[0]


def field_kb(path, name):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def measure(root):
    """(sum Pss KB or None if unreadable, sum VmRSS KB, per-process list)."""
    pss_sum, rss_sum, pss_ok, procs = 0, 0, True, []
    for p in tree(root):
        rss = field_kb(f"/proc/{p}/status", "VmRSS") or 0
        pss = field_kb(f"/proc/{p}/smaps_rollup", "Pss")
        if pss is None:
            pss_ok = False
        else:
            pss_sum += pss
        rss_sum += rss
        try:
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
        except OSError:
            comm = "?"
        procs.append((p, comm, pss, rss))
    return (pss_sum if pss_ok else None), rss_sum, procs


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        except (ValueError, OSError):
            die(f"RLIMIT_NOFILE hard limit {hard} < {want}; run as root or lower --count")
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def open_idle(host, port, count, deadline, ehlo=False, ehlo_ok=None):
    """Open count connections, read each banner (a line starting with 220)
    and, with ehlo, send EHLO and read its reply (counted in ehlo_ok[0]).
    Returns (sockets, banners_read, failures)."""
    ehlo_wait = set()
    if ehlo_ok is None:
        ehlo_ok = [0]
    sel = selectors.DefaultSelector()
    socks, state = [], {}
    failures = 0
    batch = 50          # connects in flight at once: stay under the listen backlog
    started = 0
    pending = 0         # connecting or waiting for the banner
    banners = 0
    while (started < count or pending) and time.monotonic() < deadline:
        while started < count and pending < batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            started += 1
            try:
                s.connect((host, port))
            except BlockingIOError:
                pass
            except OSError as e:
                failures += 1
                print(f"idle-conns: connect: {e}", file=sys.stderr)
                s.close()
                continue
            state[s] = b""
            sel.register(s, selectors.EVENT_READ)
            socks.append(s)
            pending += 1
        for key, _ in sel.select(timeout=max(0.0, min(0.5, deadline - time.monotonic()))):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError as e:
                data = b""
                print(f"idle-conns: recv: {e}", file=sys.stderr)
            if not data:
                failures += 1
                sel.unregister(s)
                s.close()
                socks.remove(s)
                pending -= 1
                continue
            state[s] += data
            buf = state[s]
            # a complete reply: last line is "220 " (multi-line greetings use "220-")
            lines = buf.split(b"\r\n")
            if len(lines) >= 2 and any(l[:4] == b"220 " for l in lines[:-1]):
                banners += 1
                if ehlo:
                    # park after EHLO instead: the session has parsed a command
                    state[s] = b""
                    ehlo_wait.add(s)
                    s.send(b"EHLO idle.bench.test\r\n")
                    continue
                sel.unregister(s)
                pending -= 1
            elif s in ehlo_wait and len(lines) >= 2 and any(l[:4] == b"250 " for l in lines[:-1]):
                ehlo_wait.discard(s)
                ehlo_ok[0] += 1
                sel.unregister(s)
                pending -= 1
            elif len(lines) >= 2 and lines[0][:1] in (b"4", b"5"):
                print(f"idle-conns: refused: {lines[0][:100]!r}", file=sys.stderr)
                failures += 1
                sel.unregister(s)
                s.close()
                socks.remove(s)
                pending -= 1
    if pending:
        print(f"idle-conns: {pending} connection(s) without a banner at the deadline", file=sys.stderr)
    sel.close()
    return socks, banners, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", help="HOST:PORT (127.0.0.1 only)")
    ap.add_argument("--pid", type=int, help="the daemon's top process")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to open them all")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before measuring")
    ap.add_argument("--ehlo", action="store_true",
                    help="send EHLO on each connection and read the reply before measuring")
    a = ap.parse_args()
    host, _, port = a.target.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        die("only 127.0.0.1")
    host = "127.0.0.1"
    port = int(port)
    if not 1 <= a.count <= 20000:
        die("--count must be 1..20000")
    a.timeout = min(max(a.timeout, 1.0), 600.0)
    a.settle = min(max(a.settle, 0.0), 30.0)
    root = a.pid if a.pid else find_talon()
    if not os.path.isdir(f"/proc/{root}"):
        die(f"no process {root}")
    raise_nofile(a.count)

    # warm-up: a few connections opened and closed, so one-time allocations
    # (first session, log buffers) do not count as per-connection cost
    warm, _, _ = open_idle(host, port, 10, time.monotonic() + 10)
    for s in warm:
        s.close()
    time.sleep(a.settle)

    pss0, rss0, procs0 = measure(root)
    t0 = time.monotonic()
    ehlo_ok = [0]
    socks, banners, failures = open_idle(host, port, a.count, t0 + a.timeout, a.ehlo, ehlo_ok)
    t_open = time.monotonic() - t0
    time.sleep(a.settle)
    pss1, rss1, procs1 = measure(root)
    alive = len(socks)

    print(f"idle-conns target={host}:{port} pid={root} processes={len(procs1)}")
    print(f"idle-conns opened={alive} banners={banners}"
          + (f" ehlo_replies={ehlo_ok[0]}" if a.ehlo else "")
          + f" failures={failures} open_seconds={t_open:.2f}")
    for p, comm, pss, rss in procs1:
        before = next((x for x in procs0 if x[0] == p), None)
        b = f"{before[2]}" if before and before[2] is not None else "-"
        print(f"  pid {p:>7} {comm:<16} Pss {b:>7} -> {pss if pss is not None else '-':>7} KB"
              f"   VmRSS {before[3] if before else '-':>7} -> {rss:>7} KB")
    n = max(banners, 1)
    if pss0 is not None and pss1 is not None:
        print(f"idle-conns pss_kb_before={pss0} pss_kb_after={pss1} "
              f"kb_per_conn={(pss1 - pss0) / n:.1f}  (Pss, whole process tree)")
    else:
        print("idle-conns Pss unreadable (not root?): VmRSS figures only")
    print(f"idle-conns rss_kb_before={rss0} rss_kb_after={rss1} "
          f"rss_kb_per_conn={(rss1 - rss0) / n:.1f}  (VmRSS sum, for reference)")
    for s in socks:
        s.close()
    time.sleep(a.settle)
    pss2, rss2, _ = measure(root)
    if pss2 is not None:
        print(f"idle-conns after_close pss_kb={pss2} rss_kb={rss2}")
    else:
        print(f"idle-conns after_close rss_kb={rss2}")
    if banners < a.count or (a.ehlo and ehlo_ok[0] < a.count):
        print(f"idle-conns WARNING: {banners} banners"
              + (f", {ehlo_ok[0]} EHLO replies" if a.ehlo else "") + f" for {a.count} connections")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
