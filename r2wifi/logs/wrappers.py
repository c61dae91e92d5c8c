"""Recognise and strip the outer wrapper of one log line, keeping its timestamp.

Theory of operation: a raw line goes through :func:`clean` (paste damage: quote markers,
backticks, ``^C``, BBCode tags, shell prompts) and then :func:`unwrap`, which tries the wrapper
shapes of ``shared/spec/log-formats.md`` section 1 from the most specific to the least specific
and returns an :class:`Unwrapped`: the inner message, the program that wrote it, the wall-clock
``ts`` (epoch seconds) and/or the kernel ``uptime``, and the wrapper's name (``fmt``).

Rules:
* Pure functions of the line, except for the year: formats without a year (rsyslog traditional,
  journald short, pfSense, LuCI has one) take ``year`` from the caller (the reader keeps one per
  file). Timestamps are interpreted as UTC: only differences matter for a timeline.
* Kernel lines keep their ``[uptime]`` stamp inside syslog/logread/journal wrappers: it is
  stripped into ``uptime``. A kernel record glued into the middle of a user-space line (serial
  consoles) is split off by :func:`split_printk`.
* Nothing here raises on odd input: an unrecognised line is ``fmt="plain"``.
"""

from __future__ import annotations

import calendar
import functools
import json
import re
from dataclasses import dataclass

MONTHS: dict[str, int] = {}
for _i, _name in enumerate(calendar.month_abbr):
    if _name:
        MONTHS[_name.lower()] = _i
# Localized month names/abbreviations seen in journald short output (lower-case, no dot).
_LOCALIZED = {
    # Finnish
    "tammi": 1, "helmi": 2, "maalis": 3, "huhti": 4, "touko": 5, "kesä": 6, "heinä": 7,
    "elo": 8, "syys": 9, "loka": 10, "marras": 11, "joulu": 12,
    # German
    "mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12,
    # French
    "janv": 1, "févr": 2, "mars": 3, "avr": 4, "juin": 6, "juil": 7, "août": 8, "sept": 9, "déc": 12,
    # Spanish / Italian / Portuguese / Dutch / Swedish
    "ene": 1, "abr": 4, "ago": 8, "dic": 12, "gen": 1, "mag": 5, "giu": 6, "lug": 7, "set": 9,
    "ott": 10, "fev": 2, "mai.": 5, "out": 10, "dez.": 12, "mrt": 3, "mei": 5, "okt.": 10,
    "maj": 5, "jun": 6, "jul": 7,
}
MONTHS.update(_LOCALIZED)

_MONTH_TOKEN = r"[^\W\d_]{3,8}\.?"

# Most specific first.
RE_KMSG = re.compile(r"^(\d+),(\d+),(\d+),([^;]*);(.*)$")
RE_EPOCH = re.compile(r"^(\d{9,10}\.\d{1,9}): (.*)$")
RE_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?\s+(\S+)\s+"
    r"([^\s:\[]+)(?:\[(\d+)\])?:\s?(.*)$"
)
# r2wifi's own log files (supervisor, launcher; r2wifi.logdir.iso_stamp): UTC to the millisecond with "Z"
# (older versions wrote local time without an offset: read as UTC), then the text
RE_ISO_LOCAL = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)? (?=\S)(.*)$")
RE_LOGREAD = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4}) "
    r"(\w+)\.(\w+) ([^\s:\[]+)(?:\[(\d+)\])?: ?(.*)$"
)
RE_LUCI = re.compile(
    r"^\[(\w{3}) (\d{1,2}), (\d{4}), (\d{1,2}):(\d\d):(\d\d) ?(AM|PM)?(?: GMT[+-]?\d*)?\] "
    r"(\w+)\.(\w+): ([^\s:\[]+)(?:\[(\d+)\])?: ?(.*)$"
)
RE_PFSENSE = re.compile(r"^(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) \| ([^|]+?) \| (\d*) \| ?(.*)$")
RE_SYSLOG = re.compile(  # the host is optional: busybox syslogd without -R, trimmed pastes
    r"^(" + _MONTH_TOKEN + r") +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.\d+)? (?:(\S+) )?"
    r"([^\s:\[]+)(?:\[(\d+)\])?: ?(.*)$"
)
RE_DMESG_T = re.compile(
    r"^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})\] ?(.*)$"
)
RE_UPTIME = re.compile(r"^\[\s*(\d+\.\d+)\] ?(.*)$")
RE_PRINTK_MID = re.compile(r"\[\s*(\d{1,6}\.\d{6})\] ")
RE_PROMPT = re.compile(r"^(?:[\w.-]+@[\w.-]+:[^\s$#]*[$#]|~?[#$]|root@[\w.-]+:[^#]*#|[\w.-]+[#$]) ")
RE_BBCODE = re.compile(r"\[/?(?:color|b|i|u|code|quote|size|font)(?:=[^\]]*)?\]", re.IGNORECASE)

