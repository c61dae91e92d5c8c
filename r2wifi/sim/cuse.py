"""The simulated driver as real character devices: a CUSE front end (``r2wifi sim start --cuse``).

Theory of operation: the simulator daemon (:mod:`r2wifi.sim.daemon`) keeps serving its UNIX
socket (status, inject, stop, and the sim backend of host tests); with ``--cuse`` it also opens
one ``/dev/cuse`` fd per node of the model and answers the kernel's FUSE requests from the same
:class:`~r2wifi.sim.model.DriverModel`. Programs then use ``/dev/wmtdetect`` (154:0),
``/dev/stpwmt`` (190:0) and ``/dev/wmtWifi`` (155:0) with ``open``/``ioctl``/``poll``/``read``/
``write`` exactly as on the board (r2wifi's ``RealBackend``, or any other program). Facts:
``shared/spec/testbed.md`` section 8.2. Wire format: the sans-IO :mod:`r2wifi.sim.fuse_proto`; this
module is the I/O loop and the mapping onto the model.

Command line (stable; the armhf twin under tools/twin starts the simulator this way)::

    r2wifi sim start --cuse [--timing fast] [--radio hwsim|none] [--kmsg]

It needs root and ``/dev/cuse`` (``modprobe cuse``); without it the command fails with one line.
``--radio hwsim`` (the default with ``--cuse`` where mac80211_hwsim exists) makes the WiFi netdevs
real (:mod:`r2wifi.sim.radio`); with ``--radio none`` they exist only in the model, so a real
backend waiting for ``ap0`` in /sys/class/net waits in vain.
``r2wifi sim stop`` removes the nodes (closing a ``/dev/cuse`` fd unregisters its device).

Rules:

* Nodes follow the model: ``/dev/wmtdetect`` at start; ``/dev/stpwmt`` and ``/dev/wmtWifi`` only
  once the loader's DO_MODULE_INIT registered them (the new devices are up before that ioctl's
  answer is written, so the loader's next step finds them). A node the model drops goes away.
  The model says when its nodes changed (:meth:`DriverModel.on_nodes_changed`, also for a module
  load or a fault from the daemon's socket); the nodes are then synced on a thread of their own.
  A node the model has as a regular file (fault ``detect-regular-file``) is not served.
* ioctls are unrestricted (``CUSE_UNRESTRICTED_IOCTL``): the request number is decoded for the
  caller's ABI (``FUSE_IOCTL_32BIT`` -> ``armhf``, else this machine's 64-bit ABI), value commands
  pass ``arg`` itself, pointer commands are fetched with ``FUSE_IOCTL_RETRY`` (one in iovec of the
  length the driver copies: ``driver.POINTER_IN_LEN`` of :mod:`r2wifi.wmt.driver`). A non-negative model result is the ioctl's
  return value (GET_SOC_CHIP_ID returns 0x7623); a negative one is ``-errno``.
* Every request but CUSE_INIT and INTERRUPT runs on its own worker thread: the launcher's power
  thread blocks in LPBK_POWER_CTRL while its main thread polls, reads and writes the same node.
* poll: nodes whose driver has a ``.poll`` (``driver.POLLABLE``) answer POLLIN|POLLRDNORM when the
  model has data, POLLOUT always; a poller that asked for a notification gets FUSE_NOTIFY_POLL as
  soon as the model has data (the model's readiness callback, :meth:`DriverModel.on_ready`). Other
  nodes answer ENOSYS, after which the kernel reports the default mask, as for a driver without
  ``.poll``.
* FUSE_INTERRUPT: the driver's waits are uninterruptible (``wait_for_completion_timeout``), so by
  default an interrupted request is still answered when the model returns, as on the board
  (``interrupts="driver"``); ``interrupts="eintr"`` answers it ``-EINTR`` at once and drops the late
  result. An interrupt for a request already answered is ignored.
* The model is reached only through :class:`ModelPort` (the one place that knows its API).
"""

from __future__ import annotations

import errno
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from r2wifi.sim import fuse_proto as fp
from r2wifi.wmt import driver, ioctls

CUSE_DEVICE = "/dev/cuse"
INIT_TIMEOUT_S = 10.0
INTERRUPT_POLICIES = ("driver", "eintr")


# ---- the model, behind one adapter ----------------------------------------------------------------


