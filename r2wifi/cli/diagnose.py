"""``r2wifi diagnose PATH... [--json] [--html FILE] [--redact] [--station MAC] [--fail-on LEVEL]``.

Reads hostapd / wpa_supplicant / kernel / dnsmasq logs (files, directories, .gz/.bz2/.xz/.zst,
``-`` for stdin), rebuilds each station's sessions and prints findings. Heavy modules (the
analyzer, rich, the HTML renderer) are imported only when the command runs.

Exit code (:data:`EXIT_HELP`): 0 when no finding reaches ``--fail-on`` (default ``error``), 1
when one does, 2 for bad usage or bad input: a missing path, a FIFO or device, or inputs in which
nothing is recognised (verdict ``unknown``; the report is still printed, and one line on stderr
says why).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from r2wifi.errors import UserError

RE_MAC = re.compile(r"^(?:[0-9A-Za-z]{2}:){5}[0-9A-Za-z]{2}$")
LEVELS = {"info": 2, "warning": 1, "error": 0}  # --fail-on: this severity or worse fails
EXIT_HELP = (
    "verdicts: ok (nothing to act on), warning, error, unknown (nothing in the input is recognised: "
    "not a log r2wifi reads, binary, empty, or a compression it cannot open). "
    "exit codes: 0 no finding at or above --fail-on; 1 at least one; "
    "2 bad usage or bad input (missing path, FIFO/device, verdict unknown)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXIT_HELP
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="log files or directories (recursive; FIFOs/devices inside are skipped); "
                             ".gz/.bz2/.xz/.zst ok; '-' reads stdin")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report to FILE")
    parser.add_argument("--redact", action="store_true",
                        help="replace MACs, IPs, SSIDs, host and user names (also in input paths) with "
                             "pseudonyms; drop secrets")
    parser.add_argument("--station", metavar="MAC", help="only this station's sessions and findings")
    parser.add_argument("--fail-on", choices=("warning", "error"), default="error",
                        help="exit 1 when a finding of this severity or worse exists (default: error)")
    parser.add_argument("--max-decompressed", metavar="SIZE",
                        help="cap the decompressed size of each compressed input, e.g. 4G "
                             "(default: 100x its compressed size, at least 64M); cut inputs get a note")
    parser.add_argument("--docs-url", metavar="URL",
                        help="HTML report: link findings to URL/<CODE>.md (default: the docs/findings "
                             "pages of the installed r2wifi)")


def _plain(result: dict[str, Any], out: Any) -> None:
    v = result["verdict"]
    out.write(f"verdict: {v['status']} - {v['summary']}\n")
    for n in result.get("notes") or []:
        out.write(f"note: {n}\n")
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


MAX_EVIDENCE_LINES = 600


def evidence_lines(result: dict[str, Any]) -> list[dict[str, Any]]:
    """``{file, line, text}`` of the log lines the findings cite (read again from the inputs; not stdin)."""
    from r2wifi.logs import readers

    wanted: dict[str, set[int]] = {}
    n = 0
    for f in result["findings"]:
        for e in f.get("evidence") or []:
            file, line = e.get("file"), e.get("line")
            if isinstance(file, str) and isinstance(line, int) and file != "-" and n < MAX_EVIDENCE_LINES:
                got = wanted.setdefault(file, set())
                if line not in got:
                    got.add(line)
                    n += 1
    out: list[dict[str, Any]] = []
    for file, lines in wanted.items():
        try:
            texts = readers.lines_at(readers.Source(file, file), lines)
        except (UserError, OSError):
            continue
        out += [{"file": file, "line": line, "text": texts[line]} for line in sorted(lines) if line in texts]
    return out


def exit_code(result: dict[str, Any], fail_on: str) -> int:
    """0, 1 or 2 from a result (see the module docstring)."""
    if result["verdict"]["status"] == "unknown":
        return 2
    worst = min((LEVELS.get(str(f.get("severity")), 3) for f in result["findings"]), default=3)
    return 1 if worst <= LEVELS[fail_on] else 0


def run(args: argparse.Namespace) -> int:
    from r2wifi.diagnose.analyze import diagnose
    from r2wifi.logs import readers

    if args.station is not None and not RE_MAC.match(args.station):
        raise UserError(f"--station: {args.station!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    if args.paths.count("-") > 1:
        raise UserError("'-' (stdin) can be given only once")
    if args.max_decompressed is not None:
        try:
            readers.set_decompress_cap(readers.parse_size(args.max_decompressed))
        except ValueError as err:
            raise UserError(f"--max-decompressed: {err}") from None
    redactor = None
    learn = None
    if args.redact:
        from r2wifi.diagnose.redact import Redactor

        redactor = Redactor()
        learn = redactor.learn_line
        for p in args.paths:
            redactor.learn_path(p)
    result: dict[str, Any] = diagnose(list(args.paths), stdin=sys.stdin, learn=learn, station=args.station)
    if args.html:  # the report's evidence section shows the lines themselves (redacted below like the rest)
        result["evidence_lines"] = evidence_lines(result)
    if redactor is not None:
        red = redactor.redact_obj(result)
        assert isinstance(red, dict)
        result = red
    if args.html:
        from r2wifi.diagnose.report_html import render as render_html
        from r2wifi.fsutil import atomic_write

        page = render_html(result, docs_url=args.docs_url)
        try:
            atomic_write(args.html, page.encode("utf-8"), backup=True)
        except OSError as err:
            raise UserError(f"--html {args.html}: cannot write ({err.strerror})") from None
    if args.json:
        json.dump(result, sys.stdout, indent=1, sort_keys=False)
        sys.stdout.write("\n")
    else:
        try:
            from r2wifi.diagnose.report_term import render as render_term
        except ImportError:
            _plain(result, sys.stdout)
        else:
            render_term(result, sys.stdout)
    rc = exit_code(result, args.fail_on)
    if rc == 2:
        sys.stdout.flush()
        sys.stderr.write(f"r2wifi: error: verdict unknown: {' '.join(result['verdict']['summary'].split())}\n")
    return rc
