"""Dovecot as an independent oracle for the Maildir Talon keeps (issue 14:
"Dovecot on a copy of that Maildir shows the same UIDs", and changes made
by another program show over IMAP, and the reverse).

Dovecot is never installed: scripts/dovecot-local.sh unpacks Debian's
packages into a cache directory and writes `imap-preauth MAILDIR`, which
runs Dovecot's imap binary on stdin/stdout, already logged in, with its
index files in a private temporary directory.  So Dovecot reads only what
Talon reads and writes: the message files and their names, dovecot-uidlist,
dovecot-keywords, subscriptions and the Maildir++ folders.

Each test takes the same snapshot through both servers (every folder:
UIDVALIDITY, UIDNEXT, and per UID the flags, RFC822.SIZE, INTERNALDATE and
a hash of BODY[]) and compares them whole.  Dovecot's own log must stay
free of errors and warnings: a complaint about a file Talon wrote is a
finding even when the answers agree."""
import datetime
import hashlib
import imaplib
import os
import re
import shlex
import shutil
import subprocess
import warnings

import pytest

from conftest import ROOT
from test_imap import PASSWORD, imap, make
from test_imap_mailbox import deliver, maildir, uidlist

warnings.filterwarnings("ignore", category=DeprecationWarning)

FOLDER = "Entw&APw-rfe"            # "Entwürfe" in modified UTF-7 (RFC 3501 5.1.3)


@pytest.fixture(scope="session")
def dovecot_preauth():
    """The path of imap-preauth; fetched and unpacked on first use."""
    script = os.path.join(ROOT, "scripts", "dovecot-local.sh")
    r = subprocess.run([script], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        pytest.fail("scripts/dovecot-local.sh failed (%d):\n%s" % (r.returncode, r.stderr))
    path = r.stdout.strip()
    assert os.access(path, os.X_OK), (path, r.stderr)
    return path


class Dovecot:
    """One PREAUTH session of Dovecot's imap on a Maildir, over pipes.
    Its stderr goes to a log file that close() checks."""

    def __init__(self, preauth, mdir, log):
        self.log = log
        self.mark = os.path.getsize(log) if os.path.exists(log) else 0
        cmd = "%s %s 2>>%s" % (shlex.quote(preauth), shlex.quote(str(mdir)),
                               shlex.quote(str(log)))
        self.m = imaplib.IMAP4_stream(cmd)
        assert self.m.state == "AUTH", "no PREAUTH greeting: %r" % self.m.welcome

    def close(self):
        self.m.logout()
        with open(self.log, "rb") as f:
            f.seek(self.mark)
            text = f.read().decode("utf-8", "replace")
        bad = [ln for ln in text.splitlines()
               if re.search(r"\b(Error|Warning|Panic|Fatal)\b|imap-preauth:", ln)]
        assert not bad, "Dovecot complained:\n" + text

    def __enter__(self):
        return self.m

    def __exit__(self, typ, val, tb):
        if typ is None:
            self.close()
        else:
            self.m.shutdown()


def login(t):
    m = imap(t)
    assert m.login("alice", PASSWORD)[0] == "OK"
    return m


def ok(res):
    typ, data = res
    assert typ == "OK", (typ, data)
    return data


# --- snapshots: the same questions to both servers -----------------------------------

def unquote(name):
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        name = re.sub(r'\\(["\\])', r"\1", name[1:-1])
    return name


def folder_names(data):
    """LIST/LSUB data -> {name: attributes in lower case}, with the
    separator checked: Talon's is "/" and the oracle's namespace is
    configured the same."""
    out = {}
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):                    # a name sent as a literal
            head, lit = item
            mo = re.match(rb'\(([^)]*)\) (NIL|"[^"]*") \{\d+\}$', head)
            name = lit.decode()
        else:
            mo = re.match(rb'\(([^)]*)\) (NIL|"[^"]*") (.+)$', item)
            name = unquote(mo.group(3).decode()) if mo else None
        assert mo, item
        assert mo.group(2) == b'"/"', item
        out[name] = frozenset(mo.group(1).decode().lower().split())
    return out


