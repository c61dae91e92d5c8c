"""``r2wifi diagnose PATH... [--json] [--html FILE] [--redact] [--station MAC]``.

Reads hostapd / wpa_supplicant / kernel / dnsmasq logs (files, directories, .gz/.xz, ``-`` for
stdin), rebuilds each station's sessions and prints findings. Heavy modules (the analyzer,
rich, the HTML renderer) are imported only when the command runs.

Exit code: 0 when the diagnosis ran (whatever it found), 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from r2wifi.errors import UserError

RE_MAC = re.compile(r"^(?:[0-9A-Za-z]{2}:){5}[0-9A-Za-z]{2}$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="log files or directories (recursive); .gz/.xz ok; '-' reads stdin")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report to FILE")
    parser.add_argument("--redact", action="store_true",
                        help="replace MACs, IPs, SSIDs and host names with pseudonyms; drop secrets")
    parser.add_argument("--station", metavar="MAC", help="only this station's sessions and findings")


def _plain(result: dict[str, Any], out: Any) -> None:
    v = result["verdict"]
    out.write(f"verdict: {v['status']} - {v['summary']}\n")
    for f in result["findings"]:
        st = f" [{', '.join(f['stations'][:4])}]" if f["stations"] else ""
        ev = ", ".join(f"{e['file']}:{e['line']}" for e in f["evidence"][:3])
        out.write(f"{f['severity']:7} {f['code']} {f['kind']}: {f['title']}{st}\n")
        if ev:
            out.write(f"        evidence: {ev}\n")
        if f["fix"] and f["severity"] != "info":
            out.write(f"        fix: {f['fix']}\n")
    m = result["metrics"]
    out.write(f"stations: {m['stations']}, successful connects: {m['successful_connects']}, "
              f"failed connects: {m['failed_connects']}\n")


def run(args: argparse.Namespace) -> int:
    from r2wifi.diagnose.analyze import diagnose

    if args.station is not None and not RE_MAC.match(args.station):
        raise UserError(f"--station: {args.station!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    if args.paths.count("-") > 1:
        raise UserError("'-' (stdin) can be given only once")
    redactor = None
    learn = None
    if args.redact:
        from r2wifi.diagnose.redact import Redactor

        redactor = Redactor()
        learn = redactor.learn_line
    result: dict[str, Any] = diagnose(list(args.paths), stdin=sys.stdin, learn=learn, station=args.station)
    if redactor is not None:
        red = redactor.redact_obj(result)
        assert isinstance(red, dict)
        result = red
    if args.html:
        from r2wifi.diagnose.report_html import render as render_html
        from r2wifi.fsutil import atomic_write

        page = render_html(result)
        try:
            atomic_write(args.html, page.encode("utf-8"), backup=True)
        except OSError as err:
            raise UserError(f"--html {args.html}: cannot write ({err.strerror})") from None
    if args.json:
        json.dump(result, sys.stdout, indent=1, sort_keys=False)
        sys.stdout.write("\n")
        return 0
    try:
        from r2wifi.diagnose.report_term import render as render_term
    except ImportError:
        _plain(result, sys.stdout)
        return 0
    render_term(result, sys.stdout)
    return 0
