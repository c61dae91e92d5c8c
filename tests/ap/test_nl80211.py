"""r2wifi.net.nl80211: the few nl80211 requests over generic netlink, on bytes (the I/O runs in the twin,
``tests/twin/test_twin_scenarios.py``, where cfg80211 exists: this host kernel has none)."""

from __future__ import annotations

import errno
import struct

import pytest

from r2wifi.net import netlink, nl80211

FAMILY = 0x1C  # nl80211's id is dynamic; any value past the controller's


def _genl(kind: int, cmd: int, attrs: list[tuple[int, bytes]], seq: int = 5) -> bytes:
    return netlink.pack_msg(kind, 0, seq, nl80211.GENL_BODY.pack(cmd, 1, 0), attrs)


def test_family_id_from_the_controllers_answer() -> None:
    """CTRL_CMD_NEWFAMILY's answer carries the id as a u16 attribute beside the name."""
    raw = _genl(nl80211.GENL_ID_CTRL, 1, [(nl80211.CTRL_ATTR_FAMILY_NAME, b"nl80211\0"),
                                          (nl80211.CTRL_ATTR_FAMILY_ID, struct.pack("=H", FAMILY))])
    msgs = netlink.parse_msgs(raw, {nl80211.GENL_ID_CTRL: nl80211.GENL_BODY})
    assert msgs[0].fixed == (1, 1, 0)
    assert nl80211.family_id(msgs) == FAMILY
    assert nl80211.family_id(netlink.parse_msgs(_genl(nl80211.GENL_ID_CTRL, 1, []),
                                             {nl80211.GENL_ID_CTRL: nl80211.GENL_BODY})) is None


def test_alpha2_from_a_get_reg_answer() -> None:
    """GET_REG's answer: the alpha2 attribute (NUL-terminated) among the rules; none -> None."""
    rules = netlink.pack_attr(1, b"\0" * 24)  # a nested rule, skipped
    raw = _genl(FAMILY, nl80211.NL80211_CMD_GET_REG, [(nl80211.NL80211_ATTR_REG_ALPHA2, b"DE\0"), (34, rules)])
    msgs = netlink.parse_msgs(raw, {FAMILY: nl80211.GENL_BODY})
    assert nl80211.alpha2_of(msgs) == "DE"
    assert nl80211.alpha2_of(netlink.parse_msgs(_genl(FAMILY, 31, [(34, rules)]), {FAMILY: nl80211.GENL_BODY})) is None


def test_no_nl80211_is_no_country(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cfg80211 (the controller knows no nl80211: ENOENT) or no answer: the country is unknown, not an error."""
    for code in (errno.ENOENT, errno.ETIMEDOUT):
        def refuse(self: object, *a: object, code: int = code, **k: object) -> None:
            raise netlink.NetlinkError(code, "nl80211 family")
        monkeypatch.setattr(nl80211.Nl80211, "__init__", refuse)
        assert nl80211.kernel_country() is None
