"""Real IMAP clients from Debian against Talon (issue "Real clients in CI:
Debian isync, offlineimap3, mutt in a pty (IMAP and Maildir)").  isync's
mbsync is in test_imap_mailbox.py; here offlineimap3 syncs both ways, and
mutt runs in a pseudo-terminal as a person would use it: over IMAPS, and
on the Maildir itself while an IMAP session watches.  Every test checks
what the server holds (file names in the Maildir, IMAP state), not only
that the client exited 0."""
import fcntl
import glob
import hashlib
import os
import re
import select
import shutil
import signal
import ssl
import struct
import subprocess
import termios
import time
import warnings

from conftest import cert_dir
from test_imap import PASSWORD, make
from test_imap_mailbox import deliver, login, maildir, uidlist

warnings.filterwarnings("ignore", category=DeprecationWarning)


# --- offlineimap3 -------------------------------------------------------------

def cert_sha256():
    """SHA-256 of the test certificate's DER bytes, as offlineimap's
    cert_fingerprint wants it (hex, no colons)."""
    with open(os.path.join(cert_dir(), "cert.pem")) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def offlineimap_conf(t, tmp_path):
    local = tmp_path / "offline"
    local.mkdir()
    conf = tmp_path / "offlineimaprc"
    # offlineimap matches the host name against the certificate's CN and DNS
    # names only (imapserver.py __verifycert), never its IP SAN, once
    # sslcacertfile is set; without sslcacertfile it pins cert_fingerprint
    # instead, which verifies this very certificate and no name at all.
    conf.write_text(
        "[general]\naccounts = talon\nmetadata = %s/meta\nsocktimeout = 30\n\n"
        "[Account talon]\nlocalrepository = local\nremoterepository = remote\n\n"
        "[Repository local]\ntype = Maildir\nlocalfolders = %s\n\n"
        "[Repository remote]\ntype = IMAP\nremotehost = 127.0.0.1\nremoteport = %d\n"
        "ssl = yes\nstarttls = no\ncert_fingerprint = %s\nremoteuser = alice\n"
        "remotepass = %s\nmaxconnections = 1\n"
        % (tmp_path, local, t.imaps_port, cert_sha256(), PASSWORD))
    return conf, local


