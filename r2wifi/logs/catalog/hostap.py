"""hostapd and wpa_supplicant messages (start-up, configuration, channel / DFS / ACS, driver errors), as data.

Formats as hostapd / wpa_supplicant 2.6-2.11 print them (``wpa_printf`` / ``hostapd_logger`` at the
levels that reach a default log), read from the hostap sources (``hostapd/main.c``,
``hostapd/config_file.c``, ``src/ap/hostapd.c``, ``hw_features.c``, ``dfs.c``, ``acs.c``,
``src/drivers/driver_nl80211*.c``, ``wpa_supplicant/config_file.c``, ``wpa_supplicant/ap.c``) and checked
against the corpus logs. Station lifecycle lines (association, EAPOL, key handshakes, control events)
carry stations and reason codes and are parsed by :mod:`r2wifi.logs.events`; this table says what the
other lines mean. See :mod:`r2wifi.logs.catalog.base` for the entry fields and ``means`` classes;
``tools/gen_catalog.py`` validates the table and prints its summary.
"""

from __future__ import annotations

from r2wifi.logs.catalog.base import Message, Table

_H = "hostapd 2.6-2.11"
_W = "wpa_supplicant 2.6-2.11"


def _m(key: str, fmt: str, means: str, severity: str, source: str) -> Message:
    return Message(key, fmt, means, severity, source)


