"""Host side of a guest scenario: run tools/testbed/guest/scenarios.py in the VM, read its logs.

Theory of operation: :func:`run_scenario` asks the agent to run the guest runner for one scenario
with its output directory inside the VM's 9p work share, parses the JSON outcome (the last stdout
line) and returns a :class:`Scenario`; the logs are read on the host from that directory. Used by
the hwsim pytest fixtures, tools/gen_corpus.py and bench/testbed.py.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testbed.build import REPO
from testbed.vm import VM, GuestError, Result

GUEST_PY = str(REPO / ".venv" / "bin" / "python")
SCENARIOS_PY = str(REPO / "tools" / "testbed" / "guest" / "scenarios.py")


def labels(*, supervised: bool = True) -> dict[str, tuple[list[str], list[str]]]:
    """The by-construction labels of the fault scenarios (``LABELS`` of the guest runner, and with
    ``supervised`` also ``SUPERVISED_LABELS``: the same faults with the AP under ``r2wifi run``)."""
    mod = sys.modules.get("tb_guest_scenarios")
    if mod is None:
        spec = importlib.util.spec_from_file_location("tb_guest_scenarios", SCENARIOS_PY)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["tb_guest_scenarios"] = mod
        spec.loader.exec_module(mod)
    return {**mod.LABELS, **(mod.SUPERVISED_LABELS if supervised else {})}


@dataclass
class Scenario:
    """The outcome of one guest scenario; ``log(name)`` reads a log the guest wrote."""

    name: str
    outdir: Path
    result: dict[str, Any]
    run: Result
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.result.get("ok"))

    def log(self, name: str) -> str:
        if name not in self.texts:
            p = self.outdir / name
            self.texts[name] = p.read_text(errors="replace") if p.exists() else ""
        return self.texts[name]

    def explain(self) -> str:
        steps = "\n".join(f"  {'ok  ' if s['ok'] else 'FAIL'} {s['what']} ({s['secs']}s)"
                          for s in self.result.get("steps", []))
        return (f"scenario {self.name}: ok={self.ok} error={self.result.get('error')}\n{steps}\n"
                f"data={json.dumps(self.result.get('data', {}))[:1500]}\nguest stderr: {self.run.err[-1500:]}")


def run_scenario(vm: VM, name: str, *, timeout: float = 240, outdir: Path | None = None) -> Scenario:
    """Run scenario ``name`` in the guest; raises GuestError if it produced no outcome at all."""
    out = outdir or vm.workdir / name
    res = vm.run([GUEST_PY, SCENARIOS_PY, name, "--out", str(out)], timeout=timeout)
    lines = res.out.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else {}
    except ValueError:
        result = {}
    if not result:
        raise GuestError(f"scenario {name} gave no result (rc={res.rc}):\n{res.err[-3000:]}\n"
                         f"--- guest console tail ---\n{vm.console_tail()}")
    return Scenario(name, out, result, res)


#: scenario -> why ``r2wifi diagnose`` does not (yet) match its by-construction labels. Tests mark these
#: cases xfail(strict=True): when diagnose is fixed the XPASS fails and the entry must be removed.
DIAGNOSE_GAPS: dict[str, str] = {}


def has_kind(findings: list[dict[str, Any]], label: str) -> bool:
    """``kind`` or ``kind=N`` (N matched against the finding's params, e.g. reason or status)."""
    kind, _, value = label.partition("=")
    for f in findings:
        if f.get("kind") != kind:
            continue
        if not value:
            return True
        params = f.get("params") or {}
        if isinstance(params, dict) and any(str(v) == value for v in params.values()):
            return True
    return False


def label_mismatch(findings: list[dict[str, Any]], expected: list[str], not_expected: list[str]) -> str | None:
    """None when the findings carry every expected label and no unexpected one, else what is wrong."""
    missing = [k for k in expected if not has_kind(findings, k)]
    wrong = [k for k in not_expected if has_kind(findings, k)]
    if not missing and not wrong:
        return None
    got = sorted({f"{f.get('kind')}{f.get('params') or ''}" for f in findings})
    return f"missing {missing}, unexpected {wrong}; got {got}"


#: not-expected kinds that one unmistakable log line proves present anyway. Under TCG load a real
#: EAPOL-Key retransmission (or a real inactivity drop) can happen in any scenario; a "not expected" label is then dropped for
#: that log (the label must describe the log, not the plan).
EVIDENCE: dict[str, str] = {
    "handshake_timeout": r"WPA: EAPOL-Key timeout",
    # the same retransmission means an EAPOL-Key frame went unanswered in time: what missing_eapol_rx says
    "missing_eapol_rx": r"WPA: EAPOL-Key timeout",
    # after a retransmitted M3 the station's late 4/4 for the first copy carries the old replay counter
    "eapol_replay_counter_mismatch": r"WPA: EAPOL-Key timeout",
    # a station really idle past ap_max_inactivity under load (hostapd polled it and gave up)
    "station_inactivity": r"has been inactive too long|disassociated due to inactivity",
}


def labels_for_logs(name: str, texts: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(expected, not_expected, dropped) for scenario ``name`` given the text of its logs."""
    import re

    expected, not_expected = labels()[name]
    joined = "\n".join(texts.values())
    dropped = [k for k in not_expected if k in EVIDENCE and re.search(EVIDENCE[k], joined)]
    return list(expected), [k for k in not_expected if k not in dropped], dropped
