"""The fault scenarios with the AP under r2wifi: `r2wifi up --ap` + the `r2wifi run` supervisor.

Each ``sv_<fault>`` scenario of tools/testbed/guest/scenarios.py starts r2wifi's AP on wlan0 (chip
disabled, no DHCP, no shaping), runs the supervisor in the background, injects the fault from the
station side as the raw scenarios do (wrong passphrase, EAPOL dropped at wlan0's egress with
``[ap] extra = ["driver_params=control_port=0"]``, hwsim medium group, ``ip link set down``), gives
the supervisor a few seconds to react, then collects r2wifi's captured hostapd log and the
supervisor's own log (``<state>/ap/supervisor.log``). The diagnose side of these runs is checked by
``test_diagnose_on_fresh_logs`` (parametrised over the same labels) in test_hwsim_scenarios.py.

By design (r2wifi/service/ladder.py) a storm of EAPOL handshake timeouts (``storm_count`` = 5
within ``storm_window`` = 60 s, not configurable from ``[supervisor]``) restarts hostapd; the other
three faults are the client's problem and must leave the AP alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from testbed.scenario import Scenario

pytestmark = [pytest.mark.hwsim, pytest.mark.root, pytest.mark.slow]

STA = "02:00:00:00:01:00"
Run = Callable[..., Scenario]


def recoveries(sc: Scenario) -> list[str]:
    return [ln for ln in sc.log("supervisor.log").splitlines() if "recovery:" in ln or "giving up" in ln]


def assert_ap_left_alone(sc: Scenario) -> None:
    """No recovery step in the supervisor's log, and the same hostapd process before and after."""
    assert "supervising wlan0" in sc.log("supervisor.log"), sc.explain()
    assert recoveries(sc) == [], recoveries(sc)
    before, after = sc.result["data"]["hostapd_pids_before"], sc.result["data"]["hostapd_pids_after"]
    assert len(before) == 1 and after == before, (before, after)


def test_sv_wrong_passphrase_seen_by_r2wifi_ap(scenario: Run) -> None:
    """A station retries with a wrong passphrase against r2wifi's AP: PSK mismatch in r2wifi's hostapd log."""
    sc = scenario("sv_wrong_psk")
    assert sc.ok, sc.explain()
    ap = sc.log("hostapd.log")
    assert re.search(r"^\d+\.\d{6}: r2wifi: started hostapd ", ap, re.M), "not r2wifi's captured log"
    assert f"AP-STA-POSSIBLE-PSK-MISMATCH {STA}" in ap
    assert "EAPOL-4WAY-HS-COMPLETED" not in ap
    assert len(re.findall(r"CTRL-EVENT-SSID-TEMP-DISABLED .*reason=WRONG_KEY", sc.log("wpa_supplicant.log"))) >= 2
    assert "correct-horse-77" not in ap + sc.log("supervisor.log") + sc.log("r2wifi-run.stderr")


def test_sv_wrong_passphrase_does_not_recover_the_ap(scenario: Run) -> None:
    """A wrong client passphrase is the client's problem: the supervisor leaves hostapd alone."""
    sc = scenario("sv_wrong_psk")
    assert sc.ok, sc.explain()
    assert_ap_left_alone(sc)


def test_sv_eapol_drop_storm_restarts_hostapd(scenario: Run) -> None:
    """EAPOL lost at the AP: the timeout storm makes the supervisor restart hostapd (rung 0), once, and it succeeds."""
    sc = scenario("sv_eapol_drop")
    assert sc.ok, sc.explain()
    ap = sc.log("hostapd.log")
    assert len(re.findall(rf"STA {STA} WPA: EAPOL-Key timeout", ap)) >= 5
    steps = recoveries(sc)
    assert steps and re.search(r"recovery: restart-hostapd \(reason: \d+ EAPOL handshake timeouts within \d+ s\)",
                               steps[0]), steps
    assert re.search(r"recovery: restart-hostapd done in ", steps[1]), steps
    assert not any("reset-wifi" in s or "reset-chip" in s or "giving up" in s for s in steps), steps
    before, after = sc.result["data"]["hostapd_pids_before"], sc.result["data"]["hostapd_pids_after"]
    assert len(before) == 1 and len(after) == 1 and after != before, (before, after)
    # the restarted hostapd wrote to the same captured log
    assert len(re.findall(r"r2wifi: started hostapd ", ap)) == 2, "expected the restart in the captured log"


def test_sv_out_of_range_no_ap_recovery(scenario: Run) -> None:
    """A station goes out of range: r2wifi's hostapd drops it for inactivity; the AP is not recovered."""
    sc = scenario("sv_out_of_range")
    assert sc.ok, sc.explain()
    ap = sc.log("hostapd.log")
    assert f"EAPOL-4WAY-HS-COMPLETED {STA}" in ap
    assert re.search(rf"STA {STA} IEEE 802.11: disassociated due to inactivity", ap)
    assert_ap_left_alone(sc)


def test_sv_client_radio_down_no_ap_recovery(scenario: Run) -> None:
    """The client's radio goes down (deauth 3): r2wifi's hostapd sees it leave; the AP is not recovered."""
    sc = scenario("sv_radio_down")
    assert sc.ok, sc.explain()
    ap = sc.log("hostapd.log")
    assert f"AP-STA-DISCONNECTED {STA}" in ap
    assert re.search(rf"MLME-DEAUTHENTICATE\.indication\({STA}, 3\)", ap)
    assert "reason=3 locally_generated=1" in sc.log("wpa_supplicant.log")
    assert_ap_left_alone(sc)


def test_sv_down_after_each_fault(scenario: Run) -> None:
    """After each supervised fault scenario, SIGTERM to `run` + `r2wifi down` succeed."""
    for name in ("sv_wrong_psk", "sv_eapol_drop", "sv_out_of_range", "sv_radio_down"):
        sc = scenario(name)
        assert sc.result["data"].get("down_rc") == 0, sc.explain()
        assert "stopped" in sc.log("supervisor.log").splitlines()[-1], sc.log("supervisor.log")[-500:]
