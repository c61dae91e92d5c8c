"""`r2wifi diagnose` as a real process: JSON contract, text report, bad input, docs up to date."""

from __future__ import annotations

import json
import os
import re
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


ERROR_LOG = "wlan0: STA 02:00:00:00:01:00 IEEE 802.11: associated (aid 1)\nnl80211 driver initialization failed.\n"


def test_exit_code_follows_the_verdict_and_fail_on(run_cli, tmp_path: Path) -> None:
    """0 below --fail-on, 1 at or above it (default error); the report is printed either way."""
    warn = tmp_path / "warn.log"
    warn.write_text(LOG)  # a wrong passphrase: warning
    err = tmp_path / "err.log"
    err.write_text(ERROR_LOG)
    sev = {p: {f["severity"] for f in json.loads(run_cli("diagnose", "--json", str(p)).stdout)["findings"]}
           for p in (warn, err)}
    assert "error" not in sev[warn] and "warning" in sev[warn] and "error" in sev[err]
    assert run_cli("diagnose", "--json", str(warn)).returncode == 0
    assert run_cli("diagnose", "--json", "--fail-on", "warning", str(warn)).returncode == 1
    r = run_cli("diagnose", str(err))
    assert r.returncode == 1 and "Verdict: ERROR" in r.stdout and r.stderr == ""


def test_nothing_recognised_is_verdict_unknown_and_exit_2(run_cli, tmp_path: Path) -> None:
    """A file with no log line r2wifi reads: the JSON says unknown, stderr one line, exit 2."""
    p = tmp_path / "notes.txt"
    p.write_text("shopping list\nmilk\n")
    r = run_cli("diagnose", "--json", str(p))
    assert r.returncode == 2
    assert json.loads(r.stdout)["verdict"]["status"] == "unknown"
    assert r.stderr.count("\n") == 1 and "verdict unknown" in r.stderr and "notes.txt" in r.stderr


def test_fifo_and_bad_size_are_one_line_errors(run_cli, tmp_path: Path) -> None:
    """A FIFO named directly and a bad --max-decompressed: exit 2, one line, no hang, no traceback."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for args in ((str(fifo),), ("--max-decompressed", "lots", str(fifo))):
        r = run_cli("diagnose", *args, timeout=60)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert "is a FIFO" in run_cli("diagnose", str(fifo)).stderr


def test_help_documents_verdicts_and_exit_codes(run_cli) -> None:
    """--help names the unknown verdict, the exit codes and --fail-on."""
    out = " ".join(run_cli("diagnose", "--help").stdout.split())
    for needle in ("unknown (nothing in the input is recognised", "--fail-on", "2 bad usage or bad input", ".zst"):
        assert needle in out, needle


def test_html_report_cites_lines_and_redact_hides_home_paths(run_cli, tmp_path: Path) -> None:
    """--html shows the cited log lines in its evidence section; --redact hides /home/<user> in every path."""
    home = tmp_path / "home" / "alice" / "logs"
    home.mkdir(parents=True)
    p = home / "h.log"
    p.write_text(LOG)
    html = tmp_path / "r.html"
    r = run_cli("diagnose", "--json", "--redact", "--html", str(html), str(p))
    assert r.returncode == 0, r.stderr
    page = html.read_text()
    assert "alice" not in page and "alice" not in r.stdout
    assert "/home/user-1/logs/h.log" in r.stdout
    assert re.search(r'<tr class="ev" id="ev-\d+"><td class="mono">[^<]*h\.log:4</td>'
                     r'<td class="text mono">wlan0: STA 02:00:00:00:00:01 WPA: invalid MIC', page)
    assert re.search(r'<a href="docs/findings/R2W\d+\.md"', page)
