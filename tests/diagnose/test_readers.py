"""Readers: files, directories, .gz/.xz, stdin, invalid UTF-8, line numbers, unreadable inputs."""

from __future__ import annotations

import gzip
import io
import lzma
import os
from pathlib import Path

import pytest

from r2wifi.diagnose.analyze import diagnose
from r2wifi.errors import UserError
from r2wifi.logs import readers

LOG = "wlan0: AP-ENABLED\nwlan0: STA 02:00:00:00:01:00 IEEE 802.11: associated\nwlan0: AP-STA-CONNECTED 02:00:00:00:01:00\n"


def test_gz_xz_dir_and_stdin_mix(tmp_path: Path) -> None:
    """A directory (recursive) with .gz and .xz files plus stdin are read in one run."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.log.gz").write_bytes(gzip.compress(LOG.encode()))
    (tmp_path / "b.log.xz").write_bytes(lzma.compress(LOG.replace("01:00", "02:00").encode()))
    r = diagnose([str(tmp_path), "-"], stdin=io.StringIO(LOG.replace("01:00", "03:00")))
    files = [i["file"] for i in r["inputs"]]
    assert files[-1] == "-" and any(f.endswith("a.log.gz") for f in files) and any(f.endswith("b.log.xz") for f in files)
    assert r["metrics"]["successful_connects"] == 3
    assert all(i["lines"] == 3 for i in r["inputs"])


def test_invalid_utf8_is_replaced_and_line_numbers_kept(tmp_path: Path) -> None:
    """Invalid UTF-8 does not stop the read; evidence points at the right line."""
    p = tmp_path / "x.log"
    p.write_bytes(b"\xff\xfe garbage\n" + LOG.encode())
    r = diagnose([str(p)])
    st = r["stations"][0]
    assert st["timeline"][0]["line"] == 3 and st["timeline"][0]["file"] == str(p)


def test_iter_lines_streams_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines crossing the chunk boundary are reassembled; a last line without newline is kept."""
    monkeypatch.setattr(readers, "CHUNK", 7)
    p = tmp_path / "x.log"
    p.write_text("first line\nsecond line that is longer\nlast")
    assert list(readers.iter_lines(readers.Source(str(p), str(p)))) == [
        (1, "first line"), (2, "second line that is longer"), (3, "last")]


def test_missing_input_is_a_user_error(tmp_path: Path) -> None:
    """A missing path is a one-line UserError naming it."""
    with pytest.raises(UserError, match="nope.log"):
        diagnose([str(tmp_path / "nope.log")])


def test_corrupt_gz_is_a_user_error(tmp_path: Path) -> None:
    """A truncated .gz file is reported as unreadable, not a traceback."""
    p = tmp_path / "bad.log.gz"
    p.write_bytes(gzip.compress(LOG.encode() * 50)[:40])
    with pytest.raises(UserError, match="bad.log.gz"):
        diagnose([str(p)])


def test_newest_first_paste_is_reversed(tmp_path: Path) -> None:
    """A GUI view pasted newest-first is detected and read oldest-first (sessions in order)."""
    lines = [
        "Aug  4 11:35:10 | hostapd | 1 | wlan0: STA 02:00:00:00:01:00 IEEE 802.11: associated",
        "Aug  4 11:35:11 | hostapd | 1 | wlan0: AP-STA-CONNECTED 02:00:00:00:01:00",
        "Aug  4 11:35:12 | hostapd | 1 | wlan0: STA 02:00:00:00:01:00 WPA: pairwise key handshake completed (RSN)",
        "Aug  4 11:35:20 | hostapd | 1 | wlan0: STA 02:00:00:00:01:00 IEEE 802.11: disassociated",
        "Aug  4 11:35:21 | hostapd | 1 | wlan0: AP-STA-DISCONNECTED 02:00:00:00:01:00",
    ]
    p = tmp_path / "gui.log"
    p.write_text("\n".join(reversed(lines)) + "\n")
    r = diagnose([str(p)])
    assert r["inputs"][0]["newest_first"] is True
    s = r["stations"][0]["sessions"][0]
    assert s["outcome"] == "connected" and s["duration_s"] == 10.0 and s["time_to_connect_ms"] == 1000.0


@pytest.mark.parametrize("case_id", ["001", "038", "039"])
def test_grep_and_python_prefilters_agree(case_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The external-grep fast path and the pure-Python prefilter give the same diagnosis (incl. hard wraps)."""
    if readers.grep_binary() is None:
        pytest.skip("no usable grep on this system")
    shared = Path(os.environ.get("R2WIFI_SHARED", Path(__file__).resolve().parents[3] / "shared"))
    corpus = shared / "corpus" / "dev"
    case = next(corpus.glob(f"{case_id}-*"))
    with_grep = diagnose([str(case)])
    monkeypatch.setenv("R2WIFI_NO_GREP", "1")
    without = diagnose([str(case)])
    assert with_grep["findings"] == without["findings"]
    assert with_grep["stations"] == without["stations"]
    assert [i["lines"] for i in with_grep["inputs"]] == [i["lines"] for i in without["inputs"]]


def test_kernel_uptime_is_aligned_to_wall_clock(tmp_path: Path) -> None:
    """A syslog kernel line with both clocks lets later raw-dmesg lines join the wall-clock timeline."""
    p = tmp_path / "mixed.log"
    p.write_text(
        "May  3 15:00:00 ap kernel: [  100.000000] ieee80211 phy0: brcmf_fw_crashed: Firmware has halted or crashed\n"
        "[  160.500000] wlan7: deauthenticated from 11:22:33:44:55:66 (Reason: 2=PREV_AUTH_NOT_VALID)\n"
    )
    r = diagnose([str(p)])
    (st,) = r["stations"]
    t = st["timeline"][0]["t"]
    assert t is not None and t % 86400 == 15 * 3600 + 60.5
