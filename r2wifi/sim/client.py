"""``SimBackend``: the :class:`r2wifi.wmt.backend.Backend` of the simulator, over its UNIX socket.

Theory of operation: every call is one JSON request/answer on a connection to
``<sim_dir>/sim.sock`` (protocol in :mod:`r2wifi.sim.daemon`). Each thread uses its own
connection, so a thread blocked in LPBK_POWER_CTRL never holds up another thread polling the
same handle. Opening a node also opens an *owner* connection that lives as long as the handle:
when the process exits or dies, the kernel closes it and the simulator releases the handle.

Rules (same as ``RealBackend``): ioctl returns the kernel's non-negative value and raises
``OSError(errno)`` for negative ones; ``arg`` is an int (by value) or bytes (pointer commands);
/dev/wmtWifi write failures raise ``OSError(EIO)``. If the simulator is not running every call
raises ``UserError("simulator not running (start it with 'r2wifi sim start')")``.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from r2wifi.errors import UserError
from r2wifi.paths import sim_dir as default_sim_dir
from r2wifi.wmt.backend import Backend, DeviceHandle, NodeInfo
from r2wifi.wmt.ioctls import host_abi

NOT_RUNNING = "simulator not running (start it with 'r2wifi sim start')"


class _Conn:
    """One socket to the daemon; request/answer as JSON lines."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(str(path))
        except OSError:
            self.sock.close()
            raise UserError(NOT_RUNNING) from None
        self.rfile = self.sock.makefile("rb")
        # False once a call was cut short between request and answer (a signal handler raising,
        # a lost socket): the next answer on this socket would belong to the old request.
        self.in_sync = True

    def call(self, req: dict[str, Any]) -> Any:
        self.in_sync = False
        try:
            self.sock.sendall((json.dumps(req) + "\n").encode())
            line = self.rfile.readline()
        except OSError:
            line = b""
        if line:
            self.in_sync = True
        else:
            raise UserError("simulator connection lost (is 'r2wifi sim' still running?)")
        resp = json.loads(line)
        if resp.get("ok"):
            return _dec(resp.get("ret"))
        if "errno" in resp:
            n = int(resp["errno"])
            raise OSError(n, os.strerror(n))
        raise UserError(str(resp.get("error", "simulator error")))

    def close(self) -> None:
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass


def _enc(v: int | bytes) -> Any:
    return {"hex": v.hex()} if isinstance(v, bytes | bytearray) else int(v)


def _dec(v: Any) -> Any:
    if isinstance(v, dict) and "hex" in v:
        return bytes.fromhex(v["hex"])
    return v


class SimHandle:
    """A node opened in the simulator. Usable from several threads at once."""

    def __init__(self, backend: SimBackend, path: str) -> None:
        self.backend = backend
        self.path = path
        self._owner = _Conn(backend.sock_path)
        try:
            self.hid = int(self._owner.call({"op": "open", "path": path, "pid": os.getpid()}))
        except BaseException:
            self._owner.close()
            raise
        self.closed = False

    def _call(self, req: dict[str, Any]) -> Any:
        if self.closed:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        req["handle"] = self.hid
        return self.backend._call(req)

    def ioctl(self, request: int, arg: int | bytes = 0) -> int:
        return int(self._call({"op": "ioctl", "request": request & 0xFFFFFFFF, "arg": _enc(arg),
                               "abi": self.backend.abi}))

    def read(self, size: int = 256) -> bytes:
        out = self._call({"op": "read", "size": size})
        return out if isinstance(out, bytes) else b""

    def write(self, data: bytes) -> int:
        return int(self._call({"op": "write", "data": _enc(bytes(data))}))

    def poll(self, timeout_ms: int) -> bool:
        return bool(self._call({"op": "poll", "timeout_ms": timeout_ms}))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._owner.call({"op": "close", "handle": self.hid})
        except (UserError, OSError):
            pass
        self._owner.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            if not self.closed:
                self._owner.close()
        except Exception:
            pass


