"""The wireless regulatory database (wireless-regdb's ``regulatory.db``): which channels a country allows.

Public API::

    load(path=None) -> RegDb                 # the system's db (REGDB_PATHS) or ``path``; RegDbError if unusable
    parse(data: bytes) -> RegDb              # pure; every offset bounds-checked
    db.country("DE") -> Domain | None
    channel_mhz(hw_mode, channel) -> int     # centre frequency of a 20 MHz channel
    check_channel(domain, hw_mode, channel, width_mhz=20) -> Verdict
    system_country(kernel=None, env=os.environ) -> str | None   # the kernel's domain (nl80211), then the locale
    check_config(cfg, db) -> (problems, notes)   # ap.channel against ap.country's rules; DFS and 00 notes
    cac_wait(cfg) -> int                     # seconds hostapd listens for radar before AP-ENABLED (0: none)

The file format (facts from wireless-regdb's README/db2fw.py and the kernel's reg.c; all big-endian):

* header: magic ``RGDB``, u32 version 20; then country entries of 4 bytes each (2 ASCII letters,
  u16 collection pointer), ended by an entry whose pointer is 0.
* a pointer is the byte offset divided by 4.
* collection: u8 header length, u8 rule count, u8 DFS region (0 unset, 1 FCC, 2 ETSI, 3 JP); after
  the header (rounded up to 2 bytes) one u16 rule pointer per rule.
* rule: u8 length (>= 16), u8 flags, u16 max EIRP in mBm, u32 start, end, max bandwidth in kHz;
  length >= 18 adds a u16 CAC time in seconds (0: the default; the kernel multiplies it by 1000). Flags: bit 0 NO-OFDM, 1 NO-OUTDOOR,
  2 DFS, 3 NO-IR, 4 AUTO-BW.

Rules:
* Parsing never trusts the file: a bad magic, version, pointer or length is a :class:`RegDbError`
  (a UserError: one line, exit 2), never an IndexError or struct.error. The file is at most
  ``MAX_BYTES``; the signature (``regulatory.db.p7s``) is the kernel's business, not checked here.
* Country 00 (the world domain: ``ap.country`` "auto" when the system names none, r2wifi.config): a
  channel it does not allow for an AP is a problem of ``ap.country`` (set the country), never of the
  channel; a usable one gets a note saying what 00 limits.
* DFS: before a DFS channel may send, the AP listens for radar (channel availability check, CAC):
  60 s, and 600 s on the weather-radar channels 5600-5650 MHz in the ETSI region (EN 301 893);
  hostapd stays in state DFS meanwhile.
"""

from __future__ import annotations

import os
import re
import stat
import struct
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from r2wifi.config import WORLD, Config
from r2wifi.errors import ConfigError, UserError
from r2wifi.records import record

MAGIC = b"RGDB"
VERSION = 20
MAX_BYTES = 1024 * 1024
REGDB_PATHS = (Path("/lib/firmware/regulatory.db"), Path("/usr/lib/firmware/regulatory.db"))
DFS_REGIONS = {0: "unset", 1: "FCC", 2: "ETSI", 3: "JP"}

FLAG_NO_OFDM, FLAG_NO_OUTDOOR, FLAG_DFS, FLAG_NO_IR, FLAG_AUTO_BW = 1, 2, 4, 8, 16
CAC_SECONDS = 60
WEATHER_RADAR_MHZ = (5600, 5650)  # ETSI: CAC of 10 minutes
WEATHER_CAC_SECONDS = 600


class RegDbError(UserError):
    """The regulatory database is missing, unreadable or malformed."""


