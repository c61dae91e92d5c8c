"""Kernel sources (release tarball, .deb, bare uImage + modules dir) read safely.

Theory: every source is turned into a :class:`Payload`, a list of :class:`Member` entries, each
naming the partition it belongs to (``boot`` = BPI-BOOT FAT, ``root`` = BPI-ROOT ext4) and a
clean relative path. All checks happen while listing, before a single byte is written anywhere:

* names: no absolute paths, no ``..`` component, no empty or NUL-containing names;
* layout: a tarball holds only ``BPI-BOOT/`` and ``BPI-ROOT/`` (frank-w ``pack``); a .deb's
  ``boot/`` goes to BPI-BOOT, everything else to BPI-ROOT;
* types: regular files and directories; symbolic links only inside ``lib/modules/<rel>/``, relative
  and resolving inside that release directory (the dangling ``build``/``source`` links of
  ``modules_install`` are skipped with a note); hard links only to an earlier regular file in
  ``lib/modules`` (copied); device files, FIFOs and anything else are refused;
* sizes: per file and total limits (:class:`Limits`), checked against the headers.

A refusal is a :class:`r2wifi.errors.UserError` naming the source and the member.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from r2wifi.errors import UserError

Part = Literal["boot", "root"]
Kind = Literal["file", "dir", "symlink"]
MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file: int = 128 * MiB
    max_total: int = 1024 * MiB
    max_members: int = 200_000


@dataclass
class Member:
    part: Part
    path: str  # relative POSIX path inside the partition
    kind: Kind
    size: int = 0
    mode: int = 0o644
    linkname: str = ""
    opener: Callable[[], IO[bytes]] | None = None

    def open(self) -> IO[bytes]:
        if self.opener is None:
            raise UserError(f"{self.path}: no data")
        return self.opener()


@dataclass
class Payload:
    source: str
    kind: str  # "tarball", "deb", "uimage"
    members: list[Member] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for fn in reversed(self.closers):
            fn()
        self.closers.clear()

    def files(self, part: Part | None = None) -> Iterator[Member]:
        for m in self.members:
            if m.kind == "file" and (part is None or m.part == part):
                yield m

    @property
    def total_size(self) -> int:
        return sum(m.size for m in self.members if m.kind == "file")


def clean_name(name: str, source: str) -> str:
    """A member name made relative and checked: no absolute path, no ``..``, no NUL."""
    if "\0" in name:
        raise UserError(f"{source}: member name with a NUL byte refused")
    if name.startswith("/"):
        raise UserError(f"{source}: absolute path {name!r} refused")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UserError(f"{source}: path {name!r} with '..' refused")
    return "/".join(parts)


def _modules_release_dir(path: str) -> str | None:
    """``lib/modules/<rel>`` for a path inside it, else None."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == "lib" and parts[1] == "modules":
        return "/".join(parts[:3])
    return None


def check_symlink(path: str, target: str, source: str) -> bool:
    """True to keep the link, False to skip it; raises for a link that could leave the tree."""
    rel_dir = _modules_release_dir(path)
    parts = path.split("/")
    if rel_dir is not None and len(parts) == 4 and parts[3] in ("build", "source"):
        return False  # modules_install's links to the build tree: meaningless on the card
    if rel_dir is None or path == rel_dir:
        raise UserError(f"{source}: symbolic link {path} -> {target} outside lib/modules refused")
    if target.startswith("/"):
        raise UserError(f"{source}: absolute symbolic link {path} -> {target} refused")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if not (resolved + "/").startswith(rel_dir + "/") or resolved == rel_dir:
        raise UserError(f"{source}: symbolic link {path} -> {target} leaves {rel_dir} refused")
    return True


class _Slice(io.RawIOBase):
    """A read-only, seekable window [start, start+size) of an open file (an ar member)."""

    def __init__(self, fh: IO[bytes], start: int, size: int) -> None:
        self._fh, self._start, self._size, self._pos = fh, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, min(self._size, base + offset))
        return self._pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(b), self._size - self._pos)
        if n <= 0:
            return 0
        self._fh.seek(self._start + self._pos)
        data = self._fh.read(n)
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)


def read_ar(path: Path) -> list[tuple[str, int, int]]:
    """The members of an ``ar`` archive: (name, data offset, size). Raises UserError if broken."""
    out: list[tuple[str, int, int]] = []
    with open(path, "rb") as fh:
        if fh.read(8) != b"!<arch>\n":
            raise UserError(f"{path}: not an ar archive (.deb)")
        pos = 8
        size_total = os.fstat(fh.fileno()).st_size
        while pos + 60 <= size_total:
            fh.seek(pos)
            hdr = fh.read(60)
            if hdr[58:60] != b"`\n":
                raise UserError(f"{path}: broken ar member header at offset {pos}")
            name = hdr[0:16].decode("ascii", "replace").strip().rstrip("/")
            try:
                size = int(hdr[48:58].decode("ascii").strip())
            except ValueError:
                raise UserError(f"{path}: broken ar member size at offset {pos}") from None
            if pos + 60 + size > size_total:
                raise UserError(f"{path}: ar member {name} is truncated")
            out.append((name, pos + 60, size))
            pos += 60 + size + (size & 1)
    return out