KERNEL_PROGS = frozenset({"kernel", "vmunix", "klogd"})


@dataclass(slots=True)
class Unwrapped:
    msg: str
    fmt: str
    prog: str | None = None
    ts: float | None = None
    uptime: float | None = None
    prio: str | None = None


def _month(name: str) -> int | None:
    return MONTHS.get(name.lower().rstrip(".")) or MONTHS.get(name.lower())


@functools.lru_cache(maxsize=256)
def _month_start(year: int, month: int) -> int:
    return calendar.timegm((year, month, 1, 0, 0, 0, 0, 0, 0))


def _epoch(year: int, month: int, day: int, hh: int, mm: int, ss: int) -> float | None:
    """``calendar.timegm`` of the fields (same arithmetic, month starts memoised: it is per line)."""
    try:
        base = _month_start(year, month)
    except (ValueError, OverflowError):
        return None
    return float(base + (day - 1) * 86400 + hh * 3600 + mm * 60 + ss)


epoch = _epoch  # the public name


def clean(raw: str) -> tuple[str, bool]:
    """Remove paste damage. Returns (line, had_damage)."""
    line = raw.rstrip("\r\n")
    orig = line
    if "[" in line and "[/" in line or line.startswith("[color") or line.startswith("[b]"):
        line = RE_BBCODE.sub("", line)
    s = line.lstrip()
    while s[:1] in (">", "`") or s.startswith("^C"):
        if s.startswith("^C"):
            s = s[2:]
        elif s.startswith("```"):
            s = s[3:]
        else:
            s = s[1:]
        s = s.lstrip()
    if s.endswith("`"):
        s = s.rstrip("`").rstrip()
    if s.startswith(("~", "#", "$")) or "@" in s[:40]:
        m = RE_PROMPT.match(s)
        if m:
            s = s[m.end():]
    if "^C" in s:
        s = s.replace("^C", "")
    return s, s != orig.strip()


def _kernel_inner(msg: str) -> tuple[str, float | None]:
    if msg.startswith("["):
        m = RE_UPTIME.match(msg)
        if m:
            return m.group(2), float(m.group(1))
    return msg, None


