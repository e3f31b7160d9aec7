import imaplib, os, re, time, subprocess
from test_imap import make, imap, ctx, PASSWORD
from test_imap_mailbox import deliver, login

def test_dbg(talon_factory):
    t = make(talon_factory)
    for i in range(6):
        deliver(t, "big%d" % i, ("%d " % i + "z" * 98 + "\r\n") * 1000)
    t.wait_messages("alice", 6)
    m = login(t)
    m.sock.settimeout(6)
    m.select("INBOX")
    (mb,) = t.child_pids("mailbox")
    (fr,) = t.child_pids("imap")
    try:
        for i in range(5):
            m.fetch("1:*", "(BODY.PEEK[])")
    except Exception:
        for p in (mb, fr):
            print("PID", p, open("/proc/%d/wchan" % p).read(), open("/proc/%d/stat" % p).read().split()[2])
            print(subprocess.run(["ss", "-xpn"], capture_output=True, text=True).stdout.count("\n"))
            out = subprocess.run(["ss", "-xpn"], capture_output=True, text=True).stdout
            for l in out.splitlines():
                if "pid=%d," % p in l:
                    print("SS", l[:200])
        out = subprocess.run(["ss", "-tpn"], capture_output=True, text=True).stdout
        for l in out.splitlines():
            if str(t.imap_port) in l:
                print("TCP", l[:200])
        print(t.log()[-1500:])
        raise