class SimBackend:
    """The simulated driver as a device backend (see the module docstring)."""

    name = "sim"

    def __init__(self, sim_dir: str | os.PathLike[str] | None = None, abi: str | None = None) -> None:
        self.sim_dir = Path(sim_dir) if sim_dir else default_sim_dir()
        self.sock_path = self.sim_dir / "sim.sock"
        self.abi = abi or host_abi()
        self._local = threading.local()
        self._status_cache: dict[str, Any] | None = None

    def _conn(self) -> _Conn:
        c: _Conn | None = getattr(self._local, "conn", None)
        if c is None:
            c = _Conn(self.sock_path)
            self._local.conn = c
        return c

    def _call(self, req: dict[str, Any]) -> Any:
        c = self._conn()
        try:
            return c.call(req)
        except BaseException:
            # Errors that arrived as a complete answer (errno, simulator error) keep the
            # connection usable; anything that interrupted the exchange drops it.
            if not c.in_sync:
                self._local.conn = None
                c.close()
            raise

    # Backend protocol

    def stat_node(self, path: str) -> NodeInfo | None:
        st = self._call({"op": "stat", "path": path})
        if st is None:
            return None
        kind, major, minor = st
        return NodeInfo(path, kind, major, minor)

    def open(self, path: str) -> SimHandle:
        return SimHandle(self, path)

    def load_module(self, name: str) -> None:
        try:
            self._call({"op": "load_module", "name": name})
        except OSError as e:
            raise OSError(e.errno, f"modprobe {name}: {e.strerror}") from None

    def module_loaded(self, name: str) -> bool:
        return bool(self._call({"op": "module_loaded", "name": name}))

    def interfaces(self) -> list[str]:
        return list(self.status()["interfaces"])

    def netns(self) -> str | None:
        ns = self.status().get("netns")
        return str(ns) if ns else None

    def kmsg_path(self) -> str:
        return str(self.sim_dir / "kmsg")

    def follow_kmsg(self, from_start: bool = False) -> Iterator[str]:
        """Open the simulator's kernel log now; the iterator yields records (``prio,seq,usec,-;message``)
        and ends when the simulator stops. Opened before this returns, as on the real backend."""
        path = self.kmsg_path()
        try:
            fh = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 - the iterator owns it
        except FileNotFoundError:
            raise UserError(NOT_RUNNING) from None
        if not from_start:
            fh.seek(0, os.SEEK_END)
        return self._kmsg_records(fh, path)

    @staticmethod
    def _kmsg_records(fh: TextIO, path: str) -> Iterator[str]:
        with fh:
            buf = ""
            while True:
                chunk = fh.readline()
                if chunk:
                    buf += chunk
                    if buf.endswith("\n"):
                        yield buf.rstrip("\n")
                        buf = ""
                    continue
                if not os.path.exists(path):
                    return
                time.sleep(0.05)

    def hci_devices(self) -> list[str]:
        return list(self.status().get("hci") or [])

    def bt_address(self, hci: str) -> str | None:
        st = self.status()
        if hci in (st.get("hci") or []):
            addr = st.get("bd_address")
            return str(addr).upper() if addr else None
        return None

    # simulator extras

    def status(self) -> dict[str, Any]:
        st = self._call({"op": "status"})
        assert isinstance(st, dict)
        return st

    def air_netns(self) -> str | None:
        ns = self.status().get("air_netns")
        return str(ns) if ns else None

    def inject(self, fault: str) -> str:
        return str(self._call({"op": "inject", "fault": fault}))

    def ping(self) -> int:
        return int(self._call({"op": "ping"})["pid"])

    def stop(self) -> None:
        self._call({"op": "stop"})


if TYPE_CHECKING:  # mypy: SimBackend is a Backend, SimHandle a DeviceHandle
    _backend_check: Backend = SimBackend()
    _handle_check: DeviceHandle = SimHandle(SimBackend(), "/dev/stpwmt")
