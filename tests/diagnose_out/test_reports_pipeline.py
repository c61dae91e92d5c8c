"""The reports over real analyzer results: every dev corpus case renders cleanly in both forms."""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from r2wifi.diagnose import report_html, report_term
from r2wifi.diagnose.analyze import diagnose
from r2wifi.diagnose.redact import Redactor

from .test_corpus_redaction import CASES, log_files
from .test_report_html import SVG_RE, parse


@pytest.mark.parametrize("case", CASES, ids=[c.name[:3] for c in CASES])
def test_corpus_case_renders_in_both_reports(case: Path) -> None:
    """Terminal report fits 80 columns and starts with the verdict; the page has one timeline per station."""
    red = Redactor()
    result = red.redact_obj(diagnose([str(p) for p in log_files(case)], learn=red.learn_line))
    assert isinstance(result, dict)
    buf = io.StringIO()
    report_term.render(result, buf)
    text = buf.getvalue()
    status = result["verdict"]["status"].upper()
    assert text.startswith(f"Verdict: {status}")
    assert all(len(line) <= 80 for line in text.splitlines())
    for f in result["findings"]:
        assert f["code"] in text
    page = report_html.render(result)
    tags = parse(page)
    assert not tags.errors and not tags.stack
    svgs = [s for s in SVG_RE.findall(page) if s.startswith('<svg class="timeline"')]
    assert len(svgs) == len(result["stations"])
    for other in SVG_RE.findall(page):  # overview and charts: well-formed SVG too
        ElementTree.fromstring(other)
    for station, svg in zip(result["stations"], svgs, strict=True):
        assert f'data-station="{station["mac"]}"' in svg
        assert re.search(r"<(?:rect|g) class=\"(?:session|event)", svg) or not (
            station.get("timeline") or station.get("sessions")
        )
