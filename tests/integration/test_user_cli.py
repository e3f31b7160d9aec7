"""`talon user add|passwd|del NAME` and `talon user list` on the users file
a config names: the built binary, no daemon.

The password comes from stdin (one line, CR/LF stripped; on a terminal
asked twice without echo) or --password-file.  The file is replaced
atomically and keeps every other line, comment, line end, extra field,
its mode and its owner.  New hashes are yescrypt and must verify with
Debian python3's crypt module (libxcrypt, an independent caller).  Exit 0
done, 1 refused, 2 usage."""
import os
import pty
import re
import select
import subprocess
import time
import warnings

import pytest

from conftest import TALON

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # Debian's python3.11 still has it

# a bcrypt hash of "correct horse" (python3 crypt, fixed salt)
BOB_HASH = "$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2"
USERS = ("# Talon users: name:{CRYPT}hash[:uid:gid:gecos:home:shell]\n"
         "alice:\n"
         "\n"
         "   # bob has a home and a CRLF line end\n"
         "bob:{CRYPT}" + BOB_HASH + ":1000:1000::/home/bob:/bin/sh\r\n"
         "carol:\n"
         "# trailing comment, no newline at the end")
HASH_RE = r"\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43}"


def setup_users(talon_factory, text=USERS):
    t = talon_factory()
    path = os.path.join(t.dir, "users")
    with open(path, "w", newline="") as f:
        f.write(text)
    return t, path


def read(path):
    with open(path, "rb") as f:
        return f.read().decode()


def user(t, *args, stdin="", timeout=60):
    r = subprocess.run([TALON, "-c", t.conf, "user", *args], input=stdin,
                       capture_output=True, text=True, timeout=timeout)
    out = r.stdout + r.stderr
    assert "AddressSanitizer" not in out and "runtime error" not in out, out
    assert "LeakSanitizer" not in out, out
    return r


def verifies(password, h):
    return crypt.crypt(password, h) == h


def hash_of(text, name):
    m = re.search(r"^%s:\{CRYPT\}(%s)" % (re.escape(name), HASH_RE), text, re.M)
    assert m, text
    return m.group(1)


