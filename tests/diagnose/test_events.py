"""parse_line: the public single-line parser the supervisor uses on live output."""

from __future__ import annotations

import pytest

from r2wifi.logs.events import KEYWORDS, RULES, parse_line, wmt_marker
from r2wifi.logs.model import K


def one(raw: str):
    evs = parse_line(raw, file="live", line=7)
    assert len(evs) == 1, evs
    assert (evs[0].file, evs[0].line) == ("live", 7)
    return evs[0]


def test_hostapd_stdout_lifecycle_lines() -> None:
    """Live hostapd stdout: AP-ENABLED, AP-STA-CONNECTED and an EAPOL-Key timeout."""
    assert one("ap0: AP-ENABLED").kind == K.AP_ENABLED
    e = one("ap0: AP-STA-CONNECTED 02:00:00:00:01:00")
    assert (e.kind, e.station, e.iface, e.source) == (K.STA_CONNECTED, "02:00:00:00:01:00", "ap0", "hostapd")
    e = one("ap0: STA 02:00:00:00:01:00 WPA: EAPOL-Key timeout")
    assert (e.kind, e.station) == (K.EAPOL_TIMEOUT, "02:00:00:00:01:00")


def test_kmsg_tx_queue_stop_and_wake() -> None:
    """/dev/kmsg records of the MediaTek TX queue stop/wake markers."""
    e = one("4,812,93000123,-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512")
    assert (e.kind, e.params["queue_len"], e.uptime, e.source) == (K.TXQ_STOP, 512, pytest.approx(93.000123), "kernel")
    e = one("4,813,93100000,-;kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0")
    assert e.kind == K.TXQ_WAKE


@pytest.mark.parametrize("raw,kind,params", [
    ("wlan0: STA aa:bb:cc:dd:ee:01 WPA: sending 1/4 msg of 4-Way Handshake", K.EAPOL_TX, {"msg": 1, "group": False}),
    ("wlan0: STA aa:bb:cc:dd:ee:01 WPA: received EAPOL-Key frame (2/4 Pairwise)", K.EAPOL_RX, {"msg": 2, "group": False}),
    ("wlan0: STA aa:bb:cc:dd:ee:01 WPA: sending 1/2 msg of Group Key Handshake", K.EAPOL_TX, {"msg": 1, "group": True}),
    ("wlan0: STA aa:bb:cc:dd:ee:01 WPA: invalid MIC in msg 2/4 of 4-Way Handshake", K.INVALID_MIC, {"msg": 2}),
    ("wlan0: STA aa:bb:cc:dd:ee:01 WPA: PTKSTART: Retry limit 4 reached", K.RETRY_LIMIT, {"state": "PTKSTART"}),
    ("wlan0: STA aa:bb:cc:dd:ee:01 IEEE 802.11: disassociated due to inactivity", K.INACTIVITY, {"cleanup": False}),
    ("wlan0: STA aa:bb:cc:dd:ee:01 IEEE 802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)",
     K.INACTIVITY, {"cleanup": True}),
    ("wlan0: STA aa:bb:cc:dd:ee:01 MLME: MLME-DEAUTHENTICATE.indication(aa:bb:cc:dd:ee:01, 3)", K.DEAUTH,
     {"reason": 3, "by": None, "mlme": True}),
    ("deauthentication: STA=aa:bb:cc:dd:ee:01 reason_code=3", K.DEAUTH, {"reason": 3, "by": "sta"}),
    ("hostapd_wpa_auth_disconnect: WPA authenticator requests disconnect: STA aa:bb:cc:dd:ee:01 reason 2",
     K.DEAUTH, {"reason": 2, "by": "ap"}),
    ("wlan0: CTRL-EVENT-DISCONNECTED bssid=aa:bb:cc:dd:ee:01 reason=3 locally_generated=1", K.CLIENT_DISCONNECTED,
     {"client": True, "bssid": "aa:bb:cc:dd:ee:01", "reason": 3, "by": "sta"}),
    ("wlan0: CTRL-EVENT-ASSOC-REJECT bssid=00:00:00:00:00:00 status_code=16", K.CLIENT_ASSOC_REJECT,
     {"client": True, "bssid": "00:00:00:00:00:00", "status": 16}),
    ("dnsmasq-dhcp[1]: DHCPACK(wlan0) 192.168.4.20 aa:bb:cc:dd:ee:01 phone", K.DHCP_ACK, {"ip": "192.168.4.20"}),
    ("wlan0: interface state COUNTRY_UPDATE->ENABLED", K.IFACE_STATE, {"old": "COUNTRY_UPDATE", "new": "ENABLED"}),
    ("nl80211: Failed to set interface 4 to mode 3: -95 (Operation not supported)", K.STARTUP_ERROR,
     {"what": "ap_mode_unsupported"}),
])
def test_classification_table(raw: str, kind: str, params: dict[str, object]) -> None:
    """Representative lines of each event family classify to the documented kind and params."""
    e = one(raw)
    assert e.kind == kind and e.params == params


