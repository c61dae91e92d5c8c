"""The r2wifi configuration: one TOML file, frozen records (r2wifi.records), validation that names the key.

Public API (stable; other modules build on it)::

    load_config(path=None) -> Config        # read + validate; path None -> r2wifi.paths.config_path()
    read_config_text(path) -> str           # a regular file of at most MAX_CONFIG_BYTES, UTF-8
    parse_config(text, source="<string>") -> Config
    default_config() -> Config              # the documented defaults (ap.passphrase empty)
    validate(cfg) -> Config                 # raise ConfigError(s) naming the key(s), else return cfg
    check_config(cfg) -> list[ConfigError]  # every problem, in file order
    render_default_toml(passphrase, country="auto") -> str  # the commented file `r2wifi config init` writes
    config_as_dict(cfg, masked=True) -> dict  # for `config show` (secrets masked)
    parse_rate(text) -> int                 # "8mbit" -> 8_000_000 bit/s (tc units)
    iso_countries() -> frozenset[str]
    RANGES: dict[str, (lo, hi)]             # the allowed range of every numeric key

    cfg.ap.interface / cfg.ap.ssid / cfg.ap.security ...   (see the records below)
    cfg.ap.network4 -> IPv4Interface, cfg.ap.key_material -> passphrase or psk
    cfg.dhcp.range_start / range_end are always resolved (defaults computed inside the subnet)

Rules:
* Every problem is a :class:`r2wifi.errors.ConfigError` whose message starts with the dotted key
  (``ap.channel: 14 is not a valid channel for hw_mode g in country DE``). Loading collects every
  problem of a file in one pass (unknown keys get a "did you mean"); several are raised together
  as :class:`r2wifi.errors.ConfigErrors`. The CLI prints them and exits 2. Unknown sections and
  keys are errors (typos must not silently fall back).
* Every input path is bounded: the file must be a regular file of at most ``MAX_CONFIG_BYTES``
  (never a FIFO or a device: those could hang or never end), TOML nesting that is too deep is
  an error, every string is at most ``MAX_STRING`` characters without control characters or line
  breaks (each one ends up in a daemon's config file), every list has a maximum length, and every
  number is finite and inside its documented range (:data:`RANGES`, also in the default file).
* Defaults match the BPI-R2 (interface ``ap0`` as created by ``echo A > /dev/wmtWifi``, address
  192.168.10.1/24 and fd00:b::10/64 as in frank-w's wifi.sh, channel 6).
* Country: ``ap.country`` unset or ``"auto"`` is the system's, looked up when the file loads
  (:func:`r2wifi.net.regdb.system_country`: the kernel's regulatory domain, as ``iw reg get`` shows
  it, then the locale's territory); when the system names none it is ``"00"``, the world regulatory
  domain the kernel then uses (no ``country_code`` in hostapd.conf: hostapd refuses 00; channels 12-13
  and 5 GHz are no-IR there, so ``config check`` and ``up`` refuse them naming ap.country). An explicit code is used as written.
* ``chip.names = "mtk"`` selects the OpenWrt interface names (``mtkap0``/``mtkwlan0``) for any
  interface left unset.
* Secrets (``ap.passphrase``, ``ap.psk``, ``sta.passphrase``, ``sta.psk``) never appear in
  ``repr()`` of the records, in :func:`config_as_dict` with ``masked=True`` or in an error.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from r2wifi import records
from r2wifi.errors import ConfigError, ConfigErrors, UserError
from r2wifi.fsutil import file_kind
from r2wifi.paths import config_path
from r2wifi.records import field, record
from r2wifi.toml import tomllib

SECURITY_MODES = ("wpa2", "wpa3", "wpa2-wpa3", "open")
CHIP_BACKENDS = ("auto", "real", "sim")
NAME_SCHEMES = ("default", "mtk")
HW_MODES = ("a", "b", "g")
HOSTAPD_DRIVERS = ("nl80211", "wired")
MAC_FILTER_MODES = ("off", "allow", "deny")
MASK = "********"
MAX_CONFIG_BYTES = 1024 * 1024  # a real file is ~3 KiB
MAX_STRING = 4096  # characters in any string value (paths included)
RATE_MIN, RATE_MAX = 8_000, 10_000_000_000  # shaping.rate in bit/s (tc's 32-bit bytes/s fits 34 Gbit/s)

# The allowed range of every numeric key (inclusive). Documented in the default file.
RANGES: dict[str, tuple[float, float]] = {
    "ap.channel": (1, 177),
    "ap.max_inactivity": (1, 86400),
    "dhcp.dns_port": (0, 65535),
    "supervisor.stall_seconds": (1, 3600),
    "supervisor.max_restarts": (0, 1000),
    "supervisor.restart_window": (1, 86400),
    "supervisor.backoff_initial": (0.1, 3600),
    "supervisor.backoff_max": (0.1, 3600),
    "supervisor.watchdog_seconds": (1, 3600),
    "supervisor.storm_count": (1, 1000),
    "supervisor.storm_window": (1, 86400),
    "supervisor.loop_count": (1, 1000),
    "supervisor.loop_window": (1, 86400),
    "log.max_bytes": (4096, 1 << 30),
    "log.backups": (0, 100),
}
# The most items a list key may hold.
MAX_ITEMS: dict[str, int] = {
    "ap.extra": 100,
    "ap.mac_filter.macs": 1024,
    "dhcp.dns": 8,
    "dhcp.reservation": 1024,
}

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
WORLD = "00"  # the world regulatory domain: what ap.country "auto" becomes when the system names no country

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
_KEY_RE = re.compile(r"^[A-Za-z0-9_]+$")  # a hostapd.conf key
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")  # one DNS label
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL, C1


def iso_countries() -> frozenset[str]:
    return _ISO_SET


def parse_rate(text: str) -> int:
    """Parse a tc rate (``8mbit``, ``500kbit``, ``1.5mbit``, ``1mbps``) into bit/s; ValueError if bad."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text) if len(text) <= 32 else None
    if not m:
        raise ValueError(f"{text!r} is not a rate like 8mbit")
    unit = (m.group(2) or "bit").lower()
    if unit not in _RATE_UNITS:
        raise ValueError(f"{text!r}: unknown unit {unit!r} (use bit, kbit, mbit, gbit, bps, kbps, mbps)")
    number = float(m.group(1)) * _RATE_UNITS[unit]  # <= 32 characters: finite
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not a rate like 8mbit")
    value = int(number)
    if value <= 0:
        raise ValueError(f"{text!r} must be more than zero")
    return value


