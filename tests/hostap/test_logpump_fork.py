"""The forked log pump: stamps and rotates like the spawned one, and keeps nothing of its parent."""

from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

from r2wifi.hostap.logpump import fork_pump


def test_forked_pump_stamps_lines_and_ends_at_end_of_input(tmp_path: Path) -> None:
    """Lines written to the pipe land stamped after the banner; closing the pipe ends the pump (exit 0)."""
    r, w = os.pipe()
    pump = fork_pump(r, str(tmp_path / "d.log"), max_bytes=1 << 20, backups=2, banner="r2wifi: started d")
    os.close(r)
    os.write(w, b"one\r\ntwo\n")
    os.close(w)
    assert pump.wait(timeout=60) == 0
    lines = (tmp_path / "d.log").read_text().splitlines()
    assert [re.sub(r"^\d+\.\d{6}: ", "", ln) for ln in lines] == ["r2wifi: started d", "one", "two"]
    assert all(re.match(r"^\d+\.\d{6}: ", ln) for ln in lines)


def test_forked_pump_holds_no_lock_and_no_descriptor_of_its_parent(tmp_path: Path) -> None:
    """A lock the parent holds is free once the parent lets go, while the pump still runs."""
    lock = tmp_path / "op.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    r, w = os.pipe()
    log = tmp_path / "d.log"
    pump = fork_pump(r, str(log), max_bytes=1 << 20, backups=2, banner="started")
    os.close(r)
    try:
        deadline = time.monotonic() + 60
        while "started" not in (log.read_text() if log.exists() else ""):  # written after the clean-up
            assert time.monotonic() < deadline, "the pump never wrote its banner"
            time.sleep(0.01)
        os.close(fd)  # the parent's only copy: if the pump had kept one, the lock would stay held
        probe = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if the pump held it
        finally:
            os.close(probe)
        assert pump.poll() is None  # still pumping: the test looked while it ran
        held = {os.readlink(f"/proc/{pump.pid}/fd/{n}") for n in os.listdir(f"/proc/{pump.pid}/fd")}
        assert not any(str(tmp_path / "op.lock") == h for h in held), held
    finally:
        os.close(w)
        assert pump.wait(timeout=60) == 0
