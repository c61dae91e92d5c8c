"""The fast scanners of big logs: anchored prefilter regex, grep and pure-Python batches, hard wraps, counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2wifi.diagnose.analyze import diagnose
from r2wifi.logs import readers
from r2wifi.logs.events import KEYWORDS, parse_line

NEEDLES = sorted(set(KEYWORDS))
PLAIN = readers.prefilter_regex(KEYWORDS)
ANCHORED = readers.anchored_regex(KEYWORDS)

needs_grep = pytest.mark.skipif(readers.grep_binary() is None, reason="no usable grep on this system")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(NEEDLES).map(lambda k: k[: len(k) // 2 + 1]),
                          st.sampled_from(NEEDLES).map(lambda k: k[len(k) // 3:]),
                          st.sampled_from(NEEDLES), st.text(max_size=8)), max_size=6))
def test_anchored_regex_finds_the_same_lines_as_the_plain_alternation(parts: list[str]) -> None:
    """Lines glued from keywords, keyword halves and noise match the anchored regex iff they contain a keyword."""
    line = "".join(parts).replace("\n", " ").encode("utf-8", "replace")
    assert bool(ANCHORED.search(line)) == bool(PLAIN.search(line))


def test_every_keyword_matches_alone_and_inside_noise() -> None:
    """Each keyword is found on its own, at line start/end and amid text, and its match stays inside it."""
    for k in NEEDLES:
        kb = k.encode()
        for line in (kb, b"xx " + kb, kb + b" yy", b"[ 1.0] " + kb + b" tail"):
            m = ANCHORED.search(line)
            assert m is not None, k
            start = line.index(kb)
            assert start <= m.start() and m.end() <= start + len(kb), k


def test_debug_chatter_that_yields_no_event_is_not_a_hit() -> None:
    """-dd lines that only look interesting (entropy, EAPOL timeout config, ap_max_inactivity, flags) never reach Python."""
    chatter = [
        "Get randomness: len=32 entropy=0",
        "WPA: Use EAPOL-Key timeout of 1000 ms (retry counter 1)",
        "ap_sta_add: register ap_handle_timer timeout for 02:00:00:00:00:01 (300 seconds - ap_max_inactivity)",
        "VLAN: RTM_NEWLINK: ifi_index=4 ifname=wlan0 ifi_family=0 ifi_flags=0x11043 ([UP][RUNNING][LOWER_UP])",
        "phy: phy0",
        "nl80211: interface wlan0 in phy phy0",
    ]
    for line in chatter:
        assert parse_line(line) == [], line
        assert ANCHORED.search(line.encode()) is None, line
    assert ANCHORED.search(b"wlan0: STA 02:00:00:00:00:01 WPA: EAPOL-Key timeout")
    assert ANCHORED.search(b"[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!")
    assert ANCHORED.search(b"random: Not enough entropy in random pool for secure operations")


def _write_mixed(p: Path, n: int) -> list[int]:
    """A log of noise with a hit every 7th line (CRLF on some, no final newline); returns hit line numbers."""
    lines = []
    hits = []
    for i in range(1, n + 1):
        if i % 7 == 0:
            lines.append(f"wlan0: STA 02:00:00:00:{i >> 8 & 255:02x}:{i & 255:02x} IEEE 802.11: associated")
            hits.append(i)
        else:
            lines.append(f"noise line {i} " + "x" * (i % 50) + ("\r" if i % 5 == 0 else ""))
    p.write_bytes("\n".join(lines).encode())
    return hits


@needs_grep
def test_grep_and_python_scans_yield_the_same_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both scanners give the same (line, bytes) hits, next lines and totals, across chunk and window edges."""
    monkeypatch.setattr(readers, "CHUNK", 4096)
    monkeypatch.setattr(readers, "WINDOW", 1024)
    p = tmp_path / "mixed.log"
    hits = _write_mixed(p, 3001)
    src = readers.Source(str(p), str(p))
    seen = {}
    for grep in (readers.grep_binary(), None):
        scan = readers.Scan(src, KEYWORDS, grep=grep)
        got = []
        for batch in scan.batches():
            for hit in batch:
                line, raw, after = readers.hit_fields(hit)
                got.append((line, raw, scan.line_at(after)))
        seen[grep is None] = (got, scan.lines, scan.nbytes)
    assert seen[True][0] == seen[False][0]
    assert [g[0] for g in seen[True][0]] == hits
    assert seen[True][0][0][2] == b"noise line 8 " + b"x" * 8
    assert seen[True][1] == seen[False][1] == 3001
    assert seen[False][2] == p.stat().st_size