# Attributes both servers must agree on; special-use ones (\Drafts) are
# Talon's choice and Dovecot's configuration, not the Maildir's.
SHAPE = {"\\noselect", "\\nonexistent", "\\haschildren", "\\hasnochildren"}


def when(s):
    """INTERNALDATE text -> seconds since the epoch (the zones may differ)."""
    return int(datetime.datetime.strptime(s.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp())


def messages(m, exists):
    """{uid: (flags without \\Recent, RFC822.SIZE, INTERNALDATE as seconds,
    sha256 of BODY[])} of the selected mailbox, which has `exists` messages
    (FETCH 1:* in an empty mailbox is an error)."""
    if exists == 0:
        return {}
    meta = ok(m.fetch("1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE)"))
    seq_uid, out = {}, {}
    for item in meta:
        if item is None:
            continue
        assert isinstance(item, bytes), item
        seq = int(re.match(rb"(\d+) \(", item).group(1))
        uid = int(re.search(rb"\bUID (\d+)", item).group(1))
        flags = re.search(rb"\bFLAGS \(([^)]*)\)", item).group(1).decode().split()
        size = int(re.search(rb"\bRFC822\.SIZE (\d+)", item).group(1))
        date = when(re.search(rb'\bINTERNALDATE "([^"]*)"', item).group(1).decode())
        seq_uid[seq] = uid
        out[uid] = [frozenset(f for f in flags if f != "\\Recent"), size, date, None]
    assert len(out) == exists, (exists, meta)
    for item in ok(m.fetch("1:*", "(BODY.PEEK[])")):
        if isinstance(item, tuple):
            seq = int(re.match(rb"(\d+) \(", item[0]).group(1))
            out[seq_uid[seq]][3] = hashlib.sha256(item[1]).hexdigest()
    return {uid: tuple(v) for uid, v in out.items()}


def snapshot(m):
    """What a client sees of the whole account, read-only (EXAMINE, PEEK):
    {"folders": names, "subscribed": names, name: (UIDVALIDITY, UIDNEXT,
    messages)}."""
    listed = folder_names(ok(m.list('""', "*")))
    snap = {"folders": {n: a & SHAPE for n, a in listed.items()},
            "subscribed": set(folder_names(ok(m.lsub('""', "*"))))}
    for name in sorted(listed):
        if listed[name] & {"\\noselect", "\\nonexistent"}:
            continue
        m.untagged_responses.clear()
        typ, data = m.select('"%s"' % name, readonly=True)
        assert typ == "OK", (name, typ, data)
        validity = int(m.untagged_responses["UIDVALIDITY"][0])
        uidnext = int(m.untagged_responses["UIDNEXT"][0])
        snap[name] = (validity, uidnext, messages(m, int(data[0])))
        ok(m.close())
    return snap


def assert_same(talon_snap, dovecot_snap):
    """Compares folder by folder, so a failure names the folder."""
    assert talon_snap["folders"] == dovecot_snap["folders"]
    for name in sorted(n for n in talon_snap["folders"] if n in talon_snap):
        tv, tn, tmsgs = talon_snap[name]
        dv, dn, dmsgs = dovecot_snap[name]
        assert (name, "UIDVALIDITY", tv) == (name, "UIDVALIDITY", dv)
        assert (name, "UIDNEXT", tn) == (name, "UIDNEXT", dn)
        assert sorted(tmsgs) == sorted(dmsgs), (name, "UIDs")
        for uid in sorted(tmsgs):
            assert (name, uid, tmsgs[uid]) == (name, uid, dmsgs[uid])
    assert talon_snap["subscribed"] == dovecot_snap["subscribed"]


# --- Maildir copies ---------------------------------------------------------------------

def copy_maildir(src, dst):
    """Copy a Maildir with modes, times (INTERNALDATE is the file's mtime)
    and owners: a copy made as root would belong to root, whom Dovecot
    refuses to serve and whose files Talon's mailbox process (the store
    owner) could not change."""
    shutil.copytree(src, dst, symlinks=True)
    for d, dirs, files in os.walk(src):
        rel = os.path.relpath(d, src)
        for n in [""] + dirs + files:
            s = os.lstat(os.path.join(d, n))
            os.lchown(os.path.normpath(os.path.join(dst, rel, n)), s.st_uid, s.st_gid)


def replace_maildir(t, src):
    """Put src in the place of alice's Maildir (Talon stopped)."""
    dst = maildir(t)
    shutil.rmtree(dst)
    copy_maildir(src, dst)


def stop(t):
    assert t.stop() == 0, t.log()[-3000:]
    return t


def start(t):
    n = t.log().count("imap event=start listeners=2")
    t.start()
    t.wait_log(r"imap event=start listeners=2", count=n + 1)


def dovecot_made(t, preauth, tmp_path, actions):
    """Stop Talon, let Dovecot run actions(imap) on an empty Maildir owned
    like alice's, and put a copy in the place of alice's; returns the
    original.  Talon stays stopped."""
    owner = os.stat(maildir(t))
    stop(t)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    os.chown(fresh, owner.st_uid, owner.st_gid)
    with Dovecot(preauth, fresh, tmp_path / "dovecot.log") as d:
        actions(d)
    replace_maildir(t, fresh)
    return fresh


def uidlist_header(path):
    with open(os.path.join(path, "dovecot-uidlist")) as f:
        return f.readline().split()


def flags_of(msgs, uid):
    return msgs[uid][0]


# --- a) Talon writes, Dovecot reads ------------------------------------------------------

def test_dovecot_reads_talons_maildir(talon_factory, dovecot_preauth, tmp_path):
    t = make(talon_factory)
    for i in range(5):
        deliver(t, "oracle %d" % i, "body %d\r\n" % i)
    t.wait_messages("alice", 5)
    m = login(t)
    assert ok(m.select("INBOX")) == [b"5"]           # read-write: UIDs 1..5 given
    ok(m.uid("STORE", "1", "+FLAGS", r"(\Seen)"))
    ok(m.uid("STORE", "2", "+FLAGS", r"(\Flagged $Label)"))
    ok(m.uid("STORE", "4", "+FLAGS", r"(\Answered \Seen \Draft)"))
    ok(m.uid("STORE", "5", "+FLAGS", r"(\Deleted $Label)"))   # deleted, not expunged
    ok(m.uid("STORE", "3", "+FLAGS", r"(\Deleted)"))
    ok(m.uid("EXPUNGE", "3"))                          # a gap: UIDs are never reused
    ok(m.create(FOLDER))
    msg = b"From: alice@test.example\r\nSubject: Entwurf\r\n\r\nnoch nicht fertig\r\n"
    data = ok(m.append(FOLDER, r"(\Seen $Label)", '"01-Feb-2026 10:00:00 +0100"', msg))
    assert re.search(rb"\[APPENDUID \d+ 1\]", data[0]), data
    ok(m.append(FOLDER, r"(\Draft)", None, msg.replace(b"noch", b"bald")))
    talon_snap = snapshot(m)
    m.logout()
    inbox = talon_snap["INBOX"]
    assert sorted(inbox[2]) == [1, 2, 4, 5] and inbox[1] == 6, inbox
    assert flags_of(inbox[2], 2) == {r"\Flagged", "$Label"}
    assert FOLDER in talon_snap["folders"] and sorted(talon_snap[FOLDER][2]) == [1, 2]

    copy = tmp_path / "copy"
    copy_maildir(maildir(t), copy)
    with Dovecot(dovecot_preauth, copy, tmp_path / "dovecot.log") as d:
        dovecot_snap = snapshot(d)
    assert_same(talon_snap, dovecot_snap)
    # Dovecot's STATUS agrees too (it may answer from a different code path)
    with Dovecot(dovecot_preauth, copy, tmp_path / "dovecot.log") as d:
        data = ok(d.status('"%s"' % FOLDER, "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"))
    assert b"MESSAGES 2" in data[0] and b"UIDNEXT 3" in data[0] and \
        b"UIDVALIDITY %d" % talon_snap[FOLDER][0] in data[0] and b"UNSEEN 1" in data[0], data


# --- b) Dovecot writes, Talon reads ------------------------------------------------------

def test_talon_reads_what_dovecot_changed(talon_factory, dovecot_preauth, tmp_path):
    t = make(talon_factory)
    for i in range(4):
        deliver(t, "round trip %d" % i)
    t.wait_messages("alice", 4)
    m = login(t)
    assert ok(m.select("INBOX")) == [b"4"]
    ok(m.uid("STORE", "2", "+FLAGS", r"(\Seen $Label)"))
    before = snapshot(m)
    m.logout()
    validity, uidnext, _ = before["INBOX"]
    assert uidnext == 5

    copy = tmp_path / "copy"
    copy_maildir(maildir(t), copy)
    log = tmp_path / "dovecot.log"
    with Dovecot(dovecot_preauth, copy, log) as d:
        ok(d.select("INBOX"))
        ok(d.uid("STORE", "1", "+FLAGS", r"(\Flagged $Forwarded)"))   # a new keyword
        ok(d.uid("STORE", "2", "-FLAGS", r"(\Seen)"))                  # Talon's flag removed
        ok(d.uid("STORE", "4", "+FLAGS", r"(\Answered)"))
        ok(d.uid("STORE", "3", "+FLAGS", r"(\Deleted)"))
        ok(d.expunge())
        data = ok(d.append("INBOX", r"(\Seen $Label)", '"02-Mar-2026 08:30:00 +0000"',
                           b"From: dovecot@test.example\r\nSubject: appended by Dovecot\r\n"
                           b"\r\nhello from the oracle\r\n"))
        assert re.search(rb"\[APPENDUID %d %d\]" % (validity, uidnext), data[0]), data
        ok(d.create("Projekte"))
        ok(d.subscribe("Projekte"))
        ok(d.append("Projekte", r"(\Flagged)", None,
                    b"From: dovecot@test.example\r\nSubject: Plan\r\n\r\nplan\r\n"))
    # what Dovecot itself makes of it afterwards, from the files alone
    with Dovecot(dovecot_preauth, copy, log) as d:
        dovecot_snap = snapshot(d)
    inbox = dovecot_snap["INBOX"]
    assert (inbox[0], inbox[1]) == (validity, uidnext + 1), inbox
    assert sorted(inbox[2]) == [1, 2, 4, 5], inbox
    assert flags_of(inbox[2], 1) == {r"\Flagged", "$Forwarded"}
    assert flags_of(inbox[2], 2) == {"$Label"}
    assert flags_of(inbox[2], 5) == {r"\Seen", "$Label"}

    stop(t)
    replace_maildir(t, copy)
    start(t)
    m = login(t)
    talon_snap = snapshot(m)
    m.logout()
    assert_same(talon_snap, dovecot_snap)


# --- c) a Maildir Dovecot made from scratch ----------------------------------------------

def test_talon_keeps_a_maildir_dovecot_made(talon_factory, dovecot_preauth, tmp_path):
    t = make(talon_factory)
    login(t).logout()                                   # first login: the Maildir and folders

    def fill(d):
        for i, flags in enumerate((r"(\Seen)", r"(\Flagged $Label)", None)):
            ok(d.append("INBOX", flags, '"0%d-Jan-2026 12:00:00 +0200"' % (i + 1),
                        b"From: d@test.example\r\nSubject: dovecot %d\r\n\r\nbody %d\r\n"
                        % (i, i)))
        ok(d.create(FOLDER))
        ok(d.create("Listen"))
        ok(d.subscribe("Listen"))       # ASCII; non-ASCII names: test_bug_subscription_*
        ok(d.append(FOLDER, r"(\Draft)", None,
                    b"From: d@test.example\r\nSubject: draft\r\n\r\nx\r\n"))

    fresh = dovecot_made(t, dovecot_preauth, tmp_path, fill)
    log = tmp_path / "dovecot.log"
    with Dovecot(dovecot_preauth, fresh, log) as d:
        dovecot_snap = snapshot(d)
    assert sorted(dovecot_snap["INBOX"][2]) == [1, 2, 3]
    header = uidlist_header(fresh)
    guid = [f for f in header if f.startswith("G")]
    assert header[0] == "3" and guid, header            # Dovecot's own extension field

    start(t)
    m = login(t)
    talon_snap = snapshot(m)
    assert_same(talon_snap, dovecot_snap)
    # Talon changes it: a flag, a new message (a new UID in Dovecot's list)
    ok(m.select("INBOX"))
    ok(m.uid("STORE", "3", "+FLAGS", r"(\Answered)"))
    deliver(t, "after dovecot")
    t.wait_messages("alice", 1)                         # in new/ until a SELECT
    m.logout()
    m = login(t)
    assert ok(m.select("INBOX")) == [b"4"]
    talon_snap = snapshot(m)
    m.logout()
    assert sorted(talon_snap["INBOX"][2]) == [1, 2, 3, 4]
    # Dovecot's header fields survive Talon's rewrite
    assert [f for f in uidlist_header(maildir(t)) if f.startswith("G")] == guid, \
        uidlist(t)
    # and Dovecot still agrees with every UID and flag after Talon's changes
    again = tmp_path / "again"
    copy_maildir(maildir(t), again)
    with Dovecot(dovecot_preauth, again, log) as d:
        assert_same(talon_snap, snapshot(d))


# --- found by this oracle, fixed: where Talon and Dovecot read the Maildir differently ------

def test_fixed_list_percent_omits_a_level_that_is_not_a_mailbox(talon_factory, dovecot_preauth,
                                                              tmp_path):
    t = make(talon_factory)
    login(t).logout()
    fresh = dovecot_made(t, dovecot_preauth, tmp_path,
                         lambda d: ok(d.create("Archiv/2026")))
    with Dovecot(dovecot_preauth, fresh, tmp_path / "dovecot.log") as d:
        want_top = {n: a & SHAPE for n, a in folder_names(ok(d.list('""', "%"))).items()}
        want_all = {n: a & SHAPE for n, a in folder_names(ok(d.list('""', "*"))).items()}
    assert want_top["Archiv"] == {"\\noselect", "\\haschildren"}, want_top
    start(t)
    m = login(t)
    top = {n: a & SHAPE for n, a in folder_names(ok(m.list('""', "%"))).items()}
    everything = {n: a & SHAPE for n, a in folder_names(ok(m.list('""', "*"))).items()}
    m.logout()
    # Talon adds its special folders here (no subscriptions file: a first
    # login), so only the names Dovecot lists are compared
    assert {n: top.get(n) for n in want_top} == want_top
    assert {n: everything.get(n) for n in want_all} == want_all


def test_fixed_subscription_made_by_dovecot_misread(talon_factory, dovecot_preauth, tmp_path):
    t = make(talon_factory)
    login(t).logout()

    def subscribe(d):
        ok(d.create(FOLDER))
        ok(d.subscribe(FOLDER))

    fresh = dovecot_made(t, dovecot_preauth, tmp_path, subscribe)
    with open(fresh / "subscriptions", "rb") as f:
        assert b"\nEntw&APw-rfe\n" in f.read()            # Dovecot's own encoding
    start(t)
    m = login(t)
    subscribed = set(folder_names(ok(m.lsub('""', "*"))))
    m.logout()
    assert FOLDER in subscribed and "Entw&-APw-rfe" not in subscribed, subscribed


def test_fixed_subscription_made_by_talon_cannot_be_removed_by_dovecot(talon_factory,
                                                                     dovecot_preauth, tmp_path):
    t = make(talon_factory)
    m = login(t)
    ok(m.create(FOLDER))
    ok(m.subscribe(FOLDER))
    m.logout()
    stop(t)
    copy = tmp_path / "copy"
    copy_maildir(maildir(t), copy)
    log = tmp_path / "dovecot.log"
    with Dovecot(dovecot_preauth, copy, log) as d:
        assert FOLDER in folder_names(ok(d.lsub('""', "*")))
        ok(d.unsubscribe(FOLDER))
    with Dovecot(dovecot_preauth, copy, log) as d:
        dovecot_subscribed = set(folder_names(ok(d.lsub('""', "*"))))
    replace_maildir(t, copy)
    start(t)
    m = login(t)
    talon_subscribed = set(folder_names(ok(m.lsub('""', "*"))))
    m.logout()
    assert FOLDER not in dovecot_subscribed, dovecot_subscribed
    assert FOLDER not in talon_subscribed, talon_subscribed
