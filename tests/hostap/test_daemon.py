"""The daemon runner: pid file, time-stamped rotating log, polite stop, only our own processes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from r2wifi.errors import UserError
from r2wifi.hostap.daemon import Daemon
from r2wifi.hostap.logpump import RotatingLog, stamp

STAMP = re.compile(r"^\d{10}\.\d{6}: ")

CHILD = """
import signal, sys, time
if "ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("child starting", flush=True)
print("to stderr", file=sys.stderr, flush=True)
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def root() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="r2d", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def child_argv(root: Path, *extra: str) -> list[str]:
    script = root / "child.py"
    script.write_text(CHILD)
    return [sys.executable, str(script), *extra]


def wait_for_log(d: Daemon, text: str, timeout: float = 20) -> list[str]:
    """Wait until the daemon's log holds a line containing ``text`` (event wait, not a timing check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = d.log_tail(100)
        if any(text in line for line in lines):
            return lines
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never appeared in {d.log_file}: {d.log_tail(20)}")


def test_stamp_is_hostapd_t_style():
    """The line prefix is `<epoch>.<usec>: ` like hostapd -t."""
    assert stamp(1700000000.5) == b"1700000000.500000: "
    assert stamp(1700000000.0000004) == b"1700000000.000000: "
    assert stamp(1699999999.9999999) == b"1700000000.000000: "


def test_rotating_log_keeps_n_backups(tmp_path: Path):
    """When the file would pass max_bytes it rotates to .1, .2 ...; older than `backups` are dropped."""
    log = RotatingLog(tmp_path / "h.log", max_bytes=1024, backups=2)
    for i in range(100):
        log.write_line(f"line {i:03d} ".encode() + b"x" * 40, 1700000000.0 + i)
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["h.log", "h.log.1", "h.log.2"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 1024
    newest = (tmp_path / "h.log").read_text().splitlines()
    assert newest[-1].startswith("1700000099.000000: line 099 ")
    older = (tmp_path / "h.log.1").read_text().splitlines()
    assert int(older[-1].split()[2]) + 1 == int(newest[0].split()[2])  # no line lost between files


def test_start_logs_with_timestamps_and_stop(root: Path):
    """A started daemon is alive with a pid file; stdout and stderr land stamped in its log; stop ends it."""
    d = Daemon("child", child_argv(root), root=root)
    pid = d.start()
    try:
        assert d.alive() and d.pid() == pid
        assert d.pid_file.read_text().splitlines()[0] == str(pid)
        lines = wait_for_log(d, "ready")
        assert lines[0].endswith(f"r2wifi: started {sys.executable} {root}/child.py")  # marks the run
        assert any(line.endswith("child starting") for line in lines)
        assert any(line.endswith("to stderr") for line in lines)
        assert all(STAMP.match(line) for line in lines)
        assert abs(float(lines[0].split(":")[0]) - time.time()) < 3600  # wall clock, not monotonic
    finally:
        assert d.stop(timeout=5) is True
    assert not d.alive() and not d.pid_file.exists()
    assert d.returncode() == -signal.SIGTERM


def test_stop_escalates_to_sigkill(root: Path):
    """A daemon that ignores SIGTERM is killed with SIGKILL after the timeout."""
    d = Daemon("stubborn", child_argv(root, "ignore-term"), root=root)
    d.start()
    wait_for_log(d, "ready")
    assert d.stop(timeout=0.3) is True
    assert d.returncode() == -signal.SIGKILL


def test_another_runner_finds_and_stops_it(root: Path):
    """A second Daemon object (like a later `r2wifi down`) finds the process by pid file + cmdline and stops it."""
    first = Daemon("child", child_argv(root), root=root)
    pid = first.start()
    wait_for_log(first, "ready")
    later = Daemon("child", child_argv(root), root=root)
    assert later.pid() == pid
    with pytest.raises(UserError, match="already running"):
        later.start()
    assert later.stop(timeout=5) is True
    assert first.returncode() == -signal.SIGTERM


def test_never_signals_a_process_it_did_not_start(root: Path):
    """A pid file pointing at an unrelated process (pid reuse) is ignored: no signal is sent."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        d = Daemon("child", child_argv(root), root=root)
        d.pid_file.parent.mkdir(parents=True, exist_ok=True)
        d.pid_file.write_text(f"{other.pid}\n[\"{sys.executable}\", \"{root}/child.py\"]\n")
        assert d.pid() is None and not d.alive()
        assert d.stop(timeout=0.5) is False
        assert other.poll() is None  # still running
    finally:
        other.kill()
        other.wait()


def test_missing_binary_names_the_package(root: Path):
    """Starting a daemon whose binary is absent is a UserError naming the Debian package."""
    d = Daemon("h", ["/nonexistent/hostapd", "x.conf"], root=root)
    with pytest.raises(UserError, match="install the Debian package hostapd"):
        d.start()
    assert not d.pid_file.exists()


def test_no_descriptor_leaks(root: Path):
    """Starting and stopping daemons leaves this process with the same open file descriptors."""
    before = sorted(os.listdir("/proc/self/fd"))
    for i in range(3):
        d = Daemon(f"c{i}", child_argv(root), root=root)
        d.start()
        wait_for_log(d, "ready")
        d.stop(timeout=5)
    assert sorted(os.listdir("/proc/self/fd")) == before


def test_log_outlives_the_runner_process(root: Path):
    """Daemon and log pump run in their own session: output after the starter exited is still logged."""
    script = root / "late.py"
    script.write_text("import time\nprint('early', flush=True)\ntime.sleep(0.5)\nprint('late', flush=True)\n"
                      "time.sleep(120)\n")
    starter = (
        "import sys; from r2wifi.hostap.daemon import Daemon; "
        f"Daemon('late', [sys.executable, {str(script)!r}], root={str(root)!r}).start()"
    )
    subprocess.run([sys.executable, "-c", starter], check=True, timeout=60)
    d = Daemon("late", [sys.executable, str(script)], root=root)
    try:
        wait_for_log(d, "late")
        assert d.alive()
    finally:
        assert d.stop(timeout=5)


@pytest.mark.root
@pytest.mark.netns
def test_runs_inside_a_network_namespace(root: Path):
    """With netns=NS the daemon runs via `ip netns exec NS ...` and sees only that namespace's links."""
    ns = f"r2d{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        d = Daemon("links", ["ip", "-o", "link", "show"], netns=ns, root=root)
        assert d.full_argv[:4] == ["ip", "netns", "exec", ns]
        d.start()
        lines = wait_for_log(d, "lo:")
        d.stop(timeout=5)
        assert d.returncode() == 0
        assert len([line for line in lines if ": <" in line]) == 1  # only lo
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=True)


def test_unexecutable_binary_is_a_user_error_without_leftovers(root: Path):
    """A binary that cannot be executed gives a UserError; no pid file, no leaked descriptor."""
    bad = root / "notanelf"
    bad.write_bytes(b"\x00garbage")
    bad.chmod(0o755)
    before = sorted(os.listdir("/proc/self/fd"))
    d = Daemon("bad", [str(bad)], root=root)
    with pytest.raises(UserError, match="cannot start .*Exec format error"):
        d.start()
    assert not d.pid_file.exists() and not d.alive()
    assert sorted(os.listdir("/proc/self/fd")) == before
