"""Classify one log message into typed :class:`~r2wifi.logs.model.Event` objects.

Public API (stable; the supervisor uses it on live hostapd output and the kernel log)::

    parse_line(raw: str, *, file: str = "-", line: int = 0) -> list[Event]

``parse_line`` unwraps the line (:mod:`r2wifi.logs.wrappers`), splits a kernel record glued into
a console line, and classifies each part with :func:`classify`.

Theory of operation: :data:`RULES` is a table of ``(needle, regex, builder)`` rows. For a message,
every row whose literal ``needle`` occurs in it is tried in order; the first regex that matches
builds the event(s). Needles make the table cheap: most rows are skipped by a substring test.
:data:`KEYWORDS` lists every needle, so a reader can prefilter big debug logs with one compiled
alternation and call :func:`classify` only on lines that can produce an event.

Rules of this file:
* One message yields at most one event, except glued kernel records (two messages).
* ``station`` is taken from the line itself (hostapd -d lines often lack the iface prefix),
  lower-cased; placeholder MACs are kept as written (lower-cased) so lines still group.
* Client-side events (wpa_supplicant, iwd, mac80211 station mode) carry the peer BSSID as
  ``station`` and ``params["client"] = True``.
* Benign, known-harmless lines become ``K.BENIGN`` with ``params["what"]`` naming them.
* Lines that carry no station are first looked up in the message catalogues
  (:mod:`r2wifi.logs.catalog`: hostapd / wpa_supplicant, kernel drivers, r2wifi's supervisor; see
  :func:`catalogue_event` for the event each class of entry becomes); :data:`RULES` parses the station
  lifecycle (association, EAPOL, keys, reason codes) and a few general shapes. :data:`KEYWORDS` is
  derived from both (:func:`r2wifi.logs.catalog.prefilter.cover`).
* MediaTek WMT / STP / wlan_gen2 / launcher lines are decided by the WMT table
  (:mod:`r2wifi.logs.catalog.wmt`), not by rows here: ``K.WMT`` events carry the entry's ``key``,
  ``marker`` (its meaning), ``verdict`` and ``fields``; lines the table lacks stay unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from r2wifi.logs import wrappers
from r2wifi.logs.catalog import hostap, kernel, prefilter, supervisor, wmt
from r2wifi.logs.catalog.base import Message
from r2wifi.logs.model import Event, K

MAC = r"(?:[0-9A-Za-z]{2}:){5}[0-9A-Za-z]{2}"
RE_MAC = re.compile(r"(?<![\w:])(" + MAC + r")(?![\w:])")
RE_IFACE_PREFIX = re.compile(r"^([A-Za-z][\w.@-]{0,30}\d[\w.@-]{0,30}): (?=\S)")
RE_STA_PREFIX = re.compile(r"^STA (" + MAC + r") ")

Builder = Callable[[re.Match[str], "Ctx"], "tuple[str, dict[str, object]] | None"]


class Ctx:
    """What classification knows about the message besides its text."""

    __slots__ = ("msg", "source", "kernel", "station", "iface")

    def __init__(self, msg: str, source: str, kernel: bool, station: str | None, iface: str | None) -> None:
        self.msg = msg
        self.source = source
        self.kernel = kernel
        self.station = station
        self.iface = iface


def _k(kind: str, **params: object) -> Builder:
    def build(_m: re.Match[str], _c: Ctx) -> tuple[str, dict[str, object]]:
        return kind, dict(params)

    return build


def _what(kind: str, what: str, **params: object) -> Builder:
    return _k(kind, what=what, **params)


def _reason(kind: str, by: str | None, group: int = 1, **extra: object) -> Builder:
    def build(m: re.Match[str], _c: Ctx) -> tuple[str, dict[str, object]]:
        p: dict[str, object] = {"by": by, **extra}
        try:
            p["reason"] = int(m.group(group))
        except (IndexError, TypeError, ValueError):
            pass
        return kind, p

    return build


def _eapol(kind: str) -> Builder:
    def build(m: re.Match[str], _c: Ctx) -> tuple[str, dict[str, object]]:
        n, tot = int(m.group(1)), int(m.group(2))
        return kind, {"msg": n, "group": tot == 2}

    return build


def _iface_state(m: re.Match[str], _c: Ctx) -> tuple[str, dict[str, object]]:
    return K.IFACE_STATE, {"old": m.group(1), "new": m.group(2)}


def _client_disc(m: re.Match[str], _c: Ctx) -> tuple[str, dict[str, object]]:
    p: dict[str, object] = {"client": True, "bssid": m.group(1).lower(), "reason": int(m.group(2))}
    p["by"] = "sta" if m.group(3) else "ap"
    return K.CLIENT_DISCONNECTED, p


def _client_mac80211_disc(m: re.Match[str], _c: Ctx) -> tuple[str, dict[str, object]]:
    return K.CLIENT_DISCONNECTED, {"client": True, "bssid": m.group(2).lower(), "reason": int(m.group(3)),
                                   "by": "ap", "frame": m.group(1)}


def _assoc_resp(m: re.Match[str], _c: Ctx) -> tuple[str, dict[str, object]] | None:
    status = int(m.group(2))
    if status == 0:
        return None
    return K.CLIENT_ASSOC_REJECT, {"client": True, "bssid": m.group(1).lower(), "status": status}


def _wmt_event(msg: str) -> tuple[str, dict[str, object]] | None:
    """The event of a MediaTek WMT / STP / wlan_gen2 / launcher line, decided by the WMT table."""
    hit = wmt.classify(msg)
    if hit is None:
        return None
    m, fields = hit
    meaning = m.meaning
    if meaning.startswith("benign:"):
        return K.BENIGN, {"what": meaning[7:], "key": m.key}
    if meaning == "txq_stop":
        p: dict[str, object] = {"dev": fields.get("dev", "")}
        if fields.get("qlen", "").isdigit():
            p["queue_len"] = int(fields["qlen"])
        return K.TXQ_STOP, p
    if meaning == "txq_wake":
        return K.TXQ_WAKE, {"bss": fields.get("bss", "")}
    reason = fields.get("reason", "")
    if meaning in ("sta_deauth", "sta_disassoc") and reason.isdigit():
        return (K.DEAUTH if meaning == "sta_deauth" else K.DISASSOC), {"reason": int(reason), "by": "sta"}
    if meaning in ("client_deauth", "client_disassoc") and reason.isdigit():
        return K.CLIENT_DISCONNECTED, {"client": True, "reason": int(reason), "by": "ap"}
    return K.WMT, {"marker": meaning, "key": m.key, "verdict": m.verdict, "fields": fields}


def _kernel_only(builder: Builder) -> Builder:
    def build(m: re.Match[str], c: Ctx) -> tuple[str, dict[str, object]] | None:
        if not c.kernel:
            return None
        return builder(m, c)

    return build


def _startup(what: str) -> Builder:
    return _what(K.STARTUP_ERROR, what)


_TIMEOUT_CODES = frozenset({"-110", "-62"})  # ETIMEDOUT, ETIME


def catalogue_event(m: Message, fields: dict[str, str], *, kernel: bool) -> tuple[str, dict[str, object]]:
    """The event a hostapd / wpa_supplicant / kernel driver catalogue entry stands for (see catalog.base)."""
    cls, what = m.cls, m.what
    p: dict[str, object] = {"what": what, "key": m.key}
    if cls == "fatal":
        return K.STARTUP_ERROR, {"what": "fatal", "detail": what, "fatal": True, "key": m.key}
    if cls == "startup":
        return K.STARTUP_ERROR, p
    if cls == "config":
        return K.STARTUP_ERROR, {"what": "config", "detail": what, "key": m.key}
    if cls == "channel":
        if kernel:
            return K.DRIVER_ERROR, {"what": "set_channel", "detail": what, "key": m.key}
        return K.STARTUP_ERROR, {"what": "channel", "detail": what, "channel": True, "key": m.key}
    if cls == "benign":
        return K.BENIGN, p
    if cls == "info":
        return K.NOTE, p
    if cls == "crash":
        return K.FIRMWARE_CRASH, p
    if cls in ("fwtimeout", "fwcmd"):
        if cls == "fwtimeout" or fields.get("err", "").rstrip(")") in _TIMEOUT_CODES:
            return K.DRIVER_ERROR, {"what": "fw_cmd_timeout", "detail": what, "key": m.key}
        return K.DRIVER_ERROR, p
    if cls == "sdio":
        return K.DRIVER_ERROR, {"what": "sdio_card_removed" if what == "card_removed" else "sdio_timeout",
                                "key": m.key}
    if cls == "txstall":
        if what == "full":
            return K.TXQ_STOP, {"full": True, "queue": fields.get("q", ""), "key": m.key}
        return K.TXQ_STOP, {"stuck": True, "queue": fields.get("q", ""), "detail": what, "key": m.key}
    if cls == "run_end":
        return K.RUN_END, {"key": m.key}
    if cls == "supervisor":
        return K.SUPERVISOR, {"what": what, "key": m.key, **fields}
    return K.DRIVER_ERROR, p  # driver:<what>


# one search decides whether any catalogue (WMT, kernel, hostapd, supervisor) can know a message: most
# messages know none, and one alternation is cheaper than four
_ANY_CATALOGUE = prefilter.any_of(
    set(wmt.KEYWORDS) | set(hostap.KEYWORDS) | set(kernel.KEYWORDS) | set(supervisor.KEYWORDS))


def _catalogued(msg: str, kernel: bool) -> tuple[str, dict[str, object]] | None:
    """The event of a line one of the catalogues knows (kernel drivers, then hostapd / wpa_supplicant)."""
    tables = (kernel_catalogue, hostap_catalogue) if kernel else (hostap_catalogue, kernel_catalogue,
                                                                    supervisor.classify)
    for table in tables:
        hit = table(msg)
        if hit is not None:
            return catalogue_event(hit[0], hit[1], kernel=kernel)
    return None


kernel_catalogue = kernel.classify
hostap_catalogue = hostap.classify


def wmt_marker(msg: str) -> str | None:
    """The WMT marker (``WmtMessage.meaning``) of a MediaTek connectivity line; None when the table lacks it."""
    hit = wmt.classify(msg)
    return hit[0].meaning if hit else None


R = re.compile
# (needle, regex, builder). Order matters inside a needle group; first match wins.
RULES: list[tuple[str, re.Pattern[str], Builder]] = [
    # --- hostapd lifecycle
    ("Configuration file:", R(r"Configuration file: ?(.*)"), _k(K.AP_CONFIG_FILE)),
    ("AP-ENABLED", R(r"\bAP-ENABLED\b"), _k(K.AP_ENABLED)),
    ("AP-DISABLED", R(r"\bAP-DISABLED\b"), _k(K.AP_DISABLED)),
    ("interface state", R(r"interface state (\w+)->(\w+)"), _iface_state),
    ("INTERFACE-ENABLED", R(r"INTERFACE-ENABLED"), _k(K.IFACE_ENABLED)),
    ("INTERFACE-DISABLED", R(r"INTERFACE-DISABLED"), _k(K.IFACE_DISABLED)),
    ("CTRL-EVENT-TERMINATING", R(r"CTRL-EVENT-TERMINATING"), _k(K.AP_TERMINATING)),
    # --- start-up errors (hostapd, wpa_supplicant, launcher)
    ("Could not configure driver mode", R(r"Could not configure driver mode"), _startup("driver_mode")),
    ("to mode", R(r"Failed to set interface \S+ to mode \d+: -95"), _startup("ap_mode_unsupported")),
    ("mode change", R(r"[Ii]nterface mode change to \d+ from \d+ failed"), _startup("mode_change")),
    ("Register frame command failed", R(r"Register frame command failed.*ret=(-1[146]\b|-114)"), _startup("busy")),
    ("Register frame command failed", R(r"Register frame command failed"), _startup("register_frame")),
    ("Device or resource busy", R(r"Device or resource busy"), _startup("busy")),
    ("Could not set channel", R(r"Could not set channel"), _startup("set_channel")),
    ("Unable to setup interface", R(r"Unable to setup interface"), _startup("init_failed")),
    ("No such device", R(r"(?:Could not read interface|interface) (\S+) flags: No such device|No such device"),
     _startup("iface_missing")),
    ("does not exist", R(r"[Ii]nterface \S+ does not exist"), _startup("iface_missing")),
    ("Operation not permitted", R(r"Operation not permitted"), _startup("permission")),
    ("Permission denied", R(r"Permission denied"), _startup("permission")),
    ("Not enough entropy", R(r"Not enough entropy"), _startup("entropy")),
    ("strong random data", R(r"Only \d+/\d+ bytes of strong random data"), _startup("entropy")),
    ("not supported by", R(r"(?:[Cc]onfigur|[Ff]eature|ieee80211w|[Mm]anagement frame).*not supported by (?:the )?driver"),
     _startup("config_unsupported")),
    # "Driver does not support configured HT capability [LDPC]" (hostapd hw_features.c) and the like; plain
    # capability notices ("does not support TDLS channel switching", "... rekey offload") are not failures.
    ("does not support", R(r"(?:[Dd]river|[Hh]ardware) does not support (?:the )?configured (.*)"),
     _startup("config_unsupported")),
    ("Failed to start", R(r"Failed to start .*(?:hostapd|wpa_supplicant|dnsmasq|[Ww]ireless|[Aa]ccess)"),
     _k("service_failed")),
    ("Failed with result", R(r"(hostapd|wpa_supplicant|dnsmasq|r2wifi)\S*\.service: Failed with result"),
     _k("service_failed")),
    ("is masked", R(r"(hostapd|wpa_supplicant)\S*\.service is masked"), _k("service_failed")),
    ("repeated too quickly", R(r"(hostapd|wpa_supplicant|dnsmasq)\S*\.service: Start request repeated too quickly"),
     _k("service_failed")),
    ("entered failed state", R(r"(hostapd|wpa_supplicant|dnsmasq)\S* entered failed state"), _k("service_failed")),
    ("status=1/FAILURE", R(r"(hostapd|wpa_supplicant|dnsmasq)\S*\.service: Main process exited.*status=\d+/FAILURE"),
     _k("service_failed")),
    # --- station lifecycle (AP side)
    ("not allowed to authenticate", R(r"Station (" + MAC + r") not allowed to authenticate"), _k("acl_reject")),
    ("did not acknowledge", R(r"did not acknowledge (authentication|association) response"),
     lambda m, c: (K.AUTH, {"noack": True, "frame": m.group(1)})),
    ("due to inactivity", R(r"deauthenticated due to inactivity"), _k(K.INACTIVITY, cleanup=True)),
    ("due to inactivity", R(r"disassociated due to inactivity"), _k(K.INACTIVITY, cleanup=False)),
    ("deauthenticated due to local deauth", R(r"deauthenticated due to local deauth request"),
     _k(K.DEAUTH, by="ap")),
    ("11: authenticated", R(r"IEEE ?802\.11: authenticated"), _k(K.AUTH)),
    ("authentication: STA=", R(r"^authentication: STA=\S+ auth_alg=(\d+)"), _k(K.AUTH, mlme=True)),
    ("11: associated", R(r"IEEE ?802\.11: associated(?: \(aid (\d+)\))?"), _k(K.ASSOC)),
    ("11: reassociated", R(r"IEEE ?802\.11: reassociated"), _k(K.REASSOC)),
    ("AP-STA-CONNECTED", R(r"AP-STA-CONNECTED (" + MAC + r")(?: auth_alg=(\S+))?"),
     lambda m, c: (K.STA_CONNECTED, {"auth_alg": m.group(2)} if m.group(2) else {})),
    ("AP-STA-DISCONNECTED", R(r"AP-STA-DISCONNECTED"), _k(K.STA_DISCONNECTED)),
    ("AP-STA-POSSIBLE-PSK-MISMATCH", R(r"AP-STA-POSSIBLE-PSK-MISMATCH"), _k(K.PSK_MISMATCH)),
    ("AP-STA-POLL-OK", R(r"AP-STA-POLL-OK"), _what(K.BENIGN, "poll_ok")),
    ("11: disassociated", R(r"IEEE ?802\.11: disassociated$"), _k(K.DISASSOC, by=None)),
    ("11: deauthenticated", R(r"IEEE ?802\.11: deauthenticated$"), _k(K.DEAUTH, by=None)),
    ("MLME-DEAUTHENTICATE.indication", R(r"MLME-DEAUTHENTICATE\.indication\(\S+, (\d+)\)"),
     _reason(K.DEAUTH, None, mlme=True)),
    ("MLME-DISASSOCIATE.indication", R(r"MLME-DISASSOCIATE\.indication\(\S+, (\d+)\)"),
     _reason(K.DISASSOC, None, mlme=True)),
    ("deauthentication: STA=", R(r"deauthentication: STA=\S+ reason_code=(\d+)"), _reason(K.DEAUTH, "sta")),
    ("disassoc", R(r"disassoc(?:i)?ation: STA=\S+ reason_code=(\d+)"), _reason(K.DISASSOC, "sta")),
    ("requests disconnect", R(r"requests disconnect: STA \S+ reason (\d+)"), _reason(K.DEAUTH, "ap")),
    # --- EAPOL / WPA
    ("msg of 4-Way Handshake", R(r"sending (\d)/(4) msg of 4-Way Handshake"), _eapol(K.EAPOL_TX)),
    ("msg of Group Key Handshake", R(r"sending (\d)/(2) msg of Group Key Handshake"), _eapol(K.EAPOL_TX)),
    ("received EAPOL-Key frame", R(r"received EAPOL-Key frame \((\d)/(\d) (?:Pairwise|Group)\)"), _eapol(K.EAPOL_RX)),
    ("WPA: EAPOL-Key timeout", R(r"WPA: EAPOL-Key timeout"), _k(K.EAPOL_TIMEOUT)),
    ("Retry limit", R(r"(\w+): Retry limit (\d+) reached"), lambda m, c: (K.RETRY_LIMIT, {"state": m.group(1)})),
    # hostapd src/ap/wpa_auth.c at LOGGER_INFO (seen at the default level): the GTK rekey gave up
    ("group key handshake failed", R(r"group key handshake failed(?: \(\w+\))? after (\d+) tries"),
     _k(K.RETRY_LIMIT, state="GROUP_KEY")),
    ("pairwise key handshake completed", R(r"pairwise key handshake completed"), _k(K.HANDSHAKE_COMPLETED, group=False)),
    ("EAPOL-4WAY-HS-COMPLETED", R(r"EAPOL-4WAY-HS-COMPLETED"), _k(K.HANDSHAKE_COMPLETED, group=False, event=True)),
    ("group key handshake completed", R(r"group key handshake completed"), _k(K.HANDSHAKE_COMPLETED, group=True)),
    ("invalid MIC", R(r"invalid MIC in msg (\d)/4"), lambda m, c: (K.INVALID_MIC, {"msg": int(m.group(1))})),
    ("unexpected replay counter", R(r"received EAPOL-Key (?:msg )?(\d)/(\d) (?:Pairwise|Group)? ?with unexpected replay counter"),
     lambda m, c: (K.REPLAY_MISMATCH, {"msg": int(m.group(1)), "group": m.group(2) == "2"})),
    ("in invalid state", R(r"received EAPOL-Key msg (\d)/(\d) in invalid state"),
     lambda m, c: (K.REPLAY_MISMATCH, {"msg": int(m.group(1)), "group": m.group(2) == "2", "invalid_state": True})),
    ("WPA rekeying GTK", R(r"WPA rekeying GTK"), _k("gtk_rekey")),
    # --- client side (wpa_supplicant / iwd / mac80211 station)
    ("CTRL-EVENT-CONNECTED", R(r"CTRL-EVENT-CONNECTED - Connection to (" + MAC + r")"),
     lambda m, c: (K.CLIENT_CONNECTED, {"client": True, "bssid": m.group(1).lower()})),
    ("CTRL-EVENT-DISCONNECTED", R(r"CTRL-EVENT-DISCONNECTED bssid=(" + MAC + r") reason=(\d+)( locally_generated=1)?"),
     _client_disc),
    ("CTRL-EVENT-ASSOC-REJECT", R(r"CTRL-EVENT-ASSOC-REJECT (?:bssid=(" + MAC + r") )?.*?status_code=(\d+)"),
     lambda m, c: (K.CLIENT_ASSOC_REJECT, {"client": True, "bssid": (m.group(1) or "").lower() or None,
                                           "status": int(m.group(2))})),
    ("CTRL-EVENT-SSID-TEMP-DISABLED", R(r"CTRL-EVENT-SSID-TEMP-DISABLED .*reason=WRONG_KEY"),
     _k("client_wrong_key", client=True)),
    ("CTRL-EVENT-SSID-TEMP-DISABLED", R(r"CTRL-EVENT-SSID-TEMP-DISABLED .*reason=(\w+)"),
     lambda m, c: ("client_temp_disabled", {"client": True, "why": m.group(1)})),
    ("timed out", R(r"[Aa]uthentication with (" + MAC + r") timed out"),
     lambda m, c: (K.CLIENT_AUTH_TIMEOUT, {"client": True, "bssid": m.group(1).lower()})),
    ("timed out", R(r"[Aa]ssociation with (" + MAC + r") timed out"),
     lambda m, c: (K.CLIENT_AUTH_TIMEOUT, {"client": True, "bssid": m.group(1).lower(), "stage": "association"})),
    ("Invalid EAPOL-Key MIC", R(r"Invalid EAPOL-Key MIC"), _k("client_invalid_mic", client=True)),
    ("4-Way handshake failed", R(r"4-Way handshake failed for ifindex: \d+, reason: (\d+)"),
     lambda m, c: (K.CLIENT_DISCONNECTED, {"client": True, "reason": int(m.group(1)), "by": "sta", "iwd": True})),
    ("(Reason:", R(r"(deauthenticated|disassociated) from (" + MAC + r") \(Reason: (\d+)"), _client_mac80211_disc),
    ("by local choice", R(r"(?:deauthenticating|disassociating) from (" + MAC + r") by local choice \(Reason: (\d+)"),
     lambda m, c: (K.CLIENT_DISCONNECTED, {"client": True, "bssid": m.group(1).lower(), "reason": int(m.group(2)),
                                           "by": "sta"})),
    ("RX AssocResp", R(r"RX (?:Re)?AssocResp from (" + MAC + r") \(capab=\S+ status=(\d+)"), _assoc_resp),
    ("Association request to the driver failed", R(r"Association request to the driver failed"),
     _what(K.DRIVER_ERROR, "assoc_request_failed", client=True)),
    ("Key negotiation completed", R(r"Key negotiation completed with (" + MAC + r")"),
     lambda m, c: ("client_key_done", {"client": True, "bssid": m.group(1).lower()})),
    # --- DHCP (dnsmasq)
    ("DHCPDISCOVER", R(r"DHCPDISCOVER\((\S+)\)"), _k(K.DHCP_DISCOVER)),
    ("DHCPACK", R(r"DHCPACK\((\S+)\) (\S+)"), lambda m, c: (K.DHCP_ACK, {"ip": m.group(2)})),
    ("DHCPNAK", R(r"DHCPNAK\((\S+)\)"), _k("dhcp_nak")),
    # --- benign noise (before the generic error rules)
    ("attribute type", R(r"netlink: '\S+': attribute type (\d+) has an invalid length"),
     lambda m, c: (K.KERNEL_WARNING, {"benign": True, "what": f"netlink_attr_{m.group(1)}"})),
    ("set_key failed", R(r"set_key failed"), _what(K.BENIGN, "set_key_failed")),
    ("PTK removal from the driver failed", R(r"PTK removal from the driver failed"), _what(K.BENIGN, "ptk_removal")),
    ("Failed to clear default encryption keys", R(r"Failed to clear default encryption keys"),
     _what(K.BENIGN, "clear_default_keys")),
    ("Failed to set TX queue parameters", R(r"Failed to set TX queue parameters"), _what(K.BENIGN, "tx_queue_params")),
    ("Station flush failed", R(r"Station flush failed"), _what(K.BENIGN, "station_flush")),
    ("Could not connect to kernel driver", R(r"Could not connect to kernel driver"), _what(K.BENIGN, "connect_kernel_driver")),
    ("mac flush vdev", R(r"mac flush vdev"), _what(K.BENIGN, "ath10k_flush_info")),
    ("regulatory.db", R(r"failed to load regulatory\.db"), _what(K.BENIGN, "regulatory_db")),
    ("Direct firmware load", R(r"Direct firmware load for \S+ failed with error -2"),
     _what(K.BENIGN, "firmware_name_fallback")),
    ("Could not add multicast membership", R(r"Could not add multicast membership"), _what(K.BENIGN, "nl80211_multicast")),
    ("20/40 MHz operation not permitted", R(r"20/40 MHz operation not permitted"), _what(K.BENIGN, "ht40_not_permitted")),
    ("Cannot open RFKILL", R(r"Cannot open RFKILL control device"), _what(K.BENIGN, "rfkill")),
    ("CMD_SET_CQM failed", R(r"CMD_SET_CQM failed"), _what(K.BENIGN, "iwd_cqm_unsupported")),
    ("link becomes ready", R(r"ADDRCONF\(NETDEV_CHANGE\): (\S+): link becomes ready"),
     lambda m, c: ("link_ready", {"dev": m.group(1)})),
    ("link is not ready", R(r"ADDRCONF\(NETDEV_UP\): (\S+): link is not ready"),
     lambda m, c: ("link_not_ready", {"dev": m.group(1)})),
    # --- kernel / driver
    ("firmware crashed", R(r"(?i)firmware crashed|fw crash"), _k(K.FIRMWARE_CRASH)),
    ("Microcode SW error", R(r"Microcode SW error detected"), _k(K.FIRMWARE_CRASH)),
    ("crashed", R(r"(?i)\b(?:firmware|fw)\b.*\bcrash"), _k(K.FIRMWARE_CRASH)),
    ("dongle trap info", R(r"dongle trap info"), _k(K.FIRMWARE_CRASH, detail=True)),
    ("disagrees about version of symbol", R(r"(\S+): disagrees about version of symbol"), _k("module_mismatch")),
    ("Unknown symbol", R(r"(\S+): Unknown symbol"), _k("module_mismatch")),
    ("cut here", R(r"-+\[ cut here \]-+"), _k(K.KERNEL_WARNING, start=True)),
    ("WARNING:", R(r"WARNING: CPU: \d+ PID: \d+ at (\S+)"), _k(K.KERNEL_WARNING)),
    ("WARNING:", R(r"^WARNING: at (\S+)"), _kernel_only(_k(K.KERNEL_WARNING))),
    ("Oops", R(r"Internal error: Oops|Oops: [0-9a-f]+ \["), _k(K.KERNEL_WARNING, oops=True)),
    ("BUG:", R(r"BUG: (?:kernel NULL pointer|unable to handle|scheduling while atomic|sleeping function)"),
     _k(K.KERNEL_WARNING, oops=True)),
    ("failed to flush transmit queue", R(r"failed to flush transmit queue"), _k(K.KERNEL_WARNING, what="tx_flush")),
    ("CMD53", R(r"CMD53 .*failed"), _what(K.DRIVER_ERROR, "sdio_timeout")),
    ("sdio", R(r"(?i)sdio.*(?:-110\b|timed out|time out)"), _what(K.DRIVER_ERROR, "sdio_timeout")),
    ("timed out", R(r"(?i)(?:firmware|fw|wmi|htc|mcu)\b.*\b(?:command|cmd).*timed? ?out"),
     _what(K.DRIVER_ERROR, "fw_cmd_timeout")),
    ("bus is down", R(r"bus is down"), _what(K.DRIVER_ERROR, "bus_down")),
    ("NAKHANDLED", R(r"NAKHANDLED"), _what(K.DRIVER_ERROR, "sdio_nak")),
]

_GENERIC_DRIVER = R(
    r"(?i)^(?:ieee80211 phy\d+: |(?:" + kernel.WIFI_DRIVERS + r")\b)"
    r".*(?:\berror\b|\bfail(?:ed|ure)?\b|\btimeout\b|\btimed out\b|\b-(?:5|110|22|16|12)\b\)?$)"
)

_TIMED_OUT = R(r"(?<![\w-])-(?:110|62)\b|\bETIMEDOUT\b")

KEYWORDS: tuple[str, ...] = prefilter.cover(
    [needle for needle, _rx, _b in RULES]
    + [m.fmt for m in wmt.MESSAGES]
    + [m.fmt for table in (hostap.TABLE, kernel.TABLE, supervisor.TABLE) for m in table.messages]
    + ["brcmf", "ath10k", "ath11k", "rt2x00", "mwlwifi", "iwlwifi", "rtw", "rtl", "mt76", "ieee80211 phy"]
)


def _station_of(msg: str) -> tuple[str | None, str]:
    """Take ``STA <mac> `` off the front (returns (station, rest)); else find a MAC in the line."""
    m = RE_STA_PREFIX.match(msg)
    if m:
        return m.group(1).lower(), msg[m.end():]
    return None, msg


def classify(msg: str, *, source: str = "other", kernel: bool = False) -> tuple[str | None, str | None, str, dict[str, object]] | None:
    """Classify one unwrapped message. Returns (station, iface, kind, params) or None."""
    iface = None
    body = msg
    m = RE_IFACE_PREFIX.match(body)
    if m and not kernel and m.group(1) not in _NOT_IFACES:
        iface = m.group(1)
        body = body[m.end():]
    station, body2 = _station_of(body)
    if station is None and _ANY_CATALOGUE.search(body2) is not None:
        hit = _wmt_event(body2)
        if hit is not None:  # the WMT table decides what a MediaTek line means
            return None, iface, hit[0], hit[1]
        hit = _catalogued(body2, kernel)
        if hit is not None:  # so do the hostapd / wpa_supplicant and kernel driver catalogues
            return None, iface, hit[0], hit[1]
    ctx = Ctx(body2, source, kernel, station, iface)
    for needle, rx, build in RULES:
        if needle in body2:
            mm = rx.search(body2)
            if mm is None:
                continue
            res = build(mm, ctx)
            if res is None:
                continue
            kind, params = res
            if station is None:
                bssid = params.get("bssid")
                if isinstance(bssid, str) and bssid:
                    station = bssid
                else:
                    mac = RE_MAC.search(body2)
                    if mac and kind not in _NO_STATION_KINDS:
                        station = mac.group(1).lower()
            return station, iface, kind, params
    if kernel or source != "hostapd" or msg[:1].islower():
        if _GENERIC_DRIVER.search(msg):
            # an error code of -110 (ETIMEDOUT) from a WiFi driver is a command that timed out
            what = "fw_cmd_timeout" if _TIMED_OUT.search(msg) else "driver"
            return None, None, K.DRIVER_ERROR, {"what": what}
    return None


_NOT_IFACES = frozenset({
    "nl80211", "WPA", "RSN", "random", "rfkill", "netlink", "hostapd", "wpa_supplicant", "IEEE 802.1X",
    "Configuration file", "authentication", "deauthentication", "disassocation", "disassociation",
    "handle_auth_cb", "hostapd_wpa_auth_disconnect", "hostapd_free_hapd_data", "RADIUS", "VLAN", "MLME",
    "BSSID", "ctrl_interface", "IPv6", "cfg80211", "brcmfmac", "mmc0", "mmc1", "mmc2", "ieee80211",
    "DFS", "Mode", "ACS", "wpa_driver_nl80211_set_key", "EAPOL",
})
_NO_STATION_KINDS = frozenset({
    K.AP_CONFIG_FILE, K.AP_ENABLED, K.AP_DISABLED, K.IFACE_STATE, K.STARTUP_ERROR, K.BENIGN, K.WMT,
    K.DRIVER_ERROR, K.FIRMWARE_CRASH, K.KERNEL_WARNING, K.TXQ_STOP, K.TXQ_WAKE, "module_mismatch",
    "link_ready", "link_not_ready", "gtk_rekey", "service_failed",
})

_CLIENT_HINTS = ("CTRL-EVENT-", "Trying to associate", "Associated with", "Key negotiation", "Authentication with")


def source_of(prog: str | None, kernel: bool, msg: str) -> str:
    if kernel:
        return "kernel"
    if prog:
        if prog.startswith("hostapd"):
            return "hostapd"
        if prog.startswith(("wpa_supplicant", "iwd", "connman", "networkmanager")):
            return "wpa_supplicant"
        if prog.startswith("dnsmasq"):
            return "dnsmasq"
        if prog in ("systemd", "init"):
            return "systemd"
        return "other"
    if "DHCP" in msg[:20]:
        return "dnsmasq"
    if any(h in msg for h in _CLIENT_HINTS):
        return "wpa_supplicant"
    return "hostapd"


Classified = tuple[str, str, "str | None", "str | None", dict[str, object], bool, "float | None"]
_CACHE: dict[tuple[str | None, str], list[Classified]] = {}
_CACHE_MAX = 65536


def _classify_parts(prog: str | None, msg: str, uptime: float | None) -> list[Classified]:
    """(kind, source, station, iface, params, is_kernel, part_uptime) for each part of a message."""
    out: list[Classified] = []
    glued = wrappers.split_glued(msg)
    if len(glued) > 1:
        # records glued into one line: the first keeps this line's wrapper, each later one
        # brings its own (a kernel record its own [uptime])
        out.extend(_classify_parts(prog, glued[0], uptime))
        for record in glued[1:]:
            u = wrappers.unwrap(record)
            for kind, src, station, iface, params, is_kernel, up in _classify_parts(u.prog, u.msg, u.uptime):
                out.append((kind, src, station, iface, params, is_kernel,
                            up if up is not None or not is_kernel else u.uptime))
        return out
    parts: list[tuple[str, bool, float | None]] = []
    kernel = prog == "kernel"
    if not kernel and "] " in msg:
        head, tail, up = wrappers.split_printk(msg)
        if tail is not None:
            parts.append((head, False, None))
            parts.append((tail, True, up))
        else:
            parts.append((msg, False, None))
    else:
        parts.append((msg, kernel, None))
    for part, is_kernel, up in parts:
        if not part:
            continue
        src = source_of(prog, is_kernel, part)
        res = classify(part, source=src, kernel=is_kernel)
        if res is None:
            continue
        station, iface, kind, params = res
        if params.get("client") and src == "hostapd":
            src = "wpa_supplicant"
        out.append((kind, src, station, iface, params, is_kernel, up))
    return out


def classified(u: wrappers.Unwrapped) -> list[Classified]:
    """The memoised classification of an unwrapped line (see :func:`events_from`)."""
    key = (u.prog, u.msg)
    parts = _CACHE.get(key)
    if parts is None:
        parts = _classify_parts(u.prog, u.msg, u.uptime)
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = parts
    return parts


def events_from(u: wrappers.Unwrapped, *, file: str, line: int, text: str) -> list[Event]:
    """Classify an unwrapped line (splitting a kernel record glued into it).

    Classification depends only on (program, message), so results are memoised in a bounded
    cache: repeated noise lines (the bulk of a debug log) cost one dict lookup. Params dicts are
    shared between events from the cache and must be treated as read-only.
    """
    parts = classified(u)
    if not parts:
        return []
    return [Event(kind=kind, source=src, file=file, line=line, text=text, ts=u.ts,
                  uptime=(up if up is not None else u.uptime) if is_kernel else u.uptime,
                  station=station, iface=iface, params=params)
            for kind, src, station, iface, params, is_kernel, up in parts]


def parse_line(raw: str, *, file: str = "-", line: int = 0, year: int = 1970) -> list[Event]:
    """Unwrap and classify one raw log line (any wrapper of log-formats.md); [] when uninteresting."""
    cleaned, _damaged = wrappers.clean(raw)
    if not cleaned:
        return []
    u = wrappers.unwrap(cleaned, year=year)
    return events_from(u, file=file, line=line, text=cleaned)
