"""Terminal report of a diagnosis result (the dict of finding-kinds.md), rendered with rich.

Theory of operation: the report reads top-down the way a person triages: the verdict first,
then the findings by severity (error, warning, info; code, title, stations, why, the fix and
evidence ``file:line``), then each station's sessions and recent timeline, then metrics and
inputs. :func:`render` only formats; every fact comes from the result dict.

Rules:
* Log text is untrusted: it is never interpreted as rich markup (everything is built from
  ``rich.text.Text`` objects) and control characters are made visible.
* Readable without colour (piped to a file: plain text, no escape codes) and at 80 columns.
* Bounded: evidence, stations, sessions and timeline entries are capped with a "... N more"
  line, whatever the size of the result.
* rich is imported inside :func:`render` only (``r2wifi --help`` must start fast).
* The helpers (``iter_stations``, ``fmt_time`` ...) are shared with ``report_html``.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SEVERITY_STYLE = {"error": "bold white on red", "warning": "bold black on yellow", "info": "bold white on blue"}
STATUS_STYLE = {"ok": "bold green", "warning": "bold yellow", "error": "bold red", "unknown": "bold magenta"}
MAX_NOTES = 20
OUTCOME_STYLE = {
    "connected": "green",
    "open": "green",
    "ap_stopped": "magenta",
    "ap_restart": "magenta",
    "ok": "green",
    "left": "cyan",
    "completed": "green",
    "failed": "red",
    "rejected": "red",
    "timeout": "red",
    "kicked": "yellow",
    "dropped": "yellow",
}
MAX_EVIDENCE = 6
MAX_STATIONS = 50
MAX_SESSIONS = 20
MAX_TIMELINE = 25
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WRAPPER_RE = re.compile(
    r"^(?:"
    r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} [a-z]+\.[a-z]+ "  # OpenWrt logread
    r"|[A-Za-z\u00c0-\u024f]{3,9}\.? [ \d]?\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ "  # syslog / journald + host
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)? \S+ "  # RFC3339 + host
    r"|\d{9,10}\.\d{3,6}: "  # hostapd -t
    r")"
)
_EPOCH_MIN = 1e8  # seconds: below this a time is relative / kernel uptime, not wall clock


# ------------------------------------------------------------------------- shared helpers
def clean(value: object, limit: int = 400) -> str:
    """One printable line of at most ``limit`` characters (control characters shown as ``\\xNN``)."""
    s = "" if value is None else str(value)
    s = s.replace("\r\n", "\n").replace("\n", " ").replace("\t", " ")
    s = _CTRL_RE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", s)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def strip_wrapper(text: str) -> str:
    """Drop the leading timestamp (and syslog host) of a raw log line shown next to its time."""
    return _WRAPPER_RE.sub("", text, count=1)


def iter_stations(result: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(mac, station dict) pairs, whether ``stations`` is a dict keyed by MAC or a list."""
    stations = result.get("stations") or {}
    if isinstance(stations, Mapping):
        for mac, st in stations.items():
            yield str(mac), st if isinstance(st, Mapping) else {}
    elif isinstance(stations, list):
        for i, st in enumerate(stations):
            if isinstance(st, Mapping):
                mac = st.get("mac") or st.get("station") or st.get("id") or f"station {i + 1}"
                yield str(mac), st


