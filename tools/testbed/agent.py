"""Guest agent of the r2wifi test bed: runs commands sent by the host over a virtio-serial port.

Theory of operation: the port is found by name (``tb.agent``) under /sys/class/virtio-ports.
The host writes one JSON object per line::

    {"id": 1, "argv": ["iw", "dev"], "timeout": 30, "env": {...}, "cwd": "/tmp"}
    {"id": 2, "sh": "ip netns exec sta iw dev", "timeout": 30}   # run by /bin/sh -c
    {"id": 3, "cmd": "__poweroff__"}

and gets back one line per request: ``{"id", "rc", "out", "err", "secs"}`` (rc 124 on timeout,
127 if the program is missing). Requests are served one at a time, in order. The first request
doubles as the readiness probe: the host's bytes wait in the socket until the guest opens the port.
Rules: stdlib only (it starts before anything else and must import fast); it never exits on a bad
request, it answers with rc -1 and the error text. ``__poweroff__`` answers, then exits; the init
script powers the VM off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def find_port(name: str = "tb.agent") -> str:
    for entry in Path("/sys/class/virtio-ports").glob("*"):
        try:
            if (entry / "name").read_text().strip() == name:
                return f"/dev/{entry.name}"
        except OSError:
            continue
    raise SystemExit(f"agent: no virtio port named {name}")


def handle(req: dict[str, Any]) -> dict[str, Any]:
    rid = req.get("id")
    t0 = time.monotonic()
    if "sh" in req:
        argv = ["/bin/sh", "-c", str(req["sh"])]
    else:
        argv = [str(a) for a in req.get("argv", [])]
    if not argv:
        return {"id": rid, "rc": -1, "out": "", "err": "empty request", "secs": 0.0}
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in (req.get("env") or {}).items()})
    timeout = float(req.get("timeout") or 60)
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, env=env,
                              cwd=req.get("cwd") or "/", stdin=subprocess.DEVNULL, check=False)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = 124, exc.stdout or b"", (exc.stderr or b"") + f"\nagent: timeout after {timeout}s".encode()
    except FileNotFoundError as exc:
        rc, out, err = 127, b"", str(exc).encode()
    except Exception as exc:  # noqa: BLE001 - the agent must answer, whatever happens
        rc, out, err = -1, b"", repr(exc).encode()
    return {"id": rid, "rc": rc, "out": out.decode(errors="replace"), "err": err.decode(errors="replace"),
            "secs": round(time.monotonic() - t0, 3)}


def main() -> int:
    path = find_port()
    fd = os.open(path, os.O_RDWR)
    rfile = os.fdopen(fd, "rb", buffering=0)
    buf = b""
    print(f"agent: ready on {path}", file=sys.stderr, flush=True)
    while True:
        chunk = rfile.read(65536)
        if not chunk:
            time.sleep(0.05)  # host not connected yet: the port reads EOF
            continue
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                req = json.loads(line)
            except ValueError as exc:
                reply: dict[str, Any] = {"id": None, "rc": -1, "out": "", "err": f"bad json: {exc}", "secs": 0}
                req = {}
            else:
                if req.get("cmd") == "__poweroff__":
                    reply = {"id": req.get("id"), "rc": 0, "out": "bye", "err": "", "secs": 0}
                else:
                    reply = handle(req)
            data = (json.dumps(reply) + "\n").encode()
            while data:
                n = os.write(fd, data)
                data = data[n:]
            if req.get("cmd") == "__poweroff__":
                return 0


if __name__ == "__main__":
    raise SystemExit(main())
