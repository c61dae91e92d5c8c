"""`r2wifi reload` applies each change with the least disruption (issue 13.4).

The table (r2wifi.service.reload) is checked directly; the scenario changes the passphrase, the shaping
rate, a DHCP reservation and the channel of a supervised AP on the simulator and asserts what happened
(same hostapd for a reload, classes changed with no link bounce, same dnsmasq with the new host, a new
hostapd for the channel): events with generous timeouts, never durations.
"""

from __future__ import annotations

import signal
import subprocess

import pytest

from r2wifi.hostap.render import dnsmasq_hosts_path
from r2wifi.service import reload as R
from tests.ap.conftest import SimBed
from tests.ap.test_supervisor import hostapd_enabled, sup_log, wait_for
from tests.ap.test_supervisor_robust import running, running_sup, status  # noqa: F401 - fixture
from tests.conftest import need_binary

RESERVATION = '[[dhcp.reservation]]\nmac = "02:0a:0b:0c:0d:0e"\nip = "192.168.10.50"\nname = "printer"\n'


@pytest.mark.parametrize(("keys", "acts"), [
    (["ap.passphrase"], [R.Act.HOSTAPD_RELOAD]),
    (["ap.ssid", "ap.hidden", "ap.mac_filter"], [R.Act.HOSTAPD_RELOAD]),
    (["ap.channel"], [R.Act.HOSTAPD_RESTART]),
    (["ap.passphrase", "ap.channel"], [R.Act.HOSTAPD_RESTART]),  # the restart covers the reload
    (["shaping.rate"], [R.Act.SHAPING]),
    (["dhcp.reservation"], [R.Act.DNSMASQ_HUP]),
    (["dhcp.reservation", "dhcp.lease_time"], [R.Act.DNSMASQ_RESTART]),
    (["nat.uplink", "supervisor.stall_seconds"], [R.Act.LADDER, R.Act.NAT]),
    (["ap.address4", "shaping.rate", "ap.ssid"], [R.Act.RESTART_ALL]),
    (["log.level"], [R.Act.RESTART_ALL]),  # a key in no row: the restart that applies anything
    (["sta.ssid"], []),  # station settings do not touch a running AP
])
def test_plan_picks_the_least_disruptive_acts(keys: list[str], acts: list[R.Act]) -> None:
    assert R.plan(keys, "ap").acts() == acts


def test_plan_refuses_what_cannot_change_and_maps_modes() -> None:
    p = R.plan(["chip.backend", "ap.ssid", "nat.bridge"], "ap")
    assert p.refused == ["chip.backend", "nat.bridge"]
    assert R.action_of("ap.ssid", "sta") is R.Act.NOTHING and R.action_of("sta.ssid", "sta") is R.Act.STA_RESTART
    both = R.plan(["ap.passphrase", "ap.channel"], "ap")
    assert both.keys_of(R.Act.HOSTAPD_RESTART) == ["ap.passphrase", "ap.channel"]


def _ns_link(bed: SimBed) -> tuple[int, int, int | None]:
    """(ifindex, carrier changes, HTB parent class rate in bit/s) of ap0 in the simulator's namespace."""
    from r2wifi.net import shaping
    from r2wifi.net.link import Link

    with Link(status(bed)["netns"]) as link:
        idx = link.index("ap0")
        assert idx is not None
        msg = link.ipr.link("get", index=idx)[0]
        return idx, int(msg.get_attr("IFLA_CARRIER_CHANGES") or 0), shaping.class_rate(link.ipr, idx)


def _reload(bed: SimBed, proc: subprocess.Popen[str], text: str, expect: str) -> None:
    bed.config.write_text(text)
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: expect in sup_log(bed) or proc.poll() is not None, 90, expect)
    assert proc.poll() is None


