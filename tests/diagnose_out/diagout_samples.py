"""Hand-written diagnosis results in the shape of finding-kinds.md, to develop the reports against.

They mirror real corpus situations (a PSK-mismatch / disassoc loop on a brcmfmac AP, a healthy
single client, an AP that never started) and carry hostile strings (HTML, markup, control
characters) where log text can reach the report.
"""

from __future__ import annotations

from typing import Any

STA = "dc:a6:32:51:66:21"
STA2 = "9c:2e:a1:91:cc:29"


def loop_result() -> dict[str, Any]:
    """A warning/error-level result: wrong passphrase, handshake timeouts, a loop, and benign noise."""
    t0 = 1581700000.0
    return {
        "verdict": {
            "status": "error",
            "summary": f"1 station cannot connect: wrong passphrase on {STA} after 5 association attempts",
        },
        "findings": [
            {
                "kind": "wrong_passphrase",
                "code": "R2W110",
                "severity": "error",
                "title": "Station sent message 2/4 with an invalid MIC (wrong passphrase)",
                "stations": [STA],
                "params": {},
                "evidence": [{"file": "hostapd.log", "line": 612}, {"file": "hostapd.log", "line": 615}],
                "fix": "Re-enter the passphrase on the station (forget the network first).",
                "explanation": "hostapd computed a different MIC for EAPOL-Key 2/4: the PSKs differ.",
            },
            {
                "kind": "handshake_timeout",
                "code": "R2W104",
                "severity": "warning",
                "title": "4-way handshake message 1/4 retransmitted until the retry limit",
                "stations": [STA],
                "params": {"retries": 4},
                "evidence": [{"file": "hostapd.log", "line": n} for n in range(580, 600)],
                "fix": "Check that the station still wants this network; update its firmware.",
                "explanation": "",
            },
            {
                "kind": "deauth_reason",
                "code": "R2W120",
                "severity": "warning",
                "title": "Deauthenticated with reason 2 (previous authentication no longer valid)",
                "stations": [STA],
                "params": {"reason": 2},
                "evidence": [{"file": "hostapd.log", "line": 640}],
                "fix": "",
                "explanation": "hostapd sends reason 2 after a failed 4-way handshake.",
            },
            {
                "kind": "benign_noise",
                "code": "R2W900",
                "severity": "info",
                "title": "Known-harmless brcmfmac messages (set_key -22, Station flush -14) <b>not bold</b>",
                "stations": [],
                "params": {"count": 3},
                "evidence": [{"file": "hostapd.log", "line": 40}],
                "fix": "Nothing to do.",
                "explanation": "[bold red]not rich markup[/] & <script>alert(1)</script>",
            },
        ],
        "stations": {
            STA: {
                "sessions": [
                    {
                        "start": t0 + i * 10,
                        "end": t0 + i * 10 + 2,
                        "outcome": "failed",
                        "failure_stage": "key_handshake",
                        "disconnect_reason": {"code": 3, "text": "station left"} if i < 4 else 2,
                    }
                    for i in range(5)
                ],
                "counts": {"associations": 5, "handshakes_completed": 0, "eapol_timeouts": 4},
                "timeline": [
                    {"t": t0 + i * 10 + d, "kind": k, "text": txt, "file": "hostapd.log", "line": 100 + i * 10 + j}
                    for i in range(5)
                    for j, (d, k, txt) in enumerate(
                        [
                            (0.0, "assoc", f"wlan0: STA {STA} IEEE 802.11: associated (aid 1)"),
                            (0.1, "eapol_tx", f"wlan0: STA {STA} WPA: sending 1/4 msg of 4-Way Handshake"),
                            (2.0, "disassoc", f"wlan0: STA {STA} IEEE 802.11: disassociated <&'\">"),
                        ]
                    )
                ]
                + [{"t": None, "kind": "psk_mismatch", "text": f"AP-STA-POSSIBLE-PSK-MISMATCH {STA}",
                    "file": "hostapd.log", "line": 615}],
            },
            STA2: {
                "sessions": [
                    {"start": t0 + 5, "end": None, "outcome": "open", "failure_stage": None,
                     "disconnect_reason": None},
                ],
                "counts": {"associations": 1, "handshakes_completed": 1},
                "timeline": [
                    {"t": t0 + 5, "kind": "assoc", "text": "associated", "file": "hostapd.log", "line": 200},
                    {"t": t0 + 5.3, "kind": "handshake_completed", "text": "pairwise key handshake completed (RSN)",
                     "file": "hostapd.log", "line": 210},
                    {"t": t0 + 5.4, "kind": "sta_connected", "text": f"AP-STA-CONNECTED {STA2}",
                     "file": "hostapd.log", "line": 211},
                ],
            },
        },
        "metrics": {
            "successful_connects": 1,
            "failed_connects": 5,
            "time_to_connect_ms": {"p50": 310, "p95": 950},
            "disconnects_by_reason": {"2": 1, "3": 4},
            "ap_restarts": 0,
        },
        "inputs": [{"file": "hostapd.log", "formats": ["hostapd-dd"], "lines": 690}],
    }


def healthy_result() -> dict[str, Any]:
    """An ok result: one station connected once, only info findings."""
    return {
        "verdict": {"status": "ok", "summary": "1 station connected normally; nothing to fix"},
        "findings": [
            {
                "kind": "handshake_completed",
                "code": "R2W001",
                "severity": "info",
                "title": "Pairwise 4-way handshake completed",
                "stations": ["02:00:00:00:01:00"],
                "params": {},
                "evidence": [{"file": "hostapd.log", "line": 33}],
                "fix": "",
            }
        ],
        "stations": [
            {
                "mac": "02:00:00:00:01:00",
                "sessions": [
                    {"start": 12.5, "end": 70.25, "outcome": "left", "failure_stage": None,
                     "disconnect_reason": 3},
                ],
                "counts": {"sessions": 1},
                "timeline": [
                    {"t": 12.5, "kind": "assoc", "text": "associated", "file": "hostapd.log", "line": 30},
                    {"t": 12.6, "kind": "handshake_completed", "text": "completed", "file": "hostapd.log", "line": 33},
                    {"t": 70.25, "kind": "deauth", "text": "deauthenticated reason 3", "file": "hostapd.log",
                     "line": 40},
                ],
            }
        ],
        "metrics": {"successful_connects": 1, "failed_connects": 0, "time_to_connect_ms": {"p50": 100, "p95": 100}},
        "inputs": [{"file": "hostapd.log", "formats": ["hostapd"], "lines": 45}],
    }


def startup_failure_result() -> dict[str, Any]:
    """An error result without any station: the AP never started."""
    return {
        "verdict": {"status": "error", "summary": "hostapd did not start: the interface is busy"},
        "findings": [
            {
                "kind": "iface_busy_other_process",
                "code": "R2W201",
                "severity": "error",
                "title": "nl80211: Could not configure driver mode (-16 Device or resource busy)",
                "stations": [],
                "params": {},
                "evidence": [{"file": "/var/log/syslog", "line": 7}],
                "fix": "Stop NetworkManager / wpa_supplicant on wlan0 (nmcli dev set wlan0 managed no).",
            }
        ],
        "stations": {},
        "metrics": {"successful_connects": 0, "failed_connects": 0, "time_to_connect_ms": None},
        "inputs": [{"file": "/var/log/syslog", "formats": ["syslog"], "lines": 12}],
    }
