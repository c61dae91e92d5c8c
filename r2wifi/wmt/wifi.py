"""WiFi mode through ``/dev/wmtWifi`` (driver-interface.md 3): off, station, AP.

Theory of operation:

* The driver takes one character: ``0`` off, ``1`` station (``wlan0``), ``A`` soft AP
  (``wlan0`` + ``ap0``), ``S``/``P`` station + P2P (``wlan0`` + ``p2p0``). Each write blocks
  while the chip works and fails with EIO for *every* problem.
* The current mode is read from the interfaces present; switching between two "on" modes goes
  through off (write ``0``, wait until the WiFi interfaces are gone) so that no stale netdev
  survives.
* After a write we *wait* for the interfaces instead of sleeping: over netlink (:mod:`r2wifi.net.rtnl`,
  inside ``backend.netns()`` when the simulator owns a namespace, or on the real board) with a
  deadline, or by polling ``backend.interfaces()`` for a non-root simulator.
* A WiFi on whose write returns EIO while the kernel's op is still running (the fixed 4 s op wait
  expired during a full chip power-on: "wait completion timeout" logged after our write, driver-interface
  §11.2) is written again after a bounded backoff (:data:`EIO_RETRY_DELAYS`), not reported as a failure.
* On EIO we explain the likely cause from what we can see: the launcher's state, whether
  wlan_gen2 is loaded, whether ``wlan0`` was renamed, and the kernel log lines written since
  the write (``no hif info!``, ``Set p2p mode handler is NULL``, ...): the cause and fix a kernel line tells
  is the ``hint`` of its entry in ``r2wifi/logs/catalog/wmt.py`` (the one table of WMT lines). See
  :func:`explain_eio`.

Interface names are configurable (``default``: wlan0/ap0/p2p0; ``mtk``: OpenWrt's
mtkwlan0/mtkap0/mtkp2p0).
"""

from __future__ import annotations

import errno
import os
import re
import select
import time
from collections.abc import Callable

from r2wifi.errors import UserError
from r2wifi.records import field, record
from r2wifi.wmt import driver
from r2wifi.wmt.backend import Backend
from r2wifi.wmt.loader import WMTWIFI, check_not_regular, is_char
from r2wifi.wmt.state import read_state

MODES = ("off", "sta", "ap", "p2p")
WRITE_CHAR = {"off": b"0", "sta": b"1", "ap": b"A", "p2p": b"S"}
NAMES: dict[str, dict[str, str]] = driver.NAME_SETS
POLL_S = 0.02
EIO_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 4.0)  # seconds before each new write of a WiFi on still powering up


def expected_interfaces(mode: str, names: str = "default") -> list[str]:
    n = NAMES[names]
    return {"off": [], "sta": [n["sta"]], "ap": [n["sta"], n["ap"]], "p2p": [n["sta"], n["p2p"]]}[mode]


def wifi_interfaces(present: list[str], names: str = "default") -> list[str]:
    ours = set(NAMES[names].values())
    return [i for i in present if i in ours]


def current_mode(present: list[str], names: str = "default") -> str:
    n = NAMES[names]
    have = set(present)
    if n["ap"] in have:
        return "ap"
    if n["p2p"] in have:
        return "p2p"
    if n["sta"] in have:
        return "sta"
    return "off"


@record
class ModeResult:
    mode: str
    previous: str
    interfaces: list[str]
    steps: list[dict[str, object]] = field(default_factory=list)
    elapsed_s: float = 0.0
    changed: bool = True

    def to_json(self) -> dict[str, object]:
        return {"mode": self.mode, "previous": self.previous, "interfaces": self.interfaces,
                "changed": self.changed, "steps": self.steps, "elapsed_s": round(self.elapsed_s, 4)}


# ---- waiting for interfaces -------------------------------------------------------------------


