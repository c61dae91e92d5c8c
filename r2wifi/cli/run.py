"""``r2wifi run [--config F]``: bring the AP up and keep it up (systemd ``Type=notify``).

Detectors, the recovery ladder and their theory: :mod:`r2wifi.service.ladder`; the I/O around
it: :mod:`r2wifi.service.supervisor`. SIGTERM stops supervising and leaves the AP as it is
(the service file runs ``r2wifi down`` on stop). Exit code 1 when the recovery limit is reached,
so the service manager restarts it.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from r2wifi.service.ap import ApController
    from r2wifi.service.sdnotify import Notifier


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (default /etc/r2wifi/r2wifi.toml)")
    parser.add_argument("--sta", action="store_true", help="supervise station mode instead of the AP")
    parser.add_argument("--down-on-exit", action="store_true", help="run 'down' when stopped")


def run(args: argparse.Namespace) -> int:
    from r2wifi.service.ap import ApController, load
    from r2wifi.service.sdnotify import Notifier

    cfg = load(args.config)
    ctl = ApController(cfg, args.backend)
    notifier = Notifier()
    notifier.status("bringing the AP up")
    ctl.claim_supervisor()
    try:
        return _supervise(args, ctl, notifier)
    finally:
        ctl.release_supervisor()


def _supervise(args: argparse.Namespace, ctl: ApController, notifier: Notifier) -> int:
    from r2wifi.service.ap import ApLock
    from r2wifi.service.supervisor import Supervisor, kmsg_source

    with ApLock(ctl.dir):
        ctl.up("sta" if args.sta else "ap")
    for line in ctl.log:
        sys.stderr.write(f"r2wifi run: {line}\n")
    kmsg = kmsg_source(ctl.backend) if ctl.cfg.chip.enabled else None
    sup = Supervisor(ctl, notifier=notifier, kmsg=kmsg)

    def on_term(_sig: int, _frame: object) -> None:
        sup.stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    rc = sup.run()
    sup.say("stopped")
    if args.down_on_exit:
        with ApLock(ctl.dir):
            ctl.down()
    return rc
