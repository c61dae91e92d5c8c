"""``r2wifi reload``: ask the running supervisor (``r2wifi run``) to re-read its configuration.

Sends SIGHUP to the holder of the supervisor lock (found by its pid file, checked against its start
time: :meth:`r2wifi.service.ap.ApController.supervisor_pid`). What the supervisor does with it:
:meth:`r2wifi.service.supervisor.Supervisor.reload`. No supervisor running -> exit 1 with one line.
Before signalling, the file is loaded and given the checks ``up`` makes
(:meth:`r2wifi.service.ap.ApController.preflight`: a channel the country forbids): what the supervisor
would refuse is refused here with the same one line, exit 2, and nothing is signalled.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (default /etc/r2wifi/r2wifi.toml)")


def run(args: argparse.Namespace) -> int:
    import os
    import signal

    from r2wifi.service.ap import ApController, load_or_default

    ctl = ApController(load_or_default(args.config), args.backend)
    pid = ctl.supervisor_pid()
    if pid is None:
        sys.stderr.write("r2wifi: no supervisor ('r2wifi run') is running; nothing to reload\n")
        return 1
    # what the supervisor would refuse is refused here, with the line `up` prints (exit 2): a file that does
    # not load, a channel the country's regulatory rules forbid; the running AP keeps its configuration
    from r2wifi.service.ap import MODES, load

    cfg = load(args.config)
    mode = ctl.read_record().mode
    if mode in MODES:
        ctl.mode = str(mode)
    for note in ctl.preflight(cfg):
        sys.stderr.write(f"note: {note}\n")
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        sys.stderr.write("r2wifi: the supervisor exited meanwhile; nothing to reload\n")
        return 1
    from r2wifi.logdir import supervisor_log

    sys.stdout.write(f"r2wifi: asked the supervisor (pid {pid}) to reload; see {supervisor_log(ctl.dir)}\n")
    return 0
