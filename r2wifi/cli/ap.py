"""``r2wifi ap qr [--config F] [--png FILE]``: the join QR code of the access point.

The QR code is drawn in the terminal (Unicode blocks; segno is imported only here) and, with
``--png``, also written as a PNG (mode 0600: it holds the passphrase). The passphrase itself is
never printed as text; a warning on stderr reminds that the code reveals it.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("qr", help="show the join QR code (contains the passphrase)")
    p.add_argument("--config", metavar="FILE", help="config file (default /etc/r2wifi/r2wifi.toml)")
    p.add_argument("--png", metavar="FILE", help="also write the QR code as a PNG image")
    p.add_argument("--scale", type=int, default=8, help="PNG pixels per module (default 8)")
    p.add_argument("--no-terminal", action="store_true", help="do not draw the code in the terminal")


def run(args: argparse.Namespace) -> int:
    import io

    from r2wifi.config import load_config
    from r2wifi.errors import UserError
    from r2wifi.fsutil import write_secret
    from r2wifi.hostap.qr import payload_for

    cfg = load_config(args.config)
    if args.scale < 1 or args.scale > 100:
        raise UserError(f"--scale: {args.scale} must be 1-100")
    import segno

    code = segno.make(payload_for(cfg), error="m", micro=False)
    if cfg.ap.security != "open":
        sys.stderr.write("warning: this QR code contains the WiFi passphrase; anyone who scans it can join\n")
    if not args.no_terminal:
        buf = io.StringIO()
        code.terminal(out=buf, compact=True, border=2)
        sys.stdout.write(buf.getvalue())
        hidden = "  hidden (not broadcast; the code tells phones to look for it)" if cfg.ap.hidden else ""
        sys.stdout.write(f"SSID: {cfg.ap.ssid}  security: {cfg.ap.security}{hidden}\n")
    if args.png:
        out = io.BytesIO()
        code.save(out, kind="png", scale=args.scale, border=4)
        write_secret(args.png, out.getvalue())
        sys.stdout.write(f"wrote {args.png}\n")
    return 0
