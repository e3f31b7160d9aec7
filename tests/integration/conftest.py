"""Harness for integration tests: starts the real `talon serve` on free
loopback ports with a config written per test, and gives tests real
clients (smtplib, raw sockets, ssl) plus helpers to read the Maildir and
the log.

When run as root (as CI does) the daemon drops privileges to the _talon
and _talonq users created by scripts/install-deps.sh.
"""
import glob
import os
import re
import signal
import socket
import smtplib
import ssl
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TALON = os.environ.get("TALON_BIN", os.path.join(ROOT, "build-asan", "talon"))

_CERT_DIR = None

# Every daemon's resolver forwards to a DNS server of ours on loopback (never
# the machine's resolver): by default the session's root server below, which
# answers NXDOMAIN for every name; tests that need records run their own
# zones and name their own `resolver` line.
ROOT_DNS = {"port": None}
ROOT_ZONE = """$ORIGIN .
$TTL 60
@ IN SOA ns.root-servers.test. hostmaster.root-servers.test. 1 3600 600 86400 60
  IN NS ns.root-servers.test.
ns.root-servers.test. IN A 127.0.0.1
"""


def cert_dir():
    """A self-signed certificate shared by every test of the run."""
    global _CERT_DIR
    if _CERT_DIR is None:
        d = tempfile.mkdtemp(prefix="talon-cert-")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=mail.test.example",
             "-addext", "subjectAltName=DNS:mail.test.example,IP:127.0.0.1",
             "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem")],
            check=True, capture_output=True)
        os.chmod(d, 0o755)
        _CERT_DIR = d
    return _CERT_DIR


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def client_tls_context():
    ctx = ssl.create_default_context(cafile=os.path.join(cert_dir(), "cert.pem"))
    ctx.check_hostname = False
    return ctx


class Talon:
    """One daemon instance in its own temporary directory."""

    def __init__(self, tmp, users=("alice", "bob", "carol"), aliases=None,
                 limits=None, workers=1, extra="", listeners=None):
        self.dir = str(tmp)
        os.chmod(self.dir, 0o755)
        # our unprivileged processes read admin files in here (the policy
        # process the access map): the directories above must let them
        # through, as /etc/talon does (search permission only, no listing)
        d = os.path.dirname(self.dir)
        while d not in ("/", "/tmp") and os.stat(d).st_uid == os.getuid():
            os.chmod(d, os.stat(d).st_mode | 0o111)
            d = os.path.dirname(d)
        self.port = free_port()
        self.port_tls = free_port()
        self.hostname = "mail.test.example"
        self.domain = "test.example"
        self.logpath = os.path.join(self.dir, "talon.log")
        self.conf = os.path.join(self.dir, "talon.conf")
        self.proc = None
        self.users = list(users)
        if aliases is None:
            aliases = {"postmaster": ["alice"], "abuse": ["alice"],
                       "team": ["alice", "bob"]}
        self.aliases = aliases
        self.limits = dict(limits or {})
        self.workers = workers
        self.extra = extra
        self.listeners = listeners
        # tests that kill our processes on purpose say so; in any other
        # test a crash line or a non-zero exit fails the test
        self.crash_expected = False
        self.write_files()

    # --- files ---------------------------------------------------------------
    def config_text(self):
        cd = cert_dir()
        lines = [
            "hostname %s" % self.hostname,
            "domain %s other.example" % self.domain,
        ]
        if self.listeners is None:
            lines.append("listen smtp 127.0.0.1:%d tls starttls" % self.port)
            lines.append("listen smtp 127.0.0.1:%d tls implicit" % self.port_tls)
        else:
            lines.extend(self.listeners)
        lines += [
            "tls-cert %s/cert.pem" % cd,
            "tls-key %s/key.pem" % cd,
            "store store", "spool spool", "state state",
            "users users", "aliases aliases",
            "workers %d" % self.workers,
        ]
        for k, v in self.limits.items():
            lines.append("limit %s %s" % (k, v))
        if "resolver " not in (self.extra or "") and ROOT_DNS["port"]:
            lines.append("resolver forward 127.0.0.1@%d" % ROOT_DNS["port"])
        if self.extra:
            lines.append(self.extra)
        return "\n".join(lines) + "\n"

    def write_files(self):
        with open(self.conf, "w") as f:
            f.write(self.config_text())
        with open(os.path.join(self.dir, "users"), "w") as f:
            for u in self.users:
                f.write("%s:\n" % u)
        with open(os.path.join(self.dir, "aliases"), "w") as f:
            for k, v in self.aliases.items():
                f.write("%s: %s\n" % (k, ", ".join(v)))

    # --- process -------------------------------------------------------------
    def start(self, wait=True, env=None, wrapper=None, binary=None):
        self.logf = open(self.logpath, "ab")
        e = dict(os.environ)
        e.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=1")
        if env:
            e.update(env)
        cmd = [binary or TALON, "-c", self.conf, "serve"]
        if wrapper:
            cmd = list(wrapper) + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=e)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("talon exited early (%s):\n%s" % (self.proc.returncode, self.log()))
            if self.log().count("smtp event=start") >= self.workers:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                        s.settimeout(5)
                        if s.recv(100).startswith(b"220"):
                            s.sendall(b"QUIT\r\n")
                            return
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError("talon did not become ready:\n" + self.log())

    def main_pid(self):
        """pid of the talon parent (differs from proc.pid under a wrapper)"""
        try:
            with open(os.path.join(self.dir, "state", "talon.pid")) as f:
                pid = int(f.read())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return self.proc.pid

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.kill(self.main_pid(), sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("talon did not stop within %ss:\n%s" % (timeout, self.log()))
        return self.proc.returncode

    def reload(self):
        os.kill(self.main_pid(), signal.SIGHUP)

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10, count=1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(re.findall(pattern, self.log())) >= count:
                return
            time.sleep(0.05)
        raise AssertionError("log never matched %r (x%d):\n%s" % (pattern, count, self.log()))

    def child_pids(self, role):
        """pids of live children with the given role, from the spawn log lines"""
        pids = [int(p) for p in re.findall(r"event=spawn role=%s (?:worker=\d+ )?pid=(\d+)" % role, self.log())]
        live = []
        for p in pids:
            try:
                with open("/proc/%d/stat" % p) as f:
                    st = f.read().split()
                if st[2] != "Z" and int(st[3]) == self.main_pid():
                    live.append(p)
            except FileNotFoundError:
                pass
        return live

    # --- mail ---------------------------------------------------------------
    def maildir(self, user, sub="new"):
        return os.path.join(self.dir, "store", user, "Maildir", sub)

    def messages(self, user, sub="new"):
        d = self.maildir(user, sub)
        if not os.path.isdir(d):
            return []
        out = []
        for p in sorted(glob.glob(os.path.join(d, "*"))):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, user, n, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.messages(user)) >= n:
                return self.messages(user)
            time.sleep(0.05)
        raise AssertionError("expected %d messages for %s, have %d\n%s" % (
            n, user, len(self.messages(user)), self.log()[-4000:]))

    def smtp(self, port=None, **kw):
        return smtplib.SMTP("127.0.0.1", port or self.port, timeout=kw.pop("timeout", 15), **kw)

    def smtp_tls(self):
        return smtplib.SMTP_SSL("127.0.0.1", self.port_tls, timeout=15,
                                context=client_tls_context())

    def raw(self, port=None, timeout=10, source=None):
        s = socket.create_connection(("127.0.0.1", port or self.port), timeout=timeout,
                                     source_address=(source, 0) if source else None)
        return RawClient(s)


