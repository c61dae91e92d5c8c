"""``r2wifi accel build | status | remove``: the optional compiled accelerator of ``diagnose``.

``build`` compiles the diagnose hot path with mypyc (needs mypy, gcc and the Python headers);
``status`` says whether ``diagnose`` runs compiled or pure Python, and why; ``remove`` deletes the
build. Pure Python always works; see :mod:`r2wifi.accel` for the rules.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("build", "status", "remove"),
                        help="build the compiled modules, show which path runs, or remove the build")
    parser.add_argument("--dir", type=Path, metavar="DIR",
                        help="accelerator directory (default: $R2WIFI_ACCEL_DIR or <prefix>/lib/r2wifi-accel/<ABI>)")


def run(args: argparse.Namespace) -> int:
    from r2wifi import accel

    d = args.dir or accel.accel_dir()
    if args.action == "build":
        accel.build(d)
    elif args.action == "remove":
        shutil.rmtree(d, ignore_errors=True)
        print(f"removed {d}")
    else:
        files, why = accel.check(d)
        print(f"{'compiled' if files else 'pure Python'}: {why}")
    return 0