def test_line_at_reads_past_the_window_and_the_file_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The line after a hit is read from the file when outside the chunk and window; a huge or absent line is None."""
    monkeypatch.setattr(readers, "CHUNK", 32)
    monkeypatch.setattr(readers, "WINDOW", 64)
    p = tmp_path / "x.log"
    p.write_bytes(b"a" * 100 + b"\nsecond line\n" + b"b" * 600 + b"\nlast")
    scan = readers.Scan(readers.Source(str(p), str(p)), ["second"], grep=None)
    calls = 0
    for _batch in scan.batches():
        calls += 1
        assert scan.line_at(0) == b"a" * 100
        assert scan.line_at(101 + 12) is None  # 600 bytes without newline: cannot be a wrapped tail
        assert scan.line_at(101 + 12 + 601) == b"last"
        assert scan.line_at(p.stat().st_size) is None
    assert calls == 1


@pytest.mark.parametrize("no_grep", [False, True])
def test_hard_wrap_is_joined_across_a_chunk_edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_grep: bool) -> None:
    """An e-mail-wrapped event whose tail starts the next chunk is still rejoined (both scan paths)."""
    if no_grep:
        monkeypatch.setenv("R2WIFI_NO_GREP", "1")
    head = "wlan0: STA 02:00:00:00:01:00 IEEE 802.11: deauthenticated due to"
    tail = "inactivity (timer DEAUTH/REMOVE)"
    noise = "".join(f"noise {i:05d} padding padding padding\n" for i in range(200))
    text = noise + head + "\n" + tail + "\n" + noise
    p = tmp_path / "wrapped.log"
    p.write_text(text)
    monkeypatch.setattr(readers, "CHUNK", len((noise + head + "\n").encode()))
    r = diagnose([str(p)])
    timeline = r["stations"][0]["timeline"]  # type: ignore[index]
    assert [e["kind"] for e in timeline] == ["inactivity"]
    assert timeline[0]["text"].endswith("due to inactivity (timer DEAUTH/REMOVE)")
    assert r["inputs"][0]["paste_damage_lines"] == 1  # type: ignore[index]


def test_big_logs_are_searched_for_hard_wraps_only_when_their_sample_shows_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the paste size a log is joined across hard wraps only if its first lines show one (no paste is MBs)."""
    from r2wifi.diagnose import analyze

    monkeypatch.setattr(analyze, "PASTE_MAX_BYTES", 1000)
    head = "wlan0: STA 02:00:00:00:01:00 IEEE 802.11: deauthenticated due to"
    tail = "inactivity (timer DEAUTH/REMOVE)"
    noise = "".join(f"noise {i:05d} padding padding padding\n" for i in range(500))
    late = tmp_path / "late.log"
    late.write_text(noise + head + "\n" + tail + "\n")
    assert diagnose([str(late)])["inputs"][0]["paste_damage_lines"] == 0  # type: ignore[index]
    early = tmp_path / "early.log"
    early.write_text(head + "\n" + tail + "\n" + noise + head + "\n" + tail + "\n")
    assert diagnose([str(early)])["inputs"][0]["paste_damage_lines"] == 2  # type: ignore[index]


