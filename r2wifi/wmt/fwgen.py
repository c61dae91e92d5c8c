"""A synthetic but header-valid firmware set (the vendor blobs are not redistributable).

Theory: the simulator, the demo and the tests need files that the launcher and the (simulated)
kernel accept: patch files with correct 28-byte headers (count 2, sequences 1 and 2, the vendor
addresses 0x0EF0 / 0x0600, fw version 0x8A00) and the vendor sizes, a WIFI_RAM_CODE_7623 of the
vendor size, an NVRAM file with version 0x0106 and a zero MAC, and the shipped WMT_SOC.cfg
(its three ``defAnt`` lines, which are reproduced exactly: same bytes, same hash). Payloads are
deterministic pseudo-random bytes, so ``r2wifi firmware check`` reports their hashes as unknown
(a warning, not a failure).

Layout written under ``root``: ``<root><patch_dir>/...`` and ``<root>/system/etc/firmware/WMT_SOC.cfg``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from r2wifi.fsutil import atomic_write
from r2wifi.wmt.driver import KNOWN_FILES, WIFI_RAM_CODE
from r2wifi.wmt.firmware import DEFAULT_PATCH_DIR, WMT_CFG_PATH, build_header

SHIPPED_WMT_SOC_CFG = b"mt6620.defAnt=mt6620_ant_m3.cfg\nmt6628.defAnt=mt6628_ant_m1.cfg\nmt6630.defAnt=mt6630_ant_m1.cfg"

_SIZE = {kf.name: kf.size for kf in KNOWN_FILES}  # the vendor sizes (r2wifi.wmt.driver)
# name -> (size, total, seq, address): the vendor files' patch info bytes (driver-interface.md 2.4)
PATCHES: dict[str, tuple[int, int, int, int]] = {
    "ROMv2_lm_patch_1_0_hdr.bin": (_SIZE["ROMv2_lm_patch_1_0_hdr.bin"], 2, 2, 0x000600),
    "ROMv2_lm_patch_1_1_hdr.bin": (_SIZE["ROMv2_lm_patch_1_1_hdr.bin"], 2, 1, 0x000EF0),
}
WIFI_RAM_CODE_SIZE = _SIZE[WIFI_RAM_CODE]
NVRAM_SIZE = _SIZE["nvram/WIFI"]


def payload(label: str, size: int) -> bytes:
    """Deterministic filler bytes (sha256 in counter mode)."""
    out = bytearray()
    n = 0
    seed = label.encode()
    while len(out) < size:
        out += hashlib.sha256(seed + n.to_bytes(4, "little")).digest()
        n += 1
    return bytes(out[:size])


def nvram_image(mac: bytes = b"\0" * 6, country: bytes = b"  ") -> bytes:
    data = bytearray(payload("nvram", NVRAM_SIZE))
    data[0:2] = (0x0106).to_bytes(2, "little")  # u2Part1OwnVersion
    data[2:4] = (0x0001).to_bytes(2, "little")  # u2Part1PeerVersion
    data[4:10] = mac
    data[10:12] = country
    return bytes(data)


def write_firmware_set(root: str | Path, patch_dir: str = DEFAULT_PATCH_DIR, *, with_cfg: bool = True) -> Path:
    """Write the synthetic set under ``root``; returns the patch directory (``root/patch_dir``)."""
    rootp = Path(root)
    pdir = rootp / patch_dir.lstrip("/")
    pdir.mkdir(parents=True, exist_ok=True)
    for name, (size, total, seq, addr) in PATCHES.items():
        hdr = build_header(total=total, seq=seq, address=addr)
        atomic_write(pdir / name, hdr + payload(name, size - len(hdr)))
    atomic_write(pdir / "WIFI_RAM_CODE_7623", payload("WIFI_RAM_CODE_7623", WIFI_RAM_CODE_SIZE))
    atomic_write(pdir / "nvram" / "WIFI", nvram_image())
    if with_cfg:
        atomic_write(rootp / WMT_CFG_PATH.lstrip("/"), SHIPPED_WMT_SOC_CFG)
    return pdir
