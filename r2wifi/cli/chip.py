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
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from r2wifi.errors import UserError

DEFAULT_DIR = "/etc/firmware"


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
    from r2wifi.wmt.backend import get_backend
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
    if args.daemon:
        return _launch_daemon(args)
    from r2wifi.wmt.backend import get_backend
    from r2wifi.wmt.launcher import run_resident

    backend = get_backend(args.backend)
    return run_resident(backend, args.patch_dir, stream=None if args.quiet else sys.stderr,
                        power_tries=args.retries)


def _launch_daemon(args: argparse.Namespace) -> int:
    from r2wifi.wmt import state
    from r2wifi.wmt.backend import get_backend
    from r2wifi.wmt.firmware import check_patches
    from r2wifi.wmt.loader import STPWMT, is_char

    st = state.read_state()
    if st.get("alive"):
        if st.get("powered"):
            print(f"launcher already running (pid {st.get('pid')}), chip powered")
            return 0
        raise UserError(f"another launcher is running (pid {st.get('pid')}) and has not powered the chip "
                        f"({st.get('last_error') or st.get('phase') or 'starting'}); see 'r2wifi chip status'")
    backend = get_backend(args.backend)
    if not is_char(backend.stat_node(STPWMT)):
        raise UserError("/dev/stpwmt is missing: run 'r2wifi chip init' first")
    pset = check_patches(Path(args.patch_dir), display_dir=args.patch_dir)
    errors = [f for f in pset.findings if f.level == "error"]
    if errors:
        e = errors[0]
        raise UserError(f"patch files in {args.patch_dir}: {e.path}: {e.message}", hint=e.fix or None)
    patch_dir = os.path.abspath(args.patch_dir)
    t0 = time.monotonic()
    child = _spawn_launcher(args.backend, patch_dir, args.retries)
    deadline = t0 + args.timeout
    while True:
        st = state.read_state()
        mine = st.get("pid") == child.pid
        if mine and st.get("powered") and st.get("alive"):
            child.detach()
            pats = ", ".join(Path(p["path"]).name for p in st.get("patches") or []) or "none"
            print(f"launcher running (pid {child.pid}), chip powered in {time.monotonic() - t0:.2f} s "
                  f"(patches: {pats})")
            return 0
        rc = child.poll()
        if rc is not None:
            err = child.error_text().strip().splitlines()
            why = (st.get("last_error") if mine else None) or (err[-1] if err else f"exit code {rc}")
            why = why.removeprefix("r2wifi: error: ")
            raise UserError(f"the launcher exited before the chip was powered: {why}")
        if mine and st.get("power_gave_up"):
            child.stop()
            raise UserError(f"chip power-on failed {args.retries} time(s): {st.get('last_error')}")
        if time.monotonic() > deadline:
            child.stop()
            why = st.get("last_error") if mine else None
            raise UserError(f"the chip was not powered within {args.timeout:g} s"
                            + (f": {why}" if why else " (see launcher.log)"))
        time.sleep(0.005)


class _Child:
    """The forked resident launcher, seen from the `--daemon` parent."""

    def __init__(self, pid: int, err_fd: int) -> None:
        self.pid = pid
        self.err_fd = err_fd
        self.rc: int | None = None

    def poll(self) -> int | None:
        if self.rc is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.rc
            if pid:
                self.rc = os.waitstatus_to_exitcode(status)
        return self.rc

    def error_text(self) -> str:
        chunks = []
        while True:
            try:
                b = os.read(self.err_fd, 4096)
            except BlockingIOError:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode(errors="replace")

    def detach(self) -> None:
        os.close(self.err_fd)
        self.err_fd = -1

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)


def _spawn_launcher(backend_name: str, patch_dir: str, retries: int) -> _Child:
    """Fork the resident launcher (no interpreter start-up: the modules are already imported).

    The child starts a new session, points every inherited descriptor at /dev/null (so that no
    connection of the parent stays usable, and no descriptor number is reused behind an object
    that still refers to it), keeps a pipe as stderr for a start-up error, and runs
    :func:`r2wifi.wmt.launcher.run_resident` with fresh backend connections.
    """
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(wfd)
        os.set_blocking(rfd, False)
        return _Child(pid, rfd)
    rc = 2
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd not in (devnull, wfd, 2) and fd > 2:
                try:
                    os.dup2(devnull, fd, inheritable=False)
                except OSError:
                    pass
        for fd in (0, 1):
            os.dup2(devnull, fd)
        os.dup2(wfd, 2)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        from r2wifi.wmt.backend import get_backend
        from r2wifi.wmt.launcher import run_resident

        rc = run_resident(get_backend(backend_name), patch_dir, stream=None, power_tries=retries)
    except UserError as e:
        _write_fd(2, f"r2wifi: error: {e}\n")
    except BaseException as e:  # noqa: B036 - the child must never return into the parent's stack
        _write_fd(2, f"r2wifi: error: launcher: {type(e).__name__}: {e}\n")
    finally:
        os._exit(rc)


def _write_fd(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode())
    except OSError:
        pass


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
    from r2wifi.wmt.backend import get_backend

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
