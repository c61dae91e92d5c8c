"""The r2wifi configuration: one TOML file, frozen dataclasses, validation that names the key.

Public API (stable; other modules build on it)::

    load_config(path=None) -> Config        # read + validate; path None -> r2wifi.paths.config_path()
    parse_config(text, source="<string>") -> Config
    default_config() -> Config              # the documented defaults (ap.passphrase empty)
    validate(cfg) -> Config                 # raise ConfigError naming the key, else return cfg
    render_default_toml(passphrase) -> str  # the commented file `r2wifi config init` writes
    config_as_dict(cfg, masked=True) -> dict  # for `config show` (secrets masked)
    parse_rate(text) -> int                 # "8mbit" -> 8_000_000 bit/s (tc units)
    iso_countries() -> frozenset[str]

    cfg.ap.interface / cfg.ap.ssid / cfg.ap.security ...   (see the dataclasses below)
    cfg.ap.network4 -> IPv4Interface, cfg.ap.key_material -> passphrase or psk
    cfg.dhcp.range_start / range_end are always resolved (defaults computed inside the subnet)

Rules:
* Every problem is a :class:`r2wifi.errors.ConfigError` whose message starts with the dotted key
  (``ap.channel: 14 is not a valid channel for hw_mode g in country DE``). The CLI prints it as one
  line and exits 2. Unknown sections and keys are errors (typos must not silently fall back).
* Defaults match the BPI-R2 (interface ``ap0`` as created by ``echo A > /dev/wmtWifi``, address
  192.168.10.1/24 and fd00:b::10/64 as in frank-w's wifi.sh, channel 6, country DE).
* ``chip.names = "mtk"`` selects the OpenWrt interface names (``mtkap0``/``mtkwlan0``) for any
  interface left unset.
* Secrets (``ap.passphrase``, ``ap.psk``, ``sta.passphrase``, ``sta.psk``) never appear in
  ``repr()`` of the dataclasses or in :func:`config_as_dict` with ``masked=True``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r2wifi.errors import ConfigError, UserError
from r2wifi.paths import config_path
from r2wifi.toml import tomllib

SECURITY_MODES = ("wpa2", "wpa3", "wpa2-wpa3", "open")
CHIP_BACKENDS = ("auto", "real", "sim")
NAME_SCHEMES = ("default", "mtk")
HW_MODES = ("a", "b", "g")
HOSTAPD_DRIVERS = ("nl80211", "wired")
MASK = "********"

# ISO 3166-1 alpha-2 (officially assigned codes).
_ISO = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
_ISO_SET = frozenset(_ISO.split())

# 5 GHz 20 MHz channel numbers hostapd accepts (UNII-1..3, incl. DFS ranges).
CHANNELS_5GHZ = frozenset(
    [36, 40, 44, 48, 52, 56, 60, 64]
    + list(range(100, 145, 4))
    + [149, 153, 157, 161, 165, 169, 173, 177]
)
_HT_FLAGS = frozenset(
    """HT40+ HT40- SHORT-GI-20 SHORT-GI-40 LDPC SMPS-STATIC SMPS-DYNAMIC GF TX-STBC RX-STBC1
    RX-STBC12 RX-STBC123 DELAYED-BA MAX-AMSDU-7935 DSSS_CCK-40 40-INTOLERANT LSIG-TXOP-PROT""".split()
)
_RATE_UNITS = {
    "bit": 1, "kbit": 1_000, "mbit": 1_000_000, "gbit": 1_000_000_000, "tbit": 1_000_000_000_000,
    "bps": 8, "kbps": 8_000, "mbps": 8_000_000, "gbps": 8_000_000_000,
    "kibit": 1024, "mibit": 1024**2, "gibit": 1024**3,
}
_LEASE_RE = re.compile(r"^(infinite|[0-9]+[smhdw]?)$")
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_HEX64_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_IFNAME_RE = re.compile(r"^[^\s/:]{1,15}$")


def iso_countries() -> frozenset[str]:
    return _ISO_SET


def parse_rate(text: str) -> int:
    """Parse a tc rate (``8mbit``, ``500kbit``, ``1.5mbit``, ``1mbps``) into bit/s; ValueError if bad."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not m:
        raise ValueError(f"{text!r} is not a rate like 8mbit")
    unit = (m.group(2) or "bit").lower()
    if unit not in _RATE_UNITS:
        raise ValueError(f"{text!r}: unknown unit {unit!r} (use bit, kbit, mbit, gbit, bps, kbps, mbps)")
    value = int(float(m.group(1)) * _RATE_UNITS[unit])
    if value <= 0:
        raise ValueError(f"{text!r} must be more than zero")
    return value