def unwrap(line: str, *, year: int = 1970) -> Unwrapped:
    """Strip the outer wrapper of an already :func:`clean`-ed line."""
    if not line:
        return Unwrapped("", "empty")
    c = line[0]
    if c == "\u2591":  # journalctl -xe catalog lines
        return Unwrapped(line.lstrip("\u2591 "), "journal-catalog", prog="systemd")
    if c == "{" and '"MESSAGE"' in line:
        u = _unwrap_json(line)
        if u is not None:
            return u
    if c.isdigit():
        m = RE_KMSG.match(line)
        if m and "," not in m.group(4)[:0] and len(m.group(1)) <= 2:
            return Unwrapped(m.group(5), "kmsg", prog="kernel", uptime=int(m.group(3)) / 1e6,
                             prio=m.group(1))
        m = RE_EPOCH.match(line)
        if m:
            return Unwrapped(m.group(2), "hostapd-t", ts=float(m.group(1)))
        m = RE_RFC3339.match(line)
        if m:
            return _rfc3339(m)
        m = RE_ISO_LOCAL.match(line)
        if m:
            ts = rfc3339_ts(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                            int(m.group(6)), m.group(7), m.group(8))
            return Unwrapped(m.group(9), "r2wifi-log", prog="r2wifi", ts=ts)
    if c == "[":
        m = RE_UPTIME.match(line)
        if m:
            return Unwrapped(m.group(2), "dmesg", prog="kernel", uptime=float(m.group(1)))
        m = RE_DMESG_T.match(line)
        if m:
            mon = _month(m.group(1)) or 1
            ts = _epoch(int(m.group(6)), mon, int(m.group(2)), int(m.group(3)), int(m.group(4)),
                        int(m.group(5)))
            return Unwrapped(m.group(7), "dmesg-T", prog="kernel", ts=ts)
        m = RE_LUCI.match(line)
        if m:
            mon = _month(m.group(1)) or 1
            hh = int(m.group(4)) % 12 if m.group(7) else int(m.group(4))
            if m.group(7) == "PM":
                hh += 12
            ts = _epoch(int(m.group(3)), mon, int(m.group(2)), hh, int(m.group(5)), int(m.group(6)))
            return _with_prog(m.group(12), "luci", m.group(10), ts, f"{m.group(8)}.{m.group(9)}")
    if c.isalpha():
        m = RE_LOGREAD.match(line)
        if m:
            mon = _month(m.group(1)) or 1
            ts = _epoch(int(m.group(6)), mon, int(m.group(2)), int(m.group(3)), int(m.group(4)),
                        int(m.group(5)))
            return _with_prog(m.group(11), "logread", m.group(9), ts, f"{m.group(7)}.{m.group(8)}")
        if " | " in line:
            m = RE_PFSENSE.match(line)
            if m:
                mon = _month(m.group(1)) or 1
                ts = _epoch(year, mon, int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
                return _with_prog(m.group(8), "pfsense", m.group(6).strip(), ts, None)
        m = RE_SYSLOG.match(line)
        if m:
            smon = _month(m.group(1))
            if smon is not None:
                ts = _epoch(year, smon, int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
                return _with_prog(m.group(9), "syslog", m.group(7), ts, None)
    return Unwrapped(line, "plain")


def _with_prog(msg: str, fmt: str, prog: str, ts: float | None, prio: str | None) -> Unwrapped:
    p = prog.lower()
    if p in KERNEL_PROGS:
        inner, up = _kernel_inner(msg)
        return Unwrapped(inner, fmt, prog="kernel", ts=ts, uptime=up, prio=prio)
    return Unwrapped(msg, fmt, prog=p, ts=ts, prio=prio)


def rfc3339_ts(year: int, month: int, day: int, hh: int, mm: int, ss: int, frac: str | None,
               tz: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 stamp's fields (``frac`` like ``".123456"``, ``tz`` like ``"+02:00"``)."""
    ts = _epoch(year, month, day, hh, mm, ss)
    if ts is not None:
        if frac:
            ts += float(frac)
        if tz and tz != "Z":
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            ts -= sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)
    return ts


def _rfc3339(m: re.Match[str]) -> Unwrapped:
    ts = rfc3339_ts(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                    int(m.group(6)), m.group(7), m.group(8))
    return _with_prog(m.group(12), "rfc3339", m.group(10), ts, None)


def _unwrap_json(line: str) -> Unwrapped | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    msg = obj.get("MESSAGE")
    if isinstance(msg, list):  # journald encodes non-UTF-8 messages as byte arrays
        try:
            msg = bytes(int(b) & 0xFF for b in msg).decode("utf-8", "replace")
        except (TypeError, ValueError):
            msg = ""
    if not isinstance(msg, str):
        return None
    ts = None
    rt = obj.get("__REALTIME_TIMESTAMP")
    if isinstance(rt, str) and rt.isdigit():
        ts = int(rt) / 1e6
    prog = obj.get("SYSLOG_IDENTIFIER") or obj.get("_COMM") or None
    if obj.get("_TRANSPORT") == "kernel":
        prog = "kernel"
    uptime = None
    mono = obj.get("_SOURCE_MONOTONIC_TIMESTAMP")
    if prog == "kernel" and isinstance(mono, str) and mono.isdigit():
        uptime = int(mono) / 1e6
    u = _with_prog(msg, "journal-json", str(prog or "other"), ts, None)
    if u.uptime is None:
        u.uptime = uptime
    return u


# A whole syslog / RFC 3339 / logread record glued after another one (a paste that lost its
# newlines): the stamp, then host and program, after white space.
RE_GLUED_RECORD = re.compile(
    r"(?<=\s)(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)? (?:\S+ )?[^\s:\[]+(?:\[\d+\])?: "
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+\S+\s+[^\s:\[]+(?:\[\d+\])?: "
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4} \w+\.\w+ )"
)


def split_glued(msg: str) -> list[str]:
    """``msg`` then every whole record glued after it (each with its own wrapper), or ``[msg]``."""
    if len(msg) < 40:
        return [msg]
    cuts = [m.start() for m in RE_GLUED_RECORD.finditer(msg)]
    if not cuts:
        return [msg]
    bounds = [0, *cuts, len(msg)]
    return [msg[a:b].rstrip() for a, b in zip(bounds, bounds[1:], strict=False)]


def split_printk(msg: str) -> tuple[str, str | None, float | None]:
    """Split a kernel record glued into a user-space line: ``user[  1.0] kernel`` -> parts."""
    m = RE_PRINTK_MID.search(msg)
    if not m or m.start() == 0:
        return msg, None, None
    return msg[: m.start()], msg[m.end():], float(m.group(1))


RE_CONT_START = re.compile(r"^[a-z_(]|^(?:[0-9a-fA-FxX]{2}:){5}[0-9a-fA-FxX]{2}")


def is_continuation(prev: str, line: str) -> bool:
    """An e-mail hard wrap: ``line`` is the tail of ``prev`` (prev wrapped at ~60-80 columns)."""
    if not line or not (40 <= len(prev) <= 84) or len(line) > 90:
        return False
    if line[0] in " \t[{\u2591" or not RE_CONT_START.match(line):
        return False
    head = line[:40]
    if ": " in head or line.endswith(":") or "=" in head:
        return False
    return prev[-1:] not in (".", ":", ")") or prev.endswith("due to")


def may_wrap(prev: str) -> bool:
    """Could ``prev`` be followed by a hard-wrapped tail? (The ``prev`` half of :func:`is_continuation`.)"""
    return 40 <= len(prev) <= 84 and (prev[-1:] not in (".", ":", ")") or prev.endswith("due to"))


# ---------------------------------------------------------------- stamped raw lines (the diagnose fast path)
# The same stamp shapes as :func:`unwrap`, recognised on the raw bytes of a line by one small regex each
# (diagnose caches the classification of the rest of the line, the "tail", and parses only the stamp).
# SHAPE_FMT[shape] is the ``fmt`` :func:`unwrap` gives that shape.
STAMP_DIGIT = re.compile(rb"(\d{1,2}),\d+,(\d+),[^;\n]*;|(\d{9,10}\.\d{1,9}): ")
STAMP_DMESG = re.compile(rb"\[\s*(\d+\.\d+)\] ?")
STAMP_SYSLOG = re.compile(rb"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) "
                           rb"(?:(\S+ (?:kernel|vmunix|klogd): ?)\[\s*(\d+\.\d+)\] ?)?")
# rsyslog's default on Debian 12: "2024-05-01T10:00:00.123456+02:00 host prog[pid]: message"
STAMP_RFC3339 = re.compile(rb"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?[ \t]+"
                            rb"(?:(\S+[ \t]+(?:kernel|vmunix|klogd):[ \t]?)\[\s*(\d+\.\d+)\] ?)?")
# OpenWrt logread: "Sat Aug 19 20:52:21 2017 daemon.debug hostapd: message"
STAMP_LOGREAD = re.compile(rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) "
                            rb"(\d{4}) (?:(\w+\.\w+ (?:kernel|vmunix|klogd): ?)\[\s*(\d+\.\d+)\] ?)?")
