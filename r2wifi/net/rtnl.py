"""A small rtnetlink client on the standard library: links, addresses, default routes, link events.

Why not pyroute2 here: ``r2wifi up`` needs a dozen netlink requests, and importing pyroute2 costs
2.4-3.4 s on the board's Cortex-A7 (measured in the board twin: more than the whole bring-up's own
work). pyroute2 stays the tool for traffic control (``net/shaping.py``, off by default), where the
message formats are many and intricate; this module covers only the four message families ``up``,
``down``, ``status`` and the supervisor use, each a fixed C struct plus attributes.

Theory of operation:

* **Sans-IO half** (pure functions, tested on bytes): :func:`pack_msg` builds one request (header +
  fixed struct + attributes, each padded to 4 bytes as ``NLMSG_ALIGN``/``RTA_ALIGN`` do);
  :func:`parse_msgs` splits a datagram into :class:`Msg` (type, flags, seq, the fixed part decoded,
  attributes as ``{type: bytes}``) and never reads past a length it was given: a truncated or lying
  length ends the parse (``ValueError``), it does not index out of the buffer.
* **I/O half**: :class:`Rtnl` owns one ``AF_NETLINK``/``NETLINK_ROUTE`` socket. A request carries a
  fresh sequence number; replies with another sequence (late answers, events on a subscribed
  socket) are skipped. A dump ends at ``NLMSG_DONE``; a request with ``NLM_F_ACK`` ends at its
  ``NLMSG_ERROR`` (0 = done, ``-errno`` = :class:`NetlinkError`, an :class:`OSError` whose ``code`` is
  the errno, as pyroute2's is, so callers test ``err.code`` either way).
* **Namespaces**: a socket belongs to the network namespace of the thread that created it. For
  ``netns=NAME`` a short-lived thread enters ``/run/netns/NAME`` (``setns(2)``, Linux 3.0) and creates
  the socket there; the process itself never changes namespace.
* **Events**: ``Rtnl(groups=RTMGRP_LINK)`` binds to multicast groups; the caller waits on
  :meth:`fileno` with ``select`` and :meth:`drain` reads what arrived without blocking.

Rules: no syscall newer than Linux 4.14 (``setns`` is 3.0, ``os.setns`` is used where Python has it,
else libc's through ctypes); every receive is bounded by the socket's timeout (:data:`TIMEOUT_S`), so a
lost reply is an error, never a hang.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

# -- constants (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h) ---------------
NETLINK_ROUTE = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP = 0x300
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
RTMGRP_LINK = 0x1
IFF_UP = 0x1
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_OPERSTATE = 1, 3, 4, 10, 16
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST = 1, 2, 4
IFA_F_NODAD = 0x02
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY = 1, 4, 5, 6
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RT_SCOPE_NOWHERE, RTN_UNICAST = 254, 3, 0, 255, 1
CLONE_NEWNET = 0x40000000
#: RFC 2863 operational states as ``ip link`` names them (IFLA_OPERSTATE values 0..6)
OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
#: seconds a request may wait for its answer
TIMEOUT_S = 10.0

_HDR = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, pad, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg: family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")  # rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
_RTA = struct.Struct("=HH")  # rtattr: len, type
#: the fixed struct that follows the header, by message type
_BODY = {RTM_NEWLINK: _IFINFO, RTM_DELLINK: _IFINFO, RTM_GETLINK: _IFINFO,
         RTM_NEWADDR: _IFADDR, RTM_DELADDR: _IFADDR, RTM_GETADDR: _IFADDR,
         RTM_NEWROUTE: _RTMSG, RTM_DELROUTE: _RTMSG}


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


@dataclass
class Msg:
    """One decoded netlink message."""

    kind: int
    flags: int
    seq: int
    fixed: tuple[int, ...] = ()  # the fixed struct's fields (see _BODY); for NLMSG_ERROR: (error,)
    attrs: dict[int, bytes] = field(default_factory=dict)

    def text(self, kind: int) -> str | None:
        raw = self.attrs.get(kind)
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace") if raw is not None else None

    def u32(self, kind: int) -> int | None:
        raw = self.attrs.get(kind)
        return struct.unpack("=I", raw[:4])[0] if raw is not None and len(raw) >= 4 else None


def parse_msgs(data: bytes) -> list[Msg]:
    """Split one received datagram into messages (ValueError on a length that does not fit)."""
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
        elif kind in _BODY:
            st = _BODY[kind]
            if len(body) < st.size:
                raise ValueError(f"message type {kind} shorter than its {st.size}-byte header")
            out.append(Msg(kind, flags, seq, st.unpack_from(body), parse_attrs(body[st.size:])))
        else:
            out.append(Msg(kind, flags, seq))
        pos += _align(length)
    return out


def _ip_bytes(addr: str) -> tuple[int, bytes]:
    ip = ipaddress.ip_address(addr)
    return (socket.AF_INET if ip.version == 4 else socket.AF_INET6), ip.packed


def _ip_text(family: int, raw: bytes) -> str:
    return str(ipaddress.ip_address(raw)) if family in (socket.AF_INET, socket.AF_INET6) else raw.hex()


def _mac_text(raw: bytes | None) -> str | None:
    return ":".join(f"{b:02x}" for b in raw) if raw is not None else None


@dataclass(frozen=True)
class LinkInfo:
    index: int
    ifname: str
    flags: int
    mac: str | None
    mtu: int | None
    operstate: str
    master: int | None

    @property
    def up(self) -> bool:
        return bool(self.flags & IFF_UP)

    @classmethod
    def of(cls, msg: Msg) -> LinkInfo:
        _fam, _type, index, flags, _change = msg.fixed
        op = msg.attrs.get(IFLA_OPERSTATE)
        state = OPERSTATES[op[0]] if op and op[0] < len(OPERSTATES) else "UNKNOWN"
        return cls(index, msg.text(IFLA_IFNAME) or "", flags, _mac_text(msg.attrs.get(IFLA_ADDRESS)),
                   msg.u32(IFLA_MTU), state, msg.u32(IFLA_MASTER))


@dataclass(frozen=True)
class AddrInfo:
    index: int
    family: int
    address: str
    prefixlen: int

    @classmethod
    def of(cls, msg: Msg) -> AddrInfo:
        family, plen, _flags, _scope, index = msg.fixed
        raw = msg.attrs.get(IFA_LOCAL) or msg.attrs.get(IFA_ADDRESS) or b""
        return cls(index, family, _ip_text(family, raw), plen)


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


def _socket(netns: str | None) -> socket.socket:
    def make() -> socket.socket:
        return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)

    if not netns:
        return make()
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


class Rtnl:
    """One rtnetlink socket (in ``netns`` when given) and the requests r2wifi makes."""

    def __init__(self, netns: str | None = None, *, groups: int = 0, timeout: float = TIMEOUT_S) -> None:
        """``groups``: multicast groups to receive (``RTMGRP_LINK``: link events) for :meth:`drain`."""
        self.netns = netns
        self.timeout = timeout
        self.sock = _socket(netns)
        try:
            self.sock.settimeout(timeout)
            self.sock.bind((0, groups))
        except BaseException:
            self.sock.close()
            raise
        self._seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def fileno(self) -> int:
        return self.sock.fileno()

    # -- transport ----------------------------------------------------------------------------------
    def _recv(self) -> list[Msg]:
        try:
            return parse_msgs(self.sock.recv(1 << 16))
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
                    n += len(parse_msgs(self.sock.recv(1 << 16)))
                except (BlockingIOError, ValueError):
                    return n
                except OSError as err:
                    if err.errno != errno.ENOBUFS:
                        raise
                    return n + 1
        finally:
            self.sock.settimeout(self.timeout)

    # -- links --------------------------------------------------------------------------------------
    def links(self) -> list[LinkInfo]:
        msgs = self.request(RTM_GETLINK, NLM_F_DUMP, _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0), what="links")
        return [LinkInfo.of(m) for m in msgs if m.kind == RTM_NEWLINK]

    def link(self, *, index: int = 0, ifname: str | None = None) -> LinkInfo | None:
        """One link by index or name; None when it does not exist."""
        attrs = [(IFLA_IFNAME, ifname.encode() + b"\0")] if ifname and not index else []
        try:
            msgs = self.request(RTM_GETLINK, 0, _IFINFO.pack(socket.AF_UNSPEC, 0, index, 0, 0), attrs,
                                what=f"link {ifname or index}")
        except NetlinkError as err:
            if err.code in (errno.ENODEV, errno.EINVAL, errno.ENOENT):
                return None
            raise
        return next((LinkInfo.of(m) for m in msgs if m.kind == RTM_NEWLINK), None)

    def set_link(self, index: int, *, up: bool | None = None, mac: str | None = None,
                 master: int | None = None) -> None:
        """Change a link: state (``up``), hardware address, bridge master (0 = none)."""
        flags = change = 0
        if up is not None:
            flags, change = (IFF_UP if up else 0), IFF_UP
        attrs: list[tuple[int, bytes]] = []
        if mac is not None:
            attrs.append((IFLA_ADDRESS, bytes(int(x, 16) for x in mac.split(":"))))
        if master is not None:
            attrs.append((IFLA_MASTER, struct.pack("=I", master)))
        self.request(RTM_NEWLINK, NLM_F_ACK, _IFINFO.pack(socket.AF_UNSPEC, 0, index, flags, change), attrs,
                     what=f"set link {index}")

    # -- addresses ----------------------------------------------------------------------------------
    def addrs(self, index: int | None = None) -> list[AddrInfo]:
        msgs = self.request(RTM_GETADDR, NLM_F_DUMP, _IFADDR.pack(socket.AF_UNSPEC, 0, 0, 0, 0), what="addresses")
        found = (AddrInfo.of(m) for m in msgs if m.kind == RTM_NEWADDR)
        return [a for a in found if index is None or a.index == index]

    def _addr(self, kind: int, flags: int, index: int, address: str, prefixlen: int, ifa_flags: int = 0) -> None:
        family, raw = _ip_bytes(address)
        attrs = [(IFA_LOCAL, raw), (IFA_ADDRESS, raw)]
        if family == socket.AF_INET and prefixlen < 31 and kind == RTM_NEWADDR:
            net = ipaddress.ip_network(f"{address}/{prefixlen}", strict=False)
            attrs.append((IFA_BROADCAST, net.broadcast_address.packed))  # as `ip addr add ... brd +`
        self.request(kind, NLM_F_ACK | flags, _IFADDR.pack(family, prefixlen, ifa_flags, RT_SCOPE_UNIVERSE, index),
                     attrs, what=f"address {address}/{prefixlen}")

    def add_addr(self, index: int, address: str, prefixlen: int, *, nodad: bool = False) -> None:
        """Add an address (EEXIST when it is there already)."""
        self._addr(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, index, address, prefixlen, IFA_F_NODAD if nodad else 0)

    def del_addr(self, index: int, address: str, prefixlen: int) -> None:
        self._addr(RTM_DELADDR, 0, index, address, prefixlen)

    # -- routes -------------------------------------------------------------------------------------
    def _default_route(self, kind: int, flags: int, gateway: str, oif: int, metric: int) -> None:
        family, raw = _ip_bytes(gateway)
        scope = RT_SCOPE_UNIVERSE if kind == RTM_NEWROUTE else RT_SCOPE_NOWHERE
        body = _RTMSG.pack(family, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, scope, RTN_UNICAST, 0)
        attrs = [(RTA_GATEWAY, raw), (RTA_OIF, struct.pack("=I", oif)), (RTA_PRIORITY, struct.pack("=I", metric))]
        self.request(kind, NLM_F_ACK | flags, body, attrs, what=f"default route via {gateway}")

    def replace_default_route(self, gateway: str, oif: int, metric: int) -> None:
        self._default_route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, gateway, oif, metric)

    def del_default_route(self, gateway: str, oif: int, metric: int) -> None:
        self._default_route(RTM_DELROUTE, 0, gateway, oif, metric)


def link_names(netns: str | None = None) -> list[str]:
    """The interface names in ``netns`` (one dump)."""
    with Rtnl(netns) as r:
        return [li.ifname for li in r.links()]
