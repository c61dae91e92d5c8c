"""``/dev/stpbt`` and the ``stp_chrdev_bt`` module of the simulated driver (stp_chrdev_bt.c; §5).

Rules: the module loads only on a powered chip and creates /dev/stpbt and ``hci0``. ``open`` turns the BT
function on (ENODEV "STP is not ready" while the chip is off), ``close`` turns it off (the last function
going off powers the chip down, like any WMT function). ``write`` takes one H4 packet; an HCI command
gets a Command Complete (with the BD address for Read BD_ADDR). ioctls are the rows of :data:`OPS`.
"""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Callable

from r2wifi.sim.kernel import Handle, Kernel
from r2wifi.sim.wmtdetect import Arg
from r2wifi.wmt import driver as D
from r2wifi.wmt import ioctls


def bd_addr_for(seed: str) -> str:
    return "00:0c:e7:" + ":".join(f"{b:02x}" for b in hashlib.sha256(seed.encode()).digest()[3:6])


class StpBt:
    path = D.STPBT
    module = "stp_chrdev_bt"

    def __init__(self, k: Kernel, bd_addr: str) -> None:
        self.k = k
        self.bd_addr = bd_addr

    def load(self) -> int:
        k = self.k
        if self.module in k.modules:
            return 0
        if not k.chip_on:
            k.log("bt_stp_not_ready")
            return -errno.ENODEV
        k.sleep("bt_module_init")
        k.modules.add(self.module)
        k.nodes[self.path] = "char"
        k.log("bt_installed", major=D.MAJORS[self.path])
        k.hci = ["hci0"]
        k.log("bt_hci_workaround", hci="hci0")
        return 0

    def open(self, h: Handle) -> int:
        k = self.k
        if not k.chip_on:
            k.log("bt_stp_not_ready")
            return -errno.ENODEV
        k.sleep("bt_on")
        if not k.func_ctrl(D.FUNC_BT, True):
            k.log("bt_on_fail")
            return -errno.EIO
        k.log("bt_on_ok")
        return 0

    def release(self, h: Handle) -> None:
        k = self.k
        if k.funcs[D.FUNC_BT] and not any(x.path == self.path for x in k.handles.values()):
            k.func_ctrl(D.FUNC_BT, False)
            k.log("bt_off_ok")

    def read(self, h: Handle, size: int) -> bytes | int:
        return h.bt_rx.pop(0)[:size] if h.bt_rx else -errno.EAGAIN

    def write(self, h: Handle, data: bytes) -> int:
        if not data:
            return -errno.ENOSPC
        if len(data) > 2048:
            return -errno.EINVAL
        if data[0] == 0x01 and len(data) >= 4:  # HCI command -> Command Complete, status 0
            opcode = data[1:3]
            extra = b""
            if opcode == b"\x09\x10":  # Read BD_ADDR
                extra = bytes(int(x, 16) for x in reversed(self.bd_addr.split(":")))
            h.bt_rx.append(bytes([0x04, 0x0E, 4 + len(extra), 0x01]) + opcode + b"\x00" + extra)
            self.k.ready(h.hid)
        return len(data)

    def ioctl(self, h: Handle, io: ioctls.Ioctl | None, request: int, arg: Arg) -> int:
        if io is None or io.device != self.path or io.name not in OPS:
            return -errno.EINVAL
        return OPS[io.name](self, arg)

    def fw_assert(self, arg: Arg) -> int:
        self.k.log("bt_fw_assert")
        return 0

    def hw_ver(self, arg: Arg) -> int:
        return D.HW_VERSION

    def fw_ver(self, arg: Arg) -> int:
        return D.ROM_VERSION


OPS: dict[str, Callable[[StpBt, Arg], int]] = {
    "COMBO_IOC_BT_FW_ASSERT": StpBt.fw_assert,
    "COMBO_IOC_BT_IC_HW_VER": StpBt.hw_ver,
    "COMBO_IOC_BT_IC_FW_VER": StpBt.fw_ver,
    "COMBO_IOC_BT_HWVER": StpBt.hw_ver,
}