# --------------------------------------------------------------------------------------------
# the dataclasses (field order = order in the default file)


@dataclass(frozen=True)
class ChipConfig:
    enabled: bool = True  # false: no MediaTek chip, use an existing interface of any radio
    backend: str = "auto"  # auto | real | sim
    firmware_dir: str = "/etc/firmware"
    names: str = "default"  # default (wlan0/ap0/p2p0) | mtk (OpenWrt: mtkwlan0/mtkap0/mtkp2p0)


@dataclass(frozen=True)
class APConfig:
    enabled: bool = True
    interface: str = ""  # "" -> ap0 (names=default) or mtkap0 (names=mtk)
    driver: str = "nl80211"  # hostapd driver; "wired" for the 802.1X test bed
    ssid: str = "BPI-R2"
    passphrase: str = field(default="", repr=False)
    psk: str = field(default="", repr=False)  # 64 hex digits instead of a passphrase (wpa2 only)
    security: str = "wpa2"  # wpa2 | wpa3 | wpa2-wpa3 | open
    country: str = "DE"
    hw_mode: str = "g"  # g (2.4 GHz) | a (5 GHz) | b
    channel: int = 6
    ieee80211n: bool = True
    ht_capab: str = ""  # e.g. "[SHORT-GI-20]"
    address4: str = "192.168.10.1/24"
    address6: str = "fd00:b::10/64"  # "" to disable IPv6
    mac: str = ""  # optional stable MAC for the AP interface
    max_inactivity: int = 300  # hostapd ap_max_inactivity (seconds)
    extra: tuple[str, ...] = ()  # raw hostapd.conf lines appended verbatim

    @property
    def network4(self) -> ipaddress.IPv4Interface:
        return ipaddress.IPv4Interface(self.address4)

    @property
    def network6(self) -> ipaddress.IPv6Interface | None:
        return ipaddress.IPv6Interface(self.address6) if self.address6 else None

    @property
    def key_material(self) -> str:
        return self.passphrase or self.psk


@dataclass(frozen=True)
class DhcpConfig:
    enabled: bool = True
    range_start: str = ""  # "" -> .100 of the subnet (or the first free host of a small one)
    range_end: str = ""  # "" -> .199 (or the last host)
    lease_time: str = "12h"  # dnsmasq syntax: 3600, 45m, 12h, 1d, infinite
    dns: tuple[str, ...] = ()  # DNS servers to announce; empty: the AP's own address
    dns_port: int = 53  # 0: DHCP only, no DNS forwarder (what the tests use)


@dataclass(frozen=True)
class ShapingConfig:
    enabled: bool = False
    rate: str = "8mbit"  # egress limit on the AP interface (keeps the driver queue short)

    @property
    def rate_bps(self) -> int:
        return parse_rate(self.rate)


@dataclass(frozen=True)
class NatConfig:
    uplink: str = ""  # interface to masquerade out of ("" = no NAT)
    bridge: str = ""  # bridge the AP interface into ("" = routed)


@dataclass(frozen=True)
class StaConfig:
    enabled: bool = False
    interface: str = ""  # "" -> wlan0 (names=default) or mtkwlan0 (names=mtk)
    driver: str = "nl80211"
    ssid: str = ""
    passphrase: str = field(default="", repr=False)
    psk: str = field(default="", repr=False)
    security: str = "wpa2"
    dhcp: bool = True  # run a DHCP client (busybox udhcpc) on the station interface
    set_dns: bool = True  # put the lease's DNS servers into /etc/resolv.conf (restored on down)


@dataclass(frozen=True)
class SupervisorConfig:
    stall_seconds: int = 60  # TX queue stopped this long -> recover
    max_restarts: int = 5  # restarts allowed within restart_window before giving up
    restart_window: int = 600
    backoff_initial: float = 2.0
    backoff_max: float = 60.0
    watchdog_seconds: int = 60  # systemd WatchdogSec
    storm_count: int = 5  # this many EAPOL handshake timeouts ...
    storm_window: int = 60  # ... within this many seconds -> restart hostapd
    loop_count: int = 6  # one station connecting this many times ...
    loop_window: int = 60  # ... within this many seconds -> association loop


