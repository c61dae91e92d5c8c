"""Board twin figures, measured in one run inside the armhf guest, each also as a multiple of
``python3 -c pass`` in the same guest (so the figures survive a slower or faster host).

Prints: build (cold/warm as it happened) and boot on the host clock; then in the guest: ``python3 -c
pass``, ``r2wifi --help``, ``up --ap`` from a cold chip to AP-ENABLED with its driver-inherent part
(the delays the simulated driver spent, from ``sim status --json``), its overhead (total minus that
part) and, beside it, the CPU the simulated driver itself used meanwhile (on the board that work is
the kernel's, microseconds; in the twin it is a Python process on the same two vCPUs), station join and lease, and the
recovery time of ``r2wifi run`` after an injected chip reset; last, the ``up --ap`` overhead over a
``python3 -c pass`` timed just before each cycle (the median of the cycles after the first): under TCG
the guest's speed drifts within one boot, so this pairing is the steadier ratio. Without the simulated chip (CUSE server
not in the tree yet) the chip figures say why and ``up --ap`` on a plain hwsim interface (chip
disabled) is measured instead. Usage: ``bench/twin.py [--repeat N]`` as root.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from twin.guestops import Guest  # noqa: E402
from twin.session import boot  # noqa: E402
from twin.vm import can_run_twin  # noqa: E402

#: times a command N times inside the guest (wall clock of the guest), prints the median in seconds
TIMER = ("import subprocess,sys,time,statistics\nn=int(sys.argv[1]);t=[]\nfor _ in range(n):\n"
         " a=time.monotonic();subprocess.run(sys.argv[2:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)\n"
         " t.append(time.monotonic()-a)\nprint(statistics.median(t))\n")


def guest_time(g: Guest, argv: list[str], n: int) -> float:
    res = g.vm.run(["python3", "-c", TIMER, str(n), *argv], timeout=600)
    return float(res.out.strip() or "nan")


def timed(g: Guest, argv: list[str], timeout: float = 600) -> tuple[float, bool, str]:
    code = ("import subprocess,sys,time\na=time.monotonic();p=subprocess.run(sys.argv[1:],capture_output=True,text=True)\n"
            "print(time.monotonic()-a, p.returncode);sys.stderr.write(p.stderr[-400:])\n")
    res = g.vm.run(["python3", "-c", code, *argv], timeout=timeout)
    parts = res.out.split()
    return (float(parts[0]), parts[1] == "0", res.err) if len(parts) == 2 else (float("nan"), False, res.err)


def inherent(g: Guest) -> float | None:
    res = g.r2("sim", "status", "--json")
    try:
        return float(json.loads(res.out)["inherent_delay_s"])
    except (ValueError, KeyError, TypeError):
        return None


#: CPU seconds (user + system) of a process in the guest, from /proc/PID/stat
CPU = ("import os,sys\nf=open(f'/proc/{sys.argv[1]}/stat').read().rsplit(')',1)[1].split()\n"
       "print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))\n")


def sim_cpu(g: Guest) -> float | None:
    """CPU seconds the simulated driver (the CUSE server, the twin's stand-in for the kernel) has used."""
    try:
        pid = int(json.loads(g.r2("sim", "status", "--json").out)["pid"])
        return float(g.vm.run(["python3", "-c", CPU, str(pid)], timeout=120).out.strip())
    except (ValueError, KeyError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of the short commands and up/down cycles (median; default 5)")
    ns = ap.parse_args(argv)
    if ns.repeat < 1:
        ap.error("--repeat must be at least 1")
    reason = can_run_twin()
    if reason:
        print(f"bench/twin.py: {reason}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    tw = boot(tag="bench")
    rows: list[tuple[str, float, str]] = []
    pairs: list[tuple[str, float, str]] = []  # ratios measured side by side (the guest's speed drifts under TCG)
    try:
        print(f"twin: kernel {tw.image.kernel_package}, {tw.image.packages} packages, "
              f"rebuilt {tw.image.rebuilt or 'nothing'}; chip: {tw.chip}")
        print(f"host clock: build {tw.build_secs:.1f}s ({tw.image.steps}), boot to agent {tw.boot_secs:.1f}s, "
              f"chip start {tw.chip_secs:.1f}s")
        g = Guest(tw, "bench")
        base = guest_time(g, ["python3", "-c", "pass"], ns.repeat)
        rows.append(("python3 -c pass", base, f"median of {ns.repeat}"))
        rows.append(("r2wifi --help", guest_time(g, ["r2wifi", "--help"], ns.repeat), f"median of {ns.repeat}"))
        if tw.chip == "ok":
            g.ap_config()
            cycles: list[tuple[float, float, float]] = []  # (total, driver-inherent, simulator CPU)
            ratios: list[float] = []  # each cycle's overhead over a `python3 -c pass` timed just before it
            for i in range(ns.repeat):
                beside = guest_time(g, ["python3", "-c", "pass"], 3)
                before, cpu0 = inherent(g), sim_cpu(g)
                secs, ok, err = timed(g, ["r2wifi", "up", "--ap"])
                after, cpu1 = inherent(g), sim_cpu(g)
                if not ok:
                    rows.append(("up --ap, cold chip to AP-ENABLED", secs, f"FAILED {err[-120:]}"))
                    break
                nan = float("nan")
                drv = after - before if before is not None and after is not None else nan
                cycles.append((secs, drv, cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else nan))
                ratios.append((secs - drv) / beside if beside > 0 else nan)
                if i < ns.repeat - 1:
                    g.r2("down")  # the chip powered off again: every cycle starts from a cold chip
            if cycles:
                first, warm = cycles[0], sorted(cycles[1:]) or cycles[:1]
                med = warm[len(warm) // 2]
                for label, (secs, drv, sim) in (("first after boot (cold page cache)", first),
                                                (f"median of the next {len(warm)}", med)):
                    spread = (f"; each: {' '.join(f'{c[0]:.2f}' for c in cycles[1:])}"
                              if label.startswith("median") else "")
                    rows.append((f"up --ap, cold chip to AP-ENABLED: {label}", secs,
                                 f"driver-inherent {drv:.2f}s{spread}"))
                    rows.append(("  overhead (total - driver-inherent; goal < 10x)", secs - drv, "r2wifi's own part"))
                    rows.append(("  of which the simulated driver's own CPU", sim,
                                 "the Python CUSE server standing in for the kernel (microseconds on the board)"))
                later = sorted(ratios[1:]) or ratios
                pairs.append(("up --ap overhead / `python3 -c pass` timed just before it (median of the cycles after "
                              "the first)", later[len(later) // 2],
                              "each: " + " ".join(f"{r:.1f}" for r in ratios[1:])))
        else:
            rows.append(("up --ap (chip figures)", float("nan"), tw.chip))
            g.ap_config(chip=False, interface="wlan2")
            secs, ok, err = timed(g, ["r2wifi", "up", "--ap"])
            rows.append(("up --ap, plain hwsim wlan2 (chip disabled)", secs, "" if ok else f"FAILED {err[-120:]}"))
        st = g.station()
        s = st.get("secs", {})
        rows.append(("station join (wpa_supplicant start to CONNECTED)", float(s.get("connect", "nan")),
                     "" if st.get("connected") else f"FAILED {st.get('error', '')}"))
        rows.append(("station lease (udhcpc)", float(s.get("lease", "nan")), st.get("lease") or "no lease"))
        if tw.chip == "ok":
            log = g.out / "r2wifi-run.log"
            g.sh(f"setsid r2wifi run </dev/null >{log} 2>&1 &", timeout=60)
            g.wait_log(log, "supervising", 300)
            g.r2("sim", "inject", "chip-reset")
            rec = g.wait_log(log, r"recovery: .* done", 400)
            rows.append(("recovery after an injected chip reset", rec if rec >= 0 else float("nan"),
                         "from inject to 'recovery: ... done'" if rec >= 0 else "no recovery seen in 400 s"))
        else:
            rows.append(("recovery after an injected chip reset", float("nan"), tw.chip))
        g.cleanup()
    finally:
        tw.vm.stop()
    base = rows[0][1]
    print(f"\n{'in the guest (armhf, TCG)':52} {'seconds':>8} {'x pass':>8}")
    for what, secs, note in rows:
        mult = secs / base if base and secs == secs else float("nan")
        print(f"{what:52} {secs:8.2f} {mult:8.1f}  {note}")
    for what, ratio, note in pairs:
        print(f"\n{what}: {ratio:.1f}x  ({note})")
    print(f"\nwhole bench on the host clock: {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

