"""The AP's clients as typed records: hostapd's STA data joined with dnsmasq's DHCP leases.

Public API::

    parse_station(mac, kv) -> Station              # one STA / STA-FIRST / STA-NEXT reply (ctrl.parse_sta)
    parse_leases(text) -> dict[mac, Lease]           # dnsmasq's dhcp-leasefile (IPv4 lines)
    read_leases(path) -> dict[mac, Lease]            # the same from a file; missing/unreadable -> {}
    join(stations, leases) -> list[Station]          # ip / hostname filled in from the leases
    ap_summary(status_kv, driver=None) -> dict       # hostapd STATUS -> the typed ``hostapd`` object
    lease_file(daemons) -> Path                      # where r2wifi's dnsmasq keeps its leases
    query(ctrl_path, lease_path, driver=None) -> (hostapd, [station dicts])   # STATUS + STA walk + leases

Rules:
* One home for the shape of a client: ``status`` (text, ``--json``, ``--watch``) and ``metrics``
  both read :meth:`Station.as_dict`; the field names below are the JSON contract (``status --json``,
  schema version :data:`SCHEMA_VERSION`) and change only with that number.
* Values are typed: numbers are ints/floats, absent facts are ``None`` (the wired driver of the
  simulator reports no signal or rates), never strings such as ``"-48"``.
* The wired driver (``driver=wired``: the simulator's veth, an 802.3 link) has no 802.11 association
  and no key handshake: a station there is one hostapd saw send EAPOL-Start, ``authorized`` is
  ``None`` unless hostapd flags it AUTHORIZED (does not apply, not "refused"), its text line says so,
  and ``hostapd`` carries
  ``driver: "wired"`` with ``channel``/``freq_mhz`` ``None`` (there is no radio; hostapd says 0).
* Pure functions on text (sans-IO); only :func:`read_leases` reads a file and :func:`query` talks to
  hostapd's control socket (raises :class:`r2wifi.hostap.ctrl.CtrlError`).

hostapd's STA keys (``hostapd/ctrl_iface_ap.c``) -> fields::

    flags=[AUTH][ASSOC][AUTHORIZED]   -> flags ["AUTH", "ASSOC", "AUTHORIZED"], authorized true
    signal=-48 (dBm)                  -> signal_dbm -48
    connected_time=25 (s)             -> connected_seconds 25
    inactive_msec=120                 -> inactive_ms 120
    rx_bytes / tx_bytes / rx_packets / tx_packets -> the same names, ints
    rx_rate_info=650 mcs 7 shortGI    -> rx_rate_mbps 65.0 (hostapd gives units of 100 kbit/s)
    tx_rate_info=1300 vhtmcs 9 ...    -> tx_rate_mbps 130.0
    dot1xAuthSessionUserName=alice    -> identity "alice" (802.1X only)

dnsmasq lease lines: ``<expiry epoch s, 0 = never> <mac> <ipv4> <hostname or *> <client id or *>``;
the IPv6 part after the ``duid`` line is skipped (its second column is an IAID, not a MAC).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from r2wifi import records

if TYPE_CHECKING:
    from r2wifi.service.daemons import Daemons

SCHEMA_VERSION = 1  # of `status --json` (the station and hostapd objects below and the top level)
WIRED = "wired"  # hostapd's driver on an 802.3 link (the simulator's veth)

_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_FLAG_RE = re.compile(r"\[([^\]]+)\]")


@records.record(frozen=True)
class Lease:
    mac: str
    ip: str
    hostname: str | None
    expires: int | None  # epoch seconds; None = infinite lease


@records.record(frozen=True)
class Station:
    mac: str
    ip: str | None = None
    hostname: str | None = None
    authorized: bool | None = False  # None: does not apply (wired driver: no 802.11 authorization)
    flags: tuple[str, ...] = ()
    signal_dbm: int | None = None
    connected_seconds: int | None = None
    inactive_ms: int | None = None
    rx_bytes: int | None = None
    tx_bytes: int | None = None
    rx_packets: int | None = None
    tx_packets: int | None = None
    rx_rate_mbps: float | None = None
    tx_rate_mbps: float | None = None
    identity: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = records.asdict(self)
        d["flags"] = list(self.flags)
        return d


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _rate(value: str | None) -> float | None:
    """``rx_rate_info`` / ``tx_rate_info``: the first word is the rate in 100 kbit/s."""
    if not value:
        return None
    n = _int(value.split()[0])
    return None if n is None else n / 10.0


def parse_station(mac: str, kv: Mapping[str, str]) -> Station:
    """One station from hostapd's STA reply (``kv`` as :func:`r2wifi.hostap.ctrl.parse_sta` gives it)."""
    flags = tuple(_FLAG_RE.findall(kv.get("flags", "")))
    return Station(
        mac=mac.lower(),
        authorized="AUTHORIZED" in flags,
        flags=flags,
        signal_dbm=_int(kv.get("signal")),
        connected_seconds=_int(kv.get("connected_time")),
        inactive_ms=_int(kv.get("inactive_msec")),
        rx_bytes=_int(kv.get("rx_bytes")),
        tx_bytes=_int(kv.get("tx_bytes")),
        rx_packets=_int(kv.get("rx_packets")),
        tx_packets=_int(kv.get("tx_packets")),
        rx_rate_mbps=_rate(kv.get("rx_rate_info")),
        tx_rate_mbps=_rate(kv.get("tx_rate_info")),
        identity=kv.get("dot1xAuthSessionUserName") or None,
    )


