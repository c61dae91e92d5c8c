"""The simulator daemon: one :class:`~r2wifi.sim.model.DriverModel` behind a UNIX stream socket.

Theory of operation: ``r2wifi sim start`` runs ``python -m r2wifi.sim.daemon`` detached. The
daemon writes ``<sim_dir>/sim.pid``, appends kernel log records to ``<sim_dir>/kmsg`` and serves
``<sim_dir>/sim.sock``. Each connection is served by its own thread, so one client can block in
LPBK_POWER_CTRL on one connection while it polls/reads/writes on another.

Wire protocol (one JSON object per line, both ways): request ``{"op": NAME, ...}``; answer
``{"ok": true, "ret": VALUE}``, ``{"ok": false, "errno": N}`` (an OSError for the client) or
``{"ok": false, "error": TEXT}`` (a UserError). Bytes travel as hex strings (``{"hex": "..."}``).
Ops: ping, status, stat, open, close, ioctl, read, write, poll, load_module, module_loaded,
inject, stop. A handle belongs to the connection that opened it; when that connection closes
(the client process exited or died) its handles are released, which is how the model learns
the launcher is gone. SIGTERM and ``stop`` shut down cleanly (namespaces, socket, pid and kmsg
removed); a watchdog stops the daemon when its socket file disappears.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socketserver
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from r2wifi.sim.model import DriverModel, NetHook
from r2wifi.sim.timing import Timing
from r2wifi.wmt import ioctls

SOCK_NAME = "sim.sock"
PID_NAME = "sim.pid"
KMSG_NAME = "kmsg"
LOG_NAME = "daemon.log"


class KmsgWriter:
    """Appends ``prio,seq,usec,-;message`` records (the /dev/kmsg format) to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seq = 0
        self.lock = threading.Lock()
        self.fh = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with the daemon

    def __call__(self, prio: int, usec: int, msg: str) -> None:
        with self.lock:
            self.fh.write(f"{prio},{self.seq},{usec},-;{msg}\n")
            self.seq += 1

    def close(self) -> None:
        self.fh.close()


def _enc(v: Any) -> Any:
    if isinstance(v, bytes):
        return {"hex": v.hex()}
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, dict) and "hex" in v:
        return bytes.fromhex(v["hex"])
    return v


class SimServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, path: str, model: DriverModel, extra_status: dict[str, Any]) -> None:
        self.model = model
        self.extra_status = extra_status
        self.stopping = threading.Event()
        super().__init__(path, SimRequestHandler)


class SimRequestHandler(socketserver.StreamRequestHandler):
    server: SimServer

    def handle(self) -> None:
        owned: list[int] = []
        try:
            for line in self.rfile:
                req: dict[str, Any] = {}
                try:
                    req = json.loads(line)
                    resp = self.dispatch(req, owned)
                except (ValueError, KeyError, TypeError) as e:
                    resp = {"ok": False, "error": f"bad request: {e}"}
                except Exception as e:  # noqa: BLE001 - keep serving; the trace goes to daemon.log
                    traceback.print_exc()
                    resp = {"ok": False, "error": f"simulator internal error: {type(e).__name__}: {e}"}
                try:
                    self.wfile.write((json.dumps(resp) + "\n").encode())
                    self.wfile.flush()
                except OSError:
                    break
                if isinstance(req, dict) and req.get("op") == "stop":
                    break
        finally:
            for hid in owned:
                self.server.model.close(hid)

    def dispatch(self, req: dict[str, Any], owned: list[int]) -> dict[str, Any]:
        m = self.server.model
        op = req["op"]

        def ret(value: Any) -> dict[str, Any]:
            if isinstance(value, int) and not isinstance(value, bool) and value < 0 \
                    and op in ("open", "ioctl", "read", "write", "poll", "load_module"):
                return {"ok": False, "errno": -value}
            return {"ok": True, "ret": _enc(value)}

        if op == "ping":
            return ret({"pid": os.getpid()})
        if op == "status":
            st = m.status()
            st.update(self.server.extra_status)
            st["pid"] = os.getpid()
            return ret(st)
        if op == "stat":
            return ret(m.stat_node(req["path"]))
        if op == "open":
            hid = m.open(req["path"], int(req.get("pid", 0)))
            if hid > 0:
                owned.append(hid)
            return ret(hid)
        if op == "close":
            hid = int(req["handle"])
            if hid in owned:
                owned.remove(hid)
            m.close(hid)
            return ret(0)
        if op == "ioctl":
            abi = req.get("abi")
            if abi is not None and abi not in ioctls.ABIS:
                return {"ok": False, "error": f"unknown ABI {abi!r}"}
            return ret(m.ioctl(int(req["handle"]), int(req["request"]), _dec(req.get("arg", 0)), abi))
        if op == "read":
            return ret(m.read(int(req["handle"]), int(req.get("size", 256))))
        if op == "write":
            return ret(m.write(int(req["handle"]), _dec(req["data"])))
        if op == "poll":
            return ret(m.poll(int(req["handle"]), int(req.get("timeout_ms", 0))))
        if op == "load_module":
            return ret(m.load_module(req["name"]))
        if op == "module_loaded":
            return ret(m.module_loaded(req["name"]))
        if op == "inject":
            try:
                return ret(m.inject(req["fault"]))
            except ValueError as e:
                return {"ok": False, "error": str(e)}
        if op == "stop":
            self.server.stopping.set()
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return ret("stopping")
        return {"ok": False, "error": f"unknown op {op!r}"}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="r2wifi.sim.daemon")
    p.add_argument("--sim-dir", required=True)
    p.add_argument("--timing", default="realistic")
    p.add_argument("--fault", action="append", default=[])
    p.add_argument("--netns-name", default=None, help="empty: no namespaces")
    p.add_argument("--names", default="default")
    p.add_argument("--wmt-debug", choices=("err", "all"), default="err")
    p.add_argument("--firmware-dir", default=None)
    p.add_argument("--abi", default=None)
    p.add_argument("--cuse", action="store_true", help="also serve the nodes as real devices (r2wifi.sim.cuse)")
    p.add_argument("--radio", choices=("none", "hwsim"), default="none", help="real radio (r2wifi.sim.radio)")
    p.add_argument("--kmsg", action="store_true", help="also write kernel lines to /dev/kmsg")
    return p.parse_args(argv)


