"""ROM patch headers and the firmware set of the BPI-R2 (driver-interface.md 2.4, platform.md B).

Theory of operation:

* A ROM patch file starts with a 28-byte header: build time (16 ASCII bytes), platform (4 bytes,
  "ALPS"), hardware version (2 bytes, big endian), software/firmware version (2 bytes, big
  endian; the launcher compares only its low byte with the chip's ROM version) and 4 bytes of
  patch info: byte 24 high nibble = number of patches, low nibble = download sequence, bytes
  25..27 = address (sent to the kernel as ``00 b25 b26 b27``).
* The launcher picks patch files by a name prefix that depends on the chip
  (:data:`PATCH_PREFIX`), e.g. ``ROMv2_lm_patch`` for mt7623.
* :func:`check_firmware_set` looks at the whole set a frank-w kernel opens at compiled-in paths
  (:data:`KNOWN_FILES`) and returns findings with a fix for each problem. Unknown hashes (our
  synthetic set from :mod:`r2wifi.wmt.fwgen`, or another vendor build) are warnings; missing or
  unreadable files, bad patch headers and read-only NVRAM are errors.

Rules: pure functions over bytes and paths; no device access. Bad files raise
:class:`FirmwareError` (a :class:`~r2wifi.errors.UserError`) naming the file and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from r2wifi.errors import UserError
from r2wifi.records import asdict, field, record

# the facts live in r2wifi.wmt.driver; re-exported here for the firmware tools
from r2wifi.wmt.driver import DEFAULT_PATCH_DIR as DEFAULT_PATCH_DIR
from r2wifi.wmt.driver import KNOWN_FILES as KNOWN_FILES
from r2wifi.wmt.driver import NVRAM_PATH as NVRAM_PATH
from r2wifi.wmt.driver import PATCH_HEADER_LEN as HEADER_SIZE
from r2wifi.wmt.driver import ROM_VERSION as ROM_VERSION
from r2wifi.wmt.driver import SOC_CHIP_ID as SOC_CHIP_ID
from r2wifi.wmt.driver import WIFI_RAM_CODE_PATH as WIFI_RAM_CODE_PATH
from r2wifi.wmt.driver import WMT_CFG_PATH as WMT_CFG_PATH
from r2wifi.wmt.driver import KnownFile as KnownFile
from r2wifi.wmt.driver import known_file_path

install_path = known_file_path  # the absolute compiled-in path of a KnownFile (patch files: in the patch dir)

# chip name ("mt%04x" of GET_CHIP_INFO(0)) -> patch file prefix, as in stp_uart_launcher.
PATCH_PREFIX: dict[str, str] = {
    "mt6572": "ROMv1_patch",
    "mt6582": "ROMv1_patch",
    "mt6592": "ROMv1_patch",
    "mt8127": "ROMv2_patch",
    "mt6571": "ROMv2_patch",
    "mt6752": "ROMv2_lm_patch",
    "mt6735": "ROMv2_lm_patch",
    "mt8163": "ROMv2_lm_patch",
    "mt6580": "ROMv2_lm_patch",
    "mt6755": "ROMv2_lm_patch",
    "mt7623": "ROMv2_lm_patch",
    "mt6797": "ROMv3_patch",
}


class FirmwareError(UserError):
    """A firmware file is missing, short or has an invalid header."""


@record(frozen=True)
class PatchHeader:
    build_time: str
    platform: str
    hw_version: int
    fw_version: int
    total: int
    seq: int
    address: bytes  # 4 bytes as sent to the kernel: 00 b25 b26 b27

    @property
    def address_int(self) -> int:
        return int.from_bytes(self.address, "big")

    def to_json(self) -> dict[str, object]:
        return {
            "build_time": self.build_time,
            "platform": self.platform,
            "hw_version": f"0x{self.hw_version:04X}",
            "fw_version": f"0x{self.fw_version:04X}",
            "total": self.total,
            "seq": self.seq,
            "address": f"0x{self.address_int:08X}",
        }


def parse_header(data: bytes, name: str = "patch") -> PatchHeader:
    """Parse the first 28 bytes of a patch file; short data raises :class:`FirmwareError`."""
    if len(data) < HEADER_SIZE:
        raise FirmwareError(f"{name}: too short for a patch header ({len(data)} of {HEADER_SIZE} bytes)")
    build = data[0:16].split(b"\0", 1)[0].decode("ascii", "replace")
    platform = data[16:20].decode("ascii", "replace")
    hw = int.from_bytes(data[20:22], "big")
    fw = int.from_bytes(data[22:24], "big")
    info = data[24]
    return PatchHeader(build, platform, hw, fw, info >> 4, info & 0x0F, bytes([0, data[25], data[26], data[27]]))


def build_header(*, total: int, seq: int, address: int, build_time: str = "20151206145017a",
                 platform: str = "ALPS", hw_version: int = ROM_VERSION, fw_version: int = ROM_VERSION) -> bytes:
    """The 28-byte header (the inverse of :func:`parse_header`)."""
    if not (0 <= total < 16 and 0 <= seq < 16):
        raise ValueError("total and seq are 4-bit values")
    if not 0 <= address < (1 << 24):
        raise ValueError("the patch address is 24 bits")
    bt = build_time.encode("ascii")[:16].ljust(16, b"\0")
    pf = platform.encode("ascii")[:4].ljust(4, b"\0")
    return (bt + pf + hw_version.to_bytes(2, "big") + fw_version.to_bytes(2, "big")
            + bytes([(total << 4) | seq]) + address.to_bytes(3, "big"))


def prefix_for_chip(chip_id: int) -> str | None:
    return PATCH_PREFIX.get(f"mt{chip_id:04x}")


@record
class Finding:
    level: Literal["ok", "warn", "error"]
    path: str
    message: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@record
class PatchSet:
    """The patch files the launcher would announce for a directory, with their headers."""

    directory: str
    prefix: str
    accepted: list[tuple[str, PatchHeader]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def read_header_file(path: Path) -> PatchHeader:
    try:
        with open(path, "rb") as fh:
            data = fh.read(HEADER_SIZE)
    except OSError as e:
        raise FirmwareError(f"{path}: cannot read ({e.strerror})") from None
    return parse_header(data, str(path))


def check_patches(directory: Path, chip_id: int = SOC_CHIP_ID, rom_version: int = ROM_VERSION,
                  display_dir: str | None = None) -> PatchSet:
    """Validate the patch files of ``directory`` the way the launcher and the kernel use them."""
    shown = display_dir or str(directory)
    prefix = prefix_for_chip(chip_id)
    if prefix is None:
        raise FirmwareError(f"chip mt{chip_id:04x} has no known patch family")
    result = PatchSet(shown, prefix)
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith(prefix))
    except OSError as e:
        result.findings.append(Finding("error", shown, f"patch directory unreadable ({e.strerror})",
                                       "install the set with 'r2wifi firmware install SRC', or name its directory: "
                                       "'r2wifi chip launch -p DIR' or chip.firmware_dir in the configuration"))
        return result
    if not names:
        result.findings.append(Finding("error", shown, f"no {prefix}* files",
                                       f"copy the {prefix}_1_*_hdr.bin files into {shown}"))
        return result
    for name in names:
        disp = f"{shown.rstrip('/')}/{name}"
        try:
            hdr = read_header_file(directory / name)
        except FirmwareError as e:
            result.findings.append(Finding("error", disp, str(e).split(": ", 1)[-1],
                                           "replace it with an intact copy of the vendor file"))
            continue
        if hdr.platform != "ALPS":
            result.findings.append(Finding("warn", disp, f"platform field is {hdr.platform!r}, expected 'ALPS'"))
        if (hdr.fw_version & 0xFF) != (rom_version & 0xFF):
            result.findings.append(Finding(
                "error", disp,
                f"fw version 0x{hdr.fw_version:04X} does not match the chip ROM 0x{rom_version:04X} "
                "(low byte); the launcher skips it", "use the patch set built for the MT7623 (ROM 0x8A00)"))
            continue
        result.accepted.append((name, hdr))
    if result.accepted:
        totals = {h.total for _n, h in result.accepted}
        seqs = [h.seq for _n, h in result.accepted]
        total = result.accepted[0][1].total
        if len(totals) > 1:
            result.findings.append(Finding("error", shown, f"patch files disagree on the patch count {sorted(totals)}",
                                           "use one consistent patch set"))
        elif total != len(result.accepted):
            result.findings.append(Finding("error", shown,
                                           f"headers announce {total} patches but {len(result.accepted)} match",
                                           "install every file of the patch set"))
        if any(s < 1 or s > total for s in seqs):
            result.findings.append(Finding("error", shown, f"sequence numbers {seqs} out of range 1..{total}",
                                           "a header is corrupt; replace the file"))
        elif len(set(seqs)) != len(seqs):
            result.findings.append(Finding("error", shown, f"duplicate sequence numbers {seqs}",
                                           "remove the duplicate patch file"))
    return result


def sha256_file(path: Path) -> str:
    import hashlib  # only where a file is hashed: the launcher's start (check_patches) needs none

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()


def writable(path: Path) -> bool:
    """Writable for the driver: not on a read-only mount and writable for us."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return False
    except OSError:
        return False
    return os.access(path, os.W_OK)


