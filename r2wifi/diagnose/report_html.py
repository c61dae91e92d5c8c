"""HTML report of a diagnosis result: ONE self-contained page (inline CSS and SVG, no scripts).

Theory of operation: :func:`render` turns the result dict of finding-kinds.md into a page that
reads top-down like the terminal report: verdict banner, findings by severity, one section per
station with an inline SVG timeline (sessions as bars coloured by outcome, events as marks whose
``<title>`` is the tooltip) and its sessions table, then metrics and inputs.

Rules:
* Logs are untrusted input: every string that reaches the page goes through :func:`esc`
  (``html.escape`` with quotes), in text and in attributes alike; nothing from the result is
  ever placed in a tag name, a URL, a style or a script.
* Self-contained: no external resources, no JavaScript (``<details>`` folds long lists). The
  page works offline and from a forum attachment.
* Exactly one ``<svg class="timeline">`` per station. The time axis is shared by all stations
  (so a mass disassociation lines up); when a station has no timestamps its events are placed
  in log order instead and the axis says so.
* Bounded: evidence, sessions, events and stations are capped as in the terminal report.
"""

from __future__ import annotations

import html
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
    fmt_evidence,
    fmt_session_reason,
    fmt_time,
    fmt_value,
    iter_stations,
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
    """The whole report page as one string."""
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
    names = FileNames(result)
    out += _findings(findings, names)
    out += _stations(stations, names)
    out += _metrics(result.get("metrics"))
    out += _inputs(result.get("inputs"))
    out.append("<footer>Generated by r2wifi diagnose. Times are UTC.</footer>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------- findings
def _findings(findings: Sequence[Mapping[str, Any]], names: FileNames) -> list[str]:
    out = [f"<h2>Findings ({len(findings)})</h2>"]
    if not findings:
        out.append('<p class="muted">No findings.</p>')
    for f in findings:
        sev = str(f.get("severity") or "info")
        sev_cls = sev if sev in SEVERITY_ORDER else "other"
        out.append(f'<section class="finding {sev_cls}">')
        out.append(
            f'<div class="head"><span class="badge {sev_cls}">{esc(sev.upper(), 12)}</span>'
            f'<code>{esc(f.get("code") or "-", 20)}</code> {esc(f.get("title") or f.get("kind") or "")}</div>'
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
        ev = fmt_evidence(f.get("evidence"), MAX_EVIDENCE * 2, names)
        if ev:
            out.append(f'<dt>evidence</dt><dd class="mono">{esc(ev)}</dd>')
        out.append("</dl></section>")
    return out


# --------------------------------------------------------------------------------- stations
class _Axis:
    """Maps seconds to SVG x over the range shared by every station."""

    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo = lo
        self.hi = hi

    @property
    def timed(self) -> bool:
        return self.lo is not None and self.hi is not None

    def x(self, t: float) -> float:
        assert self.lo is not None and self.hi is not None
        span = self.hi - self.lo
        frac = 0.5 if span <= 0 else (t - self.lo) / span
        return PAD_L + max(0.0, min(1.0, frac)) * (SVG_W - PAD_L - PAD_R)


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


def _stations(stations: list[tuple[str, Mapping[str, Any]]], names: FileNames) -> list[str]:
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
    all_ts = [t for _mac, st in stations[:MAX_STATIONS] for t in _times_of(st)]
    axis = _Axis(min(all_ts), max(all_ts)) if all_ts else _Axis(None, None)
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
        out += _events_list(st, names)
        out.append("</section>")
    if len(stations) > MAX_STATIONS:
        out.append(f'<p class="muted">{len(stations) - MAX_STATIONS} more stations not shown (see --json).</p>')
    return out


def _svg(mac: str, st: Mapping[str, Any], axis: _Axis, names: FileNames) -> str:
    sessions = [s for s in (st.get("sessions") or []) if isinstance(s, Mapping)]
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
        for s in sessions[-MAX_SESSIONS_TABLE:]:
            start = as_seconds(s.get("start"))
            end = as_seconds(s.get("end"))
            if start is None and end is None:
                continue
            open_ended = end is None or start is None
            start = axis.lo if start is None else start  # began before the log: bar from the left edge
            end_x = axis.x(end) if end is not None else SVG_W - PAD_R
            x0 = axis.x(start)
            w = max(3.0, end_x - x0)
            outcome = str(s.get("outcome") or "?")
            color = OUTCOME_COLOR.get(outcome, OTHER_COLOR)
            begin = fmt_time(s.get("start"), date=True) if s.get("start") is not None else "before the log"
            tip = f"session {begin} - {fmt_time(end) if end is not None else 'open'}: {outcome}"
            if s.get("failure_stage"):
                tip += f", failed at {clean(s.get('failure_stage'), 40)}"
            reason = fmt_session_reason(s)
            if reason:
                tip += f", reason {reason}"
            opacity = ' fill-opacity="0.6"' if open_ended else ""
            parts.append(
                f'<rect class="session" x="{x0:.1f}" y="8" width="{w:.1f}" height="16" rx="2" fill="{color}"'
                f"{opacity}><title>{esc(tip)}</title></rect>"
            )
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


def _mark(x: float, e: Mapping[str, Any], names: FileNames) -> str:
    kind = clean(e.get("kind") or "", 40)
    cls = event_class(kind)
    tip = f"{fmt_time(e.get('t'), date=True)} {kind}: {clean(e.get('text') or '', 300)}"
    if e.get("file"):
        tip += f" ({names(e.get('file'))}:{clean(e.get('line'), 12)})"
    y1, y2 = (30, 46) if cls in ("fail", "leave") else (32, 44)
    return (
        f'<g class="event {cls}"><title>{esc(tip)}</title>'
        f'<line x1="{x:.1f}" y1="{y1}" x2="{x:.1f}" y2="{y2}" stroke="{EVENT_COLOR[cls]}" stroke-width="2"/>'
        f'<circle cx="{x:.1f}" cy="{y1}" r="3" fill="{EVENT_COLOR[cls]}"/></g>'
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
            f"<td>{esc(fmt_time(end) if end is not None else 'open')}</td>"
            f"<td>{esc(fmt_duration(s.get('start'), end))}</td>"
            f'<td style="color:{color};font-weight:600">{esc(outcome, 30)}</td>'
            f"<td>{esc(s.get('failure_stage') or '', 60)}</td>"
            f"<td>{esc(fmt_session_reason(s))}</td></tr>"
        )
    out.append("</tbody></table>")
    if first:
        out.append(f'<p class="muted">{first} earlier sessions not shown.</p>')
    return out


def _events_list(st: Mapping[str, Any], names: FileNames) -> list[str]:
    events = [e for e in (st.get("timeline") or []) if isinstance(e, Mapping)]
    if not events:
        return []
    shown = events[-MAX_EVENTS_LIST:]
    out = [f"<details><summary>{len(events)} events"
           + (f" (last {len(shown)} shown)" if len(shown) < len(events) else "") + "</summary>",
           "<table><thead><tr><th>time</th><th>event</th><th>log line</th><th>where</th></tr></thead><tbody>"]
    for e in shown:
        where = f"{names(e.get('file'))}:{clean(e.get('line'), 12)}" if e.get("file") else ""
        out.append(
            f"<tr><td class=\"mono\">{esc(fmt_time(e.get('t')))}</td><td>{esc(e.get('kind') or '', 40)}</td>"
            f'<td class="text mono">{esc(e.get("text") or "", 400)}</td><td class="mono">{esc(where)}</td></tr>'
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
    out = ["<h2>Inputs</h2>", "<table><thead><tr><th>file</th><th>formats</th><th>lines</th></tr></thead><tbody>"]
    for name, info in items[:100]:
        fmts = lines = ""
        if isinstance(info, Mapping):
            fmts = fmt_value(info.get("formats") or info.get("format") or "")
            lines = clean(info.get("lines", ""), 20)
        out.append(f'<tr><td class="mono">{esc(name, 300)}</td><td>{esc(fmts)}</td><td>{esc(lines)}</td></tr>')
    out.append("</tbody></table>")
    return out
