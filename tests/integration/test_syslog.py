"""Logging to syslog from every process, chrooted workers included: the
test plays the syslog daemon on a datagram socket of its own."""
import os
import re
import socket
import tempfile
import threading
import time

import pytest


class FakeSyslog:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="talon-syslog-")
        os.chmod(self.dir, 0o755)
        self.path = os.path.join(self.dir, "log")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.settimeout(0.1)
        self.lines = []
        self.stop = False
        # read all the time, as a syslog daemon does (a unix datagram
        # socket queues only a few lines)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        while not self.stop:
            try:
                self.lines.append(self.sock.recv(65536).decode("utf-8", "replace"))
            except socket.timeout:
                pass

    def drain(self):
        time.sleep(0.2)

    def wait(self, pattern, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(re.search(pattern, l) for l in list(self.lines)):
                return
            time.sleep(0.05)
        raise AssertionError("syslog never got %r:\n%s" % (pattern, "\n".join(self.lines[-50:])))

    def close(self):
        self.stop = True
        self.reader.join(5)
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


def wait_banner(t, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert t.proc.poll() is None, t.log()
        try:
            with socket.create_connection(("127.0.0.1", t.port), timeout=1) as s:
                s.settimeout(5)
                if s.recv(100).startswith(b"220"):
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("no banner:\n" + t.log())


@pytest.mark.parametrize("mode", ["syslog", "both"])
def test_every_process_logs_to_syslog(talon_factory, mode):
    sl = FakeSyslog()
    try:
        t = talon_factory(workers=2, extra="log %s %s" % (mode, sl.path))
        t.start(wait=False)
        wait_banner(t)
        with t.smtp() as s:
            s.sendmail("s@example.org", ["alice@test.example"], b"Subject: sl\r\n\r\nx\r\n")
        t.wait_messages("alice", 1)
        for role, what in [("parent", "event=start"), ("smtp", "event=start worker=0"),
                           ("smtp", "event=start worker=1"), ("queue", "event=start"),
                           ("deliver", "event=start"), ("policy", "event=start"),
                           ("smtp", "event=accepted"), ("queue", "event=delivered")]:
            sl.wait(r"^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d talon\[\d+\]: %s \w+: %s .*%s"
                    % (role, role, re.escape(what)))
        # mail.info is <22>; an error line is <19>
        assert any(l.startswith("<22>") for l in sl.lines)
        # nobody died at start (the old syslog(3) path lost its socket in
        # the children and made them restart for ever)
        time.sleep(1.5)
        sl.drain()
        text = "\n".join(sl.lines)
        assert "event=crash" not in text + t.log(), text[-3000:]
        assert len(re.findall(r"event=spawn role=smtp", text)) == 2, text[-3000:]
        if mode == "both":
            assert "queue event=delivered" in t.log()
        else:
            assert "event=delivered" not in t.log()
    finally:
        sl.close()


def test_no_syslog_daemon_loses_lines_not_processes(talon_factory):
    """A socket path nobody listens on: lines are dropped, the daemon runs."""
    d = tempfile.mkdtemp(prefix="talon-nolog-")
    t = talon_factory(extra="log both %s/absent" % d).start()
    with t.smtp() as s:
        s.sendmail("s@example.org", ["bob@test.example"], b"Subject: x\r\n\r\nx\r\n")
    t.wait_messages("bob", 1)
    assert "event=crash" not in t.log()
