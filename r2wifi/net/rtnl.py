"""A small rtnetlink client on the standard library: links, addresses, default routes, link events.

Why not pyroute2 here: ``r2wifi up`` needs a dozen netlink requests, and importing pyroute2 costs
2.4-3.4 s on the board's Cortex-A7 (measured in the board twin: more than the whole bring-up's own
work). pyroute2 stays the tool for traffic control (``net/shaping.py``, off by default), where the
message formats are many and intricate; this module covers only the four message families ``up``,
``down``, ``status`` and the supervisor use, each a fixed C struct plus attributes.

Theory of operation: the transport (encode/decode, the socket, sequence numbers, acks and errors,
namespaces, events) is :mod:`r2wifi.net.netlink`'s; this module adds rtnetlink's fixed structs by
message type (:data:`_BODY`, so :func:`parse_msgs` decodes ``ifinfomsg``/``ifaddrmsg``/``rtmsg``) and
the requests as methods of :class:`Rtnl`. The names of the transport are re-exported here.

Rules: those of :mod:`r2wifi.net.netlink`; every request is bounded by the socket's timeout.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
from collections.abc import Mapping

from r2wifi.net import netlink as _netlink

# the transport's names, used here and by rtnl's callers (explicit re-exports)
from r2wifi.net.netlink import CLONE_NEWNET as CLONE_NEWNET
from r2wifi.net.netlink import NETLINK_ROUTE as NETLINK_ROUTE
from r2wifi.net.netlink import NLM_F_ACK as NLM_F_ACK
from r2wifi.net.netlink import NLM_F_CREATE as NLM_F_CREATE
from r2wifi.net.netlink import NLM_F_DUMP as NLM_F_DUMP
from r2wifi.net.netlink import NLM_F_EXCL as NLM_F_EXCL
from r2wifi.net.netlink import NLM_F_MULTI as NLM_F_MULTI
from r2wifi.net.netlink import NLM_F_REPLACE as NLM_F_REPLACE
from r2wifi.net.netlink import NLM_F_REQUEST as NLM_F_REQUEST
from r2wifi.net.netlink import NLMSG_DONE as NLMSG_DONE
from r2wifi.net.netlink import NLMSG_ERROR as NLMSG_ERROR
from r2wifi.net.netlink import TIMEOUT_S as TIMEOUT_S
from r2wifi.net.netlink import Msg as Msg
from r2wifi.net.netlink import NetlinkError as NetlinkError
from r2wifi.net.netlink import NetlinkSocket as NetlinkSocket
from r2wifi.net.netlink import pack_attr as pack_attr
from r2wifi.net.netlink import pack_msg as pack_msg
from r2wifi.net.netlink import parse_attrs as parse_attrs
from r2wifi.records import record

# -- constants (linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h) --------------------------------
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
RTMGRP_LINK = 0x1
IFF_UP = 0x1
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_OPERSTATE = 1, 3, 4, 10, 16
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST = 1, 2, 4
IFA_F_NODAD = 0x02
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY = 1, 4, 5, 6
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RT_SCOPE_NOWHERE, RTN_UNICAST = 254, 3, 0, 255, 1
#: RFC 2863 operational states as ``ip link`` names them (IFLA_OPERSTATE values 0..6)
OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")

_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, pad, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg: family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")  # rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
#: the fixed struct that follows the header, by message type
_BODY = {RTM_NEWLINK: _IFINFO, RTM_DELLINK: _IFINFO, RTM_GETLINK: _IFINFO,
         RTM_NEWADDR: _IFADDR, RTM_DELADDR: _IFADDR, RTM_GETADDR: _IFADDR,
         RTM_NEWROUTE: _RTMSG, RTM_DELROUTE: _RTMSG}


def parse_msgs(data: bytes, bodies: Mapping[int, struct.Struct] | None = None) -> list[Msg]:
    """:func:`r2wifi.net.netlink.parse_msgs` with rtnetlink's structs (:data:`_BODY`) by default."""
    return _netlink.parse_msgs(data, _BODY if bodies is None else bodies)


def _ip_bytes(addr: str) -> tuple[int, bytes]:
    ip = ipaddress.ip_address(addr)
    return (socket.AF_INET if ip.version == 4 else socket.AF_INET6), ip.packed


def _ip_text(family: int, raw: bytes) -> str:
    return str(ipaddress.ip_address(raw)) if family in (socket.AF_INET, socket.AF_INET6) else raw.hex()


def _mac_text(raw: bytes | None) -> str | None:
    return ":".join(f"{b:02x}" for b in raw) if raw is not None else None


@record(frozen=True)
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


@record(frozen=True)
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


class Rtnl(NetlinkSocket):
    """One rtnetlink socket (in ``netns`` when given) and the requests r2wifi makes."""

    bodies = _BODY

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
            attrs.append((IFLA_ADDRESS, _netlink.mac_bytes(mac)))
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
