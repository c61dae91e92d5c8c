"""Each catalogue rule: a small positive excerpt reports it, a near-miss negative does not."""

from __future__ import annotations

import pytest

from r2wifi.diagnose.rules import RULES

from .helpers import run_text

A = "02:00:00:00:01:00"
B = "02:00:00:00:02:00"
C = "02:00:00:00:03:00"
T = "1700000000"

CONNECT = f"wlan0: STA {A} IEEE 802.11: associated (aid 1)\nwlan0: AP-STA-CONNECTED {A}\n"
HS = f"wlan0: STA {A} WPA: pairwise key handshake completed (RSN)\n"


def loop(n: int) -> str:
    return "".join(f"wlan0: STA {A} IEEE 802.11: associated\nwlan0: STA {A} IEEE 802.11: disassociated\n" for _ in range(n))


def churn(n: int, gap: int) -> str:
    out = []
    t = 0
    for _ in range(n):
        out.append(f"{T[:-4]}{t:04d}.000000: wlan0: AP-STA-CONNECTED {A}")
        t += gap
        out.append(f"{T[:-4]}{t:04d}.000000: wlan0: AP-STA-DISCONNECTED {A}")
        t += 1
    return "\n".join(out) + "\n"


GTK = f"wlan0: STA {A} WPA: sending 1/2 msg of Group Key Handshake\nwlan0: STA {A} WPA: EAPOL-Key timeout\n"
PTK = f"wlan0: STA {A} WPA: sending 1/4 msg of 4-Way Handshake\nwlan0: STA {A} WPA: EAPOL-Key timeout\n"

