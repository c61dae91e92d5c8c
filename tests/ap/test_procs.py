"""The supervisor's pid file: only a process recorded with its start time is ever signalled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from r2wifi.service.procs import Procs, proc_starttime


def test_a_recorded_process_is_found_and_stopped(tmp_path: Path) -> None:
    """A pid file with the right start time is ours: stop() ends the process and removes the file."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "supervisor.pid").write_text(f"{child.pid} {proc_starttime(child.pid)}\n")
        procs = Procs(tmp_path)
        assert procs.pid("supervisor") == child.pid
        assert procs.stop("supervisor", grace=5) is True
        assert child.wait(timeout=5) == -15  # SIGTERM, not SIGKILL
        assert not (tmp_path / "supervisor.pid").exists()
        assert procs.stop("supervisor") is False
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_recycled_pid_is_not_ours(tmp_path: Path) -> None:
    """A pid file whose start time does not match the live process is ignored, never signalled."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "supervisor.pid").write_text(f"{other.pid} 12345\n")
        procs = Procs(tmp_path)
        assert procs.pid("supervisor") is None
        assert procs.stop("supervisor") is False
        assert other.poll() is None  # still running: not ours to kill
    finally:
        other.kill()
        other.wait()


def test_garbage_pid_files_are_ignored(tmp_path: Path) -> None:
    """Empty, non-numeric or dead-pid files mean 'not running'."""
    procs = Procs(tmp_path)
    for text in ("", "abc\n", f"{2**22 + 7} 1\n"):
        (tmp_path / "supervisor.pid").write_text(text)
        assert procs.pid("supervisor") is None
    assert os.path.exists(tmp_path / "supervisor.pid")