def serve(argv: list[str]) -> int:
    opts = parse(argv)
    sim_dir = Path(opts.sim_dir)
    sim_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    sock = sim_dir / SOCK_NAME
    pidf = sim_dir / PID_NAME
    kmsg = KmsgWriter(sim_dir / KMSG_NAME)
    net: NetHook | None = None
    simnet = None
    radio = None
    devkmsg = None
    if opts.netns_name:
        from r2wifi.sim.net import SimNet

        simnet = SimNet(opts.netns_name)
        net = simnet
    sink: Any = kmsg
    if opts.radio == "hwsim":
        from r2wifi.sim.radio import HwsimRadio, RadioError

        try:
            radio = net = HwsimRadio().start()
        except RadioError as e:
            sys.stderr.write(f"--radio hwsim: {e}\n")
            kmsg.close()
            return 1
    if opts.kmsg:
        from r2wifi.sim.cuse import DevKmsg, tee_sink

        devkmsg = DevKmsg()
        sink = tee_sink(kmsg, devkmsg)
    model = DriverModel(
        timing=Timing.named(opts.timing),
        faults=opts.fault,
        names=opts.names,
        firmware_dir=opts.firmware_dir,
        abi=opts.abi,
        seed=str(sim_dir.resolve()),
        sink=sink,
        net=net,
        wmt_debug=opts.wmt_debug,
    )
    frontend = None
    if opts.cuse:
        from r2wifi.sim.cuse import CuseFrontend

        frontend = CuseFrontend(model)
        try:
            frontend.start()
        except OSError as e:
            sys.stderr.write(f"--cuse: {e.strerror}\n")
            frontend.stop()
            if radio is not None:
                radio.destroy()
            if devkmsg is not None:
                devkmsg.close()
            kmsg.close()
            return 1
    extra = {
        "netns": simnet.name if simnet else None,
        "air_netns": simnet.air if simnet else None,
        "sim_dir": str(sim_dir),
        "kmsg": str(sim_dir / KMSG_NAME),
        "cuse": frontend is not None,
        "radio": radio.info() if radio is not None else None,
    }
    if sock.exists():
        sock.unlink()
    server = SimServer(str(sock), model, extra)
    os.chmod(sock, 0o600)
    pidf.write_text(f"{os.getpid()}\n")

    def on_term(_sig: int, _frm: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()


    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    loop.start()
    try:
        # watchdog: a simulator whose socket vanished (its test's tmp dir was deleted) stops itself
        while loop.is_alive():
            loop.join(1.0)
            if loop.is_alive() and not sock.exists():
                sys.stderr.write(f"{sock} removed: stopping\n")
                server.shutdown()
    finally:
        server.server_close()
        if frontend is not None:
            frontend.stop()
        if radio is not None:
            radio.destroy()
        if devkmsg is not None:
            devkmsg.close()
        if simnet is not None:
            simnet.destroy()
        kmsg.close()
        for name in (SOCK_NAME, PID_NAME, KMSG_NAME, LOG_NAME):
            try:
                (sim_dir / name).unlink()
            except FileNotFoundError:
                pass
        try:
            sim_dir.rmdir()
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