def offlineimap(t, conf):
    """One non-interactive sync (-o once, -u basic: plain lines, no
    terminal); returns its output, which names every change it made."""
    r = subprocess.run(["offlineimap", "-c", str(conf), "-o", "-u", "basic"],
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "ERROR" not in out, out + t.log()[-3000:]
    return out


CHANGE = re.compile(r"(?im)^\s*(copy message|deleting|adding flag|removing flag).*$")


def tree(root):
    """Every file under root (names carry the flags), relative, sorted."""
    out = []
    for dirpath, _, files in os.walk(root):
        for n in files:
            out.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(out)


def subject_of(path):
    with open(path, "rb") as f:
        m = re.search(rb"^Subject: (.*)$", f.read(), re.M)
    return m.group(1).strip().decode() if m else None


def test_offlineimap_two_way(talon_factory, tmp_path):
    """A pull, then a flag, a deletion and a new message pushed back, then
    a sync that finds nothing to do."""
    assert shutil.which("offlineimap"), "offlineimap3 is installed by scripts/install-deps.sh"
    t = make(talon_factory)
    deliver(t, "offline-one")
    deliver(t, "offline-two")
    t.wait_messages("alice", 2)
    conf, local = offlineimap_conf(t, tmp_path)

    offlineimap(t, conf)
    pulled = {subject_of(p): p for p in glob.glob(str(local / "INBOX" / "*" / "*"))}
    assert sorted(pulled) == ["offline-one", "offline-two"], pulled
    # the folders Talon makes at the first login came down too
    for folder in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
        assert (local / folder / "cur").is_dir(), tree(local)
    # offlineimap fetches with BODY.PEEK[]: nothing became seen on the server
    server = sorted(os.listdir(maildir(t, "cur")))
    assert len(server) == 2 and all(n.endswith(":2,") for n in server), server

    # read one locally, delete the other, write one into Sent and one into
    # a folder that only exists here (offlineimap creates it on the server)
    seen, gone = pulled["offline-one"], pulled["offline-two"]
    os.rename(seen, re.sub(r":2,[A-Za-z]*$", "", seen.replace("/new/", "/cur/")) + ":2,S")
    os.unlink(gone)
    for folder in ("Sent", "Projects"):
        for sub in ("cur", "new", "tmp"):
            os.makedirs(local / folder / sub, exist_ok=True)
        with open(local / folder / "new" / ("%d.local.offlineimap" % time.time()), "wb") as f:
            f.write(b"From: alice@test.example\nTo: bob@example.org\nSubject: offline-%s\n"
                    b"Message-ID: <offline-%s@test.example>\n\nhello\n"
                    % (folder.encode(), folder.encode()))
    out = offlineimap(t, conf)
    # its own account of what it did: the deletion, the flag, two uploads
    assert len(CHANGE.findall(out)) == 4, out

    names = os.listdir(maildir(t, "cur")) + os.listdir(maildir(t, "new"))
    assert len(names) == 1 and names[0].endswith(":2,S"), (names, out)
    assert subject_of(os.path.join(maildir(t, "cur"), names[0])) == "offline-one"
    for folder in ("Sent", "Projects"):
        got = glob.glob(maildir(t, ".%s/cur/*" % folder)) + \
            glob.glob(maildir(t, ".%s/new/*" % folder))
        assert [subject_of(p) for p in got] == ["offline-" + folder], (folder, got, out)
    # IMAP agrees: one message left, seen; each folder has its new one
    m = login(t)
    assert m.select("INBOX")[1] == [b"1"]
    typ, data = m.fetch("1", "(FLAGS)")
    assert typ == "OK" and b"\\Seen" in data[0], data
    assert m.select("Sent")[1] == [b"1"]
    assert m.select("Projects")[1] == [b"1"]
    m.logout()

    # a third sync changes nothing, on either side
    before_server, before_local = tree(maildir(t)), tree(local)
    before_uids = uidlist(t)
    out = offlineimap(t, conf)
    assert tree(maildir(t)) == before_server
    assert tree(local) == before_local
    assert uidlist(t) == before_uids
    assert CHANGE.findall(out) == [], out


# --- mutt in a pseudo-terminal --------------------------------------------------

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMc]|[\x0e\x0f]")


class Pty:
    """A program on a pseudo-terminal of a fixed size (80x24).  Output is
    accumulated and searched with escapes stripped: curses draws the screen
    in pieces, so tests look for short strings without spaces.  `notes`
    gives text to add to a failure (mutt's debug log)."""

    def __init__(self, argv, env, notes=None):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

        def as_terminal():
            # a session of its own (setsid ran) with the pty as its terminal
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, preexec_fn=as_terminal,
                                     close_fds=True)
        os.close(slave)
        self.raw = b""
        self.notes = notes or (lambda: "")

    def text(self, since=0):
        return ANSI.sub(b"", self.raw[since:]).decode("utf-8", "replace")

    def why(self, since=0):
        return "screen text:\n%s\n%s" % (self.text(since)[-3000:], self.notes())

    def pump(self, timeout):
        """Read what is ready within timeout; False once the program ended."""
        r, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not r:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:                     # EIO: the slave side is closed
            return False
        self.raw += data
        return bool(data)

    def expect(self, what, since=0, timeout=20):
        """Wait (bounded) until `what` shows in the output after offset
        `since`."""
        deadline = time.time() + timeout
        while what not in self.text(since):
            if time.time() > deadline or not self.pump(min(0.2, deadline - time.time())):
                if what in self.text(since):
                    return
                raise AssertionError("%r never appeared; %s" % (what, self.why(since)))

    def settle(self, quiet=0.5, timeout=10):
        """Read until nothing arrives for `quiet` seconds (bounded): the
        program has done what the last key asked."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = len(self.raw)
            if not self.pump(quiet) or len(self.raw) == n:
                return

    def send(self, keys, quiet=0.5):
        """Type keys, wait for the screen to settle; returns the output
        offset from before the keys, for expect(since=...)."""
        mark = len(self.raw)
        os.write(self.master, keys.encode())
        self.settle(quiet)
        return mark

    def quit(self, keys="q"):
        """Type keys that should end the program; answer one question
        with 'y' if it asks one; assert it exited 0 (all bounded)."""
        self.send(keys)
        if self.wait_exit(10) is None:
            self.send("y")
        rc = self.wait_exit(20)
        assert rc == 0, "exit %r; %s" % (rc, self.why())

    def wait_exit(self, timeout):
        deadline = time.time() + timeout
        while self.proc.poll() is None and time.time() < deadline:
            self.pump(0.1)
        return self.proc.poll()

    def kill(self):
        """Always called (finally): a program stuck at a prompt must not
        outlive its test."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        os.close(self.master)