# code -> (severity expected, positive excerpt, negative excerpt)
CASES: dict[str, tuple[str, str, str]] = {
    "R2W101": ("info", CONNECT + HS, CONNECT + f"wlan0: STA {A} WPA: group key handshake completed (RSN)\n"),
    "R2W102": ("warning", loop(3), loop(2)),
    "R2W103": ("warning", churn(4, 30), churn(1, 30)),
    "R2W104": ("warning", PTK, GTK),
    "R2W105": ("warning", CONNECT.split("\n")[0] + "\n" + PTK + f"wlan0: STA {A} IEEE 802.11: disassociated\n",
               CONNECT.split("\n")[0] + "\n" + PTK
               + f"wlan0: STA {A} WPA: received EAPOL-Key frame (2/4 Pairwise)\nwlan0: STA {A} IEEE 802.11: disassociated\n"),
    "R2W106": ("warning", f"wlan0: STA {A} WPA: invalid MIC in msg 2/4 of 4-Way Handshake\n",
               f"wlan0: STA {A} WPA: invalid MIC in msg 2/4 of 4-Way Handshake\n" + CONNECT + HS),
    "R2W107": ("warning", f"wlan0: STA {A} WPA: received EAPOL-Key 2/2 Group with unexpected replay counter\n",
               f"wlan0: STA {A} WPA: received EAPOL-Key frame (2/2 Group)\n"),
    "R2W108": ("warning", GTK, PTK),
    "R2W109": ("warning", f"wlan0: STA {A} MLME: MLME-DEAUTHENTICATE.indication({A}, 2)\n",
               f"wlan0: STA {A} IEEE 802.11: deauthenticated\n"),
    "R2W110": ("info", f"disassocation: STA={A} reason_code=8\n",
               f"hostapd_wpa_auth_disconnect: WPA authenticator requests disconnect: STA {A} reason 2\n"),
    "R2W111": ("warning", CONNECT + f"wlan0: STA {A} IEEE 802.11: disassociated due to inactivity\n",
               CONNECT + f"wlan0: STA {A} IEEE 802.11: disassociated\n"
               f"wlan0: STA {A} IEEE 802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)\n"),
    "R2W112": ("warning", "".join(f"{T}.{i:06d}: wlan0: STA {A} IEEE 802.11: authenticated\n" for i in range(5)),
               f"wlan0: STA {A} IEEE 802.11: authenticated\nwlan0: STA {A} IEEE 802.11: associated\n" * 3),
    "R2W113": ("warning", "".join(f"{T}.{i:06d}: wlan0: STA {m} IEEE 802.11: associated\n" for i, m in enumerate((A, B, C)))
               + "".join(f"{T[:-1]}5.{i:06d}: wlan0: STA {m} IEEE 802.11: disassociated\n" for i, m in enumerate((A, B, C))),
               "".join(f"{T}.{i:06d}: wlan0: STA {m} IEEE 802.11: associated\n" for i, m in enumerate((A, B, C)))
               + "".join(f"{T[:-3]}{i}00.000000: wlan0: STA {m} IEEE 802.11: disassociated\n" for i, m in enumerate((A, B, C), 1))),
    "R2W114": ("warning", f"Station {A} not allowed to authenticate\n", f"wlan0: STA {A} IEEE 802.11: authenticated\n"),
    "R2W115": ("warning", "wlan0: CTRL-EVENT-ASSOC-REJECT bssid=00:00:00:00:00:00 status_code=16\n",
               "wlan0: CTRL-EVENT-CONNECTED - Connection to 04:95:e6:3b:58:e1 completed [id=0 id_str=]\n"),
    "R2W116": ("warning", "[42231.799368] wlan7: authentication with b8:27:eb:33:98:14 timed out\n",
               "[42231.583434] wlan7: send auth to b8:27:eb:33:98:14 (try 2/3)\n"),
    "R2W117": ("warning", "wlan0: WPA: Invalid EAPOL-Key MIC - dropping packet\n",
               "wlan0: WPA: Key negotiation completed with 04:95:e6:3b:58:e1 [PTK=CCMP GTK=CCMP]\n"),
    "R2W120": ("info", "nl80211: set_key failed; err=-22 Invalid argument)\n", "nl80211: set_key ok\n"),
    "R2W121": ("info", "wlan0: interface state UNINITIALIZED->ENABLED\nwlan0: interface state ENABLED->DISABLED\n",
               "wlan0: interface state UNINITIALIZED->DISABLED\n"),
    "R2W201": ("error", "Configuration file: h.conf\nnl80211 driver initialization failed.\nwlan1: AP-DISABLED\n",
               "Configuration file: h.conf\nwlan1: interface state UNINITIALIZED->ENABLED\nwlan1: AP-ENABLED\n"),
    "R2W202": ("error", "Configuration file: h.conf\nnl80211: Could not configure driver mode\n",
               "Configuration file: h.conf\nnl80211: Failed to set interface 4 to mode 3: -95 (Operation not supported)\n"
               "nl80211: Could not configure driver mode\n"),
    "R2W203": ("error", "nl80211: Failed to set interface 4 to mode 3: -95 (Operation not supported)\n",
               "nl80211: Set mode ifindex 4 iftype 3 (AP)\n"),
    "R2W204": ("error", "Could not set channel for kernel driver\n", "Mode: IEEE 802.11a  Channel: 36  Frequency: 5180 MHz\n"),
    "R2W205": ("error", "Management frame protection (ieee80211w) not supported by the driver\n",
               "nl80211: Driver does not support authentication/association or connect commands\n"
               "TDLS: Driver does not support TDLS channel switching\n"
               "nl80211: Driver does not support rekey offload\n"),
    "R2W206": ("error", "Could not read interface wlan1mon flags: No such device\n",
               "[ 25.2] IPv6: ADDRCONF(NETDEV_UP): wlan0: link is not ready\n"
               "[ 25.3] IPv6: ADDRCONF(NETDEV_CHANGE): wlan0: link becomes ready\n"),
    "R2W207": ("error", "Could not set interface wlan1mon flags (DOWN): Operation not permitted\n",
               "Could not set interface wlan1mon flags (DOWN): ok\n"),
    "R2W208": ("warning", "random: Only 0/20 bytes of strong random data available from /dev/random\n",
               "random: Got 20/20 bytes from /dev/random\n"),
    "R2W209": ("warning", "wlan0: AP-ENABLED\nwlan0: INTERFACE-DISABLED\nwlan0: INTERFACE-ENABLED\n",
               "wlan0: AP-ENABLED\nwlan0: INTERFACE-DISABLED\n"),
    "R2W210": ("error", "nl80211: Register frame command failed (type=208): ret=-114 (Operation already in progress)\n",
               "nl80211: Register frame type=0xd0 nl_handle=0x14e8790 match=\n"),
    "R2W301": ("warning", "[ 380.1] brcmfmac: brcmf_add_if: ERROR: netdev:wlan0 already exists\n",
               "[ 380.1] brcmfmac: brcmf_cfg80211_set_power_mgmt: power save enabled\n"),
    "R2W302": ("error", "[ 381.2] ieee80211 phy0: brcmf_fw_crashed: Firmware has halted or crashed\n",
               "[ 381.2] ieee80211 phy0: brcmf_cfg80211_get_station: connected\n"),
    "R2W303": ("error", "[1.0] ieee80211 phy0: brcmf_proto_bcdc_query_dcmd: brcmf_proto_bcdc_msg failed w/status -110\n",
               "[1.0] ieee80211 phy0: brcmf_proto_bcdc_query_dcmd: ok\n"),
    "R2W304": ("error", "[1.0] mmc1: Timeout waiting for hardware interrupt.\n", "[1.0] mmc1: new high speed SDIO card\n"),
    "R2W305": ("warning", "".join(f"[ 334.{i:06d}] ieee80211 phy1: rt2x00queue_write_tx_frame: Error - Dropping frame "
                                  "due to full tx queue 2\n" for i in range(3)),
               "6,1,1000000,-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512\n"
               "6,2,1001000,-;kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0\n"
               "6,3,9000000,-;kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0\n"),
    "R2W306": ("warning", "[1212.5] WARNING: CPU: 0 PID: 91 at net/wireless/sme.c:752 __cfg80211_connect_result+0x388/0x400\n",
               "[1212.5] cfg80211: World regulatory domain updated\n"),
    "R2W307": ("error", "[71.5] rtl8187: disagrees about version of symbol ieee80211_free_hw\n",
               "[71.5] rtl8187: registered new interface driver\n"),
    "R2W308": ("error", "[47.5] [WLAN-MOD-INIT][I]do_wlan_drv_init:CONFIG_MTK_COMBO_WIFI is not defined\n",
               "[47.5] [WLAN-MOD-INIT][I]do_wlan_drv_init:finish wlan module init\n"),
    # driver-interface.md 11.2: ret:-1 alone is the compiled-out BT part of every healthy boot (benign);
    # a second DO_MODULE_INIT fails with -16 and aborts the connectivity init
    "R2W401": ("error", "[47.5] [WCN-MOD-INIT][E]do_connectivity_driver_init(58):do common driver init failed, ret:-16\n"
               "[47.5] [WCN-MOD-INIT][E]do_connectivity_driver_init(60):abort connectivity driver init, because "
               "common part is not ready\n",
               "[47.5] [WCN-MOD-INIT][E]do_connectivity_driver_init(58):do common driver init failed, ret:-1\n"
               "[47.6] [MTK-WIFI] WIFI_init: mtk_wmt_WIFI_chrdev driver(major 155) installed.\n"),
    "R2W402": ("error", "[9.1] [WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!\n",
               "[9.1] [WMT-CORE][I]wmt_core_stp_init:WMT-CORE: WMT HIF info added\n"),
    "R2W403": ("error", "[9.1] [WMT-CORE][E]wmt_core_patch(1):patch dwn fail (-1),patch_index(0)\n",
               "[9.1] [WMT-CORE][I]wmt_core_patch:wmt_core: patch dwn:0 frag(1, 2) ok\n"),
    "R2W404": ("error", "[9.1] [STP-BTIF][E]stp_btif_tx(1):stp btif write fail,len(12),written(0),retry_left(0),pid[1/x]\n",
               "[9.1] [STP-BTIF][I]stp_btif_tx:written(12)\n"),
    "R2W405": ("error", "[9.1] [MTK-WIFI] WIFI_write: WMT turn on WIFI fail!\n",
               "[9.1] [MTK-WIFI] WIFI_write: WMT turn on WIFI success!\n"),
    "R2W502": ("warning", "2026-12-05T21:00:00.123 recovery: restart-hostapd (reason: TX queue stalled for 30 s)\n"
                          "2026-12-05T21:00:03.456 recovery: restart-hostapd done in 3.33 s (verified)\n",
               "2026-12-05T21:00:00.123 supervising ap0 (stall after 30 s, at most 5 recoveries in 600 s)\n"),
    "R2W501": ("error", "Jan  1 00:00:00 box systemd[1]: hostapd.service: Failed with result 'exit-code'.\n",
               "Jan  1 00:00:00 box systemd[1]: hostapd.service: Succeeded.\n"),
}


