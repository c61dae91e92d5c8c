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


class K:
    """Event kinds (plain strings, stable; add new ones here, never rename)."""

    # hostapd / AP daemon lifecycle
    AP_CONFIG_FILE = "ap_config_file"  # "Configuration file: ..." (a new hostapd run starts)
    AP_ENABLED = "ap_enabled"
    AP_DISABLED = "ap_disabled"
    IFACE_STATE = "iface_state"  # params: old, new
    IFACE_ENABLED = "iface_enabled"
    IFACE_DISABLED = "iface_disabled"
    AP_TERMINATING = "ap_terminating"
    STARTUP_ERROR = "startup_error"  # params: what
    # station lifecycle (AP side)
    AUTH = "auth"
    ASSOC = "assoc"
    REASSOC = "reassoc"
    STA_CONNECTED = "sta_connected"  # AP-STA-CONNECTED
    STA_DISCONNECTED = "sta_disconnected"  # AP-STA-DISCONNECTED
    DISASSOC = "disassoc"  # params: reason, by ("ap"|"sta"|None)
    DEAUTH = "deauth"  # params: reason, by
    INACTIVITY = "inactivity"  # params: cleanup (bool)
    EAPOL_TX = "eapol_tx"  # params: msg (1..4), group (bool)
    EAPOL_RX = "eapol_rx"  # params: msg, group
    EAPOL_TIMEOUT = "eapol_timeout"
    HANDSHAKE_COMPLETED = "handshake_completed"  # params: group (bool)
    PSK_MISMATCH = "psk_mismatch"
    INVALID_MIC = "invalid_mic"
    REPLAY_MISMATCH = "replay_mismatch"
    RETRY_LIMIT = "retry_limit"
    # client side (wpa_supplicant / mac80211)
    CLIENT_CONNECTED = "client_connected"
    CLIENT_DISCONNECTED = "client_disconnected"
    CLIENT_ASSOC_REJECT = "client_assoc_reject"
    CLIENT_AUTH_TIMEOUT = "client_auth_timeout"
    # DHCP (dnsmasq)
    DHCP_DISCOVER = "dhcp_discover"
    DHCP_ACK = "dhcp_ack"
    # kernel / driver
    TXQ_STOP = "txq_stop"  # params: queue_len
    TXQ_WAKE = "txq_wake"
    DRIVER_ERROR = "driver_error"
    FIRMWARE_CRASH = "firmware_crash"
    KERNEL_WARNING = "kernel_warning"
    WMT = "wmt"  # MediaTek WMT/STP/wlan_gen2 marker; params: tag, level, marker
    BENIGN = "benign"  # recognised harmless noise; params: what
    # added by r2wifi.logs.events (same rule: plain strings, stable)
    ACL_REJECT = "acl_reject"  # "Station <mac> not allowed to authenticate"
    GTK_REKEY = "gtk_rekey"  # "WPA rekeying GTK"
    CLIENT_INVALID_MIC = "client_invalid_mic"  # wpa_supplicant "Invalid EAPOL-Key MIC"
    CLIENT_WRONG_KEY = "client_wrong_key"  # CTRL-EVENT-SSID-TEMP-DISABLED ... reason=WRONG_KEY
    CLIENT_TEMP_DISABLED = "client_temp_disabled"  # params: why
    CLIENT_KEY_DONE = "client_key_done"  # "WPA: Key negotiation completed with <bssid>"
    DHCP_NAK = "dhcp_nak"
    MODULE_MISMATCH = "module_mismatch"  # "disagrees about version of symbol" / "Unknown symbol"
    SERVICE_FAILED = "service_failed"  # systemd unit failed / masked
    LINK_READY = "link_ready"  # params: dev
    LINK_NOT_READY = "link_not_ready"  # params: dev


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
