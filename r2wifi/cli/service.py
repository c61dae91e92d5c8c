"""``r2wifi service install --systemd|--openwrt|--sysv [--print] [--prefix DIR]``.

Writes (or with ``--print`` only shows) the service file that starts ``r2wifi run`` at boot:
systemd unit (Type=notify, WatchdogSec, Restart=on-failure), OpenWrt procd init script
(respawn, START/STOP) or LSB SysV init script. It does not enable or start the service; it prints
the commands that do.
"""

from __future__ import annotations

import argparse
import sys

_ENABLE_HINT = {
    "systemd": "systemctl daemon-reload && systemctl enable --now r2wifi",
    "openwrt": "/etc/init.d/r2wifi enable && /etc/init.d/r2wifi start",
    "sysv": "update-rc.d r2wifi defaults && /etc/init.d/r2wifi start",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("install", help="write (or print) the service file")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--systemd", dest="kind", action="store_const", const="systemd", help="systemd unit")
    kind.add_argument("--openwrt", dest="kind", action="store_const", const="openwrt", help="OpenWrt procd script")
    kind.add_argument("--sysv", dest="kind", action="store_const", const="sysv", help="LSB SysV init script")
    p.add_argument("--print", action="store_true", help="print the file instead of writing it")
    p.add_argument("--prefix", default="/", metavar="DIR", help="install under DIR (default /)")
    p.add_argument("--config", metavar="FILE", help="config file the service uses (default /etc/r2wifi/r2wifi.toml)")
    p.add_argument("--exec", dest="exec_path", metavar="PATH", help="r2wifi executable (default: this one)")
    p.add_argument("--watchdog", type=int, default=None, help="WatchdogSec (default supervisor.watchdog_seconds or 60)")


def run(args: argparse.Namespace) -> int:
    from r2wifi.paths import config_path
    from r2wifi.service.files import default_exec, install_service, render_service

    config = config_path(args.config)
    watchdog = args.watchdog
    if watchdog is None:
        watchdog = 60
        if config.exists():
            from r2wifi.config import load_config

            watchdog = load_config(config).supervisor.watchdog_seconds
    exec_path = args.exec_path or default_exec()
    if args.print:
        sys.stdout.write(render_service(args.kind, exec_path, config, watchdog))
        return 0
    dest, backup = install_service(args.kind, exec_path, config, prefix=args.prefix, watchdog=watchdog)
    sys.stdout.write(f"wrote {dest}\n")
    if backup:
        sys.stdout.write(f"previous file kept as {backup}\n")
    sys.stdout.write(f"enable it with: {_ENABLE_HINT[args.kind]}\n")
    return 0
