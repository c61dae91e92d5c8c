"""The loader (replaces ``wmt_loader``): register the WMT char devices once per boot.

Theory of operation (driver-interface.md 1.3-1.4, BPI-R2 SOC variant):

1. If ``/dev/stpwmt`` already exists, DO_MODULE_INIT already ran this boot: skip (a second call
   re-runs the registrations and fills the kernel log with busy-major errors).
2. Open ``/dev/wmtdetect``, retrying every 300 ms up to ``timeout`` (the original retries
   forever). A missing node means the detect driver is not built or consys is disabled in the
   device tree; a *regular file* there means something wrote to the path before the driver
   created it.
3. GET_SOC_CHIP_ID (0x7623), SET_CHIP_ID(chip), DO_MODULE_INIT(chip). DO_MODULE_INIT returns
   the sum of its parts; the disabled Bluetooth part makes it -1, which libc reports as EPERM:
   normal on the BPI-R2 and explained, never reported as a failure.
4. A regular file at any node path (``echo A > /dev/wmtWifi`` run before the driver) is named
   with the fix (remove it, reboot) instead of being mistaken for a missing driver part.
5. Success is judged by the nodes: wait for ``/dev/stpwmt`` (and ``/dev/wmtWifi``; if the
   WLAN part is not built, CONFIG_MTK_COMBO_WIFI is missing).

I/O goes through a :class:`~r2wifi.wmt.backend.Backend`; time through ``clock``/``sleep`` so
tests run without real waiting.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable

from r2wifi.errors import UserError
from r2wifi.records import field, record
from r2wifi.wmt import driver, ioctls
from r2wifi.wmt.backend import Backend, DeviceHandle, NodeInfo

WMTDETECT, STPWMT, WMTWIFI, STPBT = driver.WMTDETECT, driver.STPWMT, driver.WMTWIFI, driver.STPBT
NODES = driver.NODES
MAJORS = driver.MAJORS
OPEN_RETRY_S = driver.OPEN_RETRY_S
NODE_POLL_S = 0.02
WIFI_NODE_GRACE_S = 2.0

NO_DETECT = ("/dev/wmtdetect is missing: the WMT detect driver is not running (kernel built without "
             "CONFIG_MTK_COMBO / CONFIG_MTK_COMBO_CHIP_CONSYS_7623, or consys@18070000 is disabled in the device tree)")
def regular_file_error(path: str) -> str:
    """The message for a regular file where the driver's character device should be."""
    return (f"{path} is a regular file, not the driver's device: something wrote to it before the driver created "
            f"the node (e.g. 'echo A > {path}' too early); remove it (rm {path}) and reboot")


def check_not_regular(backend: Backend, *paths: str) -> None:
    for path in paths:
        node = backend.stat_node(path)
        if node is not None and node.kind == "file":
            raise UserError(regular_file_error(path))


NO_WIFI = ("/dev/wmtWifi never appeared after DO_MODULE_INIT: the kernel is built without CONFIG_MTK_COMBO_WIFI "
           "(the WLAN part of the connectivity driver); rebuild the kernel with it (=y or =m)")


@record
class InitResult:
    skipped: bool
    chip_id: int | None = None
    module_init: int | None = None  # ioctl return, or -errno
    nodes: dict[str, NodeInfo | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "skipped": self.skipped,
            "chip_id": None if self.chip_id is None else f"0x{self.chip_id:04x}",
            "module_init": self.module_init,
            "nodes": {p: (None if n is None else {"kind": n.kind, "major": n.major}) for p, n in self.nodes.items()},
            "notes": self.notes,
            "elapsed_s": round(self.elapsed_s, 4),
        }


def is_char(node: NodeInfo | None) -> bool:
    return node is not None and node.kind == "char"


