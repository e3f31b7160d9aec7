"""`talon access test` and `talon access check` on the sample access map
(tests/data/access/access.sample) named by a config's `access` directive,
and `talon config check` loading the map: the built binary, no daemon.

`access test` prints "FILE:LINE: KEY ACTION" and the daemon's answer, or
"no match"; exit 0 on a match, 1 on none, 2 on usage errors or a map that
does not load.  `access check` prints problems as FILE:LINE and the entry
count; exit 0 without errors, 1 with."""
import os
import shutil
import subprocess

from conftest import TALON

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "access")
SAMPLE = os.path.join(DATA, "access.sample")


def with_map(talon_factory, text=None):
    """A config whose `access` names a map in its directory (a relative
    path: the config resolves it)."""
    t = talon_factory(extra="access access.map")
    path = os.path.join(t.dir, "access.map")
    if text is None:
        shutil.copy(SAMPLE, path)
    else:
        with open(path, "w") as f:
            f.write(text)
    return t, path


def access(t, *args):
    return subprocess.run([TALON, "-c", t.conf, "access", *args], capture_output=True,
                          text=True, timeout=30)


def test_sample_lines_match_as_commented(talon_factory):
    t, path = with_map(talon_factory)
    cases = [
        # (key, tag or None, line, key as written, action as written, daemon's answer)
        ("friend@blocked.example", None, 15, "From:friend@blocked.example", "OK",
         "From: accepted"),
        ("friend@blocked.example", "To", 16, "To:friend@blocked.example", "OK",
         "To: accepted"),
        ("someone@blocked.example", None, 17, "blocked.example", "REJECT",
         "From: reply 550 5.7.1 Access denied"),
        ("mx.blocked.example", None, 17, "blocked.example", "REJECT",
         "Connect: reply 554 5.7.1 Access denied"),
        ("pest@spammy.example", None, 21, "pest@spammy.example",
         "ERROR:5.7.1:550 Seriously, stop and go away",
         "From: reply 550 5.7.1 Seriously, stop and go away"),
        ("7.1.2.3", None, 33, "7", "DISCARD",
         "Connect: accepted to the end of DATA, then the message is dropped silently"),
        ("198.51.100.20", "Connect", 40, "198.51.100", "REJECT",
         "Connect: reply 554 5.7.1 Access denied"),
        ("192.0.2.66", None, 42, "Connect:192.0.2.66",
         "ERROR:5.7.1:550 go away, you relayed spam through us",
         "Connect: reply 550 5.7.1 go away, you relayed spam through us"),
        ("2001:db8:bad::1", None, 43, "IPv6:2001:db8:bad", "REJECT",
         "Connect: reply 554 5.7.1 Access denied"),
        ("IPv6:2001:db8:bad:1::2", None, 43, "IPv6:2001:db8:bad", "REJECT", None),
        ("127.0.0.1", None, 47, "Connect:127.0.0.1", "RELAY",
         "Connect: accepted (RELAY: relaying comes with outbound delivery"),
        ("olduser@nmrc.example", "To:", 52, "To:olduser@nmrc.example",
         "ERROR:5.1.1:550 this user left years ago",
         "To: reply 550 5.1.1 this user left years ago"),
        ("abuse-me@our.example", "to", 53, "To:abuse-me@", "REJECT",
         "To: reply 550 5.7.1 Access denied"),
    ]
    for key, tag, line, written, action, effect in cases:
        args = ["test", key] + (["--tag", tag] if tag else [])
        r = access(t, *args)
        assert r.returncode == 0, (key, r.stdout, r.stderr)
        out = r.stdout.splitlines()
        assert out[0] == "%s:%d: %s %s" % (path, line, written, action), (key, r.stdout)
        if effect:
            assert out[1].startswith(effect), (key, r.stdout)


def test_no_match_exits_1(talon_factory):
    t, _ = with_map(talon_factory)
    for key, tag, shown in (("friend@blocked.example", "Spam", "Spam"),
                            ("abuse-me@our.example", None, "From"),
                            ("8.8.8.8", None, "Connect"),
                            ("mail.example.org", None, "Connect")):
        r = access(t, "test", key, *(["--tag", tag] if tag else []))
        assert r.returncode == 1, (key, r.stdout, r.stderr)
        assert r.stdout == "no match (%s: %s)\n" % (shown, key)


def test_usage_errors_exit_2(talon_factory):
    t, _ = with_map(talon_factory)
    assert access(t, "test").returncode == 2
    r = access(t, "test", "x@y", "--tag", "Helo")
    assert r.returncode == 2 and "unknown tag Helo" in r.stderr
    assert access(t, "frobnicate").returncode == 2
    r = access(t, "--help")
    assert r.returncode == 0 and "access test KEY" in r.stdout
    r = subprocess.run([TALON, "access", "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    # a config without the directive
    t2 = talon_factory()
    r = access(t2, "test", "1.2.3.4")
    assert r.returncode == 2 and "names no access map" in r.stderr


def test_check_sample_counts_entries(talon_factory):
    t, path = with_map(talon_factory)
    r = access(t, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "%s: 24 entries, 0 warning(s)\n" % path
    # an explicit file, no config needed
    r = subprocess.run([TALON, "access", "check", SAMPLE], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and "24 entries" in r.stdout


def test_check_broken_map_names_lines(talon_factory):
    t, path = with_map(talon_factory, "ok.example OK\n"
                                      "bad.example REJCT\n"
                                      "ok.example REJECT\n"
                                      "Spam:x@y.example REJECT\n"
                                      "z.example 250 fine\n")
    r = access(t, "check")
    assert r.returncode == 1, r.stdout
    lines = r.stdout.splitlines()
    assert lines[0].startswith(path + ':2: unknown action "REJCT"'), r.stdout
    assert lines[1] == (path + ':3: warning: duplicate key "ok.example" (first at line 1, '
                        'which wins)'), r.stdout
    assert lines[2].startswith(path + ":4: Spam: takes FRIEND or HATER"), r.stdout
    assert lines[3].startswith(path + ":5: reply code 250 does not refuse"), r.stdout
    assert lines[4] == (path + ": 3 error(s), 1 warning(s): the map does not load (a running "
                        "daemon keeps its old one)")
    # test refuses to answer from a broken map
    r = access(t, "test", "x@ok.example")
    assert r.returncode == 2 and ":2: unknown action" in r.stderr


def test_config_check_loads_the_map(talon_factory):
    t, path = with_map(talon_factory)
    r = subprocess.run([TALON, "-c", t.conf, "config", "check"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "access map %s: 24 entries" % path in r.stdout
    with open(path, "a") as f:
        f.write("192.0.2.300 REJECT\n")
    r = subprocess.run([TALON, "-c", t.conf, "config", "check"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert '%s:54: bad IP address or prefix "192.0.2.300"' % path in r.stderr, r.stderr
    os.unlink(path)
    r = subprocess.run([TALON, "-c", t.conf, "config", "check"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1 and "%s: cannot open" % path in r.stderr
