"""The few nl80211 requests r2wifi makes, over generic netlink on the standard library.

Why: ``iw`` is a process per question (0.1-0.2 s on the board's Cortex-A7), and ``config`` asks one at
every load when ``ap.country`` is ``auto``; the board twin's radio stand-in adds and removes interfaces
on every WiFi mode change. The questions are small and fixed, so they are asked here directly.

Theory of operation: generic netlink is netlink protocol 16; its controller (``GENL_ID_CTRL``) maps a
family name to the id the family's messages carry as their type. Every message's fixed part is a
``genlmsghdr`` (command, version, reserved). :class:`Nl80211` is a
:class:`r2wifi.net.netlink.NetlinkSocket` whose table of structs has the controller's and nl80211's id,
so requests, acks, errors and timeouts are the transport's (one home). Sans-IO: :func:`family_id` and
:func:`alpha2_of` read decoded answers and are tested on bytes (``netlink.parse_msgs`` with
:data:`GENL_BODY`); the requests against the kernel are tested as root in the board twin (cfg80211,
hwsim), with ``iw`` as the judge. Importing this module costs only the transport (it runs when the
configuration loads).

Numbers: ``include/uapi/linux/genetlink.h`` and ``include/uapi/linux/nl80211.h`` (stable kernel ABI).
Rules: Linux 4.14 has every command used here; every receive is bounded by the socket's timeout.
"""

from __future__ import annotations

import errno
import struct

from r2wifi.net.netlink import NLM_F_ACK, Msg, NetlinkError, NetlinkSocket, mac_bytes

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NL80211_CMD_NEW_INTERFACE, NL80211_CMD_DEL_INTERFACE, NL80211_CMD_GET_REG = 7, 8, 31
NL80211_ATTR_WIPHY, NL80211_ATTR_IFINDEX, NL80211_ATTR_IFNAME, NL80211_ATTR_IFTYPE = 1, 3, 4, 5
NL80211_ATTR_MAC, NL80211_ATTR_REG_ALPHA2 = 6, 33
#: interface types by the names ``iw ... type`` uses
IFTYPES = {"managed": 2, "__ap": 3}

GENL_BODY = struct.Struct("=BBH")  # genlmsghdr: cmd, version, reserved


def alpha2_of(msgs: list[Msg]) -> str | None:
    """The two-letter regulatory domain in a GET_REG answer (``00`` is the world domain), or None."""
    return next((text for m in msgs if (text := m.text(NL80211_ATTR_REG_ALPHA2))), None)


def family_id(msgs: list[Msg]) -> int | None:
    """The family id in the controller's answer to CTRL_CMD_GETFAMILY, or None."""
    raw = next((m.attrs[CTRL_ATTR_FAMILY_ID] for m in msgs if CTRL_ATTR_FAMILY_ID in m.attrs), None)
    return struct.unpack("=H", raw[:2])[0] if raw is not None and len(raw) >= 2 else None


class Nl80211(NetlinkSocket):
    """A generic netlink socket that has looked up nl80211's family id (ENOENT: no cfg80211)."""

    protocol = NETLINK_GENERIC

    def __init__(self, netns: str | None = None, *, timeout: float = 5.0) -> None:
        super().__init__(netns, timeout=timeout)
        self.bodies = {GENL_ID_CTRL: GENL_BODY}
        try:
            answer = self.request(GENL_ID_CTRL, 0, GENL_BODY.pack(CTRL_CMD_GETFAMILY, 1, 0),
                                  [(CTRL_ATTR_FAMILY_NAME, b"nl80211\0")], what="nl80211 family")
        except BaseException:
            self.close()  # no cfg80211 (ENOENT) or no answer: the socket does not outlive the failed lookup
            raise
        family = family_id(answer)
        if family is None:
            self.close()
            raise NetlinkError(errno.ENOENT, "nl80211 family")
        self.family = family
        self.bodies = {GENL_ID_CTRL: GENL_BODY, self.family: GENL_BODY}

    def _cmd(self, cmd: int, attrs: list[tuple[int, bytes]], *, ack: bool, what: str) -> list[Msg]:
        return self.request(self.family, NLM_F_ACK if ack else 0, GENL_BODY.pack(cmd, 0, 0), attrs, what=what)

    def reg_country(self) -> str | None:
        """The kernel's global regulatory domain (what ``iw reg get`` prints first): ``DE``, ``00``..."""
        return alpha2_of(self._cmd(NL80211_CMD_GET_REG, [], ack=False, what="regulatory domain"))

    def new_interface(self, wiphy: int, name: str, iftype: str, mac: str | None = None) -> None:
        """``iw phy phyN interface add NAME type IFTYPE [addr MAC]``."""
        attrs = [(NL80211_ATTR_WIPHY, struct.pack("=I", wiphy)), (NL80211_ATTR_IFNAME, name.encode() + b"\0"),
                 (NL80211_ATTR_IFTYPE, struct.pack("=I", IFTYPES[iftype]))]
        if mac:
            attrs.append((NL80211_ATTR_MAC, mac_bytes(mac)))
        self._cmd(NL80211_CMD_NEW_INTERFACE, attrs, ack=True, what=f"add interface {name}")

    def del_interface(self, ifindex: int) -> None:
        """``iw dev NAME del`` (by the interface's index)."""
        self._cmd(NL80211_CMD_DEL_INTERFACE, [(NL80211_ATTR_IFINDEX, struct.pack("=I", ifindex))], ack=True,
                  what=f"delete interface {ifindex}")


def kernel_country(timeout: float = 5.0) -> str | None:
    """The kernel's regulatory domain, or None where there is no nl80211 (no cfg80211) or it does not answer."""
    try:
        with Nl80211(timeout=timeout) as nl:
            return nl.reg_country()
    except OSError:
        return None