class RawClient:
    """Line-level SMTP client for malformed input and exact replies."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed; buffered %r" % self.buf)
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l.decode("utf-8", "replace")

    def reply(self):
        """One complete (possibly multi-line) reply: (code, [lines])"""
        lines = []
        while True:
            l = self.line()
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                return int(l[:3]), lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def expect(self, code):
        c, lines = self.reply()
        assert c == code, "expected %d, got %r" % (code, lines)
        return lines

    def closed(self, timeout=5):
        """True when the server closes the connection (after any data)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


@pytest.fixture(scope="session", autouse=True)
def root_dns(tmp_path_factory):
    """One authoritative server for the root zone, for the whole run."""
    d = tmp_path_factory.mktemp("rootdns")
    port = free_port()
    with open(os.path.join(str(d), "root.zone"), "w") as f:
        f.write(ROOT_ZONE)
    t = Talon(d, extra="listen dns 127.0.0.1:%d\nzone . root.zone\n"
              "resolver forward 127.0.0.1@%d" % (port, port),
              limits={"dns-responses": 0})
    t.start()
    t.wait_log(r"dns event=zones generation=1 zones=1")
    ROOT_DNS["port"] = port
    yield port
    ROOT_DNS["port"] = None
    t.stop()


@pytest.fixture
def talon_factory(tmp_path):
    made = []

    def make(**kw):
        sub = tmp_path / ("t%d" % len(made))
        sub.mkdir()
        t = Talon(sub, **kw)
        made.append(t)
        return t

    yield make
    for t in made:
        rc = t.proc.returncode if t.proc is not None else None
        if t.proc is not None and t.proc.poll() is None:
            rc = t.stop()
        if t.proc is not None and not t.crash_expected:
            log = t.log()
            crashes = [l for l in log.splitlines() if "event=crash" in l]
            assert not crashes, "unexpected crash:\n" + "\n".join(crashes[:5]) + "\n" + log[-3000:]
            assert rc in (0, None), "talon exited with %r:\n%s" % (rc, log[-3000:])
        # Sanitizer reports from any of our processes fail the test.
        log = t.log()
        assert "ERROR: AddressSanitizer" not in log, log[-6000:]
        assert "runtime error:" not in log, log[-6000:]
        assert "ERROR: LeakSanitizer" not in log, log[-6000:]
        # a leak check that could not run hides leaks: fail on it too
        assert "LeakSanitizer has encountered a fatal error" not in log, log[-6000:]


@pytest.fixture
def talon(talon_factory):
    return talon_factory().start()
