"""Finding BPI-BOOT / BPI-ROOT by label in a fake system root (/dev/disk/by-label + /proc/mounts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from r2wifi.board.install import find_partition
from r2wifi.errors import UserError


def _sysroot(tmp_path: Path, mounts: str) -> Path:
    root = tmp_path / "sys"
    (root / "dev/disk/by-label").mkdir(parents=True)
    (root / "dev/sdb1").touch()
    (root / "dev/sdb2").touch()
    (root / "dev/disk/by-label/BPI-BOOT").symlink_to("../../sdb1")
    (root / "dev/disk/by-label/BPI-ROOT").symlink_to("../../sdb2")
    (root / "proc").mkdir()
    (root / "proc/mounts").write_text(mounts)
    return root


def test_mounted_partitions_found_by_label(tmp_path: Path) -> None:
    """Labels lead to the device, /proc/mounts to its mount point (spaces in paths decoded)."""
    root = _sysroot(tmp_path, "/dev/sdb1 /media/pi/BPI\\040BOOT vfat rw 0 0\n/dev/sdb2 /media/pi/BPI-ROOT ext4 rw 0 0\n")
    assert find_partition("BPI-BOOT", ("vfat",), root) == Path("/media/pi/BPI BOOT")
    assert find_partition("BPI-ROOT", ("ext4",), root) == Path("/media/pi/BPI-ROOT")


def test_wrong_filesystem_unmounted_and_missing_label(tmp_path: Path) -> None:
    """A BPI-BOOT that is not FAT, an unmounted BPI-ROOT and an absent label are each one clear error."""
    root = _sysroot(tmp_path, "/dev/sdb1 /mnt/boot ext4 rw 0 0\n")
    with pytest.raises(UserError, match="is ext4, expected vfat"):
        find_partition("BPI-BOOT", ("vfat",), root)
    with pytest.raises(UserError, match="not mounted"):
        find_partition("BPI-ROOT", ("ext4",), root)
    with pytest.raises(UserError, match="no partition labelled BPI-DATA"):
        find_partition("BPI-DATA", ("ext4",), root)
