"""Acceptance: `r2wifi diagnose --redact` over every dev corpus case leaks no MAC, SSID or host name.

The identifying values are collected independently of the Redactor (plain regexes over the raw
logs, plus ``case.toml [stations]``), then searched for in the JSON, the HTML page and the terminal
report that the real CLI prints.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from r2wifi.toml import tomllib

CliRunner = Callable[..., "subprocess.CompletedProcess[str]"]
# the same place tests/conftest.py looks for ../shared (parametrization needs it at collection time)
SHARED = Path(os.environ.get("R2WIFI_SHARED", Path(__file__).resolve().parents[3] / "shared"))

HEX = "0-9A-Fa-f"
MAC_ANY = re.compile(rf"(?=([{HEX}xXyY*]{{2}}(?:[:-][{HEX}xXyY*]{{2}}){{5}}))")
SPECIAL = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"}
SSID_RES = [
    re.compile(r"\bssid \"([^\"]+)\""),
    re.compile(r"\bssid '([^']+)'"),
    re.compile(r"\bSSID='([^']+)'"),
    re.compile(r"\bssid=\"([^\"]+)\""),
    re.compile(r"(?:^|\s)ssid=([^\s\"']\S*)\s*$"),
]
SYSLOG_HOST = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+) [\w.-]+(?:\[\d+\])?: ")


def case_dirs() -> list[Path]:
    root = SHARED / "corpus" / "dev"
    return sorted(p for p in root.iterdir() if (p / "case.toml").is_file()) if root.is_dir() else []


def log_files(case: Path) -> list[Path]:
    return sorted(p for p in case.iterdir() if p.is_file() and p.suffix not in (".toml", ".md"))


def real_octets(mac: str) -> bool:
    octets = mac.lower().replace("-", ":").split(":")
    return any(all(c in "0123456789abcdef" for c in o) for o in octets)


def identifying_values(case: Path) -> tuple[set[str], set[str], set[str]]:
    """(MACs, SSIDs, host names) of a case, found without the Redactor."""
    macs: set[str] = set()
    ssids: set[str] = set()
    hosts: set[str] = set()
    meta = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
    stations = meta.get("stations", {})
    for value in [*stations.get("macs", []), str(stations.get("ap_bssid", ""))]:
        macs.update(m.group(1) for m in MAC_ANY.finditer(value))
    for path in log_files(case):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            macs.update(m.group(1) for m in MAC_ANY.finditer(line))
            for rx in SSID_RES:
                ssids.update(m.group(1) for m in rx.finditer(line) if m.group(1) != "[REMOVED]")
            hm = SYSLOG_HOST.match(line)
            if hm:
                hosts.add(hm.group(1))
    macs = {m.lower().replace("-", ":") for m in macs}
    macs = {m for m in macs if m not in SPECIAL and real_octets(m)}
    return macs, ssids, hosts


def assert_no_leak(text: str, macs: set[str], ssids: set[str], hosts: set[str], where: str) -> None:
    low = text.lower()
    squashed = "".join(low.split())  # a value folded over two lines by the terminal report
    for mac in macs:
        for form in (mac, mac.replace(":", "-"), mac.replace(":", " ")):
            assert form not in low, f"{where}: MAC {mac} leaked"
        assert mac not in squashed, f"{where}: MAC {mac} leaked (wrapped)"
    for name in ssids | hosts:
        rx = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        assert not rx.search(text), f"{where}: {name!r} leaked"


CASES = case_dirs()


def test_the_dev_corpus_is_there(corpus_dev: Path) -> None:
    """The acceptance test below really runs: the corpus holds cases with MACs and SSIDs to hide."""
    assert corpus_dev.resolve() == (SHARED / "corpus" / "dev").resolve()
    assert len(CASES) >= 20
    macs = set().union(*(identifying_values(c)[0] for c in CASES))
    ssids = set().union(*(identifying_values(c)[1] for c in CASES))
    assert len(macs) >= 30 and len(ssids) >= 5


@pytest.mark.parametrize("case", CASES, ids=[c.name[:3] for c in CASES])
def test_redacted_diagnosis_leaks_nothing(case: Path, run_cli: CliRunner, tmp_path: Path) -> None:
    """diagnose --redact (JSON, HTML page, terminal report) shows none of the case's MACs, SSIDs, hosts."""
    macs, ssids, hosts = identifying_values(case)
    files = [str(p) for p in log_files(case)]
    page = tmp_path / "report.html"
    proc = run_cli("diagnose", *files, "--redact", "--json", "--html", str(page))
    assert proc.returncode in (0, 1, 2), proc.stderr  # 1: an error finding, 2: verdict unknown
    result = json.loads(proc.stdout)
    assert result["verdict"]["status"] in ("ok", "warning", "error", "unknown")
    # the logs' own paths are not identifying, but they contain the case name: drop them first
    blob = json.dumps(result, ensure_ascii=False).replace(str(case), "CASE")
    assert_no_leak(blob, macs, ssids, hosts, "json")
    assert_no_leak(page.read_text(encoding="utf-8").replace(str(case), "CASE"), macs, ssids, hosts, "html")
    term = run_cli("diagnose", *files, "--redact")
    assert term.returncode in (0, 1, 2), term.stderr
    assert term.stdout.startswith("Verdict: ")
    assert_no_leak(term.stdout.replace(str(case), "CASE"), macs, ssids, hosts, "terminal")
    for station in result["stations"]:  # stations are still told apart, under pseudonyms
        assert station["mac"].lower() not in macs


def test_unredacted_output_does_show_the_macs(run_cli: CliRunner) -> None:
    """Control: without --redact the same check finds the station MACs (the leak check can fail)."""
    case = next(c for c in CASES if c.name.startswith("029"))
    macs, _ssids, _hosts = identifying_values(case)
    proc = run_cli("diagnose", *[str(p) for p in log_files(case)], "--json")
    assert proc.returncode in (0, 1, 2), proc.stderr  # 1: an error finding, 2: verdict unknown
    with pytest.raises(AssertionError, match="leaked"):
        assert_no_leak(proc.stdout, macs, set(), set(), "json")
