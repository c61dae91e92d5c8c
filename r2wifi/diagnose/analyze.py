"""``diagnose(inputs)``: read logs, rebuild every station's story, apply the catalogue.

Theory of operation (one pass, bounded memory):

1. :func:`r2wifi.logs.readers.expand` turns paths into sources (dirs recursive, .gz/.xz, ``-``).
2. For each source a short *sample* (first :data:`SAMPLE_LINES` lines) detects the wrappers and
   whether the paste is newest-first (a GUI log view); newest-first sources are reversed; and
   whether hard-wrapped lines are possible (files up to :data:`PASTE_MAX_BYTES`, or a sample
   that shows one).
3. The fast path (:func:`_scan`) gets only the lines holding an event keyword
   (:class:`r2wifi.logs.readers.Scan`: external grep, or an anchored ``re`` over big byte
   chunks), in batches of raw bytes. A line without a wrapper timestamp is unwrapped and
   classified once and then looked up by its bytes (bounded cache); station-less benign noise
   is counted without building events. With ``learn`` (redaction), every line is read in
   Python because the redactor must see it.
4. Events go to :class:`~r2wifi.diagnose.aggregate.Aggregate` (sessions, counters, evidence);
   :func:`r2wifi.diagnose.rules.evaluate` turns it into findings.

The result is the JSON contract of ``shared/spec/finding-kinds.md`` plus ``verdict`` and, per
station, a bounded ``timeline``.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import TextIO

from r2wifi.diagnose.aggregate import MAX_EVIDENCE, Aggregate
from r2wifi.diagnose.rules import evaluate
from r2wifi.diagnose.sessions import reason_text
from r2wifi.logs import events as ev_mod
from r2wifi.logs import readers, wrappers
from r2wifi.logs.catalog.prefilter import any_of
from r2wifi.logs.events import events_from
from r2wifi.logs.model import Event, K

SAMPLE_LINES = 400
# Hard-wrapped lines (an e-mail or forum paste) are looked for in every file up to this size, and
# in bigger ones only when their sample shows one: no paste is megabytes long, and the check costs
# a look at the next line after a third of a debug log's hits.
PASTE_MAX_BYTES = 4 << 20
MAX_SESSIONS_OUT = 50
PREFILTER = readers.anchored_regex(ev_mod.KEYWORDS)
PREFILTER_STR = any_of(ev_mod.KEYWORDS)


def _year_of(src: readers.Source) -> int:
    try:
        if src.path is not None:
            return time.gmtime(os.path.getmtime(src.path)).tm_year
    except OSError:
        pass
    return time.gmtime().tm_year


class _FileState:
    __slots__ = ("name", "year", "formats", "lines", "bytes", "reversed", "damaged", "wraps", "events", "notes")

    def __init__(self, name: str, year: int) -> None:
        self.name = name
        self.year = year
        self.formats: Counter[str] = Counter()
        self.lines = 0
        self.bytes = 0
        self.reversed = False
        self.damaged = 0
        self.wraps = True  # hard-wrapped lines possible (see PASTE_MAX_BYTES)
        self.events = 0  # records recognised in this input
        self.notes: list[str] = []  # problems met reading it (readers.Source.notes)


_PLAIN_CACHE: dict[str, tuple[str, bool, wrappers.Unwrapped]] = {}


def _process(agg: Aggregate, fs: _FileState, lineno: int, text: str, nxt: str | None) -> bool:
    """Classify one raw line (joining a hard-wrapped continuation). Returns True if nxt was consumed."""
    hit = _PLAIN_CACHE.get(text)
    if hit is not None and (nxt is None or not wrappers.is_continuation(hit[0], nxt.strip())):
        cleaned, damaged, u = hit  # an exact repeat of an unstamped line: same unwrap result
        consumed = False
    else:
        cleaned, damaged = wrappers.clean(text)
        if not cleaned:
            return False
        consumed = False
        if nxt is not None and wrappers.is_continuation(cleaned, nxt.strip()):
            cleaned = cleaned + " " + nxt.strip()
            consumed = True
            damaged = True
        u = wrappers.unwrap(cleaned, year=fs.year)
        if not consumed and u.fmt == "plain" and len(text) <= _CACHE_LINE_MAX:
            if len(_PLAIN_CACHE) >= 65536:
                _PLAIN_CACHE.clear()
            _PLAIN_CACHE[text] = (cleaned, damaged, u)
    if damaged:
        fs.damaged += 1
    fs.formats[u.fmt] += 1
    parts = ev_mod.classified(u)
    if not parts:
        return consumed
    if len(parts) == 1 and parts[0][0] == K.BENIGN and parts[0][2] is None and (u.ts is None or u.uptime is None):
        agg.add_benign(str(parts[0][4].get("what")), fs.name, lineno, u.ts)  # fast path for repeated noise
        return consumed
    for e in events_from(u, file=fs.name, line=lineno, text=cleaned):
        agg.add(e)
    return consumed


def _sample(src: readers.Source, fs: _FileState) -> tuple[list[str], bool]:
    """First lines of a file: wrapper detection and newest-first order detection."""
    lines: list[str] = []
    it = readers.iter_lines(src)
    for _n, t in it:
        lines.append(t)
        if len(lines) >= SAMPLE_LINES:
            break
    it.close()  # type: ignore[attr-defined]
    stamps: list[float] = []
    prev = ""
    wrapped = False
    for t in lines:
        c, _d = wrappers.clean(t)
        if not wrapped and prev and wrappers.is_continuation(prev, t.strip()):
            wrapped = True  # (only after a keyword line, as the scan would join it)
        prev = c if PREFILTER_STR.search(c) else ""
        u = wrappers.unwrap(c, year=fs.year)
        fs.formats[u.fmt] += 0
        v = u.ts if u.ts is not None else u.uptime
        if v is not None:
            stamps.append(v)
    try:
        big = src.path is not None and os.path.getsize(src.path) > PASTE_MAX_BYTES
    except OSError:
        big = False
    fs.wraps = wrapped or not big
    down = sum(1 for a, b in zip(stamps, stamps[1:], strict=False) if b < a)
    up = sum(1 for a, b in zip(stamps, stamps[1:], strict=False) if b > a)
    return lines, down >= 3 and down > 3 * up


def _read_source(agg: Aggregate, src: readers.Source, fs: _FileState, learn: Callable[[str], None] | None) -> None:
    is_stdin = src.path is None
    if not is_stdin:
        _lines, reverse = _sample(src, fs)
    else:
        reverse = False
    if reverse:  # read last line first, in bounded memory (readers.ReverseLines)
        rev = readers.ReverseLines(src, learn=learn, keep=PREFILTER)
        fs.reversed = True
        for n, t in rev:
            _process(agg, fs, n, t, None)
        fs.lines, fs.bytes = rev.lines, rev.nbytes
        return
    if learn is not None or is_stdin:
        _slow(agg, src, fs, learn)
        return
    _scan(agg, src, fs)


# Plan of a raw line whose unwrap result does not depend on where it is (no wrapper timestamp):
# (cleaned, damaged, unwrapped, classified parts, may be followed by a hard-wrapped tail,
#  the benign "what" when the line is station-less benign noise that skips event building).
_Plan = tuple[str, bool, wrappers.Unwrapped, list[ev_mod.Classified], bool, "str | None"]
_RAW_CACHE: dict[bytes, _Plan] = {}
_RAW_CACHE_MAX = 65536
_CACHE_LINE_MAX = 4096  # longer lines are not cached (bounded memory: entries x length)


def _tail(scan: readers.Scan, cleaned: str, after: int) -> str | None:
    """The hard-wrapped tail of ``cleaned`` (the line starting at byte ``after``), or None."""
    nb = scan.line_at(after)
    if nb is None:
        return None
    head = nb[:40]
    if (b": " in head or b"=" in head) and not nb[:1].isspace():
        return None  # byte index >= char index: the text check below would refuse it too
    nxt = readers.decode(nb.rstrip(b"\r")).strip()
    return nxt if wrappers.is_continuation(cleaned, nxt) else None


def _plan(raw: bytes, year: int) -> _Plan | None:
    """Clean, unwrap and classify one raw line (None: nothing left after cleaning)."""
    cleaned, damaged = wrappers.clean(readers.decode(raw.rstrip(b"\r")))
    if not cleaned:
        return None
    u = wrappers.unwrap(cleaned, year=year)
    parts = ev_mod.classified(u)
    return cleaned, damaged, u, parts, wrappers.may_wrap(cleaned), _benign_what(u, parts)


def _benign_what(u: wrappers.Unwrapped, parts: list[ev_mod.Classified]) -> str | None:
    """The name of station-less benign noise, which bypasses event building; else None."""
    if len(parts) == 1:
        p0 = parts[0]
        if p0[0] == K.BENIGN and p0[2] is None and (u.ts is None or u.uptime is None):
            return str(p0[4].get("what"))
    return None


# Stamped lines: a wrapper timestamp makes every repeat of a message a different raw line, so the
# raw-line cache above never hits (hostapd -t, kmsg, dmesg and syslog logs are stamped on every
# line). Their prefix shapes are recognised here with one small regex each; the rest of the line
# (the "tail": host, program and message) keys a second cache of the classification, and only the
# stamp is parsed per line (wrappers.stamp_prefix, the same arithmetic as wrappers.unwrap). A template is stored only
# after the full path agreed with the fast one on that line (format, stamp, no paste damage).
_TailKey = tuple[int, bytes]
# template: (fmt, parts, benign what, tail length in characters, the tail may end a wrapped line)
_Template = tuple[str, list[ev_mod.Classified], "str | None", int, bool]
_TAIL_CACHE: dict[_TailKey, _Template] = {}


# the stamp shapes live with the other wrapper shapes (r2wifi.logs.wrappers: one home per timestamp shape)
_SHAPE_FMT = wrappers.SHAPE_FMT
_stamp = wrappers.stamp_prefix


def _template(raw: bytes, plan: _Plan, st: tuple[_TailKey, int, float | None, float | None]) -> _Template | None:
    """The tail template of a fully planned stamped line, when the fast path agrees with it."""
    cleaned, damaged, u, parts, _wrap, what = plan
    key, plen, ts, uptime = st
    if (u.fmt != _SHAPE_FMT[key[0]] or damaged or u.ts != ts or u.uptime != uptime
            or cleaned != readers.decode(raw.rstrip(b"\r"))):
        return None
    tail = cleaned[plen:]
    return u.fmt, parts, what, len(tail), tail[-1:] not in (".", ":", ")") or tail.endswith("due to")


def _scan(agg: Aggregate, src: readers.Source, fs: _FileState) -> None:
    """The fast path: only lines matching a keyword reach Python; repeated lines cost a dict lookup.

    Station-less benign noise (the bulk of a debug log's hits) is counted locally once its
    evidence list is full and its name already known, and folded into ``agg`` at the end.
    """
    scan = readers.Scan(src, ev_mod.KEYWORDS, grep=readers.grep_binary(), rx=PREFILTER)
    cache = _RAW_CACHE
    tails = _TAIL_CACHE
    formats: dict[str, int] = {}  # plain dicts: a Counter's += costs a Python-level call per line
    bulk: dict[str, int] = {}
    add_benign = agg.add_benign
    add, ap_kinds = _adder(agg)
    ap_events = agg.ap_events if isinstance(agg, _DedupAggregate) else None
    seen_benign = agg.benign
    evidence = agg.evidence
    name = fs.name
    year = fs.year
    skip = -1
    damaged_n = 0
    wraps = fs.wraps
    cleaned: str | None
    for batch in scan.batches():
        for n, o, raw in batch:
            if skip >= 0 and int(n) == skip:
                continue
            plan = cache.get(raw)
            if plan is not None:
                cleaned, damaged, u, parts, wrap, what = plan
                fmt, ts, uptime = u.fmt, u.ts, u.uptime
            else:
                st = _stamp(raw, year)
                tpl = tails.get(st[0]) if st is not None else None
                if st is not None and tpl is not None:
                    _key, plen, ts, uptime = st
                    fmt, parts, what, tlen, end_ok = tpl
                    damaged = False
                    wrap = end_ok and 40 <= plen + tlen <= 84
                    cleaned = None  # decoded only when needed (events, hard-wrap check)
                else:
                    plan = _plan(raw, year)
                    if plan is None:
                        continue
                    cleaned, damaged, u, parts, wrap, what = plan
                    fmt, ts, uptime = u.fmt, u.ts, u.uptime
                    if len(raw) > _CACHE_LINE_MAX:
                        pass  # a cache of long lines would hold megabytes
                    elif fmt == "plain":
                        if len(cache) >= _RAW_CACHE_MAX:
                            cache.clear()
                        cache[raw] = plan
                    elif st is not None and (t := _template(raw, plan, st)) is not None:
                        if len(tails) >= _RAW_CACHE_MAX:
                            tails.clear()
                        tails[st[0]] = t
            if wrap and wraps:
                if cleaned is None:
                    cleaned = readers.decode(raw.rstrip(b"\r"))
                tail = _tail(scan, cleaned, int(o) + len(raw) + 1)
                if tail is not None:
                    skip = int(n) + 1
                    cleaned = cleaned + " " + tail
                    damaged = True
                    u = wrappers.unwrap(cleaned, year=year)
                    parts = ev_mod.classified(u)
                    what = _benign_what(u, parts)
                    fmt, ts, uptime = u.fmt, u.ts, u.uptime
            if damaged:
                damaged_n += 1
            formats[fmt] = formats.get(fmt, 0) + 1
            if what is not None:
                if (ts is None and what != "poll_ok" and what in seen_benign
                        and len(evidence.get("benign_noise", ())) >= MAX_EVIDENCE):
                    bulk[what] = bulk.get(what, 0) + 1
                else:
                    add_benign(what, name, int(n), ts)
                continue
            if not parts:
                continue
            if cleaned is None:
                cleaned = readers.decode(raw.rstrip(b"\r"))
            lineno = int(n)
            for kind, source, station, iface, params, is_kernel, up in parts:
                e = Event(kind, source, name, lineno, cleaned, ts,
                          up if is_kernel and up is not None else uptime, station, iface, params)
                add(e)
                if kind in ap_kinds:  # what _DedupAggregate.add keeps, done here (see _adder)
                    ap_events.append((e.ts, kind, cleaned[:240], name, lineno))  # type: ignore[union-attr]
    agg.add_benign_counts(bulk)
    fs.damaged += damaged_n
    fs.formats.update(formats)
    fs.lines, fs.bytes = scan.lines, scan.nbytes


def _slow(agg: Aggregate, src: readers.Source, fs: _FileState, learn: Callable[[str], None] | None) -> None:
    prev: tuple[int, str] | None = None
    skip_next = False
    nbytes = 0

    def lines() -> Iterator[tuple[int, str]]:
        nonlocal nbytes
        for n, t in readers.iter_lines(src):
            nbytes += len(t) + 1
            if learn is not None:
                learn(t)
            yield n, t

    for n, t in lines():
        fs.lines = n
        if prev is not None:
            if skip_next:
                skip_next = False
            elif PREFILTER_STR.search(prev[1]):
                skip_next = _process(agg, fs, prev[0], prev[1], t)
        prev = (n, t)
    if prev is not None and not skip_next and PREFILTER_STR.search(prev[1]):
        _process(agg, fs, prev[0], prev[1], None)
    fs.bytes = nbytes


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return round(qs[int(q) - 1], 3)


def _metrics(agg: Aggregate) -> dict[str, object]:
    stations = agg.tracker.stations.values()
    per_station: dict[str, object] = {}
    for st in stations:
        cms = [c for c in (s.connect_ms() for s in st.sessions) if c is not None]
        durs = [d for d in (s.duration() for s in st.sessions) if d is not None]
        per_station[st.mac] = {
            "successful_connects": st.connects,
            "failed_connects": st.failed,
            "sessions": st.total_sessions,
            "time_to_connect_ms": {"p50": _pct(cms, 50), "p95": _pct(cms, 95)},
            "session_length_s": {"p50": _pct(durs, 50), "max": round(max(durs), 3) if durs else None},
            "disconnects_by_reason": {str(k): v for k, v in sorted(st.reasons.items())},
            "inactivity_kicks": st.kicks,
        }
    cms_all = list(agg.connect_ms)
    durs_all = list(agg.session_s)
    per_ap: dict[str, object] = {}
    for iface, c in sorted(agg.ifaces.items()):
        per_ap[iface] = {
            "successful_connects": c.get("sta_connected", 0),
            "disconnects": c.get("sta_disconnected", 0),
            "enabled": c.get("ap_enabled", 0),
            "disabled": c.get("ap_disabled", 0),
        }
    return {
        "successful_connects": sum(st.connects for st in stations),
        "failed_connects": sum(st.failed for st in stations),
        "time_to_connect_ms": {"p50": _pct(cms_all, 50), "p95": _pct(cms_all, 95), "n": len(cms_all)},
        "session_length_s": {"p50": _pct(durs_all, 50), "p95": _pct(durs_all, 95), "n": len(durs_all)},
        "disconnects_by_reason": {str(k): v for k, v in sorted(agg.reasons.items())},
        "ap_runs": agg.runs,
        "ap_restarts": max(0, agg.runs - 1),
        "ap_start_failures": agg.runs_failed,
        "tx_stall_episodes": agg.txq_episodes if (agg.txq_full or agg.keys.get("tx_queue_stall")
                                                  or agg.keys.get("tx_queue_churn")) else 0,
        "tx_queue": {"stops": agg.txq_stops, "wakes": agg.txq_wakes, "full_drops": agg.txq_full,
                     "max_stops_per_10s": agg.txq_max_rate},
        "stations": len(agg.tracker.stations),
        "per_station": per_station,
        "per_ap": per_ap,
    }


def _stations(agg: Aggregate) -> list[dict[str, object]]:
    out = []
    for st in agg.tracker.stations.values():
        sessions = list(st.sessions)[-MAX_SESSIONS_OUT:]
        if st.current is not None and st.current not in sessions:
            sessions.append(st.current)
        out.append({
            "mac": st.mac,
            "client_side": st.client,
            "state": st.state,
            "sessions": [s.to_json() for s in sessions],
            "counts": {
                "sessions": st.total_sessions,
                "successful_connects": st.connects,
                "failed_connects": st.failed,
                "inactivity_kicks": st.kicks,
                "inactivity_cleanups": st.cleanups,
                "disconnect_reasons": {str(k): v for k, v in sorted(st.reasons.items())},
            },
            "disconnect_reasons_text": {str(k): reason_text(k) for k in sorted(st.reasons)},
            "timeline": agg.timeline(st.mac),
        })
    out.sort(key=lambda s: str(s["mac"]))
    return out


def _verdict(findings: list[dict[str, object]], agg: Aggregate) -> dict[str, str]:
    errors = [f for f in findings if f["severity"] == "error"]
    warnings = [f for f in findings if f["severity"] == "warning"]
    if errors or warnings:
        top = "; ".join(str(f["title"]) for f in (errors + warnings)[:3])
        status = "error" if errors else "warning"
        return {"status": status, "summary": f"{len(errors)} error(s), {len(warnings)} warning(s): {top}"}
    n = len(agg.tracker.stations)
    c = sum(st.connects for st in agg.tracker.stations.values())
    return {"status": "ok", "summary": f"no problems found ({n} station(s), {c} successful connect(s))"}


class _DedupAggregate(Aggregate):
    """An :class:`Aggregate` that also keeps the AP's own events and drops records repeated across inputs.

    AP events (:data:`AP_EVENT_KINDS`: runs starting and stopping, interfaces going down, start-up
    errors, firmware crashes) are kept, the last :data:`MAX_AP_EVENTS`, for the report's shared
    time axis.

    With ``dedupe`` (several inputs): overlapping inputs (``/var/log/syslog`` and
    ``/var/log/messages``, a log and its rotated copy) hold the same lines. A record is keyed on
    what was parsed from it: its timestamp, source and message (kind, station, interface and
    parameters). Only stamped records are compared, and only across inputs: repeats inside one
    file are real. At most :data:`DEDUPE_MAX` keys are remembered (then later records are no
    longer checked).
    """

    def __init__(self, dedupe: bool = True) -> None:
        super().__init__()
        self.dedupe = dedupe
        self.seen: dict[int, str] = {}
        self.dups = 0
        self.ap_events: deque[tuple[float | None, str, str, str, int]] = deque(maxlen=MAX_AP_EVENTS)

    def _again(self, key: int, file: str) -> bool:
        first = self.seen.get(key)
        if first is None:
            if len(self.seen) < DEDUPE_MAX:
                self.seen[key] = file
            return False
        if first == file:
            return False
        self.dups += 1
        return True

    def add(self, ev: Event) -> None:
        if self.dedupe and ev.ts is not None and self._again(
                hash((ev.ts, ev.source, ev.kind, ev.station, ev.iface, repr(ev.params))), ev.file):
            return
        super().add(ev)
        if ev.kind in AP_EVENT_KINDS:
            self.ap_events.append((ev.ts, ev.kind, ev.text[:240], ev.file, ev.line))

    def add_benign(self, what: str, file: str, line: int, ts: float | None = None) -> None:
        if self.dedupe and ts is not None and self._again(hash((ts, "benign", what)), file):
            return
        super().add_benign(what, file, line, ts)


def _adder(agg: Aggregate) -> tuple[Callable[[Event], None], frozenset[str]]:
    """``agg.add`` for the scan loop, and the kinds whose AP events the loop must keep itself.

    With one input nothing is deduplicated, so the loop calls :meth:`Aggregate.add` directly (one
    Python call per event less) and keeps :data:`AP_EVENT_KINDS` itself, exactly as
    :meth:`_DedupAggregate.add` would."""
    if isinstance(agg, _DedupAggregate) and not agg.dedupe:
        return Aggregate.add.__get__(agg), AP_EVENT_KINDS
    return agg.add, frozenset()


DEDUPE_MAX = 1_000_000
MAX_AP_EVENTS = 400
AP_EVENT_KINDS = frozenset({K.AP_CONFIG_FILE, K.AP_ENABLED, K.AP_DISABLED, K.IFACE_ENABLED, K.IFACE_DISABLED,
                            K.AP_TERMINATING, K.STARTUP_ERROR, K.FIRMWARE_CRASH, K.KERNEL_WARNING,
                            K.SERVICE_FAILED})


def _recognised(agg: _DedupAggregate) -> int:
    """Records recognised so far (duplicates dropped included)."""
    return sum(agg.counts.values()) + agg.dups


def analyze(inputs: list[str], *, stdin: TextIO | None = None, learn: Callable[[str], None] | None = None,
            ) -> tuple[_DedupAggregate, list[_FileState], list[str]]:
    """Steps 1-4 of the module docstring: the finished :class:`Aggregate` of ``inputs``, the per-input
    state and the notes. :func:`diagnose` builds its result from it; ``r2wifi metrics`` reads its counters."""
    notes: list[str] = []
    sources = readers.expand(inputs, stdin=stdin, notes=notes)
    agg = _DedupAggregate(dedupe=len(sources) > 1)
    files = []
    for src in sources:
        fs = _FileState(src.name, _year_of(src))
        before = _recognised(agg)
        _read_source(agg, src, fs, learn)
        fs.events = _recognised(agg) - before
        if fs.events == 0 and not src.notes:
            binary = fs.lines > 0 and readers.looks_binary(src)
            src.note(f"{src.name}: " + ("binary data, " if binary else "")
                     + ("no log lines r2wifi recognises" if fs.lines else "empty"))
        notes.extend(src.notes)
        fs.notes = src.notes
        files.append(fs)
    agg.finish()
    return agg, files, notes


def diagnose(inputs: list[str], *, stdin: TextIO | None = None, learn: Callable[[str], None] | None = None,
             station: str | None = None) -> dict[str, object]:
    """Diagnose the given inputs; returns the JSON-ready result (see module docstring).

    Nothing recognised in any input gives the verdict ``unknown`` (never ``ok``); problems met
    reading an input (skipped special files, corrupt or capped compressed data) are one-line
    ``notes``.
    """
    agg, files, notes = analyze(inputs, stdin=stdin, learn=learn)
    findings = evaluate(agg)
    stations = _stations(agg)
    if station is not None:
        want = station.lower()
        stations = [s for s in stations if s["mac"] == want]
        findings = [f for f in findings if want in (f.get("stations") or [])]  # type: ignore[operator]
    verdict = _verdict(findings, agg)
    if sum(f.events for f in files) == 0:
        why = "; ".join(n for f in files for n in f.notes[:1])
        verdict = {"status": "unknown",
                   "summary": "nothing r2wifi recognises in the input (" + (why or "no lines") + ")"}
    return {
        "version": 1,
        "verdict": verdict,
        "findings": findings,
        "stations": stations,
        "metrics": _metrics(agg),
        "inputs": [
            {"file": f.name, "formats": {k: v for k, v in f.formats.most_common()}, "lines": f.lines,
             "bytes": f.bytes, "newest_first": f.reversed, "paste_damage_lines": f.damaged,
             "events": f.events, "notes": list(f.notes)}
            for f in files
        ],
        "ap_events": [{"t": t, "kind": kind, "text": text, "file": file, "line": line}
                      for t, kind, text, file, line in agg.ap_events],
        "notes": notes,
        "duplicates_dropped": agg.dups,
    }
