"""``r2wifi metrics [--config F] [--output FILE] [--log PATH]...``: Prometheus text exposition.

Prints the AP's metrics (names, types and sources: :mod:`r2wifi.service.metrics`) once, for
node_exporter's textfile collector (``--output /var/lib/prometheus/node-exporter/r2wifi.prom``,
written atomically so the collector never reads half a file) or a cron job. ``--log`` adds a log
(e.g. ``/var/log/kern.log`` for TX-queue stops) to r2wifi's own. ``r2wifi run --metrics-listen
127.0.0.1:9477`` serves the same text over HTTP while it supervises. Exit code 0, or 2 for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (default /etc/r2wifi/r2wifi.toml)")
    parser.add_argument("--output", metavar="FILE", help="write to FILE atomically instead of stdout (mode 0644)")
    parser.add_argument("--log", metavar="PATH", action="append", default=[],
                        help="another log to count from (repeatable), e.g. the kernel log")


def run(args: argparse.Namespace) -> int:
    from r2wifi.errors import UserError
    from r2wifi.service.ap import load_or_default
    from r2wifi.service.metrics import sample

    for path in args.log:
        if not os.path.exists(path):
            raise UserError(f"--log {path}: no such file or directory")
    cfg = load_or_default(args.config)
    text = sample(cfg, args.backend, args.log)
    if args.output:
        from r2wifi.fsutil import atomic_write

        try:
            atomic_write(args.output, text, mode=0o644)
        except OSError as err:
            raise UserError(f"--output {args.output}: cannot write ({err.strerror or err})") from None
    else:
        sys.stdout.write(text)
    return 0
