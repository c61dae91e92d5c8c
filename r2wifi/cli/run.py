"""``r2wifi run [--config F]``: bring the AP up and keep it up (systemd ``Type=notify``).

Detectors, the recovery ladder and their theory: :mod:`r2wifi.service.ladder`; the I/O around
it: :mod:`r2wifi.service.supervisor`.

Rules:
* One supervisor: ``run`` first takes the supervisor lock (:meth:`ApController.claim_supervisor`, a
  flock held for its whole life). A second ``run`` exits with code 2 and a one-line message naming
  the running one (the same code as every refused command); ``r2wifi down`` stops the holder.
* It never exits on its own: past the recovery budget it keeps trying (degraded, see the ladder).
* SIGTERM / SIGINT stop supervising and leave the AP as it is (the service file runs ``r2wifi
  down`` on stop; ``--down-on-exit`` does it here); a SIGTERM during the bring-up stops it at the
  next step (what was done is undone by ``down``). Exit code 0.
* SIGHUP re-reads the configuration (:meth:`Supervisor.reload`): what changed is logged and what
  needs it is redone; a configuration that does not load is reported and the old one kept.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from r2wifi.service.ap import ApController
    from r2wifi.service.sdnotify import Notifier


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (default /etc/r2wifi/r2wifi.toml)")
    parser.add_argument("--sta", action="store_true", help="supervise station mode instead of the AP")
    parser.add_argument("--down-on-exit", action="store_true", help="run 'down' when stopped")
    parser.add_argument("--metrics-listen", metavar="ADDR:PORT",
                        help="serve Prometheus metrics over HTTP at /metrics (e.g. 127.0.0.1:9477)")


def run(args: argparse.Namespace) -> int:
    from r2wifi.service.ap import ApController, load
    from r2wifi.service.sdnotify import Notifier

    cfg = load(args.config)
    ctl = ApController(cfg, args.backend)
    stop = threading.Event()
    reload = threading.Event()

    def on_term(_sig: int, _frame: object) -> None:
        stop.set()

    def on_hup(_sig: int, _frame: object) -> None:
        reload.set()

    # Before anything else: a SIGTERM (from `down`) or SIGHUP must never kill us half-way.
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_hup)
    ctl.claim_supervisor()
    ctl.cancel = stop
    notifier = Notifier()
    notifier.status("bringing the AP up")
    metrics = None
    try:
        from r2wifi.service.metrics import serve_for

        metrics = serve_for(getattr(args, "metrics_listen", None), ctl)  # r2wifi.service.metrics
        return _supervise(args, ctl, notifier, stop, reload)
    finally:
        if metrics is not None:
            metrics.close()
        ctl.release_supervisor()


def _supervise(args: argparse.Namespace, ctl: ApController, notifier: Notifier, stop: threading.Event,
               reload: threading.Event) -> int:
    from r2wifi.service.ap import ApLock, Cancelled
    from r2wifi.service.supervisor import Supervisor, kmsg_source

    try:
        with ApLock(ctl.dir):
            ctl.up("sta" if args.sta else "ap")
    except Cancelled:
        sys.stderr.write("r2wifi run: stopped during the bring-up\n")
        return 0
    finally:
        for line in ctl.log:
            sys.stderr.write(f"r2wifi run: {line}\n")
    kmsg = kmsg_source(ctl.backend) if ctl.cfg.chip.enabled else None
    sup = Supervisor(ctl, notifier=notifier, kmsg=kmsg, stop=stop)
    sup.reload_requested = reload
    sup.config_arg = args.config
    rc = sup.run()
    sup.say("stopped")
    if args.down_on_exit:
        ctl.cancel = None
        with ApLock(ctl.dir):
            ctl.down()
    return rc
