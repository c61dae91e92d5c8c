"""``r2wifi doctor``: check the live system (kernel, device tree, nodes, firmware, processes, radio).

Exit status: 0 when no check fails (warnings allowed), 1 when at least one check fails,
2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys

from r2wifi.cli import sysroot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "exit status: 0 all checks pass or warn, 1 at least one check fails, 2 bad arguments"
    parser.add_argument("--root", default="/", metavar="SYSROOT",
                        help="system root to inspect (default /; a fake tree for tests or an image)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from r2wifi.board.doctor import SysView, exit_code, render_text, run_doctor
    from r2wifi.paths import state_dir

    root = sysroot(args.root)
    results = run_doctor(SysView(root, state_dir=state_dir()))
    if args.json:
        sys.stdout.write(json.dumps({"root": str(root), "checks": [c.as_dict() for c in results],
                                     "exit": exit_code(results)}, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(results))
    return exit_code(results)