def config_check_ok(t):
    r = subprocess.run([TALON, "-c", t.conf, "config", "check"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_add_appends_and_keeps_everything_else(talon_factory):
    t, path = setup_users(talon_factory)
    r = user(t, "add", "dave", stdin="dave's password\n")
    assert r.returncode == 0, r.stderr
    assert "added dave to %s" % path in r.stdout
    assert "talon reload" in r.stdout
    text = read(path)
    # the old text byte for byte, a newline because it had none, the new line
    assert text.startswith(USERS + "\n"), repr(text)
    rest = text[len(USERS) + 1:]
    assert re.fullmatch(r"dave:\{CRYPT\}%s\n" % HASH_RE, rest), repr(rest)
    assert verifies("dave's password", hash_of(text, "dave"))
    assert not verifies("dave's passwore", hash_of(text, "dave"))
    assert not os.path.exists(path + ".tmp")
    config_check_ok(t)


def test_passwd_replaces_only_the_hash(talon_factory):
    t, path = setup_users(talon_factory)
    r = user(t, "passwd", "bob", stdin="new secret\n")
    assert r.returncode == 0, r.stderr
    assert "changed the password of bob in %s" % path in r.stdout
    text = read(path)
    h = hash_of(text, "bob")
    assert verifies("new secret", h)
    # uid, gid, home, shell and the CRLF stay; every other line is unchanged
    assert text == USERS.replace(BOB_HASH, h), repr(text)
    # an account without login gets one
    r = user(t, "passwd", "alice", stdin="alice pw\n")
    assert r.returncode == 0, r.stderr
    text2 = read(path)
    assert verifies("alice pw", hash_of(text2, "alice"))
    assert text2 == text.replace("alice:\n", "alice:{CRYPT}%s\n" % hash_of(text2, "alice"))
    config_check_ok(t)


def test_del_removes_the_line(talon_factory):
    t, path = setup_users(talon_factory)
    r = user(t, "del", "carol")
    assert r.returncode == 0, r.stderr
    assert "deleted carol from %s" % path in r.stdout
    assert read(path) == USERS.replace("carol:\n", "")
    r = user(t, "del", "bob")
    assert r.returncode == 1          # the alias "team" names bob
    assert "team" in r.stderr and "bob" in r.stderr
    config_check_ok(t)


def test_list_names_and_login_never_hashes(talon_factory):
    t, path = setup_users(talon_factory)
    r = user(t, "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "alice\tno login\nbob\tlogin\ncarol\tno login\n"
    assert "$" not in r.stdout + r.stderr
    user(t, "add", "dave", stdin="x-pass\n")
    assert "dave\tlogin\n" in user(t, "list").stdout


def test_mode_and_owner_kept(talon_factory):
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root")
    t, path = setup_users(talon_factory)
    os.chown(path, 1234, 2345)
    os.chmod(path, 0o640)
    ino = os.stat(path).st_ino
    r = user(t, "passwd", "bob", stdin="pw\n")
    assert r.returncode == 0, r.stderr
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 2345, 0o640)
    assert st.st_ino != ino           # a new file renamed into place
    os.chmod(path, 0o600)
    r = user(t, "add", "erin", stdin="pw\n")
    assert r.returncode == 0, r.stderr
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 2345, 0o600)


def test_refusals_leave_the_file_alone(talon_factory):
    t, path = setup_users(talon_factory)
    cases = [
        (("add", "bob"), "already exists"),
        (("add", "alice"), "already exists"),
        (("passwd", "zed"), "no user zed"),
        (("del", "zed"), "no user zed"),
        (("add", "Bob"), "invalid user name"),
        (("add", "a:b"), "invalid user name"),
        (("add", "a b"), "invalid user name"),
        (("add", "a/b"), "invalid user name"),
        (("add", ".x"), "invalid user name"),
        (("add", "x" * 65), "invalid user name"),
        (("add", "#x"), "invalid user name"),
        (("add", "a\nb"), "invalid user name"),
        (("add", ""), "invalid user name"),
        (("passwd", "Alice"), "invalid user name"),
        (("del", "ALICE"), "invalid user name"),
    ]
    for args, why in cases:
        r = user(t, *args, stdin="pw\n")
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert why in r.stderr, (args, r.stderr)
        assert read(path) == USERS, args
        assert not os.path.exists(path + ".tmp")
    # the longest name is fine
    r = user(t, "add", "x" * 64, stdin="pw\n")
    assert r.returncode == 0, r.stderr


def test_usage_errors(talon_factory):
    t, path = setup_users(talon_factory)
    for args in [(), ("frob",), ("add",), ("add", "a", "b"), ("del",), ("list", "x"),
                 ("add", "-x"), ("del", "alice", "--password-file", "f"),
                 ("add", "a", "--password-file")]:
        r = user(t, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert "usage: talon" in r.stderr
    r = user(t, "--help")
    assert r.returncode == 0 and "user add NAME" in r.stdout
    r = subprocess.run([TALON, "--help"], capture_output=True, text=True)
    assert "user add|passwd|del NAME" in r.stdout
    assert read(path) == USERS


def test_password_from_stdin_lines(talon_factory):
    t, path = setup_users(talon_factory)
    good = [("crlf pw\r\n", "crlf pw"), ("no newline", "no newline"),
            ("first\nsecond\n", "first"), (" spaces kept \n", " spaces kept "),
            ("p\u00e4ss\n", "p\u00e4ss"), ("z" * 511 + "\n", "z" * 511)]
    for stdin, pw in good:
        r = user(t, "passwd", "alice", stdin=stdin)
        assert r.returncode == 0, (stdin, r.stderr)
        assert verifies(pw, hash_of(read(path), "alice")), stdin
    before = read(path)
    for stdin, why in [("", "no password"), ("\n", "empty password"),
                       ("\r\n", "empty password"), ("z" * 512 + "\n", "longer than 511"),
                       ("z" * 5000 + "\n", "longer than 1024"), ("a\0b\n", "NUL")]:
        r = user(t, "passwd", "alice", stdin=stdin)
        assert r.returncode == 1, (stdin[:20], r.stderr)
        assert why in r.stderr, (stdin[:20], r.stderr)
        assert read(path) == before


def test_password_file(talon_factory):
    t, path = setup_users(talon_factory)
    pwf = os.path.join(t.dir, "pw.txt")
    with open(pwf, "w") as f:
        f.write("from the file\r\nignored second line\n")
    r = user(t, "add", "dave", "--password-file", pwf, stdin="not this\n")
    assert r.returncode == 0, r.stderr
    assert verifies("from the file", hash_of(read(path), "dave"))
    r = user(t, "passwd", "--password-file", pwf, "bob")   # any order
    assert r.returncode == 0, r.stderr
    r = user(t, "passwd", "bob", "--password-file", os.path.join(t.dir, "missing"))
    assert r.returncode == 1 and "missing" in r.stderr
    with open(pwf, "w") as f:
        f.write("\nsecond\n")
    r = user(t, "passwd", "bob", "--password-file", pwf)
    assert r.returncode == 1 and "empty password" in r.stderr


def read_until(fd, pattern, timeout=30):
    buf = b""
    deadline = time.time() + timeout
    while pattern not in buf:
        left = deadline - time.time()
        assert left > 0, "never saw %r in %r" % (pattern, buf)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            d = os.read(fd, 4096)
            if not d:
                break
            buf += d
    return buf


def run_on_tty(t, args, lines):
    """Run talon user with a pseudo-terminal as stdin and stderr (the
    prompts); type each line after its prompt.  Returns (rc, everything
    the terminal showed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([TALON, "-c", t.conf, "user", *args], stdin=slave,
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    try:
        for prompt, line in zip((b"New password for", b"Retype"), lines):
            seen += read_until(master, prompt)
            time.sleep(0.1)
            os.write(master, line.encode() + b"\n")
        p.wait(60)
        time.sleep(0.1)
        while select.select([master], [], [], 0.2)[0]:
            try:
                d = os.read(master, 4096)
            except OSError:
                break
            if not d:
                break
            seen += d
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return p.returncode, seen.decode("utf-8", "replace")


def test_tty_asks_twice_without_echo(talon_factory):
    t, path = setup_users(talon_factory)
    rc, seen = run_on_tty(t, ["add", "dave"], ["tty secret 1", "tty secret 1"])
    assert rc == 0, seen
    assert "New password for dave:" in seen and "Retype" in seen
    assert "tty secret" not in seen, seen          # echo was off
    assert verifies("tty secret 1", hash_of(read(path), "dave"))
    before = read(path)
    rc, seen = run_on_tty(t, ["passwd", "dave"], ["one thing", "another"])
    assert rc == 1 and "do not match" in seen, seen
    assert read(path) == before


def test_del_refused_when_aliases_need_the_user(talon_factory):
    t, path = setup_users(talon_factory)
    r = user(t, "del", "alice")        # postmaster, abuse and team name alice
    assert r.returncode == 1
    assert "postmaster" in r.stderr and "refused" in r.stderr
    assert read(path) == USERS


def test_file_with_errors_is_refused(talon_factory):
    bad = USERS.replace("carol:\n", "carol:{SHA}abc\n")
    t, path = setup_users(talon_factory, bad)
    for args in (("add", "dave"), ("passwd", "alice"), ("del", "carol")):
        r = user(t, *args, stdin="pw\n")
        assert r.returncode == 1, args
        assert "%s:6:" % path in r.stderr and "fix them first" in r.stderr, r.stderr
        assert read(path) == bad
    r = user(t, "list")
    assert r.returncode == 1 and "%s:6:" % path in r.stderr
    assert "alice\tno login" in r.stdout


def test_stale_tmp_is_a_lock(talon_factory):
    t, path = setup_users(talon_factory)
    with open(path + ".tmp", "w") as f:
        f.write("someone else's\n")
    r = user(t, "add", "dave", stdin="pw\n")
    assert r.returncode == 1
    assert path + ".tmp exists" in r.stderr
    assert read(path) == USERS
    assert read(path + ".tmp") == "someone else's\n"   # not ours to remove


def test_symlink_followed(talon_factory):
    t, path = setup_users(talon_factory)
    real_dir = os.path.join(t.dir, "real")
    os.mkdir(real_dir)
    real = os.path.join(real_dir, "users.real")
    os.rename(path, real)
    os.symlink(real, path)
    r = user(t, "passwd", "bob", stdin="via link\n")
    assert r.returncode == 0, r.stderr
    assert os.path.islink(path)
    assert verifies("via link", hash_of(read(real), "bob"))
    assert not os.path.exists(real + ".tmp")


def test_add_creates_a_missing_file(talon_factory):
    t, path = setup_users(talon_factory)
    os.unlink(path)
    for args in (("passwd", "alice"), ("del", "alice"), ("list",)):
        r = user(t, *args, stdin="pw\n")
        assert r.returncode == 1 and path in r.stderr, args
    r = user(t, "add", "alice", stdin="first\n")
    assert r.returncode == 0, r.stderr
    assert os.stat(path).st_mode & 0o7777 == 0o600
    assert re.fullmatch(r"alice:\{CRYPT\}%s\n" % HASH_RE, read(path))


def test_bad_config_refused(talon_factory):
    t, path = setup_users(talon_factory)
    with open(t.conf, "a") as f:
        f.write("bogus directive\n")
    r = user(t, "add", "dave", stdin="pw\n")
    assert r.returncode == 1 and "has errors" in r.stderr
    assert read(path) == USERS


def test_write_order_is_durable(talon_factory):
    """fsync of the new file, rename into place, fsync of the directory,
    in that order (strace)."""
    t, path = setup_users(talon_factory)
    log = os.path.join(t.dir, "strace.log")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run(["strace", "-f", "-o", log, "-e",
                        "trace=openat,fsync,fdatasync,rename,renameat,renameat2",
                        TALON, "-c", t.conf, "user", "passwd", "bob"],
                       input="pw\n", capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    calls = open(log).read().splitlines()
    fds = {}
    events = []
    for c in calls:
        m = re.search(r'openat\(AT_FDCWD, "([^"]+)", [^)]*\) = (\d+)', c)
        if m:
            fds[m.group(2)] = m.group(1)
            continue
        m = re.search(r"fsync\((\d+)\)\s+= 0", c)
        if m:
            events.append(("fsync", fds.get(m.group(1))))
            continue
        m = re.search(r'rename\w*\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"', c)
        if m:
            events.append(("rename", m.group(1), m.group(2)))
    want = [("fsync", path + ".tmp"), ("rename", path + ".tmp", path),
            ("fsync", t.dir)]
    assert [e for e in events if e in want] == want, events
