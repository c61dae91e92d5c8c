"""The generated hwsim corpus (tools/gen_corpus.py) on the host: well-formed, and diagnosed right.

Runs everywhere (no VM, no root): the cases are committed under tests/data/generated_corpus/.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from r2wifi.toml import tomllib

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
from testbed.scenario import DIAGNOSE_GAPS, label_mismatch  # noqa: E402

CORPUS = REPO / "tests" / "data" / "generated_corpus"
CASES = sorted(p for p in CORPUS.glob("*") if (p / "labels.toml").exists()) if CORPUS.exists() else []
IDS = [p.name for p in CASES]
DIAG_CASES = [pytest.param(p, id=p.name, marks=[pytest.mark.xfail(strict=True, reason=DIAGNOSE_GAPS[p.name])]
                           if p.name in DIAGNOSE_GAPS else []) for p in CASES]


def labels(case: Path) -> tuple[list[str], list[str]]:
    data = tomllib.loads((case / "labels.toml").read_text())
    return list(data["expected"]), list(data.get("not_expected", []))


def known_kinds(shared: Path) -> set[str]:
    text = (shared / "spec" / "finding-kinds.md").read_text()
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, re.M))


def test_corpus_exists() -> None:
    """tools/gen_corpus.py has produced at least the baseline and five fault cases."""
    assert "baseline" in IDS and len(CASES) >= 6, f"generated cases: {IDS}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_is_well_formed(case: Path, shared_dir: Path) -> None:
    """Each case has its logs, labels from the finding-kinds table, a case.toml, and stays < 200 KB."""
    expected, not_expected = labels(case)
    kinds = known_kinds(shared_dir)
    for label in expected + not_expected:
        assert label.partition("=")[0] in kinds, f"{case.name}: unknown kind {label!r}"
    assert not set(expected) & set(not_expected)
    meta = tomllib.loads((case / "case.toml").read_text())
    files = meta["logs"]["files"]
    assert "hostapd.log" in files and all((case / f).exists() for f in files)
    size = sum(p.stat().st_size for p in case.iterdir())
    assert size < 200_000, f"{case.name} is {size} bytes"
    for f in files:
        text = (case / f).read_text()
        assert "correct-horse-77" not in text and "wrong-passphrase-9" not in text


@pytest.mark.parametrize("case", DIAG_CASES)
def test_diagnose_reports_the_labels(case: Path, run_cli: Callable[..., Any]) -> None:
    """`r2wifi diagnose --json` on a generated case reports every expected kind and none of the others."""
    if importlib.util.find_spec("r2wifi.diagnose.analyze") is None:
        pytest.skip("r2wifi.diagnose.analyze does not exist yet (diagnose engineer's part)")
    files = tomllib.loads((case / "case.toml").read_text())["logs"]["files"]
    proc = run_cli("diagnose", *[str(case / f) for f in files], "--json")
    assert proc.returncode in (0, 1), proc.stderr  # 1: a finding of severity error (diagnose --fail-on)
    findings = json.loads(proc.stdout)["findings"]
    problem = label_mismatch(findings, *labels(case))
    assert problem is None, f"{case.name}: {problem}"
