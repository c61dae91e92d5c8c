"""Facts about the vendor connectivity driver that several parts of r2wifi need: the one home of each.

Theory of operation: the simulator (:mod:`r2wifi.sim`), the loader and launcher (:mod:`r2wifi.wmt`),
``doctor``, ``board install`` and the firmware tools read the device nodes and their majors, the chip
ids, the firmware file set and the driver's timeouts from here, so a fact can change in one place.
Sources: ``shared/spec/driver-interface.md`` §1-§3, §8 and the corrections of §11; platform.md B.

Rules: constants and frozen tables only, no I/O, imports nothing from r2wifi but the leaf
:mod:`r2wifi.records` (so every layer may import it).
"""

from __future__ import annotations

from r2wifi.records import record

# ---- device nodes (§1.1, §2.1, §3.1, §5) ------------------------------------------------------------
WMTDETECT = "/dev/wmtdetect"
STPWMT = "/dev/stpwmt"
WMTWIFI = "/dev/wmtWifi"
STPBT = "/dev/stpbt"
NODES = (WMTDETECT, STPWMT, WMTWIFI, STPBT)
MAJORS: dict[str, int] = {WMTDETECT: 154, STPWMT: 190, WMTWIFI: 155, STPBT: 192}
REQUIRED_FOR_WIFI: dict[str, bool] = {WMTDETECT: True, STPWMT: True, WMTWIFI: True, STPBT: False}
#: nodes whose driver implements ``.poll`` (wmt_dev.c, stp_chrdev_bt.c); the others get the kernel's default mask
POLLABLE = frozenset({STPWMT, STPBT})

# ---- chip ------------------------------------------------------------------------------------------------
SOC_CHIP_ID = 0x7623
HW_VERSION = 0x8A00  # E1
ROM_VERSION = 0x8A00  # GET_CHIP_INFO(2), the patch's fw version
STP_MODE_SOC = 0x23  # BTIF full (3) + FM over COMM (2 << 4); the kernel logs "new hifType: 2, fm:2"
BOOT_UPTIME_S = 7.5  # simulated uptime when the driver registers /dev/wmtdetect

# WMT function types (FUNC_ONOFF_CTRL low nibble, "type(N)" of the OPID lines) and op ids (§11.2)
FUNC_BT, FUNC_FM, FUNC_GPS, FUNC_WIFI, FUNC_LPBK = 0, 1, 2, 3, 4
OPID_FUNC_ON, OPID_FUNC_OFF = 3, 4

# ---- firmware (§2.4, platform.md B) ----------------------------------------------------------------------
DEFAULT_PATCH_DIR = "/etc/firmware"
PATCH_PREFIX_MT7623 = "ROMv2_lm_patch"
PATCH_HEADER_LEN = 28
PATCH_BUILT_TIME_LEN = 15  # the kernel cuts the 16-byte build time at 15 characters (cDataTime[15] = 0)
PATCH_FRAGMENT = 1000
PATCH_INFO_LEN = 264  # u32 seq + 4 address bytes + 256 bytes path
PATCH_NAME_LEN = 255  # WMT_IOCTL_SET_PATCH_NAME: the bytes the driver copies from the caller
#: pointer ioctl -> bytes the driver copies from the caller (copy_from_user); the other ioctls take a value
POINTER_IN_LEN: dict[str, int] = {"WMT_IOCTL_SET_PATCH_NAME": PATCH_NAME_LEN, "WMT_IOCTL_SET_PATCH_INFO": PATCH_INFO_LEN}
WIFI_RAM_CODE = "WIFI_RAM_CODE_7623"
WIFI_RAM_CODE_PATH = f"{DEFAULT_PATCH_DIR}/{WIFI_RAM_CODE}"
NVRAM_PATH = f"{DEFAULT_PATCH_DIR}/nvram/WIFI"
WMT_CFG_PATH = "/system/etc/firmware/WMT_SOC.cfg"


@record(frozen=True)
class KnownFile:
    """One file of the vendor firmware set, at the path the driver or launcher opens."""

    name: str  # as shown to the user
    path: str  # compiled-in absolute path (firmware dir files: relative to the patch dir)
    size: int
    sha256_prefix: str
    in_patch_dir: bool
    opened_by: str
    hash_checked: bool = True  # False: the driver writes the file back (nvram/WIFI)


KNOWN_FILES: tuple[KnownFile, ...] = (
    KnownFile("ROMv2_lm_patch_1_0_hdr.bin", "ROMv2_lm_patch_1_0_hdr.bin", 113080, "65d510e1", True,
              "launcher (srh_patch) then kernel"),
    KnownFile("ROMv2_lm_patch_1_1_hdr.bin", "ROMv2_lm_patch_1_1_hdr.bin", 50296, "784e2f95", True,
              "launcher (srh_patch) then kernel"),
    KnownFile("WIFI_RAM_CODE_7623", WIFI_RAM_CODE_PATH, 225840, "d94493f4", False, "wlan_gen2 at WiFi power-on"),
    KnownFile("nvram/WIFI", NVRAM_PATH, 514, "703d268f", False, "wlan_gen2 (reads and writes)", False),
    KnownFile("WMT_SOC.cfg", WMT_CFG_PATH, 95, "6da55395", False, "kernel wmt_conf.c at every chip power-on"),
)


def known_file_path(kf: KnownFile, patch_dir: str = DEFAULT_PATCH_DIR) -> str:
    """The absolute path of ``kf`` on the board (patch files live in ``patch_dir``)."""
    return f"{patch_dir.rstrip('/')}/{kf.path}" if kf.in_patch_dir else kf.path


# ---- interface names (§3.2) ------------------------------------------------------------------------------
NAME_SETS: dict[str, dict[str, str]] = {
    "default": {"sta": "wlan0", "ap": "ap0", "p2p": "p2p0"},
    "mtk": {"sta": "mtkwlan0", "ap": "mtkap0", "p2p": "mtkp2p0"},
}
WLAN_MODE_NUM = {"sta": 0, "ap": 1, "p2p": 2}  # wlan_gen2 modes of "Set wlan mode %d --> %d"

# ---- timeouts and retries (§8, §11.1, §11.2) -------------------------------------------------------------
STPWMT_OPEN_WAIT_S = 2.0  # WMT_open waits for the core, then EIO
UL_CMD_REPLY_S = 2.0  # the kernel waits this long for the launcher's answer to srh_patch
WIFI_OP_WAIT_S = 4.0  # mtk_wcn_wmt_func_ctrl: fixed wait for a WiFi on/off op ("wait completion timeout")
WMT_RX_TIMEOUT_S = 2.0  # one WMT event over STP (some BPI snapshots: 20 s)
KERNEL_POWER_ON_TRIES = 3  # opfunc_pwr_on: wmt_core_stp_init retried 2 more times (WMT_PWRON_RTY_DFT)
KERNEL_RESET_TRIES = 10  # wmt_lib_cmb_rst: hw+sw reset tries, each posting srh_patch
NETDEV_LOOKUP_TRIES = 10  # /dev/wmtWifi looks up wlan0 10 x 300 ms
NETDEV_LOOKUP_S = 0.3
OPEN_RETRY_S = 0.3  # loader and launcher retry open every 300 ms
LAUNCHER_POLL_MS = 2000
LAUNCHER_POWER_TRIES = 20
LAUNCHER_POWER_RETRY_S = 1.0
