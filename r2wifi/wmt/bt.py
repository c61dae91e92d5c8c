"""Bluetooth on the internal combo (driver-interface.md 5, platform.md C).

Theory: ``stp_chrdev_bt`` initialises at module load and needs a powered, patched chip
("STP is not ready" otherwise), so it may only be loaded after the resident launcher reported
the chip powered (:func:`r2wifi.wmt.state.chip_ready`). With BT_HCI the module registers
``hci0`` itself: no hciattach/btattach is involved. We load the module, wait for ``hci0``
(polling ``backend.hci_devices()`` with a deadline) and report its BD address.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from r2wifi.errors import UserError
from r2wifi.records import record
from r2wifi.wmt.backend import Backend
from r2wifi.wmt.loader import STPBT, is_char
from r2wifi.wmt.state import read_state

MODULE = "stp_chrdev_bt"
POLL_S = 0.02


@record
class BtStatus:
    module_loaded: bool
    node: bool
    hci: list[str]
    address: str | None
    launcher_ready: bool

    def to_json(self) -> dict[str, object]:
        return {"module_loaded": self.module_loaded, "stpbt_node": self.node, "hci": self.hci,
                "address": self.address, "launcher_ready": self.launcher_ready}


def _hci(backend: Backend) -> list[str]:
    fn = getattr(backend, "hci_devices", None)
    return list(fn()) if fn else []


def _address(backend: Backend, hci: str) -> str | None:
    fn = getattr(backend, "bt_address", None)
    return fn(hci) if fn else None


def status(backend: Backend) -> BtStatus:
    hci = _hci(backend)
    st = read_state()
    return BtStatus(
        module_loaded=backend.module_loaded(MODULE),
        node=is_char(backend.stat_node(STPBT)),
        hci=hci,
        address=_address(backend, hci[0]) if hci else None,
        launcher_ready=bool(st.get("alive") and st.get("powered")),
    )


def bt_up(backend: Backend, *, timeout: float = 10.0, clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep) -> BtStatus:
    st = read_state()
    if not st.get("alive"):
        raise UserError("the launcher is not running: Bluetooth needs a powered, patched chip "
                        "(run 'r2wifi chip launch --daemon' first)")
    if not st.get("powered"):
        raise UserError("the launcher has not finished patching the chip yet; loading stp_chrdev_bt now fails "
                        "with 'STP is not ready' (wait for 'r2wifi chip launch --daemon' to return)")
    try:
        backend.load_module(MODULE)
    except OSError as e:
        raise UserError(f"loading {MODULE} failed ({e.strerror or e}): the kernel lacks CONFIG_MTK_COMBO_BT "
                        "as a module, or the chip is not ready (see dmesg for [MTK-BT])") from None
    deadline = clock() + timeout
    while not _hci(backend):
        if clock() >= deadline:
            raise UserError(f"{MODULE} is loaded but no hci0 appeared within {timeout:g} s: the module is built "
                            "without CONFIG_MTK_COMBO_BT_HCI (only /dev/stpbt; use a vhci bridge or Bumble)")
        sleep(POLL_S)
    return status(backend)
