"""Test helpers for the simulator: synthetic patch files and a minimal launcher.

``make_patch`` writes a ROM patch with the 28-byte header of driver-interface.md 2.4.
``srh_patch_answer`` does what stp_uart_launcher's srh_patch handler does (scan the directory,
SET_PATCH_NUM / SET_PATCH_INFO) through any object with an ``ioctl(request, arg)`` method; it is
test scaffolding, not r2wifi's launcher.
"""

from __future__ import annotations

import errno
import os
import struct
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest

from r2wifi.sim.client import SimBackend, SimHandle
from r2wifi.wmt import ioctls

CliRunner = Callable[..., "subprocess.CompletedProcess[str]"]


class Ioctler(Protocol):
    def ioctl(self, request: int, arg: int | bytes = 0) -> int: ...


def make_patch(path: Path, *, count: int, seq: int, addr: bytes, size: int,
               platform: bytes = b"ALPS", fw: int = 0x8A00, built: bytes = b"20151206145017a\0") -> Path:
    header = built[:16].ljust(16, b"\0") + platform + struct.pack(">HH", 0x8A00, fw)
    header += bytes([(count << 4) | seq]) + addr[:3]
    assert len(header) == 28
    path.write_bytes(header + bytes(range(256)) * ((size - 28) // 256) + b"\x5a" * ((size - 28) % 256))
    return path


def good_firmware(d: Path) -> Path:
    """The two R2 patches (real sizes and patch info bytes) plus WIFI_RAM_CODE_7623."""
    d.mkdir(parents=True, exist_ok=True)
    make_patch(d / "ROMv2_lm_patch_1_1_hdr.bin", count=2, seq=1, addr=b"\x00\x0e\xf0", size=50296)
    make_patch(d / "ROMv2_lm_patch_1_0_hdr.bin", count=2, seq=2, addr=b"\x00\x06\x00", size=113080)
    (d / "WIFI_RAM_CODE_7623").write_bytes(b"\0" * 4096)
    return d


def patch_info(seq: int, addr: bytes, path: str) -> bytes:
    return struct.pack("<I", seq) + addr + path.encode().ljust(256, b"\0")


def srh_patch_answer(dev: Ioctler, patch_dir: Path, abi: str | None = None) -> bytes:
    """Pass the patch list like the vendor launcher; returns the reply to write ('ok')."""
    fw = dev.ioctl(ioctls.number("WMT_IOCTL_GET_CHIP_INFO", abi), 2)
    sent_num = False
    for name in sorted(os.listdir(patch_dir)):
        if not name.startswith("ROMv2_lm_patch"):
            continue
        with open(patch_dir / name, "rb") as fh:
            hdr = fh.read(28)
        if len(hdr) < 28 or hdr[23] != fw & 0xFF:
            continue
        if not sent_num:
            dev.ioctl(ioctls.number("WMT_IOCTL_SET_PATCH_NUM", abi), hdr[24] >> 4)
            sent_num = True
        dev.ioctl(ioctls.number("WMT_IOCTL_SET_PATCH_INFO", abi),
                  patch_info(hdr[24] & 0xF, b"\0" + hdr[25:28], str(patch_dir / name)))
    return b"ok"


def loader(be: SimBackend) -> None:
    h = be.open("/dev/wmtdetect")
    cid = h.ioctl(ioctls.number("COMBO_IOCTL_GET_SOC_CHIP_ID", be.abi))
    h.ioctl(ioctls.number("COMBO_IOCTL_SET_CHIP_ID", be.abi), cid)
    with pytest.raises(OSError) as e:
        h.ioctl(ioctls.number("COMBO_IOCTL_DO_MODULE_INIT", be.abi), cid)
    assert e.value.errno == errno.EPERM
    h.close()


def mini_launcher(be: SimBackend, fw: Path) -> tuple[SimHandle, threading.Thread, list[int]]:
    """Launcher-like: power thread blocks in LPBK_POWER_CTRL, main thread answers srh_patch."""
    w = be.open("/dev/stpwmt")
    w.ioctl(ioctls.number("WMT_IOCTL_SET_STP_MODE", be.abi), 0x23)
    result: list[int] = []

    def power() -> None:
        try:
            result.append(w.ioctl(ioctls.number("WMT_IOCTL_LPBK_POWER_CTRL", be.abi), 1))
        except OSError as e:
            result.append(-(e.errno or 1))

    t = threading.Thread(target=power)
    t.start()
    while t.is_alive():
        if w.poll(200):
            cmd = w.read(256)
            if cmd == b"srh_patch":
                w.write(srh_patch_answer(w, fw, be.abi))
    t.join()
    return w, t, result
