"""`r2wifi wifi off|sta|ap|p2p|status`: WiFi mode through /dev/wmtWifi, waiting for the interfaces."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mode", choices=("off", "sta", "ap", "p2p", "status"),
                        help="off, sta (wlan0), ap (wlan0 + ap0), p2p (wlan0 + p2p0) or status")
    parser.add_argument("--names", choices=("default", "mtk"), default="default",
                        help="interface names: default (wlan0/ap0/p2p0) or mtk (OpenWrt mtkwlan0/mtkap0/mtkp2p0)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the interfaces (default 60)")
    parser.add_argument("--no-modprobe", action="store_true", help="do not load wlan_gen2 when it is not loaded")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from r2wifi.backends import get_backend
    from r2wifi.wmt.wifi import WifiControl

    def say(text: str) -> None:
        if not args.json:
            sys.stderr.write(text + "\n")

    backend = get_backend(args.backend)
    ctl = WifiControl(backend, names=args.names, timeout=args.timeout, load_module=not args.no_modprobe, say=say)
    if args.mode == "status":
        st = ctl.status()
        if args.json:
            print(json.dumps(st, indent=2))
        else:
            ifs = st["interfaces"]
            print(f"wifi mode: {st['mode']}" + (f" ({', '.join(ifs)})" if isinstance(ifs, list) and ifs else ""))
        return 0
    res = ctl.set_mode(args.mode)
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    elif not res.changed:
        print(f"wifi already {res.mode}" + (f" ({', '.join(res.interfaces)})" if res.interfaces else ""))
    else:
        print(f"wifi {res.previous} -> {res.mode} in {res.elapsed_s:.2f} s"
              + (f": {', '.join(res.interfaces)}" if res.interfaces else ""))
    return 0
