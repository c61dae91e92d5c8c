"""Start-up cost of the CLI: `r2wifi --help` against a bare `python -c pass`, measured side by side.

Prints the median wall time of each over N runs and the ratio (goal: within 4x of a bare interpreter),
plus the modules `r2wifi --help` imports, so a regression (an eager pyroute2/rich import) is visible.

    .venv/bin/python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    py = sys.executable
    bare = timed([py, "-c", "pass"], args.runs)
    helpcmd = timed([py, "-m", "r2wifi", "--help"], args.runs)
    sub = timed([py, "-m", "r2wifi", "chip", "--help"], args.runs)
    probe = subprocess.run(
        [py, "-c", "import sys; import r2wifi.cli.main; print(len(sys.modules))"],
        capture_output=True, text=True, check=False,
    )
    print(f"python -c pass        {bare * 1000:7.1f} ms")
    print(f"r2wifi --help         {helpcmd * 1000:7.1f} ms   ratio {helpcmd / bare:4.2f}x (goal <= 4x)")
    print(f"r2wifi chip --help    {sub * 1000:7.1f} ms   ratio {sub / bare:4.2f}x")
    print(f"modules loaded by r2wifi.cli.main: {probe.stdout.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
