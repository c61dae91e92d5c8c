"""``/dev/stpwmt`` of the simulated driver (wmt_dev.c; driver-interface.md §2, §11).

Rules:

* ``open`` waits for the WMT core that DO_MODULE_INIT started (up to 2 s, then EIO); after a second
  DO_MODULE_INIT every open waits 2 s and fails with EIO. Every open logs ``major 190 minor 0 (pid N)``;
  the first also "1st call"; the last close "last call".
* Every ioctl is one row of :data:`OPS`. Value commands carry the value in ``arg``; SET_PATCH_NAME and
  SET_PATCH_INFO take bytes. GET_APO_FLAG, PORT_NAME, WMT_CFG_NAME and TELL_CHIPID are absent from this
  ``wmt_dev.c``: "unknown cmd", -EINVAL, like every unknown command.
* SET_STP_MODE: bits 0-3 the STP mode (1..4), bits 4-7 the FM mode (0..2); logs ``new hifType: <hif>,
  fm:<fm>`` (BTIF full -> hif 2) at [W] and "HIF info added" (first) or "already exist. overwrite!" at [E];
  a bad STP mode returns -1, a bad FM mode -2.
* LPBK_POWER_CTRL(1/0) and FUNC_ONOFF_CTRL are WMT function ops (:meth:`Kernel.func_ctrl`): 0 or -EFAULT.
* The command channel: ``read`` returns the posted command once (clearing the command bit), then 0 bytes;
  ``poll`` is True while the bit is set (POLLOUT is always implied); ``write`` is the reply when the
  kernel waits for one.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable

from r2wifi.sim.kernel import Handle, Kernel, printable
from r2wifi.sim.wmtdetect import Arg, intarg
from r2wifi.wmt import driver as D
from r2wifi.wmt import ioctls

HIF_TYPE = {1: 0, 2: 0, 3: 2, 4: 1}  # STP mode -> WMT_HIF_* (UART 0, SDIO 1, BTIF 2)
FM_MODES = (0, 1, 2)  # none, I2C, COMM


class StpWmt:
    path = D.STPWMT

    def __init__(self, k: Kernel) -> None:
        self.k = k

    def _users(self) -> int:
        return sum(1 for h in self.k.handles.values() if h.path == self.path)

    def open(self, h: Handle) -> int:
        k = self.k
        limit = k.timing.timeout("stpwmt_open")
        ready = k.core_ready_at
        left = None if ready is None or k.init_broken else ready - k.clock.now()
        if left is None or left > limit:
            k.wait(lambda: False, "stpwmt_open")
            ms = int(limit * 1000)
            k.log("stpwmt_open_eio", line=1171, ms=ms, jiffies=ms // 10)
            return -errno.EIO
        if left > 0:
            k.pass_time(left)
        k.log("stpwmt_open", major=D.MAJORS[self.path], minor=0, pid=h.pid)
        if self._users() == 0:
            k.log("stpwmt_first_call")
        return 0

    def release(self, h: Handle) -> None:
        self.k.log("stpwmt_release", major=D.MAJORS[self.path], minor=0, pid=h.pid)
        if self._users() == 0:
            self.k.log("stpwmt_last_call")

    def ioctl(self, h: Handle, io: ioctls.Ioctl | None, request: int, arg: Arg) -> int:
        if io is None or io.device != self.path or io.name not in OPS:
            self.k.log("stpwmt_unknown_cmd", cmd=ioctls.as_signed(request & 0xFFFFFFFF))
            return -errno.EINVAL
        return OPS[io.name](self, arg)

    # ---- command channel

    def read(self, h: Handle, size: int) -> bytes:
        k = self.k
        if k.cmd_bit is None:
            return b""
        cmd, k.cmd_bit = k.cmd_bit, None
        k.cv.notify_all()
        return cmd.encode()[: min(size, 255)]

    def readable(self) -> bool:
        return self.k.cmd_bit is not None

    def write(self, h: Handle, data: bytes) -> int:
        k = self.k
        if not k.cmd_waiting or k.cmd_reply is not None:
            k.log("resp_unasked", resp=printable(data))
            return len(data)
        k.cmd_reply = bytes(data)
        k.cv.notify_all()
        return len(data)

    # ---- rows

    def set_patch_name(self, arg: Arg) -> int:
        return 0 if isinstance(arg, bytes) else -errno.EFAULT

    def set_stp_mode(self, arg: Arg) -> int:
        k = self.k
        v = intarg(arg)
        mode, fm = v & 0xF, (v >> 4) & 0xF
        if mode not in HIF_TYPE:
            return -1
        if fm not in FM_MODES:
            return -2
        k.log("stp_mode_set", hif=HIF_TYPE[mode], fm=fm)
        k.log("hif_overwrite" if k.hif is not None else "hif_added", line=1520)
        k.hif = (mode, fm)
        return 0

    def func_onoff(self, arg: Arg) -> int:
        v = intarg(arg)
        func, on = v & 0xF, bool(v & 0x80000000)
        if func not in (D.FUNC_BT, D.FUNC_WIFI, D.FUNC_LPBK):
            return -errno.EFAULT
        with self.k.op():
            wait = "wifi_op_wait" if func == D.FUNC_WIFI else None
            return 0 if self.k.func_ctrl(func, on, wait=wait) else -errno.EFAULT

    def lpbk_power(self, arg: Arg) -> int:
        with self.k.op():
            return 0 if self.k.func_ctrl(D.FUNC_LPBK, bool(intarg(arg) & 1)) else -errno.EFAULT

    def lpbk_test(self, arg: Arg) -> int:
        return len(arg) if isinstance(arg, bytes) else -errno.EFAULT

    def zero(self, arg: Arg) -> int:
        return 0

    def get_chip_info(self, arg: Arg) -> int:
        sel = intarg(arg)
        if sel == 0:
            return D.SOC_CHIP_ID
        if sel in (1, 2):  # read from the chip at the first power-on (before srh_patch); 0 until then
            if not self.k.ever_powered:
                return 0
            return D.HW_VERSION if sel == 1 else D.ROM_VERSION
        return 0

    def launcher_kill(self, arg: Arg) -> int:
        k = self.k
        k.launcher_kill = intarg(arg) == 1
        if k.launcher_kill:
            k.log("launcher_killed")
        k.cv.notify_all()
        return 0

    def set_patch_num(self, arg: Arg) -> int:
        k = self.k
        k.patch_num = intarg(arg)
        k.patch_infos = {}
        k.log("patch_num_set", num=k.patch_num)
        return 0

    def set_patch_info(self, arg: Arg) -> int:
        k = self.k
        if not isinstance(arg, bytes) or len(arg) < D.PATCH_INFO_LEN:
            return -errno.EFAULT
        seq = struct.unpack_from("<I", arg, 0)[0]
        addr = bytes(arg[4:8])
        path = arg[8:D.PATCH_INFO_LEN].split(b"\0", 1)[0].decode("utf-8", "replace")
        if seq == 0 or seq > k.patch_num:
            k.log("patch_seq_unchecked", line=812, seq=seq, num=k.patch_num)
            return -errno.EFAULT
        k.patch_infos[seq] = (addr, path)
        k.log("patch_info_set", seq=seq, addr=addr.hex(), path=path)
        if len(k.patch_infos) == k.patch_num:
            k.patch_committed = dict(k.patch_infos)
        return 0

    def query_chipid(self, arg: Arg) -> int:
        self.k.log("stpwmt_chipid", chip=f"{self.k.chip_id & 0xFFFFFFFF:x}")
        return self.k.chip_id

    def fw_dbglog(self, arg: Arg) -> int:
        return -1

    def pointer_zero(self, arg: Arg) -> int:
        return 0 if isinstance(arg, bytes) else -errno.EFAULT


Row = Callable[[StpWmt, Arg], int]

# Absent from this wmt_dev.c (unknown cmd, -EINVAL): GET_APO_FLAG, PORT_NAME, WMT_CFG_NAME, TELL_CHIPID.
OPS: dict[str, Row] = {
    "WMT_IOCTL_SET_PATCH_NAME": StpWmt.set_patch_name,
    "WMT_IOCTL_SET_STP_MODE": StpWmt.set_stp_mode,
    "WMT_IOCTL_FUNC_ONOFF_CTRL": StpWmt.func_onoff,
    "WMT_IOCTL_LPBK_POWER_CTRL": StpWmt.lpbk_power,
    "WMT_IOCTL_LPBK_TEST": StpWmt.lpbk_test,
    "WMT_IOCTL_COREDUMP_START": StpWmt.zero,
    "WMT_IOCTL_COREDUMP_END": StpWmt.zero,
    "WMT_IOCTL_GET_CHIP_INFO": StpWmt.get_chip_info,
    "WMT_IOCTL_SET_LAUNCHER_KILL": StpWmt.launcher_kill,
    "WMT_IOCTL_SET_PATCH_NUM": StpWmt.set_patch_num,
    "WMT_IOCTL_SET_PATCH_INFO": StpWmt.set_patch_info,
    "WMT_IOCTL_WMT_QUERY_CHIPID": StpWmt.query_chipid,
    "WMT_IOCTL_WMT_COREDUMP_CTRL": StpWmt.zero,
    "WMT_IOCTL_SEND_BGW_DS_CMD": StpWmt.pointer_zero,
    "WMT_IOCTL_ADIE_LPBK_TEST": StpWmt.pointer_zero,
    "WMT_IOCTL_FW_DBGLOG_CTRL": StpWmt.fw_dbglog,
    "WMT_IOCTL_DYNAMIC_DUMP_CTRL": StpWmt.pointer_zero,
}
