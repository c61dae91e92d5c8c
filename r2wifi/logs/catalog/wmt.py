"""The MediaTek connectivity driver's log lines (WMT / STP / BTIF / wlan_gen2) and their verdicts.

The one home of every WMT message r2wifi knows (driver-interface.md §7, corrected by §11): the simulator
renders the lines it prints from this table (:func:`render`), ``diagnose``, ``doctor`` and the supervisor
classify kernel lines with :func:`classify`. Adding a message means adding one :class:`WmtMessage` here.

Fields of an entry:

* ``key``: stable identifier (used by the simulator, the rules and the tests).
* ``fmt``: the message as the driver prints it after the kernel's own prefix, with ``{name}`` fields
  (``str.format`` syntax) for the variable parts. :func:`classify` turns it into a pattern where each
  field matches a run of non-blank characters (``{name:d}`` style is not used: fields are text).
* ``prio``: the printk level the driver uses (3 err, 4 warning, 6 info, 7 debug); the ``[E]/[W]/[I]/[D]``
  tag inside the line is part of ``fmt``.
* ``meaning``: the marker / event name diagnosis keys on (e.g. ``"launcher_missing"``,
  ``"benign:wmt_pinctrl"``, ``"stp_mode_set"``).
* ``verdict``: ``"success"`` (a bring-up milestone), ``"benign"`` (never a problem alone), ``"failure"``,
  ``"info"``, or ``"context"`` (benign or failure depending on the lines around it: the rule that decides
  names the key).
* ``source``: vendor source file and function, and the spec section that states the fact.
* ``sim``: True when only the simulator prints it (marked as the simulator's own line).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from typing import Literal

Verdict = Literal["success", "benign", "failure", "info", "context"]

KERN_ERR, KERN_WARNING, KERN_INFO, KERN_DEBUG = 3, 4, 6, 7


@dataclass(frozen=True)
class WmtMessage:
    key: str
    fmt: str
    prio: int
    meaning: str
    verdict: Verdict
    source: str
    sim: bool = False

    def render(self, **fields: object) -> str:
        return self.fmt.format(**fields)

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.fmt)


MESSAGES: tuple[WmtMessage, ...] = (
    WmtMessage(
        "common_init_failed",
        "[WCN-MOD-INIT][E]do_connectivity_driver_init({line}):do common driver init failed, ret:{ret}",
        KERN_ERR, "wmt_common_init_failed", "context",
        "common/conn_drv_init.c:do_connectivity_driver_init; driver-interface.md §7.3, §11.2 "
        "(ret:-1 from the compiled-out BT part is benign; another code with 'abort connectivity' is a failure)",
    ),
)

BY_KEY: dict[str, WmtMessage] = {m.key: m for m in MESSAGES}


def render(key: str, **fields: object) -> str:
    """The line the driver prints for message ``key`` with ``fields`` filled in."""
    return BY_KEY[key].render(**fields)


@cache
def _compile(fmt: str) -> re.Pattern[str]:
    out: list[str] = []
    for literal, field, _spec, _conv in string.Formatter().parse(fmt):
        out.append(re.escape(literal))
        if field is not None:
            out.append(f"(?P<{field}>\\S+?)" if field.isidentifier() else r"\S+?")
    return re.compile("".join(out) + r"\s*$")


def classify(msg: str) -> tuple[WmtMessage, dict[str, str]] | None:
    """The catalogue entry a kernel message (prefix stripped) is, with its fields; None when unknown."""
    for m in MESSAGES:
        hit = m.pattern.search(msg)
        if hit:
            return m, hit.groupdict()
    return None
