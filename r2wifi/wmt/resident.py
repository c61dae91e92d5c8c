"""Starting the resident launcher in the background (``chip launch --daemon``, the chip steps of ``up``).

Theory of operation: :func:`start_resident` checks what a start needs (no live launcher that has not
powered the chip, /dev/stpwmt present, usable patch files), then starts :func:`r2wifi.wmt.launcher.run_resident`
detached and returns once the launcher's state record (``launcher.json``, :mod:`r2wifi.wmt.state`) says
the chip is powered, or raises :class:`UserError` with the launcher's own cause.

* ``fork`` (the default when the calling process has one thread): no interpreter start-up, the modules
  are already imported. A double fork: the launcher is not a child of the caller (a supervisor that
  started it never holds its zombie), runs in a new session, points every inherited descriptor at
  /dev/null (no connection of the parent stays usable in it), keeps a pipe as stderr for a start-up
  error and lets go of it once the chip is powered (its end of file wakes the waiting parent at once;
  with no such process it means the launcher is gone) and makes fresh backend connections
  with ``make_backend``.
* ``spawn`` (when threads run, e.g. inside the supervisor, where a fork could inherit a held lock):
  one ``python -m r2wifi chip launch --daemon`` (which forks the launcher as above and exits once the
  chip is powered), once.
* ``meanwhile`` (optional): work the caller does while a forked launcher powers the chip (``up`` imports
  the modules of its later steps there: on the two-core board the launcher's start-up and the
  caller's imports then run side by side). It runs in the caller, after the fork, before the first
  look at the state record; an ImportError in it is left for the step that needs the module.
* The pid file is the launcher's lock (:class:`r2wifi.wmt.state.LauncherLock`); the launcher is only
  ever stopped by that pid.

The caller picks the backend (``backend_name`` for a spawned child, ``make_backend`` for a forked one):
:mod:`r2wifi.wmt` does not import the simulator.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from r2wifi.errors import UserError
from r2wifi.records import field, record
from r2wifi.wmt import driver, state
from r2wifi.wmt.backend import Backend

#: the first and the longest wait between two looks at the launcher's state record while it powers the
#: chip (the wait grows by half each time: a quick start is seen at once, a slow one costs little CPU,
#: which on the board is shared with the launcher doing the work)
POLL_S = 0.005
POLL_MAX_S = 0.05


@record
class Started:
    """The result of :func:`start_resident`."""

    pid: int | None
    already: bool  # a launcher was running and had powered the chip: nothing started
    elapsed_s: float = 0.0
    patches: list[str] = field(default_factory=list)


class _Child:
    """The double-forked launcher, seen from the caller: its pid and the read end of its stderr pipe (the
    launcher writes a start-up error there, and lets go of the pipe once the chip is powered)."""

    def __init__(self, pid: int, err_fd: int) -> None:
        self.pid = pid
        self.err_fd = err_fd
        self.eof = False
        self.text = b""

    def _drain(self) -> None:
        while self.err_fd >= 0 and not self.eof:
            try:
                b = os.read(self.err_fd, 4096)
            except BlockingIOError:
                return
            if not b:  # the launcher let go of the pipe: it powered the chip, or it is gone
                self.eof = True
                return
            self.text += b

    def poll(self) -> bool:
        """True once the launcher has exited."""
        self._drain()
        if not self.eof:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        return False

    def wait(self, timeout: float) -> None:
        """Up to ``timeout`` s, less when the launcher writes to the pipe or lets go of it."""
        if self.eof or self.err_fd < 0:
            time.sleep(timeout)
        else:
            select.select([self.err_fd], [], [], timeout)

    def error_text(self) -> str:
        self._drain()
        return self.text.decode(errors="replace")

    def detach(self) -> None:
        if self.err_fd >= 0:
            os.close(self.err_fd)
            self.err_fd = -1

    def stop(self) -> None:
        from r2wifi.procutil import terminate

        terminate(self.pid, grace=10.0)
        self.detach()


def _fork(make_backend: Callable[[], Backend], patch_dir: str, retries: int) -> _Child:
    rfd, wfd = os.pipe()
    pid_r, pid_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(wfd)
        os.close(pid_w)
        os.waitpid(pid, 0)  # the intermediate exits at once
        with os.fdopen(pid_r, "rb") as fh:
            raw = fh.read()
        if not raw.strip().isdigit():
            os.close(rfd)
            raise UserError("the launcher could not be started (fork failed)")
        os.set_blocking(rfd, False)
        return _Child(int(raw), rfd)
    rc = 2
    try:
        os.close(pid_r)
        os.setsid()
        grandchild = os.fork()
        if grandchild:
            os.write(pid_w, str(grandchild).encode())
            os._exit(0)
        os.close(pid_w)
        from r2wifi.procutil import detach_descriptors

        detach_descriptors(keep={wfd}, reset=(signal.SIGTERM, signal.SIGINT, signal.SIGPIPE))
        os.dup2(wfd, 2)  # a start-up error reaches the parent through the pipe
        os.close(wfd)
        from r2wifi.wmt.launcher import run_resident

        def release() -> None:
            """Powered: the start-up is over, so the pipe's end of file wakes the waiting parent at once."""
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)

        rc = run_resident(make_backend(), patch_dir, stream=None, power_tries=retries, make_backend=make_backend,
                          on_powered=release)
    except UserError as e:
        _write_fd(2, f"r2wifi: error: {e}\n")
    except BaseException as e:  # noqa: B036 - the child must never return into the parent's stack
        _write_fd(2, f"r2wifi: error: launcher: {type(e).__name__}: {e}\n")
    finally:
        os._exit(rc)