# --------------------------------------------------------------------------------------------
# the records (field order = order in the default file)


@record(frozen=True)
class ChipConfig:
    enabled: bool = True  # false: no MediaTek chip, use an existing interface of any radio
    backend: str = "auto"  # auto | real | sim
    firmware_dir: str = "/etc/firmware"
    names: str = "default"  # default (wlan0/ap0/p2p0) | mtk (OpenWrt: mtkwlan0/mtkap0/mtkp2p0)


@record(frozen=True)
class MacFilterConfig:
    mode: str = "off"  # off | allow (only the listed stations) | deny (all but the listed stations)
    macs: tuple[str, ...] = ()  # written to a file beside hostapd.conf (accept_mac_file / deny_mac_file)


@record(frozen=True)
class Reservation:
    mac: str = ""  # the client's MAC address
    ip: str = ""  # a host address inside the AP subnet (ap.address4)
    name: str = ""  # optional host name (one DNS label)


@record(frozen=True)
class APConfig:
    enabled: bool = True
    interface: str = ""  # "" -> ap0 (names=default) or mtkap0 (names=mtk)
    driver: str = "nl80211"  # hostapd driver; "wired" for the 802.1X test bed
    ssid: str = "BPI-R2"
    passphrase: str = field(default="", repr=False)
    psk: str = field(default="", repr=False)  # 64 hex digits instead of a passphrase (wpa2 only)
    security: str = "wpa2"  # wpa2 | wpa3 | wpa2-wpa3 | open
    country: str = "auto"  # ISO 3166-1 alpha-2, "00" (world), or "auto": the system's at load time, else 00
    hw_mode: str = "g"  # g (2.4 GHz) | a (5 GHz) | b
    channel: int = 6
    ieee80211n: bool = True
    ht_capab: str = ""  # e.g. "[SHORT-GI-20]"
    address4: str = "192.168.10.1/24"
    address6: str = "fd00:b::10/64"  # "" to disable IPv6
    mac: str = ""  # optional stable MAC for the AP interface
    max_inactivity: int = 300  # hostapd ap_max_inactivity (seconds)
    hidden: bool = False  # do not broadcast the SSID (ignore_broadcast_ssid=1)
    isolate_clients: bool = False  # stations cannot reach each other (ap_isolate=1)
    extra: tuple[str, ...] = ()  # raw hostapd.conf lines appended verbatim
    mac_filter: MacFilterConfig = MacFilterConfig()  # [ap.mac_filter]

    @property
    def network4(self) -> ipaddress.IPv4Interface:
        return ipaddress.IPv4Interface(self.address4)

    @property
    def network6(self) -> ipaddress.IPv6Interface | None:
        return ipaddress.IPv6Interface(self.address6) if self.address6 else None

    @property
    def key_material(self) -> str:
        return self.passphrase or self.psk


@record(frozen=True)
class DhcpConfig:
    enabled: bool = True
    range_start: str = ""  # "" -> .100 of the subnet (or the first free host of a small one)
    range_end: str = ""  # "" -> .199 (or the last host)
    lease_time: str = "12h"  # dnsmasq syntax: 3600, 45m, 12h, 1d, infinite
    dns: tuple[str, ...] = ()  # DNS servers to announce; empty: the AP's own address
    dns_port: int = 53  # 0: DHCP only, no DNS forwarder (what the tests use)
    reservation: tuple[Reservation, ...] = ()  # [[dhcp.reservation]]: fixed addresses (dhcp-host)


@record(frozen=True)
class ShapingConfig:
    enabled: bool = False
    rate: str = "8mbit"  # egress limit on the AP interface (keeps the driver queue short)

    @property
    def rate_bps(self) -> int:
        return parse_rate(self.rate)


@record(frozen=True)
class NatConfig:
    uplink: str = ""  # interface to masquerade out of ("" = no NAT)
    bridge: str = ""  # bridge the AP interface into ("" = routed)


