"""ioctl numbers of the MediaTek connectivity driver, computed for a target ABI.

Theory: Linux (asm-generic, used by ARM, arm64 and x86_64) encodes an ioctl request as
``dir << 30 | size << 16 | type << 8 | nr`` with dir READ=2, WRITE=1 (READ|WRITE=3) and a 14-bit
size. The size is ``sizeof`` of the argument type *of the userspace ABI*, so a pointer-typed
command has size 4 on 32-bit ARM (the BPI-R2) and 8 on arm64 and x86_64. ``int``-typed commands
are size 4 everywhere. Numbers are never hard-coded: every table value is computed, and the tests
pin the results against ``shared/spec/driver-interface.md``.

Rule: nothing else in r2wifi spells an ioctl number; it asks :func:`number` for the ABI it runs on.
"""

from __future__ import annotations

import os
import struct
from typing import Literal

from r2wifi.records import record

IOC_NONE = 0
IOC_WRITE = 1
IOC_READ = 2

_NRBITS, _TYPEBITS, _SIZEBITS = 8, 8, 14
_NRSHIFT = 0
_TYPESHIFT = _NRSHIFT + _NRBITS
_SIZESHIFT = _TYPESHIFT + _TYPEBITS
_DIRSHIFT = _SIZESHIFT + _SIZEBITS

ABIS: dict[str, dict[str, int]] = {
    # C type sizes that matter for the encoding
    "armhf": {"int": 4, "ptr": 4},
    "arm64": {"int": 4, "ptr": 8},
    "x86_64": {"int": 4, "ptr": 8},
}

Dir = Literal["", "R", "W", "RW", "raw"]
_DIRS: dict[str, int] = {"": IOC_NONE, "R": IOC_READ, "W": IOC_WRITE, "RW": IOC_READ | IOC_WRITE}

MAGIC_WMTDETECT = 0x77  # 'w'
MAGIC_STPWMT = 0xA0
MAGIC_STPBT = 0xB0


def ioc(direction: int, typ: int, nr: int, size: int) -> int:
    """The generic _IOC() macro."""
    if not 0 <= size < (1 << _SIZEBITS):
        raise ValueError(f"ioctl size {size} does not fit in {_SIZEBITS} bits")
    if not (0 <= typ < 256 and 0 <= nr < 256):
        raise ValueError("ioctl type and nr are 8-bit values")
    return (direction << _DIRSHIFT) | (size << _SIZESHIFT) | (typ << _TYPESHIFT) | (nr << _NRSHIFT)


@record(frozen=True)
class Ioctl:
    name: str
    device: str  # "/dev/wmtdetect", "/dev/stpwmt", "/dev/stpbt"
    direction: Dir
    magic: int
    nr: int
    argtype: Literal["int", "ptr", "none"]  # C type of the declared argument
    passing: Literal["value", "pointer", "none"]  # how the driver reads `arg`
    summary: str

    def number(self, abi: str = "armhf") -> int:
        if self.direction == "raw":
            return self.nr
        sizes = abi_sizes(abi)
        size = sizes["ptr"] if self.argtype == "ptr" else sizes["int"]
        return ioc(_DIRS[self.direction], self.magic, self.nr, size)


def _d(name: str, d: Dir, nr: int, passing: Literal["value", "pointer", "none"], summary: str) -> Ioctl:
    return Ioctl(name, "/dev/wmtdetect", d, MAGIC_WMTDETECT, nr, "int", passing, summary)


def _w(name: str, d: Dir, nr: int, argtype: Literal["int", "ptr", "none"],
       passing: Literal["value", "pointer", "none"], summary: str) -> Ioctl:
    return Ioctl(name, "/dev/stpwmt", d, MAGIC_STPWMT, nr, argtype, passing, summary)


def _b(name: str, nr: int, summary: str) -> Ioctl:
    return Ioctl(name, "/dev/stpbt", "RW", MAGIC_STPBT, nr, "int", "pointer", summary)


