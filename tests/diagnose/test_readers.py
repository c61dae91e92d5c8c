"""Readers: files, directories, compressed inputs, stdin, special files, long lines, newest-first, overlaps."""

from __future__ import annotations

import gzip
import io
import lzma
import os
import re
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

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


def test_corrupt_gz_gives_a_note_and_verdict_unknown(tmp_path: Path) -> None:
    """A truncated .gz alone: no exception, verdict unknown, a one-line note naming the file."""
    p = tmp_path / "bad.log.gz"
    p.write_bytes(gzip.compress(LOG.encode() * 50)[:40])
    r = diagnose([str(p)])
    assert r["verdict"]["status"] == "unknown"
    (note,) = r["notes"]
    assert note.startswith(f"{p}: corrupt or truncated gzip data") and "\n" not in note
    assert str(p) in r["verdict"]["summary"]


def test_truncated_gz_keeps_what_was_read_beside_a_good_input(tmp_path: Path) -> None:
    """The lines before a cut in a compressed stream are diagnosed; the good input decides the verdict."""
    body = "".join(LOG.replace("01:00", f"{i >> 8:02x}:{i & 255:02x}") for i in range(4000)).encode()
    whole = gzip.compress(body)
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(whole[: len(whole) * 3 // 4])
    good = tmp_path / "good.log"
    good.write_text(LOG.replace("01:00", "ff:ff"))
    r = diagnose([str(cut), str(good)])
    assert r["verdict"]["status"] == "ok"
    assert [n.split(":")[0] for n in r["notes"]] == [str(cut)]
    got = r["inputs"][0]
    assert 0 < got["lines"] < 12000 and got["events"] > 0


@pytest.mark.parametrize("suffix", ["gz", "bz2", "xz", "zst"])
def test_every_compression_is_read(tmp_path: Path, suffix: str) -> None:
    """gzip, bzip2, xz (standard library) and zstd (zstandard, a test extra) give the same diagnosis."""
    import bz2

    zstandard = pytest.importorskip("zstandard") if suffix == "zst" else None
    packers = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress,
               "zst": lambda b: zstandard.ZstdCompressor().compress(b)}  # type: ignore[union-attr]
    p = tmp_path / f"h.log.{suffix}"
    p.write_bytes(packers[suffix](LOG.encode()))
    r = diagnose([str(p)])
    assert r["notes"] == [] and r["metrics"]["successful_connects"] == 1 and r["inputs"][0]["lines"] == 3


def test_zst_without_zstandard_says_what_to_install(tmp_path: Path) -> None:
    """No zstandard module: a note naming the package to install, verdict unknown, no traceback.

    Run in a fresh process whose import of zstandard fails from the start (compiled modules
    cache an import once made, so this cannot be faked inside a process that already used it).
    """
    import json
    import subprocess
    import sys

    import zstandard

    p = tmp_path / "h.log.zst"
    p.write_bytes(zstandard.ZstdCompressor().compress(LOG.encode()))
    code = ("import json, sys; sys.modules['zstandard'] = None\n"
            "from r2wifi.diagnose.analyze import diagnose\n"
            "print(json.dumps(diagnose([sys.argv[1]])))")
    out = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, check=True).stdout
    r = json.loads(out)
    assert r["verdict"]["status"] == "unknown" and "python3-zstandard" in r["notes"][0]


