"""r2wifi itself as the AP on real nl80211 (mac80211_hwsim in the QEMU guest).

One guest scenario (``r2wifi_ap`` in tools/testbed/guest/scenarios.py, run once per session) does,
in order: ``r2wifi up --ap`` with ``[chip] enabled = false`` on wlan0 and HTB shaping at 2 Mbit/s;
a real wpa_supplicant station connects and takes a DHCP lease; ``r2wifi status --json``; a TCP
stream AP -> station; ``r2wifi down``; then ``r2wifi run`` (the supervisor), the station comes back,
``kill -9`` of hostapd, the supervisor restarts it and the station reconnects; SIGTERM; ``down``.
Each test checks one part of that story.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from testbed.scenario import Scenario

pytestmark = [pytest.mark.hwsim, pytest.mark.root, pytest.mark.slow]

STA = "02:00:00:00:01:00"
Run = Callable[..., Scenario]


def cli_calls(sc: Scenario, verb: str) -> list[dict[str, Any]]:
    return [c for c in sc.result["data"].get("cli", []) if c["args"][0] == verb]


def step(sc: Scenario, prefix: str) -> dict[str, Any] | None:
    return next((s for s in sc.result["steps"] if s["what"].startswith(prefix)), None)


def test_up_ap_station_connects_and_gets_a_lease(scenario: Run) -> None:
    """`r2wifi up --ap` (chip disabled) runs hostapd on wlan0; a station completes WPA2 and gets DHCP."""
    sc = scenario("r2wifi_ap")
    up = cli_calls(sc, "up")
    assert up and up[0]["rc"] == 0, sc.explain()
    assert (step(sc, "wpa_supplicant.log: /CTRL-EVENT-CONNECTED/") or {}).get("ok"), sc.explain()
    ap_log = sc.log("up-hostapd.log")
    assert f"AP-STA-CONNECTED {STA}" in ap_log
    lease = sc.result["data"].get("lease")
    assert lease and lease.startswith("192.168.77."), sc.explain()


def test_passphrase_never_in_logs_or_output(scenario: Run) -> None:
    """The AP passphrase appears in none of r2wifi's logs, status JSON or command output."""
    sc = scenario("r2wifi_ap")
    secret = "correct-horse-77"
    for name in ("up-hostapd.log", "hostapd.log", "up-dnsmasq.log", "dnsmasq.log", "r2wifi-run.stderr"):
        assert secret not in sc.log(name), name
    assert secret not in json.dumps(sc.result["data"])


def test_status_json_lists_the_station_with_signal(scenario: Run) -> None:
    """`r2wifi status --json` shows hostapd ENABLED and the station with its signal."""
    sc = scenario("r2wifi_ap")
    st = sc.result["data"].get("status_connected") or {}
    assert (st.get("hostapd") or {}).get("state") == "ENABLED", json.dumps(st)[:2000]
    stations = {s.get("mac"): s for s in st.get("stations", [])}
    assert STA in stations, json.dumps(st)[:2000]
    signal = int(stations[STA]["signal_dbm"])
    assert -100 < signal < 0  # hwsim: txpower - 50 dBm


def test_shaping_rate_is_enforced_on_air(scenario: Run) -> None:
    """TCP AP -> station through r2wifi's HTB class runs close to the configured 2 Mbit/s."""
    sc = scenario("r2wifi_ap")
    tput = sc.result["data"].get("throughput") or {}
    rate = sc.result["data"]["shaping_rate_bps"] / 1e6
    assert "mbit" in tput, sc.explain()
    # generous band: shaping is on (well below hwsim's >50 Mbit/s) and the class is not starved
    assert 0.6 * rate < tput["mbit"] < 1.15 * rate, tput
    shaping = ((sc.result["data"].get("status_connected") or {}).get("interface_state") or {}).get("shaping") or {}
    assert shaping.get("kind") == "htb" and shaping.get("direct_packets") == 0, shaping


def test_down_leaves_nothing_behind(scenario: Run) -> None:
    """After `r2wifi down`: no hostapd or dnsmasq, no address and no HTB qdisc on wlan0."""
    sc = scenario("r2wifi_ap")
    assert sc.result["data"].get("down_rc") == 0, sc.explain()
    left = sc.result["data"]["after_down"]
    assert left["hostapd_procs"] == [] and left["dnsmasq_procs"] == [], left
    assert "192.168.77.1" not in left["addresses"], left
    assert "htb" not in left["qdisc"], left


def test_supervisor_restarts_killed_hostapd_and_station_reconnects(scenario: Run) -> None:
    """Under `r2wifi run`, kill -9 hostapd: the supervisor restarts it and the station reconnects."""
    sc = scenario("r2wifi_ap")
    assert sc.ok, sc.explain()
    before, after = sc.result["data"]["hostapd_pids_before"], sc.result["data"]["hostapd_pids_after"]
    assert len(after) == 1 and after != before
    assert (step(sc, "station reconnected after kill -9") or {}).get("ok"), sc.explain()
    run_log = sc.log("r2wifi-run.stderr") or ""
    assert re.search(r"recovery: restart-hostapd \(reason: hostapd exited\)", run_log), run_log[-1500:]
    # r2wifi's captured hostapd log (wall-clock stamps) shows the station connecting after the kill
    kill = sc.result["data"]["kill_time"]
    after = [float(m.group(1)) for m in re.finditer(rf"^(\d+\.\d+): .*AP-STA-CONNECTED {STA}", sc.log("hostapd.log"), re.M)]
    assert any(t > kill for t in after), (kill, after)


def test_down_after_supervised_run_leaves_nothing(scenario: Run) -> None:
    """`status` sees the supervised hostapd; after SIGTERM to `run` + `down` nothing is left on wlan0."""
    sc = scenario("r2wifi_ap")
    assert sc.ok, sc.explain()
    assert sc.result["data"].get("status_pid_under_run"), "status shows no hostapd pid under run"
    left = sc.result["data"]["after_run_down"]
    assert left["hostapd_procs"] == [] and left["dnsmasq_procs"] == [], left
    assert "192.168.77.1" not in left["addresses"] and "htb" not in left["qdisc"], left


def test_diagnose_on_r2wifi_logs(scenario: Run, run_cli: Callable[..., Any]) -> None:
    """`r2wifi diagnose --json` on the supervised AP's logs sees the completed handshake, no PSK problem."""
    sc = scenario("r2wifi_ap")
    files = [str(sc.outdir / n) for n in ("hostapd.log", "wpa_supplicant.log") if (sc.outdir / n).exists()]
    assert files, sc.explain()
    proc = run_cli("diagnose", *files, "--json")
    assert proc.returncode in (0, 1), proc.stderr  # 1: a finding of severity error (diagnose --fail-on)
    kinds = {f["kind"] for f in json.loads(proc.stdout)["findings"]}
    assert "handshake_completed" in kinds, kinds
    # (a single EAPOL-Key retransmission under TCG load is real, so handshake_timeout is not excluded)
    assert not kinds & {"wrong_passphrase", "startup_failure"}, kinds
