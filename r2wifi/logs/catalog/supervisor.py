"""r2wifi's own supervisor (``r2wifi run``) lines, as data: recoveries with their cause and outcome.

The supervisor (:mod:`r2wifi.service.supervisor`) writes each line twice: to stderr as ``r2wifi run: <text>``
(journald adds ``r2wifi[pid]: ``) and to its log file as ``<UTC ISO time>.<ms>Z <text>``
(:func:`r2wifi.logdir.iso_stamp`; older files have local time without an offset); the formats
below are the ``<text>`` part, so both shapes match. A recovery is a finding with its cause and time, and
a hostapd stop inside a recovery is the supervisor restarting it, not a clean shutdown.
"""

from __future__ import annotations

from r2wifi.logs.catalog.base import Message, Table

_SRC = "r2wifi/service/supervisor.py (Supervisor.recover / run)"

MESSAGES: tuple[Message, ...] = (
    Message("recovery_start", "recovery: {step} (reason: {reason_text})", "supervisor:recovery_start", "warning",
            _SRC),
    Message("recovery_ok", "recovery: {step} done in {seconds} s (verified)", "supervisor:recovery_ok", "info",
            _SRC),
    Message("recovery_ok_plain", "recovery: {step} done in {seconds} s", "supervisor:recovery_ok", "info",
            f"{_SRC} (before verification was reported)"),
    Message("recovery_failed", "recovery: {step} FAILED: {detail_text} in {seconds} s", "supervisor:recovery_failed",
            "error", _SRC),
    Message("degraded", "degraded: {reason_text}; the supervisor keeps trying", "supervisor:degraded", "error",
            _SRC),
    Message("giving_up", "giving up: {reason_text}", "supervisor:degraded", "error",
            f"{_SRC} (earlier versions)"),
)

TABLE = Table(MESSAGES)
BY_KEY = TABLE.by_key
KEYWORDS = TABLE.keywords


def classify(msg: str) -> tuple[Message, dict[str, str]] | None:
    return TABLE.classify(msg)