@dataclass(frozen=True)
class Config:
    chip: ChipConfig = ChipConfig()
    ap: APConfig = APConfig()
    dhcp: DhcpConfig = DhcpConfig()
    shaping: ShapingConfig = ShapingConfig()
    nat: NatConfig = NatConfig()
    sta: StaConfig = StaConfig()
    supervisor: SupervisorConfig = SupervisorConfig()
    source: str = field(default="<defaults>", compare=False)


_SECTIONS: dict[str, type[Any]] = {
    "chip": ChipConfig,
    "ap": APConfig,
    "dhcp": DhcpConfig,
    "shaping": ShapingConfig,
    "nat": NatConfig,
    "sta": StaConfig,
    "supervisor": SupervisorConfig,
}
SECRET_KEYS = frozenset({"ap.passphrase", "ap.psk", "sta.passphrase", "sta.psk"})


# --------------------------------------------------------------------------------------------
# loading


def default_config() -> Config:
    """The documented defaults with derived values resolved (not validated: no passphrase yet)."""
    return _resolve(Config())


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the TOML file at ``path`` (default :func:`r2wifi.paths.config_path`)."""
    p = config_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"config file {p} not found", hint="create one with 'r2wifi config init'") from None
    except IsADirectoryError:
        raise UserError(f"config file {p} is a directory") from None
    except UnicodeDecodeError:
        raise UserError(f"config file {p} is not UTF-8 text") from None
    return parse_config(text, source=str(p))


def parse_config(text: str, source: str = "<string>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{source}: not valid TOML: {err}") from None
    sections: dict[str, Any] = {}
    for name, body in data.items():
        if name not in _SECTIONS:
            known = ", ".join(_SECTIONS)
            raise ConfigError(name, f"unknown section (known: {known})")
        if not isinstance(body, dict):
            raise ConfigError(name, "must be a [table]")
        sections[name] = _build_section(name, _SECTIONS[name], body)
    cfg = Config(**sections, source=source)
    return validate(_resolve(cfg))


def _build_section(name: str, cls: type[Any], body: dict[str, Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in body.items():
        dotted = f"{name}.{key}"
        if key not in fields:
            raise ConfigError(dotted, f"unknown key (known: {', '.join(fields)})")
        default = fields[key].default
        kwargs[key] = _coerce(dotted, value, default)
    return cls(**kwargs)


def _coerce(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {_tname(value)}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {_tname(value)}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"expected a number, got {_tname(value)}")
        return float(value)
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, f"expected a list of strings, got {_tname(value)}")
        return tuple(value)
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {_tname(value)}")
    return value


def _tname(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _resolve(cfg: Config) -> Config:
    """Fill derived defaults: interface names from chip.names, the DHCP range from the subnet."""
    mtk = cfg.chip.names == "mtk"
    ap = cfg.ap
    if not ap.interface:
        ap = dataclasses.replace(ap, interface="mtkap0" if mtk else "ap0")
    sta = cfg.sta
    if not sta.interface:
        sta = dataclasses.replace(sta, interface="mtkwlan0" if mtk else "wlan0")
    dhcp = cfg.dhcp
    if not dhcp.range_start or not dhcp.range_end:
        try:
            start, end = default_dhcp_range(ap.network4)
        except ValueError:
            start, end = "", ""  # address4 invalid: validate() reports ap.address4
        dhcp = dataclasses.replace(
            dhcp, range_start=dhcp.range_start or start, range_end=dhcp.range_end or end
        )
    return dataclasses.replace(cfg, ap=ap, sta=sta, dhcp=dhcp)


def default_dhcp_range(iface: ipaddress.IPv4Interface) -> tuple[str, str]:
    """``.100``-``.199`` of a /24 or bigger; the hosts above the AP's own address otherwise."""
    net = iface.network
    first = int(net.network_address) + 1
    last = int(net.broadcast_address) - 1
    if last - first >= 200:
        start, end = first + 99, first + 198
    else:
        own = int(iface.ip)
        start, end = (own + 1, last) if last - own >= own - first else (first, own - 1)
    if end < start:
        raise ValueError("subnet too small for a DHCP range")
    return str(ipaddress.IPv4Address(start)), str(ipaddress.IPv4Address(end))