def _spawn(backend_name: str, patch_dir: str, retries: int, timeout: float) -> Started:
    """One ``r2wifi chip launch --daemon`` process (it forks the launcher and returns once it powered the chip)."""
    import subprocess  # only here: `up`, single-threaded, forks (and subprocess costs ~20 ms to import on the board)

    t0 = time.monotonic()
    argv = [sys.executable, "-m", "r2wifi", "--backend", backend_name, "chip", "launch", "--daemon", "--quiet",
            "-p", patch_dir, "--retries", str(retries), "--timeout", f"{timeout:g}"]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout + 30, start_new_session=True)
    except subprocess.TimeoutExpired:
        raise UserError(f"'r2wifi chip launch --daemon' did not finish within {timeout + 30:g} s") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise UserError(lines[-1].removeprefix("r2wifi: error: ") if lines else f"exit status {proc.returncode}")
    st = state.read_state()
    return Started(st.get("pid"), False, time.monotonic() - t0,
                   [Path(p["path"]).name for p in st.get("patches") or []])


def _write_fd(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode())
    except OSError:
        pass


def start_resident(backend: Backend, patch_dir: str = driver.DEFAULT_PATCH_DIR, *, backend_name: str,
                   make_backend: Callable[[], Backend], retries: int = driver.LAUNCHER_POWER_TRIES,
                   timeout: float = 60.0, method: str | None = None,
                   meanwhile: Callable[[], object] | None = None) -> Started:
    """Start the launcher detached and return once the chip is powered (see the module docstring)."""
    from r2wifi.wmt.firmware import check_patches
    from r2wifi.wmt.loader import is_char

    st = state.read_state()
    if st.get("alive"):
        if st.get("powered"):
            return Started(st.get("pid"), True)
        raise UserError(f"another launcher is running (pid {st.get('pid')}) and has not powered the chip "
                        f"({st.get('last_error') or st.get('phase') or 'starting'}); see 'r2wifi chip status'")
    if not is_char(backend.stat_node(driver.STPWMT)):
        raise UserError("/dev/stpwmt is missing: run 'r2wifi chip init' first")
    pset = check_patches(Path(patch_dir), display_dir=patch_dir)
    errors = [f for f in pset.findings if f.level == "error"]
    if errors:
        e = errors[0]
        raise UserError(f"patch files in {patch_dir}: {e.path}: {e.message}", hint=e.fix or None)
    patch_dir = os.path.abspath(patch_dir)
    if method is None:
        method = "fork" if threading.active_count() == 1 else "spawn"
    if method == "spawn":
        return _spawn(backend_name, patch_dir, retries, timeout)
    t0 = time.monotonic()
    child = _fork(make_backend, patch_dir, retries)
    if meanwhile is not None:
        try:
            meanwhile()
        except ImportError:
            pass  # the step that imports it for real reports it
    deadline = t0 + timeout
    poll = POLL_S
    while True:
        st = state.read_state()
        mine = st.get("pid") == child.pid
        if mine and st.get("powered") and st.get("alive"):
            child.detach()
            return Started(child.pid, False, time.monotonic() - t0,
                           [Path(p["path"]).name for p in st.get("patches") or []])
        if child.poll():
            err = child.error_text().strip().splitlines()
            why = (st.get("last_error") if mine else None) or (err[-1] if err else "it exited")
            why = why.removeprefix("r2wifi: error: ")
            raise UserError(f"the launcher exited before the chip was powered: {why}")
        if mine and st.get("power_gave_up"):
            child.stop()
            raise UserError(f"chip power-on failed {retries} time(s): {st.get('last_error')}")
        if time.monotonic() > deadline:
            child.stop()
            why = st.get("last_error") if mine else None
            raise UserError(f"the chip was not powered within {timeout:g} s"
                            + (f": {why}" if why else " (see launcher.log)"))
        child.wait(poll)  # woken early when the launcher powered the chip, complains or exits
        poll = min(poll * 1.5, POLL_MAX_S)