def _tar_members(
    tf: tarfile.TarFile, source: str, mapper: Callable[[str], tuple[Part, str] | None], limits: Limits,
    payload: Payload,
) -> None:
    total = 0
    seen_files: dict[tuple[Part, str], Member] = {}
    count = 0
    for ti in tf:
        count += 1
        if count > limits.max_members:
            raise UserError(f"{source}: more than {limits.max_members} members refused")
        name = clean_name(ti.name, source)
        if not name:
            continue
        mapped = mapper(name)
        if mapped is None:
            continue
        part, rel = mapped
        if not rel:
            continue
        if ti.isdir():
            payload.members.append(Member(part, rel, "dir", mode=ti.mode & 0o7777 or 0o755))
        elif ti.isreg():
            if ti.size > limits.max_file:
                raise UserError(f"{source}: {name} is {ti.size} bytes, over the {limits.max_file} byte limit")
            total += ti.size
            if total > limits.max_total:
                raise UserError(f"{source}: contents exceed the {limits.max_total} byte total limit")
            m = Member(part, rel, "file", size=ti.size, mode=ti.mode & 0o777 or 0o644,
                       opener=_tar_opener(tf, ti))
            payload.members.append(m)
            seen_files[(part, rel)] = m
        elif ti.issym():
            if check_symlink(rel, ti.linkname, source):
                payload.members.append(Member(part, rel, "symlink", linkname=ti.linkname))
            else:
                payload.notes.append(f"skipped link {rel} -> {ti.linkname} (points into the build tree)")
        elif ti.islnk():
            try:
                tmapped = mapper(clean_name(ti.linkname, source))
            except UserError:
                tmapped = None
            orig = seen_files.get(tmapped) if tmapped else None
            if orig is None or _modules_release_dir(rel) is None or tmapped is None or tmapped[0] != part:
                raise UserError(f"{source}: hard link {name} -> {ti.linkname} refused")
            total += orig.size
            if total > limits.max_total:
                raise UserError(f"{source}: contents exceed the {limits.max_total} byte total limit")
            payload.members.append(Member(part, rel, "file", size=orig.size, mode=orig.mode, opener=orig.opener))
        elif ti.ischr() or ti.isblk():
            raise UserError(f"{source}: device file {name} refused")
        elif ti.isfifo():
            raise UserError(f"{source}: FIFO {name} refused")
        else:
            raise UserError(f"{source}: member {name} of unsupported type refused")


def _tar_opener(tf: tarfile.TarFile, ti: tarfile.TarInfo) -> Callable[[], IO[bytes]]:
    def _open() -> IO[bytes]:
        fh = tf.extractfile(ti)
        if fh is None:
            raise UserError(f"{ti.name}: cannot be read")
        return fh

    return _open


def _open_tar(fileobj: IO[bytes] | None, path: Path, compression: str, source: str) -> tarfile.TarFile:
    mode: Any = f"r:{compression}"
    try:
        if fileobj is not None:
            return tarfile.open(fileobj=fileobj, mode=mode)
        return tarfile.open(path, mode=mode)
    except (tarfile.TarError, EOFError, OSError) as err:
        raise UserError(f"{source}: not a readable tar archive ({err})") from None


def _tarball_mapper(name: str) -> tuple[Part, str] | None:
    top, _, rest = name.partition("/")
    if top == "BPI-BOOT":
        return ("boot", rest)
    if top == "BPI-ROOT":
        return ("root", rest)
    raise UserError(f"entry {name!r} is neither under BPI-BOOT/ nor BPI-ROOT/ (not a frank-w release tarball)")


def _deb_mapper(name: str) -> tuple[Part, str] | None:
    top, _, rest = name.partition("/")
    if top == "boot":
        return ("boot", rest)
    return ("root", name)


def open_tarball(path: Path, limits: Limits) -> Payload:
    payload = Payload(str(path), "tarball")
    tf = _open_tar(None, path, "*", str(path))
    payload.closers.append(tf.close)
    _fill(payload, tf, path, _mapper_with_source(_tarball_mapper, str(path)), limits, "tar archive")
    return payload


def _fill(payload: Payload, tf: tarfile.TarFile, path: Path, mapper: Callable[[str], tuple[Part, str] | None],
          limits: Limits, what: str) -> None:
    """Read ``tf``'s members into ``payload``; on any failure the payload is closed first."""
    try:
        _tar_members(tf, str(path), mapper, limits, payload)
    except (tarfile.TarError, EOFError, OSError) as err:
        payload.close()
        raise UserError(f"{path}: broken {what} ({err})") from None
    except BaseException:
        payload.close()
        raise