@record(frozen=True)
class Rule:
    start_khz: int
    end_khz: int
    max_bw_khz: int
    max_eirp_mbm: int
    flags: int
    cac_s: int = 0  # the rule's own CAC time (0: the default)

    @property
    def dfs(self) -> bool:
        return bool(self.flags & FLAG_DFS)

    @property
    def no_ir(self) -> bool:
        return bool(self.flags & FLAG_NO_IR)

    @property
    def auto_bw(self) -> bool:
        return bool(self.flags & FLAG_AUTO_BW)

    def describe(self) -> str:
        names = [n for bit, n in ((FLAG_NO_OFDM, "NO-OFDM"), (FLAG_NO_OUTDOOR, "NO-OUTDOOR"), (FLAG_DFS, "DFS"),
                                  (FLAG_NO_IR, "NO-IR"), (FLAG_AUTO_BW, "AUTO-BW")) if self.flags & bit]
        span = f"{self.start_khz / 1000:g}-{self.end_khz / 1000:g} MHz @ {self.max_bw_khz / 1000:g} MHz"
        return span + (f" ({', '.join(names)})" if names else "")


@record(frozen=True)
class Domain:
    alpha2: str
    dfs_region: str
    rules: tuple[Rule, ...]


@record(frozen=True)
class RegDb:
    countries: Mapping[str, Domain]

    def country(self, alpha2: str) -> Domain | None:
        return self.countries.get(alpha2)


