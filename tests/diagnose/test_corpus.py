"""Every published corpus case: expected kinds reported, not_expected absent, healthy stays quiet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from r2wifi.diagnose.analyze import diagnose
from r2wifi.toml import tomllib

from .helpers import kinds

SHARED = Path(os.environ.get("R2WIFI_SHARED", Path(__file__).resolve().parents[3] / "shared"))
CASES = sorted(p for p in (SHARED / "corpus" / "dev").glob("*") if (p / "labels.toml").is_file())


@pytest.mark.parametrize("case", CASES, ids=[c.name[:3] for c in CASES])
def test_corpus_case(case: Path) -> None:
    """The diagnosis of a corpus case matches its labels (expected / not_expected / healthy)."""
    labels = tomllib.loads((case / "labels.toml").read_text())
    meta = tomllib.loads((case / "case.toml").read_text())
    result = diagnose([str(case)])
    got = kinds(result)
    expected = set(labels["expected"])
    not_expected = set(labels["not_expected"])
    assert not (expected & not_expected), f"contradictory labels {sorted(expected & not_expected)}"
    assert expected <= got, f"missing {sorted(expected - got)}"
    assert not (not_expected & got), f"unexpected {sorted(not_expected & got)}"
    if "healthy" in meta.get("diagnosis", {}).get("expected", []):
        loud = [(f["kind"], f["severity"]) for f in result["findings"] if f["severity"] != "info"]
        assert not loud, f"healthy case has {loud}"
        # "unknown": nothing in the log was recognised (a vendor format), which is not a problem found
        assert result["verdict"]["status"] in ("ok", "unknown")


def test_corpus_is_present() -> None:
    """The shared corpus is where the tests expect it (otherwise the parametrized test is empty)."""
    assert len(CASES) >= 20