class InterfaceWatcher:
    """Waits until a predicate over the interface names holds. Netlink events when possible."""

    def __init__(self, backend: Backend, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, use_netlink: bool | None = None) -> None:
        self.backend = backend
        self.clock = clock
        self.sleep = sleep
        ns = backend.netns()
        self.netns = ns
        if use_netlink is None:
            use_netlink = (ns is not None or backend.name == "real") and os.geteuid() == 0
        self.use_netlink = use_netlink

    def wait(self, predicate: Callable[[list[str]], bool], timeout: float) -> tuple[bool, list[str]]:
        if self.use_netlink:
            try:
                return self._wait_netlink(predicate, timeout)
            except (ImportError, OSError):
                pass  # fall back to polling
        deadline = self.clock() + timeout
        while True:
            names = self.backend.interfaces()
            if predicate(names):
                return True, names
            if self.clock() >= deadline:
                return False, names
            self.sleep(POLL_S)

    def _wait_netlink(self, predicate: Callable[[list[str]], bool], timeout: float) -> tuple[bool, list[str]]:
        from r2wifi.net.rtnl import RTMGRP_LINK, Rtnl

        with Rtnl(self.netns) as rt, Rtnl(self.netns, groups=RTMGRP_LINK) as events:  # events wake us up

            def names() -> list[str]:
                return sorted(li.ifname for li in rt.links())

            deadline = self.clock() + timeout
            while True:
                now = names()
                if predicate(now):
                    return True, now
                left = deadline - self.clock()
                if left <= 0:
                    return False, now
                ready, _w, _x = select.select([events], [], [], min(left, 0.5))
                if ready:
                    events.drain()  # the listing above is the truth


# ---- EIO explanation ------------------------------------------------------------------------

def _records(raw: list[str]) -> list[tuple[int, str]]:
    """(seq, message) of /dev/kmsg records (``prio,seq,usec,flags;message``); a line without a seq gets its index."""
    out: list[tuple[int, str]] = []
    for n, rec in enumerate(raw):
        head, _sep, msg = rec.partition(";")
        parts = head.split(",")
        seq = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else n
        out.append((seq, msg.strip()))
    return out


def _read_kmsg(fd: int) -> list[str]:
    """Every record readable now from a non-blocking /dev/kmsg descriptor (one record per read)."""
    raw: list[str] = []
    while True:
        try:
            raw.append(os.read(fd, 8192).decode("utf-8", "replace"))
        except BlockingIOError:
            return raw
        except OSError as e:
            if e.errno == errno.EPIPE:  # records were overwritten under us: go on with the next one
                continue
            return raw


def kmsg_messages(backend: Backend) -> list[tuple[int, str]]:
    """(seq, message) of the kernel log records available now (non-blocking)."""
    path = backend.kmsg_path()
    try:
        if path == "/dev/kmsg":
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                return _records(_read_kmsg(fd))
            finally:
                os.close(fd)
        with open(path, encoding="utf-8", errors="replace") as fh:
            return _records(fh.read().splitlines())
    except OSError:
        return []


class KmsgSince:
    """The kernel log from now on: :meth:`messages` gives the records logged after this was made.

    Made before a write to /dev/wmtWifi, read only when the write failed. On /dev/kmsg it is a
    descriptor moved to the end (``SEEK_END``), so nothing older is read: a board up for weeks has
    thousands of records, one ``read`` each. On a file (the simulator's log) it is the file's size."""

    def __init__(self, backend: Backend) -> None:
        self.path = backend.kmsg_path()
        self._fd = -1
        self._offset = 0
        self._seen: list[str] = []
        try:
            if self.path == "/dev/kmsg":
                self._fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                os.lseek(self._fd, 0, os.SEEK_END)
            else:
                self._offset = os.path.getsize(self.path)
        except OSError:
            self.close()

    def messages(self) -> list[str]:
        """The messages logged since (each call adds what arrived meanwhile)."""
        try:
            if self._fd >= 0:
                self._seen += [m for _s, m in _records(_read_kmsg(self._fd))]
            elif self.path != "/dev/kmsg":
                with open(self.path, "rb") as fh:
                    fh.seek(self._offset)
                    data = fh.read()
                self._offset += len(data)
                self._seen += [m for _s, m in _records(data.decode("utf-8", "replace").splitlines())]
        except OSError:
            pass
        return list(self._seen)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def kernel_hint(messages: list[str], sta: str = "wlan0") -> str | None:
    """The cause of an EIO told by kernel lines: the ``hint`` of the catalogue entries they are (the first of
    :data:`~r2wifi.logs.catalog.wmt.HINTS` among them), with the interface the line names or ``sta``."""
    from r2wifi.logs.catalog import wmt as catalog

    best: tuple[int, str] | None = None
    for msg in messages:
        hit = catalog.classify(msg)
        hint = hit[0].hint if hit is not None else None
        if hit is None or hint is None:
            continue
        rank = catalog.HINTS.index(hint)
        if best is None or rank < best[0]:
            best = (rank, hint.format(name=hit[1].get("dev", sta)))
    return best[1] if best else None


