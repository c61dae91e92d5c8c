"""Metrics per AP and per station: connects, time to connect, session lengths, reasons, restarts, TX stalls."""

from __future__ import annotations

from .helpers import run_text

A = "02:00:00:00:01:00"
B = "02:00:00:00:02:00"


def test_connect_metrics_and_percentiles() -> None:
    """Two stations, three connects with 100/200/300 ms to connect, one failed attempt."""
    r = run_text(f"""
        Configuration file: h.conf
        1700000000.000000: wlan0: STA {A} IEEE 802.11: associated
        1700000000.100000: wlan0: AP-STA-CONNECTED {A}
        1700000010.000000: wlan0: STA {A} MLME: MLME-DISASSOCIATE.indication({A}, 8)
        1700000020.000000: wlan0: STA {A} IEEE 802.11: associated
        1700000020.200000: wlan0: AP-STA-CONNECTED {A}
        1700000030.000000: wlan0: STA {B} IEEE 802.11: associated
        1700000030.300000: wlan0: AP-STA-CONNECTED {B}
        1700000040.000000: wlan0: STA {B} MLME: MLME-DEAUTHENTICATE.indication({B}, 2)
        1700000050.000000: wlan0: STA {B} IEEE 802.11: associated
        1700000051.000000: wlan0: STA {B} IEEE 802.11: disassociated
        Configuration file: h.conf
    """)
    m = r["metrics"]
    assert (m["successful_connects"], m["failed_connects"]) == (3, 1)
    assert m["time_to_connect_ms"]["p50"] == 200.0 and m["time_to_connect_ms"]["n"] == 3
    assert m["disconnects_by_reason"] == {"2": 1, "8": 1}
    assert m["ap_restarts"] == 1 and m["stations"] == 2
    assert m["per_station"][A]["successful_connects"] == 2
    assert m["per_station"][B]["failed_connects"] == 1
    assert m["per_ap"]["wlan0"]["successful_connects"] == 3


def test_tx_stall_episodes() -> None:
    """A TX queue stopped and never woken again is one stall episode."""
    r = run_text("""
        6,1,1000000,-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512
        6,2,1200000,-;kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0
        6,3,2000000,-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512
        6,4,30000000,-;[WMT-CORE][I]wmt_core_func:other
    """)
    m = r["metrics"]
    assert m["tx_queue"]["stops"] == 2 and m["tx_queue"]["wakes"] == 1
    assert m["tx_stall_episodes"] == 2
    assert "tx_queue_stall" in {f["kind"] for f in r["findings"]}


def test_no_timestamps_no_percentiles() -> None:
    """Without timestamps connect times are unknown (null), counts still work."""
    r = run_text(f"wlan0: STA {A} IEEE 802.11: associated\nwlan0: AP-STA-CONNECTED {A}\n")
    assert r["metrics"]["time_to_connect_ms"]["p50"] is None
    assert r["metrics"]["successful_connects"] == 1