def parse_leases(text: str) -> dict[str, Lease]:
    """dnsmasq's lease file -> {mac: Lease} (IPv4; malformed lines skipped, the last line per MAC wins)."""
    out: dict[str, Lease] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] == "duid":
            if parts:
                break  # the IPv6 section follows
            continue
        if len(parts) < 4 or not _MAC_RE.match(parts[1].lower()):
            continue
        expiry = _int(parts[0])
        if expiry is None:
            continue
        host = parts[3] if parts[3] != "*" else None
        out[parts[1].lower()] = Lease(parts[1].lower(), parts[2], host, expiry or None)
    return out


def read_leases(path: Path | None) -> dict[str, Lease]:
    if path is None:
        return {}
    try:
        return parse_leases(path.read_text(errors="replace"))
    except OSError:
        return {}


def join(stations: Iterable[Station], leases: Mapping[str, Lease]) -> list[Station]:
    """Each station with the address and host name of its lease (if any), sorted by MAC."""
    out = []
    for sta in stations:
        lease = leases.get(sta.mac)
        if lease is not None:
            sta = records.replace(sta, ip=lease.ip, hostname=lease.hostname)
        out.append(sta)
    return sorted(out, key=lambda s: s.mac)


def ap_summary(kv: Mapping[str, str], driver: str | None = None) -> dict[str, Any]:
    """hostapd's STATUS -> ``{state, ssid, bssid, channel, freq_mhz, num_stations, driver}`` (typed; ``driver``
    is the one r2wifi started hostapd with, None when not known; no radio (wired): no channel)."""
    radio = driver != WIRED
    return {"state": kv.get("state"), "ssid": kv.get("ssid[0]"), "bssid": kv.get("bssid[0]"),
            "channel": _int(kv.get("channel")) if radio else None,
            "freq_mhz": _int(kv.get("freq")) if radio else None,
            "num_stations": _int(kv.get("num_sta[0]")), "driver": driver}


def lease_file(daemons: Daemons) -> Path:
    """dnsmasq's lease file as :func:`r2wifi.hostap.daemon.dnsmasq_daemon` sets it (``dhcp/<name>.leases``)."""
    d = daemons.handle("dnsmasq")
    return d.root / "dhcp" / f"{d.name}.leases"


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def _duration(s: int | None) -> str:
    if s is None:
        return "-"
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


def station_cells(sta: Mapping[str, Any]) -> list[str]:
    """A station (``as_dict``) as text cells: MAC, IP, name, signal, connected, rx, tx, rates."""
    sig = sta.get("signal_dbm")
    rates = "/".join(f"{r:g}" if r is not None else "?" for r in (sta.get("rx_rate_mbps"), sta.get("tx_rate_mbps")))
    return [str(sta["mac"]), sta.get("ip") or "-", sta.get("hostname") or "-",
            f"{sig} dBm" if sig is not None else "-", _duration(sta.get("connected_seconds")),
            _size(sta.get("rx_bytes")), _size(sta.get("tx_bytes")),
            f"{rates} Mbit/s" if rates != "?/?" else "-"]


STATION_COLUMNS = ("MAC", "IP", "name", "signal", "connected", "rx", "tx", "rx/tx rate")


def station_line(sta: Mapping[str, Any]) -> str:
    mac, ip, name, sig, conn, rx, tx, rate = station_cells(sta)
    auth = sta.get("authorized", True)
    return (f"{mac} {ip} {name}, signal {sig}, connected {conn}, rx {rx} tx {tx}, rate {rate}"
            + (", wired link (802.3): no association or key handshake to authorize" if auth is None
               else "" if auth else ", not authorized"))


def query(ctrl_path: Path, lease_path: Path | None,
          driver: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """hostapd's STATUS and every station (STA-FIRST/NEXT) joined with the leases, as JSON-ready dicts
    (``driver``: the one hostapd runs with; ``wired`` -> ``authorized`` None, see the rules above)."""
    from r2wifi.hostap.ctrl import CtrlClient

    with CtrlClient(ctrl_path, timeout=2.0) as c:
        st = c.status()
        found = [parse_station(mac, kv) for mac, kv in c.all_sta().items()]
    if driver == WIRED:
        found = [s if s.authorized else records.replace(s, authorized=None) for s in found]
    return ap_summary(st, driver), [s.as_dict() for s in join(found, read_leases(lease_path))]