# --------------------------------------------------------------------------------------------
# validation


def validate(cfg: Config) -> Config:
    """Check every value; raise ConfigError naming the first bad key. Returns ``cfg``."""
    _check_choice("chip.backend", cfg.chip.backend, CHIP_BACKENDS)
    _check_choice("chip.names", cfg.chip.names, NAME_SCHEMES)
    if not cfg.chip.firmware_dir.startswith("/"):
        raise ConfigError("chip.firmware_dir", f"{cfg.chip.firmware_dir!r} must be an absolute path")
    _check_ap(cfg.ap)
    _check_dhcp(cfg.dhcp, cfg.ap)
    if cfg.shaping.enabled or cfg.shaping.rate:
        try:
            parse_rate(cfg.shaping.rate)
        except ValueError as err:
            raise ConfigError("shaping.rate", str(err)) from None
    for key, value in (("nat.uplink", cfg.nat.uplink), ("nat.bridge", cfg.nat.bridge)):
        if value:
            _check_ifname(key, value)
    if cfg.nat.uplink and cfg.nat.uplink == cfg.ap.interface:
        raise ConfigError("nat.uplink", "must not be the AP interface")
    _check_sta(cfg.sta)
    _check_supervisor(cfg.supervisor)
    return cfg


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(key, f"{value!r} is not one of {', '.join(choices)}")


def _check_ifname(key: str, value: str) -> None:
    if not _IFNAME_RE.match(value) or value in (".", ".."):
        raise ConfigError(key, f"{value!r} is not a valid interface name (1-15 characters, no '/', ':' or spaces)")


def _check_ssid(key: str, ssid: str) -> None:
    n = len(ssid.encode("utf-8"))
    if not 1 <= n <= 32:
        raise ConfigError(key, f"must be 1-32 bytes in UTF-8, got {n}")
    if any(ord(c) < 32 or ord(c) == 127 for c in ssid):
        raise ConfigError(key, "must not contain control characters")


def _check_passphrase(key: str, value: str, *, wpa2: bool) -> None:
    if any(not 32 <= ord(c) <= 126 for c in value):
        raise ConfigError(key, "must be printable ASCII (characters 32-126)")
    if wpa2 and not 8 <= len(value) <= 63:
        raise ConfigError(key, f"must be 8-63 characters for WPA2, got {len(value)}")
    if not wpa2 and len(value) < 8:
        raise ConfigError(key, f"must be at least 8 characters, got {len(value)}")
    if not wpa2 and len(value) > 128:
        raise ConfigError(key, f"must be at most 128 characters, got {len(value)}")


def _check_security(section: str, security: str, passphrase: str, psk: str) -> None:
    _check_choice(f"{section}.security", security, SECURITY_MODES)
    if security == "open":
        if passphrase:
            raise ConfigError(f"{section}.passphrase", "is set but security is open (set security = \"wpa2\")")
        if psk:
            raise ConfigError(f"{section}.psk", "is set but security is open")
        return
    if passphrase and psk:
        raise ConfigError(f"{section}.psk", "set either passphrase or psk, not both")
    if psk:
        if security != "wpa2":
            raise ConfigError(
                f"{section}.psk", f"a raw PSK cannot be used with {security} (SAE needs the passphrase)"
            )
        if not _HEX64_RE.match(psk):
            raise ConfigError(f"{section}.psk", "must be exactly 64 hexadecimal digits")
        return
    if not passphrase:
        raise ConfigError(f"{section}.passphrase", f"required for security {security}")
    _check_passphrase(f"{section}.passphrase", passphrase, wpa2=security != "wpa3")
    if security != "wpa2" and re.search(r"\|(mac|vlanid|pk|id)=", passphrase):
        raise ConfigError(f"{section}.passphrase", "must not contain '|mac=', '|id=', '|pk=' or '|vlanid=' (SAE syntax)")


