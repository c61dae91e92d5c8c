"""The chip steps of ``r2wifi up`` / the supervisor, behind one small interface.

Rules: the steps are those of the chip engineer's commands (``r2wifi chip init``, ``chip launch
--daemon``, ``wifi ap|sta|off``) and run **in this process** (:class:`InProcessChipOps`): the loader and
:class:`~r2wifi.wmt.wifi.WifiControl` are called directly, the resident launcher is forked from this
process (or spawned once when threads run, see :mod:`r2wifi.wmt.resident`). No step starts a new
interpreter, which costs 0.2-0.5 s plus imports on the board. A failure is a :class:`UserError` with the
step's own message. The launcher is only ever stopped by the pid from its lock file
(:func:`r2wifi.wmt.state.launcher_pid`), never by name.

``reset()`` is a real power cycle (driver-interface.md §11.2: a new launcher's LPBK(1) on a powered chip
is "func(4) already on" and resets nothing): WiFi off, BT off, LPBK_POWER_CTRL(0) (the last function
off powers the chip down), LPBK_POWER_CTRL(1) (full power-on; the running launcher answers ``srh_patch``
and the patches are downloaded again), then WiFi back in the mode it had. Without a running launcher
the power-on is the launcher's start. A WiFi on that answers EIO while a power-on is still running is
written again with a bounded backoff (:class:`~r2wifi.wmt.wifi.WifiControl`).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Protocol

from r2wifi.errors import UserError
from r2wifi.wmt import driver
from r2wifi.wmt.backend import Backend


class ChipOps(Protocol):
    def init(self) -> None: ...
    #: True if it started a launcher (False: one was running); ``meanwhile`` runs while the launcher powers the chip
    def launch(self, meanwhile: Callable[[], object] | None = None) -> bool: ...
    def wifi(self, mode: str) -> None: ...  # "ap" | "sta" | "off"
    def launcher_pid(self) -> int | None: ...
    def stop_launcher(self) -> bool: ...
    def reset(self) -> None: ...


class InProcessChipOps:
    """The chip steps as calls into :mod:`r2wifi.wmt` (see the module docstring)."""

    def __init__(self, backend: str, *, firmware_dir: str = driver.DEFAULT_PATCH_DIR, names: str = "default",
                 timeout: float = 120.0, make_backend: Callable[[], Backend] | None = None,
                 say: Callable[[str], None] = lambda _s: None) -> None:
        from r2wifi.backends import backend_factory, resolve

        self.backend_name = resolve(backend)
        self.firmware_dir = firmware_dir
        self.names = names
        self.timeout = timeout
        self.make_backend = make_backend or backend_factory(self.backend_name)
        self.say = say
        self._be: Backend | None = None
        self.mode = "off"  # the WiFi mode last set through these steps
        self.eio_retries = 0

    def _backend(self) -> Backend:
        """One backend for these steps (a simulator connection per thread); a forked launcher makes its own."""
        if self._be is None:
            self._be = self.make_backend()
        return self._be

    def init(self) -> None:
        from r2wifi.wmt.loader import Loader

        Loader(self._backend(), timeout=min(self.timeout, 10.0)).run()

    def launch(self, meanwhile: Callable[[], object] | None = None) -> bool:
        from r2wifi.service.simfw import patch_dir_for
        from r2wifi.wmt.resident import start_resident

        # the simulator brings its own set when the configured directory has none (r2wifi.service.simfw)
        res = start_resident(self._backend(), patch_dir_for(self.backend_name, self.firmware_dir),
                             backend_name=self.backend_name,
                             make_backend=self.make_backend, timeout=min(self.timeout, 60.0),
                             meanwhile=meanwhile)
        return not res.already

    def wifi(self, mode: str) -> None:
        from r2wifi.wmt.wifi import WifiControl

        ctl = WifiControl(self._backend(), names=self.names, timeout=min(self.timeout, 60.0), say=self.say)
        ctl.set_mode(mode)
        self.eio_retries += ctl.eio_retries
        self.mode = mode

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

    def current_mode(self) -> str:
        from r2wifi.wmt.wifi import current_mode

        return current_mode(self._backend().interfaces(), self.names)

    def reset(self) -> None:
        """Power cycle: WiFi and BT off, LPBK(0), LPBK(1) served by the running launcher, WiFi back."""
        from r2wifi.wmt import ioctls
        from r2wifi.wmt.state import read_state

        mode = self.current_mode()
        if mode == "off":
            mode = self.mode
        try:
            self.wifi("off")
        except UserError:
            pass  # a stalled chip may refuse; the power cycle below resets it anyway
        backend = self._backend()
        try:
            h = backend.open(driver.STPWMT)
        except OSError as e:
            raise UserError(f"chip reset: cannot open {driver.STPWMT}: {e.strerror or e}") from None
        try:
            func = ioctls.number("WMT_IOCTL_FUNC_ONOFF_CTRL", backend.abi)
            lpbk = ioctls.number("WMT_IOCTL_LPBK_POWER_CTRL", backend.abi)
            try:
                h.ioctl(func, driver.FUNC_BT)  # bit 31 clear: BT off
            except OSError:
                pass  # BT was not on
            try:
                h.ioctl(lpbk, 0)
            except OSError as e:
                raise UserError(f"chip reset: LPBK_POWER_CTRL(0) failed: {errno.errorcode.get(e.errno or 0)}") from None
            st = read_state()
            if st.get("alive"):
                try:
                    h.ioctl(lpbk, 1)  # blocks while the launcher answers srh_patch
                except OSError as e:
                    raise UserError(f"chip reset: the power-on after the power-down failed "
                                    f"({errno.errorcode.get(e.errno or 0)}); see 'r2wifi chip status' and "
                                    "the kernel log") from None
        finally:
            h.close()
        if not read_state().get("alive"):
            self.launch()
        if mode != "off":
            self.wifi(mode)


CliChipOps = InProcessChipOps  # the former name (the steps ran as `r2wifi` subprocesses); kept for callers
