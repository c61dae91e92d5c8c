"""``r2wifi bundle``: one redacted support archive (tar.gz, mode 0600) for a forum post.

Contains the doctor report, the recent kernel log, hostapd / launcher logs (and any --log FILE),
the diagnosis, the r2wifi config (secrets masked) and versions; every file redacted (MACs, IPs,
SSIDs, host names pseudonymised; passphrases and keys removed).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from r2wifi.cli import sysroot
from r2wifi.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="archive to write (default ./r2wifi-bundle-<date>.tar.gz)")
    parser.add_argument("--root", default="/", metavar="SYSROOT", help="system root to inspect (default /)")
    parser.add_argument("--log", action="append", default=[], metavar="FILE",
                        help="add a log file (hostapd, wpa_supplicant, syslog); repeatable")
    parser.add_argument("--config", metavar="FILE", help="r2wifi config (default /etc/r2wifi/r2wifi.toml)")


def run(args: argparse.Namespace) -> int:
    from r2wifi.board.bundle import make_bundle
    from r2wifi.board.doctor import SysView
    from r2wifi.paths import config_path, state_dir

    root = sysroot(args.root)
    logs = [Path(p) for p in args.log]
    for p in logs:
        if not p.exists():
            raise UserError(f"--log {p}: no such file")
        if not p.is_file():
            raise UserError(f"--log {p}: not a regular file (a FIFO, device or directory)")
    out = Path(args.output) if args.output else Path(f"r2wifi-bundle-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz")
    if out.is_dir():
        raise UserError(f"-o {out}: is a directory")
    cfg = config_path(args.config)
    if args.config and not cfg.is_file():
        raise UserError(f"--config {cfg}: no such file")
    listing = make_bundle(out, SysView(root, state_dir=state_dir()), logs, cfg if cfg.exists() else None)
    print(f"wrote {out} (mode 0600), redacted; contents:")
    for name, size in listing:
        print(f"  {size:>9}  {name}")
    print("check it before posting: tar -xzf " + str(out))
    return 0
