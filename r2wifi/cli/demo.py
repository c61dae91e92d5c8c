"""`r2wifi demo [--json] [--timing realistic|fast] [--keep]`: the whole story on the simulator.

As root the story goes on after the chip: ``up --ap``, a station joining in the simulator's air
namespace, ``status`` with the client and the ``diagnose`` verdict of the session
(:mod:`r2wifi.cli.demo_ap`; ``ap`` in ``--json``); without root it says why that part is skipped
(``ap_skipped``). ``--keep`` leaves the simulator, the launcher and the AP running (``r2wifi down
--config <dir>/r2wifi.toml`` with the printed environment takes the AP down).

Theory of operation: the demo makes its own temporary state and simulator directories (so it never
touches a real board or another run), writes the synthetic firmware set, starts the simulator
(``r2wifi sim start``, model-only network so it works without root), then brings the chip up to
AP mode through the very same command code a user runs: ``chip init``, ``chip launch --daemon``,
``wifi ap`` (called in-process through :func:`r2wifi.cli.main.main`). Each step is timed; the
simulator reports how much of that time was the driver's own inherent delay, so what remains is
r2wifi's overhead. State lives on tmpfs (``$XDG_RUNTIME_DIR`` or /dev/shm) like the board's
/run/r2wifi. At the end the launcher and the simulator are stopped and the directory
removed, unless ``--keep``.

:func:`run_demo` is also used by ``bench/bringup.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WIFI_SH_SLEEPS_S = 3 + 5 + 5 + 2  # the fixed sleeps of frank-w's wifi.sh


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--timing", choices=("realistic", "fast"), default="realistic",
                        help="simulated driver delays (default realistic)")
    parser.add_argument("--keep", action="store_true", help="leave the simulator, launcher (and, as root, the AP) running")


def _sim_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "r2wifi", "--backend", "sim", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def _inherent(env: dict[str, str]) -> float:
    r = _sim_cli(env, "sim", "status", "--json")
    if r.returncode != 0:
        return 0.0
    return float(json.loads(r.stdout).get("inherent_delay_s") or 0.0)


def _in_process(argv: list[str]) -> tuple[int, str, str]:
    """Run an r2wifi command in this process, capturing its output."""
    from r2wifi.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["--backend", "sim", *argv])
    return rc, out.getvalue().strip(), err.getvalue().strip()


def stop_launcher(state: Path, timeout: float = 10.0) -> None:
    from r2wifi.wmt.state import lock_is_held

    try:
        pid = int((state / "launcher.pid").read_text())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while lock_is_held(state / "launcher.lock") and time.monotonic() < deadline:
        time.sleep(0.01)


def _runtime_tmp() -> str | None:
    """A tmpfs directory for the demo's state, as /run is on the board (else the default tmp dir)."""
    for cand in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if cand and os.path.isdir(cand) and os.access(cand, os.W_OK | os.X_OK):
            return cand
    return None


