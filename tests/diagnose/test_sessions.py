"""The per-station session machine: scenarios in the style of hostap's hwsim tests."""

from __future__ import annotations

from .helpers import run_text


def sessions(result, mac):
    for st in result["stations"]:
        if st["mac"] == mac:
            return st["sessions"]
    raise AssertionError(f"no station {mac}")


STA = "02:00:00:00:01:00"


def test_connect_and_leave_with_reason_and_time_to_connect() -> None:
    """auth -> assoc -> handshake -> station leaves (reason 3): one connected session, timed."""
    r = run_text(f"""
        1700000000.000000: wlan0: STA {STA} IEEE 802.11: authenticated
        1700000000.100000: wlan0: STA {STA} IEEE 802.11: associated (aid 1)
        1700000000.350000: wlan0: STA {STA} WPA: pairwise key handshake completed (RSN)
        1700000000.350100: wlan0: AP-STA-CONNECTED {STA}
        1700000060.000000: wlan0: deauthentication: STA={STA} reason_code=3
        1700000060.000100: wlan0: AP-STA-DISCONNECTED {STA}
        1700000060.000200: wlan0: STA {STA} IEEE 802.11: deauthenticated
    """)
    (s,) = sessions(r, STA)
    assert s["outcome"] == "connected" and s["failure_stage"] is None
    assert s["time_to_connect_ms"] == 350.0 and s["duration_s"] == 60.0
    assert (s["disconnect_reason"], s["disconnected_by"]) == (3, "sta")
    assert "leaving" in s["disconnect_reason_text"]


def test_double_disassociated_is_one_disconnect() -> None:
    """A device-SME station prints 'disassociated' twice: one session end, not two."""
    r = run_text(f"""
        wlan0: STA {STA} IEEE 802.11: associated
        wlan0: AP-STA-CONNECTED {STA}
        wlan0: STA {STA} IEEE 802.11: disassociated
        wlan0: AP-STA-DISCONNECTED {STA}
        wlan0: STA {STA} IEEE 802.11: disassociated
    """)
    assert len(sessions(r, STA)) == 1
    assert r["metrics"]["successful_connects"] == 1 and r["metrics"]["failed_connects"] == 0


def test_failure_stage_key_handshake() -> None:
    """Associated, 1/4 sent, then dropped: failed at the key handshake stage."""
    r = run_text(f"""
        wlan0: STA {STA} IEEE 802.11: associated
        wlan0: STA {STA} WPA: sending 1/4 msg of 4-Way Handshake
        wlan0: STA {STA} IEEE 802.11: disassociated
    """)
    (s,) = sessions(r, STA)
    assert (s["outcome"], s["failure_stage"]) == ("failed", "key_handshake")


def test_failure_stage_association() -> None:
    """Authenticated but never associated before the deauth: failed at association."""
    r = run_text(f"""
        wlan0: STA {STA} IEEE 802.11: authenticated
        wlan0: STA {STA} IEEE 802.11: deauthenticated
    """)
    assert sessions(r, STA)[0]["failure_stage"] == "association"


def test_cleanup_inactivity_after_leave_is_not_a_kick() -> None:
    """DEAUTH/REMOVE inactivity after the station left is cleanup (no station_inactivity finding)."""
    r = run_text(f"""
        1700000000.0: wlan0: STA {STA} IEEE 802.11: associated
        1700000000.1: wlan0: AP-STA-CONNECTED {STA}
        1700000100.0: wlan0: STA {STA} IEEE 802.11: disassociated
        1700000101.0: wlan0: STA {STA} IEEE 802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)
    """)
    assert sessions(r, STA)[0]["inactivity"] == "cleanup"
    assert "station_inactivity" not in {f["kind"] for f in r["findings"]}