def test_decompressed_output_is_capped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A gzip bomb is cut at the cap (a note says so); the lines before the cut are read."""
    monkeypatch.setattr(readers, "_decompress_cap", None)
    monkeypatch.setattr(readers, "DECOMPRESS_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.log.gz"
    bomb.write_bytes(gzip.compress(LOG.encode() + b"\0" * (64 << 20)))
    assert bomb.stat().st_size * readers.DECOMPRESS_RATIO < 64 << 20
    cap = max(1 << 20, readers.DECOMPRESS_RATIO * bomb.stat().st_size)
    r = diagnose([str(bomb)])
    assert r["metrics"]["successful_connects"] == 1
    assert any("output cut at" in n and "decompression cap" in n for n in r["notes"]), r["notes"]
    assert r["inputs"][0]["bytes"] == cap
    readers.set_decompress_cap(4096)
    try:
        r = diagnose([str(bomb)])
    finally:
        readers.set_decompress_cap(None)
    assert any("output cut at 4 KiB" in n for n in r["notes"]), r["notes"]


def test_special_files_in_a_directory_are_skipped_with_a_note(tmp_path: Path) -> None:
    """A FIFO and a symlink to /dev/zero inside a directory are skipped (noted), not read (no hang)."""
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_text(LOG)
    os.mkfifo(d / "pipe")
    (d / "zero").symlink_to("/dev/zero")
    (d / "gone").symlink_to(d / "nothing-here")
    r = diagnose([str(d)])
    assert r["metrics"]["successful_connects"] == 1
    assert sorted(r["notes"]) == [f"{d}/gone: skipped (dangling symlink)", f"{d}/pipe: skipped (a FIFO)",
                                  f"{d}/zero: skipped (a character device behind a symlink)"]
    only = tmp_path / "only"
    only.mkdir()
    os.mkfifo(only / "pipe")
    with pytest.raises(UserError, match=r"contains no log files \(1 skipped; first: .*pipe: skipped \(a FIFO\)\)"):
        diagnose([str(only)])


@pytest.mark.parametrize("make", ["fifo", "device", "link-to-zero"])
def test_a_special_file_given_directly_is_a_user_error(tmp_path: Path, make: str, special_file) -> None:  # type: ignore[no-untyped-def]
    """A FIFO or device named on the command line: one-line UserError naming it (exit 2), no hang."""
    p = special_file(tmp_path, make)
    with pytest.raises(UserError, match=r"is a (FIFO|character device), not a log file") as err:
        diagnose([str(p)])
    assert str(p) in str(err.value)


@pytest.mark.parametrize("content", [b"", b"just some prose\nnothing about wifi here\n", bytes(range(256)) * 64])
def test_nothing_recognised_is_unknown_not_ok(tmp_path: Path, content: bytes) -> None:
    """An empty file, unrelated text or binary data: verdict unknown with the reason, never ok."""
    p = tmp_path / "x.log"
    p.write_bytes(content)
    r = diagnose([str(p)])
    assert r["verdict"]["status"] == "unknown"
    want = "empty" if not content else "binary data" if b"\0" in content else "no log lines r2wifi recognises"
    assert want in r["verdict"]["summary"] and r["inputs"][0]["events"] == 0


def test_overlapping_inputs_count_each_record_once(tmp_path: Path) -> None:
    """syslog and messages holding the same stamped lines: each record counted once; repeats inside a file stay."""
    lines = "".join(
        f"May  3 15:{m:02d}:0{k} ap hostapd: wlan0: STA 02:00:00:00:01:00 IEEE 802.11: {what}\n"
        for m in range(5) for k, what in enumerate(("associated (aid 1)", "disassociated"))
    )
    syslog = tmp_path / "syslog"
    messages = tmp_path / "messages"
    syslog.write_text(lines)
    messages.write_text(lines[: len(lines) // 2] + "May  3 16:00:00 ap hostapd: wlan0: AP-STA-CONNECTED 02:00:00:00:02:00\n")
    one = diagnose([str(syslog)])
    both = diagnose([str(syslog), str(messages)])
    assert both["duplicates_dropped"] == 5
    assert both["stations"][0]["counts"] == one["stations"][0]["counts"]
    assert [s["mac"] for s in both["stations"]] == ["02:00:00:00:01:00", "02:00:00:00:02:00"]
    twice = tmp_path / "twice"
    twice.write_text(lines + lines)
    assert diagnose([str(twice)])["stations"][0]["counts"]["sessions"] == 2 * one["stations"][0]["counts"]["sessions"]


def _naive_lines(data: bytes, limit: int) -> list[str]:
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [readers.decode(p[:limit].rstrip(b"\r")) for p in parts]


line_soup = st.lists(st.one_of(st.binary(max_size=40), st.sampled_from([b"", b"\r", b"x" * 150, b"AP-ENABLED"])),
                     max_size=40).map(lambda ls: b"\n".join(ls)) | st.binary(max_size=600)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(line_soup, st.sampled_from([16, 64]), st.sampled_from([7, 64, 1 << 20]))
def test_every_reader_cuts_long_lines_alike(data: bytes, chunk: int, limit: int) -> None:
    """Forward, backward and compressed (spilled) reading give the same lines, each cut at MAX_LINE."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "CHUNK", chunk)
        mp.setattr(readers, "MAX_LINE", limit)
        assume(readers.compression_of(data[:6]) is None)  # else it is read as the compressed stream it says it is
        want = _naive_lines(data, limit)
        plain = Path(tmp) / "p.log"
        plain.write_bytes(data)
        packed = Path(tmp) / "p.log.gz"
        packed.write_bytes(gzip.compress(data))
        for path in (plain, packed):
            src = readers.Source(str(path), str(path))
            assert [t for _n, t in readers.iter_lines(src)] == want
            learned: list[str] = []
            rev = readers.ReverseLines(src, learn=learned.append)
            back = list(rev)
            assert back == [(i + 1, t) for i, t in reversed(list(enumerate(want)))]
            assert learned == want and rev.lines == len(want) and rev.nbytes == len(data)
            rev2 = readers.ReverseLines(src, keep=re.compile(b"AP-"))
            assert [n for n, _t in rev2] == [i + 1 for i, t in reversed(list(enumerate(want))) if "AP-" in t]


@pytest.mark.skipif(readers.grep_binary() is None, reason="no usable grep on this system")
def test_grep_and_python_paths_cut_long_lines_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyword before the MAX_LINE cut is a hit on both paths, one after it on neither; line counts agree."""
    monkeypatch.setattr(readers, "MAX_LINE", 300)
    monkeypatch.setattr(readers, "CHUNK", 1024)
    p = tmp_path / "long.log"
    p.write_bytes(b"wlan0: AP-ENABLED " + b"a" * 5000 + b"\n"  # hit, cut
                  + b"b" * 400 + b" wlan0: AP-DISABLED\n"  # keyword after the cut: not a hit
                  + b"wlan0: AP-STA-CONNECTED 02:00:00:00:01:00\n" + b"c" * 3000)
    from r2wifi.logs.events import KEYWORDS

    seen = []
    for grep in (readers.grep_binary(), None):
        scan = readers.Scan(readers.Source(str(p), str(p)), KEYWORDS, grep=grep)
        hits = [readers.hit_fields(h)[:2] for batch in scan.batches() for h in batch]
        seen.append((hits, scan.lines, scan.nbytes))
    assert seen[0] == seen[1]
    assert [(n, len(raw)) for n, raw in seen[0][0]] == [(1, 300), (3, 41)]
    assert seen[0][1] == 4 and seen[0][2] == p.stat().st_size


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
