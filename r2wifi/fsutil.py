"""Small, careful file-system helpers shared by every part of r2wifi.

Rules:
* Every file r2wifi changes is written atomically: a temporary file in the same directory,
  flushed and fsync'd, then ``os.replace`` over the target, then the directory fsync'd.
  A power loss leaves either the old or the new file, never a torn one.
* Before a file the user had is replaced, a backup is kept (``backup=True``) next to it.
* Only regular files are replaced or backed up: a target that is a device, FIFO, socket or directory
  (also through a symlink) is refused with a one-line :class:`~r2wifi.errors.UserError` before
  anything is read or written (``--html /dev/null`` must not replace the device node; backing up
  ``/dev/zero`` would copy forever). :func:`file_kind` names what such a file is, for every message
  of that kind.
* Files holding secrets are created with mode 0600 from the start (never chmod'ed afterwards).
* The temporary file is made by :func:`_temp_beside` (``O_CREAT | O_EXCL``, mode 0600, a random name),
  as ``tempfile.mkstemp`` would, without importing ``tempfile``/``shutil`` (``up`` writes its record
  before the chip starts; on the board those imports cost more than the write).
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from r2wifi.errors import UserError

SECRET_MODE = 0o600


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str | None:
    """What a file of ``st_mode`` is when it is not a regular file ("a FIFO", "a character device"...);
    None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _regular_or_absent(p: Path) -> os.stat_result | None:
    """The stat of ``p`` (following links) when it is a regular file, None when it does not exist;
    a UserError naming what it is otherwise."""
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    kind = file_kind(st.st_mode)
    if kind is not None:
        raise UserError(f"{p} is {kind}, not a regular file: refused (r2wifi replaces only regular files)")
    return st


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
    """Copy ``path`` to its backup name (metadata kept). Returns the backup path, or None if absent; a
    UserError when it is not a regular file."""
    p = Path(path)
    if _regular_or_absent(p) is None:
        return None
    import shutil

    dest = backup_path(p)
    shutil.copy2(p, dest)
    with open(dest, "rb+") as fh:
        os.fsync(fh.fileno())
    fsync_dir(dest.parent)
    return dest


def _temp_beside(p: Path) -> tuple[int, str]:
    """A new, empty, 0600 file next to ``p`` (``.<name>.<random>.tmp``), opened for writing: (fd, path)."""
    for _ in range(100):
        tmp = os.path.join(p.parent, f".{p.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {p}")


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
    st = _regular_or_absent(p)
    if mode is None:
        mode = st.st_mode & 0o7777 if st is not None else 0o644
    saved = make_backup(p) if backup else None
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temp_beside(p)
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
