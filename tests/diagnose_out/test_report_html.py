"""HTML report scenarios: one self-contained page that is safe to open whatever the logs contained."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest

from r2wifi.diagnose import report_html

from .diagout_samples import STA, STA2, healthy_result, loop_result, startup_failure_result

SVG_RE = re.compile(r"<svg\b.*?</svg>", re.S)
VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source"}


class TagCollector(HTMLParser):
    """Collects start tags and checks that non-void tags are balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()


def parse(page: str) -> TagCollector:
    p = TagCollector()
    p.feed(page)
    p.close()
    return p


def hostile_result() -> dict:
    result = loop_result()
    evil = "</title></svg><script>alert(1)</script><img src=x onerror=alert(2)>\"'&"
    result["verdict"]["summary"] = evil
    result["findings"][0]["title"] = evil
    result["findings"][0]["fix"] = evil
    result["stations"][evil] = {"sessions": [{"start": 1581700001.0, "end": 1581700003.0, "outcome": evil,
                                              "disconnect_reason": evil}],
                                "timeline": [{"t": 1581700002.0, "kind": evil, "text": evil, "file": evil, "line": 1}]}
    result["inputs"].append({"file": evil, "formats": [evil], "lines": 1})
    return result


def test_page_is_self_contained_and_balanced() -> None:
    """One page with inline CSS, no script, no external resource, and every tag closed."""
    page = report_html.render(loop_result())
    assert page.startswith("<!DOCTYPE html>")
    p = parse(page)
    assert not p.errors and not p.stack
    names = [t for t, _ in p.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert names.count("style") == 1
    for _tag, attrs in p.tags:
        assert "src" not in attrs
        href = attrs.get("href")  # only in-page anchors and the findings' docs pages
        assert href is None or re.fullmatch(r"#(ev|station)-\d+|docs/findings/R2W\d{3}\.md", href), href
    assert "url(" not in page and "@import" not in page


def test_untrusted_text_is_escaped_everywhere() -> None:
    """Markup in log text, station names, outcomes and file names is shown as text, never as tags."""
    page = report_html.render(hostile_result())
    p = parse(page)
    assert not p.errors
    names = [t for t, _ in p.tags]
    assert "script" not in names and "img" not in names
    assert all(not k.startswith("on") for _t, attrs in p.tags for k in attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page


def test_verdict_findings_metrics_in_reading_order() -> None:
    """Verdict banner first, findings by severity, stations, then metrics and inputs."""
    page = report_html.render(loop_result())
    assert 'class="verdict error"' in page
    pos = [page.index(code) for code in ("R2W110", "R2W104", "R2W120", "R2W900")]
    assert pos == sorted(pos)
    assert page.index("Findings (4)") < page.index("Stations (2)") < page.index("<h2>Metrics") < page.index("<h2>Inputs")
    assert "Re-enter the passphrase on the station" in page
    assert '<a href="#ev-1">hostapd.log:612</a>, <a href="#ev-2">:615</a>' in page


def test_one_valid_svg_timeline_per_station() -> None:
    """Each station gets exactly one SVG timeline, which parses as XML and holds its sessions and events."""
    page = report_html.render(loop_result())
    svgs = [s for s in SVG_RE.findall(page) if s.startswith('<svg class="timeline"')]
    assert len(svgs) == 2
    ns = {"s": "http://www.w3.org/2000/svg"}
    first = ElementTree.fromstring(svgs[0])
    assert first.get("class") == "timeline" and first.get("data-station") == STA
    bars = first.findall("s:rect[@class='session']", ns)
    assert len(bars) == 5
    assert {b.get("fill") for b in bars} == {report_html.OUTCOME_COLOR["failed"]}
    marks = first.findall("s:g", ns)
    assert len(marks) == 15  # 15 timed events; the untimed one is counted in the axis label
    tips = [m.find("s:title", ns).text for m in marks]  # type: ignore[union-attr]
    assert any("sending 1/4 msg of 4-Way Handshake" in (t or "") for t in tips)
    assert "1 event(s) without time" in svgs[0]
    second = ElementTree.fromstring(svgs[1])
    assert second.get("data-station") == STA2
    (bar,) = second.findall("s:rect[@class='session']", ns)
    assert bar.get("fill") == report_html.OUTCOME_COLOR["open"]


def test_stations_share_one_time_axis() -> None:
    """A session at the same moment lines up across stations (shared scale)."""
    svgs = [s for s in SVG_RE.findall(report_html.render(loop_result())) if s.startswith('<svg class="timeline"')]
    ns = {"s": "http://www.w3.org/2000/svg"}
    x_first_sta1 = float(ElementTree.fromstring(svgs[0]).findall("s:rect", ns)[0].get("x") or 0)
    x_sta2 = float(ElementTree.fromstring(svgs[1]).findall("s:rect", ns)[0].get("x") or 0)
    assert x_first_sta1 < x_sta2  # station 2 connected 5 s after station 1's first attempt
    assert "2020-02-14 17:06:40.000" in svgs[0] and "2020-02-14 17:06:40.000" in svgs[1]


def test_logs_without_timestamps_place_events_in_order() -> None:
    """Plain hostapd stdout has no times: events are spread in log order and the axis says so."""
    result = healthy_result()
    for e in result["stations"][0]["timeline"]:
        e["t"] = None
    result["stations"][0]["sessions"][0].update(start=None, end=None)
    (svg,) = SVG_RE.findall(report_html.render(result))
    assert "no timestamps: 3 events in log order" in svg
    xs = [float(x) for x in re.findall(r'<line x1="([0-9.]+)" y1="3', svg)]
    assert xs == sorted(xs) and len(set(xs)) == 3


def test_no_station_result() -> None:
    """An AP that never started still gives a complete page without timelines."""
    page = report_html.render(startup_failure_result())
    assert "No station activity in the logs." in page
    assert "<svg" not in page
    assert not parse(page).errors


def _png_pixels_vary(png: bytes) -> bool:
    """True when the decoded image data is not one flat colour (a blank page)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        ctype = png[pos + 4 : pos + 8]
        if ctype == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return len(set(raw[: 4_000_000])) > 16


@pytest.mark.chromium
def test_chromium_renders_the_page(tmp_path: Path) -> None:
    """Headless Chromium screenshots a non-blank page whose DOM has one timeline per station."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    page = tmp_path / "report.html"
    page.write_text(report_html.render(hostile_result()), encoding="utf-8")
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              f"--user-data-dir={tmp_path / 'profile'}"]
    png = tmp_path / "shot.png"
    subprocess.run([*common, f"--screenshot={png}", "--window-size=1280,2000", page.as_uri()],
                   capture_output=True, timeout=90, check=False)
    assert png.is_file() and png.stat().st_size > 10_000
    assert _png_pixels_vary(png.read_bytes())
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=90,
                         check=False).stdout
    assert dom.count('<svg class="timeline"') == 3  # the two sample stations and the hostile one
    assert dom.count('class="station"') == 3
    assert "<script" not in dom and "<img" not in dom


