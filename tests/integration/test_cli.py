"""`talon config check` and `talon serve` refusing a bad configuration:
every error names file:line and what was expected."""
import os
import subprocess

from conftest import TALON


def check(talon):
    return subprocess.run([TALON, "-c", talon.conf, "config", "check"],
                          capture_output=True, text=True, timeout=30)


def test_good_config_checks_ok(talon_factory):
    t = talon_factory()
    r = check(t)
    assert r.returncode == 0, r.stderr
    assert "OK (3 users, 3 aliases, 2 listeners)" in r.stdout


def test_unknown_directive_names_file_and_line(talon_factory):
    t = talon_factory(extra="lisen smtp 127.0.0.1:25")
    r = check(t)
    assert r.returncode == 1
    n = t.config_text().splitlines().index("lisen smtp 127.0.0.1:25") + 1
    assert '%s:%d: unknown directive "lisen"' % (t.conf, n) in r.stderr, r.stderr


def test_bad_limit_and_missing_files(talon_factory):
    t = talon_factory(limits={"message-size": "12q"})
    r = check(t)
    assert r.returncode == 1
    assert "limit message-size" in r.stderr and "12q" in r.stderr
    t2 = talon_factory()
    os.unlink(os.path.join(t2.dir, "aliases"))
    r = check(t2)
    assert r.returncode == 1
    assert os.path.join(t2.dir, "aliases") in r.stderr


def test_aliases_errors_name_lines(talon_factory):
    t = talon_factory(aliases={"postmaster": ["alice"], "abuse": ["alice"],
                               "prog": ["|/bin/sh"]})
    r = check(t)
    assert r.returncode == 1
    assert '%s:3: "|/bin/sh": delivery to programs is not supported' % os.path.join(t.dir, "aliases") in r.stderr, r.stderr
    t = talon_factory(aliases={"postmaster": ["alice"], "abuse": ["alice"],
                               "loop1": ["loop2"], "loop2": ["loop1"]})
    r = check(t)
    assert r.returncode == 1
    aliases = os.path.join(t.dir, "aliases")
    assert "%s:3:" % aliases in r.stderr and "%s:4:" % aliases in r.stderr, r.stderr
    assert "loop" in r.stderr
    t = talon_factory(aliases={"team": ["alice"]})
    r = check(t)
    assert r.returncode == 1
    assert "postmaster" in r.stderr and "abuse" in r.stderr, r.stderr


def test_weak_password_hash_refused(talon_factory):
    t = talon_factory()
    with open(os.path.join(t.dir, "users"), "a") as f:
        f.write("eve:{PLAIN}secret\n")
    r = check(t)
    assert r.returncode == 1
    assert "users:4:" in r.stderr, r.stderr
    assert "secret" not in r.stderr      # never echo a password


def test_tls_key_mismatch_is_reported(talon_factory, tmp_path):
    t = talon_factory(extra="")
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", str(other)], check=True, capture_output=True)
    with open(t.conf) as f:
        text = f.read()
    import re
    text = re.sub(r"tls-key .*", "tls-key %s" % other, text)
    with open(t.conf, "w") as f:
        f.write(text)
    r = check(t)
    assert r.returncode == 1
    assert "does not match" in r.stderr, r.stderr


def test_serve_refuses_bad_config_without_binding(talon_factory):
    t = talon_factory(extra="workers 0")
    p = subprocess.run([TALON, "-c", t.conf, "serve"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "workers" in p.stderr and "not starting" in p.stderr