def explain_eio(backend: Backend, names: str = "default", since: KmsgSince | None = None) -> str:
    """One sentence naming the most likely cause of an EIO from /dev/wmtWifi (kernel lines: those logged
    ``since``, else every record there is)."""
    st = read_state()
    new = since.messages() if since is not None else [m for _s, m in kmsg_messages(backend)]
    sta = NAMES[names]["sta"]
    hint = kernel_hint(new, sta)
    if hint is not None:
        return hint
    if not st.get("alive"):
        return "the launcher is not running: start it with 'r2wifi chip launch --daemon'"
    if not st.get("powered"):
        return "the launcher has not powered the chip yet (see 'r2wifi chip status' and launcher.log)"
    try:
        if not backend.module_loaded("wlan_gen2") and backend.name == "real":
            return "wlan_gen2 is not loaded: run 'modprobe wlan_gen2'"
    except OSError:
        pass
    present = backend.interfaces()
    if sta not in present and any(re.match(r"^(wl|wlx|wlp)", i) for i in present):
        return f"{sta} seems to have been renamed by udev ({', '.join(present)}); the driver needs the name {sta}"
    return "the driver gave no reason (see 'dmesg' for [MTK-WIFI] / WMT lines)"


_OP_TIMEOUT_LINES = frozenset({"op_wait_timeout", "opid_failed", "opid_fail", "wifi_on_fail"})


def op_still_running(since: KmsgSince) -> bool:
    """True when the kernel's op outlived its wait: "wait completion timeout" logged ``since`` and no
    failure of the op logged after that line (a power-on that is still going, or that finished well)."""
    from r2wifi.logs.catalog import wmt as catalog

    running = False
    for msg in since.messages():
        hit = catalog.classify(msg)
        if hit is None:
            continue
        if hit[0].key == "op_wait_timeout":
            running = True
        elif running and hit[0].verdict == "failure" and hit[0].key not in _OP_TIMEOUT_LINES:
            running = False
    return running


class _Eio(Exception):
    """Internal: /dev/wmtWifi answered EIO."""


# ---- mode switching -------------------------------------------------------------------------


