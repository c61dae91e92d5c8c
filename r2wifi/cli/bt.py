"""`r2wifi bt up|status`: Bluetooth on the internal combo (stp_chrdev_bt after the launcher patched the chip)."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("up", "status"), help="up: switch Bluetooth on; status: show it")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for hci0 (default 10)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from r2wifi.backends import get_backend
    from r2wifi.wmt import bt

    backend = get_backend(args.backend)
    st = bt.bt_up(backend, timeout=args.timeout) if args.action == "up" else bt.status(backend)
    if args.json:
        print(json.dumps(st.to_json(), indent=2))
        return 0
    if st.hci:
        print(f"{st.hci[0]} up" + (f", address {st.address}" if st.address else ", address unknown"))
    else:
        print("no HCI device" + ("" if st.module_loaded else " (stp_chrdev_bt not loaded; run 'r2wifi bt up')"))
    return 0
