"""Test kit for the board tests: fake kernels, SD card trees, release tarballs and .debs."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

from r2wifi.board.uimage import make_uimage

LINUX = "bananapi/bpi-r2/linux"

PLAIN_UENV = (
    b"bpi=bananapi\nboard=bpi-r2\nchip=mt7623n\nservice=linux\n"
    b"#kernel=uImage_old\nkernel=uImage\n"
    b"root=/dev/mmcblk0p2 rootfstype=ext4 rootwait\n"
    b"bootopts=vmalloc=496M debug=7 initcall_debug=0\n"
    b"aload_kernel=fatload $device $partition $kaddr ${bpi}/${board}/${service}/${kernel}\n"
    b"uenvcmd=run ahello abootargs aload_kernel aboot\n"
)


def kernel_bytes(release: str, size: int = 8192) -> bytes:
    """A stand-in uncompressed kernel carrying the ``Linux version`` banner."""
    banner = f"Linux version {release} (frank@build) (gcc 12) #1 SMP".encode()
    body = hashlib.sha256(release.encode()).digest() * (size // 32 + 1)
    return (b"\0" * 64 + banner + b"\0" + body)[:size]


def uimage(release: str, size: int = 8192) -> bytes:
    return make_uimage(kernel_bytes(release, size), name=f"Linux-{release}", timestamp=1_600_000_000)


def make_card(base: Path, release: str = "4.14.1-main") -> tuple[Path, Path]:
    """An SD card as two directories: BPI-BOOT with uImage + uEnv.txt, BPI-ROOT with a rootfs."""
    boot, root = base / "BPI-BOOT", base / "BPI-ROOT"
    linux = boot / LINUX
    linux.mkdir(parents=True)
    (linux / "uImage").write_bytes(uimage(release))
    (linux / "uEnv.txt").write_bytes(PLAIN_UENV)
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("bpi-r2\n")
    mods = root / "lib/modules" / release / "kernel"
    mods.mkdir(parents=True)
    (mods / "old.ko").write_bytes(b"old module")
    return boot, root


def _add(tf: tarfile.TarFile, name: str, data: bytes | None = None, *, kind: bytes = tarfile.REGTYPE,
         link: str = "", mode: int = 0o644) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = 1_600_000_000
    if kind == tarfile.DIRTYPE:
        ti.mode = 0o755
    if link:
        ti.linkname = link
    if data is not None:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)


def release_members(release: str, *, wifi: bool = True, kernel: bytes | None = None,
                    module_kb: int = 1) -> list[tuple[str, bytes | None, bytes, str]]:
    """(name, data, type, linkname) of a frank-w ``pack`` tarball."""
    mod = f"BPI-ROOT/lib/modules/{release}"
    out: list[tuple[str, bytes | None, bytes, str]] = [
        ("BPI-BOOT", None, tarfile.DIRTYPE, ""),
        (f"BPI-BOOT/{LINUX}/uImage", kernel if kernel is not None else uimage(release), tarfile.REGTYPE, ""),
        (f"BPI-BOOT/{LINUX}/dtb/bpi-r2.dtb", b"\xd0\x0d\xfe\xed fake dtb", tarfile.REGTYPE, ""),
        ("BPI-ROOT", None, tarfile.DIRTYPE, ""),
        (mod, None, tarfile.DIRTYPE, ""),
        (f"{mod}/kernel/drivers/net/dummy.ko", b"m" * (module_kb * 1024), tarfile.REGTYPE, ""),
        (f"{mod}/modules.order", b"kernel/drivers/net/dummy.ko\n", tarfile.REGTYPE, ""),
        (f"{mod}/build", None, tarfile.SYMTYPE, "/home/frank/BPI-Router-Linux"),
        ("BPI-ROOT/system/etc/firmware/WMT_SOC.cfg", b"mt6620.defAnt=mt6620_ant_m3.cfg", tarfile.REGTYPE, ""),
        ("BPI-ROOT/etc/firmware/WIFI_RAM_CODE_7623", b"\x01" * 512, tarfile.REGTYPE, ""),
        ("BPI-ROOT/etc/firmware/nvram/WIFI", b"\x06\x01" + b"\0" * 512, tarfile.REGTYPE, ""),
    ]
    if wifi:
        out.append((f"{mod}/kernel/drivers/misc/mediatek/connectivity/wlan_gen2.ko", b"wlan", tarfile.REGTYPE, ""))
        out.append((f"{mod}/modules.builtin", b"kernel/drivers/misc/mediatek/connectivity/common.ko\n",
                    tarfile.REGTYPE, ""))
    else:
        out.append((f"{mod}/modules.builtin", b"kernel/drivers/net/phy/fixed_phy.ko\n", tarfile.REGTYPE, ""))
    return out


def make_tarball(path: Path, release: str, *, extra: list[tuple[str, bytes | None, bytes, str]] | None = None,
                 **kw: object) -> Path:
    members = release_members(release, **kw) + (extra or [])  # type: ignore[arg-type]
    with tarfile.open(path, "w:gz") as tf:
        for name, data, kind, link in members:
            _add(tf, name, data, kind=kind, link=link, mode=0o755 if "uImage" in name else 0o644)
    return path


def make_deb(path: Path, release: str) -> Path:
    """A .deb like frank-w's ``build.sh deb``: boot/... and lib/modules/... in data.tar.xz."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tf:
        for name, blob, kind, link in release_members(release):
            if name.startswith("BPI-BOOT"):
                name = "./boot" + name[len("BPI-BOOT"):]
            else:
                name = "." + name[len("BPI-ROOT"):] if name != "BPI-ROOT" else "."
            _add(tf, name, blob, kind=kind, link=link)
        _add(tf, f"./boot/config-{release}", b"CONFIG_ARM=y\nCONFIG_MTK_COMBO=y\nCONFIG_MTK_COMBO_WIFI=m\n")
    control = io.BytesIO()
    with tarfile.open(fileobj=control, mode="w:gz") as tf:
        _add(tf, "./control", b"Package: bananapi-r2-image-main\nVersion: 1\nArchitecture: armhf\n")

    def ar_member(name: str, blob: bytes) -> bytes:
        hdr = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(blob):<10}`\n".encode()
        return hdr + blob + (b"\n" if len(blob) % 2 else b"")

    path.write_bytes(b"!<arch>\n" + ar_member("debian-binary", b"2.0\n")
                     + ar_member("control.tar.gz", control.getvalue())
                     + ar_member("data.tar.xz", data.getvalue()))
    return path


def snapshot(*dirs: Path) -> dict[str, tuple[str, str]]:
    """Every entry under ``dirs``: path -> (type, content hash / link target / mode)."""
    out: dict[str, tuple[str, str]] = {}
    for d in dirs:
        for dirpath, dirnames, filenames in os.walk(d):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                key = str(p)
                if stat.S_ISLNK(st.st_mode):
                    out[key] = ("link", os.readlink(p))
                elif stat.S_ISDIR(st.st_mode):
                    out[key] = ("dir", "")
                else:
                    out[key] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
    return out


WMT_SOC_CFG = b"mt6620.defAnt=mt6620_ant_m3.cfg\nmt6628.defAnt=mt6628_ant_m1.cfg\nmt6630.defAnt=mt6630_ant_m1.cfg"
HEALTHY_CONFIG = (b"CONFIG_ARM=y\nCONFIG_MTK_COMBO=y\nCONFIG_MTK_COMBO_CHIP_CONSYS_7623=y\n"
                  b"CONFIG_MTK_COMBO_WIFI=m\nCONFIG_MTK_COMBO_BT=m\n")


def healthy_system(root: Path, release: str = "5.15.80-bpi-r2-main") -> Path:
    """A fake BPI-R2 system root in which every doctor check passes (firmware sizes, not hashes)."""
    import gzip
    import json

    def put(rel: str, data: bytes | str) -> Path:
        p = root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p

    put("/proc/sys/kernel/osrelease", release + "\n")
    put("/proc/config.gz", gzip.compress(HEALTHY_CONFIG))
    put("/proc/cmdline", "board=bpi-r2 console=ttyS0,115200 root=/dev/mmcblk0p2 vmalloc=496M debug=7\n")
    put("/proc/device-tree/consys@18070000/status", b"okay\0")
    put("/proc/device-tree/consys@18070000/compatible", b"mediatek,mt7623-consys\0")
    put("/proc/device-tree/reserved-memory/consys@80000000/no-map", b"")
    put("/proc/sys/kernel/random/entropy_avail", "2048\n")
    put("/proc/modules", "wlan_gen2 1200000 0 - Live 0xbf000000\n")
    put("/proc/1/cmdline", b"/sbin/init\0")
    put("/proc/1200/cmdline", b"/usr/bin/stp_uart_launcher\0-p\0/etc/firmware\0")
    put("/proc/1300/cmdline", b"hostapd\0-B\0/run/r2wifi/hostapd.conf\0")
    put("/dev-nodes.json", json.dumps({
        "/dev/wmtdetect": {"type": "char", "major": 154}, "/dev/stpwmt": {"type": "char", "major": 190},
        "/dev/wmtWifi": {"type": "char", "major": 155}, "/dev/stpbt": {"type": "char", "major": 192}}))
    put("/system/etc/firmware/WMT_SOC.cfg", WMT_SOC_CFG)
    put("/etc/firmware/ROMv2_lm_patch_1_0_hdr.bin", b"\x11" * 113080)
    put("/etc/firmware/ROMv2_lm_patch_1_1_hdr.bin", b"\x22" * 50296)
    put("/etc/firmware/WIFI_RAM_CODE_7623", b"\x33" * 225840)
    put("/etc/firmware/nvram/WIFI", b"\x06\x01\x00\x00" + bytes.fromhex("02aabbccddee") + b"\0" * 504)
    put(f"/lib/modules/{release}/kernel/drivers/misc/mediatek/connectivity/wlan_gen2.ko", b"ko")
    (root / "sys/class/net/wlan0").mkdir(parents=True)
    (root / "sys/class/net/eth0").mkdir(parents=True)
    put("/sys/class/rfkill/rfkill0/type", "wlan\n")
    put("/sys/class/rfkill/rfkill0/name", "phy0\n")
    put("/sys/class/rfkill/rfkill0/soft", "0\n")
    put("/sys/class/rfkill/rfkill0/hard", "0\n")
    put("/sys/module/cfg80211/parameters/ieee80211_regdom", "DE\n")
    put("/var/log/dmesg", "[    5.1] [WMT-DETECT]driver(major 154) installed success\n"
                          "[   12.0] [MTK-WIFI] WIFI_write A\n")
    return root
