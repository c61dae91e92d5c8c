"""Shared helpers for the diagnose tests: run the analysis over an inline excerpt."""

from __future__ import annotations

import io
import textwrap

from r2wifi.diagnose.analyze import diagnose


def run_text(text: str) -> dict[str, object]:
    """Diagnose an inline log excerpt (dedented) read from stdin."""
    return diagnose(["-"], stdin=io.StringIO(textwrap.dedent(text).lstrip("\n")))


def kinds(result: dict[str, object]) -> set[str]:
    """Finding kinds of a result, with deauth_reason=N / assoc_reject=N forms added."""
    out: set[str] = set()
    for f in result["findings"]:  # type: ignore[attr-defined]
        out.add(f["kind"])
        if f["kind"] == "deauth_reason":
            out.add(f"deauth_reason={f['params']['reason']}")
        if f["kind"] == "assoc_reject" and "status" in f["params"]:
            out.add(f"assoc_reject={f['params']['status']}")
    return out


def finding(result: dict[str, object], kind: str) -> dict[str, object]:
    """The first finding of ``kind`` (fails the test when absent)."""
    for f in result["findings"]:  # type: ignore[attr-defined]
        if f["kind"] == kind:
            return f  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind} finding in {sorted(kinds(result))}")
