"""Install, list and roll back on real FAT (BPI-BOOT) and ext4 (BPI-ROOT) file systems, loop-mounted."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.board.boardkit import LINUX, PLAIN_UENV, make_tarball, uimage
from tests.conftest import need_binary

pytestmark = pytest.mark.root


def _mount(image: Path, mnt: Path) -> None:
    mnt.mkdir()
    r = subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"loop mounts do not work here: {r.stderr.strip()}")


@pytest.fixture(params=["vfat", "ext4"])
def sdcard(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A 'card': 48 MiB BPI-BOOT (FAT32; or ext4 where the kernel has no vfat) and ext4 BPI-ROOT, loop-mounted."""
    mkfs_vfat, mkfs_ext4 = need_binary("mkfs.vfat"), need_binary("mkfs.ext4")
    if os.geteuid() != 0:
        pytest.skip("needs root for mount")
    boot_fs = request.param
    if boot_fs == "vfat" and "vfat" not in Path("/proc/filesystems").read_text():
        subprocess.run(["modprobe", "vfat"], capture_output=True)
        if "vfat" not in Path("/proc/filesystems").read_text():
            pytest.skip("this kernel has no vfat support (the ext4 BPI-BOOT variant runs instead)")
    boot_img, root_img = tmp_path / "boot.img", tmp_path / "root.img"
    for img in (boot_img, root_img):
        with open(img, "wb") as fh:
            fh.truncate(48 * 1024 * 1024)
    if boot_fs == "vfat":
        subprocess.run([mkfs_vfat, "-F", "32", "-n", "BPI-BOOT", str(boot_img)], check=True, capture_output=True)
    else:
        subprocess.run([mkfs_ext4, "-q", "-F", "-L", "BPI-BOOT", str(boot_img)], check=True, capture_output=True)
    subprocess.run([mkfs_ext4, "-q", "-F", "-L", "BPI-ROOT", "-O", "^has_journal", str(root_img)], check=True,
                   capture_output=True)
    boot, root = tmp_path / "boot", tmp_path / "root"
    _mount(boot_img, boot)
    try:
        _mount(root_img, root)
    except BaseException:
        subprocess.run(["umount", str(boot)], check=False)
        raise
    try:
        (boot / LINUX).mkdir(parents=True)
        (boot / LINUX / "uImage").write_bytes(uimage("4.14.1-main", 64 * 1024))
        (boot / LINUX / "uEnv.txt").write_bytes(PLAIN_UENV)
        (root / "etc").mkdir()
        yield boot, root
    finally:
        subprocess.run(["umount", str(boot)], check=False)
        subprocess.run(["umount", str(root)], check=False)


def test_install_list_rollback_on_fat_and_ext4(run_cli, sdcard, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """On real FAT32 + ext4 the install lands, survives a remount, lists, and rolls back."""
    boot, root = sdcard
    src = make_tarball(tmp_path / "k.tar.gz", "5.15.80-main", module_kb=256)
    r = run_cli("kernel", "install", str(src), "--boot", str(boot), "--root", str(root), "--yes")
    assert r.returncode == 0, r.stderr
    subprocess.run(["umount", str(boot)], check=True)
    subprocess.run(["mount", "-o", "loop", str(tmp_path / "boot.img"), str(boot)], check=True)
    listing = run_cli("kernel", "list", "--boot", str(boot), "--root", str(root))
    assert "uEnv.txt boots kernel=uImage_5.15.80-main" in listing.stdout
    assert "verified" in listing.stdout and "BAD" not in listing.stdout
    assert (root / "lib/modules/5.15.80-main/kernel/drivers/net/dummy.ko").stat().st_size == 256 * 1024
    assert (root / "system/etc/firmware/WMT_SOC.cfg").is_file()
    r = run_cli("kernel", "rollback", "--boot", str(boot))
    assert r.returncode == 0, r.stderr
    assert b"\nkernel=uImage\n" in (boot / LINUX / "uEnv.txt").read_bytes()


def test_corrupt_kernel_refused_on_real_card(run_cli, sdcard, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A corrupt uImage is refused on a mounted card and no file appears on either partition."""
    boot, root = sdcard
    before = sorted(str(p) for p in boot.rglob("*")) + sorted(str(p) for p in root.rglob("*"))
    bad = uimage("5.15.80-main")
    src = make_tarball(tmp_path / "k.tar.gz", "5.15.80-main", kernel=bad[:100] + b"\xff" + bad[101:])
    r = run_cli("kernel", "install", str(src), "--boot", str(boot), "--root", str(root), "--yes")
    assert r.returncode == 2 and "CRC" in r.stderr
    assert sorted(str(p) for p in boot.rglob("*")) + sorted(str(p) for p in root.rglob("*")) == before


def test_partitions_found_by_label(run_cli, sdcard, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without --boot/--root the mounted BPI-BOOT/BPI-ROOT are found by label (blkid + /proc/mounts)."""
    blkid = need_binary("blkid")
    boot, _root = sdcard
    dev = subprocess.run([blkid, "-L", "BPI-BOOT"], capture_output=True, text=True).stdout.strip()
    mounted = {line.split()[0]: line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()}
    if mounted.get(dev) != str(boot):
        pytest.skip(f"another device carries the BPI-BOOT label here ({dev})")
    r = run_cli("kernel", "list")
    if "vfat" in Path("/proc/filesystems").read_text() and (tmp_path / "boot.img").read_bytes()[82:87] == b"FAT32":
        assert r.returncode == 0, r.stderr
        assert f"{boot}/{LINUX}: uEnv.txt boots kernel=uImage" in r.stdout
    else:  # the ext4 variant: a BPI-BOOT that is not FAT is refused by name
        assert r.returncode == 2
        assert "BPI-BOOT" in r.stderr and "is ext4, expected vfat" in r.stderr
