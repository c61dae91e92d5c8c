"""Benchmark ``r2wifi diagnose`` on a big hostapd ``-dd`` + kernel log built from the corpus.

Builds ~``--size-mb`` MB (default 1024) in a temp dir by repeating the corpus' debug hostapd log
and kernel excerpts (with fresh MACs per block so stations stay distinct but bounded), then runs
the analysis in a child process per path - the mypyc-compiled modules with the external-grep fast
path (when ``r2wifi accel build`` was run), pure Python with grep, and pure Python with its own
scanner (``R2WIFI_NO_GREP=1``) - and ``grep -cE`` over exactly the keyword pattern the analyzer
prefilters with, and prints per path: MB/s, peak RSS, and the ratio to grep.
Goals: >= 150 MB/s, peak RSS < 150 MB, within 5x of grep.

    .venv/bin/python bench/diagnose.py --size-mb 200
"""

from __future__ import annotations

import argparse
import json
import os
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
from r2wifi.logs.readers import grep_binary, grep_pattern  # noqa: E402

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
    """``grep -cE`` over exactly the keyword set the analyzer prefilters with (same pattern, same locale)."""
    t0 = time.perf_counter()
    p = subprocess.run(["grep", "-cE", grep_pattern(KEYWORDS), str(path)], capture_output=True, text=True,
                       check=False, env=dict(os.environ, LC_ALL="C"))
    dt = time.perf_counter() - t0
    if p.returncode > 1:
        raise SystemExit(f"grep failed: {p.stderr.strip()}")
    return dt


def run_child(log: Path, no_grep: bool, compiled: bool = False) -> dict[str, float]:
    """One diagnosis in a fresh process (so each path gets its own peak RSS)."""
    env = dict(os.environ)
    env.pop("R2WIFI_NO_GREP", None)
    if no_grep:
        env["R2WIFI_NO_GREP"] = "1"
    env["R2WIFI_ACCEL"] = "1" if compiled else "0"
    p = subprocess.run([sys.executable, __file__, "--child", str(log)], capture_output=True, text=True,
                       check=True, env=env)
    return json.loads(p.stdout)


def child(log: str) -> int:
    from r2wifi import accel

    want = os.environ.get("R2WIFI_ACCEL") == "1"
    if want != accel.active():
        raise SystemExit(f"child: compiled modules {'not ' if want else ''}loaded as asked")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    result = diagnose([log])
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"dt": dt, "rss": rss, "rss0": rss0, "findings": len(result["findings"]),  # type: ignore[arg-type]
                      "stations": result["metrics"]["stations"]}))  # type: ignore[index]
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--child", metavar="LOG", help=argparse.SUPPRESS)
    ap.add_argument("--only", choices=("compiled", "grep", "python"), help="measure only this path (default: all)")
    ns = ap.parse_args()
    if ns.child:
        return child(ns.child)
    with tempfile.TemporaryDirectory(prefix="r2wifi-bench-") as tmp:
        log = Path(tmp) / "hostapd-dd-and-kernel.log"
        n = build(log, ns.size_mb)
        mb = n / (1 << 20)
        g = grep_seconds(log)
        runs = []
        from r2wifi import accel

        built, why = accel.check()
        if grep_binary() is not None and ns.only in (None, "compiled"):
            if built is not None:
                runs.append(("compiled+grep", run_child(log, False, compiled=True)))
            else:
                print(f"compiled:     skipped: {why}")
        if grep_binary() is not None and ns.only in (None, "grep"):
            runs.append(("Python+grep", run_child(log, False)))
        if ns.only in (None, "python"):
            runs.append(("pure Python", run_child(log, True)))
        g = min(g, grep_seconds(log))
    first = runs[0][1]
    print(f"input:        {mb:.0f} MB, {first['findings']:.0f} findings, {first['stations']:.0f} stations")
    print(f"grep -cE:     {g:.2f} s = {mb / g:.0f} MB/s over the analyzer's {len(set(KEYWORDS))} keywords")
    for label, r in runs:
        dt = r["dt"]
        print(f"{label + ':':14} {dt:.2f} s = {mb / dt:.0f} MB/s (goal >= 150), peak RSS {r['rss']:.0f} MB "
              f"(at start {r['rss0']:.0f}; goal < 150), diagnose/grep = {dt / g:.2f}x (goal <= 5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