def test_inactivity_while_connected_is_a_kick() -> None:
    """Disassociated due to inactivity while connected ends the session as a kick."""
    r = run_text(f"""
        wlan0: STA {STA} IEEE 802.11: associated
        wlan0: AP-STA-CONNECTED {STA}
        wlan0: STA {STA} IEEE 802.11: disassociated due to inactivity
    """)
    assert sessions(r, STA)[0]["inactivity"] == "kick"


def test_unknown_station_removed_then_back_quickly_is_a_kick() -> None:
    """Nothing known, removed for inactivity and back within seconds: kicked; 10 minutes later: cleanup."""
    quick = run_text(f"""
        1700000000.000000: wlan1: STA {STA} IEEE 802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)
        1700000002.000000: wlan1: STA {STA} IEEE 802.11: authenticated
    """)
    late = run_text(f"""
        1700000000.000000: wlan1: STA {STA} IEEE 802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)
        1700000600.000000: wlan1: STA {STA} IEEE 802.11: associated
    """)
    assert sessions(quick, STA)[0]["inactivity"] == "kick"
    assert sessions(late, STA)[0]["inactivity"] == "cleanup"


def test_new_run_resets_sessions_at_configuration_file() -> None:
    """A new hostapd run (Configuration file:) ends open sessions as ap_restart, not as failures."""
    r = run_text(f"""
        Configuration file: /etc/hostapd.conf
        wlan0: AP-ENABLED
        wlan0: STA {STA} IEEE 802.11: associated
        Configuration file: /etc/hostapd.conf
        wlan0: AP-ENABLED
    """)
    assert sessions(r, STA)[0]["outcome"] == "ap_restart"
    assert r["metrics"]["ap_restarts"] == 1 and r["metrics"]["failed_connects"] == 0


def test_ap_shutdown_ends_sessions_as_ap_stopped() -> None:
    """The AP stopping ends every session with outcome ap_stopped (not a client problem)."""
    r = run_text(f"""
        wlan0: interface state UNINITIALIZED->ENABLED
        wlan0: STA {STA} IEEE 802.11: associated (aid 1)
        wlan0: AP-STA-CONNECTED {STA}
        wlan0: interface state ENABLED->DISABLED
        wlan0: AP-STA-DISCONNECTED {STA}
        wlan0: AP-DISABLED
    """)
    assert sessions(r, STA)[0]["outcome"] == "ap_stopped"
    assert {f["kind"] for f in r["findings"]} == {"clean_shutdown"}


def test_dhcp_stage_when_dnsmasq_lines_given() -> None:
    """Connected, DHCPDISCOVER without an ACK, then gone: the failure stage is DHCP."""
    r = run_text(f"""
        Jan  1 00:00:00 ap hostapd: wlan0: STA {STA} IEEE 802.11: associated
        Jan  1 00:00:01 ap hostapd: wlan0: AP-STA-CONNECTED {STA}
        Jan  1 00:00:02 ap dnsmasq-dhcp[9]: DHCPDISCOVER(wlan0) {STA}
        Jan  1 00:00:40 ap hostapd: wlan0: AP-STA-DISCONNECTED {STA}
    """)
    s = sessions(r, STA)[0]
    assert (s["dhcp"], s["failure_stage"]) == ("requested", "dhcp")
    ok = run_text(f"""
        Jan  1 00:00:00 ap hostapd: wlan0: AP-STA-CONNECTED {STA}
        Jan  1 00:00:02 ap dnsmasq-dhcp[9]: DHCPACK(wlan0) 10.0.0.5 {STA} phone
    """)
    assert sessions(ok, STA)[0]["dhcp"] == "ack"


def test_timeline_is_bounded() -> None:
    """A station's timeline keeps only the most recent entries."""
    body = "\n".join(f"wlan0: STA {STA} IEEE 802.11: authenticated" for _ in range(500))
    r = run_text(body)
    st = r["stations"][0]
    assert 0 < len(st["timeline"]) <= 200 and st["timeline"][-1]["line"] == 500
