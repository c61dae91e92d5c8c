"""The simulator's timing table and clocks.

Theory of operation: every inherent delay of the vendor driver (the chip-id read loop at power-on,
the 1000-byte patch fragments, WiFi function on/off, netdev creation, the fixed op waits) is one
row of :data:`REALISTIC`, taken from ``shared/spec/driver-interface.md`` section 8. The model never
calls ``time.sleep``: it asks its :class:`Clock` to sleep or to wait on a condition, so unit tests
use :class:`FakeClock` (time advances instantly, nothing blocks) and the daemon uses
:class:`RealClock`.

Rules:
* ``--timing fast`` divides every *delay* by 20. *Timeouts* (how long the kernel waits: the 2000 ms
  launcher reply, the 2000 ms /dev/stpwmt open wait, the 4000 ms WiFi op wait, the WMT RX wait) are
  the driver's own numbers from :mod:`r2wifi.wmt.driver` (their one home); ``fast`` divides them by 20
  too but never below their floor (1 s; 2 s for the WiFi op wait, which must outlast a reply wait),
  so a loaded CI machine never turns a slow launcher into a failure.
* The model adds every delay it spends (and every timeout that expires) to ``inherent_delay_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from r2wifi.wmt import driver

FAST_DIVISOR = 20.0
FAST_TIMEOUT_FLOOR = 1.0
FAST_TIMEOUT_FLOORS = {"wifi_op_wait": 2.0}

# name -> seconds (realistic). Delays: work the driver does.
REALISTIC: dict[str, float] = {
    "core_init": 0.12,  # WMT core ready after DO_MODULE_INIT (stpwmt open waits for this)
    "module_init": 0.06,  # DO_MODULE_INIT registrations and WMT_SOC.cfg read
    "chipid_read": 0.02,  # one iteration of the consys chip-id read loop (10 x 20 ms max)
    "consys_pwr_on": 0.15,  # regulators, clocks, reset, EMI mapping
    "stp_init": 0.08,  # STP over BTIF open + WMT reset command
    "patch_frag": 0.004,  # one 1000-byte patch fragment over BTIF/STP
    "chip_pwr_off": 0.1,
    "wifi_on": 1.2,  # WIFI function on: WMT op + wlan_gen2 probe + WIFI_RAM_CODE load
    "wifi_off": 0.4,
    "netdev_create": 0.25,  # register_netdev of wlan0 / ap0 / p2p0
    "mode_switch": 0.5,  # p2p mode handler disable/enable
    "netdev_wait": driver.NETDEV_LOOKUP_S,  # one "Fail to get wlan0 net device, sleep 300ms"
    "bt_module_init": 0.2,
    "bt_on": 0.3,
    "chip_reset": 0.5,
}
# Timeouts: the kernel waiting for userspace.
TIMEOUTS: dict[str, float] = {
    "ul_cmd_reply": driver.UL_CMD_REPLY_S,  # launcher answer to srh_patch
    "stpwmt_open": driver.STPWMT_OPEN_WAIT_S,  # /dev/stpwmt open waits for the core
    "wifi_op_wait": driver.WIFI_OP_WAIT_S,  # mtk_wcn_wmt_func_ctrl's fixed wait for a WiFi op
    "wmt_rx": driver.WMT_RX_TIMEOUT_S,  # one WMT event wait over STP (btif-dead)
}


@dataclass
class Timing:
    """The delays in use (realistic or fast)."""

    mode: str = "realistic"
    delays: dict[str, float] = field(default_factory=lambda: dict(REALISTIC))
    timeouts: dict[str, float] = field(default_factory=lambda: dict(TIMEOUTS))

    @classmethod
    def named(cls, mode: str) -> Timing:
        if mode == "realistic":
            return cls()
        if mode == "fast":
            return cls(
                "fast",
                {k: v / FAST_DIVISOR for k, v in REALISTIC.items()},
                {k: max(FAST_TIMEOUT_FLOORS.get(k, FAST_TIMEOUT_FLOOR), v / FAST_DIVISOR)
                 for k, v in TIMEOUTS.items()},
            )
        if mode == "zero":  # unit tests that only care about order of events
            return cls("zero", {k: 0.0 for k in REALISTIC}, dict(TIMEOUTS))
        from r2wifi.errors import UserError

        raise UserError(f"--timing: {mode!r} is not one of realistic, fast")

    def delay(self, name: str) -> float:
        return self.delays[name]

    def timeout(self, name: str) -> float:
        return self.timeouts[name]


class Clock(Protocol):
    def now(self) -> float: ...

    def wait(self, cv: threading.Condition, predicate: Callable[[], bool], timeout: float) -> bool:
        """With ``cv`` held: wait until ``predicate()`` or ``timeout`` seconds; return predicate()."""
        ...


class RealClock:
    """Wall-clock time since the simulator started; waits release the model lock."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.start

    def wait(self, cv: threading.Condition, predicate: Callable[[], bool], timeout: float) -> bool:
        return cv.wait_for(predicate, timeout)


class FakeClock:
    """Simulated time for unit tests: nothing blocks.

    ``wait`` first runs the registered ``hooks`` (a test's stand-in for userspace, e.g. a
    launcher that answers ``srh_patch``); if the predicate is still false, time jumps by the
    whole timeout.
    """

    def __init__(self) -> None:
        self.t = 0.0
        self.hooks: list[Callable[[], None]] = []

    def now(self) -> float:
        return self.t

    def wait(self, cv: threading.Condition, predicate: Callable[[], bool], timeout: float) -> bool:
        if predicate():
            return True
        for hook in list(self.hooks):
            hook()
            if predicate():
                return True
        self.t += timeout
        return predicate()
