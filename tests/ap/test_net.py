"""r2wifi.net on real namespaces: waiting for interfaces, addresses, MAC, shaping and NAT."""

from __future__ import annotations

import subprocess
import threading

import pytest

from r2wifi.errors import UserError
from r2wifi.net import nat, shaping
from r2wifi.net.link import Link, parse_cidr
from tests.conftest import need_binary


def test_parse_cidr_names_the_key() -> None:
    """A bad address is a UserError that names the config key."""
    assert parse_cidr("fd00:b::10/64") == ("fd00:b::10", 64, 10)
    with pytest.raises(UserError, match="ap.address4"):
        parse_cidr("192.168.10.300/24", "ap.address4")
    with pytest.raises(UserError, match="prefix"):
        parse_cidr("192.168.10.1", "ap.address4")


@pytest.mark.root
def test_wait_interface_sees_a_link_created_later(veth_pair) -> None:  # type: ignore[no-untyped-def]
    """wait_interface returns once a link appears, and times out for one that never does."""
    with Link(veth_pair.ns_a) as link:
        timer = threading.Timer(0.2, lambda: subprocess.run(
            ["ip", "-n", veth_pair.ns_a, "link", "add", "late0", "type", "veth", "peer", "name", "late1"],
            check=True))
        timer.start()
        idx = link.wait_interface("late0", timeout=10)
        timer.join()
        assert idx == link.index("late0")
        with pytest.raises(TimeoutError):
            link.wait_interface("never0", timeout=0.2)


@pytest.mark.root
def test_addresses_are_idempotent_and_removable(veth_pair) -> None:  # type: ignore[no-untyped-def]
    """Adding the v4/v6 addresses twice adds them once; removing them leaves none of ours."""
    with Link(veth_pair.ns_a) as link:
        assert link.ensure_address(veth_pair.if_a, "192.168.10.1/24") is True
        assert link.ensure_address(veth_pair.if_a, "fd00:b::10/64") is True
        assert link.ensure_address(veth_pair.if_a, "192.168.10.1/24") is False
        assert link.ensure_address(veth_pair.if_a, "fd00:b::10/64") is False
        addrs = link.addresses(veth_pair.if_a)
        assert sorted(addrs) == ["192.168.10.1/24", "fd00:b::10/64"]
        assert link.remove_address(veth_pair.if_a, "192.168.10.1/24") is True
        assert link.remove_address(veth_pair.if_a, "fd00:b::10/64") is True
        assert link.remove_address(veth_pair.if_a, "fd00:b::10/64") is False
        assert link.addresses(veth_pair.if_a) == []


@pytest.mark.root
def test_stable_mac_and_link_up(veth_pair) -> None:  # type: ignore[no-untyped-def]
    """The configured MAC is set (once), the link comes up and takes no SLAAC addresses."""
    with Link(veth_pair.ns_a) as link:
        assert link.set_mac(veth_pair.if_a, "02:08:22:AA:BB:CC") is True
        assert link.set_mac(veth_pair.if_a, "02:08:22:aa:bb:cc") is False
        link.set_up(veth_pair.if_a)
        info = link.info(veth_pair.if_a)
        assert info is not None and info["mac"] == "02:08:22:aa:bb:cc" and info["up"]
        link.no_autoconf(veth_pair.if_a)
    accept_ra = subprocess.run(["ip", "netns", "exec", veth_pair.ns_a, "sysctl", "-n",
                                f"net.ipv6.conf.{veth_pair.if_a}.accept_ra"], capture_output=True, text=True)
    assert accept_ra.stdout.strip() == "0"


def _bring_up(pair) -> None:  # type: ignore[no-untyped-def]
    with Link(pair.ns_a) as a:
        a.ensure_address(pair.if_a, "10.77.0.1/24")
        a.set_up(pair.if_a)
    with Link(pair.ns_b) as b:
        b.ensure_address(pair.if_b, "10.77.0.2/24")
        b.set_up(pair.if_b)


@pytest.mark.root
def test_htb_really_classifies_traffic(veth_pair) -> None:  # type: ignore[no-untyped-def]
    """Packets sent out of the shaped interface land in the leaf class, not HTB's direct queue."""
    _bring_up(veth_pair)
    with Link(veth_pair.ns_a) as link:
        idx = link.require(veth_pair.if_a)
        shaping.apply(link.ipr, idx, shaping.ShapingPlan("htb", 8_000_000))
        before = shaping.counters(link.ipr, idx)
        assert before.kind == "htb"
        veth_pair.send_udp("10.77.0.2", count=200)
        after = shaping.counters(link.ipr, idx)
        assert after.class_packets - before.class_packets >= 200
        assert after.class_bytes - before.class_bytes >= 200 * 1000
        assert after.direct_packets - before.direct_packets <= 2
        classes = {c["handle"]: c for c in link.ipr.get_classes(index=idx)}
        assert classes[shaping.PARENT]["parent"] == 0xFFFFFFFF  # a top class of qdisc 1:
        assert classes[shaping.LEAF]["parent"] == shaping.PARENT


@pytest.mark.root
def test_reapply_replaces_and_remove_cleans(veth_pair) -> None:  # type: ignore[no-untyped-def]
    """apply() twice leaves one qdisc; tbf works; remove() leaves no qdisc of ours."""
    _bring_up(veth_pair)
    with Link(veth_pair.ns_a) as link:
        idx = link.require(veth_pair.if_a)
        shaping.apply(link.ipr, idx, shaping.ShapingPlan("htb", 8_000_000))
        shaping.apply(link.ipr, idx, shaping.ShapingPlan("htb", 4_000_000))
        assert len([c for c in link.ipr.get_classes(index=idx)]) == 2
        shaping.apply(link.ipr, idx, shaping.ShapingPlan("tbf", 2_000_000))
        veth_pair.send_udp("10.77.0.2", count=20)
        c = shaping.counters(link.ipr, idx)
        assert c.kind == "tbf" and c.class_packets >= 20
        assert shaping.remove(link.ipr, idx) is True
        assert shaping.counters(link.ipr, idx).kind is None
        assert shaping.remove(link.ipr, idx) is False


@pytest.mark.root
def test_nat_table_of_our_own(veth_pair) -> None:  # type: ignore[no-untyped-def]
    """NAT adds exactly our nft table (idempotently) and down removes it, leaving others alone."""
    need_binary("nft")
    ns = veth_pair.ns_a
    subprocess.run(["ip", "netns", "exec", ns, "nft", "add", "table", "inet", "someone_else"], check=True)
    nat.enable("192.168.10.0/24", veth_pair.if_a, netns=ns)
    nat.enable("192.168.10.0/24", veth_pair.if_a, netns=ns)
    listing = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "ruleset"], capture_output=True,
                             text=True, check=True).stdout
    assert listing.count(f"table ip {nat.TABLE}") == 1 and "masquerade" in listing
    assert nat.disable(ns) is True
    listing = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "ruleset"], capture_output=True,
                             text=True, check=True).stdout
    assert nat.TABLE not in listing and "someone_else" in listing
