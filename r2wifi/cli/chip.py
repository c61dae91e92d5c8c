"""`r2wifi chip init | launch | status | ioctls`: chip bring-up (replaces wmt_loader and stp_uart_launcher).

* ``init [--timeout S] [--json]``: the loader, once per boot (see :mod:`r2wifi.wmt.loader`).
* ``launch [-p DIR] [--daemon] [--timeout S] [--retries N] [--quiet]``: the resident launcher.
  Foreground: runs until SIGTERM/SIGINT. ``--daemon``: starts it detached and returns 0 once the
  chip is powered (patches downloaded), or exits 2 with the cause. A launcher that is already
  running and has powered the chip makes ``--daemon`` a no-op (exit 0).
* ``status [--json]``: nodes, launcher, powered, WiFi mode, interfaces.
* ``ioctls [--abi armhf|arm64|x86_64] [--json]``: the computed ioctl table.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from r2wifi.errors import UserError
from r2wifi.wmt.driver import DEFAULT_PATCH_DIR as DEFAULT_DIR


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("init", help="register /dev/stpwmt and /dev/wmtWifi (DO_MODULE_INIT), once per boot")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the nodes (default 10)")
    p.add_argument("-v", "--verbose", action="store_true", help="print the wmt_loader-style progress lines")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("launch", help="the resident launcher: power the chip and serve srh_patch")
    p.add_argument("-p", "--patch-dir", default=DEFAULT_DIR, help="patch directory (default /etc/firmware)")
    p.add_argument("--daemon", action="store_true", help="run detached; return once the chip is powered")
    p.add_argument("--timeout", type=float, default=60.0, help="--daemon: seconds to wait for power-on (default 60)")
    p.add_argument("--retries", type=int, default=20, help="power-on attempts (default 20, as the vendor launcher)")
    p.add_argument("--quiet", action="store_true", help="log only to launcher.log, not stderr")
    p = sub.add_parser("status", help="nodes, launcher, power, WiFi mode, interfaces")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("ioctls", help="print the ioctl table for an ABI")
    p.add_argument("--abi", default="armhf", help="armhf (BPI-R2, default), arm64 or x86_64")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    return {"init": cmd_init, "launch": cmd_launch, "status": cmd_status, "ioctls": cmd_ioctls}[args.action](args)


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


# ---- ioctls ----------------------------------------------------------------------------------

def cmd_ioctls(args: argparse.Namespace) -> int:
    from r2wifi.wmt import ioctls

    rows = ioctls.table(args.abi)
    if args.json:
        print(json.dumps({"abi": args.abi, "ioctls": rows}, indent=2))
        return 0
    print(f"ioctl numbers for {args.abi} (pointer size {ioctls.abi_sizes(args.abi)['ptr']})")
    print(f"{'name':<30} {'device':<15} {'dir':<4} {'nr':>3} {'number':<10} {'signed':>12}  arg")
    for r in rows:
        print(f"{r['name']!s:<30} {r['device']!s:<15} {r['dir']!s:<4} {r['nr']!s:>3} {r['number']!s:<10} "
              f"{r['signed']!s:>12}  {r['arg_type']}/{r['passing']}")
    return 0


# ---- init ------------------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    from r2wifi.backends import get_backend
    from r2wifi.wmt.loader import Loader

    backend = get_backend(args.backend)
    res = Loader(backend, timeout=args.timeout, say=_err if args.verbose and not args.json else (lambda _s: None)).run()
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
        return 0
    for note in res.notes:
        print(note)
    if not res.skipped:
        print(f"chip 0x{res.chip_id or 0:04x}: /dev/stpwmt and /dev/wmtWifi registered in {res.elapsed_s:.2f} s")
    return 0


# ---- launch ----------------------------------------------------------------------------------

def cmd_launch(args: argparse.Namespace) -> int:
    if args.retries < 1:
        raise UserError("--retries must be at least 1")
    if args.patch_dir == DEFAULT_DIR:  # the simulator brings its own set when /etc/firmware has none
        from r2wifi.backends import resolve
        from r2wifi.service.simfw import patch_dir_for

        args.patch_dir = patch_dir_for(resolve(args.backend), args.patch_dir)
    if args.daemon:
        return _launch_daemon(args)
    from r2wifi.backends import backend_factory, get_backend
    from r2wifi.wmt.launcher import run_resident

    backend = get_backend(args.backend)
    return run_resident(backend, args.patch_dir, stream=None if args.quiet else sys.stderr,
                        power_tries=args.retries, make_backend=backend_factory(args.backend))


def _launch_daemon(args: argparse.Namespace) -> int:
    from r2wifi.backends import backend_factory, get_backend
    from r2wifi.wmt.resident import start_resident

    res = start_resident(get_backend(args.backend), args.patch_dir, backend_name=args.backend,
                         make_backend=backend_factory(args.backend), retries=args.retries,
                         timeout=args.timeout, method="fork")
    if res.already:
        print(f"launcher already running (pid {res.pid}), chip powered")
    else:
        print(f"launcher running (pid {res.pid}), chip powered in {res.elapsed_s:.2f} s "
              f"(patches: {', '.join(res.patches) or 'none'})")
    return 0


# ---- status ----------------------------------------------------------------------------------

def chip_status(backend: Any) -> dict[str, Any]:
    """Everything `chip status` shows, as plain data (also used by the demo)."""
    from r2wifi.wmt import state
    from r2wifi.wmt.loader import NODES
    from r2wifi.wmt.wifi import current_mode, wifi_interfaces

    nodes = {}
    for path in NODES:
        n = backend.stat_node(path)
        nodes[path] = None if n is None else {"kind": n.kind, "major": n.major}
    st = state.read_state()
    present = backend.interfaces()
    names = "mtk" if any(i.startswith("mtk") for i in present) else "default"
    return {
        "backend": backend.name,
        "nodes": nodes,
        "launcher": {
            "pid": st.get("pid") if st.get("alive") else None,
            "alive": bool(st.get("alive")),
            "phase": st.get("phase"),
            "patch_dir": st.get("patch_dir"),
            "srh_patch_count": st.get("srh_patch_count", 0),
            "patches": st.get("patches") or [],
            "last_exchange": st.get("last_exchange"),
            "last_error": st.get("last_error"),
        },
        "powered": bool(st.get("alive") and st.get("powered")),
        "wifi_mode": current_mode(present, names),
        "interfaces": wifi_interfaces(present, names),
        "netns": backend.netns(),
    }


def cmd_status(args: argparse.Namespace) -> int:
    from r2wifi.backends import get_backend

    data = chip_status(get_backend(args.backend))
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"backend: {data['backend']}" + (f" (netns {data['netns']})" if data["netns"] else ""))
    for path, n in data["nodes"].items():
        print(f"  {path:<15} " + ("missing" if n is None else f"{n['kind']}" + (f" major {n['major']}" if n["major"] is not None else "")))
    lz = data["launcher"]
    if lz["alive"]:
        print(f"launcher: pid {lz['pid']}, {lz['phase']}, srh_patch answered {lz['srh_patch_count']} time(s)")
    else:
        print("launcher: not running")
    if lz["last_exchange"]:
        print(f"  last exchange: cmd({lz['last_exchange']['cmd']}) resp({lz['last_exchange']['resp']})")
    if lz["last_error"]:
        print(f"  last error: {lz['last_error']}")
    print(f"chip powered: {'yes' if data['powered'] else 'no'}")
    print(f"wifi mode: {data['wifi_mode']}" + (f" ({', '.join(data['interfaces'])})" if data["interfaces"] else ""))
    return 0