def test_every_rule_has_a_case() -> None:
    """Every rule of the catalogue has a positive and a negative test excerpt here."""
    assert sorted(r.code for r in RULES) == sorted(CASES)


def test_codes_and_kinds_are_unique() -> None:
    """Codes are unique; each rule names a kind and a valid severity."""
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes))
    assert all(r.severity in ("info", "warning", "error") and r.kind and r.fix for r in RULES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_positive(code: str) -> None:
    """The positive excerpt reports the rule with its kind, severity and evidence."""
    severity, pos, _neg = CASES[code]
    r = run_text(pos)
    found = [f for f in r["findings"] if f["code"] == code]
    assert found, f"{code} not reported; got {[f['code'] for f in r['findings']]}"
    f = found[0]
    rule = next(x for x in RULES if x.code == code)
    assert f["kind"] == rule.kind and f["severity"] == severity
    assert f["evidence"] and all({"file", "line"} <= set(e) for e in f["evidence"])


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_negative(code: str) -> None:
    """The near-miss excerpt does not report the rule at that severity."""
    severity, _pos, neg = CASES[code]
    r = run_text(neg)
    assert not [f for f in r["findings"] if f["code"] == code and f["severity"] == severity]


def test_deauth_reason_one_finding_per_code_and_leaving_is_info() -> None:
    """deauth_reason: one finding per distinct reason code; 3 and 8 are info, 2 is a warning."""
    r = run_text(f"""
        wlan0: STA {A} MLME: MLME-DEAUTHENTICATE.indication({A}, 3)
        wlan0: STA {B} MLME: MLME-DEAUTHENTICATE.indication({B}, 3)
        wlan0: STA {C} MLME: MLME-DEAUTHENTICATE.indication({C}, 2)
    """)
    got = {(f["params"]["reason"], f["severity"]) for f in r["findings"] if f["kind"] == "deauth_reason"}
    assert got == {(3, "info"), (2, "warning")}


def test_password_vs_mic_after_success() -> None:
    """A bad MIC is a wrong passphrase only if that station never completes a handshake."""
    bad = run_text(f"wlan0: STA {A} WPA: invalid MIC in msg 2/4 of 4-Way Handshake\nwlan0: AP-STA-POSSIBLE-PSK-MISMATCH {A}\n")
    assert [f["stations"] for f in bad["findings"] if f["kind"] == "wrong_passphrase"] == [[A]]


def test_evidence_is_capped() -> None:
    """Evidence lists stay short whatever the number of occurrences."""
    r = run_text("nl80211: set_key failed; err=-22 Invalid argument)\n" * 500)
    f = next(f for f in r["findings"] if f["kind"] == "benign_noise")
    assert len(f["evidence"]) <= 12 and f["count"] == 500


def test_client_wrong_key_is_a_wrong_passphrase() -> None:
    """wpa_supplicant's SSID-TEMP-DISABLED reason=WRONG_KEY is the client-side password case; CONN_FAILED is not."""
    bad = run_text('wlan0: CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Home" auth_failures=1 duration=10 reason=WRONG_KEY\n')
    other = run_text('wlan0: CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Home" auth_failures=3 duration=30 reason=CONN_FAILED\n')
    assert "wrong_passphrase" in {f["kind"] for f in bad["findings"]}
    assert "wrong_passphrase" not in {f["kind"] for f in other["findings"]}


def test_cleanup_deauth_reason_2_is_not_a_disconnect_reason() -> None:
    """hostapd's reason-2 deauth while removing a station that already left is benign, not deauth_reason=2."""
    r = run_text(f"""
        wlan0: STA {A} IEEE 802.11: associated
        wlan0: AP-STA-CONNECTED {A}
        wlan0: STA {A} MLME: MLME-DISASSOCIATE.indication({A}, 8)
        wlan0: STA {A} IEEE 802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)
        wlan0: STA {A} MLME: MLME-DEAUTHENTICATE.indication({A}, 2)
    """)
    reasons = {f["params"]["reason"] for f in r["findings"] if f["kind"] == "deauth_reason"}
    assert reasons == {8}
    assert r["verdict"]["status"] == "ok"


def test_recovered_timeouts_are_info() -> None:
    """An EAPOL-Key timeout followed by a completed handshake is info; one never recovered is a warning."""
    rec = run_text(GTK + f"wlan0: STA {A} WPA: group key handshake completed (RSN)\n"
                   + PTK + f"wlan0: STA {A} WPA: pairwise key handshake completed (RSN)\n")
    sev = {f["kind"]: f["severity"] for f in rec["findings"]}
    assert sev["group_key_handshake_timeout"] == "info" and sev["handshake_timeout"] == "info"
    bad = run_text(PTK + f"wlan0: STA {A} WPA: PTKSTART: Retry limit 4 reached\n")
    assert {f["kind"]: f["severity"] for f in bad["findings"]}["handshake_timeout"] == "warning"


def test_supplicant_terminating_is_not_a_clean_ap_shutdown(tmp_path) -> None:
    """A station's wpa_supplicant log ending in CTRL-EVENT-TERMINATING does not make a killed hostapd 'clean'."""
    from r2wifi.diagnose.analyze import diagnose

    from .helpers import kinds

    ap = tmp_path / "hostapd.log"
    ap.write_text(f"{T}.100000: Configuration file: /run/hostapd.conf\n{T}.200000: wlan0: AP-ENABLED \n"
                  f"{T}.300000: wlan0: AP-STA-CONNECTED {A}\n")  # then SIGKILL: nothing more
    sta = tmp_path / "wpa_supplicant.log"
    sta.write_text(f"{T}.250000: wlan1: Trying to associate with 02:00:00:00:00:00 (SSID='x' freq=2412 MHz)\n"
                   f"{T}.300000: wlan1: CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:00:00 completed [id=0]\n"
                   f"{T}.900000: wlan1: CTRL-EVENT-TERMINATING \n")
    assert "clean_shutdown" not in kinds(diagnose([str(ap), str(sta)]))
    ap.write_text(ap.read_text() + f"{T}.800000: wlan0: AP-DISABLED \n{T}.800100: wlan0: CTRL-EVENT-TERMINATING \n")
    assert "clean_shutdown" in kinds(diagnose([str(ap), str(sta)]))


def test_unsupported_ht_capability_is_a_config_problem() -> None:
    """hostapd's 'Driver does not support configured HT capability [X]' is config_unsupported_by_driver."""
    from .helpers import kinds

    res = run_text("Configuration file: /etc/hostapd/hostapd.conf\n"
                   "Driver does not support configured HT capability [SHORT-GI-40]\n"
                   "wlan0: interface state UNINITIALIZED->DISABLED\n")
    assert "config_unsupported_by_driver" in kinds(res)


def test_client_wrong_key_after_the_ap_sent_3_of_4_is_not_a_wrong_passphrase(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The AP's -d log shows 3/4 sent (the MIC of 2/4 checked out): the client's WRONG_KEY guess is a timeout."""
    from r2wifi.diagnose.analyze import diagnose

    sta = "02:00:00:00:00:01"
    ap = tmp_path / "hostapd.log"
    client = tmp_path / "wpa_supplicant.log"
    client.write_text('wlan0: CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Home" auth_failures=1 duration=10 reason=WRONG_KEY\n')
    ap.write_text(f"wlan0: STA {sta} IEEE 802.11: associated (aid 1)\n"
                  f"wlan0: STA {sta} WPA: sending 1/4 msg of 4-Way Handshake\n"
                  f"wlan0: STA {sta} WPA: received EAPOL-Key frame (2/4 Pairwise)\n"
                  f"wlan0: STA {sta} WPA: sending 3/4 msg of 4-Way Handshake\n"
                  f"wlan0: STA {sta} WPA: EAPOL-Key timeout\n")
    kinds = {f["kind"] for f in diagnose([str(ap), str(client)])["findings"]}  # type: ignore[index]
    assert "wrong_passphrase" not in kinds and "handshake_timeout" in kinds
    # the AP never got as far as 3/4 for this station: the client's WRONG_KEY stands
    ap.write_text(f"wlan0: STA {sta} IEEE 802.11: associated (aid 1)\n"
                  f"wlan0: STA {sta} WPA: sending 1/4 msg of 4-Way Handshake\n"
                  f"wlan0: STA {sta} WPA: EAPOL-Key timeout\n")
    kinds = {f["kind"] for f in diagnose([str(ap), str(client)])["findings"]}  # type: ignore[index]
    assert "wrong_passphrase" in kinds


@pytest.mark.parametrize("code", sorted(r.code for r in RULES))
def test_each_rules_documented_example_fires_it(code: str) -> None:
    """The example printed in a rule's docs (docs/findings/<CODE>.md) makes that rule report, at its severity."""
    rule = next(x for x in RULES if x.code == code)
    r = run_text(rule.example + "\n")
    found = [f for f in r["findings"] if f["code"] == code]
    assert found, f"{code}: its example gives {[f['code'] for f in r['findings']]}"


def test_one_line_rules_are_declared_as_data() -> None:
    """Every rule without logic of its own is a row of ONE_LINE (no function per rule)."""
    from r2wifi.diagnose.rules import ONE_LINE

    assert len(ONE_LINE) >= 26
    by_code = {r.code: r for r in RULES}
    for d in ONE_LINE:
        assert by_code[d.code].kind == d.kind and by_code[d.code].example == d.example.strip("\n")