@record(frozen=True)
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


@record(frozen=True)
class SupervisorConfig:
    stall_seconds: int = 60  # TX queue stopped this long -> recover
    max_restarts: int = 5  # restarts within restart_window at the backoff; past it: every backoff_max, degraded
    restart_window: int = 600
    backoff_initial: float = 2.0
    backoff_max: float = 60.0
    watchdog_seconds: int = 60  # systemd WatchdogSec
    storm_count: int = 5  # this many EAPOL handshake timeouts ...
    storm_window: int = 60  # ... within this many seconds -> restart hostapd
    loop_count: int = 6  # one station connecting this many times ...
    loop_window: int = 60  # ... within this many seconds -> association loop


@record(frozen=True)
class LogConfig:
    """Where r2wifi's logs go (resolved by :mod:`r2wifi.logdir`)."""

    dir: str = "auto"  # "auto", "syslog", "state" or an absolute directory
    max_bytes: int = 1 << 20  # each log rotates at this size ...
    backups: int = 3  # ... keeping this many (.1 newest)


@record(frozen=True)
class Config:
    chip: ChipConfig = ChipConfig()
    ap: APConfig = APConfig()
    dhcp: DhcpConfig = DhcpConfig()
    shaping: ShapingConfig = ShapingConfig()
    nat: NatConfig = NatConfig()
    sta: StaConfig = StaConfig()
    supervisor: SupervisorConfig = SupervisorConfig()
    log: LogConfig = LogConfig()
    source: str = field(default="<defaults>", compare=False)


_SECTIONS: dict[str, type[Any]] = {
    "chip": ChipConfig,
    "ap": APConfig,
    "dhcp": DhcpConfig,
    "shaping": ShapingConfig,
    "nat": NatConfig,
    "sta": StaConfig,
    "supervisor": SupervisorConfig,
    "log": LogConfig,
}
# Keys holding an array of tables, and the record of each element.
_TABLE_ARRAYS: dict[str, type[Any]] = {"dhcp.reservation": Reservation}
SECRET_KEYS = frozenset({"ap.passphrase", "ap.psk", "sta.passphrase", "sta.psk"})


# --------------------------------------------------------------------------------------------
# loading


def default_config() -> Config:
    """The documented defaults with derived values resolved (not validated: no passphrase yet)."""
    return _resolve(Config())


def read_config_text(path: str | Path) -> str:
    """The text of the config file at ``path``: a regular file of at most MAX_CONFIG_BYTES, UTF-8.

    A FIFO, device, socket or directory is refused before it is read (no hang, no endless read);
    the file is opened non-blocking and checked again on the open descriptor (no swap in between).
    """
    p = Path(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        if not stat.S_ISREG(mode := os.stat(p).st_mode):
            raise UserError(f"config file {p} is {file_kind(mode)}, not a regular file")
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise UserError(f"config file {p} not found", hint="create one with 'r2wifi config init'") from None
    except ValueError:  # a NUL in the path
        raise UserError(f"config file {p!r} is not a valid path") from None
    except OSError as err:
        raise UserError(f"config file {p}: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"config file {p} is {file_kind(st.st_mode)}, not a regular file")
        if st.st_size > MAX_CONFIG_BYTES:
            raise UserError(f"config file {p} is {st.st_size} bytes; at most {MAX_CONFIG_BYTES} are read")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_CONFIG_BYTES:
            raise UserError(f"config file {p} is longer than {MAX_CONFIG_BYTES} bytes")
    except OSError as err:
        raise UserError(f"config file {p}: {err.strerror or err}") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"config file {p} is not UTF-8 text") from None


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the TOML file at ``path`` (default :func:`r2wifi.paths.config_path`)."""
    p = config_path(path)
    cfg = parse_config(read_config_text(p), source=str(p))
    from r2wifi import logdir  # [log] is where this process and its children write (see logdir.adopt)

    logdir.adopt(cfg.log.dir, cfg.log.max_bytes, cfg.log.backups)
    return cfg


def parse_config(text: str, source: str = "<string>") -> Config:
    """Parse and validate; every problem found is raised together (ConfigError or ConfigErrors)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise UserError(f"{source}: longer than {MAX_CONFIG_BYTES} characters")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{source}: not valid TOML: {err}") from None
    except RecursionError:
        raise UserError(f"{source}: not valid TOML: arrays or tables nested too deeply") from None
    found = _Problems()
    sections: dict[str, Any] = {}
    for name, body in data.items():
        if name not in _SECTIONS:
            found.add(ConfigError(name, f"unknown section{_did_you_mean(name, _SECTIONS)}"))
        elif not isinstance(body, dict):
            found.add(ConfigError(name, "must be a [table]"))
        else:
            sections[name] = _build(name, _SECTIONS[name], body, found)
    cfg = _resolve(Config(**sections, source=source))
    _validate_into(cfg, found)
    found.raise_if_any()
    return cfg


def _did_you_mean(word: str, known: Any) -> str:
    """`` (did you mean 'channel'?)`` for the closest known name, else the list of known names."""
    names = list(known)
    import difflib  # only when a name is wrong

    close = difflib.get_close_matches(word[:64], names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(names)})"


