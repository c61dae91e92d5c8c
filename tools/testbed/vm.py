"""Host side of the r2wifi test bed: boot the hwsim guest under QEMU TCG and talk to its agent.

Theory of operation: :class:`VM` starts ``qemu-system-x86_64 -accel tcg`` with the artefacts of
:func:`testbed.build.build` (PVH vmlinux or bzImage, thin initramfs, Python squashfs as a
read-only virtio disk), the host ``/`` as a read-only 9p share and a per-session work directory as
a read-write 9p share mounted at the same path in the guest (so logs the guest writes there land on
the host directly). The serial console goes to ``console.log`` in the work dir; the agent
(tools/testbed/agent.py) listens on a virtio-serial port whose host end is a UNIX socket that QEMU
serves. :meth:`VM.run` sends one JSON request and waits for its answer; :meth:`VM.stop` asks the
agent to power off and waits for QEMU to exit (killing it only after a grace period).

Rules: KVM is never used (the machine's /dev/kvm is PVM, see shared/spec/testbed.md §5.2); a
failure raises :class:`GuestError` whose text carries the console tail, so a test failure explains
itself.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.build import HERE, Image


class GuestError(RuntimeError):
    """The guest failed (boot, agent, timeout); the message ends with the console tail."""


@dataclass
class Result:
    rc: int
    out: str
    err: str
    secs: float

    @property
    def ok(self) -> bool:
        return self.rc == 0


def qemu_binary() -> str | None:
    return shutil.which("qemu-system-x86_64")


class VM:
    """One booted guest. Use as a context manager or call start()/stop()."""

    def __init__(self, image: Image, workdir: Path, *, radios: int = 3, mem_mb: int = 1024, smp: int = 2) -> None:
        self.image = image
        self.workdir = workdir.resolve()
        self.radios = radios
        self.mem_mb = mem_mb
        self.smp = smp
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self._buf = b""
        self._next_id = 0
        self.console = self.workdir / "console.log"
        self.agent_sock = self.workdir / "agent.sock"
        self.boot_secs = 0.0

    # -- lifecycle -----------------------------------------------------------------------------
    def command(self) -> list[str]:
        append = " ".join([
            "console=ttyS0", "panic=-1", "loglevel=4",
            f"tb.radios={self.radios}", f"tb.pyroot={self.image.pyroot}", f"tb.venv={self.image.venv}",
            f"tb.project={self.image.project}", f"tb.work={self.workdir}", f"tb.agent={HERE / 'agent.py'}",
        ])
        return [
            qemu_binary() or "qemu-system-x86_64",
            "-accel", "tcg,thread=multi", "-cpu", "max", "-m", str(self.mem_mb), "-smp", str(self.smp),
            "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
            "-serial", f"file:{self.console}",
            "-kernel", self.image.kernel, "-initrd", self.image.initrd, "-append", append,
            "-device", "virtio-rng-pci",
            "-drive", f"file={self.image.pyrt},if=virtio,format=raw,readonly=on",
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-virtfs", f"local,path={self.workdir},mount_tag=work,security_model=none,multidevs=remap",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=agent,path={self.agent_sock},server=on,wait=off",
            "-device", "virtserialport,chardev=agent,name=tb.agent",
        ]

    def start(self, boot_timeout: float = 240) -> VM:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for p in (self.agent_sock, self.console):
            if p.exists():
                p.unlink()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        deadline = t0 + 30
        while not self.agent_sock.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
                raise GuestError(f"qemu did not start: {out.strip()[-1500:]}" + self._tail())
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(self.agent_sock))
        res = self.run(["true"], timeout=boot_timeout)
        if not res.ok:
            raise GuestError(f"agent probe failed: {res}" + self._tail())
        self.boot_secs = time.monotonic() - t0
        return self

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc is None:
            return None
        if self.sock is not None and self.proc.poll() is None:
            try:
                self._request({"cmd": "__poweroff__"}, timeout=10)
            except (GuestError, OSError):
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        return self.proc.returncode

    def __enter__(self) -> VM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests ------------------------------------------------------------------------------
    def _request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.sock is None or self.proc is None:
            raise GuestError("the VM is not running")
        self._next_id += 1
        rid = self._next_id
        req = {**req, "id": rid, "timeout": timeout}
        self.sock.sendall((json.dumps(req) + "\n").encode())
        deadline = time.monotonic() + timeout + 30
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                try:
                    reply: dict[str, Any] = json.loads(line)
                except ValueError:
                    continue
                if reply.get("id") == rid:
                    return reply
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError(f"no answer from the guest agent within {timeout + 30:.0f}s to {req}" + self._tail())
            if self.proc.poll() is not None:
                raise GuestError(f"qemu exited ({self.proc.returncode}) while waiting for {req}" + self._tail())
            self.sock.settimeout(min(left, 1.0))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise GuestError("the agent socket closed" + self._tail())
            self._buf += chunk

    def run(self, argv: list[str] | str, *, timeout: float = 60, env: dict[str, str] | None = None,
            check: bool = False) -> Result:
        """Run ``argv`` (a list) or a /bin/sh command line (a str) in the guest."""
        req: dict[str, Any] = {"sh": argv} if isinstance(argv, str) else {"argv": argv}
        if env:
            req["env"] = env
        reply = self._request(req, timeout)
        res = Result(int(reply.get("rc", -1)), str(reply.get("out", "")), str(reply.get("err", "")),
                     float(reply.get("secs", 0.0)))
        if check and not res.ok:
            raise GuestError(f"{argv!r} failed rc={res.rc}\nstdout: {res.out[-2000:]}\nstderr: {res.err[-2000:]}"
                             + self._tail())
        return res

    # -- diagnostics ---------------------------------------------------------------------------
    def console_tail(self, lines: int = 60) -> str:
        try:
            text = self.console.read_text(errors="replace")
        except OSError:
            return "(no console log)"
        return "\n".join(text.splitlines()[-lines:])

    def _tail(self) -> str:
        return "\n--- guest console tail ---\n" + self.console_tail()


def can_run_qemu() -> str | None:
    """None when QEMU TCG can run here, else the reason it cannot (for a pytest skip)."""
    if qemu_binary() is None:
        return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
    for tool in ("apt-get", "dpkg", "depmod", "cpio", "mksquashfs", "busybox", "modprobe"):
        if shutil.which(tool) is None and not os.path.exists(f"/bin/{tool}"):
            return f"{tool} is missing (needs kmod cpio busybox-static squashfs-tools)"
    if os.geteuid() != 0:
        return "the test bed needs root (9p share of /, module closure)"
    return None