def _mapper_with_source(
    fn: Callable[[str], tuple[Part, str] | None], source: str
) -> Callable[[str], tuple[Part, str] | None]:
    def _m(name: str) -> tuple[Part, str] | None:
        try:
            return fn(name)
        except UserError as err:
            raise UserError(f"{source}: {err.message}") from None

    return _m


def open_deb(path: Path, limits: Limits) -> Payload:
    payload = Payload(str(path), "deb")
    members = read_ar(path)
    data = [m for m in members if m[0].startswith("data.tar")]
    if not data:
        raise UserError(f"{path}: .deb without a data.tar member")
    name, offset, size = data[0]
    comp = {"data.tar": "", "data.tar.gz": "gz", "data.tar.xz": "xz", "data.tar.bz2": "bz2"}.get(name)
    if comp is None:
        dpkg = shutil.which("dpkg-deb")
        if dpkg is None:
            raise UserError(f"{path}: {name} is not supported without dpkg-deb installed")
        tmp = tempfile.TemporaryFile()  # noqa: SIM115
        proc = subprocess.run([dpkg, "--fsys-tarfile", str(path)], stdout=tmp, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            tmp.close()
            raise UserError(f"{path}: dpkg-deb cannot read it: {proc.stderr.decode(errors='replace').strip()}")
        tmp.seek(0)
        payload.closers.append(tmp.close)
        fileobj: IO[bytes] = tmp
        comp = ""
    else:
        fh = open(path, "rb")  # noqa: SIM115
        payload.closers.append(fh.close)
        fileobj = io.BufferedReader(_Slice(fh, offset, size))
    tf = _open_tar(fileobj, path, comp or "", str(path))
    payload.closers.append(tf.close)
    _fill(payload, tf, path, _deb_mapper, limits, "data archive")
    return payload


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: open(path, "rb")


def open_image(path: Path, modules: Path | None, limits: Limits) -> Payload:
    """A bare uImage (+ a modules directory: ``lib/modules/<rel>`` tree, its parent, or the root)."""
    payload = Payload(str(path), "uimage")
    size = path.stat().st_size
    if size > limits.max_file:
        raise UserError(f"{path}: {size} bytes, over the {limits.max_file} byte limit")
    payload.members.append(Member("boot", f"bananapi/bpi-r2/linux/{path.name}", "file", size=size, mode=0o755,
                                  opener=_file_opener(path)))
    if modules is None:
        return payload
    if not modules.is_dir():
        raise UserError(f"--modules {modules}: not a directory")
    if (modules / "lib" / "modules").is_dir():
        base, prefix = modules / "lib" / "modules", "lib/modules"
        rel_dirs = [p for p in sorted(base.iterdir()) if p.is_dir()]
    elif (modules / "kernel").is_dir() or any(modules.glob("modules.*")):
        base, prefix = modules.parent, "lib/modules"
        rel_dirs = [modules]
    else:
        base, prefix = modules, "lib/modules"
        rel_dirs = [p for p in sorted(modules.iterdir()) if p.is_dir()]
    if not rel_dirs:
        raise UserError(f"--modules {modules}: no lib/modules/<release> directory found")
    total = size
    for rel_dir in rel_dirs:
        for dirpath, dirnames, filenames in os.walk(rel_dir):
            dirnames.sort()
            d = Path(dirpath)
            rel = f"{prefix}/{d.relative_to(base).as_posix()}"
            payload.members.append(Member("root", rel, "dir", mode=0o755))
            for name in sorted(filenames) + [n for n in dirnames if (d / n).is_symlink()]:
                p = d / name
                relp = f"{rel}/{name}"
                st = p.lstat()
                if stat.S_ISLNK(st.st_mode):
                    target = os.readlink(p)
                    if check_symlink(relp, target, str(modules)):
                        payload.members.append(Member("root", relp, "symlink", linkname=target))
                    else:
                        payload.notes.append(f"skipped link {relp} -> {target} (points into the build tree)")
                elif stat.S_ISREG(st.st_mode):
                    if st.st_size > limits.max_file:
                        raise UserError(f"{p}: {st.st_size} bytes, over the {limits.max_file} byte limit")
                    total += st.st_size
                    if total > limits.max_total:
                        raise UserError(f"{modules}: contents exceed the {limits.max_total} byte total limit")
                    payload.members.append(Member("root", relp, "file", size=st.st_size,
                                                  mode=st.st_mode & 0o777, opener=_file_opener(p)))
                else:
                    raise UserError(f"{p}: not a regular file, directory or link; refused")
            dirnames[:] = [n for n in dirnames if not (d / n).is_symlink()]
    return payload


def open_source(path: Path, modules: Path | None = None, limits: Limits | None = None) -> Payload:
    """Recognise and list a kernel source; raises UserError for anything unsafe or unknown."""
    limits = limits or Limits()
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(8)
    from r2wifi.board.uimage import looks_like_image

    if looks_like_image(head):
        return open_image(path, modules, limits)
    if modules is not None:
        raise UserError("--modules is only for a bare uImage source")
    if head == b"!<arch>\n":
        return open_deb(path, limits)
    return open_tarball(path, limits)