class WifiControl:
    def __init__(self, backend: Backend, names: str = "default", timeout: float = 60.0,
                 watcher: InterfaceWatcher | None = None, clock: Callable[[], float] = time.monotonic,
                 load_module: bool = True, say: Callable[[str], None] = lambda _s: None,
                 sleep: Callable[[float], None] = time.sleep,
                 eio_retry_delays: tuple[float, ...] = EIO_RETRY_DELAYS) -> None:
        if names not in NAMES:
            raise UserError(f"--names: {names!r} is not one of {', '.join(NAMES)}")
        self.backend = backend
        self.names = names
        self.timeout = timeout
        self.clock = clock
        self.watcher = watcher or InterfaceWatcher(backend, clock=clock)
        self.load_module = load_module
        self.load_error = ""
        self.say = say
        self.sleep = sleep
        self.eio_retry_delays = eio_retry_delays
        self.eio_retries = 0  # writes repeated because a power-on was still running

    def status(self) -> dict[str, object]:
        present = self.backend.interfaces()
        return {
            "node": is_char(self.backend.stat_node(WMTWIFI)),
            "mode": current_mode(present, self.names),
            "interfaces": wifi_interfaces(present, self.names),
            "names": self.names,
            "netns": self.backend.netns(),
        }

    def _write(self, mode: str) -> None:
        delays = list(self.eio_retry_delays) if mode != "off" else []
        while True:
            since = KmsgSince(self.backend)
            try:
                self._write_once(mode)
                return
            except _Eio:
                if not delays or not op_still_running(since):
                    self._raise_eio(mode, since)
            finally:
                since.close()
            delay = delays.pop(0)
            self.eio_retries += 1
            self.say(f"wifi {mode}: EIO while the chip's power-on is still running; writing again in {delay:g} s")
            self.sleep(delay)

    def _raise_eio(self, mode: str, since: KmsgSince) -> None:
        cause = explain_eio(self.backend, self.names, since)
        if self.load_error and "wlan_gen2" in cause:
            cause += f"; loading it failed: {self.load_error}"
        raise UserError(f"wifi {mode}: /dev/wmtWifi answered EIO: {cause}")

    def _write_once(self, mode: str) -> None:
        try:
            h = self.backend.open(WMTWIFI)
        except FileNotFoundError:
            raise UserError("/dev/wmtWifi is missing: run 'r2wifi chip init' first") from None
        except OSError as e:
            raise UserError(f"cannot open /dev/wmtWifi: {e.strerror or e}") from None
        try:
            h.write(WRITE_CHAR[mode])
        except OSError as e:
            if e.errno == errno.EIO:
                raise _Eio from None
            raise UserError(f"wifi {mode}: write to /dev/wmtWifi failed: {e.strerror or e}") from None
        finally:
            h.close()

    def _maybe_load_wlan_gen2(self) -> None:
        if not self.load_module:
            return
        try:
            if self.backend.module_loaded("wlan_gen2"):
                return
            self.backend.load_module("wlan_gen2")
            self.say("loaded wlan_gen2")
        except OSError as e:
            self.load_error = e.strerror or str(e)  # built in, or not available: the write tells

    def set_mode(self, mode: str) -> ModeResult:
        if mode not in MODES:
            raise UserError(f"unknown WiFi mode {mode!r} (choose {', '.join(MODES)})")
        start = self.clock()
        check_not_regular(self.backend, WMTWIFI)
        if not is_char(self.backend.stat_node(WMTWIFI)):
            raise UserError("/dev/wmtWifi is missing: run 'r2wifi chip init' first")
        present = self.backend.interfaces()
        prev = current_mode(present, self.names)
        res = ModeResult(mode, prev, wifi_interfaces(present, self.names))
        if prev == mode:
            res.changed = False
            res.elapsed_s = self.clock() - start
            return res
        if mode != "off":
            self._maybe_load_wlan_gen2()
        if prev != "off":
            self._step(res, "off")
        if mode != "off":
            self._step(res, mode)
        res.interfaces = wifi_interfaces(self.backend.interfaces(), self.names)
        res.elapsed_s = self.clock() - start
        return res

    def _step(self, res: ModeResult, mode: str) -> None:
        t0 = self.clock()
        self._write(mode)
        t1 = self.clock()
        want = set(expected_interfaces(mode, self.names))
        ours = set(NAMES[self.names].values())

        def done(names: list[str]) -> bool:
            have = set(names) & ours
            return have == want

        ok, names = self.watcher.wait(done, self.timeout)
        if not ok:
            have = sorted(set(names) & ours)
            if mode == "off":
                raise UserError(f"wifi off: interfaces {', '.join(have)} still present after {self.timeout:g} s")
            missing = sorted(want - set(names))
            hint = explain_eio(self.backend, self.names) if not have else "the driver created only " + ", ".join(have)
            raise UserError(f"wifi {mode}: {', '.join(missing)} did not appear within {self.timeout:g} s ({hint})")
        res.steps.append({"write": WRITE_CHAR[mode].decode(), "write_s": round(t1 - t0, 4),
                          "wait_s": round(self.clock() - t1, 4), "interfaces": sorted(set(names) & ours)})
        self.say(f"wrote {WRITE_CHAR[mode].decode()!r} to /dev/wmtWifi: {', '.join(sorted(want)) or 'interfaces gone'}")
