"""Hostile input scenarios: random bytes, broken UTF-8, truncated and binary lines, 1 MB lines.

Whatever a user pastes or points r2wifi at, the parser and the analyzer neither crash nor hang
(pytest-timeout guards every test), and what they produce stays bounded.
"""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r2wifi.diagnose.analyze import diagnose
from r2wifi.diagnose.redact import Redactor
from r2wifi.logs.events import parse_line
from r2wifi.logs.model import Event

FUZZ_EXAMPLES = int(os.environ.get("R2WIFI_FUZZ_EXAMPLES", "300"))
CORPUS_SNIPPETS = [
    "wlan0: STA dc:56:7b:1d:3f:99 IEEE 802.11: associated (aid 1)",
    "May  3 15:57:16 akacja hostapd: wlp4s0: STA e0:b9:a5:34:57:83 WPA: EAPOL-Key timeout",
    "2024-02-09T15:55:10.360700+01:00 THE_SYSTEM kernel: [85972.934899] ieee80211 phy0: brcmf_fw_crashed: x",
    "Thu Apr  4 23:43:25 2019 daemon.info hostapd: wlan0-ap: STA 1e:e3:0e:49:xx:yy WPA: pairwise key handshake completed (RSN)",
    "[Jul 5, 2026, 1:21:09 PM GMT+2] daemon.debug: hostapd: phy0-ap0: STA xx:xx:xx:xx:xx:xx IEEE 802.11: deauthenticated",
    "Aug  4 11:35:37 | hostapd | 11217 | athp0_wlan0: STA 04:d6:aa:1a:6c:90 WPA: EAPOL-Key timeout",
    "1539711731.723773: Station 9c:2e:a1:91:cc:29 not allowed to authenticate",
    "6,1234,5678901,-;mtk_soc_eth: netif_stop_subqueue",
    "[   47.498018] [WMT-DETECT][I]wmt_detect_open:open major 154 minor 0 (pid 1)",
    "wlan0: CTRL-EVENT-DISCONNECTED bssid=3c:49:37:07:76:11 reason=3 locally_generated=1",
    "hostapd_wpa_auth_disconnect: WPA authenticator requests disconnect: STA XX:XX:XX:XX:XX:XX reason 2",
    "WPA: Replay Counter - hexdump(len=8): 00 00 00 00 00 00 00 01",
    "Configuration file: /etc/hostapd/hostapd.conf",
]
MAX_EVENTS_PER_LINE = 16

line_text = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", errors="replace")),
    st.tuples(st.sampled_from(CORPUS_SNIPPETS), st.integers(0, 200), st.text(max_size=40)).map(
        lambda t: t[0][: t[1]] + t[2]  # truncated real line with garbage glued on
    ),
    st.tuples(st.text(max_size=20), st.sampled_from(CORPUS_SNIPPETS), st.text(max_size=20)).map("".join),
)


def check_events(events: list[Event], *, file: str, line: int) -> None:
    assert isinstance(events, list)
    assert len(events) <= MAX_EVENTS_PER_LINE
    for ev in events:
        assert isinstance(ev, Event)
        assert ev.file == file and ev.line == line
        assert isinstance(ev.kind, str) and ev.kind


@pytest.mark.timeout(120)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line_text, st.integers(1, 10**9))
def test_parse_line_survives_any_line(raw: str, lineno: int) -> None:
    """Any text, decoded garbage or mangled real line gives a short list of well-formed events."""
    check_events(parse_line(raw, file="fuzz.log", line=lineno), file="fuzz.log", line=lineno)


@pytest.mark.timeout(60)
def test_parse_line_on_megabyte_lines() -> None:
    """1 MB lines of repeated MACs, of hex dump, and of one real line padded with junk do not hang."""
    lines = [
        "wlan0: STA dc:56:7b:1d:3f:99 " * 36_000,
        "hexdump(len=1000000): " + "ab " * 333_333,
        CORPUS_SNIPPETS[1] + " " + "x" * 1_000_000,
        "[" * 1_000_000,
        "a:" * 500_000,
    ]
    for i, raw in enumerate(lines, start=1):
        check_events(parse_line(raw, file="big.log", line=i), file="big.log", line=i)


