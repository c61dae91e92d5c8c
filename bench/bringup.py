#!/usr/bin/env python3
"""Benchmark: the demo bring-up (chip init -> chip launch --daemon -> wifi ap) on the simulator.

Prints, per run and as the median over runs: total time, the sum of the simulator's inherent
driver delays, r2wifi's overhead (total minus inherent) and the ratio to the 15 s of fixed
sleeps in frank-w's wifi.sh (3 + 5 + 5 + 2). Goal: overhead under 100 ms.

    .venv/bin/python bench/bringup.py [--runs 3] [--timing realistic|fast]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from r2wifi.cli.demo import WIFI_SH_SLEEPS_S, run_demo  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timing", choices=("realistic", "fast"), default="realistic")
    args = ap.parse_args()
    rows = []
    for n in range(1, args.runs + 1):
        res = run_demo(args.timing)
        steps = ", ".join(f"{s['step']} {s['seconds']:.3f}s (inherent {s['inherent_s']:.3f}s)" for s in res["steps"])
        print(f"run {n}: total {res['total_s']:.3f} s, inherent {res['inherent_s']:.3f} s, "
              f"overhead {res['overhead_s'] * 1000:.1f} ms  [{steps}]")
        rows.append(res)
    total = statistics.median(r["total_s"] for r in rows)
    inherent = statistics.median(r["inherent_s"] for r in rows)
    overhead = statistics.median(r["overhead_s"] for r in rows)
    print(f"median of {len(rows)} ({args.timing} timing): total {total:.3f} s, inherent {inherent:.3f} s, "
          f"overhead {overhead * 1000:.1f} ms (goal < 100 ms: {'met' if overhead < 0.1 else 'NOT met'})")
    print(f"wifi.sh fixed sleeps {WIFI_SH_SLEEPS_S} s / r2wifi total {total:.3f} s = {WIFI_SH_SLEEPS_S / total:.1f}x; "
          f"overhead is {overhead / WIFI_SH_SLEEPS_S * 100:.2f}% of the sleeps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
