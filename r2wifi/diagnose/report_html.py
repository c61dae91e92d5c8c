"""HTML report of a diagnosis result: ONE self-contained page (inline CSS and SVG, no scripts).

Theory of operation: :func:`render` turns the result dict of finding-kinds.md into a page that
reads top-down like the terminal report: verdict banner and notes, an overview (every station and
the AP's own events as rows under ONE shared time axis), charts (time-to-connect histogram,
disconnect reasons), findings by severity (each code links to its docs page, each evidence
``file:line`` to its row in the evidence section), one section per station with an inline SVG
timeline (sessions as bars coloured by outcome, events as marks whose ``<title>`` is the tooltip)
and its sessions table, then metrics, inputs and the evidence section (the cited log lines).

Rules:
* Logs are untrusted input: every string that reaches the page goes through :func:`esc`
  (``html.escape`` with quotes), in text and in attributes alike; nothing from the result is
  ever placed in a tag name, a style or a script, and in a URL only a finding code that matches
  :data:`SAFE_CODE` (anchors are numbered, never built from log text).
* Self-contained: no external resources, no JavaScript (``<details>`` folds long lists). The
  page works offline and from a forum attachment.
* Exactly one ``<svg class="timeline">`` per station. The time axis is shared by all stations
  and the overview (so a mass disassociation lines up); when a station has no timestamps its
  events are placed in log order instead and the axis says so. A session without an end time
  is shown as open only when its outcome is ``open``; otherwise it ended at an unknown time.
* Docs links: ``<base>/<CODE>.md`` with ``docs_url`` as base (http, https or file URLs, or a
  path), default :data:`DOCS_BASE` (relative to the page: right for a report written in the
  project's root).
* Bounded: evidence, sessions, events and stations are capped as in the terminal report.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from r2wifi.diagnose.report_term import (
    MAX_EVIDENCE,
    MAX_STATIONS,
    SEVERITY_ORDER,
    FileNames,
    as_seconds,
    clean,
    fmt_duration,
    fmt_session_reason,
    fmt_time,
    fmt_value,
    iter_stations,
    notes_of,
    session_end_label,
    session_is_open,
    sorted_findings,
    station_summary,
)

MAX_EVENTS_SVG = 400
MAX_EVENTS_LIST = 200
MAX_SESSIONS_TABLE = 200
SVG_W = 1000
SVG_H = 64
PAD_L = 8
PAD_R = 8
DOCS_BASE = "docs/findings"
SAFE_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")
SAFE_URL = re.compile(r"(?:https?://|file:///?|/|\.{0,2}/?)[^\s\"'<>]*", re.IGNORECASE)
MAX_EVIDENCE_ROWS = 600
OV_LABEL = 170  # overview: width of the row labels
OV_ROW = 18
TTC_BINS = ((100, "<.1"), (250, ".1-.25"), (500, ".25-.5"), (1000, ".5-1"), (2000, "1-2"),
            (5000, "2-5"), (10000, "5-10"), (30000, "10-30"), (float("inf"), ">30"))

OUTCOME_COLOR = {
    "connected": "#2e9d4f",
    "open": "#8fd19e",
    "ap_stopped": "#8e6bbf",
    "ap_restart": "#8e6bbf",
    "ok": "#2e9d4f",
    "completed": "#2e9d4f",
    "left": "#3b82c4",
    "failed": "#d0392b",
    "rejected": "#d0392b",
    "timeout": "#d0392b",
    "kicked": "#e08a1e",
    "dropped": "#e08a1e",
}
OUTCOME_TEXT_COLOR = {"open": "#2e7d46"}  # the pale bar colour is unreadable as text
OTHER_COLOR = "#8a8f98"
EVENT_COLOR = {
    "fail": "#d0392b",
    "good": "#2e9d4f",
    "leave": "#3b82c4",
    "other": "#444b55",
}
_FAIL_WORDS = ("timeout", "mismatch", "invalid", "reject", "retry", "fail", "error", "crash", "replay", "not_acked")
_GOOD_WORDS = ("completed", "connected", "handshake", "dhcp_ack", "poll_ok")
_LEAVE_WORDS = ("disassoc", "deauth", "disconnect", "inactivity", "leave")

CSS = """
:root { --fg:#1d2330; --muted:#5d6675; --line:#d9dde3; --bg:#ffffff; --soft:#f4f6f8; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); max-width: 1180px; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 4px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
.verdict { padding: 14px 18px; border-radius: 8px; color: #fff; margin-bottom: 8px; }
.verdict .status { font-weight: 700; font-size: 20px; letter-spacing: .04em; margin-right: 10px; }
.verdict.ok { background: #2e9d4f; } .verdict.warning { background: #c98a06; }
.verdict.error { background: #c0392b; } .verdict.unknown { background: #5d6675; }
.counts { color: var(--muted); margin: 4px 0 0; }
.finding { border: 1px solid var(--line); border-left: 6px solid #8a8f98; border-radius: 6px;
  padding: 10px 14px; margin: 10px 0; background: var(--soft); }
.finding.error { border-left-color: #c0392b; } .finding.warning { border-left-color: #d99a0b; }
.finding.info { border-left-color: #3b82c4; }
.finding .head { font-weight: 600; }
.badge { display: inline-block; min-width: 64px; text-align: center; border-radius: 4px; padding: 0 6px;
  margin-right: 8px; color: #fff; font-size: 12px; font-weight: 700; background: #8a8f98; }
.badge.error { background: #c0392b; } .badge.warning { background: #c98a06; } .badge.info { background: #3b82c4; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; overflow-wrap: anywhere; }
dd.fix { font-weight: 600; }
.station { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin: 14px 0; }
.station .summary { color: var(--muted); margin-bottom: 6px; }
svg.timeline { display: block; width: 100%; height: auto; background: var(--soft); border-radius: 4px; }
svg.timeline text { font: 11px ui-monospace, "DejaVu Sans Mono", monospace; fill: #5d6675; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.text { overflow-wrap: anywhere; }
.legend { color: var(--muted); font-size: 13px; margin: 6px 0; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin: 0 4px -1px 12px; }
details { margin: 6px 0; } summary { cursor: pointer; color: var(--muted); }
.muted { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
.notes { margin: 6px 0 0; padding-left: 20px; color: #8a5a00; }
svg.overview, svg.chart { display: block; width: 100%; height: auto; background: var(--soft); border-radius: 4px;
  margin: 6px 0 12px; }
svg.overview text, svg.chart text { font: 11px ui-monospace, "DejaVu Sans Mono", monospace; fill: #5d6675; }
svg.overview a text { fill: #1f5fa8; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 0 24px; }
.charts h3 { font-family: inherit; }
a { color: #1f5fa8; }
tr.ev:target { background: #fff3bf; }
table.evidence td.text { max-width: 760px; }
"""


def esc(value: object, limit: int = 2000) -> str:
    """Untrusted text -> safe HTML text or attribute value (one line, capped)."""
    return html.escape(clean(value, limit), quote=True)


def event_class(kind: str) -> str:
    k = kind.lower()
    if any(w in k for w in _FAIL_WORDS):
        return "fail"
    if any(w in k for w in _LEAVE_WORDS):
        return "leave"
    if any(w in k for w in _GOOD_WORDS):
        return "good"
    return "other"


def render(result: Mapping[str, Any], *, docs_url: str | None = None) -> str:
    """The whole report page as one string (``docs_url``: base of the findings' docs pages)."""
    verdict = result.get("verdict") if isinstance(result.get("verdict"), Mapping) else {}
    assert isinstance(verdict, Mapping)
    status = str(verdict.get("status") or "unknown")
    status_cls = status if status in ("ok", "warning", "error") else "unknown"
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>r2wifi diagnose: {esc(status.upper(), 20)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>r2wifi diagnose</h1>",
        f'<div class="verdict {status_cls}"><span class="status">{esc(status.upper(), 20)}</span>'
        f"{esc(verdict.get('summary') or '')}</div>",
    ]
    findings = sorted_findings(result)
    stations = list(iter_stations(result))
    counts = {sev: sum(1 for f in findings if f.get("severity") == sev) for sev in SEVERITY_ORDER}
    out.append(
        f'<p class="counts">{counts["error"]} error(s), {counts["warning"]} warning(s), {counts["info"]} info; '
        f"{len(stations)} station(s)</p>"
    )
    notes = notes_of(result)
    if notes:
        out.append('<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    names = FileNames(result)
    evidence = _Evidence(result, findings)
    axis = _shared_axis(stations, result)
    out += _overview(stations, result, axis, names)
    out += _charts(stations, result)
    out += _findings(findings, names, evidence, _docs_base(docs_url))
    out += _stations(stations, names, axis, evidence)
    out += _metrics(result.get("metrics"))
    out += _inputs(result.get("inputs"))
    out += evidence.section(names)
    out.append("<footer>Generated by r2wifi diagnose. Times are UTC.</footer>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _docs_base(docs_url: str | None) -> str:
    """The base of the docs links: ``docs_url`` when it is a plain http(s)/file URL or path, else the default."""
    if docs_url and SAFE_URL.fullmatch(docs_url) and (":" not in docs_url.split("/", 1)[0]
                                                      or docs_url.lower().startswith(("http:", "https:", "file:"))):
        return docs_url.rstrip("/")
    return DOCS_BASE


class _Evidence:
    """The log lines the page cites, numbered: ``#ev-N`` anchors for links, one table at the end.

    Texts come from ``result["evidence_lines"]`` (read back by the CLI) or, failing that, from a
    station timeline entry at the same place.
    """

    def __init__(self, result: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]) -> None:
        texts: dict[tuple[str, int], str] = {}
        for _mac, st in iter_stations(result):
            for e in st.get("timeline") or []:
                if isinstance(e, Mapping) and isinstance(e.get("line"), int):
                    texts[(str(e.get("file")), e["line"])] = str(e.get("text") or "")
        for e in result.get("evidence_lines") or []:
            if isinstance(e, Mapping) and isinstance(e.get("line"), int):
                texts[(str(e.get("file")), e["line"])] = str(e.get("text") or "")
        self.texts = texts
        self.ids: dict[tuple[str, int], int] = {}
        for f in findings:
            for e in (f.get("evidence") or [])[:MAX_EVIDENCE * 2] if isinstance(f.get("evidence"), list) else []:
                if isinstance(e, Mapping) and isinstance(e.get("line"), int) and len(self.ids) < MAX_EVIDENCE_ROWS:
                    self.ids.setdefault((str(e.get("file")), e["line"]), len(self.ids) + 1)

    def anchor(self, file: object, line: object) -> int | None:
        return self.ids.get((str(file), line)) if isinstance(line, int) else None

    def links(self, evidence: object, names: FileNames, limit: int) -> str:
        """``file:line, :line2 (+N more)`` as HTML, each place a link to its evidence row."""
        items = [e for e in evidence if isinstance(e, Mapping)] if isinstance(evidence, list) else []
        parts: list[str] = []
        last = None
        for e in items[:limit]:
            f = names(e.get("file", "?"))
            line = e.get("line")
            label = (f":{clean(line, 12)}" if f == last else f"{f}:{clean(line, 12)}") if line is not None else f
            last = f
            n = self.anchor(e.get("file"), line)
            parts.append(f'<a href="#ev-{n}">{esc(label)}</a>' if n is not None else esc(label))
        if len(items) > limit:
            parts.append(f"(+{len(items) - limit} more)")
        return ", ".join(parts)

    def section(self, names: FileNames) -> list[str]:
        if not self.ids:
            return []
        out = ['<h2 id="evidence">Evidence</h2>',
               '<table class="evidence"><thead><tr><th>where</th><th>log line</th></tr></thead><tbody>']
        for (file, line), n in self.ids.items():
            text = self.texts.get((file, line))
            shown = esc(text, 600) if text is not None else '<span class="muted">(line not kept)</span>'
            out.append(f'<tr class="ev" id="ev-{n}"><td class="mono">{esc(names(file))}:{line}</td>'
                       f'<td class="text mono">{shown}</td></tr>')
        out.append("</tbody></table>")
        return out


# --------------------------------------------------------------------------------- findings
def _findings(findings: Sequence[Mapping[str, Any]], names: FileNames, evidence: _Evidence,
              docs: str) -> list[str]:
    out = [f"<h2>Findings ({len(findings)})</h2>"]
    if not findings:
        out.append('<p class="muted">No findings.</p>')
    for f in findings:
        sev = str(f.get("severity") or "info")
        sev_cls = sev if sev in SEVERITY_ORDER else "other"
        code = str(f.get("code") or "-")
        code_html = f"<code>{esc(code, 20)}</code>"
        if SAFE_CODE.fullmatch(code):
            code_html = f'<a href="{esc(docs)}/{code}.md" title="what it means and how to fix it">{code_html}</a>'
        out.append(f'<section class="finding {sev_cls}">')
        out.append(
            f'<div class="head"><span class="badge {sev_cls}">{esc(sev.upper(), 12)}</span>'
            f'{code_html} {esc(f.get("title") or f.get("kind") or "")}</div>'
        )
        out.append('<dl class="kv">')
        kind = esc(f.get("kind") or "", 60)
        params = f.get("params")
        if isinstance(params, Mapping) and params:
            kind += " (" + esc(", ".join(f"{k}={clean(fmt_value(v), 80)}" for k, v in params.items()), 400) + ")"
        out.append(f"<dt>kind</dt><dd><code>{kind}</code></dd>")
        sts = [str(s) for s in (f.get("stations") or [])]
        if sts:
            shown = ", ".join(clean(s, 40) for s in sts[:12]) + (f" (+{len(sts) - 12} more)" if len(sts) > 12 else "")
            out.append(f'<dt>stations</dt><dd class="mono">{esc(shown)}</dd>')
        if f.get("explanation"):
            out.append(f"<dt>why</dt><dd>{esc(f.get('explanation'))}</dd>")
        if f.get("fix"):
            out.append(f'<dt>fix</dt><dd class="fix">{esc(f.get("fix"))}</dd>')
        ev = evidence.links(f.get("evidence"), names, MAX_EVIDENCE * 2)
        if ev:
            out.append(f'<dt>evidence</dt><dd class="mono">{ev}</dd>')
        out.append("</dl></section>")
    return out


# --------------------------------------------------------------------------------- overview and charts
def _shared_axis(stations: list[tuple[str, Mapping[str, Any]]], result: Mapping[str, Any]) -> _Axis:
    ts = [t for _mac, st in stations[:MAX_STATIONS] for t in _times_of(st)]
    ts += [t for t in (as_seconds(e.get("t")) for e in _ap_events(result)) if t is not None]
    return _Axis(min(ts), max(ts)) if ts else _Axis(None, None)


def _ap_events(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    evs = result.get("ap_events")
    return [e for e in evs if isinstance(e, Mapping)][-MAX_EVENTS_SVG:] if isinstance(evs, list) else []


def _overview(stations: list[tuple[str, Mapping[str, Any]]], result: Mapping[str, Any], axis: _Axis,
              names: FileNames) -> list[str]:
    """Every station and the AP's own events as rows under one time axis (timed entries only)."""
    if not axis.timed:
        return []
    assert axis.lo is not None and axis.hi is not None
    ov = _Axis(axis.lo, axis.hi, OV_LABEL + 6, SVG_W - PAD_R)
    rows = [(mac, idx, st) for idx, (mac, st) in enumerate(stations[:MAX_STATIONS], start=1) if _times_of(st)]
    ap = [e for e in _ap_events(result) if as_seconds(e.get("t")) is not None]
    top = 26
    height = top + OV_ROW * (len(rows) + 1) + 8
    parts = [
        f'<svg class="overview" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_W} {height}" '
        f'width="{SVG_W}" height="{height}" role="img" aria-label="all stations on one time axis">',
        "<title>all stations and AP events on one time axis</title>",
    ]
    for i in range(6):  # ticks and labels of the shared axis
        t = axis.lo + (axis.hi - axis.lo) * i / 5
        x = ov.x(t)
        anchor = "start" if i == 0 else "end" if i == 5 else "middle"
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 4}" stroke="#dfe3e8"/>')
        parts.append(f'<text x="{x:.1f}" y="12" text-anchor="{anchor}">{esc(fmt_time(t))}</text>')
    day = fmt_time(axis.lo, date=True).split(" ")[0] if axis.lo >= 1e8 else "uptime"
    parts.append(f'<text x="4" y="12">{esc(day)}</text>')
    y = top
    parts.append(f'<text x="4" y="{y + 12}">AP events</text>')
    for e in ap:
        at = as_seconds(e.get("t"))
        assert at is not None
        parts.append(_mark(ov.x(at), e, names, y0=y + 2, y1=y + OV_ROW - 2, r=2.5))
    for mac, idx, st in rows:
        y += OV_ROW
        parts.append(f'<line x1="{OV_LABEL}" y1="{y}" x2="{SVG_W - PAD_R}" y2="{y}" stroke="#e6e9ed"/>')
        parts.append(f'<a href="#station-{idx}"><text x="4" y="{y + 12}">{esc(mac, 22)}</text></a>')
        parts += _session_bars(st, ov, y + 3, OV_ROW - 6)
        for e in [e for e in (st.get("timeline") or []) if isinstance(e, Mapping)][:MAX_EVENTS_SVG]:
            et = as_seconds(e.get("t"))
            if et is not None and event_class(str(e.get("kind") or "")) in ("fail", "leave"):
                parts.append(_mark(ov.x(et), e, names, y0=y + 2, y1=y + OV_ROW - 2, r=2))
    parts.append("</svg>")
    untimed = len(stations[:MAX_STATIONS]) - len(rows)
    note = f'<p class="muted">{untimed} station(s) without timestamps are not on this axis.</p>' if untimed else ""
    return ["<h2>Overview</h2>",
            '<p class="muted">Sessions as bars (colour = outcome), failures and disconnects as marks, '
            "the AP's own events (start, stop, errors) on the first row; hover for the log line.</p>",
            "".join(parts), note]


def _charts(stations: list[tuple[str, Mapping[str, Any]]], result: Mapping[str, Any]) -> list[str]:
    ttc: list[float] = []
    reason_text: dict[str, str] = {}
    for _mac, st in stations:
        for s in st.get("sessions") or []:
            v = as_seconds(s.get("time_to_connect_ms")) if isinstance(s, Mapping) else None
            if v is not None and v >= 0:
                ttc.append(v)
        texts = st.get("disconnect_reasons_text")
        if isinstance(texts, Mapping):
            reason_text.update({str(k): str(v) for k, v in texts.items()})
    metrics = result.get("metrics") if isinstance(result.get("metrics"), Mapping) else {}
    assert isinstance(metrics, Mapping)
    reasons = metrics.get("disconnects_by_reason")
    charts = []
    if ttc:
        charts.append(_histogram(ttc))
    if isinstance(reasons, Mapping) and reasons:
        charts.append(_reasons(reasons, reason_text))
    if not charts:
        return []
    return ['<div class="charts">', *charts, "</div>"]


def _histogram(values: list[float]) -> str:
    counts = [0] * len(TTC_BINS)
    for v in values:
        counts[next(i for i, (hi, _l) in enumerate(TTC_BINS) if v < hi)] += 1
    w, h, base, left = 460, 200, 160, 30
    bw = (w - left - 10) / len(TTC_BINS)
    top = max(counts)
    parts = [f'<div><h3>Time to connect ({len(values)} session(s))</h3>',
             f'<svg class="chart ttc" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
             f'height="{h}" role="img" aria-label="time to connect histogram"><title>time to connect, seconds</title>',
             f'<line x1="{left}" y1="{base}" x2="{w - 10}" y2="{base}" stroke="#8a8f98"/>']
    for i, ((_hi, label), n) in enumerate(zip(TTC_BINS, counts, strict=True)):
        x = left + i * bw
        bh = 0 if top == 0 else (base - 20) * n / top
        if n:
            parts.append(f'<rect class="bar" x="{x + 3:.1f}" y="{base - bh:.1f}" width="{bw - 6:.1f}" '
                         f'height="{bh:.1f}" fill="#3b82c4"><title>{esc(label)} s: {n}</title></rect>'
                         f'<text x="{x + bw / 2:.1f}" y="{base - bh - 4:.1f}" text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{base + 14}" text-anchor="middle">{esc(label)}</text>')
    parts.append(f'<text x="{w / 2:.0f}" y="{h - 4}" text-anchor="middle">seconds from association to '
                 "connected</text></svg></div>")
    return "".join(parts)


def _reasons(reasons: Mapping[str, Any], texts: Mapping[str, str]) -> str:
    items = sorted(((str(k), int(v)) for k, v in reasons.items() if isinstance(v, int) and not isinstance(v, bool)),
                   key=lambda kv: -kv[1])[:12]
    w, row, left = 460, 20, 250
    h = 30 + row * max(1, len(items))
    top = max((n for _k, n in items), default=1) or 1
    parts = [f"<div><h3>Disconnect reasons ({sum(n for _k, n in items)})</h3>",
             f'<svg class="chart reasons" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
             f'height="{h}" role="img" aria-label="disconnect reasons"><title>disconnects by IEEE 802.11 reason'
             "</title>"]
    for i, (code, n) in enumerate(items):
        y = 10 + i * row
        label = f"{code} {texts.get(code, '')}".strip()
        bw = (w - left - 40) * n / top
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{esc(label, 34)}</text>'
                     f'<rect class="bar" x="{left}" y="{y + 2}" width="{max(bw, 1):.1f}" height="{row - 6}" '
                     f'fill="#e08a1e"><title>{esc(label)}: {n}</title></rect>'
                     f'<text x="{left + bw + 4:.1f}" y="{y + 13}">{n}</text>')
    parts.append("</svg></div>")
    return "".join(parts)


# --------------------------------------------------------------------------------- stations
class _Axis:
    """Maps seconds to SVG x over the range shared by every station (between ``x0`` and ``x1``)."""

    def __init__(self, lo: float | None, hi: float | None, x0: float = PAD_L, x1: float = SVG_W - PAD_R) -> None:
        self.lo = lo
        self.hi = hi
        self.x0 = x0
        self.x1 = x1

    @property
    def timed(self) -> bool:
        return self.lo is not None and self.hi is not None

    def x(self, t: float) -> float:
        assert self.lo is not None and self.hi is not None
        span = self.hi - self.lo
        frac = 0.5 if span <= 0 else (t - self.lo) / span
        return self.x0 + max(0.0, min(1.0, frac)) * (self.x1 - self.x0)


def _times_of(st: Mapping[str, Any]) -> list[float]:
    ts: list[float] = []
    for s in st.get("sessions") or []:
        if isinstance(s, Mapping):
            for key in ("start", "end"):
                v = as_seconds(s.get(key))
                if v is not None:
                    ts.append(v)
    for e in (st.get("timeline") or [])[:MAX_EVENTS_SVG]:
        if isinstance(e, Mapping):
            v = as_seconds(e.get("t"))
            if v is not None:
                ts.append(v)
    return ts


def _stations(stations: list[tuple[str, Mapping[str, Any]]], names: FileNames, axis: _Axis,
              evidence: _Evidence) -> list[str]:
    out = [f"<h2>Stations ({len(stations)})</h2>"]
    if not stations:
        out.append('<p class="muted">No station activity in the logs.</p>')
        return out
    out.append(
        '<div class="legend">sessions:'
        + "".join(
            f'<span style="background:{color}"></span>{name}'
            for name, color in (
                ("connected", OUTCOME_COLOR["connected"]),
                ("open at end of log", OUTCOME_COLOR["open"]),
                ("failed", OUTCOME_COLOR["failed"]),
                ("AP stopped/restarted", OUTCOME_COLOR["ap_stopped"]),
                ("other", OTHER_COLOR),
            )
        )
        + "&#160;&#160; events: marks (hover for the log line)</div>"
    )
    for idx, (mac, st) in enumerate(stations[:MAX_STATIONS], start=1):
        out.append(f'<section class="station" id="station-{idx}">')
        out.append(f"<h3>{esc(mac, 60)}</h3>")
        out.append(f'<div class="summary">{esc(station_summary(st))}</div>')
        counts = st.get("counts")
        if isinstance(counts, Mapping) and counts:
            shown = ", ".join(f"{k} {fmt_value(v)}" for k, v in counts.items() if v not in (None, {}, [], ""))
            out.append(f'<div class="summary">{esc(shown)}</div>')
        out.append(_svg(mac, st, axis if _times_of(st) else _Axis(None, None), names))
        out += _sessions_table(st)
        out += _events_list(st, names, evidence)
        out.append("</section>")
    if len(stations) > MAX_STATIONS:
        out.append(f'<p class="muted">{len(stations) - MAX_STATIONS} more stations not shown (see --json).</p>')
    return out


def _session_bars(st: Mapping[str, Any], axis: _Axis, y: float, h: float) -> list[str]:
    """A station's timed sessions as bars; an open one runs to the right edge, one that ended at an
    unknown time is a thin bar at its start."""
    assert axis.lo is not None
    parts = []
    sessions = [s for s in (st.get("sessions") or []) if isinstance(s, Mapping)]
    for s in sessions[-MAX_SESSIONS_TABLE:]:
        start = as_seconds(s.get("start"))
        end = as_seconds(s.get("end"))
        if start is None and end is None:
            continue
        is_open = session_is_open(s)
        start = axis.lo if start is None else start  # began before the log: bar from the left edge
        x0 = axis.x(start)
        end_x = axis.x(end) if end is not None else (axis.x1 if is_open else x0)
        w = max(3.0, end_x - x0)
        outcome = str(s.get("outcome") or "?")
        color = OUTCOME_COLOR.get(outcome, OTHER_COLOR)
        begin = fmt_time(s.get("start"), date=True) if s.get("start") is not None else "before the log"
        tip = f"session {begin} - {session_end_label(s)}: {outcome}"
        if s.get("failure_stage"):
            tip += f", failed at {clean(s.get('failure_stage'), 40)}"
        reason = fmt_session_reason(s)
        if reason:
            tip += f", reason {reason}"
        opacity = ' fill-opacity="0.6"' if end is None or s.get("start") is None else ""
        parts.append(
            f'<rect class="session" x="{x0:.1f}" y="{y:.0f}" width="{w:.1f}" height="{h:.0f}" rx="2" fill="{color}"'
            f"{opacity}><title>{esc(tip)}</title></rect>"
        )
    return parts


def _svg(mac: str, st: Mapping[str, Any], axis: _Axis, names: FileNames) -> str:
    events = [e for e in (st.get("timeline") or []) if isinstance(e, Mapping)][:MAX_EVENTS_SVG]
    parts = [
        f'<svg class="timeline" data-station="{esc(mac, 60)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {SVG_W} {SVG_H}" width="{SVG_W}" height="{SVG_H}" role="img" '
        f'aria-label="timeline of {esc(mac, 60)}">',
        f"<title>timeline of {esc(mac, 60)}</title>",
        f'<line x1="{PAD_L}" y1="44" x2="{SVG_W - PAD_R}" y2="44" stroke="#c3c9d1" stroke-width="1"/>',
    ]
    if axis.timed:
        assert axis.lo is not None and axis.hi is not None
        parts += _session_bars(st, axis, 8, 16)
        timed = [(as_seconds(e.get("t")), e) for e in events]
        untimed = [e for t, e in timed if t is None]
        for t, e in timed:
            if t is not None:
                parts.append(_mark(axis.x(t), e, names))
        parts.append(f'<text x="{PAD_L}" y="60">{esc(fmt_time(axis.lo, date=True))}</text>')
        parts.append(f'<text x="{SVG_W - PAD_R}" y="60" text-anchor="end">{esc(fmt_time(axis.hi, date=True))}</text>')
        if axis.hi > axis.lo:
            parts.append(
                f'<text x="{SVG_W / 2:.0f}" y="60" text-anchor="middle">span {esc(fmt_duration(axis.lo, axis.hi))}'
                + (f", {len(untimed)} event(s) without time" if untimed else "")
                + "</text>"
            )
    else:
        n = len(events)
        for i, e in enumerate(events):
            x = PAD_L + (0.5 if n <= 1 else i / (n - 1)) * (SVG_W - PAD_L - PAD_R)
            parts.append(_mark(x, e, names))
        parts.append(
            f'<text x="{SVG_W / 2:.0f}" y="60" text-anchor="middle">'
            f"no timestamps: {n} events in log order</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _mark(x: float, e: Mapping[str, Any], names: FileNames, *, y0: float | None = None, y1: float = 44,
          r: float = 3) -> str:
    kind = clean(e.get("kind") or "", 40)
    cls = event_class(kind)
    tip = f"{fmt_time(e.get('t'), date=True)} {kind}: {clean(e.get('text') or '', 300)}"
    if e.get("file"):
        tip += f" ({names(e.get('file'))}:{clean(e.get('line'), 12)})"
    if y0 is None:
        y0, y1 = (30, 46) if cls in ("fail", "leave") else (32, 44)
    return (
        f'<g class="event {cls}"><title>{esc(tip)}</title>'
        f'<line x1="{x:.1f}" y1="{y0:.0f}" x2="{x:.1f}" y2="{y1:.0f}" stroke="{EVENT_COLOR[cls]}" stroke-width="2"/>'
        f'<circle cx="{x:.1f}" cy="{y0:.0f}" r="{r}" fill="{EVENT_COLOR[cls]}"/></g>'
    )


def _sessions_table(st: Mapping[str, Any]) -> list[str]:
    sessions = [s for s in (st.get("sessions") or []) if isinstance(s, Mapping)]
    if not sessions:
        return ['<p class="muted">No sessions.</p>']
    shown = sessions[-MAX_SESSIONS_TABLE:]
    first = len(sessions) - len(shown)
    out = ["<table><thead><tr><th>#</th><th>start</th><th>end</th><th>length</th><th>outcome</th>"
           "<th>failed at</th><th>reason</th></tr></thead><tbody>"]
    for i, s in enumerate(shown, start=first + 1):
        outcome = str(s.get("outcome") or "?")
        color = OUTCOME_TEXT_COLOR.get(outcome) or OUTCOME_COLOR.get(outcome, OTHER_COLOR)
        end = s.get("end")
        out.append(
            f"<tr><td>{i}</td><td>{esc(fmt_time(s.get('start'), date=True))}</td>"
            f"<td>{esc(session_end_label(s))}</td>"
            f"<td>{esc(fmt_duration(s.get('start'), end))}</td>"
            f'<td style="color:{color};font-weight:600">{esc(outcome, 30)}</td>'
            f"<td>{esc(s.get('failure_stage') or '', 60)}</td>"
            f"<td>{esc(fmt_session_reason(s))}</td></tr>"
        )
    out.append("</tbody></table>")
    if first:
        out.append(f'<p class="muted">{first} earlier sessions not shown.</p>')
    return out


def _events_list(st: Mapping[str, Any], names: FileNames, evidence: _Evidence) -> list[str]:
    events = [e for e in (st.get("timeline") or []) if isinstance(e, Mapping)]
    if not events:
        return []
    shown = events[-MAX_EVENTS_LIST:]
    out = [f"<details><summary>{len(events)} events"
           + (f" (last {len(shown)} shown)" if len(shown) < len(events) else "") + "</summary>",
           "<table><thead><tr><th>time</th><th>event</th><th>log line</th><th>where</th></tr></thead><tbody>"]
    for e in shown:
        where = esc(f"{names(e.get('file'))}:{clean(e.get('line'), 12)}") if e.get("file") else ""
        n = evidence.anchor(e.get("file"), e.get("line"))
        if n is not None and where:
            where = f'<a href="#ev-{n}">{where}</a>'
        out.append(
            f"<tr><td class=\"mono\">{esc(fmt_time(e.get('t')))}</td><td>{esc(e.get('kind') or '', 40)}</td>"
            f'<td class="text mono">{esc(e.get("text") or "", 400)}</td><td class="mono">{where}</td></tr>'
        )
    out.append("</tbody></table></details>")
    return out


# --------------------------------------------------------------------------------- metrics, inputs
def _metrics(metrics: object) -> list[str]:
    if not isinstance(metrics, Mapping) or not metrics:
        return []
    out = ["<h2>Metrics</h2>", '<table class="metrics"><tbody>']
    for key, value in list(metrics.items())[:100]:
        nested = isinstance(value, Mapping) and any(isinstance(v, Mapping) for v in value.values())
        if nested:
            assert isinstance(value, Mapping)
            rows = "".join(
                f'<tr><th class="mono">{esc(sub, 60)}</th><td>{esc(fmt_value(v))}</td></tr>'
                for sub, v in list(value.items())[:MAX_STATIONS]
            )
            out.append(f"<tr><th>{esc(key, 60)}</th><td><table><tbody>{rows}</tbody></table></td></tr>")
        else:
            shown = "n/a" if value == {} else fmt_value(value)
            out.append(f"<tr><th>{esc(key, 60)}</th><td>{esc(shown)}</td></tr>")
    out.append("</tbody></table>")
    return out


def _inputs(inputs: object) -> list[str]:
    items: list[tuple[str, object]] = []
    if isinstance(inputs, Mapping):
        items = [(str(k), v) for k, v in inputs.items()]
    elif isinstance(inputs, list):
        items = [(str(i.get("file", "?")) if isinstance(i, Mapping) else str(i), i) for i in inputs]
    if not items:
        return []
    out = ["<h2>Inputs</h2>", "<table><thead><tr><th>file</th><th>formats</th><th>lines</th><th>recognised</th>"
           "<th>notes</th></tr></thead><tbody>"]
    for name, info in items[:100]:
        fmts = lines = events = notes = ""
        if isinstance(info, Mapping):
            fmts = fmt_value(info.get("formats") or info.get("format") or "")
            lines = clean(info.get("lines", ""), 20)
            events = clean(info.get("events", ""), 20)
            notes = "; ".join(clean(n, 300) for n in (info.get("notes") or [])[:5]) if isinstance(
                info.get("notes"), list) else ""
        out.append(f'<tr><td class="mono">{esc(name, 300)}</td><td>{esc(fmts)}</td><td>{esc(lines)}</td>'
                   f"<td>{esc(events)}</td><td>{esc(notes)}</td></tr>")
    out.append("</tbody></table>")
    return out
