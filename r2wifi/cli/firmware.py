"""`r2wifi firmware check|header|mac|generate`: the firmware set, patch headers, WMT_SOC.cfg, NVRAM MAC.

* ``check [DIR] [--root SYSROOT] [--json]``: every file of platform.md section B at its compiled-in
  path; exit 2 when something must be fixed (unknown hashes are warnings).
* ``header FILE... [--json]``: decode ROM patch headers.
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
    p = sub.add_parser("check", help="check the whole firmware set and say what to fix")
    p.add_argument("dir", nargs="?", default="/etc/firmware", help="patch directory (default /etc/firmware)")
    p.add_argument("--root", default="/", help="system root holding the files (default /)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
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
    return {"check": _check, "header": _header, "mac": _mac, "generate": _generate}[args.action](args)


def _check(args: argparse.Namespace) -> int:
    from r2wifi.cli import sysroot
    from r2wifi.wmt.firmware import check_firmware_set

    sysroot(args.root)
    findings = check_firmware_set(args.dir, args.root)
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
    return 2 if errors else 0


def _header(args: argparse.Namespace) -> int:
    from r2wifi.wmt.firmware import read_header_file

    out = []
    for name in args.files:
        hdr = read_header_file(Path(name))
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