def _under(root: Path, abspath: str) -> Path:
    return root / abspath.lstrip("/")


def check_firmware_set(patch_dir: str = DEFAULT_PATCH_DIR, root: str = "/") -> list[Finding]:
    """Check every file of platform.md section B; findings are ordered as the table."""
    rootp = Path(root)
    findings: list[Finding] = []
    pdir = _under(rootp, patch_dir)
    patchset = check_patches(pdir, display_dir=patch_dir)
    bad_patch_paths = {f.path for f in patchset.findings if f.level == "error"}
    findings.extend(patchset.findings)
    if os.path.normpath(patch_dir) != DEFAULT_PATCH_DIR:
        findings.append(Finding("warn", patch_dir,
                                f"wlan_gen2 and the NVRAM are read from {DEFAULT_PATCH_DIR}, not {patch_dir}",
                                f"keep WIFI_RAM_CODE_7623 and nvram/WIFI in {DEFAULT_PATCH_DIR}"))
    for kf in KNOWN_FILES:
        shown = f"{patch_dir.rstrip('/')}/{kf.path}" if kf.in_patch_dir else kf.path
        path = pdir / kf.path if kf.in_patch_dir else _under(rootp, kf.path)
        if not path.exists():
            if kf.in_patch_dir and shown in bad_patch_paths:
                continue
            if kf.in_patch_dir and any(f.path == patch_dir and f.level == "error" for f in patchset.findings):
                continue  # already reported as a whole
            fix = f"install {kf.name} to {shown} (read by {kf.opened_by})"
            if kf.name == "WMT_SOC.cfg":
                fix += "; the path is compiled into the kernel, other directories are not searched"
            findings.append(Finding("error", shown, "missing", fix))
            continue
        if not path.is_file():
            findings.append(Finding("error", shown, "not a regular file", f"replace it with the {kf.name} file"))
            continue
        try:
            size = path.stat().st_size
            digest = sha256_file(path)
        except OSError as e:
            findings.append(Finding("error", shown, f"unreadable ({e.strerror})", "fix its permissions (0644)"))
            continue
        if digest.startswith(kf.sha256_prefix) and size == kf.size:
            findings.append(Finding("ok", shown, f"vendor file ({size} bytes, sha256 {digest[:8]}...)"))
        elif size != kf.size:
            findings.append(Finding("warn", shown,
                                    f"not the vendor file: {size} bytes (vendor {kf.size}), sha256 {digest[:8]}... unknown",
                                    "fine for a synthetic/test set; on the board use the vendor file"))
        else:
            findings.append(Finding("warn", shown, f"unknown sha256 {digest[:8]}... (vendor {kf.sha256_prefix}...)",
                                    "fine for a synthetic/test set; on the board use the vendor file"))
        if kf.name == "nvram/WIFI" and not writable(path):
            findings.append(Finding("error", shown, "not writable; wlan_gen2 writes calibration back",
                                    f"make it writable (chmod 0644 {kf.path}, rootfs mounted read-write)"))
        if kf.name == "WMT_SOC.cfg":
            from r2wifi.wmt.wmtcfg import check_file

            findings.extend(check_file(path, shown))
    return findings
