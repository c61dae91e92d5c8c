"""Every cause wifi.py tells for an EIO from a kernel line is the ``hint`` of that line's catalogue entry."""

from __future__ import annotations

import os
import string
import time

import pytest

from r2wifi.logs.catalog import wmt as catalog
from r2wifi.wmt import wifi

from .chip_fakes import FakeBackend, FakeDriver


@pytest.fixture
def sdir(tmp_path, monkeypatch):
    d = tmp_path / "state"
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(d))
    return d


def _line(m: catalog.WmtMessage) -> str:
    """The entry rendered with a plausible value in each field (an interface name for ``dev``)."""
    fields = {f: ("wlan0" if f == "dev" else "WIFI_RAM_CODE_7623" if f in ("name", "path") else "1")
              for _t, f, _s, _c in string.Formatter().parse(m.fmt) if f}
    return m.render(**fields)


def test_wifi_has_no_copy_of_the_wmt_messages():
    assert not hasattr(wifi, "_MARKERS")


def test_every_kernel_explanation_is_a_catalogue_hint(sdir, tmp_path):
    """Each catalogue line alone after the write: explain_eio answers the entry's hint when it has one, and
    otherwise none of the hints; every hint of the catalogue is reachable from some entry."""
    fallback = wifi.explain_eio(FakeBackend(FakeDriver(kmsg_file=str(tmp_path / "empty"))), "default")
    assert fallback not in catalog.HINTS
    told: set[str] = set()
    for n, m in enumerate(catalog.MESSAGES):
        drv = FakeDriver(kmsg_file=str(tmp_path / f"kmsg{n}"))
        be = FakeBackend(drv)
        since = wifi.KmsgSince(be)
        drv.log(_line(m))
        got = wifi.explain_eio(be, "default", since)
        if m.hint is None:
            assert got == fallback, m.key
        else:
            assert m.hint in catalog.HINTS, m.key
            assert got == m.hint.format(name="wlan0"), m.key
            told.add(m.hint)
    assert told == set(catalog.HINTS)


def test_the_first_hint_wins_and_names_the_interface_of_the_line():
    """Several hinted lines: the cause listed first in HINTS is told, whatever the order of the lines."""
    lines = [catalog.render("op_wait_timeout", op=5), catalog.render("netdev_timeout", dev="wlp1s0"),
             catalog.render("no_hif_info", line=648)]
    assert wifi.kernel_hint(lines, "wlan0") == catalog.HINT_NO_HIF
    assert wifi.kernel_hint(lines[:2], "wlan0") == catalog.HINT_RENAMED.format(name="wlp1s0")
    assert wifi.kernel_hint(["an unrelated line", catalog.render("wifi_on_ok")], "wlan0") is None


@pytest.mark.root
def test_kmsg_since_reads_only_what_the_kernel_logged_after_it() -> None:
    """On /dev/kmsg the mark starts at the end: a line logged before it is not read, lines after it are, once each."""
    from r2wifi.wmt.backend import RealBackend

    tag = f"r2wifi-test-{os.getpid()}-{time.monotonic_ns()}"
    with open("/dev/kmsg", "w") as fh:
        fh.write(f"{tag} before\n")
    since = wifi.KmsgSince(RealBackend())
    try:
        with open("/dev/kmsg", "w") as fh:
            fh.write(f"{tag} after 1\n")
        first = [m for m in since.messages() if tag in m]
        with open("/dev/kmsg", "w") as fh:
            fh.write(f"{tag} after 2\n")
        both = [m for m in since.messages() if tag in m]
    finally:
        since.close()
    assert first == [f"{tag} after 1"]
    assert both == [f"{tag} after 1", f"{tag} after 2"]