class DriverApi(Protocol):
    """What the front end uses of :class:`~r2wifi.sim.model.DriverModel`."""

    def open(self, path: str, pid: int = 0) -> int: ...
    def close(self, hid: int) -> None: ...
    def ioctl(self, hid: int, request: int, arg: int | bytes = 0, abi: str | None = None) -> int: ...
    def read(self, hid: int, size: int = 256) -> bytes | int: ...
    def write(self, hid: int, data: bytes) -> int: ...
    def poll(self, hid: int, timeout_ms: int) -> bool | int: ...
    def status(self) -> dict[str, Any]: ...
    def on_nodes_changed(self, fn: Callable[[], None]) -> None: ...
    def on_ready(self, fn: Callable[[int], None]) -> None: ...


class ModelPort:
    """The model's calls as the front end needs them; a change of the model's API touches only this."""

    def __init__(self, model: Any) -> None:
        self.model: DriverApi = model

    def open(self, path: str, pid: int) -> int:
        return int(self.model.open(path, pid))

    def close(self, hid: int) -> None:
        self.model.close(hid)

    def ioctl(self, hid: int, request: int, arg: int | bytes, abi: str) -> int:
        return int(self.model.ioctl(hid, request, arg, abi))

    def read(self, hid: int, size: int) -> bytes | int:
        return self.model.read(hid, size)

    def write(self, hid: int, data: bytes) -> int:
        return int(self.model.write(hid, data))

    def poll(self, hid: int, timeout_ms: int) -> bool | int:
        return self.model.poll(hid, timeout_ms)

    def observe(self, nodes_changed: Callable[[], None], ready: Callable[[int], None]) -> None:
        """Have the model call ``nodes_changed()`` when its nodes change and ``ready(hid)`` when a handle
        becomes readable (both with the model's lock held: they must not block nor call the model)."""
        self.model.on_nodes_changed(nodes_changed)
        self.model.on_ready(ready)

    def char_nodes(self) -> dict[str, tuple[int, int]]:
        """The character nodes the model has registered: path -> (major, minor)."""
        out: dict[str, tuple[int, int]] = {}
        for node in self.model.status().get("nodes", []):
            if node.get("kind") == "char" and node.get("major") is not None:
                out[str(node["path"])] = (int(node["major"]), int(node.get("minor") or 0))
        return out


# ---- ioctl decoding -----------------------------------------------------------------------------


def native_abi() -> str:
    """The ABI of a caller without FUSE_IOCTL_32BIT: this machine's 64-bit one."""
    abi = ioctls.host_abi()
    return abi if abi != "armhf" else "x86_64"  # 32-bit server on a 64-bit kernel: numbers as any 64-bit ABI


def caller_abi(req: fp.IoctlRequest) -> str:
    return "armhf" if req.compat32 else native_abi()


@dataclass(frozen=True)
class CallModel:
    """Call the model with this ``arg`` (an int for value commands, bytes for pointer commands)."""

    arg: int | bytes
    abi: str


@dataclass(frozen=True)
class FetchArg:
    """Answer FUSE_IOCTL_RETRY: the kernel calls again with the caller's memory copied in."""

    in_iovs: list[tuple[int, int]]


def plan_ioctl(req: fp.IoctlRequest) -> CallModel | FetchArg:
    """What to do with one FUSE_IOCTL request (pure: tested byte by byte)."""
    abi = caller_abi(req)
    io = ioctls.lookup(req.cmd, abi)
    if io is None or io.passing != "pointer":
        return CallModel(req.arg, abi)  # value (or unknown: the model answers as the driver does)
    need = driver.POINTER_IN_LEN.get(io.name, 0)
    if req.in_size >= need or not req.flags & fp.FUSE_IOCTL_UNRESTRICTED:
        return CallModel(req.in_data[:need], abi)
    return FetchArg([(req.arg, need)])


def poll_revents(readable: bool, events: int) -> int:
    mask = fp.POLLOUT | (fp.POLLIN | fp.POLLRDNORM if readable else 0)
    return mask & events if events else mask


# ---- kernel log -----------------------------------------------------------------------------------


