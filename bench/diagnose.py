"""Benchmark ``r2wifi diagnose`` on a big hostapd ``-dd`` + kernel log built from the corpus.

Builds ~``--size-mb`` MB (default 1024) in a temp dir by repeating the corpus' debug hostapd log
and kernel excerpts (with fresh MACs per block so stations stay distinct but bounded), then runs
the analysis in this process and ``grep -cE`` over the same keyword set, and prints in one run:
MB/s, peak RSS, and the ratio to grep. Goals: >= 150 MB/s, peak RSS < 150 MB, within 5x of grep.

    .venv/bin/python bench/diagnose.py --size-mb 200
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from r2wifi.diagnose.analyze import diagnose  # noqa: E402
from r2wifi.logs.events import KEYWORDS  # noqa: E402

CORPUS = Path(os.environ.get("R2WIFI_SHARED", REPO.parent / "shared")) / "corpus" / "dev"


def build(path: Path, size_mb: int) -> int:
    hostapd = (CORPUS / "001-rpi4-brcmfmac-dd-psk-mismatch-disassoc-loop" / "hostapd.log").read_text()
    extra = (CORPUS / "002-iwlwifi-d-sta-deauth-reason3-after-handshake" / "hostapd.log").read_text()
    kernel = (CORPUS / "033-rpi4-ap-sdio-cmd53-timeouts-too-many-stas" / "syslog.log").read_text()
    kmsg = "".join(
        f"6,{i},{i * 1000},-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512\n"
        f"6,{i},{i * 1000 + 500},-;kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0\n"
        for i in range(5)
    )
    target = size_mb << 20
    written = 0
    block = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            mac = f"02:00:00:{(block >> 8) & 0xff:02x}:{block & 0xff:02x}:{block % 7:02x}"
            text = hostapd.replace("XX:XX:XX:XX:XX:XX", mac) + extra + kernel + kmsg
            out.write(text)
            written += len(text.encode("utf-8"))
            block = (block + 1) % 300
    return written


def grep_seconds(path: Path) -> float:
    pattern = "|".join(re.sub(r"([][.()*+?{}|^$\\])", r"\\\1", k) for k in sorted(set(KEYWORDS), key=len, reverse=True))
    t0 = time.perf_counter()
    p = subprocess.run(["grep", "-cE", pattern, str(path)], capture_output=True, text=True, check=False)
    dt = time.perf_counter() - t0
    if p.returncode > 1:
        raise SystemExit(f"grep failed: {p.stderr.strip()}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="r2wifi-bench-") as tmp:
        log = Path(tmp) / "hostapd-dd-and-kernel.log"
        n = build(log, ns.size_mb)
        mb = n / (1 << 20)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        result = diagnose([str(log)])
        dt = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        g = grep_seconds(log)
    print(f"input:        {mb:.0f} MB, {len(result['findings'])} findings, "  # type: ignore[arg-type]
          f"{result['metrics']['stations']} stations")  # type: ignore[index]
    print(f"diagnose:     {dt:.2f} s = {mb / dt:.0f} MB/s (goal >= 150 MB/s)")
    print(f"peak RSS:     {rss:.0f} MB (before the run {rss0:.0f} MB; goal < 150 MB)")
    print(f"grep -cE:     {g:.2f} s = {mb / g:.0f} MB/s; diagnose/grep = {dt / g:.2f}x (goal <= 5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