def sorted_findings(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Findings ordered by severity (error, warning, info), stable within a severity."""
    findings = [f for f in (result.get("findings") or []) if isinstance(f, Mapping)]
    return sorted(findings, key=lambda f: SEVERITY_ORDER.get(str(f.get("severity")), 3))


def as_seconds(t: object) -> float | None:
    if isinstance(t, bool):
        return None
    if isinstance(t, int | float):
        return float(t) if t == t and abs(t) != float("inf") else None
    return None


def fmt_time(t: object, *, date: bool = False) -> str:
    """A time for people: wall clock (UTC) for epoch seconds, ``+12.345s`` for relative/uptime."""
    if t is None or t == "":
        return "?"
    sec = as_seconds(t)
    if sec is None:
        return clean(t, 40)
    if sec >= _EPOCH_MIN:
        try:
            d = _dt.datetime.fromtimestamp(sec, tz=_dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return f"{sec:.3f}"
        return d.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S") + f".{d.microsecond // 1000:03d}"
    return f"+{sec:.3f}s"


def fmt_duration(start: object, end: object) -> str:
    a, b = as_seconds(start), as_seconds(end)
    if a is None or b is None or b < a:
        return ""
    d = b - a
    if d < 60:
        return f"{d:.1f}s"
    if d < 3600:
        return f"{int(d // 60)}m{int(d % 60):02d}s"
    return f"{int(d // 3600)}h{int(d % 3600 // 60):02d}m"


def fmt_reason(reason: object) -> str:
    """A disconnect reason given as a code, a string or ``{code, text}``."""
    if reason is None or reason == "":
        return ""
    if isinstance(reason, Mapping):
        code = reason.get("code", reason.get("reason"))
        text = reason.get("text") or reason.get("name") or reason.get("meaning") or ""
        by = reason.get("by")
        s = " ".join(p for p in (str(code) if code is not None else "", f"({text})" if text else "") if p)
        return clean(f"{s} by {by}" if by else s, 80)
    return clean(reason, 80)


class FileNames:
    """Short display names for input files: the common directory of all inputs is dropped."""

    def __init__(self, result: Mapping[str, Any]) -> None:
        names: set[str] = set()
        inputs = result.get("inputs")
        if isinstance(inputs, Mapping):
            names.update(str(k) for k in inputs)
        elif isinstance(inputs, list):
            names.update(str(i.get("file")) for i in inputs if isinstance(i, Mapping) and i.get("file"))
        for f in result.get("findings") or []:
            if isinstance(f, Mapping) and isinstance(f.get("evidence"), list):
                names.update(str(e.get("file")) for e in f["evidence"] if isinstance(e, Mapping) and e.get("file"))
        for _mac, st in iter_stations(result):
            for e in st.get("timeline") or []:
                if isinstance(e, Mapping) and e.get("file"):
                    names.add(str(e.get("file")))
        dirs = {n.rsplit("/", 1)[0] if "/" in n else "" for n in names}
        self.prefix = ""
        if dirs and "" not in dirs and len({d.startswith("/") for d in dirs}) == 1:
            try:
                common = os.path.commonpath(sorted(dirs))
            except ValueError:
                common = ""
            if common and common != "/":
                self.prefix = common.rstrip("/") + "/"

    def __call__(self, name: object) -> str:
        s = clean(name, 200)
        if self.prefix and s.startswith(self.prefix):
            s = s[len(self.prefix) :]
        return s


def session_is_open(s: Mapping[str, Any]) -> bool:
    """Still open at the end of the log: no end time and the outcome says ``open``.

    A session that ended on a line without a timestamp has no end time but another outcome.
    """
    return s.get("end") is None and str(s.get("outcome") or "open") == "open"


def session_end_label(s: Mapping[str, Any]) -> str:
    """The end of a session for people: its time, ``open``, or ``ended (no time)``."""
    end = s.get("end")
    if end is not None:
        return fmt_time(end)
    return "open" if session_is_open(s) else "ended (no time)"


def fmt_session_reason(s: Mapping[str, Any]) -> str:
    """The reason a session ended: code, decoded text, who sent it, inactivity kick/cleanup."""
    reason = s.get("disconnect_reason")
    text = s.get("disconnect_reason_text")
    out = fmt_reason(reason)
    if text and not isinstance(reason, Mapping):
        out = f"{out} ({clean(text, 60)})" if out else clean(text, 60)
    if s.get("disconnected_by"):
        out += f" by {clean(s.get('disconnected_by'), 20)}"
    if s.get("inactivity"):
        out += f" [inactivity {clean(s.get('inactivity'), 20)}]"
    return out.strip()


def fmt_evidence(evidence: object, limit: int = MAX_EVIDENCE, names: FileNames | None = None) -> str:
    """``file:line, :line2 (+N more)``: consecutive evidence in the same file shares the name."""
    items = [e for e in (evidence or []) if isinstance(e, Mapping)] if isinstance(evidence, list) else []
    parts: list[str] = []
    last = None
    for e in items[:limit]:
        f, line = (names(e.get("file", "?")) if names else clean(e.get("file", "?"), 120)), e.get("line")
        loc = f":{line}" if line is not None else ""
        parts.append(f"{loc}" if f == last and loc else f"{f}{loc}")
        last = f
    if len(items) > limit:
        parts.append(f"(+{len(items) - limit} more)")
    return ", ".join(parts)


def fmt_value(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, Mapping):
        return ", ".join(f"{clean(k, 60)}: {fmt_value(x)}" for k, x in v.items()) if v else "none"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        if not v:
            return "none"
        return ", ".join(fmt_value(x) for x in v[:20]) + (" …" if len(v) > 20 else "")
    return clean(v, 120)


def station_summary(st: Mapping[str, Any]) -> str:
    sessions = [s for s in (st.get("sessions") or []) if isinstance(s, Mapping)]
    outcomes: dict[str, int] = {}
    for s in sessions:
        key = str(s.get("outcome") or "unknown")
        outcomes[key] = outcomes.get(key, 0) + 1
    parts = [f"{len(sessions)} session{'s' if len(sessions) != 1 else ''}"]
    parts += [f"{n} {k}" for k, n in outcomes.items()]
    return ", ".join(parts)


# ------------------------------------------------------------------------- rendering
def render(result: Mapping[str, Any], file: TextIO, *, color: bool | None = None, width: int | None = None) -> None:
    """Write the report of ``result`` to ``file``.

    ``color``: True forces ANSI colour, False forbids it, None colours only a terminal.
    ``width``: columns (default: the terminal's width on a terminal, else 80).
    """
    import io

    from rich.console import Console

    isatty = False
    try:
        isatty = file.isatty()
    except (AttributeError, ValueError):
        pass
    use_color = isatty if color is None else color
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=use_color,
        no_color=not use_color,
        color_system="standard" if use_color else None,
        width=width or (_terminal_width() if isatty else 80),
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )
    _verdict(console, result)
    _notes(console, result)
    _findings(console, result)
    _stations(console, result)
    _metrics(console, result)
    _inputs(console, result)
    text = buf.getvalue()
    if not use_color:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    file.write(text)
    file.flush()


def _terminal_width() -> int:
    import shutil

    return max(40, min(shutil.get_terminal_size((80, 24)).columns, 160))


def _heading(console: Console, title: str) -> None:
    from rich.text import Text

    console.print()
    console.print(Text(title, style="bold underline"))


def _verdict(console: Console, result: Mapping[str, Any]) -> None:
    from rich.text import Text

    verdict = result.get("verdict") if isinstance(result.get("verdict"), Mapping) else {}
    assert isinstance(verdict, Mapping)
    status = str(verdict.get("status") or "unknown")
    t = Text("Verdict: ", style="bold")
    t.append(status.upper(), style=STATUS_STYLE.get(status, "bold"))
    summary = clean(verdict.get("summary") or "")
    if summary:
        t.append(" - " + summary)
    console.print(t)
    findings = sorted_findings(result)
    counts = {sev: sum(1 for f in findings if f.get("severity") == sev) for sev in SEVERITY_ORDER}
    n_sta = sum(1 for _ in iter_stations(result))
    console.print(
        Text(
            f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info; "
            f"{n_sta} station(s)",
            style="dim",
        )
    )


def notes_of(result: Mapping[str, Any]) -> list[str]:
    """The result's one-line notes (problems met reading the inputs), capped at :data:`MAX_NOTES`."""
    notes = result.get("notes")
    if not isinstance(notes, list):
        return []
    return [clean(n, 300) for n in notes[:MAX_NOTES]]


def _notes(console: Console, result: Mapping[str, Any]) -> None:
    from rich.text import Text

    notes = notes_of(result)
    for n in notes:
        console.print(Text("note: " + n, style="yellow"))
    total = len(result.get("notes") or [])
    if total > len(notes):
        console.print(Text(f"({total - len(notes)} more notes; use --json)", style="dim"))


def _grid() -> Any:
    """A borderless two-or-more-column grid; wrapped text keeps a hanging indent."""
    from rich.table import Table

    return Table.grid(padding=(0, 1), pad_edge=False, expand=False)


def _indent(renderable: Any, n: int) -> Any:
    from rich.padding import Padding

    return Padding(renderable, (0, 0, 0, n), expand=False)


def _findings(console: Console, result: Mapping[str, Any]) -> None:
    from rich.text import Text

    findings = sorted_findings(result)
    names = FileNames(result)
    _heading(console, f"Findings ({len(findings)})")
    if not findings:
        console.print("No findings.")
        return
    for f in findings:
        sev = str(f.get("severity") or "info")
        head = _grid()
        head.add_column(no_wrap=True)
        head.add_column(overflow="fold")
        badge = Text(f" {sev.upper():<7} ", style=SEVERITY_STYLE.get(sev, "bold"))
        title = Text(clean(f.get("code") or "-", 20) + " ", style="bold")
        title.append(clean(f.get("title") or f.get("kind") or ""))
        head.add_row(badge, title)
        console.print()
        console.print(head)
        body = _grid()
        body.add_column(no_wrap=True, style="dim")
        body.add_column(overflow="fold")
        kind = clean(f.get("kind") or "", 60)
        params = f.get("params") if isinstance(f.get("params"), Mapping) else {}
        assert isinstance(params, Mapping)
        if params:
            kind += " (" + ", ".join(f"{k}={clean(fmt_value(v), 80)}" for k, v in params.items()) + ")"
        body.add_row("kind:", Text(kind))
        stations = [clean(s, 40) for s in (f.get("stations") or [])]
        if stations:
            shown = ", ".join(stations[:8]) + (f" (+{len(stations) - 8} more)" if len(stations) > 8 else "")
            body.add_row("stations:", Text(shown))
        if f.get("explanation"):
            body.add_row("why:", Text(clean(f.get("explanation"), 1000)))
        if f.get("fix"):
            body.add_row("fix:", Text(clean(f.get("fix"), 1000), style="bold"))
        ev = fmt_evidence(f.get("evidence"), names=names)
        if ev:
            body.add_row("evidence:", Text(ev, style="dim"))
        console.print(_indent(body, 3))


def _stations(console: Console, result: Mapping[str, Any]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    stations = list(iter_stations(result))
    names = FileNames(result)
    _heading(console, f"Stations ({len(stations)})")
    if not stations:
        console.print("No station activity in the logs.")
        return
    for mac, st in stations[:MAX_STATIONS]:
        console.print()
        head = Text(clean(mac, 40), style="bold")
        head.append("  " + station_summary(st), style="dim")
        console.print(head)
        counts = st.get("counts")
        if isinstance(counts, Mapping) and counts:
            shown_counts = ", ".join(f"{k} {fmt_value(v)}" for k, v in counts.items() if v not in (None, {}, [], ""))
            console.print(_indent(Text("counts: " + shown_counts), 2))
        sessions = [s for s in (st.get("sessions") or []) if isinstance(s, Mapping)]
        if sessions:
            day = _day(sessions[0].get("start"))
            table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), expand=False)
            table.add_column("#", justify="right", no_wrap=True)
            table.add_column("start" + (f" ({day})" if day else ""), no_wrap=True)
            table.add_column("length", justify="right", no_wrap=True)
            table.add_column("outcome", no_wrap=True)
            table.add_column("failed at", overflow="fold", max_width=16)
            table.add_column("reason", overflow="fold", max_width=34)
            shown = sessions[-MAX_SESSIONS:]
            first = len(sessions) - len(shown)
            for i, s in enumerate(shown, start=first + 1):
                outcome = clean(s.get("outcome") or "?", 20)
                end = s.get("end")
                length = fmt_duration(s.get("start"), end) if end is not None else (
                    "open" if session_is_open(s) else "ended")
                table.add_row(
                    str(i),
                    fmt_time(s.get("start")),
                    length,
                    Text(outcome, style=OUTCOME_STYLE.get(outcome, "")),
                    clean(s.get("failure_stage") or "", 40),
                    fmt_session_reason(s),
                )
            if first:
                console.print(_indent(Text(f"({first} earlier sessions not shown)", style="dim"), 2))
            console.print(_indent(table, 2))
        timeline = [e for e in (st.get("timeline") or []) if isinstance(e, Mapping)]
        if timeline:
            shown_tl = timeline[-MAX_TIMELINE:]
            label = "timeline"
            if len(timeline) > len(shown_tl):
                label += f" (last {len(shown_tl)} of {len(timeline)} events)"
            console.print(_indent(Text(label + ":", style="dim"), 2))
            grid = _grid()
            grid.add_column(no_wrap=True, justify="right", style="dim")
            grid.add_column(no_wrap=True, style="cyan", max_width=20)
            grid.add_column(overflow="fold")
            for e in shown_tl:
                text = Text(clean(strip_wrapper(str(e.get("text") or "")), 300))
                loc = names(e.get("file") or "")
                if loc:
                    text.append(f"  {loc}:{e.get('line', '?')}", style="dim")
                grid.add_row(fmt_time(e.get("t")), clean(e.get("kind") or "", 20), text)
            console.print(_indent(grid, 4))
    if len(stations) > MAX_STATIONS:
        console.print(Text(f"({len(stations) - MAX_STATIONS} more stations not shown; use --json)", style="dim"))


def _day(t: object) -> str:
    sec = as_seconds(t)
    if sec is None or sec < _EPOCH_MIN:
        return ""
    try:
        return _dt.datetime.fromtimestamp(sec, tz=_dt.timezone.utc).strftime("%Y-%m-%d UTC")
    except (OverflowError, OSError, ValueError):
        return ""


def _metrics(console: Console, result: Mapping[str, Any]) -> None:
    from rich.text import Text

    metrics = result.get("metrics")
    if not isinstance(metrics, Mapping) or not metrics:
        return
    _heading(console, "Metrics")
    width = min(32, max(len(str(k)) for k in metrics) + 1)
    grid = _grid()
    grid.add_column(no_wrap=True, style="dim", min_width=width + 1)
    grid.add_column(overflow="fold")
    for key, value in list(metrics.items())[:100]:
        nested = isinstance(value, Mapping) and any(isinstance(v, Mapping) for v in value.values())
        if not nested:
            grid.add_row(clean(key, 40) + ":", Text("n/a" if value == {} else fmt_value(value)))
            continue
        assert isinstance(value, Mapping)
        grid.add_row(clean(key, 40) + ":", Text(""))
        for sub, v in list(value.items())[:MAX_STATIONS]:
            grid.add_row(Text("  " + clean(sub, 40)), Text(fmt_value(v)))
    console.print(_indent(grid, 2))


def _inputs(console: Console, result: Mapping[str, Any]) -> None:
    from rich.text import Text

    inputs = result.get("inputs")
    items: list[tuple[str, Any]] = []
    if isinstance(inputs, Mapping):
        items = [(str(k), v) for k, v in inputs.items()]
    elif isinstance(inputs, list):
        items = [(str(i.get("file", "?")) if isinstance(i, Mapping) else str(i), i) for i in inputs]
    if not items:
        return
    names = FileNames(result)
    _heading(console, "Inputs" + (f" (in {names.prefix})" if names.prefix else ""))
    for name, info in items[:50]:
        t = Text(f"  {names(name)}")
        if isinstance(info, Mapping):
            fmts = info.get("formats") or info.get("format")
            lines = info.get("lines")
            extra = []
            if fmts:
                extra.append(fmt_value(fmts))
            if lines is not None:
                extra.append(f"{lines} lines")
            if extra:
                t.append("  (" + "; ".join(extra) + ")", style="dim")
        console.print(t)
    if len(items) > 50:
        console.print(Text(f"  ({len(items) - 50} more inputs not shown)", style="dim"))