def run_demo(timing: str = "realistic", keep: bool = False,
             on_step: Callable[[str, str], None] = lambda _n, _s: None, *, full: bool = False) -> dict[str, Any]:
    """Bring the simulated chip up to AP mode; returns the timed steps and figures. ``full`` (root): then
    the AP, a joining station, ``status`` and ``diagnose`` (:mod:`r2wifi.cli.demo_ap`) in ``result["ap"]``."""
    from r2wifi.errors import UserError
    from r2wifi.wmt.fwgen import write_firmware_set

    base = Path(tempfile.mkdtemp(prefix="r2wifi-demo-", dir=_runtime_tmp()))
    state, simdir = base / "state", base / "sim"
    env = dict(os.environ, R2WIFI_STATE_DIR=str(state), R2WIFI_SIM_DIR=str(simdir))
    env.pop("R2WIFI_BACKEND", None)
    saved = {k: os.environ.get(k) for k in ("R2WIFI_STATE_DIR", "R2WIFI_SIM_DIR")}
    os.environ.update(R2WIFI_STATE_DIR=str(state), R2WIFI_SIM_DIR=str(simdir))
    result: dict[str, Any] = {"timing": timing, "dir": str(base), "steps": [], "ok": False}
    started = False
    try:
        fw = write_firmware_set(base / "root")
        on_step("sim", "starting the simulator")
        r = _sim_cli(env, "sim", "start", "--timing", timing, *([] if full else ["--no-netns"]),
                     "--firmware-dir", str(fw))
        if r.returncode != 0:
            raise UserError(f"demo: the simulator did not start: {r.stderr.strip()}")
        started = True
        before = _inherent(env)
        steps = [
            ("chip init", "loader: GET_SOC_CHIP_ID, SET_CHIP_ID, DO_MODULE_INIT", ["chip", "init"]),
            ("chip launch --daemon", "launcher: STP mode, power-on, srh_patch, patch download",
             ["chip", "launch", "--daemon", "-p", str(fw)]),
            ("wifi ap", "write 'A' to /dev/wmtWifi, wait for ap0", ["wifi", "ap"]),
        ]
        t_all = time.monotonic()
        for name, what, argv in steps:
            on_step(name, what)
            t0 = time.monotonic()
            rc, out, err = _in_process(argv)
            dt = time.monotonic() - t0
            now = _inherent(env)
            step_inherent, before = now - before, now
            t_all += time.monotonic() - t0 - dt  # the status query is not part of the bring-up
            result["steps"].append({"step": name, "what": what, "seconds": round(dt, 4),
                                    "inherent_s": round(step_inherent, 4), "rc": rc,
                                    "output": out.splitlines()[-1] if out else "",
                                    "error": err.splitlines()[-1] if err else ""})
            if rc != 0:
                raise UserError(f"demo: '{name}' failed: {err or out}")
        total = time.monotonic() - t_all
        inherent = sum(s["inherent_s"] for s in result["steps"])
        result.update({
            "ok": True,
            "total_s": round(total, 4),
            "inherent_s": round(inherent, 4),
            "overhead_s": round(total - inherent, 4),
            "wifi_sh_sleeps_s": WIFI_SH_SLEEPS_S,
            "speedup_vs_wifi_sh": round(WIFI_SH_SLEEPS_S / total, 2) if total > 0 else None,
        })
        rc, out, _err = _in_process(["chip", "status", "--json"])
        if rc == 0:
            result["chip_status"] = json.loads(out)
        if full:
            from r2wifi.cli.demo_ap import ap_story

            sim = _sim_cli(env, "sim", "status", "--json")
            air = json.loads(sim.stdout).get("air_netns") if sim.returncode == 0 else None
            result["ap"] = {"config": str(base / "r2wifi.toml")}  # for the cleanup, should the story raise
            result["ap"] = ap_story(base, fw, air, state, on_step)
        return result
    finally:
        if not keep and result.get("ap"):
            from r2wifi.cli.demo_ap import take_down

            take_down(result["ap"].get("config"))
        if not keep:
            stop_launcher(state)
            if started:
                _sim_cli(env, "sim", "stop")
            shutil.rmtree(base, ignore_errors=True)
        else:
            result["env"] = {"R2WIFI_STATE_DIR": str(state), "R2WIFI_SIM_DIR": str(simdir)}
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(args: argparse.Namespace) -> int:
    from r2wifi.cli.demo_ap import why_not

    skipped = why_not()
    if args.json:
        res = run_demo(args.timing, args.keep, full=skipped is None)
        if skipped:
            res["ap_skipped"] = skipped
        print(json.dumps(res, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    status = console.status("starting", spinner="dots")
    status.start()

    def on_step(name: str, what: str) -> None:
        status.update(f"[bold]{name}[/bold]: {what}")
        console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] [bold]{name}[/bold]: {what}")

    try:
        res = run_demo(args.timing, args.keep, on_step, full=skipped is None)
    finally:
        status.stop()
    table = Table(title=f"BPI-R2 WiFi bring-up on the simulator ({res['timing']} timing)")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("driver", justify="right")
    table.add_column("result")
    for s in res["steps"]:
        table.add_row(s["step"], f"{s['seconds']:.3f}", f"{s['inherent_s']:.3f}", s["output"] or s["error"])
    console.print(table)
    console.print(f"total {res['total_s']:.3f} s = driver's inherent delays {res['inherent_s']:.3f} s "
                  f"+ r2wifi overhead {res['overhead_s'] * 1000:.0f} ms")
    console.print(f"wifi.sh sleeps a fixed {WIFI_SH_SLEEPS_S} s: {res['speedup_vs_wifi_sh']}x faster")
    st = res.get("chip_status") or {}
    if st:
        console.print(f"chip powered: {st.get('powered')}, wifi mode: {st.get('wifi_mode')}, "
                      f"interfaces: {', '.join(st.get('interfaces') or [])}")
    _print_ap(console, res.get("ap"), skipped)
    if args.keep:
        env = res["env"]
        console.print("kept running; use: " + " ".join(f"{k}={v}" for k, v in env.items()) + " r2wifi --backend sim ...")
    return 0


def _print_ap(console: Any, ap: dict[str, Any] | None, skipped: str | None) -> None:
    """The AP part of the story (see r2wifi.cli.demo_ap), or why it was skipped."""
    from rich.markup import escape

    if skipped:
        console.print(f"[yellow]skipped:[/yellow] {escape(skipped)}")
        return
    if not ap:
        return
    for s in ap.get("steps") or []:
        mark = "[red]FAILED[/red] " if s["error"] and not s["error"].startswith("skipped") else ""
        console.print(f"[bold]{escape(s['step'])}[/bold] ({s['seconds']:.2f} s): {mark}"
                      f"{escape(s['output'] or s['error'])}")
    if ap.get("status_text"):
        console.print("[bold]r2wifi status[/bold]")
        console.print(ap["status_text"], highlight=False, markup=False, emoji=False)
    diag = ap.get("diagnose") or {}
    if diag.get("verdict"):
        v = diag["verdict"]
        console.print(f"[bold]r2wifi diagnose[/bold] (this session's logs): verdict {escape(v['status'])} - "
                      f"{escape(v['summary'])} (exit {diag['exit']})")
        for f in diag.get("findings", [])[:6]:
            console.print(f"  {escape(f)}")
        if diag.get("note"):
            console.print(f"  note: {escape(diag['note'])}")
    elif diag:
        console.print(f"[bold]r2wifi diagnose[/bold]: {escape(str(diag.get('error')))}")
