"""``r2wifi down``: stop what r2wifi started and remove what it added; nothing else is touched."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (default /etc/r2wifi/r2wifi.toml)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def run(args: argparse.Namespace) -> int:
    from r2wifi.service.ap import ApController, ApLock, load_or_default, user_errors

    cfg = load_or_default(args.config)  # `down` must work even when the config file is gone
    ctl = ApController(cfg, args.backend)
    stopped = ctl.stop_supervisor()  # before the lock: a recovery in progress may hold it
    with user_errors(), ApLock(ctl.dir):
        done = ctl.down()
    if stopped:
        done.insert(0, "stopped the supervisor (r2wifi run)")
    if not args.quiet:
        for line in done:
            sys.stdout.write(f"  {line}\n")
        sys.stdout.write("r2wifi: down\n" if done else "r2wifi: nothing of ours was running\n")
    return 0
