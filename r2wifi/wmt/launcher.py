"""The resident launcher (replaces ``stp_uart_launcher -p DIR``, SOC/BTIF flow, driver-interface.md 2.5).

Theory of operation:

* ``setup()``: open ``/dev/stpwmt`` (retry every 300 ms; the kernel gives EIO while the WMT
  core is not ready), WMT_QUERY_CHIPID until it is not -1, then the SOC flow: SET_PATCH_NAME
  (empty, NUL padded to 256), SET_STP_MODE(0x23: BTIF full + FM over COMM), COREDUMP_CTRL(0),
  SET_LAUNCHER_KILL(0), GET_APO_FLAG (EINVAL on this kernel: treated as "always on").
* Power thread: LPBK_POWER_CTRL(1) blocks for seconds while the kernel powers the chip and
  asks for ``srh_patch``; on failure LPBK_POWER_CTRL(0), wait 1 s, retry, at most 20 tries.
  It must not be the thread that answers the command channel.
* Main loop (:func:`run_resident`): poll 2000 ms, read, feed :class:`~r2wifi.wmt.protocol.CommandChannel`,
  perform the actions it returns (GET_CHIP_INFO, listing, 28-byte header reads, SET_PATCH_*
  ioctls, the reply write). Every later ``srh_patch`` (chip reset) is answered the same way.
* Stop (SIGTERM/SIGINT, or ``stop()``): SET_LAUNCHER_KILL(1), close, release the lock. Like the
  vendor's, SIGHUP is logged and ignored (a closed terminal or a reloading parent does not stop it) and
  SIGPIPE is ignored. LPBK stays on: the chip stays powered.

Every exchange is logged with a timestamp (``cmd(srh_patch) resp(ok)``) to stderr and
``launcher.log``; the state record ``launcher.json`` (see :mod:`r2wifi.wmt.state`) tells
others whether the chip is powered.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from r2wifi.errors import UserError
from r2wifi.logdir import LogSink, iso_prefix, iso_stamp, open_file
from r2wifi.wmt import driver, ioctls, protocol
from r2wifi.wmt.backend import Backend, DeviceHandle
from r2wifi.wmt.state import LauncherLock, files, write_state

STPWMT = driver.STPWMT
OPEN_RETRY_S = driver.OPEN_RETRY_S
POLL_MS = driver.LAUNCHER_POLL_MS
POWER_TRIES = driver.LAUNCHER_POWER_TRIES
POWER_RETRY_S = driver.LAUNCHER_POWER_RETRY_S
STP_MODE_SOC = driver.STP_MODE_SOC


class LauncherLog:
    """Timestamped lines to stderr (optional) and to launcher.log (rotated; :func:`r2wifi.logdir.open_log`)."""

    def __init__(self, path: Path | None, stream: TextIO | None = sys.stderr) -> None:
        self.path = path
        self.stream = stream
        self._lock = threading.RLock()  # re-entered when a signal handler logs mid-write
        self._fh: LogSink | None = None
        if path is not None:
            self._fh = open_file(path, tag="r2wifi-launcher", stamp=iso_prefix)

    def __call__(self, text: str) -> None:
        now = time.time()
        body = f"launcher[{os.getpid()}]: {text}"
        with self._lock:
            if self.stream is not None:
                try:
                    self.stream.write(f"{iso_stamp(now)} {body}\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass
            if self._fh is not None:
                try:
                    self._fh.write_line(body.encode("utf-8", "replace"), now)
                except (OSError, ValueError):
                    pass

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None



class Launcher:
    def __init__(self, backend: Backend, patch_dir: str = "/etc/firmware", *,
                 log: Callable[[str], None] = lambda _s: None,
                 state_base: Path | None = None,
                 open_timeout: float | None = None,
                 power_tries: int = POWER_TRIES,
                 power_retry_s: float = POWER_RETRY_S,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 on_powered: Callable[[], None] = lambda: None) -> None:
        self.backend = backend
        self.on_powered = on_powered  # called once the state record says powered (each time it does)
        self.patch_dir = patch_dir
        self.log = log
        self.state_base = state_base
        self.open_timeout = open_timeout
        self.power_tries = power_tries
        self.power_retry_s = power_retry_s
        self.clock = clock
        self.sleep = sleep
        self.channel = protocol.CommandChannel(patch_dir)
        self.handle: DeviceHandle | None = None
        self.stopping = threading.Event()
        self._state_lock = threading.Lock()
        self.power_thread: threading.Thread | None = None
        self.state: dict[str, Any] = {
            "pid": os.getpid(),
            "backend": backend.name,
            "patch_dir": patch_dir,
            "started_at": time.time(),
            "chip_id": None,
            "powered": False,
            "power_attempts": 0,
            "power_gave_up": False,
            "patches": [],
            "srh_patch_count": 0,
            "last_exchange": None,
            "last_error": None,
            "phase": "starting",
        }

    # -- helpers ---------------------------------------------------------------------------

    def _num(self, name: str) -> int:
        return ioctls.number(name, self.backend.abi)

    def _ioctl(self, name: str, arg: int | bytes = 0) -> int:
        assert self.handle is not None
        return self.handle.ioctl(self._num(name), arg)

    def update(self, **changes: Any) -> None:
        with self._state_lock:
            self.state.update(changes)
            try:
                write_state(self.state, self.state_base)
            except OSError as e:  # state is advisory; never kill the launcher over it
                self.log(f"cannot write launcher.json: {e.strerror}")

    # -- start-up --------------------------------------------------------------------------

    def open_device(self) -> None:
        deadline = None if self.open_timeout is None else self.clock() + self.open_timeout
        tries = 0
        while True:
            try:
                self.handle = self.backend.open(STPWMT)
                self.log(f"open device node succeed.(Node:{STPWMT})")
                return
            except OSError as e:
                tries += 1
                if tries == 1 or tries % 10 == 0:
                    self.log(f"Can't open device node({STPWMT}) error:{e.errno}")
                if deadline is not None and self.clock() + OPEN_RETRY_S > deadline:
                    hint = "run 'r2wifi chip init' first" if e.errno == errno.ENOENT else "the WMT core is not ready"
                    raise UserError(f"cannot open {STPWMT} ({e.strerror or e}): {hint}") from None
            if self.stopping.is_set():
                raise UserError("stopped before /dev/stpwmt could be opened")
            self.sleep(OPEN_RETRY_S)

    def query_chip_id(self) -> int:
        deadline = None if self.open_timeout is None else self.clock() + self.open_timeout
        while True:
            try:
                chip = self._ioctl("WMT_IOCTL_WMT_QUERY_CHIPID", 0)
            except OSError:
                chip = -1
            if chip not in (-1, 0xFFFFFFFF):
                self.log(f"chip id is 0x{chip:x}")
                return chip
            if deadline is not None and self.clock() + OPEN_RETRY_S > deadline:
                raise UserError("WMT_QUERY_CHIPID stays -1: the loader has not run (r2wifi chip init)")
            if self.stopping.is_set():
                raise UserError("stopped while waiting for the chip id")
            self.sleep(OPEN_RETRY_S)

    def setup(self) -> None:
        self.open_device()
        chip = self.query_chip_id()
        self.update(chip_id=f"0x{chip:04x}", phase="setup")
        self.log("run SOC chip flow")
        self._ioctl("WMT_IOCTL_SET_PATCH_NAME", b"\0" * 256)
        self._ioctl("WMT_IOCTL_SET_STP_MODE", STP_MODE_SOC)
        try:
            self._ioctl("WMT_IOCTL_WMT_COREDUMP_CTRL", 0)
        except OSError as e:
            self.log(f"COREDUMP_CTRL(0): {e.strerror} (ignored)")
        self._ioctl("WMT_IOCTL_SET_LAUNCHER_KILL", 0)
        try:
            apo = self._ioctl("WMT_IOCTL_GET_APO_FLAG", 0)
            self.log(f"APO flag {apo}")
        except OSError as e:
            self.log(f"GET_APO_FLAG: {e.strerror} (expected on this kernel): always power on")

    # -- power thread ----------------------------------------------------------------------

    def power_on(self) -> bool:
        self.log("enter power on connsys flow")
        for attempt in range(1, self.power_tries + 1):
            if self.stopping.is_set():
                return False
            self.update(power_attempts=attempt, phase="powering")
            try:
                self._ioctl("WMT_IOCTL_LPBK_POWER_CTRL", 1)
            except OSError as e:
                cause = self._failure_cause(e)
                self.log(f"power on 1 failed, retrying, retry counter:{attempt} ({cause})")
                self.update(last_error=cause)
                try:
                    self._ioctl("WMT_IOCTL_LPBK_POWER_CTRL", 0)
                except OSError:
                    pass
                if attempt < self.power_tries and not self.stopping.wait(self.power_retry_s):
                    continue
                break
            else:
                self.log(f"chip powered (patches: {', '.join(p for _s, p in self.channel.last_patches) or 'none'})")
                self.update(powered=True, phase="serving", last_error=None)
                self.on_powered()
                return True
        if not self.stopping.is_set():
            self.log(f"chip power-on failed {self.power_tries} times, giving up (still serving commands)")
            self.update(power_gave_up=True, phase="serving")
        return False

    def _failure_cause(self, err: OSError) -> str:
        last = self.state.get("last_exchange")
        what = f"LPBK_POWER_CTRL(1): {errno.errorcode.get(err.errno or 0, err.errno)}"
        if last and last.get("resp") != "ok":
            return f"{what}; srh_patch answered {last.get('resp')!r} ({last.get('note') or 'handler failed'})"
        if last and not self.state.get("patches"):
            return f"{what}; no {self.channel._srh.prefix or 'ROMv2_lm_patch'}* patch accepted in {self.patch_dir}"
        if last is None:
            return f"{what}; the kernel never asked for srh_patch (chip did not power up; check dmesg)"
        return f"{what}; patches announced but the download failed (check the files and dmesg)"

    def start_power_thread(self) -> threading.Thread:
        self.power_thread = threading.Thread(target=self.power_on, name="pwr-on", daemon=True)
        self.power_thread.start()
        self.log("create pwr on thread ok")
        return self.power_thread

    # -- command channel -------------------------------------------------------------------

    def handle_once(self, timeout_ms: int = POLL_MS) -> bool:
        """One poll/read/answer round. Returns True when a command was answered."""
        assert self.handle is not None
        if not self.handle.poll(timeout_ms):
            return False
        data = self.handle.read(256)
        return self.feed(data)

    def feed(self, data: bytes) -> bool:
        actions = self.channel.receive(protocol.CommandRead(data))
        answered = False
        note = ""
        while actions:
            nxt: list[protocol.Action] = []
            for act in actions:
                if isinstance(act, protocol.Log):
                    self.log(act.text)
                    if act.text.startswith(("open patch dir", "no ", "incomplete ", "skip ", "chip mt", "GET_CHIP_INFO")):
                        note = act.text
                elif isinstance(act, protocol.Ioctl):
                    try:
                        self._ioctl(act.name, act.arg)
                    except OSError as e:
                        self.log(f"{act.name} failed: {e.strerror or e}")
                        note = f"{act.name} failed: {e.strerror or e}"
                elif isinstance(act, protocol.Reply):
                    assert self.handle is not None
                    try:
                        self.handle.write(act.data)
                    except OSError as e:
                        self.log(f"reply {act.text!r} not delivered: {e.strerror or e}")
                    answered = True
                    self._record(act, note)
                else:
                    nxt = self.channel.receive(self._perform(act))
            actions = nxt
        return answered

    def _perform(self, act: protocol.Action) -> protocol.Event:
        if isinstance(act, protocol.GetChipInfo):
            try:
                return protocol.ChipInfo(self._ioctl("WMT_IOCTL_GET_CHIP_INFO", act.which))
            except OSError:
                return protocol.ChipInfo(None)
        if isinstance(act, protocol.ListDir):
            try:
                return protocol.Listing(os.listdir(act.path))
            except OSError as e:
                return protocol.Listing(None, e.strerror or str(e))
        if isinstance(act, protocol.ReadHeader):
            try:
                with open(act.path, "rb") as fh:
                    return protocol.Header(fh.read(act.size))
            except OSError as e:
                return protocol.Header(None, e.strerror or str(e))
        raise protocol.ProtocolError(f"unknown action {act!r}")

    def _record(self, reply: protocol.Reply, note: str) -> None:
        changes: dict[str, Any] = {
            "last_exchange": {"cmd": reply.command, "resp": reply.text, "at": time.time(), "note": note or None},
        }
        if reply.command.startswith("srh_patch"):
            changes["srh_patch_count"] = int(self.state.get("srh_patch_count", 0)) + 1
            changes["patches"] = [{"seq": s, "path": p} for s, p in self.channel.last_patches]
        self.update(**changes)

    # -- stop ------------------------------------------------------------------------------

    def stop(self) -> None:
        self.stopping.set()

    def shutdown(self, fresh_backend: Backend | None = None) -> None:
        """LAUNCHER_KILL(1) on a fresh handle, then close.

        ``fresh_backend``: a new backend connection to use when the main one was interrupted
        mid-call by a signal (a transport such as the simulator's socket may be out of step).
        """
        self.stopping.set()
        try:
            h = (fresh_backend or self.backend).open(STPWMT)
            try:
                h.ioctl(self._num("WMT_IOCTL_SET_LAUNCHER_KILL"), 1)
            finally:
                h.close()
            self.log("SET_LAUNCHER_KILL(1): launcher leaving")
        except OSError as e:
            self.log(f"SET_LAUNCHER_KILL(1) failed: {e.strerror or e}")
        self.update(phase="stopped", powered=False)
        if self.handle is not None:
            try:
                self.handle.close()
            except OSError:
                pass
            self.handle = None


def run_resident(backend: Backend, patch_dir: str, *, stream: TextIO | None = sys.stderr,
                 power_tries: int = POWER_TRIES, open_timeout: float | None = None,
                 make_backend: Callable[[], Backend] | None = None,
                 on_powered: Callable[[], None] = lambda: None) -> int:
    """The `chip launch` process: lock, set up, power thread, serve until SIGTERM/SIGINT.

    ``on_powered``: called (in the power thread) right after the state record says the chip is powered.

    ``make_backend``: makes a fresh connection of the same backend for the final LAUNCHER_KILL(1) when
    a signal interrupted a call on the main one (the caller picks the backend; wmt never imports sim).
    """
    import signal

    from r2wifi.wmt.state import vendor_launchers

    f = files()
    if backend.name == "real" and (vendor := vendor_launchers()):
        raise UserError(f"the vendor stp_uart_launcher is running (pid {vendor[0]}) and serves /dev/stpwmt; "
                        "stop it first (two launchers confuse the kernel's patch counter)")
    lock = LauncherLock()
    holder = lock.acquire()
    if holder is not None:
        raise UserError(f"another launcher is running (pid {holder}); stop it first or use 'r2wifi chip status'")
    log = LauncherLog(f.log, stream)
    launcher = Launcher(backend, patch_dir, log=log, power_tries=power_tries, open_timeout=open_timeout,
                        on_powered=on_powered)

    class _Stop(BaseException):  # not swallowed by any "except Exception" below us
        pass

    in_poll = threading.Event()
    interrupted = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        launcher.log(f"signal {signal.Signals(signum).name}: stopping")
        launcher.stop()
        if in_poll.is_set():
            interrupted.set()
            raise _Stop

    def on_hup(_signum: int, _frame: object) -> None:
        launcher.log("signal SIGHUP: ignored")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        launcher.update(phase="opening")
        launcher.setup()
        launcher.start_power_thread()
        last_err = ""
        while not launcher.stopping.is_set():
            try:
                in_poll.set()
                launcher.handle_once()
                last_err = ""
            except _Stop:
                break
            except OSError as e:
                text = f"command channel: {e.strerror or e}"
                if text != last_err:  # log a persistent error once, not every 300 ms
                    launcher.log(text)
                    launcher.update(last_error=text)
                    last_err = text
                launcher.stopping.wait(OPEN_RETRY_S)
            finally:
                in_poll.clear()
        return 0
    except _Stop:
        return 0
    except UserError as e:
        if launcher.stopping.is_set():  # asked to stop while still opening: not a failure
            return 0
        launcher.update(last_error=str(e), phase="failed")
        raise
    except Exception as e:  # recorded for the --daemon parent, then re-raised
        launcher.update(last_error=f"{type(e).__name__}: {e}", phase="failed")
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        fresh: Backend | None = None
        if interrupted.is_set() and make_backend is not None:
            try:
                fresh = make_backend()
            except (UserError, OSError):
                fresh = None
        launcher.shutdown(fresh)
        log.close()
        lock.release()