def _build(name: str, cls: type[Any], body: dict[str, Any], found: _Problems) -> Any:
    """Build the record ``cls`` of the table at dotted ``name``; bad keys are recorded and left default."""
    fields = {f.name: f for f in records.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in body.items():
        dotted = f"{name}.{key}"
        if key not in fields:
            found.add(ConfigError(dotted, f"unknown key{_did_you_mean(key, fields)}"))
            continue
        try:
            kwargs[key] = _coerce(dotted, value, fields[key].default, found)
        except ConfigError as err:
            found.add(err)
    return cls(**kwargs)


def _coerce(key: str, value: Any, default: Any, found: _Problems) -> Any:
    if records.is_record(default):
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a table [{key}], got {_tname(value)}")
        return _build(key, type(default), value, found)
    if key in _TABLE_ARRAYS:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(key, f"expected tables [[{key}]], got {_tname(value)}")
        if len(value) > MAX_ITEMS[key]:
            raise ConfigError(key, f"{len(value)} entries; at most {MAX_ITEMS[key]}")
        return tuple(_build(f"{key}[{i}]", _TABLE_ARRAYS[key], v, found) for i, v in enumerate(value))
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
        limit = MAX_ITEMS.get(key, 100)
        if len(value) > limit:
            raise ConfigError(key, f"{len(value)} entries; at most {limit}")
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
        ap = records.replace(ap, interface="mtkap0" if mtk else "ap0")
    if ap.country == "auto":
        from r2wifi.net import regdb  # asks the kernel (nl80211): only for "auto"

        found = regdb.system_country()
        ap = records.replace(ap, country=found if found in _ISO_SET else WORLD)
    sta = cfg.sta
    if not sta.interface:
        sta = records.replace(sta, interface="mtkwlan0" if mtk else "wlan0")
    dhcp = cfg.dhcp
    if not dhcp.range_start or not dhcp.range_end:
        try:
            start, end = default_dhcp_range(ap.network4)
        except ValueError:
            start, end = "", ""  # address4 invalid: validate() reports ap.address4
        dhcp = records.replace(
            dhcp, range_start=dhcp.range_start or start, range_end=dhcp.range_end or end
        )
    return records.replace(cfg, ap=ap, sta=sta, dhcp=dhcp)


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
# validation: every check names one key; all of them run, a check whose inputs are already bad
# is skipped (no follow-up noise)


class _Problems:
    def __init__(self) -> None:
        self.items: list[ConfigError] = []

    def add(self, err: ConfigError) -> None:
        self.items.append(err)

    def failed(self, *keys: str) -> bool:
        """Is any of ``keys`` (or an item or sub-key of one) already reported?"""
        return any(
            e.key == k or e.key.startswith((k + "[", k + ".")) for e in self.items for k in keys
        )

    def run(self, needs: tuple[str, ...], check: Callable[[], None]) -> None:
        if self.failed(*needs):
            return
        try:
            check()
        except ConfigError as err:
            self.add(err)

    def raise_if_any(self) -> None:
        if len(self.items) == 1:
            raise self.items[0]
        if self.items:
            raise ConfigErrors(self.items)


def check_config(cfg: Config) -> list[ConfigError]:
    """Every problem of ``cfg``, in file order (empty: valid)."""
    found = _Problems()
    _validate_into(cfg, found)
    return found.items


def validate(cfg: Config) -> Config:
    """Check every value; raise ConfigError (one problem) or ConfigErrors (several). Returns ``cfg``."""
    found = _Problems()
    _validate_into(cfg, found)
    found.raise_if_any()
    return cfg


def _walk(prefix: str, obj: Any) -> list[tuple[str, Any]]:
    """(dotted key, value) of every leaf value, list items as ``key[i]``."""
    out: list[tuple[str, Any]] = []
    for f in records.fields(obj):
        key, value = f"{prefix}.{f.name}", getattr(obj, f.name)
        if records.is_record(value):
            out += _walk(key, value)
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                out += _walk(f"{key}[{i}]", item) if records.is_record(item) else [(f"{key}[{i}]", item)]
        else:
            out.append((key, value))
    return out


def _check_leaf(key: str, value: Any) -> None:
    """The rules for every value: strings bounded and free of control characters, numbers finite and in range."""
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ConfigError(key, f"{len(value)} characters; at most {MAX_STRING}")
        if _CONTROL_RE.search(value):
            raise ConfigError(key, "must not contain control characters or line breaks")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, f"{value} is not a finite number")
    rng = RANGES.get(key)
    if rng and not rng[0] <= value <= rng[1]:
        raise ConfigError(key, f"{value:g} is out of range: must be {rng[0]:g}-{rng[1]:g}")


