"""The typed event every log reader produces, and the vocabulary of event kinds.

Shared by ``r2wifi diagnose`` (offline, whole files) and the supervisor (``r2wifi run``, live
hostapd output and kernel log): one parser, one vocabulary. The parser entry point for a single
raw line is ``r2wifi.logs.events.parse_line``.

Rules: ``station`` is a MAC as it appears (lower-cased; placeholders such as
``xx:xx:xx:xx:xx:xx`` kept as they are so lines still group per station); ``ts`` is wall-clock
seconds since the epoch when the line (or clock alignment) gives one; ``uptime`` is the kernel's
``[   12.345678]`` stamp when present. ``file``/``line`` always point at the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


class K:
    """Event kinds (plain strings, stable; add new ones here, never rename)."""

    # hostapd / AP daemon lifecycle
    AP_CONFIG_FILE: Final = "ap_config_file"  # "Configuration file: ..." (a new hostapd run starts)
    AP_ENABLED: Final = "ap_enabled"
    AP_DISABLED: Final = "ap_disabled"
    IFACE_STATE: Final = "iface_state"  # params: old, new
    IFACE_ENABLED: Final = "iface_enabled"
    IFACE_DISABLED: Final = "iface_disabled"
    AP_TERMINATING: Final = "ap_terminating"
    STARTUP_ERROR: Final = "startup_error"  # params: what
    # station lifecycle (AP side)
    AUTH: Final = "auth"
    ASSOC: Final = "assoc"
    REASSOC: Final = "reassoc"
    STA_CONNECTED: Final = "sta_connected"  # AP-STA-CONNECTED
    STA_DISCONNECTED: Final = "sta_disconnected"  # AP-STA-DISCONNECTED
    DISASSOC: Final = "disassoc"  # params: reason, by ("ap"|"sta"|None)
    DEAUTH: Final = "deauth"  # params: reason, by
    INACTIVITY: Final = "inactivity"  # params: cleanup (bool)
    EAPOL_TX: Final = "eapol_tx"  # params: msg (1..4), group (bool)
    EAPOL_RX: Final = "eapol_rx"  # params: msg, group
    EAPOL_TIMEOUT: Final = "eapol_timeout"
    HANDSHAKE_COMPLETED: Final = "handshake_completed"  # params: group (bool)
    PSK_MISMATCH: Final = "psk_mismatch"
    INVALID_MIC: Final = "invalid_mic"
    REPLAY_MISMATCH: Final = "replay_mismatch"
    RETRY_LIMIT: Final = "retry_limit"
    # client side (wpa_supplicant / mac80211)
    CLIENT_CONNECTED: Final = "client_connected"
    CLIENT_DISCONNECTED: Final = "client_disconnected"
    CLIENT_ASSOC_REJECT: Final = "client_assoc_reject"
    CLIENT_AUTH_TIMEOUT: Final = "client_auth_timeout"
    # DHCP (dnsmasq)
    DHCP_DISCOVER: Final = "dhcp_discover"
    DHCP_ACK: Final = "dhcp_ack"
    # kernel / driver
    TXQ_STOP: Final = "txq_stop"  # params: queue_len
    TXQ_WAKE: Final = "txq_wake"
    DRIVER_ERROR: Final = "driver_error"
    FIRMWARE_CRASH: Final = "firmware_crash"
    KERNEL_WARNING: Final = "kernel_warning"
    WMT: Final = "wmt"  # MediaTek WMT/STP/wlan_gen2 marker; params: tag, level, marker
    BENIGN: Final = "benign"  # recognised harmless noise; params: what
    # added by r2wifi.logs.events (same rule: plain strings, stable)
    ACL_REJECT: Final = "acl_reject"  # "Station <mac> not allowed to authenticate"
    GTK_REKEY: Final = "gtk_rekey"  # "WPA rekeying GTK"
    CLIENT_INVALID_MIC: Final = "client_invalid_mic"  # wpa_supplicant "Invalid EAPOL-Key MIC"
    CLIENT_WRONG_KEY: Final = "client_wrong_key"  # CTRL-EVENT-SSID-TEMP-DISABLED ... reason=WRONG_KEY
    CLIENT_TEMP_DISABLED: Final = "client_temp_disabled"  # params: why
    CLIENT_KEY_DONE: Final = "client_key_done"  # "WPA: Key negotiation completed with <bssid>"
    DHCP_NAK: Final = "dhcp_nak"
    MODULE_MISMATCH: Final = "module_mismatch"  # "disagrees about version of symbol" / "Unknown symbol"
    SERVICE_FAILED: Final = "service_failed"  # systemd unit failed / masked
    LINK_READY: Final = "link_ready"  # params: dev
    LINK_NOT_READY: Final = "link_not_ready"  # params: dev
    # added for the message catalogues (r2wifi.logs.catalog)
    NOTE: Final = "note"  # a catalogued line worth a timeline entry, not a problem; params: what
    RUN_END: Final = "run_end"  # the daemon's run ended ("nl80211: deinit ifname=...")
    SUPERVISOR: Final = "supervisor"  # r2wifi's own supervisor line; params: what, step, reason, ok


@dataclass(slots=True)
class Event:
    kind: str
    source: str  # hostapd | wpa_supplicant | kernel | dnsmasq | launcher | loader | systemd | other
    file: str
    line: int
    text: str
    ts: float | None = None
    uptime: float | None = None
    station: str | None = None
    iface: str | None = None
    params: dict[str, object] = field(default_factory=dict)