def mutt(tmp_path, target, extra=""):
    """mutt -n (no system muttrc) on `target` in a pty, with a muttrc that
    asks nothing a test would have to answer, keeps no caches, draws ASCII
    on a vt100, and a fresh HOME (no saved certificates, no ~/.muttrc)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    rc = tmp_path / "muttrc"
    rc.write_text(
        "set folder=%s spoolfile=%s\n"
        "set header_cache=\"\" message_cachedir=\"\"\n"
        "set delete=yes quit=yes move=no confirmappend=no confirmcreate=no\n"
        "set wait_key=no sleep_time=0 mark_old=no ascii_chars=yes help=no beep=no\n"
        "set sort=mailbox-order imap_check_subscribed=no imap_passive=yes\n%s"
        % (home, home, extra))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUTT", "LC_", "MAIL"))}
    env.update(TERM="vt100", LANG="C.UTF-8", HOME=str(home), EDITOR="/bin/false")
    debug = home / ".muttdebug0"

    def notes():
        # level 2 logs the IMAP commands and the server's answers
        return "mutt's debug log:\n" + (debug.read_text(errors="replace")[-4000:]
                                         if debug.exists() else "(none)")

    return Pty(["mutt", "-d", "2", "-n", "-F", str(rc), "-f", target], env, notes)


def test_mutt_over_imaps_reads_deletes_and_syncs(talon_factory, tmp_path):
    """mutt shows the index, opens a message (its body on screen, \\Seen
    stored at the sync), deletes the other one and expunges it with '$'."""
    assert shutil.which("mutt"), "mutt is installed by scripts/install-deps.sh"
    t = make(talon_factory)
    deliver(t, "mutt-alpha-subject", "body-of-alpha-message\r\n")
    deliver(t, "mutt-beta-subject", "body-of-beta-message\r\n")
    t.wait_messages("alice", 2)
    # Debian's mutt uses GnuTLS, which checks the IP address against the
    # certificate's IP SAN: the test certificate is the only CA trusted and
    # the name is verified.  With anything less mutt asks "(r)eject, accept
    # (o)nce" and the index never shows.
    p = mutt(tmp_path, "imaps://alice@127.0.0.1:%d/INBOX" % t.imaps_port,
             "set imap_user=alice imap_pass=\"%s\"\n"
             "set ssl_ca_certificates_file=%s/cert.pem\n"
             "set ssl_verify_host=yes ssl_verify_dates=yes ssl_force_tls=yes\n"
             % (PASSWORD, cert_dir()))
    try:
        p.expect("mutt-alpha-subject")
        p.expect("mutt-beta-subject")
        p.settle()
        p.send("/mutt-alpha\r")                  # search: the cursor on alpha
        mark = p.send("\r")                      # open it: the pager shows its body
        p.expect("body-of-alpha-message", since=mark)
        p.send("i")                             # back to the index
        p.send("/mutt-beta\r")
        p.send("d")
        p.send("$", quiet=1.0)                  # sync-mailbox: STORE, EXPUNGE
        p.quit("q")
    finally:
        p.kill()
    names = os.listdir(maildir(t, "cur")) + os.listdir(maildir(t, "new"))
    assert len(names) == 1, (names, p.why(), t.log()[-3000:])
    assert names[0].endswith(":2,S"), (names, p.why())
    assert subject_of(os.path.join(maildir(t, "cur"), names[0])) == "mutt-alpha-subject"
    m = login(t)
    assert m.select("INBOX")[1] == [b"1"]
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK" and b"\\Seen" in data[0][0] and b"mutt-alpha-subject" in data[0][1], data
    m.logout()


def test_mutt_on_the_maildir_flag_shows_over_imap(talon_factory, tmp_path):
    """'mutt on the box': mutt reads the Maildir itself and flags a message
    with 'F'; an IMAP session open meanwhile and a new one see \\Flagged
    for the same UID."""
    assert shutil.which("mutt"), "mutt is installed by scripts/install-deps.sh"
    t = make(talon_factory)
    deliver(t, "box-alpha-subject")
    deliver(t, "box-beta-subject")
    t.wait_messages("alice", 2)
    m = login(t)
    assert m.select("INBOX")[1] == [b"2"]
    typ, data = m.uid("SEARCH", None, "SUBJECT", "box-beta-subject")
    assert typ == "OK" and len(data[0].split()) == 1, data
    uid = data[0].split()[0]
    typ, data = m.uid("FETCH", uid, "(FLAGS)")
    assert b"\\Flagged" not in data[0], data

    p = mutt(tmp_path, maildir(t), "set mbox_type=Maildir\n")
    try:
        p.expect("box-alpha-subject")
        p.expect("box-beta-subject")
        p.settle()
        p.send("/box-beta\r")
        p.send("F")
        p.quit("q")                             # mutt renames the file: :2,...F...
    finally:
        p.kill()
    names = sorted(os.listdir(maildir(t, "cur")))
    flagged = [n for n in names if re.search(r":2,[A-Z]*F", n)]
    assert len(flagged) == 1, (names, p.why())
    assert subject_of(os.path.join(maildir(t, "cur"), flagged[0])) == "box-beta-subject", names

    # the session that was open hears it at its next command ...
    m.noop()
    fetches = m.untagged_responses.get("FETCH", [])
    assert any(b"\\Flagged" in x for x in fetches), fetches
    typ, data = m.uid("FETCH", uid, "(FLAGS)")
    assert typ == "OK" and b"\\Flagged" in data[0], data
    m.logout()
    # ... and a new one finds it flagged under the same UID, and only it
    m = login(t)
    m.select("INBOX")
    typ, data = m.uid("SEARCH", None, "FLAGGED")
    assert typ == "OK" and data[0].split() == [uid], data
    m.logout()


# mutt 2.2's header fetch when it opens a mailbox (imap/message.c), byte for
# byte: its section is 146 bytes long
MUTT_HEADER_FETCH = ("(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM "
                     "SENDER SUBJECT TO CC MESSAGE-ID REFERENCES CONTENT-TYPE "
                     "CONTENT-DESCRIPTION IN-REPLY-TO REPLY-TO LINES LIST-POST X-LABEL)])")


def test_fixed_mutt_header_fields_section_too_long(talon_factory):
    """mutt could not open any IMAP mailbox: Talon answered its header
    FETCH with BAD "Section too long" (the reply's label had room for 136
    bytes of section).  The same request without mutt, so that a failure
    points at the section and not at the terminal."""
    t = make(talon_factory)
    deliver(t, "long-section-subject")
    t.wait_messages("alice", 1)
    m = login(t)
    m.select("INBOX")
    typ, data = m.fetch("1", MUTT_HEADER_FETCH)
    assert typ == "OK", (typ, data)
    head, body = data[0]
    assert b"BODY[HEADER.FIELDS (DATE FROM SENDER SUBJECT TO CC MESSAGE-ID REFERENCES " \
        b"CONTENT-TYPE CONTENT-DESCRIPTION IN-REPLY-TO REPLY-TO LINES LIST-POST X-LABEL)]" in \
        head, head
    assert b"Subject: long-section-subject\r\n" in body and b"Received:" not in body, body
    m.logout()