def test_station_taken_from_unprefixed_debug_lines() -> None:
    """hostapd -d lines without an iface prefix still carry the station MAC."""
    e = one("WPA: received EAPOL-Key 2/4 Pairwise with unexpected replay counter")
    assert e.kind == K.REPLAY_MISMATCH and e.station is None
    e = one("hostapd_wpa_auth_disconnect: WPA authenticator requests disconnect: STA d8:9b:3b:d5:88:22 reason 2")
    assert e.station == "d8:9b:3b:d5:88:22" and e.iface is None


def test_benign_and_noise_lines() -> None:
    """Known-harmless lines are BENIGN; uninteresting lines produce nothing."""
    assert one("nl80211: set_key failed; err=-22 Invalid argument)").kind == K.BENIGN
    assert one("[   47.553261] [WMT-CONF][E]wmt_conf_parse_pair(323):unknown field 'mt6620.defAnt'.").kind == K.BENIGN
    assert parse_line("WPA: Send EAPOL(version=2 secure=0 mic=0 ack=1 install=0 pairwise=1)") == []
    assert parse_line("  - hexdump(len=16): 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10") == []


def test_wmt_markers_follow_the_driver_spec() -> None:
    """WMT failure markers of driver-interface.md 7.4 map to their area; 7.3 ones are benign."""
    assert wmt_marker("[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!") == "launcher_missing"
    assert wmt_marker("[WMT-CORE][E]x(1):patch dwn fail (-1),patch_index(0)") == "patch_failed"
    assert wmt_marker("[STP-BTIF][E]x(1):stp btif write fail,len(12),written(0),retry_left(0),pid[1/x]") == "btif_failure"
    assert wmt_marker("[MTK-WIFI] WIFI_write: WMT turn on WIFI fail!") == "wifi_on_failed"
    assert wmt_marker("[WMT-CONSYS-HW][E]mtk_wmt_probe(122):Wmt Cannot find pinctrl default!") == "benign:wmt_pinctrl"


def test_every_rule_needle_holds_a_prefilter_keyword() -> None:
    """The fast prefilter covers every classification rule (else the fast path would miss events): each
    rule's needle contains one of the keywords, so every line holding the needle passes the prefilter."""
    for needle, _rx, _b in RULES:
        assert any(k in needle for k in KEYWORDS), needle


def test_more_general_recognisers() -> None:
    """Firmware-name fallback probing is benign; a client leaving by local choice is a station-side disconnect."""
    e = one("[    5.1] brcmfmac mmc1:0001:1: Direct firmware load for brcm/brcmfmac43455-sdio.raspberrypi,4-model-b.bin failed with error -2")
    assert (e.kind, e.params["what"]) == (K.BENIGN, "firmware_name_fallback")
    e = one("[ 99.1] wlan0: deauthenticating from 11:22:33:44:55:66 by local choice (Reason: 3=DEAUTH_LEAVING)")
    assert (e.kind, e.params["reason"], e.params["by"], e.station) == (K.CLIENT_DISCONNECTED, 3, "sta", "11:22:33:44:55:66")
