"""Power loss at every write, fsync and rename of a kernel install: the card always boots a verified kernel.

The crash model (CrashingOps) is the pessimistic one of ext4/FAT with delayed allocation: data not
fsync'd is lost (the file is left empty), and a rename whose directory was not fsync'd may not have
happened (it is undone, the old target restored). The boot model is a small, independent copy of
what U-Boot does: `env import -t` of uEnv.txt (later lines win, `#` comments), then load
bananapi/bpi-r2/linux/${kernel} (default uImage) and check the legacy header and data CRCs.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from r2wifi.board.archive import open_source
from r2wifi.board.fileops import RealFileOps
from r2wifi.board.install import Card, execute, prepare
from tests.board.boardkit import LINUX, make_card, make_tarball, uimage


class PowerCut(Exception):
    pass


class CrashingOps(RealFileOps):
    """RealFileOps that counts changing operations, cuts power before op ``cut_at``, and models loss."""

    def __init__(self, cut_at: int | None = None) -> None:
        self.count = 0
        self.cut_at = cut_at
        self.fd_path: dict[int, Path] = {}
        self.unsynced: set[Path] = set()
        self.pending: list[tuple[Path, Path, bytes | None]] = []

    def _tick(self, what: str) -> None:
        self.count += 1
        if self.cut_at is not None and self.count >= self.cut_at:
            raise PowerCut(f"power cut at op {self.count} ({what})")

    def mkdir(self, path: Path, mode: int = 0o755) -> None:
        self._tick(f"mkdir {path}")
        super().mkdir(path, mode)

    def create(self, path: Path, mode: int = 0o644) -> int:
        self._tick(f"create {path}")
        fd = super().create(path, mode)
        self.fd_path[fd] = path
        self.unsynced.add(path)
        return fd

    def write(self, fd: int, data: bytes) -> None:
        self._tick(f"write {self.fd_path.get(fd)}")
        super().write(fd, data)
        if fd in self.fd_path:
            self.unsynced.add(self.fd_path[fd])

    def fsync(self, fd: int) -> None:
        self._tick(f"fsync {self.fd_path.get(fd)}")
        super().fsync(fd)
        self.unsynced.discard(self.fd_path.get(fd, Path("/nonexistent")))

    def close(self, fd: int) -> None:
        super().close(fd)
        self.fd_path.pop(fd, None)

    def rename(self, src: Path, dst: Path) -> None:
        self._tick(f"rename {src} -> {dst}")
        old = dst.read_bytes() if dst.is_file() else None
        super().rename(src, dst)
        self.pending.append((src, dst, old))
        moved = {p for p in self.unsynced if p == src or src in p.parents}
        for p in moved:
            self.unsynced.discard(p)
            self.unsynced.add(dst / p.relative_to(src) if p != src else dst)

    def fsync_dir(self, path: Path) -> None:
        self._tick(f"fsync_dir {path}")
        super().fsync_dir(path)
        self.pending = [(s, d, o) for (s, d, o) in self.pending if d.parent != path]

    def symlink(self, target: str, path: Path) -> None:
        self._tick(f"symlink {path}")
        super().symlink(target, path)

    def unlink(self, path: Path) -> None:
        self._tick(f"unlink {path}")
        super().unlink(path)

    def crash(self) -> None:
        """Apply what a power loss may undo: unsynced data lost, undurable renames reverted."""
        for p in self.unsynced:
            if p.is_file():
                os.truncate(p, 0)
        for src, dst, old in reversed(self.pending):
            if dst.exists() or dst.is_symlink():
                os.rename(dst, src)
            if old is not None:
                dst.write_bytes(old)


def uboot_boots(boot: Path) -> str | None:
    """The kernel U-Boot would boot from this BPI-BOOT, or None if it would fail."""
    linux = boot / LINUX
    env: dict[str, str] = {}
    try:
        text = (linux / "uEnv.txt").read_bytes().decode("latin-1")
    except FileNotFoundError:
        text = ""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    kernel = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), env.get("kernel", "uImage"))
    try:
        img = (linux / kernel).read_bytes()
    except OSError:
        return None
    if len(img) < 64:
        return None
    magic, hcrc, _t, size, _l, _e, dcrc, os_, arch, typ = struct.unpack(">7I3B", img[:31])
    hdr = img[:4] + b"\0\0\0\0" + img[8:64]
    if magic != 0x27051956 or zlib.crc32(hdr) != hcrc or len(img) < 64 + size:
        return None
    if zlib.crc32(img[64:64 + size]) != dcrc or (os_, arch, typ) != (5, 2, 2):
        return None
    return kernel


def _card_kernel(base: Path) -> bytes | None:
    p = base / "BPI-BOOT" / LINUX / "uImage_5.15.80-main"
    return p.read_bytes() if p.exists() else None


def _run(template: Path, work: Path, src: Path, cut_at: int | None) -> tuple[CrashingOps, Card, bool]:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work, symlinks=True)
    card = Card(work / "BPI-BOOT", work / "BPI-ROOT")
    ops = CrashingOps(cut_at)
    payload = open_source(src)
    try:
        execute(prepare(payload, card), ops, depmod=False)
        finished = True
    except PowerCut:
        ops.crash()
        finished = False
    finally:
        payload.close()
    return ops, card, finished


@pytest.mark.parametrize("scenario", ["fresh", "reinstall-booted"])
def test_every_interruption_point_boots_a_verified_kernel(tmp_path: Path, scenario: str) -> None:
    """Cut the power before each write/fsync/rename: U-Boot always finds a verified kernel; a re-run finishes."""
    template = tmp_path / "template"
    make_card(template)
    src = make_tarball(tmp_path / "k.tar.gz", "5.15.80-main")
    if scenario == "reinstall-booted":
        ops, card, finished = _run(template, tmp_path / "pre", src, None)
        assert finished
        shutil.rmtree(template)
        shutil.copytree(tmp_path / "pre", template, symlinks=True)
        src = make_tarball(tmp_path / "k2.tar.gz", "5.15.80-main", module_kb=3,
                           kernel=uimage("5.15.80-main", size=12288))  # a rebuilt kernel, same release
    before = uboot_boots(template / "BPI-BOOT")
    assert before is not None
    total, _card, finished = _run(template, tmp_path / "work", src, None)
    assert finished and total.count > 20
    assert _card_kernel(template) != _card_kernel(tmp_path / "work")  # the kernel file really changes
    for cut in range(1, total.count + 1):
        ops, card, finished = _run(template, tmp_path / "work", src, cut)
        assert not finished
        booted = uboot_boots(card.boot)
        assert booted in (before, "uImage_5.15.80-main"), f"cut at op {cut}/{total.count}: boots {booted}"
        # The user re-runs the install after power returns: it completes and boots the new kernel.
        payload = open_source(src)
        try:
            execute(prepare(payload, card), RealFileOps(), depmod=False)
        finally:
            payload.close()
        assert uboot_boots(card.boot) == "uImage_5.15.80-main", f"re-run after cut {cut}"


@pytest.mark.parametrize("fsync_first", [True, False])
def test_crash_model_catches_a_rename_before_fsync(tmp_path: Path, fsync_first: bool) -> None:
    """The model is strict enough: a good kernel renamed in without fsync is lost; with fsync it boots."""
    boot, _root = make_card(tmp_path)
    linux = boot / LINUX
    ops = CrashingOps()
    fd = ops.create(linux / ".new", 0o644)
    ops.write(fd, uimage("5.15.80-main"))
    if fsync_first:
        ops.fsync(fd)
    ops.close(fd)
    ops.rename(linux / ".new", linux / "uImage")
    ops.fsync_dir(linux)
    ops.crash()
    assert (uboot_boots(boot) == "uImage") is fsync_first