def _check_result(result: dict, max_json: int) -> None:
    for key in ("findings", "stations", "metrics", "inputs", "verdict"):
        assert key in result
    assert result["verdict"]["status"] in ("ok", "warning", "error", "unknown")
    text = json.dumps(result)
    assert len(text) <= max_json, len(text)


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.timeout(120)
def test_diagnose_on_binary_and_broken_files(tmp_path: Path) -> None:
    """Random bytes, invalid UTF-8, NULs, CR-only line ends, truncated gzip: a result, never a traceback."""
    rng = random.Random(4242)
    real = "\n".join(CORPUS_SNIPPETS).encode()
    files = [
        _write(tmp_path / "random.bin", rng.randbytes(200_000)),
        _write(tmp_path / "latin1.log", "wlan0: STA dc:56:7b:1d:3f:99 IEEE 802.11: associated \xe9\xff".encode("latin-1") * 500),
        _write(tmp_path / "nul.log", real.replace(b" ", b"\x00") + b"\x00" * 10_000),
        _write(tmp_path / "cr.log", real.replace(b"\n", b"\r") * 50),
        _write(tmp_path / "surrogates.log", b"\xed\xa0\x80\xf4\x90\x80\x80 " + real + b"\xc3"),
        _write(tmp_path / "empty.log", b""),
    ]
    whole = gzip.compress(real * 100)
    files.append(_write(tmp_path / "cut.log.gz", whole[: len(whole) // 2]))
    for f in files:
        try:
            result = diagnose([f])
        except Exception as err:  # noqa: BLE001 - only UserError is allowed to escape
            from r2wifi.errors import UserError

            assert isinstance(err, UserError), f"{f}: {err!r}"
            assert "\n" not in str(err)
            continue
        _check_result(result, 2_000_000)


@pytest.mark.timeout(120)
def test_diagnose_on_megabyte_lines(tmp_path: Path) -> None:
    """A file of 1 MB lines (hexdump, repeated station lines, no newline at the end) is diagnosed."""
    big = tmp_path / "big.log"
    with open(big, "w", encoding="utf-8") as fh:
        fh.write(CORPUS_SNIPPETS[0] + "\n")
        fh.write("hexdump(len=1000000): " + "ab " * 333_333 + "\n")
        fh.write("wlan0: STA dc:56:7b:1d:3f:99 IEEE 802.11: disassociated " * 18_000 + "\n")
        fh.write("y" * 1_000_000)
    _check_result(diagnose([str(big)]), 2_000_000)


@pytest.mark.timeout(180)
def test_diagnose_output_is_bounded_for_thousands_of_stations(tmp_path: Path) -> None:
    """3000 distinct stations each associating 3 times still give a bounded timeline per station."""
    path = tmp_path / "many.log"
    with open(path, "w", encoding="utf-8") as fh:
        for rnd in range(3):
            for i in range(3000):
                mac = f"02:aa:{i >> 8:02x}:{i & 0xFF:02x}:00:{rnd:02x}"[:-3] + ":01"
                fh.write(f"wlan0: STA {mac} IEEE 802.11: associated (aid 1)\n")
                fh.write(f"wlan0: STA {mac} IEEE 802.11: disassociated\n")
    result = diagnose([str(path)])
    _check_result(result, 60_000_000)
    for stn in result["stations"]:
        assert len(stn.get("timeline") or []) <= 1000
    for f in result["findings"]:
        assert len(f["evidence"]) <= 1000


@pytest.mark.timeout(120)
@settings(max_examples=max(10, FUZZ_EXAMPLES // 10), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(line_text, min_size=1, max_size=60))
def test_diagnose_then_render_any_mix_of_lines(tmp_path: Path, lines: list[str]) -> None:
    """Random mixes of real and broken lines go through diagnose, redaction and both reports."""
    import io

    from r2wifi.diagnose import report_html, report_term

    path = tmp_path / "mix.log"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogateescape")
    red = Redactor()
    result = diagnose([str(path)], learn=red.learn_line)
    _check_result(result, 2_000_000)
    redacted = red.redact_obj(result)
    assert isinstance(redacted, dict)
    buf = io.StringIO()
    report_term.render(redacted, buf)
    assert buf.getvalue().startswith("Verdict: ")
    page = report_html.render(redacted)
    assert page.count('<svg class="timeline"') == len(result["stations"])


# ----------------------------------------------------------------------------- the CLI as a whole
def _pack(fmt: str, data: bytes) -> bytes:
    import bz2
    import lzma

    if fmt == "gz":
        return gzip.compress(data)
    if fmt == "bz2":
        return bz2.compress(data)
    if fmt == "xz":
        return lzma.compress(data)
    import zstandard  # a test extra (pyproject): .zst inputs are part of the contract

    return zstandard.ZstdCompressor().compress(data)


def _damage(blob: bytes, how: tuple[str, int, int]) -> bytes:
    kind, pos, byte = how
    if not blob or kind == "none":
        return blob
    pos %= len(blob)
    if kind == "truncate":
        return blob[:pos]
    return blob[:pos] + bytes([byte]) + blob[pos + 1:]  # one byte changed


soup = st.lists(line_text, max_size=40).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogateescape"))
compressed = st.tuples(st.sampled_from(["gz", "bz2", "xz", "zst"]), soup,
                       st.tuples(st.sampled_from(["none", "truncate", "flip"]), st.integers(0, 10**6),
                                 st.integers(0, 255))).map(lambda t: _damage(_pack(t[0], t[1]), t[2]))
any_input = st.one_of(st.binary(max_size=2000), soup, compressed)


def _run_main(args: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    from r2wifi.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.timeout(600)
@settings(max_examples=max(30, FUZZ_EXAMPLES // 3), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(any_input, st.sampled_from([".log", ".gz", ".log.zst", ""]), st.sampled_from(["error", "warning"]))
def test_diagnose_cli_exit_code_convention(data: bytes, suffix: str, fail_on: str) -> None:
    """Random bytes, line soups, random and corrupt gzip/bzip2/xz/zstd: exit 0, 1 or 2 by the convention.

    0/1: the JSON verdict is known and 1 exactly when a finding reaches --fail-on; 2: verdict
    unknown (JSON printed) with one error line on stderr. Never a traceback (main() would raise).
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        rc, out, err = _run_main(["diagnose", "--json", "--fail-on", fail_on, str(path)])
    assert rc in (0, 1, 2)
    result = json.loads(out)
    status = result["verdict"]["status"]
    if rc == 2:
        assert status == "unknown"
        assert err.count("\n") == 1 and err.startswith("r2wifi: error: verdict unknown: "), err
    else:
        assert status in ("ok", "warning", "error") and err == ""
        levels = {"warning": ("warning", "error"), "error": ("error",)}[fail_on]
        assert rc == (1 if any(f["severity"] in levels for f in result["findings"]) else 0)
    assert len(out) < 2_000_000


@pytest.mark.timeout(300)
def test_gzip_bomb_and_endless_line_stay_in_bounded_memory(tmp_path: Path) -> None:
    """A 1 GiB gzip bomb with no newline is read in a child limited to 1 GiB of address space."""
    import resource
    import subprocess
    import sys
    import zlib

    bomb = tmp_path / "bomb.log.gz"
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(bomb, "wb") as fh:
        fh.write(z.compress(b"wlan0: AP-ENABLED\n"))
        block = b"A" * (1 << 20)
        for _ in range(1024):
            fh.write(z.compress(block))
        fh.write(z.flush())

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    p = subprocess.run([sys.executable, "-m", "r2wifi", "diagnose", "--json", "--max-decompressed", "2G", str(bomb)],
                       capture_output=True, text=True, preexec_fn=limit, timeout=280)
    assert p.returncode == 0, p.stderr[-2000:]
    result = json.loads(p.stdout)
    assert result["inputs"][0]["lines"] == 2 and result["inputs"][0]["bytes"] == 18 + (1 << 30)