def _validate_into(cfg: Config, found: _Problems) -> None:
    def run(needs: tuple[str, ...], check: Callable[[], None]) -> None:
        found.run(needs, check)

    for name in _SECTIONS:
        for key, value in _walk(name, getattr(cfg, name)):
            run((key,), lambda key=key, value=value: _check_leaf(key, value))  # type: ignore[misc]
    chip, ap, dhcp, sta = cfg.chip, cfg.ap, cfg.dhcp, cfg.sta
    run(("chip.backend",), lambda: _check_choice("chip.backend", chip.backend, CHIP_BACKENDS))
    run(("chip.names",), lambda: _check_choice("chip.names", chip.names, NAME_SCHEMES))
    run(("chip.firmware_dir",), lambda: _check_abs("chip.firmware_dir", chip.firmware_dir))
    _check_ap(ap, found)
    _check_dhcp(dhcp, ap, found)
    run(("shaping.rate",), lambda: _check_rate(cfg.shaping.rate))
    for key, value in (("nat.uplink", cfg.nat.uplink), ("nat.bridge", cfg.nat.bridge)):
        if value:
            run((key,), lambda key=key, value=value: _check_ifname(key, value))  # type: ignore[misc]
    if cfg.nat.uplink and cfg.nat.uplink == ap.interface:
        found.add(ConfigError("nat.uplink", "must not be the AP interface"))
    _check_sta(sta, found)
    _check_supervisor(cfg.supervisor, found)
    run(("log.dir",), lambda: _check_log_dir(cfg.log.dir))
    found.items.sort(key=lambda e: _key_order(e.key))


def _key_order(key: str) -> tuple[int, int]:
    """Sort problems in file order: section, then field."""
    section = key.split(".", 1)[0].split("[", 1)[0]
    names = list(_SECTIONS)
    if section not in _SECTIONS:
        return (-1, 0)
    field_name = key.split(".")[1].split("[")[0] if "." in key else ""
    fields = [f.name for f in records.fields(_SECTIONS[section])]
    return (names.index(section), fields.index(field_name) if field_name in fields else len(fields))


def _check_abs(key: str, value: str) -> None:
    if not value.startswith("/"):
        raise ConfigError(key, f"{value!r} must be an absolute path")


def _check_log_dir(value: str) -> None:
    from r2wifi.logdir import CHOICES

    if value not in CHOICES and not value.startswith("/"):
        raise ConfigError("log.dir", f"{value!r} must be one of {', '.join(CHOICES)} or an absolute path")