class DevKmsg:
    """A log sink writing ``<prio>message`` records to the machine's /dev/kmsg (``--kmsg``).

    /dev/kmsg rate-limits writers to 10 lines per 5 s unless ``kernel.printk_devkmsg`` is ``on``;
    the sink sets it on while it lives and restores the old value in :meth:`close`.
    """

    SYSCTL = "/proc/sys/kernel/printk_devkmsg"

    def __init__(self, path: str = "/dev/kmsg") -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        self.lock = threading.Lock()
        self.old: str | None = None
        try:
            with open(self.SYSCTL) as fh:
                self.old = fh.read().strip()
            if self.old != "on":
                with open(self.SYSCTL, "w") as fh:
                    fh.write("on\n")
        except OSError as e:
            sys.stderr.write(f"cuse: {self.SYSCTL}: {e.strerror}: kernel lines may be rate-limited\n")
            self.old = None

    def __call__(self, prio: int, usec: int, msg: str) -> None:
        rec = f"<{prio & 7}>{msg}".encode("utf-8", "replace")[:1000]
        with self.lock:
            if self.fd < 0:
                return
            try:
                os.write(self.fd, rec)
            except OSError:
                pass

    def close(self) -> None:
        with self.lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
        if self.old is not None and self.old != "on":
            try:
                with open(self.SYSCTL, "w") as fh:
                    fh.write(self.old + "\n")
            except OSError:
                pass


def tee_sink(*sinks: Callable[[int, int, str], None] | None) -> Callable[[int, int, str], None]:
    live = [s for s in sinks if s is not None]

    def sink(prio: int, usec: int, msg: str) -> None:
        for s in live:
            s(prio, usec, msg)

    return sink


# ---- one CUSE device ----------------------------------------------------------------------------


Opener = Callable[[], int]


def open_cuse(path: str = CUSE_DEVICE) -> int:
    return os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)