MESSAGES: tuple[Message, ...] = (
    # ---- the run gives up (hostapd/main.c, src/ap/hostapd.c, wpa_supplicant/main.c)
    _m("hostapd_init_iface_failed", "Failed to initialize interface", "fatal:init_iface", "error",
       f"{_H} hostapd/main.c:hostapd_interface_init"),
    _m("hostapd_setup_iface_failed", "Failed to set up interface with {path}", "fatal:setup_iface", "error",
       f"{_H} hostapd/main.c:hostapd_interface_init"),
    _m("hostapd_iface_init_failed", "Interface initialization failed", "startup:init_failed", "error",
       f"{_H} src/ap/hostapd.c:hostapd_setup_interface_complete"),
    _m("hostapd_unable_setup", "Unable to setup interface.", "startup:init_failed", "error",
       f"{_H} src/ap/hostapd.c:hostapd_setup_interface (prefixed with the interface)"),
    _m("hostapd_not_started", "hostapd_free_hapd_data: Interface {iface} wasn't started", "startup:not_started",
       "error", f"{_H} src/ap/hostapd.c:hostapd_free_hapd_data"),
    _m("hostapd_driver_init_failed", "{driver} driver initialization failed.", "startup:driver_init", "error",
       f"{_H} hostapd/main.c:hostapd_driver_init"),
    _m("hostapd_no_driver", "No hostapd driver wrapper available", "fatal:no_driver", "error",
       f"{_H} hostapd/main.c"),
    _m("supplicant_config_failed", "Failed to read or parse configuration '{path_text}", "fatal:config", "error",
       f"{_W} wpa_supplicant/wpa_supplicant.c:wpa_supplicant_init_iface"),
    _m("supplicant_add_iface_failed", "Failed to add interface {iface}", "fatal:add_iface", "error",
       f"{_W} wpa_supplicant/wpa_supplicant.c"),
    _m("supplicant_driver_init_failed", "Failed to initialize driver interface", "fatal:driver_init", "error",
       f"{_W} wpa_supplicant/wpa_supplicant.c:wpas_init_driver"),
    _m("supplicant_ap_start_failed", "Failed to start AP functionality", "fatal:ap_start", "error",
       f"{_W} wpa_supplicant/ap.c:wpa_supplicant_create_ap"),
    _m("create_ap_hostapd_failed", "Error: Failed to run hostapd, maybe a program is interfering.",
       "fatal:wrapper", "error", "linux-wifi-hotspot / create_ap (the wrapper saw hostapd exit at start-up)"),
    _m("nl80211_deinit", "nl80211: deinit ifname={iface} disabled_11b_rates={n}", "run_end", "info",
       f"{_H}/{_W} src/drivers/driver_nl80211.c:wpa_driver_nl80211_deinit"),
    _m("supplicant_stop_ap_failed", "Failed to stop hostapd AP interfaces", "info:stop_ap", "info",
       f"{_W} wpa_supplicant/wpa_supplicant.c (OpenWrt wpad)"),
    # ---- configuration errors (hostapd/config_file.c, wpa_supplicant/config_file.c)
    _m("config_errors_found", "{n} errors found in configuration file {path_text}", "fatal:config", "error",
       f"{_H} hostapd/config_file.c:hostapd_config_read"),
    _m("config_error_found", "error found in config file, invalid {what_text}", "config:invalid", "error",
       f"{_H} src/ap/hostapd.c"),
    _m("config_open_failed", "Could not open configuration file '{path_text}' for reading.", "config:open",
       "error", f"{_H} hostapd/config_file.c:hostapd_config_read (AppArmor / permissions / missing file)"),
    _m("config_unknown_driver", "Line {n}: invalid/unknown driver '{driver_text}'", "config:driver", "error",
       f"{_H} hostapd/config_file.c"),
    _m("config_passphrase_length", "Line {n}: Invalid passphrase length {len} (expected: 8..63) {psk_text}",
       "config:passphrase", "error", f"{_W} wpa_supplicant/config.c:wpa_config_parse_psk"),
    _m("config_hostapd_passphrase", "Line {n}: invalid WPA passphrase length {len} (expected 8..63)",
       "config:passphrase", "error", f"{_H} hostapd/config_file.c"),
    _m("config_country", "Line {n}: invalid country_code '{cc_text}'", "config:country", "error",
       f"{_H} hostapd/config_file.c"),
    _m("config_line", "Line {n}: {detail_text}", "config:line", "error",
       f"{_H}/{_W} config_file.c (every configuration parse error starts 'Line <n>:')"),
    _m("config_regdom_set_failed", "Failed to set country code", "config:country", "error",
       f"{_H} src/ap/hostapd.c"),
    _m("hostapd_ctrl_iface_failed", "Failed to setup control interface for {iface}", "startup:ctrl_iface", "error",
       f"{_H} src/ap/hostapd.c:hostapd_setup_interface_complete"),
    _m("supplicant_ctrl_iface_failed", "Failed to initialize control interface '{path_text}'.", "fatal:ctrl_iface",
       "error", f"{_W} wpa_supplicant/wpa_supplicant.c"),
    _m("supplicant_ctrl_iface_in_use", "ctrl_iface exists and seems to be in use - cannot override it",
       "startup:busy", "error", f"{_W} wpa_supplicant/ctrl_iface_unix.c"),
    _m("rfkill_soft_blocked", "rfkill: WLAN soft blocked", "startup:permission", "error",
       f"{_H}/{_W} src/drivers/rfkill.c (the radio is blocked: hostapd cannot bring the interface up)"),
    _m("rfkill_hard_blocked", "rfkill: WLAN hard blocked", "startup:permission", "error",
       f"{_H}/{_W} src/drivers/rfkill.c"),
    _m("iface_up_rfkill", "Could not set interface {iface} flags (UP): Operation not possible due to RF-kill",
       "startup:permission", "error", f"{_H} src/drivers/linux_ioctl.c + nl80211 (RF-kill)"),
    # ---- channel, width, DFS, ACS (src/ap/hw_features.c, dfs.c, acs.c, wpa_supplicant/ap.c)
    _m("hw_could_not_set_channel", "Could not set channel for kernel driver", "channel:set_channel", "error",
       f"{_H} src/ap/hostapd.c:hostapd_setup_interface_complete"),
    _m("hw_select_mode_failed", "Could not select hw_mode and channel. ({n})", "channel:select", "error",
       f"{_H} src/ap/hostapd.c"),
    _m("hw_no_operating_freq", "Could not determine operating frequency", "channel:frequency", "error",
       f"{_H} src/ap/hostapd.c"),
    _m("hw_chan_not_primary", "Channel {ch} is not allowed as primary", "channel:not_allowed", "error",
       f"{_H} src/ap/hw_features.c"),
    _m("hw_primary_not_allowed", "Primary frequency not allowed", "channel:not_allowed", "error",
       f"{_H} src/ap/hw_features.c"),
    _m("hw_primary_not_present", "Primary frequency not present", "channel:not_allowed", "error",
       f"{_H} src/ap/hw_features.c"),
    _m("hw_freq_not_allowed_ap", "Frequency {freq} (primary) not allowed for AP mode, flags: {flags_text}",
       "channel:not_allowed", "error", f"{_W} wpa_supplicant/ap.c / src/ap/hw_features.c"),
    _m("hw_channel_not_found",
       "Configured channel ({ch}) or frequency ({freq}) (secondary_channel={sec}) not found from the channel list "
       "of the current mode ({mode}) {name_text}", "channel:not_found", "error", f"{_H} 2.10+ src/ap/hw_features.c"),
    _m("hw_channel_not_found_old",
       "Configured channel ({ch}) not found from the channel list of current mode ({mode}) {name_text}",
       "channel:not_found", "error", "hostapd 2.6-2.9 src/ap/hw_features.c"),
    _m("hw_ht_center_disabled", "HT center channel disabled ({ch})", "channel:width", "error",
       f"{_H} src/ap/hw_features.c"),
    _m("hw_center_not_in_sync",
       "20/40 MHz: center segment 0 (={seg0}) and center freq 1 (={freq1}) not in sync", "channel:width", "error",
       f"{_H} src/common/hw_features_common.c"),
    _m("hw_hardware_no_channel", "Hardware does not support configured channel", "channel:not_supported", "error",
       f"{_H} src/ap/hw_features.c"),
    _m("dfs_cac_start_failed", "DFS start_dfs_cac() failed, {ret}", "channel:dfs_cac", "error",
       f"{_H} src/ap/dfs.c:hostapd_handle_dfs"),
    _m("dfs_cac_start_failed_old", "DFS start_dfs_cac() failed", "channel:dfs_cac", "error",
       "hostapd 2.0-2.2 src/ap/dfs.c"),
    _m("dfs_cac_failed_event", "DFS-CAC-COMPLETED success=0 {detail_text}", "channel:dfs_cac", "error",
       f"{_H} src/ap/dfs.c (control event DFS-CAC-COMPLETED)"),
    _m("dfs_cac_aborted", "DFS-CAC-ABORTED {detail_text}", "channel:dfs_cac", "warning",
       f"{_H} src/ap/dfs.c (control event)"),
    _m("dfs_width_unsupported", "DFS chan_width {w} not supported", "channel:width", "error",
       f"{_H} src/ap/dfs.c"),
    _m("dfs_no_channels_left", "dfs_downgrade_bandwidth: no DFS channels left, waiting for NOP to finish",
       "channel:radar_no_channel", "error", f"{_H} 2.10+ src/ap/dfs.c:dfs_downgrade_bandwidth"),
    _m("dfs_no_valid_channel", "{func}: No valid channel available", "channel:radar_no_channel", "error",
       f"{_H} src/ap/dfs.c:start_channel_switch_cac"),
    _m("dfs_no_valid_channel_set", "set_valid_channel: could not get valid channel", "channel:radar_no_channel",
       "error", f"{_H} src/ap/dfs.c"),
    _m("dfs_no_channel_event", "DFS-NO-CHANNEL {detail_text}", "channel:radar_no_channel", "error",
       "hostapd (vendor builds) control event"),
    _m("dfs_radar_detected", "DFS-RADAR-DETECTED {detail_text}", "info:radar", "info",
       f"{_H} src/ap/dfs.c (control event)"),
    _m("dfs_cac_start", "DFS-CAC-START {detail_text}", "info:cac_start", "info", f"{_H} src/ap/dfs.c"),
    _m("acs_unable_survey", "ACS: Unable to collect survey data", "startup:acs_unsupported", "error",
       f"{_H} src/ap/acs.c (the driver gives no survey data)"),
    _m("acs_survey_missing", "ACS: Survey data missing", "startup:acs_unsupported", "error", f"{_H} src/ap/acs.c"),
    _m("acs_survey_insufficient", "ACS: Surveys have insufficient data", "startup:acs_unsupported", "error",
       f"{_H} src/ap/acs.c"),
    _m("acs_get_survey_failed", "ACS: Failed to get survey data", "startup:acs_unsupported", "error",
       f"{_H} src/ap/acs.c"),
    _m("acs_all_failed", "ACS: All study options have failed", "startup:acs_unsupported", "error",
       f"{_H} src/ap/acs.c"),
    _m("acs_no_channels", "ACS: No available channels found", "channel:acs_no_channel", "error",
       f"{_H} src/ap/acs.c"),
    _m("acs_scan_failed", "ACS: Scan request failed", "channel:acs_scan", "error", f"{_H} src/ap/acs.c"),
    _m("acs_failed_to_start", "ACS: Failed to start", "startup:acs", "error", f"{_H} src/ap/acs.c"),
    _m("acs_config_invalid",
       "ACS: Possibly channel configuration is invalid, please report this along with your config file.",
       "info:acs_hint", "info", f"{_H} src/ap/acs.c"),
    _m("ht40_not_permitted", "20/40 MHz operation not permitted on channel pri={pri} sec={sec} {detail_text}",
       "benign:ht40_not_permitted", "info", f"{_H} src/ap/hw_features.c (falls back to 20 MHz)"),
    # ---- driver / capability (hw_features.c, driver_nl80211.c)
    _m("driver_no_configured_capab", "Driver does not support configured {what_text}",
       "startup:config_unsupported", "error", f"{_H} src/ap/hw_features.c"),
    _m("monitor_iface_failed", "Failed to create interface mon.{iface}: {err} ({err_text})",
       "benign:monitor_iface", "info",
       f"{_H} src/drivers/driver_nl80211.c (the monitor interface of old kernels; hostapd registers frames "
       f"through nl80211 instead)"),
    _m("group_key_fatal", "WPA: group state machine entering state FATAL_FAILURE", "startup:driver_init", "error",
       f"{_H} src/ap/wpa_auth.c (the driver refused the group key: the AP cannot start)"),
    _m("beacon_set_failed", "Failed to set beacon parameters", "startup:beacon", "error",
       f"{_H} src/ap/beacon.c:ieee802_11_set_beacon"),
    _m("probe_send_failed", "handle_probe_req: send failed", "driver:tx_failed", "warning",
       f"{_H} src/ap/beacon.c:handle_probe_req (the driver could not send a frame)"),
    _m("mgmt_send_failed", "{func}: send failed", "driver:tx_failed", "warning",
       f"{_H} src/ap/ieee802_11.c (management frame TX failed)"),
    _m("nl80211_set_channel_failed",
       "nl80211: Failed to set channel (freq={freq}): {err} ({err_text})", "channel:set_channel", "error",
       f"{_H} src/drivers/driver_nl80211.c:nl80211_set_channel"),
)

TABLE = Table(MESSAGES)
BY_KEY = TABLE.by_key
KEYWORDS = TABLE.keywords


def classify(msg: str) -> tuple[Message, dict[str, str]] | None:
    """The hostapd / wpa_supplicant entry a message is (prefixes ``<iface>: `` already removed)."""
    return TABLE.classify(msg)
