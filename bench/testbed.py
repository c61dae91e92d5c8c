#!/usr/bin/env python3
"""Benchmark of the hwsim test bed: guest build (cold and cached), boot, each scenario, power-off.

Prints one line per figure and a summary table. ``--no-cold`` skips the cold build (which downloads
the kernel .deb again into a temporary cache). Run as root with qemu-system-x86_64 installed; do not
run other heavy jobs at the same time (TCG timing is the thing being measured).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

from testbed.build import build, cache_dir  # noqa: E402
from testbed.scenario import run_scenario  # noqa: E402
from testbed.vm import VM, can_run_qemu  # noqa: E402

ALL = ["baseline", "wrong_psk", "eapol_drop", "out_of_range", "radio_down", "station_del", "kill_hostapd",
       "r2wifi_ap", "sv_wrong_psk", "sv_eapol_drop", "sv_out_of_range", "sv_radio_down"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("scenarios", nargs="*", default=ALL)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold build into a temporary cache")
    ns = ap.parse_args(argv)
    reason = can_run_qemu()
    if reason:
        print(f"testbed bench: cannot run: {reason}")
        return 2
    rows: list[tuple[str, float, str]] = []
    if not ns.no_cold:
        tmp = Path(tempfile.mkdtemp(prefix="tb-cold-"))
        try:
            t = time.monotonic()
            img = build(tmp)
            rows.append(("build cold (kernel .deb download + initramfs + squashfs)", time.monotonic() - t,
                         ",".join(img.rebuilt)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    build()  # make sure the real cache is warm
    t = time.monotonic()
    img = build()
    rows.append(("build cached", time.monotonic() - t, ",".join(img.rebuilt) or "nothing rebuilt"))
    vm = VM(img, cache_dir() / "runs" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}")
    t_all = time.monotonic()
    vm.start()
    rows.append(("boot -> agent ready", vm.boot_secs, img.kver))
    try:
        for name in ns.scenarios:
            t = time.monotonic()
            sc = run_scenario(vm, name, timeout=400)
            rows.append((f"scenario {name}", time.monotonic() - t, "ok" if sc.ok else f"FAILED: {sc.result.get('error')}"))
            if name == "r2wifi_ap" and sc.ok:
                tput = sc.result["data"].get("throughput", {})
                rows.append(("  shaping 2 Mbit/s measured (Mbit/s)", float(tput.get("mbit", 0.0)),
                             f"ratio {float(tput.get('mbit', 0.0)) / 2.0:.2f}"))
            if name.startswith("sv_"):
                data = sc.result["data"]
                steps = [r.split("recovery: ", 1)[-1] for r in data.get("recoveries", []) if "(reason:" in r]
                same = data.get("hostapd_pids_before") == data.get("hostapd_pids_after")
                rows.append(("  supervisor recoveries", float(len(steps)),
                             f"hostapd pid {'unchanged' if same else 'changed'}; {'; '.join(steps) or 'none'}"))
    finally:
        t = time.monotonic()
        vm.stop()
        rows.append(("power-off", time.monotonic() - t, ""))
    rows.append(("boot + scenarios + power-off", time.monotonic() - t_all, ""))
    width = max(len(r[0]) for r in rows)
    for what, secs, note in rows:
        print(f"{what:<{width}}  {secs:8.2f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
