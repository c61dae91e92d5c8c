"""Small, careful file-system helpers shared by every part of r2wifi.

Rules:
* Every file r2wifi changes is written atomically: a temporary file in the same directory,
  flushed and fsync'd, then ``os.replace`` over the target, then the directory fsync'd.
  A power loss leaves either the old or the new file, never a torn one.
* Before a file the user had is replaced, a backup is kept (``backup=True``) next to it.
* Files holding secrets are created with mode 0600 from the start (never chmod'ed afterwards).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

SECRET_MODE = 0o600


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """fsync a directory so that a rename inside it is durable (best effort on odd file systems)."""
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def backup_path(path: Path) -> Path:
    """The path a backup of ``path`` goes to: ``name.bak``, or ``name.bak.<timestamp>`` if taken."""
    candidate = path.with_name(path.name + ".bak")
    if not candidate.exists():
        return candidate
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.bak.{stamp}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak.{stamp}.{n}")
        n += 1
    return candidate


def make_backup(path: str | os.PathLike[str]) -> Path | None:
    """Copy ``path`` to its backup name (metadata kept). Returns the backup path, or None if absent."""
    p = Path(path)
    if not p.exists():
        return None
    dest = backup_path(p)
    shutil.copy2(p, dest)
    with open(dest, "rb+") as fh:
        os.fsync(fh.fileno())
    fsync_dir(dest.parent)
    return dest


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    mode: int | None = None,
    backup: bool = False,
) -> Path | None:
    """Atomically replace ``path`` with ``data``.

    ``mode``: permission bits for the new file (default: keep the old file's mode, else 0644).
    ``backup``: keep a copy of the old file first; returns the backup path (or None).
    """
    p = Path(path)
    if isinstance(data, str):
        data = data.encode()
    if mode is None:
        try:
            mode = p.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    saved = make_backup(p) if backup else None
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(p.parent)
    return saved


def write_secret(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Atomically write a file that holds a secret (passphrase, PSK): always mode 0600."""
    atomic_write(path, data, mode=SECRET_MODE)
