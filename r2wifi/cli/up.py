"""``r2wifi up [--ap|--sta] [--config F]``: bring the AP (or station) up; safe to re-run.

Steps and rules: :mod:`r2wifi.service.ap`. Prints one line per step and the result.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--ap", dest="mode", action="store_const", const="ap", help="access point (default)")
    mode.add_argument("--sta", dest="mode", action="store_const", const="sta", help="station (client)")
    parser.add_argument("--config", metavar="FILE", help="configuration file (default /etc/r2wifi/r2wifi.toml)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def run(args: argparse.Namespace) -> int:
    from r2wifi.service.ap import ApController, ApLock, load, user_errors

    cfg = load(args.config)
    ctl = ApController(cfg, args.backend)
    try:
        with user_errors(), ApLock(ctl.dir):
            record = ctl.up(args.mode or "ap")
    finally:
        if not args.quiet:
            for line in ctl.log:
                sys.stdout.write(f"  {line}\n")
    if not args.quiet:
        where = f" (netns {record['netns']})" if record.get("netns") else ""
        sys.stdout.write(f"r2wifi: {record['mode']} up on {record['interface']}{where}\n")
    return 0