class CuseDevice:
    """One node: its /dev/cuse fd, the session state machine, the reader and worker threads."""

    def __init__(self, front: CuseFrontend, path: str, major: int, minor: int) -> None:
        self.front = front
        self.path = path
        self.name = os.path.basename(path)
        self.session = fp.Session(self.name, major, minor)
        self.fd = -1
        self.wlock = threading.Lock()
        self.ready = threading.Event()
        self.dead = threading.Event()
        self.stopping = threading.Event()
        self.wake_r, self.wake_w = os.pipe()
        self.watchers: dict[int, int] = {}  # fh -> kh of a poller waiting for data
        self.wlk = threading.Lock()
        self.thread: threading.Thread | None = None
        self.error = ""

    # -- lifecycle
    def start(self) -> None:
        self.fd = self.front.opener()
        self.thread = threading.Thread(target=self._loop, name=f"cuse-{self.name}", daemon=True)
        self.thread.start()

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dead.is_set():
                return False
            if self.ready.wait(0.05) and self.front.node_ok(self):
                return True
        return False

    def stop(self) -> None:
        self.stopping.set()
        with self.wlock:
            if self.wake_w >= 0:
                os.write(self.wake_w, b"x")
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(5)
        with self.wlock:
            if self.fd >= 0:
                os.close(self.fd)  # unregisters the device: the node goes away
                self.fd = -1
            self.session.close()
            for fd in (self.wake_r, self.wake_w):
                if fd >= 0:
                    os.close(fd)
            self.wake_r = self.wake_w = -1  # stop() is idempotent: never close a reused fd number

    # -- the reader
    def _loop(self) -> None:
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        p.register(self.wake_r, select.POLLIN)
        try:
            while not self.stopping.is_set():
                try:
                    p.poll(1000)
                except InterruptedError:
                    continue
                if self.stopping.is_set():
                    break
                try:
                    buf = os.read(self.fd, fp.READ_BUFFER)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as e:
                    if e.errno == errno.ENOENT:  # the request vanished (its caller was killed)
                        continue
                    gone = e.errno in (errno.ENODEV, errno.ECONNABORTED)
                    self.error = self.error or (f"the kernel closed {self.path}" if gone else f"read: {e.strerror}")
                    break
                if not buf:  # end of file: the other side is gone (never from the real /dev/cuse)
                    self.error = self.error or "the device was closed"
                    break
                self._dispatch(buf)
        finally:
            self.dead.set()

    def _dispatch(self, buf: bytes) -> None:
        try:
            rec = self.session.receive(buf)
        except fp.ProtocolError as e:
            self.front.say(f"cuse {self.name}: bad request dropped: {e}")
            return
        if rec.answer is not None:
            self.send(rec.answer)
            if isinstance(rec.request, fp.InitRequest):
                self.error = f"kernel FUSE {rec.request.major}.{rec.request.minor} too old for CUSE ioctls"
            return
        req = rec.request
        if isinstance(req, fp.InitRequest):
            self.send(self.session.init_reply(req.hdr.unique))
            # The kernel registers the device while it takes our reply; when that fails (the major is
            # in use) it aborts the connection at once, so the next read tells (ENODEV, not EAGAIN).
            why = ""
            first = b""
            try:
                first = os.read(self.fd, fp.READ_BUFFER)
                why = "" if first else "closed"
            except BlockingIOError:
                pass
            except OSError as e:
                why = e.strerror or str(e)
            if why:
                self.error = (f"the kernel refused {self.path} ({self.session.dev_major}:{self.session.dev_minor}): "
                              f"{why} (major in use by another driver or simulator?)")
                self.stopping.set()
                return
            self.ready.set()
            if first:
                self._dispatch(first)
            return
        if isinstance(req, fp.InterruptRequest):
            if rec.target_in_flight and self.front.interrupts == "eintr":
                self._answer(req.target, lambda: fp.encode_error(req.target, errno.EINTR))
            return
        threading.Thread(target=self._work, args=(req,), name=f"cuse-{self.name}-{req.hdr.unique}",
                         daemon=True).start()

    # -- requests
    def _work(self, req: fp.Request) -> None:
        unique = req.hdr.unique
        try:
            data = self._handle(req)
        except Exception as e:  # noqa: BLE001 - a model bug must not leave the caller hanging
            self.front.say(f"cuse {self.name}: {type(req).__name__} failed: {type(e).__name__}: {e}")
            data = fp.encode_error(unique, errno.EIO)
        if self.front.nodes_stale():
            self.front.sync_nodes()  # DO_MODULE_INIT registered nodes: up before the caller goes on
        self._answer(unique, lambda: data)

    def _answer(self, unique: int, build: Callable[[], bytes]) -> None:
        try:
            self.session.take(unique)
        except fp.ProtocolError:
            return  # answered already (-EINTR for an interrupt): the model's late result is dropped
        self.send(build())

    def send(self, data: bytes) -> None:
        with self.wlock:
            if self.fd < 0:
                return
            try:
                os.write(self.fd, data)
            except OSError as e:
                # ENOENT: the kernel no longer waits for this request (its caller was killed)
                if e.errno not in (errno.ENOENT, errno.ENODEV):
                    self.front.say(f"cuse {self.name}: reply refused: {e.strerror}")

    def _handle(self, req: fp.Request) -> bytes:
        port = self.front.port
        u = req.hdr.unique
        if isinstance(req, fp.OpenRequest):
            hid = port.open(self.path, req.hdr.pid)
            return fp.encode_error(u, -hid) if hid < 0 else fp.encode_open(u, hid)
        if isinstance(req, fp.ReleaseRequest):
            with self.wlk:
                self.watchers.pop(req.fh, None)
            port.close(req.fh)
            return fp.encode_empty(u)
        if isinstance(req, fp.ReadRequest):
            got = port.read(req.fh, req.size)
            if isinstance(got, int):
                return fp.encode_error(u, -got) if got < 0 else fp.encode_data(u, b"")
            return fp.encode_data(u, got[: req.size])
        if isinstance(req, fp.WriteRequest):
            n = port.write(req.fh, req.data)
            return fp.encode_error(u, -n) if n < 0 else fp.encode_write(u, n)
        if isinstance(req, fp.IoctlRequest):
            plan = plan_ioctl(req)
            if isinstance(plan, FetchArg):
                return fp.encode_ioctl_retry(u, plan.in_iovs, [])
            ret = port.ioctl(req.fh, req.cmd, plan.arg, plan.abi)
            return fp.encode_error(u, -ret) if ret < 0 else fp.encode_ioctl(u, ret)
        if isinstance(req, fp.PollRequest):
            if self.path not in driver.POLLABLE:
                return fp.encode_error(u, errno.ENOSYS)
            if req.wants_notify:  # armed before the check: data queued in between still notifies
                with self.wlk:
                    self.watchers[req.fh] = req.kh
            r = port.poll(req.fh, 0)
            readable = bool(r) if isinstance(r, bool) else False
            if req.wants_notify and (readable or not isinstance(r, bool)):
                with self.wlk:
                    if self.watchers.get(req.fh) == req.kh:
                        del self.watchers[req.fh]
            if not isinstance(r, bool) and r < 0:
                return fp.encode_error(u, -r)
            return fp.encode_poll(u, poll_revents(readable, req.events))
        return fp.encode_error(u, errno.ENOSYS)

    # -- poll notification
    def data_ready(self, fh: int) -> None:
        """The model says handle ``fh`` has data: wake the kernel's pollers waiting on it (once)."""
        with self.wlk:
            kh = self.watchers.pop(fh, None)
        if kh is not None:
            self.send(fp.encode_notify_poll(kh))


