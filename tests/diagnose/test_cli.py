"""`r2wifi diagnose` as a real process: JSON contract, text report, bad input, docs up to date."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from r2wifi.diagnose import catalogue

LOG = (
    "Configuration file: /etc/hostapd.conf\n"
    "wlan0: interface state UNINITIALIZED->ENABLED\n"
    "wlan0: STA 02:00:00:00:01:00 IEEE 802.11: associated (aid 1)\n"
    "wlan0: STA 02:00:00:00:01:00 WPA: invalid MIC in msg 2/4 of 4-Way Handshake\n"
    "wlan0: AP-STA-POSSIBLE-PSK-MISMATCH 02:00:00:00:01:00\n"
    "wlan0: STA 02:00:00:00:02:00 IEEE 802.11: associated (aid 2)\n"
    "wlan0: STA 02:00:00:00:02:00 WPA: pairwise key handshake completed (RSN)\n"
)


def test_json_contract(run_cli, tmp_path: Path) -> None:
    """--json prints one object with findings, stations, metrics, inputs and verdict."""
    p = tmp_path / "h.log"
    p.write_text(LOG)
    r = run_cli("diagnose", "--json", str(p))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"findings", "stations", "metrics", "inputs", "verdict"} <= set(out)
    assert out["verdict"]["status"] == "warning"
    f = next(f for f in out["findings"] if f["kind"] == "wrong_passphrase")
    assert {"kind", "code", "severity", "title", "stations", "params", "evidence", "fix"} <= set(f)
    assert f["evidence"][0] == {"file": str(p), "line": 4}
    assert {"successful_connects", "failed_connects", "time_to_connect_ms"} <= set(out["metrics"])
    assert out["inputs"][0]["formats"] and out["inputs"][0]["lines"] == 7
    st = out["stations"][0]
    assert {"mac", "sessions", "counts", "timeline"} <= set(st)


def test_stdin_and_station_filter(run_cli) -> None:
    """'-' reads stdin; --station keeps only that station and its findings."""
    r = run_cli("diagnose", "--json", "--station", "02:00:00:00:02:00", "-", input=LOG)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [s["mac"] for s in out["stations"]] == ["02:00:00:00:02:00"]
    assert all("02:00:00:00:02:00" in f["stations"] for f in out["findings"])


def test_text_report_and_html(run_cli, tmp_path: Path) -> None:
    """Without --json a human report is printed; --html writes a page."""
    p = tmp_path / "h.log"
    p.write_text(LOG)
    html = tmp_path / "r.html"
    r = run_cli("diagnose", "--html", str(html), str(p))
    assert r.returncode == 0, r.stderr
    assert "R2W106" in r.stdout
    assert html.read_text().lstrip().lower().startswith("<!doctype html")


def test_redact_hides_macs(run_cli, tmp_path: Path) -> None:
    """--redact: no input MAC appears in the JSON output."""
    p = tmp_path / "h.log"
    p.write_text(LOG.replace("02:00:00:00:01:00", "dc:56:7b:1d:3f:99"))
    r = run_cli("diagnose", "--json", "--redact", str(p))
    assert r.returncode == 0, r.stderr
    assert "dc:56:7b:1d:3f:99" not in r.stdout and "wrong_passphrase" in r.stdout


def test_missing_input_exit_2(run_cli, tmp_path: Path) -> None:
    """A missing input is one error line on stderr and exit code 2, no traceback."""
    r = run_cli("diagnose", str(tmp_path / "missing.log"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "missing.log" in r.stderr and "Traceback" not in r.stderr


def test_bad_station_argument_exit_2(run_cli, tmp_path: Path) -> None:
    """--station with something that is not a MAC is rejected with exit code 2."""
    p = tmp_path / "h.log"
    p.write_text(LOG)
    r = run_cli("diagnose", "--station", "phone", str(p))
    assert r.returncode == 2 and "--station" in r.stderr


def test_docs_are_generated_and_fresh(repo_root: Path) -> None:
    """docs/findings matches the catalogue (regenerate with python -m r2wifi.diagnose.catalogue --write)."""
    assert catalogue.stale(repo_root / "docs" / "findings") == []


def test_catalogue_check_detects_stale_docs(tmp_path: Path) -> None:
    """The --check mode fails on an edited file and passes after --write."""
    catalogue.write(tmp_path)
    (tmp_path / "R2W101.md").write_text("edited\n")
    rc = subprocess.run([sys.executable, "-m", "r2wifi.diagnose.catalogue", "--check", str(tmp_path)],
                        capture_output=True, text=True)
    assert rc.returncode == 1 and "R2W101.md" in rc.stderr
    catalogue.write(tmp_path)
    assert catalogue.stale(tmp_path) == []