NS = {"s": "http://www.w3.org/2000/svg"}


def _svg_of(page: str, cls: str) -> ElementTree.Element:
    (svg,) = [s for s in SVG_RE.findall(page) if s.startswith(f'<svg class="{cls}')]
    return ElementTree.fromstring(svg)


def _with_ap_events_and_connect_times() -> dict:
    result = loop_result()
    t0 = 1581700000.0
    result["ap_events"] = [
        {"t": t0, "kind": "ap_enabled", "text": "wlan0: AP-ENABLED", "file": "hostapd.log", "line": 5},
        {"t": t0 + 42, "kind": "ap_disabled", "text": "wlan0: AP-DISABLED <b>", "file": "hostapd.log", "line": 680},
        {"t": None, "kind": "ap_config_file", "text": "Configuration file: x", "file": "hostapd.log", "line": 1},
    ]
    sessions = result["stations"][STA2]["sessions"]
    sessions += [{"start": t0 + 20, "end": t0 + 30, "outcome": "connected", "time_to_connect_ms": ms}
                 for ms in (80.0, 300.0, 310.0, 1500.0, 45000.0)]
    sessions.append({"start": None, "end": None, "outcome": "failed"})  # ended on a line without a stamp
    return result


def test_overview_puts_stations_and_ap_events_on_one_axis() -> None:
    """One overview SVG: a row per timed station plus AP events, on the same scale as the station timelines."""
    page = report_html.render(_with_ap_events_and_connect_times())
    ov = _svg_of(page, "overview")
    labels = [t.text for t in ov.iter(f"{{{NS['s']}}}text")]
    assert "AP events" in labels and STA in labels and STA2 in labels
    ap_marks = [g for g in ov.findall("s:g", NS) if "AP-" in (g.find("s:title", NS).text or "")]  # type: ignore[union-attr]
    assert len(ap_marks) == 2  # the untimed config-file line is not placed on a time axis
    xs = sorted(float(g.find("s:line", NS).get("x1") or 0) for g in ap_marks)  # type: ignore[union-attr]
    bars = ov.findall("s:rect[@class='session']", NS)
    first_bar_x = min(float(b.get("x") or 0) for b in bars)
    assert xs[0] == first_bar_x == report_html.OV_LABEL + 6  # AP start and the first session share t0
    assert xs[1] == report_html.SVG_W - report_html.PAD_R  # the last event ends the shared axis
    assert '<a href="#station-1">' in page and 'id="station-1"' in page


