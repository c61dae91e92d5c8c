#!/usr/bin/env python3
"""Benchmark: a chip step in-process (InProcessChipOps) against the same step as a `python -m r2wifi` process.

Starts a simulator (fast timing, no namespace) in a temporary directory, brings the chip up, then
times ``wifi off`` + ``wifi ap`` cycles both ways and a ``reset()`` power cycle. Prints per-way medians
and the per-step cost of a new interpreter (the figure that matters on the board, where each start
costs 0.2-0.5 s under TCG).

    .venv/bin/python bench/chipops.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["R2WIFI_STATE_DIR"] = f"{tmp}/state"
        os.environ["R2WIFI_SIM_DIR"] = f"{tmp}/sim"
        from r2wifi.service.chipops import InProcessChipOps
        from r2wifi.wmt.fwgen import write_firmware_set

        fw = write_firmware_set(Path(tmp) / "root")

        def cli(*a: str) -> None:
            subprocess.run([sys.executable, "-m", "r2wifi", "--backend", "sim", *a], check=True,
                           capture_output=True)

        cli("sim", "start", "--timing", "fast", "--no-netns", "--firmware-dir", str(fw))
        ops = InProcessChipOps("sim", firmware_dir=str(fw))
        try:
            ops.init()
            ops.launch()
            inproc, sub = [], []
            for _ in range(args.runs):
                t0 = time.monotonic()
                ops.wifi("off")
                ops.wifi("ap")
                inproc.append(time.monotonic() - t0)
                t0 = time.monotonic()
                cli("wifi", "off")
                cli("wifi", "ap")
                sub.append(time.monotonic() - t0)
            t0 = time.monotonic()
            ops.reset()
            reset_s = time.monotonic() - t0
        finally:
            pid = ops.launcher_pid()
            if pid:
                ops.stop_launcher()
            cli("sim", "stop")
        a, b = statistics.median(inproc), statistics.median(sub)
        print(f"wifi off+ap, median of {args.runs}: in-process {a * 1000:.1f} ms, as two r2wifi processes "
              f"{b * 1000:.1f} ms; a new interpreter per step costs {(b - a) / 2 * 1000:.1f} ms here")
        print(f"reset() power cycle (WiFi off, LPBK 0/1 with patch download, AP back): {reset_s * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
