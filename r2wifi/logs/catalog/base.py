"""What every message catalogue shares: the entry type, the format-to-regex rule, the combined matcher.

An entry is a fact about a program's log line: ``fmt`` is the message as the program prints it (the
``printf`` format with ``{name}`` fields in ``str.format`` syntax), ``means`` what it means for diagnosis,
``severity`` how bad it is on its own, ``source`` where it comes from (file, program version). A field
matches a run of non-blank characters; a field whose name ends in ``text`` matches any text. Runs of
blanks in the format match any (or no) blanks: pastes and builds differ in spacing.

``means`` is ``<class>`` or ``<class>:<what>``; the classes (the event each entry becomes, see
:func:`r2wifi.logs.events.catalogue_event`):

* ``fatal:<what>``: the daemon gives up starting (ends its run); ``startup:<what>``: a start-up error
  line (a cause); ``config:<what>``: a configuration error line (a cause);
* ``channel:<what>``: the channel / width / DFS set-up was refused;
* ``benign:<what>``: known-harmless; ``info:<what>``: worth keeping on a timeline, not a problem;
* ``driver:<what>``: a driver error; ``fwcmd:<what>``: a command to the firmware failed (an error code
  of -110 ETIMEDOUT / -62 ETIME makes it a command timeout); ``fwtimeout:<what>``: a firmware command
  timed out; ``crash:<what>``: the firmware crashed / was restarted; ``txstall:<what>``: a TX queue is
  stuck; ``sdio:<what>``: the SDIO bus failed; ``run_end``: the daemon's run ended (deinit);
  ``supervisor:<what>``: r2wifi's own supervisor (recovery start / ok / failed, degraded).

Matching: :class:`Table` compiles every entry of a catalogue into one alternation, searched once per
message after a cheap keyword prefilter (each entry's longest literal piece); the first entry (in
table order) that matches at the leftmost place wins. The tables run offline, never touch files.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cached_property

from r2wifi.logs.catalog.prefilter import any_of

SEVERITIES = ("error", "warning", "info")
CLASSES = ("fatal", "startup", "config", "channel", "benign", "info", "driver", "fwcmd", "fwtimeout", "crash",
           "txstall", "sdio", "run_end", "supervisor")


@dataclass(frozen=True)
class Message:
    key: str
    fmt: str
    means: str
    severity: str
    source: str

    @property
    def cls(self) -> str:
        return self.means.split(":", 1)[0]

    @property
    def what(self) -> str:
        return self.means.split(":", 1)[1] if ":" in self.means else self.means

    def render(self, **fields: object) -> str:
        return self.fmt.format(**fields)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(regex(self.fmt))


def fields_of(fmt: str) -> list[str]:
    return [f for _l, f, _s, _c in string.Formatter().parse(fmt) if f]


def regex(fmt: str, prefix: str = "") -> str:
    """A message format as an end-anchored regex (see the module header for the field rules)."""
    return body_regex(fmt, prefix) + r"\s*$"


def body_regex(fmt: str, prefix: str = "") -> str:
    """A message format as a regex, not anchored: literals escaped (blank runs match loosely), fields as
    groups (a run of non-blank characters; a field whose name ends in ``text`` matches any text)."""
    out: list[str] = []
    for literal, field, _spec, _conv in string.Formatter().parse(fmt):
        for i, chunk in enumerate(re.split(r"\s+", literal)):
            if i:
                out.append(r"\s*")
            out.append(re.escape(chunk))
        if field is not None:
            rx = r".*?" if field.endswith("text") else r"\S+?"
            out.append(f"(?P<{prefix}{field}>{rx})" if field.isidentifier() else rx)
    return "".join(out)


def keyword(fmt: str) -> str:
    """The longest literal piece of a format (blank-trimmed): the prefilter keyword of its entry."""
    pieces = [p.strip() for lit, _f, _s, _c in string.Formatter().parse(fmt) for p in re.split(r"\s{2,}", lit)]
    return max(pieces, key=len)


class Table:
    """One catalogue's entries, compiled into one prefilter and one combined regex."""

    def __init__(self, messages: tuple[Message, ...]) -> None:
        self.messages = messages
        self.by_key = {m.key: m for m in messages}
        self.keywords: tuple[str, ...] = tuple(dict.fromkeys(keyword(m.fmt) for m in messages))
        self.prefilter = any_of(self.keywords)
        parts: list[str] = []
        self._index: list[tuple[int, Message, str]] = []
        group = 0
        for i, m in enumerate(messages):
            rx = regex(m.fmt, prefix=f"m{i}_")
            group += 1
            self._index.append((group, m, f"m{i}_"))
            parts.append(f"({rx})")
            group += re.compile(rx).groups
        self._all = re.compile("|".join(parts))

    def classify(self, msg: str) -> tuple[Message, dict[str, str]] | None:
        """The entry a message is, with its fields; None when the catalogue does not know it."""
        if self.prefilter.search(msg) is None:
            return None
        hit = self._all.search(msg)
        if hit is None:
            return None
        for group, m, prefix in self._index:
            if hit.start(group) >= 0:
                n = len(prefix)
                return m, {k[n:]: v for k, v in hit.groupdict().items() if k.startswith(prefix) and v is not None}
        return None  # pragma: no cover - a match always has one entry group

    def check(self) -> list[str]:
        """Problems of the table (duplicate keys, unknown classes or severities, formats that do not compile)."""
        out: list[str] = []
        if len(self.by_key) != len(self.messages):
            out.append("duplicate keys")
        for m in self.messages:
            if m.cls not in CLASSES:
                out.append(f"{m.key}: unknown class {m.cls!r}")
            if m.severity not in SEVERITIES:
                out.append(f"{m.key}: unknown severity {m.severity!r}")
            if not m.source:
                out.append(f"{m.key}: no source")
            try:
                m.pattern  # noqa: B018 - compiles the format
            except re.error as err:
                out.append(f"{m.key}: {err}")
        return out