def _check_ap(ap: APConfig) -> None:
    _check_ifname("ap.interface", ap.interface)
    _check_choice("ap.driver", ap.driver, HOSTAPD_DRIVERS)
    _check_ssid("ap.ssid", ap.ssid)
    _check_security("ap", ap.security, ap.passphrase, ap.psk)
    if ap.country not in _ISO_SET:
        raise ConfigError("ap.country", f"{ap.country!r} is not an ISO 3166-1 alpha-2 code (e.g. DE, US, JP)")
    _check_choice("ap.hw_mode", ap.hw_mode, HW_MODES)
    ch = ap.channel
    if ap.hw_mode in ("g", "b"):
        ok = 1 <= ch <= 13 or (ch == 14 and ap.hw_mode == "b" and ap.country == "JP")
        if not ok:
            why = " (14 is only allowed with hw_mode b in JP)" if ch == 14 else ""
            raise ConfigError(
                "ap.channel", f"{ch} is not a valid channel for hw_mode {ap.hw_mode} in country {ap.country}{why}"
            )
    elif ch not in CHANNELS_5GHZ:
        raise ConfigError("ap.channel", f"{ch} is not a valid 5 GHz channel for hw_mode a")
    if ap.ieee80211n and ap.hw_mode == "b":
        raise ConfigError("ap.ieee80211n", "802.11n needs hw_mode g or a, not b")
    if ap.ht_capab:
        if not ap.ieee80211n:
            raise ConfigError("ap.ht_capab", "is set but ieee80211n is false")
        flags = re.findall(r"\[([^\]]*)\]", ap.ht_capab)
        if "".join(f"[{f}]" for f in flags) != ap.ht_capab.replace(" ", "") or not flags:
            raise ConfigError("ap.ht_capab", f"{ap.ht_capab!r} must be bracketed flags like [HT40+][SHORT-GI-20]")
        for flag in flags:
            if flag not in _HT_FLAGS and not flag.startswith("MAX-AMSDU"):
                raise ConfigError("ap.ht_capab", f"unknown flag [{flag}]")
        if "HT40+" in flags and "HT40-" in flags:
            raise ConfigError("ap.ht_capab", "[HT40+] and [HT40-] exclude each other")
        if ap.hw_mode == "g":
            if "HT40+" in flags and ch + 4 > 13:
                raise ConfigError("ap.ht_capab", f"[HT40+] needs the secondary channel {ch + 4}, above 13")
            if "HT40-" in flags and ch - 4 < 1:
                raise ConfigError("ap.ht_capab", f"[HT40-] needs the secondary channel {ch - 4}, below 1")
        elif "HT40+" in flags or "HT40-" in flags:
            plus = ch in {36, 44, 52, 60, 100, 108, 116, 124, 132, 140, 149, 157, 165, 173}
            if ("HT40+" in flags) != plus:
                raise ConfigError("ap.ht_capab", f"channel {ch} does not allow {'[HT40-]' if plus else '[HT40+]'}")
    try:
        iface = ipaddress.IPv4Interface(ap.address4)
    except ValueError:
        raise ConfigError("ap.address4", f"{ap.address4!r} is not an IPv4 address/prefix like 192.168.10.1/24") from None
    if "/" not in ap.address4:
        raise ConfigError("ap.address4", f"{ap.address4!r} needs a prefix length, e.g. {ap.address4}/24")
    if iface.network.prefixlen > 30:
        raise ConfigError("ap.address4", f"prefix /{iface.network.prefixlen} is too small for clients (max /30)")
    if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        raise ConfigError("ap.address4", f"{iface.ip} is the network or broadcast address of {iface.network}")
    if ap.address6:
        try:
            ipaddress.IPv6Interface(ap.address6)
        except ValueError:
            raise ConfigError("ap.address6", f"{ap.address6!r} is not an IPv6 address/prefix like fd00:b::10/64") from None
        if "/" not in ap.address6:
            raise ConfigError("ap.address6", f"{ap.address6!r} needs a prefix length, e.g. /64")
    if ap.mac:
        mac = ap.mac.lower()
        if not _MAC_RE.match(mac):
            raise ConfigError("ap.mac", f"{ap.mac!r} is not a MAC address like 02:08:22:00:00:01")
        if int(mac[:2], 16) & 1:
            raise ConfigError("ap.mac", f"{ap.mac} is a multicast address")
        if mac == "00:00:00:00:00:00":
            raise ConfigError("ap.mac", "must not be all zeros")
    if not 0 < ap.max_inactivity <= 86400:
        raise ConfigError("ap.max_inactivity", f"{ap.max_inactivity} must be 1-86400 seconds")
    for i, line in enumerate(ap.extra):
        if "\n" in line or "=" not in line:
            raise ConfigError(f"ap.extra[{i}]", f"{line!r} must be one hostapd line like key=value")