TABLE: tuple[Ioctl, ...] = (
    _d("COMBO_IOCTL_GET_CHIP_ID", "R", 0, "none", "stored chip id (-1 before SET_CHIP_ID)"),
    _d("COMBO_IOCTL_SET_CHIP_ID", "W", 1, "value", "store the chip id"),
    _d("COMBO_IOCTL_EXT_CHIP_DETECT", "R", 2, "none", "external combo chip detection (-1 on SOC)"),
    _d("COMBO_IOCTL_GET_SOC_CHIP_ID", "R", 3, "none", "compile-time SOC id (0x7623)"),
    _d("COMBO_IOCTL_DO_MODULE_INIT", "R", 4, "value", "register /dev/stpwmt and /dev/wmtWifi (once per boot)"),
    _d("COMBO_IOCTL_MODULE_CLEANUP", "R", 5, "none", "no-op on the BPI-R2 build"),
    _d("COMBO_IOCTL_EXT_CHIP_PWR_ON", "R", 6, "none", "external chip power on (-1 on SOC)"),
    _d("COMBO_IOCTL_EXT_CHIP_PWR_OFF", "R", 7, "none", "external chip power off (no-op on SOC)"),
    _d("COMBO_IOCTL_DO_SDIO_AUDOK", "R", 8, "none", "SDIO auto-K (irrelevant for MT7623)"),
    _w("WMT_IOCTL_SET_PATCH_NAME", "W", 4, "ptr", "pointer", "default patch name (empty in the SOC flow)"),
    _w("WMT_IOCTL_SET_STP_MODE", "W", 5, "int", "value", "STP/HIF mode; the SOC launcher sends 0x23"),
    _w("WMT_IOCTL_FUNC_ONOFF_CTRL", "W", 6, "int", "value", "function on/off (bit 31 on, low 4 bits type)"),
    _w("WMT_IOCTL_LPBK_POWER_CTRL", "W", 7, "int", "value", "power the whole chip (blocking, issues srh_patch)"),
    _w("WMT_IOCTL_LPBK_TEST", "RW", 8, "ptr", "pointer", "loopback data test"),
    _w("WMT_IOCTL_COREDUMP_START", "raw", 10, "none", "value", "coredump bookkeeping (raw number)"),
    _w("WMT_IOCTL_COREDUMP_END", "raw", 11, "none", "value", "coredump bookkeeping (raw number)"),
    _w("WMT_IOCTL_GET_CHIP_INFO", "R", 12, "int", "value", "0 chip id, 1 hw version, 2 fw (ROM) version"),
    _w("WMT_IOCTL_SET_LAUNCHER_KILL", "W", 13, "int", "value", "1 = launcher going away, block STP TX"),
    _w("WMT_IOCTL_SET_PATCH_NUM", "W", 14, "int", "value", "number of patch files that follow"),
    _w("WMT_IOCTL_SET_PATCH_INFO", "W", 15, "ptr", "pointer", "264-byte struct: seq, address, path"),
    _w("WMT_IOCTL_PORT_NAME", "RW", 20, "ptr", "pointer", "UART tty name (combo only, EINVAL here)"),
    _w("WMT_IOCTL_WMT_CFG_NAME", "RW", 21, "ptr", "pointer", "config file name (combo only, EINVAL here)"),
    _w("WMT_IOCTL_WMT_QUERY_CHIPID", "R", 22, "int", "none", "chip id stored by /dev/wmtdetect (-1 if unknown)"),
    _w("WMT_IOCTL_WMT_TELL_CHIPID", "W", 23, "int", "value", "combo only (EINVAL here)"),
    _w("WMT_IOCTL_WMT_COREDUMP_CTRL", "W", 24, "int", "value", "0 disable / 1 enable coredump mode"),
    _w("WMT_IOCTL_SEND_BGW_DS_CMD", "W", 25, "ptr", "pointer", "vendor BGW desense command (unused)"),
    _w("WMT_IOCTL_ADIE_LPBK_TEST", "RW", 26, "ptr", "pointer", "A-die loopback test (unused)"),
    _w("WMT_IOCTL_GET_APO_FLAG", "R", 28, "int", "none", "always-power-on query (EINVAL on this kernel)"),
    _w("WMT_IOCTL_FW_DBGLOG_CTRL", "R", 29, "int", "value", "firmware debug log control (-1 on MT7623)"),
    _w("WMT_IOCTL_DYNAMIC_DUMP_CTRL", "R", 30, "ptr", "pointer", "dynamic dump (unused)"),
    _b("COMBO_IOC_BT_FW_ASSERT", 0, "trigger a BT firmware assert"),
    _b("COMBO_IOC_BT_IC_HW_VER", 1, "BT IC hardware version"),
    _b("COMBO_IOC_BT_IC_FW_VER", 2, "BT IC firmware version"),
    _b("COMBO_IOC_BT_HWVER", 3, "BT hardware version"),
)

BY_NAME: dict[str, Ioctl] = {i.name: i for i in TABLE}


def host_abi() -> str:
    """The ABI of the running interpreter, in the names of :data:`ABIS`."""
    machine = os.uname().machine.lower()  # what platform.machine() says, without importing platform
    ptr = struct.calcsize("P")
    if machine.startswith("arm") and ptr == 4:
        return "armhf"
    if machine in ("aarch64", "arm64"):
        return "arm64" if ptr == 8 else "armhf"
    if ptr == 8:
        return "x86_64"
    return "armhf"  # any other 32-bit userspace encodes like armhf


def abi_sizes(abi: str) -> dict[str, int]:
    try:
        return ABIS[abi]
    except KeyError:
        from r2wifi.errors import UserError

        raise UserError(f"unknown ABI {abi!r}: choose one of {', '.join(ABIS)}") from None


def number(name: str, abi: str | None = None) -> int:
    """The request number of ioctl ``name`` for ``abi`` (default: the running interpreter's)."""
    return BY_NAME[name].number(abi or host_abi())


def as_signed(value: int) -> int:
    """The number as the kernel logs it with ``%d``."""
    return value - (1 << 32) if value & 0x80000000 else value


def lookup(request: int, abi: str | None = None) -> Ioctl | None:
    """Find the ioctl whose number for ``abi`` is ``request`` (accepts signed values)."""
    request &= 0xFFFFFFFF
    use = abi or host_abi()
    for io in TABLE:
        if io.number(use) == request:
            return io
    return None


def table(abi: str) -> list[dict[str, object]]:
    """The whole table for ``abi``, as plain data (for `r2wifi chip ioctls --json`)."""
    abi_sizes(abi)
    rows: list[dict[str, object]] = []
    for io in TABLE:
        n = io.number(abi)
        rows.append(
            {
                "name": io.name,
                "device": io.device,
                "dir": io.direction or "none",
                "magic": f"0x{io.magic:02X}",
                "nr": io.nr,
                "arg_type": io.argtype,
                "passing": io.passing,
                "number": f"0x{n:08X}",
                "signed": as_signed(n),
                "summary": io.summary,
            }
        )
    return rows
