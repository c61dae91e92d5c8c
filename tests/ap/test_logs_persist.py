"""Acceptance: r2wifi's logs live in ``[log] dir``, survive a restart of the services and rotate.

On the simulator, with ``[log] dir`` pointing at a directory of the test (not the state dir): `run`
(supervisor + launcher + hostapd + dnsmasq), `down`, then `run` again. The first run's lines must still
be in the launcher's, the supervisor's and hostapd's logs, and with ``max_bytes = 4096, backups = 2``
the busy logs rotate with exactly two backups, the newest lines in the live file.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ap.conftest import SimBed
from tests.ap.test_supervisor import wait_for
from tests.conftest import need_binary

MAX, BACKUPS = 4096, 2


def _text(path: Path) -> str:
    """A log with its rotated backups, oldest first."""
    parts = [path.with_name(f"{path.name}.{n}") for n in range(BACKUPS, 0, -1)] + [path]
    return "".join(p.read_text(errors="replace") for p in parts if p.exists())


def _run_once(bed: SimBed, logs: Path) -> None:
    """`r2wifi run` until it supervises, SIGTERM, then `down`."""
    proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(bed.config)],
                            env=bed.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        runs = _text(logs / "supervisor.log").count("supervising")
        wait_for(lambda: _text(logs / "supervisor.log").count("supervising") > runs or proc.poll() is not None,
                 120, "the supervisor")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    down = bed.cli("down", "--config", str(bed.config))
    assert down.returncode == 0, down.stderr


@pytest.mark.root
def test_logs_survive_a_restart_and_rotate(sim_bed: SimBed) -> None:
    need_binary("hostapd")
    need_binary("dnsmasq")
    logs = sim_bed.root / "varlog"
    sim_bed.env.pop("R2WIFI_LOG_DIR", None)  # the configuration decides, not the suite's default
    sim_bed.write_config(f'[log]\ndir = "{logs}"\nmax_bytes = {MAX}\nbackups = {BACKUPS}\n')

    _run_once(sim_bed, logs)
    first = {name: _text(logs / f"{name}.log") for name in ("launcher", "supervisor", "hostapd-ap0")}
    for name, text in first.items():
        assert text, f"{name}.log is empty after the first run"
    assert not (sim_bed.state / "ap" / "supervisor.log").exists()  # not in the state dir any more
    assert not (sim_bed.state / "logs" / "hostapd-ap0.log").exists()

    _run_once(sim_bed, logs)
    for name, text in first.items():
        now = _text(logs / f"{name}.log")
        kept = text.splitlines()[-1]  # the first run's last line is still there after the second run
        assert kept in now and len(now) > len(text), name
    assert _text(logs / "hostapd-ap0.log").count("r2wifi: started") >= 2
    assert _text(logs / "supervisor.log").count("supervising") >= 2

    # rotation: the supervisor's and the launcher's writers with the limits of this configuration
    # (the same RotatingLog the log pump of hostapd uses; tests/test_logdir.py drives each writer)
    for name in ("launcher", "supervisor", "hostapd-ap0"):
        files = sorted(p.name for p in logs.iterdir() if p.name.startswith(f"{name}.log"))
        assert len(files) <= 1 + BACKUPS, files
        for p in logs.iterdir():
            if p.name.startswith(f"{name}.log"):
                assert p.stat().st_size <= MAX, p
