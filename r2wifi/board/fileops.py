"""The file operations the kernel installer is allowed to use, behind one small interface.

Why: power-loss safety is a property of the *order* of writes, fsyncs and renames. Routing every
such step through a :class:`FileOps` object lets a test count them and cut the power at each one
(see ``tests/board/test_powerloss.py``), and lets the installer itself be read as a list of steps.

Operations that change the card: ``mkdir``, ``create``, ``write``, ``fsync``, ``rename``,
``fsync_dir``, ``symlink``, ``unlink``. ``close`` and reads are not counted as writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol


class FileOps(Protocol):
    def mkdir(self, path: Path, mode: int = 0o755) -> None: ...
    def create(self, path: Path, mode: int = 0o644) -> int: ...
    def write(self, fd: int, data: bytes) -> None: ...
    def fsync(self, fd: int) -> None: ...
    def close(self, fd: int) -> None: ...
    def rename(self, src: Path, dst: Path) -> None: ...
    def fsync_dir(self, path: Path) -> None: ...
    def symlink(self, target: str, path: Path) -> None: ...
    def unlink(self, path: Path) -> None: ...


class RealFileOps:
    """The plain POSIX implementation."""

    def mkdir(self, path: Path, mode: int = 0o755) -> None:
        os.mkdir(path, mode)

    def create(self, path: Path, mode: int = 0o644) -> int:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        try:
            os.fchmod(fd, mode)
        except OSError:  # FAT: permission bits are fixed by the mount options
            pass
        return fd

    def write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def close(self, fd: int) -> None:
        os.close(fd)

    def rename(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        except OSError:  # some file systems refuse fsync on directories; nothing more to do
            pass
        finally:
            os.close(fd)

    def symlink(self, target: str, path: Path) -> None:
        os.symlink(target, path)

    def unlink(self, path: Path) -> None:
        os.unlink(path)


def check_inside(base: Path, dest: Path) -> None:
    """Refuse ``dest`` if its existing part resolves outside ``base`` (a symlink on the target tree)."""
    from r2wifi.errors import UserError

    probe = dest
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    real_base = os.path.realpath(base)
    real = os.path.realpath(probe)
    if real != real_base and not real.startswith(real_base.rstrip("/") + "/"):
        raise UserError(f"{dest} would be written outside {base} (a symlink there points to {real})")


def makedirs(ops: FileOps, path: Path, mode: int = 0o755) -> list[Path]:
    """Create ``path`` and missing parents through ``ops``; returns the directories created."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        ops.mkdir(d, mode)
        ops.fsync_dir(d.parent)
    return list(reversed(missing))


def write_file(ops: FileOps, path: Path, chunks: Iterable[bytes] | bytes, mode: int = 0o644) -> None:
    """Create ``path`` with the data (bytes, or chunks consumed one by one) and fsync it.

    No rename: for temp or brand-new names (a failure leaves the partial file for the caller).
    """
    fd = ops.create(path, mode)
    try:
        for chunk in [chunks] if isinstance(chunks, bytes) else chunks:
            ops.write(fd, chunk)
        ops.fsync(fd)
    finally:
        ops.close(fd)


def replace_file(ops: FileOps, path: Path, data: Iterable[bytes] | bytes, mode: int = 0o644) -> None:
    """Atomically and durably replace ``path``: temp name, fsync, rename, fsync the directory."""
    tmp = path.with_name(f".{path.name}.r2wifi.tmp")
    write_file(ops, tmp, data, mode)
    ops.rename(tmp, path)
    ops.fsync_dir(path.parent)
