"""``r2wifi sim``: start, stop, inspect and break the simulated driver.

start   run the daemon detached; returns once it answers on its socket (``--cuse``: and its /dev
        nodes are real character devices, see r2wifi.sim.cuse; ``--radio hwsim``: r2wifi.sim.radio)
stop    clean shutdown: releases handles, removes its namespaces, socket, pid and kmsg files
status  what the simulated kernel looks like now (``--json`` for the fields in r2wifi.sim)
inject  apply a fault at run time (see ``r2wifi.sim.FAULTS``)
dmesg   the simulated kernel log as ``[   12.345678] message`` lines
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from r2wifi.errors import UserError

FAULT_HELP = (
    "no-detect, detect-regular-file, combo-wifi-not-built, wlan-gen2-module, btif-dead, wlan0-renamed, "
    "wifi-ram-code-missing (start or run time); chip-reset, txq-stall, clear-stall (run time)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    st = sub.add_parser("start", help="start the simulator daemon")
    st.add_argument("--timing", choices=("realistic", "fast"), default="realistic",
                    help="realistic driver delays, or fast (all delays / 20) for tests")
    st.add_argument("--fault", action="append", default=[], metavar="NAME", help=FAULT_HELP)
    st.add_argument("--netns", dest="netns", action="store_true", default=None,
                    help="create real interfaces in a network namespace (default when root)")
    st.add_argument("--no-netns", dest="netns", action="store_false", help="do not use a network namespace")
    st.add_argument("--netns-name", default=None, help="namespace name (default derived from the sim dir)")
    st.add_argument("--names", choices=("default", "mtk"), default="default",
                    help="interface names: wlan0/ap0/p2p0 or mtkwlan0/mtkap0/mtkp2p0")
    st.add_argument("--wmt-debug", choices=("err", "all"), default="err",
                    help="WMT core log level: err (frank-w's default gWmtDbgLvl: only [E] lines) or all")
    st.add_argument("--firmware-dir", default=None, metavar="DIR",
                    help="firmware directory (WIFI_RAM_CODE_7623 checked at WiFi on, NVRAM MAC)")
    st.add_argument("--cuse", action="store_true",
                    help="serve /dev/wmtdetect, /dev/stpwmt, /dev/wmtWifi as real devices (root, /dev/cuse)")
    st.add_argument("--radio", choices=("auto", "hwsim", "none"), default="auto",
                    help="a real radio behind /dev/wmtWifi: hwsim (mac80211_hwsim); auto = hwsim with --cuse "
                         "where it exists")
    st.add_argument("--kmsg", action="store_true", help="with --cuse: kernel lines also go to /dev/kmsg")
    sub.add_parser("stop", help="stop the simulator and remove what it created")
    ss = sub.add_parser("status", help="show the simulated driver state")
    ss.add_argument("--json", action="store_true", help="machine-readable output")
    si = sub.add_parser("inject", help="apply a fault now")
    si.add_argument("fault", metavar="FAULT", help=FAULT_HELP)
    sd = sub.add_parser("dmesg", help="print the simulated kernel log")
    sd.add_argument("--raw", action="store_true", help="kmsg records (prio,seq,usec,-;message)")
    sd.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until the simulator stops")


def run(args: argparse.Namespace) -> int:
    action = args.action
    if action == "start":
        return _start(args)
    from r2wifi.sim.client import SimBackend

    be = SimBackend()
    if action == "stop":
        return _stop(be)
    if action == "status":
        st = be.status()
        if args.json:
            sys.stdout.write(json.dumps(st, indent=2, sort_keys=True) + "\n")
        else:
            sys.stdout.write(_status_text(st))
        return 0
    if action == "inject":
        from r2wifi.sim.model import FAULTS

        if args.fault not in FAULTS:
            raise UserError(f"unknown fault {args.fault!r}: choose one of {', '.join(FAULTS)}")
        sys.stdout.write(be.inject(args.fault) + "\n")
        return 0
    if action == "dmesg":
        be.ping()
        if args.follow:
            for rec in be.follow_kmsg(from_start=True):
                sys.stdout.write((rec if args.raw else dmesg_line(rec)) + "\n")
                sys.stdout.flush()
            return 0
        try:
            text = Path(be.kmsg_path()).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise UserError("simulator not running (start it with 'r2wifi sim start')") from None
        out = []
        for rec in text.splitlines():
            out.append(rec if args.raw else dmesg_line(rec))
        sys.stdout.write("".join(line + "\n" for line in out))
        return 0
    raise UserError(f"unknown action {action!r}")


def dmesg_line(record: str) -> str:
    """``6,12,8123456,-;msg`` -> ``[    8.123456] msg``."""
    head, _, msg = record.partition(";")
    parts = head.split(",")
    try:
        usec = int(parts[2])
    except (IndexError, ValueError):
        return record
    return f"[{usec // 1_000_000:5d}.{usec % 1_000_000:06d}] {msg}"


def _status_text(st: dict[str, Any]) -> str:
    nodes = st.get("nodes") or []
    node_txt = ", ".join(
        f"{n['path']}" + (f" ({n['major']},{n['minor']})" if n.get("kind") == "char" else f" [{n['kind']}]")
        for n in nodes
    ) or "-"
    lines = [
        f"simulator      pid {st.get('pid')}, timing {st.get('timing')}, names {st.get('names')}",
        f"nodes          {node_txt}",
        f"chip powered   {'yes' if st.get('chip_powered') else 'no'}",
        f"launcher       {'connected' if st.get('launcher_connected') else 'not connected'}",
        f"wifi mode      {st.get('wifi_mode')}",
        f"interfaces     {', '.join(st.get('interfaces') or []) or '-'}",
        f"netns          {st.get('netns') or '- (model only)'}"
        + (f", air {st.get('air_netns')}" if st.get("air_netns") else ""),
        f"transport      socket{' + CUSE (real /dev nodes)' if st.get('cuse') else ''}"
        + (f", radio {st['radio'].get('phy')} (peer {st['radio'].get('peer_phy') or '-'})" if st.get("radio") else ""),
        f"modules        {', '.join(st.get('modules') or []) or '-'}",
        f"faults         {', '.join(st.get('faults') or []) or '-'}",
        f"counters       do_module_init {st.get('do_module_init_count')}, lpbk_power_on "
        f"{st.get('lpbk_power_on_count')}, srh_patch {st.get('srh_patch_count')}",
        f"inherent delay {st.get('inherent_delay_s')} s",
    ]
    return "\n".join(lines) + "\n"


def _start(args: argparse.Namespace) -> int:
    from r2wifi.paths import sim_dir
    from r2wifi.sim.client import SimBackend
    from r2wifi.sim.model import RUNTIME_FAULTS, START_FAULTS

    for f in args.fault:
        if f in RUNTIME_FAULTS:
            raise UserError(f"--fault {f}: only at run time (use 'r2wifi sim inject {f}')")
        if f not in START_FAULTS:
            raise UserError(f"--fault: unknown fault {f!r}: choose one of {', '.join(START_FAULTS)}")
    if args.firmware_dir and not os.path.isdir(args.firmware_dir):
        raise UserError(f"--firmware-dir: {args.firmware_dir} is not a directory")
    sdir = sim_dir()
    be = SimBackend(sdir)
    try:
        pid = be.ping()
    except UserError:
        pid = None
    if pid is not None:
        raise UserError(f"simulator already running (pid {pid}, {sdir}); stop it with 'r2wifi sim stop'")
    cuse = bool(getattr(args, "cuse", False))
    radio = _radio_choice(args, cuse)
    netns = args.netns if args.netns is not None else (os.geteuid() == 0 and not cuse and radio == "none")
    if netns and os.geteuid() != 0:
        raise UserError("--netns needs root (use --no-netns: interfaces then exist only in the model)")
    if netns and (cuse or radio != "none"):
        raise UserError("--netns cannot be combined with --cuse or --radio: the real backend sees the "
                        "interfaces of this namespace")
    sdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in ("sim.sock", "sim.pid", "kmsg"):
        try:
            (sdir / stale).unlink()
        except FileNotFoundError:
            pass
    cmd = [sys.executable, "-m", "r2wifi.sim.daemon", "--sim-dir", str(sdir), "--timing", args.timing,
           "--names", args.names, "--wmt-debug", args.wmt_debug]
    for f in args.fault:
        cmd += ["--fault", f]
    if netns:
        from r2wifi.sim.net import netns_name_for

        cmd += ["--netns-name", args.netns_name or netns_name_for(str(sdir.resolve()))]
    if args.firmware_dir:
        cmd += ["--firmware-dir", os.path.abspath(args.firmware_dir)]
    if cuse:
        cmd += ["--cuse"]
    if radio != "none":
        cmd += ["--radio", radio]
    if getattr(args, "kmsg", False):
        cmd += ["--kmsg"]
    log_path = sdir / "daemon.log"
    with open(log_path, "ab") as log, open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(cmd, stdin=devnull, stdout=log, stderr=log, start_new_session=True,
                                close_fds=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = _tail(log_path)
            raise UserError(f"simulator failed to start: {tail or f'exit code {proc.returncode}'}")
        try:
            pid = be.ping()
            break
        except UserError:
            time.sleep(0.05)
    else:
        proc.terminate()
        raise UserError("simulator did not answer within 30 s")
    st = be.status()
    where = f"netns {st['netns']} (air {st['air_netns']})" if st.get("netns") else "no netns (model only)"
    if st.get("radio"):
        where = f"radio {st['radio'].get('phy')} (peer {st['radio'].get('peer_phy') or '-'})"
    if st.get("cuse"):
        where += "; CUSE nodes " + ", ".join(n["path"] for n in st.get("nodes", []) if n.get("kind") == "char")
    sys.stdout.write(f"simulator started (pid {pid}, timing {args.timing}, {where}); socket {be.sock_path}\n")
    return 0


def _radio_choice(args: argparse.Namespace, cuse: bool) -> str:
    """Check --cuse/--radio/--kmsg here, so a machine without CUSE or hwsim fails with one line."""
    radio = str(getattr(args, "radio", "none") or "none")
    if cuse:
        from r2wifi.sim.cuse import CUSE_DEVICE

        if os.geteuid() != 0:
            raise UserError("--cuse needs root (it registers character devices)")
        if not os.path.exists(CUSE_DEVICE):
            raise UserError(f"--cuse: {CUSE_DEVICE} does not exist here (load it with 'modprobe cuse'; the "
                            "default transport without --cuse is the simulator's UNIX socket)")
    elif getattr(args, "kmsg", False):
        raise UserError("--kmsg needs --cuse")
    if radio in ("auto", "hwsim"):
        from r2wifi.sim.radio import hwsim_available

        if radio == "auto":
            return "hwsim" if cuse and hwsim_available() else "none"
        if os.geteuid() != 0:
            raise UserError("--radio hwsim needs root")
        if not hwsim_available():
            raise UserError("--radio hwsim: mac80211_hwsim is not available on this kernel")
    return radio


def _stop(be: object) -> int:
    from r2wifi.sim.client import SimBackend

    assert isinstance(be, SimBackend)
    pid = be.ping()
    be.stop()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        raise UserError(f"simulator (pid {pid}) did not stop within 15 s")
    sys.stdout.write(f"simulator stopped (pid {pid})\n")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours would still "exist"; the daemon is detached, so this is the real answer
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


def _tail(path: Path) -> str:
    try:
        lines = [x for x in path.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""
