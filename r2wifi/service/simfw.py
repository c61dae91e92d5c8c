"""The simulator's own firmware set, used when the simulator is the backend and the configured
firmware directory holds no set (first contact: ``r2wifi up --ap`` on a machine without /etc/firmware).

Public API::

    patch_dir_for(backend_name, firmware_dir) -> str   # firmware_dir, or the simulator's set

Rules:
* Only for the simulator backend (``sim``). On the board (``real``) the configured directory is
  used as it is and a missing set stays the launcher's error, naming the directory.
* A directory that has any patch file of the chip's family is the user's choice and is used as it
  is (a broken set is reported by the launcher, not papered over).
* The set is :func:`r2wifi.wmt.fwgen.write_firmware_set` (header-valid synthetic files) written
  once under the simulator's directory (:func:`r2wifi.paths.sim_dir`, ``firmware/``), never into
  /etc or the configured directory; later calls reuse it.
"""

from __future__ import annotations

import os
from pathlib import Path

SIM_BACKENDS = frozenset({"sim"})


def _has_set(directory: str) -> bool:
    from r2wifi.wmt.firmware import SOC_CHIP_ID, prefix_for_chip

    prefix = prefix_for_chip(SOC_CHIP_ID) or ""
    try:
        return any(n.startswith(prefix) for n in os.listdir(directory))
    except OSError:
        return False


def sim_firmware_root() -> Path:
    from r2wifi.paths import sim_dir

    return sim_dir() / "firmware"


def patch_dir_for(backend_name: str, firmware_dir: str) -> str:
    """``firmware_dir``, unless the backend is the simulator and it has no set: then the simulator's."""
    if backend_name not in SIM_BACKENDS or _has_set(firmware_dir):
        return firmware_dir
    from r2wifi.wmt.firmware import DEFAULT_PATCH_DIR
    from r2wifi.wmt.fwgen import write_firmware_set

    root = sim_firmware_root()
    patch_dir = root / DEFAULT_PATCH_DIR.lstrip("/")
    if not _has_set(str(patch_dir)):
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        patch_dir = write_firmware_set(root)
    return str(patch_dir)
