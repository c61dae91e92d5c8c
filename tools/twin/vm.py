"""Host side of the board twin: boot the armhf guest under QEMU TCG and talk to its agent.

Theory of operation: :class:`TwinVM` is test bed C's :class:`testbed.vm.VM` (same agent protocol over
a virtio-serial port, same request/answer code, console file, power-off) with the twin's machine:
``qemu-system-arm -M virt,highmem=off -cpu cortex-a15 -m 2048 -smp 2 -accel tcg,thread=multi``, the zImage +
initramfs of :func:`twin.build.build`, the root and r2wifi squashfs images as read-only
``virtio-blk-device`` disks (deb mode: the deb-mode root only, no r2wifi layer), the checkout as a
read-write ``virtio-9p-device`` (tag ``repo``) mounted
at the same path in the guest, a ``virtio-rng-device``; console ``ttyAMA0`` into ``console.log``.
The work dir (console, agent socket, logs the guest writes) lives under the checkout, so the guest
sees it at the same path.

Rules: KVM is never used (there is none for ARM here); failures raise :class:`testbed.vm.GuestError`
with the console tail.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

from testbed.vm import VM, GuestError, Result  # noqa: E402

from twin.build import TwinImage  # noqa: E402

__all__ = ["TwinVM", "GuestError", "Result", "qemu_arm", "can_run_twin"]


def qemu_arm() -> str | None:
    return shutil.which("qemu-system-arm")


class TwinVM(VM):
    """One booted board twin. ``radios``: hwsim radios init creates at boot (0: none, the fixture's
    simulator or a test makes them)."""

    def __init__(self, image: TwinImage, workdir: Path, *, radios: int = 0, mem_mb: int = 2048,
                 smp: int = 2) -> None:
        self.twin = image
        super().__init__(image, workdir, radios=radios, mem_mb=mem_mb, smp=smp)  # type: ignore[arg-type]

    def command(self) -> list[str]:
        append = " ".join([
            "console=ttyAMA0", "panic=-1", "loglevel=4", "printk.devkmsg=on",
            f"twin.radios={self.radios}", f"twin.repo={REPO}",
        ])
        img = self.twin
        return [
            qemu_arm() or "qemu-system-arm",
            "-M", "virt,highmem=off", "-cpu", "cortex-a15", "-m", str(self.mem_mb), "-smp", str(self.smp),
            "-accel", "tcg,thread=multi",
            "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
            "-serial", f"file:{self.console}",
            "-kernel", img.kernel, "-initrd", img.initrd, "-append", append,
            "-device", "virtio-rng-device",
            "-drive", f"if=none,id=rootfs,file={img.rootfs},format=raw,readonly=on",
            "-device", "virtio-blk-device,drive=rootfs",
            *(["-drive", f"if=none,id=r2wifi,file={img.r2wifi},format=raw,readonly=on",
               "-device", "virtio-blk-device,drive=r2wifi"] if img.r2wifi else []),
            "-fsdev", f"local,id=repo,path={REPO},security_model=none,multidevs=remap",
            "-device", "virtio-9p-device,fsdev=repo,mount_tag=repo",
            "-device", "virtio-serial-device",
            "-chardev", f"socket,id=agent,path={self.agent_sock},server=on,wait=off",
            "-device", "virtserialport,chardev=agent,name=tb.agent",
        ]


def can_run_twin() -> str | None:
    """None when the twin can be built and booted here, else the reason (for a pytest skip)."""
    if qemu_arm() is None:
        return "qemu-system-arm is not installed (apt-get install qemu-system-arm)"
    for tool in ("apt-get", "dpkg", "depmod", "cpio", "mksquashfs", "modprobe"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (needs kmod cpio squashfs-tools)"
    if not Path("/usr/share/keyrings/debian-archive-keyring.gpg").exists():
        return "debian-archive-keyring is missing (the private armhf apt verifies with it)"
    if os.geteuid() != 0:
        return "the twin needs root (the guest writes the checkout over 9p as root)"
    return None