def _check_rate(rate: str) -> None:
    try:
        bps = parse_rate(rate)
    except ValueError as err:
        raise ConfigError("shaping.rate", str(err)) from None
    if not RATE_MIN <= bps <= RATE_MAX:
        raise ConfigError("shaping.rate", f"{rate!r} is out of range: must be 8kbit-10gbit")


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        import difflib  # only when a value is wrong

        close = difflib.get_close_matches(value[:64], choices, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(key, f"{value[:64]!r} is not one of {', '.join(choices)}{hint}")


def check_ifname(value: str) -> str | None:
    """Why ``value`` is not an interface name the kernel accepts (dev_valid_name), or None."""
    n = len(value.encode("utf-8", "surrogatepass"))
    if not 1 <= n <= 15:
        return f"{n} bytes; an interface name has 1-15"
    if value in (".", ".."):
        return "'.' and '..' are not interface names"
    if any(c in "/:" or c.isspace() for c in value) or _CONTROL_RE.search(value):
        return "must not contain '/', ':', spaces or control characters"
    return None


def _check_ifname(key: str, value: str) -> None:
    why = check_ifname(value)
    if why:
        raise ConfigError(key, f"{value!r} is not a valid interface name: {why}")


def _check_ssid(key: str, ssid: str) -> None:
    n = len(ssid.encode("utf-8", "surrogatepass"))
    if not 1 <= n <= 32:
        raise ConfigError(key, f"must be 1-32 bytes in UTF-8, got {n}")
    if _CONTROL_RE.search(ssid):
        raise ConfigError(key, "must not contain control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in ssid):
        raise ConfigError(key, "is not valid Unicode text")


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


def _check_mac(key: str, value: str) -> str:
    """The lower-case form of a unicast MAC address, or ConfigError."""
    mac = value.lower()
    if not _MAC_RE.match(mac):
        raise ConfigError(key, f"{value!r} is not a MAC address like 02:08:22:00:00:01")
    if int(mac[:2], 16) & 1:
        raise ConfigError(key, f"{value} is a multicast address")
    if mac == "00:00:00:00:00:00":
        raise ConfigError(key, "must not be all zeros")
    return mac


def _check_channel(ap: APConfig) -> None:
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


def _check_ht_capab(ap: APConfig) -> None:
    ch = ap.channel
    if not ap.ieee80211n:
        raise ConfigError("ap.ht_capab", "is set but ieee80211n is false")
    flags = re.findall(r"\[([^\]]*)\]", ap.ht_capab)
    if "".join(f"[{f}]" for f in flags) != ap.ht_capab.replace(" ", "") or not flags:
        raise ConfigError("ap.ht_capab", f"{ap.ht_capab!r} must be bracketed flags like [HT40+][SHORT-GI-20]")
    for flag in flags:
        if flag not in _HT_FLAGS and not re.fullmatch(r"MAX-AMSDU-[0-9]{1,5}", flag):
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


def _check_address4(value: str) -> None:
    try:
        iface = ipaddress.IPv4Interface(value)
    except ValueError:
        raise ConfigError("ap.address4", f"{value!r} is not an IPv4 address/prefix like 192.168.10.1/24") from None
    if "/" not in value:
        raise ConfigError("ap.address4", f"{value!r} needs a prefix length, e.g. {value}/24")
    if iface.network.prefixlen > 30:
        raise ConfigError("ap.address4", f"prefix /{iface.network.prefixlen} is too small for clients (max /30)")
    if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        raise ConfigError("ap.address4", f"{iface.ip} is the network or broadcast address of {iface.network}")


def _check_address6(value: str) -> None:
    if "%" in value:
        raise ConfigError("ap.address6", f"{value!r} has a zone (%...); give the address/prefix only")
    try:
        ipaddress.IPv6Interface(value)
    except ValueError:
        raise ConfigError("ap.address6", f"{value!r} is not an IPv6 address/prefix like fd00:b::10/64") from None
    if "/" not in value:
        raise ConfigError("ap.address6", f"{value!r} needs a prefix length, e.g. /64")


def _check_extra(key: str, line: str) -> None:
    name, sep, _ = line.partition("=")
    if not sep or not _KEY_RE.match(name):
        raise ConfigError(key, f"{line!r} must be one hostapd line like key=value")


def _check_mac_filter(mf: MacFilterConfig, found: _Problems) -> None:
    found.run(("ap.mac_filter.mode",), lambda: _check_choice("ap.mac_filter.mode", mf.mode, MAC_FILTER_MODES))
    seen: dict[str, int] = {}
    for i, mac in enumerate(mf.macs):
        key = f"ap.mac_filter.macs[{i}]"

        def one(key: str = key, mac: str = mac, i: int = i) -> None:
            norm = _check_mac(key, mac)
            if norm in seen:
                raise ConfigError(key, f"{mac} is listed twice (also macs[{seen[norm]}])")
            seen[norm] = i

        found.run((key,), one)
    if mf.mode == "allow" and not mf.macs:
        found.add(ConfigError("ap.mac_filter.macs", "is empty but mode is allow: no station could join"))


def _check_ap(ap: APConfig, found: _Problems) -> None:
    def run(needs: tuple[str, ...], check: Callable[[], None]) -> None:
        found.run(needs, check)

    run(("ap.interface",), lambda: _check_ifname("ap.interface", ap.interface))
    run(("ap.driver",), lambda: _check_choice("ap.driver", ap.driver, HOSTAPD_DRIVERS))
    run(("ap.ssid",), lambda: _check_ssid("ap.ssid", ap.ssid))
    run(("ap.security", "ap.passphrase", "ap.psk"), lambda: _check_security("ap", ap.security, ap.passphrase, ap.psk))

    def country() -> None:
        if ap.country not in _ISO_SET and ap.country != WORLD:
            raise ConfigError("ap.country", f"{ap.country!r} is not an ISO 3166-1 alpha-2 code (e.g. DE, US, JP), "
                                            "\"auto\" or \"00\"")

    run(("ap.country",), country)
    run(("ap.hw_mode",), lambda: _check_choice("ap.hw_mode", ap.hw_mode, HW_MODES))
    run(("ap.channel", "ap.hw_mode", "ap.country"), lambda: _check_channel(ap))

    def n_mode() -> None:
        if ap.ieee80211n and ap.hw_mode == "b":
            raise ConfigError("ap.ieee80211n", "802.11n needs hw_mode g or a, not b")

    run(("ap.ieee80211n", "ap.hw_mode"), n_mode)
    if ap.ht_capab:
        run(("ap.ht_capab", "ap.channel", "ap.hw_mode", "ap.ieee80211n"), lambda: _check_ht_capab(ap))
    run(("ap.address4",), lambda: _check_address4(ap.address4))
    if ap.address6:
        run(("ap.address6",), lambda: _check_address6(ap.address6))
    if ap.mac:
        run(("ap.mac",), lambda: None if _check_mac("ap.mac", ap.mac) else None)
    for i, line in enumerate(ap.extra):
        run((f"ap.extra[{i}]",), lambda i=i, line=line: _check_extra(f"ap.extra[{i}]", line))  # type: ignore[misc]
    _check_mac_filter(ap.mac_filter, found)


def _lease_seconds(lease: str) -> int:
    return int(lease.rstrip("smhdw")) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}.get(lease[-1], 1)


def _check_dhcp(dhcp: DhcpConfig, ap: APConfig, found: _Problems) -> None:
    if not dhcp.enabled:
        return

    def run(needs: tuple[str, ...], check: Callable[[], None]) -> None:
        found.run(needs, check)

    def lease() -> None:
        if not _LEASE_RE.match(dhcp.lease_time):
            raise ConfigError("dhcp.lease_time", f"{dhcp.lease_time!r} is not a lease time like 3600, 45m, 12h or infinite")
        if dhcp.lease_time != "infinite":
            if len(dhcp.lease_time) > 12 or _lease_seconds(dhcp.lease_time) > 0xFFFFFFFE:
                raise ConfigError("dhcp.lease_time", f"{dhcp.lease_time!r} is too long (use infinite)")
            if _lease_seconds(dhcp.lease_time) < 120:
                raise ConfigError("dhcp.lease_time", f"{dhcp.lease_time!r} is shorter than dnsmasq's minimum of 2m")

    for i, server in enumerate(dhcp.dns):
        def dns(i: int = i, server: str = server) -> None:
            try:
                if "%" in server:
                    raise ValueError(server)
                ipaddress.ip_address(server)
            except ValueError:
                raise ConfigError(f"dhcp.dns[{i}]", f"{server!r} is not an IP address") from None

        run((f"dhcp.dns[{i}]",), dns)
    run(("dhcp.lease_time",), lease)
    if found.failed("ap.address4"):
        return  # the subnet is unknown: range and reservations cannot be checked
    iface = ipaddress.IPv4Interface(ap.address4)
    net = iface.network

    def host(key: str, value: str) -> ipaddress.IPv4Address:
        try:
            addr = ipaddress.IPv4Address(value)
        except ValueError:
            raise ConfigError(key, f"{value!r} is not an IPv4 address") from None
        if addr not in net or addr in (net.network_address, net.broadcast_address):
            raise ConfigError(key, f"{addr} is not a host address inside {net} (ap.address4)")
        return addr

    def dhcp_range() -> None:
        start = host("dhcp.range_start", dhcp.range_start)
        end = host("dhcp.range_end", dhcp.range_end)
        if start > end:
            raise ConfigError("dhcp.range_end", f"{end} is below range_start {start}")
        if start <= iface.ip <= end:
            raise ConfigError("dhcp.range_start", f"the range {start}-{end} contains the AP's own address {iface.ip}")

    run(("dhcp.range_start", "dhcp.range_end"), dhcp_range)
    macs: dict[str, int] = {}
    ips: dict[ipaddress.IPv4Address, int] = {}
    for i, res in enumerate(dhcp.reservation):
        key = f"dhcp.reservation[{i}]"

        def mac(key: str = key, res: Reservation = res, i: int = i) -> None:
            if not res.mac:
                raise ConfigError(f"{key}.mac", "is required")
            norm = _check_mac(f"{key}.mac", res.mac)
            if norm in macs:
                raise ConfigError(f"{key}.mac", f"{res.mac} is reserved twice (also reservation[{macs[norm]}])")
            macs[norm] = i

        def ip(key: str = key, res: Reservation = res, i: int = i) -> None:
            addr = host(f"{key}.ip", res.ip)
            if addr == iface.ip:
                raise ConfigError(f"{key}.ip", f"{addr} is the AP's own address")
            if addr in ips:
                raise ConfigError(f"{key}.ip", f"{addr} is reserved twice (also reservation[{ips[addr]}])")
            ips[addr] = i

        def name(key: str = key, res: Reservation = res) -> None:
            if res.name and not _HOSTNAME_RE.match(res.name):
                raise ConfigError(f"{key}.name", f"{res.name!r} is not a host name (letters, digits, '-'; 1-63)")

        run((f"{key}.mac",), mac)
        run((f"{key}.ip",), ip)
        run((f"{key}.name",), name)


def _check_sta(sta: StaConfig, found: _Problems) -> None:
    found.run(("sta.interface",), lambda: _check_ifname("sta.interface", sta.interface))
    found.run(("sta.driver",), lambda: _check_choice("sta.driver", sta.driver, HOSTAPD_DRIVERS))
    if not sta.enabled and not sta.ssid:
        found.run(("sta.security",), lambda: _check_choice("sta.security", sta.security, SECURITY_MODES))
        return
    found.run(("sta.ssid",), lambda: _check_ssid("sta.ssid", sta.ssid))
    found.run(("sta.security", "sta.passphrase", "sta.psk"),
              lambda: _check_security("sta", sta.security, sta.passphrase, sta.psk))


def _check_supervisor(sv: SupervisorConfig, found: _Problems) -> None:
    def backoff() -> None:
        if sv.backoff_max < sv.backoff_initial:
            raise ConfigError("supervisor.backoff_max", f"{sv.backoff_max:g} is below backoff_initial {sv.backoff_initial:g}")

    found.run(("supervisor.backoff_initial", "supervisor.backoff_max"), backoff)


# --------------------------------------------------------------------------------------------
# output


def config_as_dict(cfg: Config, *, masked: bool = True) -> dict[str, dict[str, Any]]:
    """Sections -> keys -> values (tuples as lists, sub-tables as dicts); secrets ``********`` when masked."""
    return {name: _as_dict(name, getattr(cfg, name), masked) for name in _SECTIONS}


def _as_dict(prefix: str, obj: Any, masked: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for f in records.fields(obj):
        key, value = f"{prefix}.{f.name}", getattr(obj, f.name)
        if masked and key in SECRET_KEYS and value:
            value = MASK
        if masked and key == "ap.extra":
            value = tuple(_mask_extra(line) for line in value)
        if records.is_record(value):
            body[f.name] = _as_dict(key, value, masked)
        elif isinstance(value, tuple):
            body[f.name] = [_as_dict(key, v, masked) if records.is_record(v) else v for v in value]
        else:
            body[f.name] = value
    return body


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
    s = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", s)
    return f'"{s}"'


def dump_toml(cfg: Config, *, masked: bool = True) -> str:
    """The configuration as TOML (secrets masked unless ``masked=False``); loads back to ``cfg``."""
    lines: list[str] = []

    def table(header: str, body: dict[str, Any]) -> None:
        lines.append(header)
        later: list[tuple[str, dict[str, Any]]] = []
        for k, v in body.items():
            name = f"{header.strip('[]')}.{k}"
            if isinstance(v, dict):
                later.append((f"[{name}]", v))
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                later += [(f"[[{name}]]", item) for item in v]
            elif not (isinstance(v, list) and not v and name in _TABLE_ARRAYS):
                lines.append(f"{k} = {toml_value(v)}")
        lines.append("")
        for sub_header, sub in later:
            table(sub_header, sub)

    for name, body in config_as_dict(cfg, masked=masked).items():
        table(f"[{name}]", body)
    return "\n".join(lines)


def render_default_toml(passphrase: str, country: str = "auto") -> str:
    """The commented default file written by ``r2wifi config init`` (with the given passphrase and
    country; `config init` passes the system's, see :func:`r2wifi.net.regdb.system_country`)."""
    text = _DEFAULT_TEMPLATE.replace("@PASSPHRASE@", toml_value(passphrase))
    return text.replace('country = "auto"', f"country = {toml_value(country)}", 1)


_DEFAULT_TEMPLATE = """\
# r2wifi configuration (TOML). `r2wifi config check` validates it, `r2wifi config show` prints it.
# This file holds the WiFi passphrase: keep it mode 0600. At most 1 MiB; strings have no control
# characters or line breaks (each one goes into a daemon's config file); numbers show their range.

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
country = "auto"            # ISO 3166-1 alpha-2 (sets ieee80211d and the allowed channels); "auto" (also
                            # when unset): the kernel's domain (`iw reg get`), else the locale, at every start; when the system
                            # names none, "00": the world domain (channels 1-11, no 5 GHz AP)
hw_mode = "g"               # g: 2.4 GHz (channels 1-13) | a: 5 GHz | b
channel = 6                 # 1-177: 1-13 with g (14: b in JP only); 36-177 (5 GHz list) with a
ieee80211n = true
ht_capab = ""               # e.g. "[SHORT-GI-20]" or "[HT40+][SHORT-GI-20][SHORT-GI-40]"
address4 = "192.168.10.1/24"
address6 = "fd00:b::10/64"  # "" disables IPv6
mac = ""                    # optional stable MAC for the AP interface, e.g. "02:08:22:00:00:01"
max_inactivity = 300        # 1-86400 seconds before hostapd polls / drops an idle station
hidden = false              # true: do not broadcast the SSID (clients must know it; the QR code says so)
isolate_clients = false     # true: stations cannot reach each other, only the AP and beyond
extra = []                  # raw hostapd.conf lines, e.g. ["beacon_int=100"]; at most 100, one key=value each

[ap.mac_filter]
mode = "off"                # off | allow: only the stations in macs | deny: every station but those
macs = []                   # e.g. ["02:08:22:00:00:10"]; at most 1024; a file beside hostapd.conf

[dhcp]
enabled = true
range_start = ""            # "" = .100 of the AP subnet
range_end = ""              # "" = .199 of the AP subnet
lease_time = "12h"
dns = []                    # DNS servers announced to clients (at most 8); empty = the AP itself
dns_port = 53               # 0-65535; 0 = DHCP only (no DNS forwarder)

# Fixed addresses: one [[dhcp.reservation]] table per client (at most 1024); the ip lies inside
# ap.address4's subnet (not the AP's own); each mac and each ip at most once; name is optional.
# [[dhcp.reservation]]
# mac = "02:08:22:00:00:10"
# ip = "192.168.10.10"
# name = "printer"

[shaping]
enabled = false             # egress rate limit on the AP interface (vendor advice against chip lock-ups)
rate = "8mbit"              # 8kbit-10gbit; tc units: kbit, mbit, gbit (bits) or kbps, mbps (bytes)

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
stall_seconds = 60          # 1-3600: TX queue stopped this long -> recover the AP
max_restarts = 5            # 0-1000: this many restarts ...
restart_window = 600        # 1-86400: ... within this many seconds back off from backoff_initial; past that budget it never gives up: it retries every backoff_max and status shows DEGRADED
backoff_initial = 2.0       # 0.1-3600 seconds before the second recovery in a window, doubling ...
backoff_max = 60.0          # 0.1-3600: ... up to this (not below backoff_initial)
watchdog_seconds = 60       # 1-3600: systemd WatchdogSec
storm_count = 5             # 1-1000: this many EAPOL handshake timeouts (not counting stations with a wrong key) ...
storm_window = 60           # 1-86400: ... within this many seconds -> restart hostapd
loop_count = 6              # 1-1000: one station connecting this many times ...
loop_window = 60            # 1-86400: ... within this many seconds -> association loop, restart hostapd

[log]
# Every log r2wifi writes (launcher, supervisor, hostapd, dnsmasq, wpa_supplicant, udhcpc).
# "auto": /var/log/r2wifi as root on Debian, syslog on OpenWrt, else the state dir (R2WIFI_LOG_DIR overrides);
# "syslog": lines go to /dev/log, tagged with the program's name (a copy stays in the state dir);
# "state": the state dir (/run/r2wifi: lost at reboot); or an absolute directory.
dir = "auto"
max_bytes = 1048576         # 4096-1073741824: a log file rotates to NAME.log.1 at this size ...
backups = 3                 # 0-100: ... keeping this many older files (.1 newest; a larger one is dropped)
"""
