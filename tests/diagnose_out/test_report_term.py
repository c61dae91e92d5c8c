"""Terminal report scenarios: a person reads it top-down, piped to a file or on an 80-column terminal."""

from __future__ import annotations

import io
import re
import subprocess
import sys

from r2wifi.diagnose import report_term

from .diagout_samples import STA, STA2, healthy_result, loop_result, startup_failure_result

ANSI = re.compile(r"\x1b\[")


def rendered(result: dict, **kw: object) -> str:
    buf = io.StringIO()
    report_term.render(result, buf, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def test_verdict_comes_first_then_findings_by_severity() -> None:
    """The first line is the verdict; errors are listed before warnings, warnings before info."""
    out = rendered(loop_result())
    assert out.splitlines()[0].startswith("Verdict: ERROR - 1 station cannot connect")
    pos = [out.index(code) for code in ("R2W110", "R2W104", "R2W120", "R2W900")]
    assert pos == sorted(pos)
    assert out.index("Findings (4)") < out.index("Stations (2)") < out.index("Metrics") < out.index("Inputs")


def test_findings_show_code_stations_fix_and_evidence() -> None:
    """Each finding names its code, kind/params, stations, the fix and file:line evidence."""
    out = rendered(loop_result())
    assert "kind:     deauth_reason (reason=2)" in out
    assert f"stations: {STA}" in out
    assert "fix:      Re-enter the passphrase on the station (forget the network first)." in out
    assert "evidence: hostapd.log:612, :615" in out
    assert "hostapd.log:580, :581, :582, :583, :584, :585, (+14 more)" in out


def test_stations_show_sessions_with_outcome_and_reason() -> None:
    """Each station lists its sessions with outcome, failure stage and decoded reason, then its timeline."""
    out = rendered(loop_result())
    block = out[out.index(STA + "  5 sessions") : out.index(STA2 + "  1 session")]
    assert "5 sessions, 5 failed" in block
    assert re.search(r"1\s+17:06:40\.000\s+2\.0s\s+failed\s+key_handshake\s+3 \(station", block)
    assert "start (2020-02-14 UTC)" in block
    assert "timeline:" in block and "AP-STA-POSSIBLE-PSK-MISMATCH" in block
    assert re.search(r"1\s+17:06:45\.000\s+open\s+open", out)


def test_relative_times_and_untimed_events() -> None:
    """Times below the epoch range print as +seconds; an event without time prints '?'."""
    out = rendered(healthy_result())
    assert "+12.500s" in out and "57.8s" in out
    assert re.search(r"\?\s+psk_mismatch", rendered(loop_result()))


def test_piped_output_is_plain_and_fits_80_columns() -> None:
    """Without a terminal: no escape codes, no trailing blanks, no line wider than 80 columns."""
    for result in (loop_result(), healthy_result(), startup_failure_result()):
        out = rendered(result)
        assert not ANSI.search(out)
        for line in out.splitlines():
            assert len(line) <= 80, line
            assert line == line.rstrip()


def test_forced_colour_uses_ansi() -> None:
    """color=True colours the severity badges even when writing to a file."""
    out = rendered(loop_result(), color=True)
    assert ANSI.search(out)
    assert "ERROR" in out


def test_log_text_is_never_markup_and_control_chars_are_visible() -> None:
    """Rich markup in log text is printed literally; escape and NUL bytes are shown as \\xNN."""
    result = loop_result()
    result["stations"][STA]["timeline"].append(
        {"t": None, "kind": "other", "text": "evil \x1b[31mred\x1b[0m \x00 [link=http://x]click[/link]",
         "file": "h.log", "line": 1}
    )
    out = rendered(result)
    assert "[bold red]not rich markup[/] & <script>alert(1)</script>" in out
    flat = " ".join(out.split())
    assert "\\x1b[31mred\\x1b[0m \\x00 [link=http://x]click[/link]" in flat
    assert "\x1b" not in out and "\x00" not in out


def test_station_without_activity_and_missing_metrics() -> None:
    """A result without stations says so; a metric that could not be computed prints n/a."""
    out = rendered(startup_failure_result())
    assert "No station activity in the logs." in out
    assert re.search(r"time_to_connect_ms:\s+n/a", out)
    assert "Stop NetworkManager / wpa_supplicant on wlan0" in out


def test_huge_result_is_bounded() -> None:
    """10 000 timeline events and 500 sessions still give a short report that says what it left out."""
    result = healthy_result()
    st = result["stations"][0]
    st["timeline"] = [{"t": 100.0 + i, "kind": "assoc", "text": f"event {i}", "file": "f", "line": i}
                      for i in range(10_000)]
    st["sessions"] = [{"start": 100.0 + i, "end": 100.5 + i, "outcome": "left"} for i in range(500)]
    out = rendered(result)
    assert "(last 25 of 10000 events)" in out
    assert "(480 earlier sessions not shown)" in out
    assert "event 9999" in out and "event 9974" not in out
    assert len(out.splitlines()) < 150


def test_list_shaped_and_sparse_results_render() -> None:
    """Stations as a list, missing keys and odd value types do not break the report."""
    out = rendered({"stations": [{"mac": "aa", "sessions": [{}], "timeline": [{}]}, "junk"], "findings": [{}, 3]})
    assert out.splitlines()[0] == "Verdict: UNKNOWN"
    assert "Stations (1)" in out and "Findings (1)" in out


def test_importing_the_module_does_not_import_rich() -> None:
    """The CLI must start fast: rich is imported only when a report is rendered."""
    code = "import sys, r2wifi.diagnose.report_term, r2wifi.diagnose.report_html; print('rich' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