def test_time_to_connect_histogram_and_reasons_chart() -> None:
    """The histogram holds every session's time to connect in its bin; reasons are bars with counts."""
    page = report_html.render(_with_ap_events_and_connect_times())
    ttc = _svg_of(page, "chart ttc")
    bars = {b.find("s:title", NS).text for b in ttc.findall("s:rect", NS)}  # type: ignore[union-attr]
    assert bars == {"<.1 s: 1", ".25-.5 s: 2", "1-2 s: 1", ">30 s: 1"}
    reasons = _svg_of(page, "chart reasons")
    got = sorted(b.find("s:title", NS).text for b in reasons.findall("s:rect", NS))  # type: ignore[union-attr]
    assert got == ["2: 1", "3: 4"]
    assert "Time to connect (5 session(s))" in page and "Disconnect reasons (5)" in page


def test_evidence_links_land_on_the_cited_lines() -> None:
    """Every evidence link has its anchor in the evidence section, which shows the line's text."""
    result = loop_result()
    result["evidence_lines"] = [{"file": "hostapd.log", "line": 612, "text": "wlan0: WPA: invalid MIC <i>"}]
    page = report_html.render(result)
    targets = set(re.findall(r'href="#(ev-\d+)"', page))
    ids = set(re.findall(r'id="(ev-\d+)"', page))
    assert targets and targets <= ids
    row = re.search(r'<tr class="ev" id="ev-1">.*?</tr>', page)
    assert row and "hostapd.log:612" in row.group(0) and "invalid MIC &lt;i&gt;" in row.group(0)
    assert '<a href="#ev-' in page[page.index('id="station-1"'):]  # timeline rows link too (line 615)


def test_finding_codes_link_to_their_docs_page() -> None:
    """Codes link to docs/findings/<CODE>.md, or under --docs-url; an unsafe base falls back to the default."""
    page = report_html.render(loop_result())
    assert 'href="docs/findings/R2W110.md"' in page
    page = report_html.render(loop_result(), docs_url="https://example.org/r2wifi/docs/findings/")
    assert 'href="https://example.org/r2wifi/docs/findings/R2W110.md"' in page
    for bad in ("javascript:alert(1)", 'x" onclick="y'):
        assert 'href="docs/findings/R2W110.md"' in report_html.render(loop_result(), docs_url=bad)


def test_session_that_ended_without_time_is_not_open() -> None:
    """A session with no end time is 'open' only when its outcome says so; else it ended at an unknown time."""
    page = report_html.render(_with_ap_events_and_connect_times())
    sta2 = page[page.index(f"<h3>{STA2}</h3>"):]
    rows = re.findall(r"<tr><td>\d+</td>.*?</tr>", sta2)
    assert "<td>open</td>" in rows[0] and "ended (no time)" in rows[-1] and "open" not in rows[-1]