# ---- the front end ------------------------------------------------------------------------------


class CuseFrontend:
    """Serves the model's character nodes through CUSE; :meth:`start` once, :meth:`stop` at exit."""

    def __init__(self, model: Any, *, opener: Opener = open_cuse, dev_dir: str | None = "/dev",
                 interrupts: str = "driver", say: Callable[[str], None] | None = None) -> None:
        if interrupts not in INTERRUPT_POLICIES:
            raise ValueError(f"interrupts must be one of {INTERRUPT_POLICIES}")
        self.port = ModelPort(model)
        self.opener = opener
        self.dev_dir = dev_dir
        self.interrupts = interrupts
        self.say = say or (lambda s: sys.stderr.write(s + "\n"))
        self.devices: dict[str, CuseDevice] = {}
        self.serving: tuple[CuseDevice, ...] = ()  # devices' snapshot for the model's callbacks (no lock)
        self.lock = threading.Lock()
        self.stopped = False
        self.node_gen = 0  # bumped by the model's node-change callback
        self.synced_gen = 0  # the node_gen the served devices match
        self.port.observe(self._nodes_changed, self._data_ready)

    # -- the model's callbacks (its lock held: no blocking, no model calls, no self.lock)
    def _nodes_changed(self) -> None:
        self.node_gen += 1
        threading.Thread(target=self._sync_later, name="cuse-sync-nodes", daemon=True).start()

    def _sync_later(self) -> None:
        try:
            self.sync_nodes()
        except Exception as e:  # noqa: BLE001 - a thread of its own: say it, never die silently
            self.say(f"cuse: node sync failed: {type(e).__name__}: {e}")

    def _data_ready(self, hid: int) -> None:
        for dev in self.serving:
            dev.data_ready(hid)

    def nodes_stale(self) -> bool:
        """The model changed its nodes since the last sync."""
        return self.node_gen != self.synced_gen

    def node_ok(self, dev: CuseDevice) -> bool:
        """The device node exists with the right numbers (None dev_dir: trust the init reply)."""
        if self.dev_dir is None:
            return True
        try:
            st = os.stat(os.path.join(self.dev_dir, dev.name))
        except OSError:
            return False
        return os.major(st.st_rdev) == dev.session.dev_major and os.minor(st.st_rdev) == dev.session.dev_minor

    def start(self) -> None:
        """Serve the nodes the model has now; raises OSError with one clear line when CUSE fails."""
        self.sync_nodes(strict=True)

    def sync_nodes(self, strict: bool = False) -> None:
        with self.lock:
            if self.stopped:
                return
            gen = self.node_gen
            want = self.port.char_nodes()
            for path in [p for p in self.devices if p not in want]:
                self.devices.pop(path).stop()
                self.say(f"cuse: {path} removed")
            for path, (major, minor) in want.items():
                if path in self.devices:
                    continue
                dev = CuseDevice(self, path, major, minor)
                try:
                    dev.start()
                except OSError as e:
                    dev.stop()
                    msg = f"cannot open {CUSE_DEVICE} for {path}: {e.strerror}"
                    if strict:
                        raise OSError(e.errno, msg) from None
                    self.say(f"cuse: {msg}")
                    continue
                if not dev.wait_ready(INIT_TIMEOUT_S):
                    why = dev.error or f"no node {path} ({major}:{minor}) within {INIT_TIMEOUT_S:.0f} s"
                    dev.stop()
                    if strict:
                        raise OSError(errno.EIO, f"CUSE device {path} ({major}:{minor}) failed: {why}")
                    self.say(f"cuse: {path} failed: {why}")
                    continue
                self.devices[path] = dev
                self.say(f"cuse: serving {path} ({major}:{minor})")
            self.serving = tuple(self.devices.values())
            self.synced_gen = gen

    def nodes(self) -> list[str]:
        with self.lock:
            return sorted(self.devices)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            devs = list(self.devices.values())
            self.devices.clear()
            self.serving = ()
        for dev in devs:
            dev.stop()