class Loader:
    def __init__(self, backend: Backend, *, timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 say: Callable[[str], None] = lambda _s: None) -> None:
        self.backend = backend
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.say = say

    def _num(self, name: str) -> int:
        return ioctls.number(name, self.backend.abi)

    def _nodes(self) -> dict[str, NodeInfo | None]:
        return {p: self.backend.stat_node(p) for p in NODES}

    def run(self) -> InitResult:
        start = self.clock()
        deadline = start + self.timeout
        check_not_regular(self.backend, STPWMT, WMTWIFI)
        if is_char(self.backend.stat_node(STPWMT)):
            res = InitResult(skipped=True, notes=["/dev/stpwmt exists: DO_MODULE_INIT already ran this boot, skipped"])
            res.nodes = self._nodes()
            if not is_char(res.nodes[WMTWIFI]):
                raise UserError(NO_WIFI)
            res.elapsed_s = self.clock() - start
            return res
        handle = self._open_detect(deadline)
        try:
            res = self._init(handle)
        finally:
            handle.close()
        self._wait_nodes(res, deadline)
        res.elapsed_s = self.clock() - start
        return res

    def _open_detect(self, deadline: float) -> DeviceHandle:
        count = 0
        while True:
            node = self.backend.stat_node(WMTDETECT)
            if node is not None and node.kind == "file":
                raise UserError(regular_file_error(WMTDETECT))
            if node is not None and node.kind not in ("char", "file"):
                raise UserError(f"/dev/wmtdetect is a {node.kind}, not a character device; remove it and reboot")
            if node is not None:
                try:
                    return self.backend.open(WMTDETECT)
                except OSError as e:
                    count += 1
                    self.say(f"Can't open device node({WMTDETECT}) count({count}): {e.strerror or e}")
                    last = e
            else:
                last = None
            if self.clock() + OPEN_RETRY_S > deadline:
                if node is None:
                    raise UserError(NO_DETECT)
                raise UserError(f"cannot open /dev/wmtdetect after {count} tries: "
                                f"{last.strerror if last and last.strerror else last}")
            self.sleep(OPEN_RETRY_S)

    def _init(self, h: DeviceHandle) -> InitResult:
        res = InitResult(skipped=False)
        try:
            chip = h.ioctl(self._num("COMBO_IOCTL_GET_SOC_CHIP_ID"), 0)
        except OSError as e:
            raise UserError(f"GET_SOC_CHIP_ID on /dev/wmtdetect failed ({e.strerror or e}): "
                            "the connectivity driver does not know its SOC") from None
        if chip in (-1, 0xFFFFFFFF):
            raise UserError("GET_SOC_CHIP_ID returned -1: the connectivity driver does not know its SOC")
        res.chip_id = chip
        self.say(f"get device id : {chip} (0x{chip:04x})")
        h.ioctl(self._num("COMBO_IOCTL_SET_CHIP_ID"), chip)
        self.say("set device id")
        try:
            ret = h.ioctl(self._num("COMBO_IOCTL_DO_MODULE_INIT"), chip)
            res.module_init = ret
            self.say(f"do module init: {ret}")
        except OSError as e:
            res.module_init = -(e.errno or 1)
            if e.errno == errno.EPERM:
                res.notes.append("DO_MODULE_INIT returned -1 (EPERM): normal on the BPI-R2, the disabled Bluetooth "
                                 "part of the init returns -1 (Bluetooth comes from stp_chrdev_bt); success is "
                                 "judged by the device nodes")
            else:
                res.notes.append(f"DO_MODULE_INIT failed with {errno.errorcode.get(e.errno or 0, e.errno)}; "
                                 "judging by the device nodes")
            self.say(f"do module init: -1 ({e.strerror})")
        return res

    def _wait_nodes(self, res: InitResult, deadline: float) -> None:
        while not is_char(self.backend.stat_node(STPWMT)):
            if self.clock() >= deadline:
                raise UserError("/dev/stpwmt did not appear after DO_MODULE_INIT: the common part of the driver "
                                "failed (check 'dmesg' for WMT-MOD-INIT / consys errors and the device tree)")
            self.sleep(NODE_POLL_S)
        grace = min(deadline, self.clock() + WIFI_NODE_GRACE_S)
        while not is_char(self.backend.stat_node(WMTWIFI)):
            if self.clock() >= grace:
                raise UserError(NO_WIFI)
            self.sleep(NODE_POLL_S)
        res.nodes = self._nodes()