@record(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # why not (empty when allowed)
    dfs: bool = False
    cac_seconds: int = 0
    rules: tuple[Rule, ...] = ()


def _u(fmt: str, data: bytes, offset: int, what: str) -> tuple[Any, ...]:
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
        raise RegDbError(f"regulatory.db: {what} at byte {offset} lies outside the file ({len(data)} bytes)")
    return struct.unpack_from(fmt, data, offset)


def parse(data: bytes) -> RegDb:
    """Parse a regulatory.db image (see the module header for the layout)."""
    if len(data) > MAX_BYTES:
        raise RegDbError(f"regulatory.db: {len(data)} bytes; at most {MAX_BYTES}")
    magic, version = _u(">4sI", data, 0, "header")
    if magic != MAGIC:
        raise RegDbError("regulatory.db: not a regulatory database (no RGDB magic)")
    if version != VERSION:
        raise RegDbError(f"regulatory.db: format version {version}, this reader knows {VERSION}")
    countries: dict[str, Domain] = {}
    collections: dict[int, tuple[str, tuple[Rule, ...]]] = {}
    rules: dict[int, Rule] = {}  # by offset: the countries' collections share most of their rules
    offset = 8
    while True:
        raw, ptr = _u(">2sH", data, offset, "country entry")
        offset += 4
        if ptr == 0:
            break
        if not re.fullmatch(rb"[0-9A-Z]{2}", raw):
            raise RegDbError(f"regulatory.db: bad country code {raw!r} at byte {offset - 4}")
        if ptr << 2 not in collections:
            collections[ptr << 2] = _collection(data, ptr << 2, rules)
        region, domain_rules = collections[ptr << 2]
        alpha2 = raw.decode("ascii")
        countries[alpha2] = Domain(alpha2, region, domain_rules)
    return RegDb(countries)


def _collection(data: bytes, offset: int, known: dict[int, Rule]) -> tuple[str, tuple[Rule, ...]]:
    length, count, region = _u(">BBB", data, offset, "rule collection")
    if length < 3:
        raise RegDbError(f"regulatory.db: collection at byte {offset} has a header of {length} bytes")
    first = offset + ((length + 1) & ~1)
    rules = []
    for i in range(count):
        (ptr,) = _u(">H", data, first + 2 * i, "rule pointer")
        if ptr << 2 not in known:
            known[ptr << 2] = _rule(data, ptr << 2)
        rules.append(known[ptr << 2])
    return DFS_REGIONS.get(region, f"region {region}"), tuple(rules)


def _rule(data: bytes, offset: int) -> Rule:
    length, flags, eirp, start, end, bw = _u(">BBHIII", data, offset, "rule")
    if length < 16:
        raise RegDbError(f"regulatory.db: rule at byte {offset} is {length} bytes long (at least 16)")
    if start >= end:
        raise RegDbError(f"regulatory.db: rule at byte {offset} ends ({end} kHz) before it starts ({start} kHz)")
    cac = _u(">H", data, offset + 16, "rule CAC time")[0] if length >= 18 else 0
    return Rule(start, end, bw, eirp, flags, cac)


#: the last database parsed, by (path, size, mtime_ns): ``up`` looks twice (the channel check and the
#: radar wait) and parsing costs a noticeable part of a second on the board's core
_CACHE: dict[tuple[str, int, int], RegDb] = {}


def load(path: str | Path | None = None) -> RegDb:
    """Read and parse the system's regulatory.db (or ``path``); RegDbError if there is none usable."""
    candidates = [Path(path)] if path else list(REGDB_PATHS)
    for p in candidates:
        try:
            with open(p, "rb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise RegDbError(f"{p} is not a regular file")
                key = (str(p), st.st_size, st.st_mtime_ns)
                if key in _CACHE:
                    return _CACHE[key]
                data = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            continue
        except OSError as err:
            raise RegDbError(f"{p}: {err.strerror or err}") from None
        try:
            db = parse(data)
        except RegDbError as err:
            raise RegDbError(f"{p}: {err.message}") from None
        _CACHE.clear()
        _CACHE[key] = db
        return db
    raise RegDbError("no regulatory database found", hint="install the wireless-regdb package")


def channel_mhz(hw_mode: str, channel: int) -> int:
    """Centre frequency in MHz of a 20 MHz channel (2.4 GHz for hw_mode b/g, 5 GHz for a)."""
    if hw_mode in ("b", "g"):
        return 2484 if channel == 14 else 2407 + 5 * channel
    return 5000 + 5 * channel


def _span(hw_mode: str, channel: int, width_mhz: int) -> tuple[int, int]:
    """The occupied span in kHz: 20 MHz around the channel, or 40 MHz towards the secondary (+/-)."""
    centre = channel_mhz(hw_mode, channel) * 1000
    if width_mhz == 40:
        return centre - 10_000, centre + 30_000
    if width_mhz == -40:
        return centre - 30_000, centre + 10_000
    return centre - 10_000, centre + 10_000


def check_channel(domain: Domain, hw_mode: str, channel: int, width_mhz: int = 20) -> Verdict:
    """Is ``channel`` (with ``width_mhz`` 20, 40 = HT40+ or -40 = HT40-) usable by an AP in ``domain``?"""
    lo, hi = _span(hw_mode, channel, width_mhz)
    need_bw = abs(width_mhz) * 1000
    # the rules the span lies in: one rule, or adjacent rules that the kernel joins (all AUTO-BW)
    covering: list[Rule] = []
    pos = lo
    for rule in sorted(domain.rules, key=lambda r: r.start_khz):
        if rule.start_khz <= pos < rule.end_khz:
            covering.append(rule)
            pos = rule.end_khz
            if pos >= hi:
                break
    name = f"channel {channel} ({lo / 1000:g}-{hi / 1000:g} MHz)"
    joined = len(covering) > 1
    if not covering or pos < hi or (joined and not all(r.auto_bw for r in covering)):
        return Verdict(False, f"{name} is outside every frequency range {domain.alpha2} allows")
    for rule in covering:
        if rule.max_bw_khz < need_bw and not (joined and rule.auto_bw):
            return Verdict(False, f"{name}: {domain.alpha2} allows at most {rule.max_bw_khz / 1000:g} MHz wide "
                                  f"channels in {rule.describe()}", rules=tuple(covering))
        if rule.no_ir:
            return Verdict(False, f"{name} is no-IR in {domain.alpha2} ({rule.describe()}): an AP may not "
                                  "start transmitting there", rules=tuple(covering))
    dfs = any(r.dfs for r in covering)
    cac = 0
    if dfs:
        explicit = max((r.cac_s for r in covering if r.dfs), default=0)
        weather = domain.dfs_region == "ETSI" and lo < WEATHER_RADAR_MHZ[1] * 1000 and hi > WEATHER_RADAR_MHZ[0] * 1000
        cac = explicit if explicit else (WEATHER_CAC_SECONDS if weather else CAC_SECONDS)
    return Verdict(True, "", dfs=dfs, cac_seconds=cac, rules=tuple(covering))


_LOCALE_RE = re.compile(r"^[a-z]{2,3}_([A-Z]{2})(?:[.@].*)?$")


def system_country(
    kernel: Callable[[], str | None] | None = None,
    env: Mapping[str, str] = os.environ,
) -> str | None:
    """The country the system uses: the kernel's regulatory domain (``kernel``, default
    :func:`r2wifi.net.nl80211.kernel_country`: what `iw reg get` prints, asked over nl80211 without a
    process), unless it is the world domain 00; else the territory of the locale (LC_ALL, LC_CTYPE, LANG:
    de_DE.UTF-8 -> DE)."""
    if kernel is None:
        from r2wifi.net.nl80211 import kernel_country

        kernel = kernel_country
    found = kernel()
    if found and len(found) == 2 and found.isalpha() and found.isupper():
        return found
    # the first of LC_ALL, LC_CTYPE, LANG that names a territory (C / POSIX name none; Python itself
    # sets LC_CTYPE=C.UTF-8 when the configured locale is not installed, PEP 538)
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        m = _LOCALE_RE.match(env.get(var) or "")
        if m:
            return m.group(1)
    return None


def ap_width(ht_capab: str) -> int:
    """20, 40 ([HT40+]) or -40 ([HT40-]) from hostapd's ht_capab."""
    return 40 if "[HT40+]" in ht_capab else -40 if "[HT40-]" in ht_capab else 20


def check_config(cfg: Config, db: RegDb) -> tuple[list[ConfigError], list[str]]:
    """The AP's channel against its country's rules: problems (naming ap.channel / ap.country) and notes
    (DFS channels and how long start-up waits for the radar check)."""
    ap = cfg.ap
    if not ap.enabled or ap.driver == "wired":
        return [], []
    domain = db.country(ap.country)
    if domain is None:
        return [ConfigError("ap.country", f"{ap.country} is not in the regulatory database")], []
    width = ap_width(ap.ht_capab) if ap.ieee80211n else 20
    verdict = check_channel(domain, ap.hw_mode, ap.channel, width)
    world = ap.country == WORLD
    if not verdict.allowed:
        if world:  # the fix is the country, not the channel
            return [ConfigError("ap.country", f"00, the world domain (the system names no country), does not "
                                              f"allow an AP on channel {ap.channel}: "
                                              "set ap.country to yours, e.g. \"DE\"")], []
        return [ConfigError("ap.channel", verdict.reason)], []
    notes = []
    if world:
        notes.append("ap.country: 00, the world domain (the system names no country): 2.4 GHz channels 1-11 "
                     "only, no 5 GHz AP, no country in the beacon; set ap.country to yours")
    if verdict.dfs:
        weather = " (weather-radar channel)" if verdict.cac_seconds >= WEATHER_CAC_SECONDS else ""
        notes.append(f"ap.channel: {ap.channel} is a DFS channel in {ap.country}{weather}: hostapd listens for "
                     f"radar for {verdict.cac_seconds} s before the AP starts, and leaves the channel if one appears")
    return [], notes


def cac_wait(cfg: Config, db: RegDb | None = None) -> int:
    """Seconds hostapd spends in its radar check before the AP is enabled: 0 unless the AP's channel is
    a DFS channel of its country in ``db`` (default: the system's; none found -> 0)."""
    if db is None:
        try:
            db = load()
        except RegDbError:
            return 0
    domain = db.country(cfg.ap.country)
    if domain is None or not cfg.ap.enabled or cfg.ap.driver == "wired":
        return 0
    width = ap_width(cfg.ap.ht_capab) if cfg.ap.ieee80211n else 20
    verdict = check_channel(domain, cfg.ap.hw_mode, cfg.ap.channel, width)
    return verdict.cac_seconds if verdict.allowed and verdict.dfs else 0