def _check_dhcp(dhcp: DhcpConfig, ap: APConfig) -> None:
    if not dhcp.enabled:
        return
    iface = ipaddress.IPv4Interface(ap.address4)
    net = iface.network
    bounds = []
    for key, value in (("dhcp.range_start", dhcp.range_start), ("dhcp.range_end", dhcp.range_end)):
        try:
            addr = ipaddress.IPv4Address(value)
        except ValueError:
            raise ConfigError(key, f"{value!r} is not an IPv4 address") from None
        if addr not in net or addr in (net.network_address, net.broadcast_address):
            raise ConfigError(key, f"{addr} is not a host address inside {net} (ap.address4)")
        bounds.append(addr)
    if bounds[0] > bounds[1]:
        raise ConfigError("dhcp.range_end", f"{bounds[1]} is below range_start {bounds[0]}")
    if bounds[0] <= iface.ip <= bounds[1]:
        raise ConfigError("dhcp.range_start", f"the range {bounds[0]}-{bounds[1]} contains the AP's own address {iface.ip}")
    if not _LEASE_RE.match(dhcp.lease_time):
        raise ConfigError("dhcp.lease_time", f"{dhcp.lease_time!r} is not a lease time like 3600, 45m, 12h or infinite")
    if dhcp.lease_time != "infinite":
        secs = int(dhcp.lease_time.rstrip("smhdw")) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}.get(
            dhcp.lease_time[-1], 1
        )
        if secs < 120:
            raise ConfigError("dhcp.lease_time", f"{dhcp.lease_time!r} is shorter than dnsmasq's minimum of 2m")
    for i, server in enumerate(dhcp.dns):
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise ConfigError(f"dhcp.dns[{i}]", f"{server!r} is not an IP address") from None
    if not 0 <= dhcp.dns_port <= 65535:
        raise ConfigError("dhcp.dns_port", f"{dhcp.dns_port} is not a port number (0 disables DNS)")


def _check_sta(sta: StaConfig) -> None:
    _check_ifname("sta.interface", sta.interface)
    _check_choice("sta.driver", sta.driver, HOSTAPD_DRIVERS)
    if not sta.enabled and not sta.ssid:
        _check_choice("sta.security", sta.security, SECURITY_MODES)
        return
    _check_ssid("sta.ssid", sta.ssid)
    _check_security("sta", sta.security, sta.passphrase, sta.psk)


def _check_supervisor(sv: SupervisorConfig) -> None:
    for key in ("stall_seconds", "restart_window", "watchdog_seconds", "storm_count", "storm_window",
                "loop_count", "loop_window"):
        if getattr(sv, key) <= 0:
            raise ConfigError(f"supervisor.{key}", f"{getattr(sv, key)} must be more than 0")
    if sv.max_restarts < 0:
        raise ConfigError("supervisor.max_restarts", f"{sv.max_restarts} must be 0 or more")
    if sv.backoff_initial <= 0:
        raise ConfigError("supervisor.backoff_initial", f"{sv.backoff_initial} must be more than 0")
    if sv.backoff_max < sv.backoff_initial:
        raise ConfigError("supervisor.backoff_max", f"{sv.backoff_max} is below backoff_initial {sv.backoff_initial}")


# --------------------------------------------------------------------------------------------
# output


def config_as_dict(cfg: Config, *, masked: bool = True) -> dict[str, dict[str, Any]]:
    """Sections -> keys -> values (tuples as lists); secrets replaced by ``********`` when masked."""
    out: dict[str, dict[str, Any]] = {}
    for name in _SECTIONS:
        section = getattr(cfg, name)
        body: dict[str, Any] = {}
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if masked and f"{name}.{f.name}" in SECRET_KEYS and value:
                value = MASK
            if masked and f"{name}.{f.name}" == "ap.extra":
                value = tuple(_mask_extra(line) for line in value)
            body[f.name] = list(value) if isinstance(value, tuple) else value
        out[name] = body
    return out


