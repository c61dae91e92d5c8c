"""The chip steps of ``r2wifi up`` / the supervisor, behind one small interface.

Rules: these steps belong to the chip engineer's commands (``r2wifi chip init``, ``chip launch
--daemon``, ``wifi ap|sta|off``); r2wifi's AP code calls them as ``r2wifi`` subprocesses with the
same ``--backend`` (a documented, stable seam: the commands are idempotent and return when the
chip is powered / the mode is set). A failure becomes a :class:`UserError` carrying the
command's last error line. The launcher is only ever stopped by the pid from its lock file
(:func:`r2wifi.wmt.state.launcher_pid`), never by name.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Protocol

from r2wifi.errors import UserError


class ChipOps(Protocol):
    def init(self) -> None: ...
    def launch(self) -> bool: ...  # True if it started a launcher (False: one was running)
    def wifi(self, mode: str) -> None: ...  # "ap" | "sta" | "off"
    def launcher_pid(self) -> int | None: ...
    def stop_launcher(self) -> bool: ...
    def reset(self) -> None: ...


class CliChipOps:
    def __init__(self, backend: str, *, firmware_dir: str = "/etc/firmware", names: str = "default",
                 timeout: float = 120.0) -> None:
        self.backend = backend
        self.firmware_dir = firmware_dir
        self.names = names
        self.timeout = timeout

    def _run(self, *args: str) -> str:
        argv = [sys.executable, "-m", "r2wifi", "--backend", self.backend, *args]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise UserError(f"'r2wifi {' '.join(args)}' did not finish within {self.timeout:g} s") from None
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            last = lines[-1].removeprefix("r2wifi: error: ") if lines else f"exit status {proc.returncode}"
            raise UserError(f"'r2wifi {' '.join(args)}' failed: {last}")
        return proc.stdout

    def init(self) -> None:
        self._run("chip", "init")

    def launch(self) -> bool:
        before = self.launcher_pid()
        self._run("chip", "launch", "--daemon", "--quiet", "-p", self.firmware_dir)
        return before is None and self.launcher_pid() is not None

    def wifi(self, mode: str) -> None:
        self._run("wifi", mode, "--names", self.names)

    def launcher_pid(self) -> int | None:
        from r2wifi.wmt.state import launcher_pid

        pid = launcher_pid()
        return pid if pid and pid > 0 else None

    def stop_launcher(self) -> bool:
        pid = self.launcher_pid()
        if pid is None:
            return False
        from r2wifi.procutil import terminate

        terminate(pid, grace=10.0)
        return True

    def reset(self) -> None:
        """Whole-chip reset: WiFi off, launcher stopped and started again (patches re-sent)."""
        try:
            self.wifi("off")
        except UserError:
            pass  # a stalled chip may refuse; the relaunch below is the real reset
        self.stop_launcher()
        self.launch()
