"""`r2wifi firmware check|install|header|mac|generate`: the firmware set, patch headers, WMT_SOC.cfg, NVRAM MAC.

* ``check [DIR] [--root SYSROOT] [--json]``: every file of platform.md section B at its compiled-in
  path; exit 0 when nothing must be fixed (unknown hashes are warnings), 1 when something must be
  fixed, 2 for a bad argument (e.g. --root not a directory).
* ``install SRC [--root SYSROOT] [--allow-unknown] [--dry-run]``: the set from a directory, a
  tarball, a .deb or an .ipk to the compiled-in paths, checked, backed up, switched atomically
  (:mod:`r2wifi.board.fwinstall`); exit 2 when refused (nothing changed).
* ``header FILE... [--json]``: decode ROM patch headers (regular files only; a FIFO or a device is
  refused, never read).
* ``mac [--set MAC | --stable] [--nvram PATH] [--root SYSROOT]``: show or write the NVRAM MAC.
* ``generate ROOT``: write the synthetic, header-valid set (simulator, demo, tests).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("check", help="check the whole firmware set and say what to fix",
                       description="Check every firmware file at the path the driver opens, its size, hash and "
                                   "headers, WMT_SOC.cfg and the NVRAM. Exit 0 nothing to fix (unknown hashes "
                                   "are warnings), 1 problems found (each with its fix), 2 bad arguments.")
    p.add_argument("dir", nargs="?", default="/etc/firmware", help="patch directory (default /etc/firmware)")
    p.add_argument("--root", default="/", help="system root holding the files (default /)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("install", help="install the firmware set and WMT_SOC.cfg from a directory, tarball, .deb or .ipk",
                       description="Install the firmware set to the paths compiled into the driver "
                                   "(/etc/firmware, /system/etc/firmware): names, sizes, vendor hashes and "
                                   "patch headers are checked first, replaced files are backed up under "
                                   "/etc/firmware/.r2wifi-backup/, and the switch is atomic. An existing "
                                   "nvram/WIFI (this board's MAC) is never replaced. Exit 0 installed, "
                                   "2 refused (nothing changed).")
    p.add_argument("source", metavar="SRC", help="directory, tarball, .deb or .ipk holding the firmware files")
    p.add_argument("--root", default="/", help="system root to install into (default /)")
    p.add_argument("--allow-unknown", action="store_true",
                   help="install files whose sha256 is not the vendor's (another build, the synthetic set) "
                        "when their sizes and headers check out")
    p.add_argument("--dry-run", action="store_true", help="check and show what would change, write nothing")
    p = sub.add_parser("header", help="decode ROM patch headers")
    p.add_argument("files", nargs="+", metavar="FILE", help="ROM patch files (mt6625_patch_*.bin)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("mac", help="show or write the WiFi MAC in the NVRAM file")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--set", dest="set_mac", metavar="MAC", help="write this MAC")
    g.add_argument("--stable", action="store_true", help="write a stable MAC derived from /etc/machine-id (or the board serial, or a seed r2wifi stores)")
    p.add_argument("--nvram", help="NVRAM file (default <root>/etc/firmware/nvram/WIFI)")
    p.add_argument("--root", default="/", help="system root holding the files (default /)")
    p = sub.add_parser("generate", help="write a synthetic header-valid firmware set under ROOT")
    p.add_argument("root", metavar="ROOT", help="directory to write the firmware set under")
    p.add_argument("--patch-dir", default="/etc/firmware", help="patch directory below ROOT (default /etc/firmware)")


def run(args: argparse.Namespace) -> int:
    return {"check": _check, "install": _install, "header": _header, "mac": _mac,
            "generate": _generate}[args.action](args)


def _install(args: argparse.Namespace) -> int:
    from r2wifi.board.fwinstall import execute_install, plan_install, recover
    from r2wifi.cli import sysroot

    root = sysroot(args.root)
    if not args.dry_run:
        for line in recover(root):
            print(f"note: {line}")
    plan = plan_install(Path(args.source), root, allow_unknown=args.allow_unknown)
    for line in plan.describe():
        print(line)
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    result = execute_install(plan)
    if not result.installed:
        print("the firmware set is already installed; nothing changed")
        return 0
    if result.backup_dir is not None:
        print(f"backup:   {result.backup_dir}")
    print(f"installed {len(result.installed)} file(s) under {root}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from r2wifi.board.fwinstall import pending_journal
    from r2wifi.cli import sysroot
    from r2wifi.wmt.firmware import Finding, check_firmware_set

    journal = pending_journal(sysroot(args.root))
    findings = check_firmware_set(args.dir, args.root)
    if journal is not None:
        shown = "/" + journal.relative_to(args.root).as_posix()
        findings.insert(0, Finding("error", shown, "a firmware install was interrupted: the set may be mixed",
                                   "run 'r2wifi firmware install SRC' again (it first finishes the interrupted one)"))
    errors = [f for f in findings if f.level == "error"]
    if args.json:
        print(json.dumps({"root": args.root, "dir": args.dir, "ok": not errors,
                          "findings": [f.to_json() for f in findings]}, indent=2))
    else:
        mark = {"ok": "ok  ", "warn": "warn", "error": "FAIL"}
        for f in findings:
            print(f"{mark[f.level]}  {f.path}: {f.message}" + (f"\n        fix: {f.fix}" if f.fix and f.level != "ok" else ""))
        warns = sum(f.level == "warn" for f in findings)
        print(f"{len(errors)} problem(s), {warns} warning(s)")
    return 1 if errors else 0


HEADER_FILE_MAX = 16 * 1024 * 1024  # a ROM patch is ~100 KB: anything over this is not one


def _header(args: argparse.Namespace) -> int:
    from r2wifi.board.archive import open_regular
    from r2wifi.errors import UserError
    from r2wifi.wmt.firmware import HEADER_SIZE, parse_header

    out = []
    for name in args.files:
        with open_regular(Path(name), follow=True) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > HEADER_FILE_MAX:
                raise UserError(f"{name}: {size} bytes, too big for a ROM patch file (over {HEADER_FILE_MAX}); refused")
            hdr = parse_header(fh.read(HEADER_SIZE), name)
        out.append({"file": name, **hdr.to_json()})
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for h in out:
            print(f"{h['file']}: built {h['build_time']}, platform {h['platform']}, hw {h['hw_version']}, "
                  f"fw {h['fw_version']}, patch {h['seq']}/{h['total']} at {h['address']}")
    return 0


def _mac(args: argparse.Namespace) -> int:
    from r2wifi.wmt import nvram

    path = Path(args.nvram) if args.nvram else Path(args.root) / "etc/firmware/nvram/WIFI"
    if args.set_mac or args.stable:
        mac = args.set_mac or nvram.stable_mac(root=args.root)
        backup = nvram.write_mac(path, mac)
        print(f"{path}: MAC set to {nvram.format_mac(nvram.parse_mac(mac))}"
              + (f" (old file kept as {backup})" if backup else " (already set, unchanged)"))
        return 0
    mac_now = nvram.read_mac(path)
    if mac_now is None:
        print(f"{path}: no MAC stored (all zeros): the driver makes up 00:08:22:xx:xx:xx at every boot "
              "(fix with 'r2wifi firmware mac --stable')")
    else:
        print(f"{path}: {mac_now}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from r2wifi.wmt.fwgen import write_firmware_set

    pdir = write_firmware_set(os.path.abspath(args.root), args.patch_dir)
    print(f"synthetic firmware set written to {pdir} (WMT_SOC.cfg under {args.root}/system/etc/firmware)")
    return 0
