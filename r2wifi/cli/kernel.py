"""``r2wifi kernel install | list | rollback``: kernels on the BPI-R2 SD card, safely.

install SOURCE: a frank-w release tarball (BPI-BOOT/ + BPI-ROOT/), a .deb, or a bare uImage
(+ --modules DIR). Everything is checked before anything is written (archive safety, uImage/FIT
CRCs, release, WiFi driver); the kernel goes in as uImage_<release>, modules to
lib/modules/<release> (depmod -b), and uEnv.txt's kernel= line is switched last, atomically.
Partitions are found by label (BPI-BOOT, BPI-ROOT, mounted) unless --boot/--root name them.
Exit codes: 0 done, 2 refused (nothing changed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from r2wifi.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True

    def card_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--boot", metavar="DIR", help="BPI-BOOT mount point (default: found by label)")
        p.add_argument("--root", metavar="DIR", help="BPI-ROOT mount point (default: found by label)")

    inst = sub.add_parser("install", help="install a kernel (tarball, .deb or uImage) and boot it next")
    inst.add_argument("source", metavar="SOURCE", help="release tarball, .deb or bare uImage")
    inst.add_argument("--modules", metavar="DIR", help="modules for a bare uImage (lib/modules/<release> tree)")
    card_opts(inst)
    inst.add_argument("--yes", "-y", action="store_true", help="do not ask; install despite warnings")
    inst.add_argument("--dry-run", action="store_true", help="check and show the plan, write nothing")
    inst.add_argument("--no-depmod", action="store_true", help="do not run depmod -b")

    lst = sub.add_parser("list", help="kernels on the card, which one boots, verification")
    card_opts(lst)
    lst.add_argument("--json", action="store_true", help="machine-readable output")

    rb = sub.add_parser("rollback", help="switch kernel= back to the previous kernel")
    card_opts(rb)
    rb.add_argument("--to", metavar="NAME", help="kernel file to switch to (default: the previous one)")
    rb.add_argument("--dry-run", action="store_true", help="show what would change")


def _progress_bar(total: int) -> Any:
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    prog = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), transient=True)
    return prog


def _install(args: argparse.Namespace) -> int:
    from r2wifi.board.archive import open_source
    from r2wifi.board.install import execute, locate_card, prepare

    modules = Path(args.modules) if args.modules else None
    payload = open_source(Path(args.source), modules)
    try:
        card = locate_card(args.boot, args.root, need_root=payload.kind != "uimage" or modules is not None)
        plan = prepare(payload, card)
        for line in plan.describe():
            print(line)
        if args.dry_run:
            print("dry run: nothing written")
            return 0
        if plan.warnings and not args.yes:
            raise UserError(f"{plan.warnings[0]} (nothing changed; rerun with --yes to install anyway)")
        if not args.yes and sys.stdin.isatty():
            answer = input(f"Install {plan.kernel_name} and boot it next? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing changed")
                return 1
        bar = _progress_bar(plan.total_bytes)
        if bar is not None:
            with bar:
                task = bar.add_task("writing", total=plan.total_bytes)
                result = execute(plan, progress=lambda n: bar.advance(task, n), depmod=not args.no_depmod)
        else:
            result = execute(plan, depmod=not args.no_depmod)
    finally:
        payload.close()
    for note in result.notes:
        print(f"note: {note}")
    for b in result.backups:
        print(f"backup: {b}")
    print(f"installed {result.kernel_path}; uEnv.txt now boots kernel={plan.kernel_name}")
    print("roll back with: r2wifi kernel rollback" + (f" --boot {args.boot}" if args.boot else ""))
    return 0


def _list(args: argparse.Namespace) -> int:
    from r2wifi.board.install import list_kernels, locate_card

    card = locate_card(args.boot, args.root, need_root=False)
    kernels, booted, remarks = list_kernels(card)
    if args.json:
        print(json.dumps({"boot": str(card.boot), "booted": booted, "remarks": remarks,
                          "kernels": [k.as_dict() for k in kernels]}, indent=2))
        return 0
    print(f"{card.linux_dir}: uEnv.txt boots kernel={booted}")
    for k in kernels:
        mark = "*" if k.booted else " "
        mods = {True: "modules ok", False: "NO modules", None: ""}[k.modules]
        state = "verified" if k.info.ok else "BAD: " + "; ".join(k.info.problems)
        print(f" {mark} {k.name:<36} {k.info.release or '?':<28} {state} {mods}".rstrip())
    for r in remarks:
        print(f"warning: {r}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from r2wifi.board.install import locate_card, rollback, rollback_target

    card = locate_card(args.boot, args.root, need_root=False)
    if args.dry_run:
        print(f"would switch kernel= to {args.to or rollback_target(card)}")
        return 0
    old, new, result = rollback(card, target=args.to)
    for b in result.backups:
        print(f"backup: {b}")
    print(f"uEnv.txt: kernel={old} -> kernel={new}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "install":
        return _install(args)
    if args.action == "list":
        return _list(args)
    return _rollback(args)