@pytest.mark.root
def test_reload_applies_passphrase_shaping_reservation_and_channel(
        running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:  # noqa: F811 - fixture
    bed, proc = running_sup
    conf = bed.state / "conf" / "hostapd-ap0.conf"
    hostapd, dnsmasq = bed.pid("hostapd"), bed.pid("dnsmasq")
    assert hostapd and dnsmasq and hostapd_enabled(bed)
    base = bed.config.read_text()

    # passphrase: hostapd re-reads its file, same process
    text = base.replace("correct horse battery", "a brand new passphrase")
    _reload(bed, proc, text, "reload: ap.passphrase -> hostapd reloaded")
    assert bed.pid("hostapd") == hostapd and hostapd_enabled(bed)
    assert "wpa_passphrase=a brand new passphrase" in conf.read_text().splitlines()
    assert "recovery:" not in sup_log(bed)

    # shaping rate: the classes change in place; same interface, no carrier change, same daemons
    idx, carrier, rate = _ns_link(bed)
    assert rate == 8_000_000
    text = text.replace('rate = "8mbit"', 'rate = "3mbit"')
    _reload(bed, proc, text, "reload: shaping.rate applied in place")
    assert _ns_link(bed) == (idx, carrier, 3_000_000)
    assert bed.pid("hostapd") == hostapd and bed.pid("dnsmasq") == dnsmasq

    # a reservation: dnsmasq re-reads its hosts file on SIGHUP, same process
    hosts = dnsmasq_hosts_path(bed.state / "conf" / "dnsmasq-ap0.conf")  # where dnsmasq's user can read it
    assert "02:0a:0b:0c:0d:0e" not in hosts.read_text()
    text += RESERVATION
    _reload(bed, proc, text, "reload: dhcp.reservation -> dnsmasq re-read its hosts file")
    assert bed.pid("dnsmasq") == dnsmasq and running(dnsmasq)
    assert "02:0a:0b:0c:0d:0e,192.168.10.50,printer" in hosts.read_text().splitlines()
    assert f"dhcp-hostsfile={hosts}" in (bed.state / "conf" / "dnsmasq-ap0.conf").read_text().splitlines()
    dnsmasq_log = (bed.state / "logs" / "dnsmasq-ap0.log").read_text()
    assert f"read {hosts}" in dnsmasq_log and "cannot read" not in dnsmasq_log
    assert "recovery:" not in sup_log(bed)

    # channel: hostapd keeps the old channel on a reload, so it is restarted (and only hostapd)
    text = text.replace("[ap]\n", "[ap]\nchannel = 11\n", 1)
    _reload(bed, proc, text, "reload: ap.channel -> hostapd restarted")
    assert "recovery: restart-hostapd (reason: configuration changed: ap.channel)" in sup_log(bed)
    assert bed.pid("hostapd") not in (None, hostapd) and hostapd_enabled(bed)
    assert bed.pid("dnsmasq") == dnsmasq
    st = status(bed)
    assert st["state"] == "up", st["problems"]


@pytest.mark.root
def test_a_bad_file_keeps_the_running_configuration(running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:  # noqa: F811
    bed, proc = running_sup
    hostapd = bed.pid("hostapd")
    conf = bed.state / "conf" / "hostapd-ap0.conf"
    before, good = conf.read_text(), bed.config.read_text()
    bed.config.write_text(good.replace('rate = "8mbit"', 'rate = "fast"')
                          .replace("correct horse battery", "another passphrase"))
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SIGHUP: configuration not reloaded" in sup_log(bed), 60, "the refused reload")
    assert "shaping.rate" in sup_log(bed) and "reload:" not in sup_log(bed)
    bed.config.write_text(good)  # (status reads the file too) not signalled: the AP still runs the old one
    assert conf.read_text() == before and bed.pid("hostapd") == hostapd and hostapd_enabled(bed)
    assert _ns_link(bed)[2] == 8_000_000



@pytest.mark.root
def test_reload_replaces_the_nat_table_in_place(running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:  # noqa: F811
    need_binary("nft")
    bed, proc = running_sup
    hostapd, dnsmasq = bed.pid("hostapd"), bed.pid("dnsmasq")
    idx, carrier, _ = _ns_link(bed)
    _reload(bed, proc, bed.config.read_text() + '[nat]\nuplink = "eth9"\n', "reload: nat.uplink applied in place")
    rules = subprocess.run(["ip", "netns", "exec", status(bed)["netns"], "nft", "list", "table", "ip", "r2wifi_nat"],
                           capture_output=True, text=True).stdout
    assert 'oifname "eth9" masquerade' in rules
    assert (bed.pid("hostapd"), bed.pid("dnsmasq")) == (hostapd, dnsmasq) and _ns_link(bed)[:2] == (idx, carrier)
    assert status(bed)["state"] == "up"


@pytest.mark.root
def test_reload_of_an_address_moves_the_interface_to_the_new_one(
        running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:  # noqa: F811 - fixture
    """A changed ap.address4 is applied by reload: the new address is on ap0 and the old one is gone."""
    bed, proc = running_sup
    ns = status(bed)["netns"]

    def addrs() -> list[str]:
        out = subprocess.run(["ip", "-n", ns, "-4", "-o", "addr", "show", "dev", "ap0"], capture_output=True,
                             text=True).stdout
        return [line.split()[3] for line in out.splitlines()]

    assert addrs() == ["192.168.10.1/24"]
    text = bed.config.read_text()  # the default address: 192.168.10.1/24
    _reload(bed, proc, text.replace("[ap]\n", '[ap]\naddress4 = "192.168.20.1/24"\n', 1),
            "reload: ap.address4 -> interface re-applied")
    wait_for(lambda: status(bed)["state"] == "up", 90, "the AP up again")
    assert addrs() == ["192.168.20.1/24"]