def _mask_extra(line: str) -> str:
    """Mask the value of a raw hostapd line whose key looks secret (wpa_psk, sae_password, ...)."""
    key, sep, _ = line.partition("=")
    if sep and re.search(r"pass|psk|secret|key$|password", key, re.I):
        return f"{key}={MASK}"
    return line


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    s = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def dump_toml(cfg: Config, *, masked: bool = True) -> str:
    """The configuration as TOML (secrets masked unless ``masked=False``)."""
    lines: list[str] = []
    for name, body in config_as_dict(cfg, masked=masked).items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in body.items()]
        lines.append("")
    return "\n".join(lines)


def render_default_toml(passphrase: str) -> str:
    """The commented default file written by ``r2wifi config init`` (with the given passphrase)."""
    return _DEFAULT_TEMPLATE.replace("@PASSPHRASE@", toml_value(passphrase))


_DEFAULT_TEMPLATE = """\
# r2wifi configuration (TOML). `r2wifi config check` validates it, `r2wifi config show` prints it.
# This file holds the WiFi passphrase: keep it mode 0600.

[chip]
enabled = true              # false: no MediaTek chip; use an existing interface of any hostapd-capable radio
backend = "auto"            # auto | real (/dev/wmt* nodes) | sim (the simulator)
firmware_dir = "/etc/firmware"
names = "default"           # default: wlan0/ap0/p2p0 | mtk: OpenWrt's mtkwlan0/mtkap0/mtkp2p0

[ap]
enabled = true
interface = ""              # "" = ap0 (or mtkap0 with chip.names = "mtk")
driver = "nl80211"          # hostapd driver
ssid = "BPI-R2"             # 1-32 bytes (UTF-8)
passphrase = @PASSPHRASE@   # WPA2: 8-63 printable ASCII characters
psk = ""                    # or a raw 64-hex-digit PSK instead of the passphrase (wpa2 only)
security = "wpa2"           # wpa2 | wpa3 (SAE) | wpa2-wpa3 (transition) | open
country = "DE"              # ISO 3166-1 alpha-2; sets ieee80211d and the allowed channels
hw_mode = "g"               # g: 2.4 GHz (channels 1-13) | a: 5 GHz | b
channel = 6
ieee80211n = true
ht_capab = ""               # e.g. "[SHORT-GI-20]" or "[HT40+][SHORT-GI-20][SHORT-GI-40]"
address4 = "192.168.10.1/24"
address6 = "fd00:b::10/64"  # "" disables IPv6
mac = ""                    # optional stable MAC for the AP interface, e.g. "02:08:22:00:00:01"
max_inactivity = 300        # seconds before hostapd polls / drops an idle station
extra = []                  # raw hostapd.conf lines, e.g. ["beacon_int=100"]

[dhcp]
enabled = true
range_start = ""            # "" = .100 of the AP subnet
range_end = ""              # "" = .199 of the AP subnet
lease_time = "12h"
dns = []                    # DNS servers announced to clients; empty = the AP itself
dns_port = 53               # 0 = DHCP only (no DNS forwarder)

[shaping]
enabled = false             # egress rate limit on the AP interface (vendor advice against chip lock-ups)
rate = "8mbit"

[nat]
uplink = ""                 # e.g. "eth0": masquerade AP clients out of this interface
bridge = ""                 # e.g. "br0": bridge the AP instead of routing

[sta]
enabled = false             # station (client) mode instead of AP
interface = ""              # "" = wlan0 (or mtkwlan0)
driver = "nl80211"
ssid = ""
passphrase = ""
psk = ""
security = "wpa2"
dhcp = true                 # address, default route (and DNS) from the upstream network's DHCP server
set_dns = true              # write its DNS servers to /etc/resolv.conf (backed up, restored on down)

[supervisor]
stall_seconds = 60          # TX queue stopped this long -> recover the AP
max_restarts = 5            # at most this many restarts ...
restart_window = 600        # ... within this many seconds, then give up
backoff_initial = 2.0
backoff_max = 60.0
watchdog_seconds = 60       # systemd WatchdogSec
storm_count = 5             # this many EAPOL handshake timeouts (not counting stations with a wrong key) ...
storm_window = 60           # ... within this many seconds -> restart hostapd
loop_count = 6              # one station connecting this many times ...
loop_window = 60            # ... within this many seconds -> association loop, restart hostapd
"""
