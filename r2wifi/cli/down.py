"""``r2wifi down``: stop what r2wifi started and remove what it added; nothing else is touched.

The supervisor (``r2wifi run``) is stopped first and its lock held until the end (see
:meth:`r2wifi.service.ap.ApController.stop_supervisor`).
"""

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
    # The supervisor lock first (SIGTERM to its holder, `r2wifi run`): held until we are done, so no
    # supervisor can bring the AP back during or after this `down`. Before the AP lock: a recovery in
    # progress may hold that one.
    stopped = ctl.stop_supervisor()
    try:
        with user_errors(), ApLock(ctl.dir):
            done = ctl.down()
    finally:
        ctl.release_supervisor()
    if stopped:
        done.insert(0, "stopped the supervisor (r2wifi run)")
    if not args.quiet:
        for line in done:
            sys.stdout.write(f"  {line}\n")
        sys.stdout.write("r2wifi: down\n" if done else "r2wifi: nothing of ours was running\n")
    return 0
