"""The AP features of issue 13 with r2wifi as the AP and real wpa_supplicant stations (test bed C).

Each test runs one ``r2wifi_<feature>`` scenario of tools/testbed/guest/ap_features.py in the
session's guest (``hwsim_vm``; once per session, later tests reuse the outcome): r2wifi ``up --ap``
on wlan0 with the chip disabled, stations on wlan1 / wlan2 in their own netns. The assertions are on
what the stations saw (scan results, CONNECTED / AUTH-REJECT, pings, DHCP leases) and on r2wifi's
hostapd log, dnsmasq lease file and ``status --json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from testbed.build import REPO
from testbed.scenario import GUEST_PY, Scenario
from testbed.vm import VM, GuestError

pytestmark = [pytest.mark.hwsim, pytest.mark.root, pytest.mark.slow]

AP_FEATURES_PY = str(REPO / "tools" / "testbed" / "guest" / "ap_features.py")
AP_MAC, SSID = "02:00:00:00:00:00", "tb-hwsim"
STA1, STA2 = "02:00:00:00:01:00", "02:00:00:00:02:00"
RESERVED_IP, RESERVED_NAME = "192.168.77.20", "tb-laptop"
Run = Callable[[str], Scenario]

_cache: dict[str, Scenario] = {}


@pytest.fixture
def feature(hwsim_vm: VM, request: pytest.FixtureRequest) -> Run:
    """``feature(name)``: run ap_features.py's scenario ``name`` in the guest once per session."""

    def _run(name: str) -> Scenario:
        out = hwsim_vm.workdir / name
        request.node._tb_logs = out  # the conftest's failure report appends these logs
        if name not in _cache:
            res = hwsim_vm.run([GUEST_PY, AP_FEATURES_PY, name, "--out", str(out)], timeout=1500)
            lines = res.out.strip().splitlines()
            try:
                result = json.loads(lines[-1]) if lines else {}
            except ValueError:
                result = {}
            if not result:
                raise GuestError(f"{name} gave no result (rc={res.rc}):\n{res.err[-3000:]}")
            _cache[name] = Scenario(name, out, result, res)
        return _cache[name]

    return _run


def test_hidden_ssid_not_broadcast_but_joinable(feature: Run) -> None:
    """Hidden SSID: a plain scan sees the BSSID with an empty SSID; a scan_ssid=1 station joins."""
    sc = feature("r2wifi_hidden")
    assert sc.ok, sc.explain()
    assert "ignore_broadcast_ssid=1" in sc.log("hostapd-conf.log")
    assert sc.result["data"]["scan_ssid_of_bssid"] == "", sc.log("scan.log")
    assert sc.result["data"]["ssid_in_plain_scans"] is False
    assert f"CTRL-EVENT-CONNECTED - Connection to {AP_MAC} completed" in sc.log("wpa_supplicant.log")
    assert f"AP-STA-CONNECTED {STA1}" in sc.log("hostapd.log")


def test_isolated_clients_reach_the_ap_not_each_other(feature: Run) -> None:
    """isolate_clients: both stations ping the AP; station 1 cannot ping station 2."""
    sc = feature("r2wifi_isolate")
    assert sc.ok, sc.explain()
    assert "ap_isolate=1" in sc.log("hostapd-conf.log")
    steps = [s["what"] for s in sc.result["steps"] if s["ok"]]
    assert "station 1 pings the AP" in steps and "station 2 pings the AP" in steps, steps
    assert sc.result["data"]["peer_ping"] is False, sc.result["data"]["neigh"]
    assert sc.result["data"]["ap_ping_after"] is True
    assert not re.search(r"192\.168\.77\.11 lladdr", sc.result["data"]["neigh"]), sc.result["data"]["neigh"]


def test_without_isolation_clients_reach_each_other(feature: Run) -> None:
    """Control: isolate_clients = false, station 1 pings station 2."""
    sc = feature("r2wifi_no_isolate")
    assert sc.ok, sc.explain()
    assert "ap_isolate" not in sc.log("hostapd-conf.log")
    assert sc.result["data"]["peer_ping"] is True
    assert re.search(rf"192\.168\.77\.11 lladdr {STA2}", sc.result["data"]["neigh"]), sc.result["data"]["neigh"]


@pytest.mark.parametrize("mode", ["allow", "deny"])
def test_mac_filter_refuses_station_1(feature: Run, mode: str) -> None:
    """mac_filter allow (station 2 listed) / deny (station 1 listed): station 2 joins, station 1 is rejected."""
    sc = feature(f"r2wifi_mac_{mode}")
    assert sc.ok, sc.explain()
    conf = sc.log("hostapd-conf.log")
    assert f"macaddr_acl={1 if mode == 'allow' else 0}" in conf
    assert f"{'accept' if mode == 'allow' else 'deny'}_mac_file=" in conf
    assert f"AP-STA-CONNECTED {STA2}" in sc.log("hostapd.log")
    assert f"AP-STA-CONNECTED {STA1}" not in sc.log("hostapd.log")
    w1 = sc.log("wpa_supplicant.log")
    assert "CTRL-EVENT-CONNECTED" not in w1
    # hostapd 2.10 logs the ACL refusal only at -d; the station sees it: status 1 (unspecified failure)
    assert len(re.findall(rf"CTRL-EVENT-AUTH-REJECT {AP_MAC} .*status_code=1\b", w1)) >= 2, w1[-2000:]
    listed = STA2 if mode == "allow" else STA1
    assert [ln for ln in sc.log("maclist.log").splitlines() if not ln.startswith("#")] == [listed]
    assert "CTRL-EVENT-CONNECTED" in sc.log("wpa_supplicant-sta2.log")
    assert sc.result["data"]["status_stations"] == [STA2]


def test_dhcp_reservation_gets_its_address_and_name(feature: Run) -> None:
    """[[dhcp.reservation]]: station 1 gets the reserved address (outside the pool) and name; station 2 a pool one."""
    sc = feature("r2wifi_dhcp_reservation")
    assert sc.ok, sc.explain()
    data = sc.result["data"]
    assert data["leases"]["1"] == RESERVED_IP, data["leases"]
    pool = data["leases"]["2"]
    assert pool and 50 <= int(pool.rsplit(".", 1)[1]) <= 99, pool
    assert re.search(rf"^\d+ {STA1} {re.escape(RESERVED_IP)} {RESERVED_NAME} ", data["lease_file"], re.M), \
        data["lease_file"]
    assert f"DHCPACK(wlan0) {RESERVED_IP} {STA1} {RESERVED_NAME}" in sc.log("dnsmasq.log")
    clients = {s["mac"]: s for s in data["status_stations"] or []}
    assert clients[STA1]["ip"] == RESERVED_IP and clients[STA1]["hostname"] == RESERVED_NAME, clients
    assert clients[STA2]["ip"] == pool, clients