def test_many_benign_lines_are_all_counted(tmp_path: Path) -> None:
    """Thousands of repeated benign lines are counted exactly (bulk counting) with capped evidence."""
    lines = []
    for i in range(3000):
        lines.append("nl80211: set_key failed; err=-22 Invalid argument)")
        if i % 3 == 0:
            lines.append("RSN: PTK removal from the driver failed")
        if i == 1500:
            lines.append("wlan0: AP-STA-POLL-OK 02:00:00:00:01:00")
    p = tmp_path / "benign.log"
    p.write_text("\n".join(lines) + "\n")
    r = diagnose([str(p)])
    (f,) = [f for f in r["findings"] if f["kind"] == "benign_noise"]  # type: ignore[attr-defined]
    assert f["params"]["what"]["set_key_failed"] == 3000
    assert f["params"]["what"]["ptk_removal"] == 1000
    assert len(f["evidence"]) <= 12


@needs_grep
def test_line_count_without_final_newline_matches_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the last line is a hit without a newline, grep and Python report the same line count."""
    p = tmp_path / "x.log"
    p.write_text("noise\nwlan0: AP-ENABLED\nmore noise\nwlan0: AP-DISABLED")
    a = diagnose([str(p)])["inputs"][0]  # type: ignore[index]
    monkeypatch.setenv("R2WIFI_NO_GREP", "1")
    b = diagnose([str(p)])["inputs"][0]  # type: ignore[index]
    assert a["lines"] == b["lines"] == 4
    assert a["bytes"] == p.stat().st_size


def test_grep_pattern_is_the_keyword_alternation() -> None:
    """The grep -E pattern escapes every keyword literally (Python's re reads ERE escapes the same way)."""
    rx = re.compile(readers.grep_pattern(KEYWORDS))
    for k in NEEDLES:
        assert rx.fullmatch(k), k
    assert rx.search("Get randomness: len=32 entropy=0") is None


@needs_grep
def test_an_absurdly_long_hit_line_is_cut_with_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A matching line longer than readers.MAX_LINE is cut to MAX_LINE bytes; the lines around it still count."""
    monkeypatch.setattr(readers, "MAX_LINE", 1000)
    p = tmp_path / "huge.log"
    p.write_text("wlan0: AP-ENABLED\n" + "wlan0: AP-DISABLED " + "z" * (3 << 20) + "\n"
                 + "wlan0: STA 02:00:00:00:01:00 IEEE 802.11: associated\n")
    scan = readers.Scan(readers.Source(str(p), str(p)), KEYWORDS, grep=readers.grep_binary())
    got = [readers.hit_fields(h)[:2] for batch in scan.batches() for h in batch]
    assert got == [(1, b"wlan0: AP-ENABLED"), (2, b"wlan0: AP-DISABLED " + b"z" * 981),
                   (3, b"wlan0: STA 02:00:00:00:01:00 IEEE 802.11: associated")]
    assert scan.lines == 3


_MESSAGES = [
    "wlan0: STA 02:00:00:00:00:{:02x} IEEE 802.11: associated (aid 1)",
    "wlan0: STA 02:00:00:00:00:{:02x} WPA: sending 1/4 msg of 4-Way Handshake",
    "wlan0: STA 02:00:00:00:00:{:02x} WPA: EAPOL-Key timeout",
    "wlan0: AP-STA-CONNECTED 02:00:00:00:00:{:02x}",
    "wlan0: STA 02:00:00:00:00:{:02x} IEEE 802.11: disassociated",
    "p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: {}",
    "nl80211: set_key failed; err=-22 Invalid argument)",
    "brcmfmac: brcmf_sdio_txfail: sdio error, abort command and terminate frame {}",
    "mmc1: Timeout waiting for hardware interrupt.",
    "[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info! {}",
]
_STAMPS = st.one_of(
    st.tuples(st.just("kmsg"), st.integers(0, 7), st.integers(0, 10**9)),
    st.tuples(st.just("epoch"), st.integers(10**9, 2 * 10**9 - 1), st.integers(0, 999999)),
    st.tuples(st.just("dmesg"), st.integers(0, 10**6), st.integers(0, 999999)),
    st.tuples(st.just("syslog"), st.integers(1, 28), st.integers(0, 86399)),
    st.tuples(st.just("syslog-kernel"), st.integers(1, 28), st.integers(0, 10**6)),
    st.tuples(st.just("rfc3339"), st.integers(1, 28), st.integers(0, 86399)),
    st.tuples(st.just("rfc3339-kernel"), st.integers(1, 28), st.integers(0, 10**6)),
    st.tuples(st.just("logread"), st.integers(1, 28), st.integers(0, 86399)),
    st.tuples(st.just("logread-kernel"), st.integers(1, 28), st.integers(0, 10**6)),
)


# stamp kind -> (a, b, "HH:MM:SS" from b) -> the wrapper before the message
_WRAPPERS: dict[str, Callable[[int, int, str], str]] = {
    "kmsg": lambda a, b, hms: f"{a},{b % 9973},{b},-;",
    "epoch": lambda a, b, hms: f"{a}.{b:06d}: ",
    "dmesg": lambda a, b, hms: f"[{a:5d}.{b:06d}] ",
    "syslog": lambda a, b, hms: f"Nov {a:2d} {hms} ap hostapd: ",
    "syslog-kernel": lambda a, b, hms: f"Nov {a:2d} 10:00:{a:02d} ap kernel: [{b:6d}.{a:06d}] ",
    "rfc3339": lambda a, b, hms: f"2026-11-{a:02d}T{hms}.{b:06d}+0{a % 3}:00 ap hostapd[4{a}]: ",
    "rfc3339-kernel": lambda a, b, hms: f"2026-11-{a:02d} 10:00:{a:02d}Z ap kernel: [{b:6d}.{a:06d}] ",
    "logread": lambda a, b, hms: f"Tue Nov {a:2d} {hms} 2026 daemon.notice hostapd: ",
    "logread-kernel": lambda a, b, hms: f"Tue Nov {a:2d} 10:00:{a:02d} 2026 kern.info kernel: [{b:6d}.{a:06d}] ",
}


def _stamped(stamp: tuple[str, int, int], msg: str) -> str:
    kind, a, b = stamp
    return _WRAPPERS[kind](a, b, f"{b // 3600 % 24:02d}:{b // 60 % 60:02d}:{b % 60:02d}") + msg


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_STAMPS, st.integers(0, len(_MESSAGES) - 1), st.integers(0, 3)), min_size=1, max_size=60))
def test_stamped_lines_give_the_same_result_through_the_tail_cache(tmp_path_factory: pytest.TempPathFactory,
                                                                   lines: list[tuple[tuple[str, int, int], int, int]]) -> None:
    """Repeats of a message under any stamp (kmsg, -t, dmesg, syslog, RFC 3339, logread) diagnose as line by line."""
    path = tmp_path_factory.mktemp("stamped") / "mixed.log"
    from r2wifi.diagnose import analyze

    path.write_text("".join(_stamped(s, _MESSAGES[i].format(n)) + "\n" for s, i, n in lines))
    analyze._TAIL_CACHE.clear()
    fast = diagnose([str(path)])
    if not fast["inputs"][0]["newest_first"]:  # type: ignore[index]  # (a reversed paste is read line by line)
        assert analyze._TAIL_CACHE, "no stamped line took the tail-cache path"
    slow = diagnose([str(path)], learn=lambda _t: None)  # every line through the unwrap + classify path
    for key in ("findings", "stations", "metrics", "verdict"):
        assert fast[key] == slow[key], key
    assert fast["inputs"][0]["formats"] == slow["inputs"][0]["formats"]  # type: ignore[index]
