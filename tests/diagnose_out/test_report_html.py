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
        for attr in ("src", "href"):
            assert attr not in attrs
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
    assert "hostapd.log:612, :615" in page


def test_one_valid_svg_timeline_per_station() -> None:
    """Each station gets exactly one SVG timeline, which parses as XML and holds its sessions and events."""
    page = report_html.render(loop_result())
    svgs = SVG_RE.findall(page)
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
    assert bar.get("fill") == report_html.OUTCOME_COLOR["connected"]


def test_stations_share_one_time_axis() -> None:
    """A session at the same moment lines up across stations (shared scale)."""
    svgs = SVG_RE.findall(report_html.render(loop_result()))
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
