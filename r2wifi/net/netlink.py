"""Netlink on the standard library: messages as bytes, and one socket that asks and answers.

Shared by :mod:`r2wifi.net.rtnl` (links, addresses, routes: ``NETLINK_ROUTE``) and
:mod:`r2wifi.net.nl80211` (generic netlink), so the transport has one home. Light on purpose: the
country lookup that runs when the configuration loads needs only this (no ``ipaddress``/link types).

Theory of operation:

* **Sans-IO half** (pure functions, tested on bytes): :func:`pack_msg` builds one request (header +
  fixed struct + attributes, each padded to 4 bytes as ``NLMSG_ALIGN``/``RTA_ALIGN`` do);
  :func:`parse_msgs` splits a datagram into :class:`Msg` (type, flags, seq, the fixed part decoded
  by the caller's table of structs by message type, attributes as ``{type: bytes}``) and never reads
  past a length it was given: a truncated or lying length ends the parse (``ValueError``), it does not
  index out of the buffer.
* **I/O half**: :class:`NetlinkSocket` owns one ``AF_NETLINK`` socket of its class's ``protocol``. A
  request carries a fresh sequence number; replies with another sequence (late answers, events on a
  subscribed socket) are skipped. A dump ends at ``NLMSG_DONE``; a request with ``NLM_F_ACK`` ends at
  its ``NLMSG_ERROR`` (0 = done, ``-errno`` = :class:`NetlinkError`, an :class:`OSError` whose ``code`` is
  the errno, as pyroute2's is, so callers test ``err.code`` either way).
* **Namespaces**: a socket belongs to the network namespace of the thread that created it. For
  ``netns=NAME`` a short-lived thread enters ``/run/netns/NAME`` (``setns(2)``, Linux 3.0) and creates
  the socket there; the process itself never changes namespace.
* **Events**: ``groups=`` binds to multicast groups; the caller waits on :meth:`NetlinkSocket.fileno`
  with ``select`` and :meth:`NetlinkSocket.drain` reads what arrived without blocking.

Rules: no syscall newer than Linux 4.14 (``setns`` is 3.0, ``os.setns`` is used where Python has it,
else libc's through ctypes); every receive is bounded by the socket's timeout (:data:`TIMEOUT_S`), so a
lost reply is an error, never a hang.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TypeVar

from r2wifi.records import field, record

# -- constants (linux/netlink.h) ------------------------------------------------------------------------
NETLINK_ROUTE = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP = 0x300
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
CLONE_NEWNET = 0x40000000
#: seconds a request may wait for its answer
TIMEOUT_S = 10.0

_HDR = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
_RTA = struct.Struct("=HH")  # rtattr / nlattr: len, type
_NO_BODIES: Mapping[int, struct.Struct] = {}


class NetlinkError(OSError):
    """The kernel refused a request; ``code`` (= ``errno``) is the errno it answered."""

    def __init__(self, code: int, what: str = "") -> None:
        super().__init__(code, f"{what}: {os.strerror(code)}" if what else os.strerror(code))
        self.code = code


# -- sans-IO: encode and decode ---------------------------------------------------------------------
def _align(n: int) -> int:
    return (n + 3) & ~3


def pack_attr(kind: int, value: bytes) -> bytes:
    """One rtattr, padded to 4 bytes."""
    raw = _RTA.pack(_RTA.size + len(value), kind) + value
    return raw + b"\0" * (_align(len(raw)) - len(raw))


def pack_msg(kind: int, flags: int, seq: int, body: bytes, attrs: Iterable[tuple[int, bytes]] = ()) -> bytes:
    """A whole netlink message: header, the fixed struct ``body`` (already packed), attributes."""
    payload = body + b"".join(pack_attr(k, v) for k, v in attrs)
    return _HDR.pack(_HDR.size + len(payload), kind, flags, seq, 0) + payload


def mac_bytes(mac: str) -> bytes:
    """``aa:bb:cc:dd:ee:ff`` -> the 6 bytes a hardware-address attribute carries."""
    return bytes(int(x, 16) for x in mac.split(":"))


def parse_attrs(data: bytes) -> dict[int, bytes]:
    """rtattrs -> ``{type: value}`` (the nested flag bit is cleared; a later duplicate wins)."""
    out: dict[int, bytes] = {}
    pos = 0
    while pos + _RTA.size <= len(data):
        length, kind = _RTA.unpack_from(data, pos)
        if length < _RTA.size or pos + length > len(data):
            raise ValueError(f"rtattr length {length} at {pos} runs past {len(data)} bytes")
        out[kind & 0x3FFF] = data[pos + _RTA.size:pos + length]
        pos += _align(length)
    return out


@record
class Msg:
    """One decoded netlink message."""

    kind: int
    flags: int
    seq: int
    fixed: tuple[int, ...] = ()  # the fixed struct's fields (parse_msgs' bodies); for NLMSG_ERROR: (error,)
    attrs: dict[int, bytes] = field(default_factory=dict)

    def text(self, kind: int) -> str | None:
        raw = self.attrs.get(kind)
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace") if raw is not None else None

    def u32(self, kind: int) -> int | None:
        raw = self.attrs.get(kind)
        return struct.unpack("=I", raw[:4])[0] if raw is not None and len(raw) >= 4 else None


def parse_msgs(data: bytes, bodies: Mapping[int, struct.Struct] = _NO_BODIES) -> list[Msg]:
    """Split one received datagram into messages (ValueError on a length that does not fit). ``bodies``:
    the fixed struct after the header by message type (rtnetlink's in :mod:`r2wifi.net.rtnl`; a generic
    netlink family has its own id and ``genlmsghdr``, :mod:`r2wifi.net.nl80211`); other types keep none."""
    out: list[Msg] = []
    pos = 0
    while pos + _HDR.size <= len(data):
        length, kind, flags, seq, _pid = _HDR.unpack_from(data, pos)
        if length < _HDR.size or pos + length > len(data):
            raise ValueError(f"netlink message length {length} at {pos} runs past {len(data)} bytes")
        body = data[pos + _HDR.size:pos + length]
        if kind == NLMSG_ERROR:
            if len(body) < 4:
                raise ValueError("NLMSG_ERROR without its error code")
            out.append(Msg(kind, flags, seq, struct.unpack_from("=i", body)))
        elif kind in bodies:
            st = bodies[kind]
            if len(body) < st.size:
                raise ValueError(f"message type {kind} shorter than its {st.size}-byte header")
            out.append(Msg(kind, flags, seq, st.unpack_from(body), parse_attrs(body[st.size:])))
        else:
            out.append(Msg(kind, flags, seq))
        pos += _align(length)
    return out


# -- I/O --------------------------------------------------------------------------------------------
def _setns(fd: int) -> None:
    setns = getattr(os, "setns", None)  # Python 3.12+
    if setns is not None:
        setns(fd, CLONE_NEWNET)
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"setns: {os.strerror(code)}")


def _socket(netns: str | None, protocol: int) -> socket.socket:
    def make() -> socket.socket:
        return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol)

    if not netns:
        return make()
    import threading  # only for a namespace

    box: list[socket.socket | BaseException] = []

    def inside() -> None:  # a thread of its own: only this thread enters the namespace
        try:
            fd = os.open(f"/run/netns/{netns}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            box.append(make())
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            box.append(err)

    t = threading.Thread(target=inside, name=f"netns-{netns}", daemon=True)
    t.start()
    t.join()
    got = box[0] if box else OSError(errno.EIO, "netns thread died")
    if isinstance(got, BaseException):
        raise got
    return got


_S = TypeVar("_S", bound="NetlinkSocket")


class NetlinkSocket:
    """One netlink socket of ``protocol`` (in ``netns`` when given): requests, answers, events."""

    protocol = NETLINK_ROUTE
    #: the fixed struct after the header, by message type (see :func:`parse_msgs`)
    bodies: Mapping[int, struct.Struct] = _NO_BODIES

    def __init__(self, netns: str | None = None, *, groups: int = 0, timeout: float = TIMEOUT_S) -> None:
        """``groups``: multicast groups to receive (``RTMGRP_LINK``: link events) for :meth:`drain`."""
        self.netns = netns
        self.timeout = timeout
        self.sock = _socket(netns, self.protocol)
        try:
            self.sock.settimeout(timeout)
            self.sock.bind((0, groups))
        except BaseException:
            self.sock.close()
            raise
        self._seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def fileno(self) -> int:
        return self.sock.fileno()

    # -- transport ----------------------------------------------------------------------------------
    def _recv(self) -> list[Msg]:
        try:
            return parse_msgs(self.sock.recv(1 << 16), self.bodies)
        except TimeoutError:
            raise NetlinkError(errno.ETIMEDOUT, "no answer from the kernel") from None
        except ValueError as err:
            raise NetlinkError(errno.EPROTO, str(err)) from None

    def request(self, kind: int, flags: int, body: bytes, attrs: list[tuple[int, bytes]] | None = None,
                *, what: str = "") -> list[Msg]:
        """Send one request and collect its answer: the dump's messages, or [] once ACKed."""
        self._seq = (self._seq + 1) & 0xFFFFFFFF or 1
        seq = self._seq
        self.sock.send(pack_msg(kind, NLM_F_REQUEST | flags, seq, body, attrs or []))
        out: list[Msg] = []
        while True:
            for msg in self._recv():
                if msg.seq != seq:
                    continue  # an event or a late answer to an earlier request
                if msg.kind == NLMSG_DONE:
                    return out
                if msg.kind == NLMSG_ERROR:
                    if msg.fixed[0]:
                        raise NetlinkError(-msg.fixed[0], what)
                    return out
                out.append(msg)
                if not msg.flags & NLM_F_MULTI and not flags & NLM_F_ACK:
                    return out

    def drain(self) -> int:
        """Read whatever has arrived (events) without blocking; the number of messages read.

        A burst larger than the socket buffer (ENOBUFS: events were dropped) ends the drain like an empty
        queue: callers use events only as a wake-up and look at the state itself afterwards."""
        n = 0
        self.sock.setblocking(False)
        try:
            while True:
                try:
                    n += len(parse_msgs(self.sock.recv(1 << 16), self.bodies))
                except (BlockingIOError, ValueError):
                    return n
                except OSError as err:
                    if err.errno != errno.ENOBUFS:
                        raise
                    return n + 1
        finally:
            self.sock.settimeout(self.timeout)
