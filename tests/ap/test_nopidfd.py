"""Linux 4.14 - 5.2 have no pidfd_open: waiting, stopping and the supervisor's process watch still work.

The subprocess tests simulate such a kernel with a ``sitecustomize`` that makes ``os.pidfd_open``
raise ``OSError(ENOSYS)`` in every r2wifi process (exactly what Python does there), so the fallback
is reached the way it would be on the board, not through a switch.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from r2wifi import procutil
from tests.ap.conftest import SimBed
from tests.ap.test_supervisor import hostapd_enabled, sup_log, wait_for
from tests.conftest import need_binary

NO_PIDFD = (
    "import errno, os\n"
    "def _enosys(*args, **kwargs):\n"
    "    raise OSError(errno.ENOSYS, 'Function not implemented')\n"
    "os.pidfd_open = _enosys\n"
)


@pytest.fixture
def no_pidfd(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In this process: os.pidfd_open fails with ENOSYS, and the cached decision is re-made."""

    def enosys(*_a: object, **_k: object) -> int:
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", enosys)
    monkeypatch.setattr(procutil, "_pidfd_ok", None)
    yield
    procutil._pidfd_ok = None


def _sleeper(seconds: float = 60) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def test_enosys_and_the_env_var_select_the_fallback(no_pidfd: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSYS from pidfd_open (or R2WIFI_NO_PIDFD=1, or no os.pidfd_open at all) means: no pidfd."""
    assert procutil.pidfd_available() is False
    monkeypatch.undo()
    procutil._pidfd_ok = None
    monkeypatch.setenv("R2WIFI_NO_PIDFD", "1")
    assert procutil.pidfd_available() is False
    procutil._pidfd_ok = None
    monkeypatch.delenv("R2WIFI_NO_PIDFD")
    monkeypatch.delattr(os, "pidfd_open")
    assert procutil.pidfd_available() is False
    procutil._pidfd_ok = None


def test_wait_and_terminate_without_pidfd(no_pidfd: None) -> None:
    """wait_pid_exit times out on a live process and sees its exit; terminate stops it with SIGTERM."""
    child = _sleeper()
    try:
        assert procutil.wait_pid_exit(child.pid, 0.2) is False
        assert procutil.terminate(child.pid, grace=10) is True
        assert child.wait(timeout=5) == -signal.SIGTERM
        assert procutil.wait_pid_exit(child.pid, 0.1) is True  # gone (reaped)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_an_unreaped_child_counts_as_exited_and_a_stubborn_one_is_killed(no_pidfd: None) -> None:
    """A zombie is an exit (as with a pidfd); a process ignoring SIGTERM gets SIGKILL after the grace."""
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal,time,sys\n"
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                 "print('ready', flush=True)\ntime.sleep(60)"], stdout=subprocess.PIPE)
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
        assert procutil.terminate(stubborn.pid, grace=0.3, kill_wait=5) is False
        wait_for(lambda: procutil.wait_pid_exit(stubborn.pid, 0.1), 5, "the zombie to count as exited")
        assert stubborn.wait(timeout=5) == -signal.SIGKILL
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
            stubborn.wait()
        if stubborn.stdout:
            stubborn.stdout.close()


def test_the_process_watch_notices_an_exit_and_a_recycled_pid(no_pidfd: None) -> None:
    """wait_any_exit returns the key of the process that exited; a start time that differs is an exit."""
    a, b = _sleeper(), _sleeper()
    try:
        handles = {"a": procutil.ProcessHandle(a.pid), "b": procutil.ProcessHandle(b.pid)}
        assert all(h.fd is None for h in handles.values())
        assert procutil.wait_any_exit(handles, 0.2) == []
        b.kill()
        assert procutil.wait_any_exit(handles, 10) == ["b"]
        h = procutil.ProcessHandle(a.pid)
        h.start = "1"  # as if the pid now belonged to another process
        assert h.exited() is True
    finally:
        for p in (a, b):
            p.kill()
            p.wait()


@pytest.fixture
def enosys_bed(sim_bed: SimBed, tmp_path: Path) -> SimBed:
    """The simulator bed with every r2wifi process on a 'kernel without pidfd_open'."""
    site = tmp_path / "no-pidfd-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_PIDFD)
    sim_bed.env["PYTHONPATH"] = f"{site}{os.pathsep}{sim_bed.env['PYTHONPATH']}"
    probe = subprocess.run([sys.executable, "-c", "from r2wifi.procutil import pidfd_available as p; print(p())"],
                           env=sim_bed.env, capture_output=True, text=True, cwd=sim_bed.root)
    assert probe.stdout.strip() == "False", probe.stderr
    return sim_bed


@pytest.mark.root
def test_up_down_and_supervision_without_pidfd(enosys_bed: SimBed) -> None:
    """No pidfd: `run` brings the AP up, notices a killed hostapd and restores it; `down` stops all."""
    need_binary("hostapd")
    need_binary("dnsmasq")
    bed = enosys_bed
    bed.write_config("[supervisor]\nstall_seconds = 1\nbackoff_initial = 0.5\n")
    proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(bed.config)],
                            env=bed.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: "supervising" in sup_log(bed) or proc.poll() is not None, 90, "the supervisor")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        old = bed.pid("hostapd")
        assert old and hostapd_enabled(bed)
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: "restart-hostapd done" in sup_log(bed), 60, "the supervisor to restart hostapd")
        assert bed.pid("hostapd") not in (None, old) and hostapd_enabled(bed)
        pids = [bed.pid("hostapd"), bed.pid("dnsmasq")]
        down = bed.cli("down", "--config", str(bed.config))
        assert down.returncode == 0, down.stderr
        assert "stopped the supervisor" in down.stdout and "stopped hostapd" in down.stdout
        assert proc.wait(timeout=30) == 0
        for pid in pids:
            assert pid and not _running(pid)
        st = json.loads(bed.cli("status", "--json", "--config", str(bed.config)).stdout)
        assert st["state"] == "down" and not any(d["pid"] for d in st["daemons"].values())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != b"Z"



@pytest.mark.root
def test_station_mode_up_and_down_without_pidfd(enosys_bed: SimBed) -> None:
    """No pidfd: `up --sta` (which waits on wpa_supplicant's pid while its socket appears) and `down` work."""
    need_binary("wpa_supplicant")
    bed = enosys_bed
    bed.write_config('[sta]\nenabled = true\nssid = "Upstream"\npassphrase = "upstream pass"\ndhcp = false\n')
    up = bed.cli("up", "--sta", "--config", str(bed.config))
    assert up.returncode == 0, up.stderr
    pid = bed.pid("wpa_supplicant", "wlan0")
    assert pid and _running(pid)
    down = bed.cli("down", "--config", str(bed.config))
    assert down.returncode == 0 and "stopped wpa_supplicant" in down.stdout, down.stderr
    assert not _running(pid)