SHAPE_FMT = ("kmsg", "hostapd-t", "dmesg", "syslog", "rfc3339", "logread")


def stamp_prefix(raw: bytes, year: int) -> tuple[tuple[int, bytes], int, float | None, float | None] | None:
    """``((shape, tail), prefix length, ts, uptime)`` of a stamped raw line; None: not a known shape.

    The tail is the line without its stamps (a syslog'd kernel line has two: the date and the
    kernel's ``[uptime]``), so every repeat of a message has the same tail.
    """
    c = raw[:1]
    if c.isdigit():
        if raw[4:5] == b"-":
            return _stamp_rfc3339(raw)
        m = STAMP_DIGIT.match(raw)
        if m is None:
            return None
        if m.group(3) is not None:
            return (1, raw[m.end():]), m.end(), float(m.group(3)), None
        return (0, raw[m.end():]), m.end(), None, int(m.group(2)) / 1e6
    if c == b"[":
        m = STAMP_DMESG.match(raw)
        return ((2, raw[m.end():]), m.end(), None, float(m.group(1))) if m is not None else None
    if c.isalpha():
        m = STAMP_SYSLOG.match(raw)
        if m is None:
            return _stamp_logread(raw)
        mon = MONTHS.get(m.group(1).decode().lower())
        if mon is None:
            return None
        ts = epoch(year, mon, int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
        if m.group(7) is not None:  # "host kernel: [ uptime] message"
            return (3, m.group(6) + b"[]" + raw[m.end():]), m.end(), ts, float(m.group(7))
        return (3, raw[m.end():]), m.end(), ts, None
    return None


def _stamp_rfc3339(raw: bytes) -> tuple[tuple[int, bytes], int, float | None, float | None] | None:
    m = STAMP_RFC3339.match(raw)
    if m is None:
        return None
    g = m.group
    frac, tz = g(7), g(8)
    ts = rfc3339_ts(int(g(1)), int(g(2)), int(g(3)), int(g(4)), int(g(5)), int(g(6)),
                    frac.decode() if frac else None, tz.decode() if tz else None)
    if g(10) is not None:
        return (4, g(9) + b"[]" + raw[m.end():]), m.end(), ts, float(g(10))
    return (4, raw[m.end():]), m.end(), ts, None


def _stamp_logread(raw: bytes) -> tuple[tuple[int, bytes], int, float | None, float | None] | None:
    m = STAMP_LOGREAD.match(raw)
    if m is None:
        return None
    g = m.group
    mon = MONTHS.get(g(1).decode().lower())
    if mon is None:
        return None
    ts = epoch(int(g(6)), mon, int(g(2)), int(g(3)), int(g(4)), int(g(5)))
    if g(8) is not None:
        return (5, g(7) + b"[]" + raw[m.end():]), m.end(), ts, float(g(8))
    return (5, raw[m.end():]), m.end(), ts, None
