"""Archives and package sources (release tarball, .deb, .ipk, bare uImage + modules dir) read safely.

Theory: every source is turned into a :class:`Payload`, a list of :class:`Member` entries, each
naming the partition it belongs to (``boot`` = BPI-BOOT FAT, ``root`` = BPI-ROOT ext4) and a
clean relative path. The kernel installer and the firmware installer both read their sources here
(one piece of code). Reading is two passes over the source, and both finish before a single byte
is written anywhere:

1. *Listing*: every member header is read and checked on its own, and the whole member list is
   kept as a flat table (nothing is extracted to disk, ever: member data is only read later through
   :meth:`Member.open`, and only for regular-file members).

   * names: no absolute paths, no ``..`` component, no empty or NUL-containing names, valid UTF-8
     without control characters, at most :attr:`Limits.max_name` bytes; tar extended headers
     (pax, GNU long names) over :attr:`Limits.max_ext_header` are refused before tarfile reads them;
   * layout: a release tarball holds only ``BPI-BOOT/`` and ``BPI-ROOT/`` (frank-w ``pack``); a
     .deb's ``boot/`` goes to BPI-BOOT, everything else to BPI-ROOT;
   * types: regular files and directories; symbolic links as the caller's link policy says (kernel:
     only inside ``lib/modules/<rel>/``, relative, lexically inside that release directory; the
     dangling ``build``/``source`` links of ``modules_install`` are skipped with a note; firmware:
     links are never followed nor created, only noted); hard links only to an earlier regular file
     of the archive in the same partition (copied from the archive); devices, FIFOs, sparse files and anything else are refused;
   * sizes: per file, per kernel image, total and member-count limits (:class:`Limits`).

2. *Whole-tree validation* (:func:`validate_tree`) over the table, which makes extraction unable to
   escape **by construction**: a name may appear once (a directory listed twice is the only
   allowed repeat); no member may lie *under* a symbolic link or a regular file of the archive
   (so the installer, which creates every directory itself in a fresh staging tree, never writes
   through a link: the only links that exist there are the archive's, and no later name passes
   through one); and a link's target, walked component by component from the link's directory,
   may not name or pass through another link of the archive (no chains) nor climb above its
   partition. With these three rules a link can only point at a real file or directory of the
   tree, each write lands on a path whose every component is a real directory we created, and
   the per-link lexical check of the policy is therefore also the physical truth. The installer
   additionally ``lstat``s every component below its staging directory before each write (a second,
   independent guard). tarfile's ``filter=`` is not used or needed: nothing goes through
   ``extract``.

3. *Stream integrity*: a compressed tarball (gzip, xz, bzip2) is decompressed to its very end
   after the listing, so a corrupt deflate block, a wrong CRC32 or length in the gzip trailer, a
   bad xz check or trailing garbage is refused before anything is written.

A refusal is a :class:`r2wifi.errors.UserError` naming the source and the member, one line.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import posixpath
import shutil
import stat
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

from r2wifi.errors import UserError

Part = Literal["boot", "root"]
Kind = Literal["file", "dir", "symlink"]
MiB = 1024 * 1024

Mapper = Callable[[str], "tuple[Part, str] | None"]
# (member path, link target, source) -> True keep the link, False skip it (noted); raises to refuse.
LinkPolicy = Callable[[str, str, str], bool]

# What reading a broken archive can raise, whatever the compression.
READ_ERRORS: tuple[type[BaseException], ...] = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


@dataclass(frozen=True)
class Limits:
    max_file: int = 128 * MiB
    max_total: int = 1024 * MiB
    max_members: int = 50_000
    max_image: int = 48 * MiB  # a kernel image is read into memory to be verified: this bounds it
    max_name: int = 4096
    max_ext_header: int = 1 * MiB


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

    def read(self, limit: int) -> bytearray:
        """The whole content in one buffer (no intermediate copies), refused when over ``limit`` bytes."""
        if self.size > limit:
            raise UserError(f"{self.path}: {self.size} bytes, over the {limit} byte limit")
        buf = bytearray(self.size)
        view = memoryview(buf)
        pos = 0
        with self.open() as fh:
            while pos < self.size:
                n = fh.readinto(view[pos:pos + MiB])  # type: ignore[attr-defined]
                if not n:
                    raise UserError(f"{self.path}: ends after {pos} of {self.size} bytes")
                pos += n
            if fh.read(1):
                raise UserError(f"{self.path}: longer than the {self.size} bytes its header says")
        view.release()
        return buf


class Entry(NamedTuple):
    """One name of the listing as the archive declares it (kept links, skipped links and all)."""

    part: Part
    path: str
    kind: str  # file | dir | symlink | hardlink
    target: str = ""


@dataclass
class Payload:
    source: str
    kind: str  # "tarball", "deb", "ipk", "uimage", "directory"
    members: list[Member] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)

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


def clean_name(name: str, source: str, limits: Limits | None = None) -> str:
    """A member name made relative and checked: no absolute path, no ``..``, no NUL, printable UTF-8."""
    max_name = (limits or Limits()).max_name
    if "\0" in name:
        raise UserError(f"{source}: member name with a NUL byte refused")
    if len(name.encode("utf-8", "surrogateescape")) > max_name:
        raise UserError(f"{source}: member name longer than {max_name} bytes refused")
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in name):
        raise UserError(f"{source}: member name {name!r} is not valid UTF-8; refused")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise UserError(f"{source}: member name {name!r} with a control character refused")
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
    """The kernel link policy: True to keep the link, False to skip it; raises for a link that could leave the tree."""
    rel_dir = _modules_release_dir(path)
    parts = path.split("/")
    if rel_dir is not None and len(parts) == 4 and parts[3] in ("build", "source"):
        return False  # modules_install's links to the build tree: meaningless on the card
    if rel_dir is None or path == rel_dir:
        raise UserError(f"{source}: symbolic link {path} -> {target} outside lib/modules refused")
    if target.startswith("/"):
        raise UserError(f"{source}: absolute symbolic link {path} -> {target} refused")
    if "\0" in target or not target:
        raise UserError(f"{source}: symbolic link {path} with an empty or NUL-containing target refused")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if not (resolved + "/").startswith(rel_dir + "/") or resolved == rel_dir:
        raise UserError(f"{source}: symbolic link {path} -> {target} leaves {rel_dir} refused")
    return True


def skip_links(path: str, target: str, source: str) -> bool:
    """The firmware link policy: links are never created nor followed; they are noted and skipped."""
    return False


def validate_tree(entries: list[Entry], source: str) -> None:
    """The whole-tree rules of the module docstring: unique names, nothing under a link or a file, no link chains."""
    kinds: dict[tuple[Part, str], str] = {}
    for e in entries:
        key = (e.part, e.path)
        prev = kinds.get(key)
        if prev is not None and not (prev == "dir" and e.kind == "dir"):
            raise UserError(f"{source}: {e.path} appears twice in the archive ({_what(prev)} and {_what(e.kind)}); refused")
        kinds[key] = e.kind
    for e in entries:
        parts = e.path.split("/")
        for i in range(1, len(parts)):
            above = kinds.get((e.part, "/".join(parts[:i])))
            if above == "symlink":
                raise UserError(f"{source}: {e.path} lies under the symbolic link {'/'.join(parts[:i])}; refused")
            if above in ("file", "hardlink"):
                raise UserError(f"{source}: {e.path} lies under the file {'/'.join(parts[:i])}; refused")
    for e in entries:
        if e.kind != "symlink" or e.target.startswith("/"):
            continue  # absolute targets: refused or skipped by the link policy, never followed
        walk = e.path.split("/")[:-1]
        for comp in e.target.split("/"):
            if comp in ("", "."):
                continue
            if comp == "..":
                if not walk:
                    raise UserError(f"{source}: symbolic link {e.path} -> {e.target} climbs out of the archive; refused")
                walk.pop()
                continue
            walk.append(comp)
            if kinds.get((e.part, "/".join(walk))) == "symlink":
                raise UserError(f"{source}: symbolic link {e.path} -> {e.target} goes through the link "
                                f"{'/'.join(walk)} (chains of links are refused)")


def _what(kind: str) -> str:
    return {"file": "file", "dir": "directory", "symlink": "symbolic link", "hardlink": "hard link"}.get(kind, kind)


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
            if size < 0 or pos + 60 + size > size_total:
                raise UserError(f"{path}: ar member {name} is truncated")
            out.append((name, pos + 60, size))
            pos += 60 + size + (size & 1)
    return out


_EXT_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE,
              tarfile.SOLARIS_XHDTYPE)
_EXT_LIMIT = Limits().max_ext_header


class _ExtHeaderTooBig(Exception):
    pass


class _GuardedTarInfo(tarfile.TarInfo):
    """TarInfo that refuses a pax / GNU long-name header larger than the limit before tarfile reads it."""

    def _proc_member(self, tf: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _EXT_TYPES and self.size > _EXT_LIMIT:
            raise _ExtHeaderTooBig(f"extended header of {self.size} bytes (limit {_EXT_LIMIT})")
        return super()._proc_member(tf)  # type: ignore[misc]


def _tar_members(tf: tarfile.TarFile, source: str, mapper: Mapper, limits: Limits, payload: Payload,
                 links: LinkPolicy) -> None:
    total = 0
    seen_files: dict[tuple[Part, str], Member] = {}
    count = 0
    for ti in tf:
        count += 1
        if count > limits.max_members:
            raise UserError(f"{source}: more than {limits.max_members} members refused")
        name = clean_name(ti.name, source, limits)
        if ti.ischr() or ti.isblk():
            raise UserError(f"{source}: device file {name} refused")
        if ti.isfifo():
            raise UserError(f"{source}: FIFO {name} refused")
        if ti.issparse():
            raise UserError(f"{source}: sparse member {name} refused")
        if not (ti.isdir() or ti.isreg() or ti.issym() or ti.islnk()):
            raise UserError(f"{source}: member {name} of unsupported type refused")
        if not name:
            continue
        mapped = mapper(name)
        if mapped is None:
            continue
        part, rel = mapped
        if not rel:
            continue
        if ti.isdir():
            payload.entries.append(Entry(part, rel, "dir"))
            payload.members.append(Member(part, rel, "dir", mode=ti.mode & 0o7777 or 0o755))
        elif ti.isreg():
            if ti.size > limits.max_file:
                raise UserError(f"{source}: {name} is {ti.size} bytes, over the {limits.max_file} byte limit")
            total += ti.size
            if total > limits.max_total:
                raise UserError(f"{source}: contents exceed the {limits.max_total} byte total limit")
            m = Member(part, rel, "file", size=ti.size, mode=ti.mode & 0o777 or 0o644,
                       opener=_tar_opener(tf, ti))
            payload.entries.append(Entry(part, rel, "file"))
            payload.members.append(m)
            seen_files[(part, rel)] = m
        elif ti.issym():
            if len(ti.linkname.encode("utf-8", "surrogateescape")) > limits.max_name:
                raise UserError(f"{source}: link target of {name} longer than {limits.max_name} bytes refused")
            payload.entries.append(Entry(part, rel, "symlink", ti.linkname))
            if links(rel, ti.linkname, source):
                payload.members.append(Member(part, rel, "symlink", linkname=ti.linkname))
            else:
                payload.notes.append(f"skipped link {rel} -> {ti.linkname!r}")
        else:  # hard link
            try:
                tmapped = mapper(clean_name(ti.linkname, source, limits))
            except UserError:
                tmapped = None
            orig = seen_files.get(tmapped) if tmapped else None
            if orig is None or tmapped is None or tmapped[0] != part:
                raise UserError(f"{source}: hard link {name} -> {ti.linkname} refused")
            total += orig.size
            if total > limits.max_total:
                raise UserError(f"{source}: contents exceed the {limits.max_total} byte total limit")
            payload.entries.append(Entry(part, rel, "hardlink", tmapped[1]))
            payload.members.append(Member(part, rel, "file", size=orig.size, mode=orig.mode, opener=orig.opener))


def _tar_opener(tf: tarfile.TarFile, ti: tarfile.TarInfo) -> Callable[[], IO[bytes]]:
    def _open() -> IO[bytes]:
        try:
            fh = tf.extractfile(ti)
        except READ_ERRORS as err:
            raise UserError(f"{ti.name}: cannot be read ({err})") from None
        if fh is None:
            raise UserError(f"{ti.name}: cannot be read")
        return fh

    return _open


def _open_tar(fileobj: IO[bytes] | None, path: Path, compression: str, source: str) -> tarfile.TarFile:
    mode: Any = f"r:{compression}"
    try:
        if fileobj is not None:
            return tarfile.open(fileobj=fileobj, mode=mode, tarinfo=_GuardedTarInfo)
        return tarfile.open(path, mode=mode, tarinfo=_GuardedTarInfo)
    except _ExtHeaderTooBig as err:
        raise UserError(f"{source}: {err}; refused") from None
    except READ_ERRORS as err:
        raise UserError(f"{source}: not a readable tar archive ({err})") from None


def verify_stream(tf: tarfile.TarFile, source: str) -> None:
    """Decompress a compressed tar stream to its end: checks every CRC, length and trailer. Raises UserError."""
    fo = tf.fileobj
    if not isinstance(fo, (gzip.GzipFile, lzma.LZMAFile, bz2.BZ2File)):
        return
    try:
        while fo.read(MiB):
            pass
    except READ_ERRORS as err:
        raise UserError(f"{source}: corrupt compressed data ({err or type(err).__name__}); refused") from None


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


def _fill(payload: Payload, tf: tarfile.TarFile, path: Path, mapper: Mapper, limits: Limits, what: str,
          links: LinkPolicy) -> None:
    """Read ``tf``'s members into ``payload``, validate the tree, verify the stream; closes the payload on failure."""
    try:
        _tar_members(tf, str(path), mapper, limits, payload, links)
        validate_tree(payload.entries, str(path))
        verify_stream(tf, str(path))
    except _ExtHeaderTooBig as err:
        payload.close()
        raise UserError(f"{path}: {err}; refused") from None
    except READ_ERRORS as err:
        payload.close()
        raise UserError(f"{path}: broken {what} ({err or type(err).__name__})") from None
    except BaseException:
        payload.close()
        raise


def _mapper_with_source(fn: Mapper, source: str) -> Mapper:
    def _m(name: str) -> tuple[Part, str] | None:
        try:
            return fn(name)
        except UserError as err:
            raise UserError(f"{source}: {err.message}") from None

    return _m


def open_tarball(path: Path, limits: Limits, mapper: Mapper | None = None, links: LinkPolicy = check_symlink,
                 kind: str = "tarball") -> Payload:
    """A tar archive (any compression). Default mapping: a frank-w release tarball (BPI-BOOT/, BPI-ROOT/)."""
    payload = Payload(str(path), kind, limits=limits)
    tf = _open_tar(None, path, "*", str(path))
    payload.closers.append(tf.close)
    _fill(payload, tf, path, mapper or _mapper_with_source(_tarball_mapper, str(path)), limits, "tar archive", links)
    return payload


def _data_tar(payload: Payload, path: Path, name: str, fileobj: IO[bytes], limits: Limits, mapper: Mapper,
              links: LinkPolicy) -> None:
    """Open the ``data.tar[.gz|.xz|.bz2|.zst]`` of a package into ``payload``."""
    comp = {"data.tar": "", "data.tar.gz": "gz", "data.tar.xz": "xz", "data.tar.bz2": "bz2"}.get(name)
    if comp is None:
        dpkg = shutil.which("dpkg-deb")
        if dpkg is None or payload.kind != "deb":
            raise UserError(f"{path}: {name} is not supported" + (" without dpkg-deb installed" if dpkg is None else ""))
        tmp = tempfile.TemporaryFile()  # noqa: SIM115
        proc = subprocess.run([dpkg, "--fsys-tarfile", str(path)], stdout=tmp, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            tmp.close()
            raise UserError(f"{path}: dpkg-deb cannot read it: {proc.stderr.decode(errors='replace').strip()}")
        tmp.seek(0)
        payload.closers.append(tmp.close)
        fileobj, comp = tmp, ""
    tf = _open_tar(fileobj, path, comp, str(path))
    payload.closers.append(tf.close)
    _fill(payload, tf, path, mapper, limits, "data archive", links)


def open_deb(path: Path, limits: Limits, mapper: Mapper = _deb_mapper, links: LinkPolicy = check_symlink,
             kind: str = "deb") -> Payload:
    """A .deb (or an ar-format .ipk): its data.tar.* member."""
    payload = Payload(str(path), kind, limits=limits)
    members = read_ar(path)
    data = [m for m in members if m[0].startswith("data.tar")]
    if not data:
        raise UserError(f"{path}: package without a data.tar member")
    name, offset, size = data[0]
    fh = open(path, "rb")  # noqa: SIM115
    payload.closers.append(fh.close)
    try:
        _data_tar(payload, path, name, io.BufferedReader(_Slice(fh, offset, size)), limits, mapper, links)
    except BaseException:
        payload.close()
        raise
    return payload


def _as_root(name: str) -> tuple[Part, str] | None:
    return ("root", name)


_IPK_NAMES = {"debian-binary", "control.tar.gz", "control.tar.xz", "control.tar.zst", "control.tar",
              "data.tar.gz", "data.tar.xz", "data.tar.bz2", "data.tar", "data.tar.zst"}


def open_package(path: Path, limits: Limits, mapper: Mapper, links: LinkPolicy = skip_links) -> Payload:
    """Any package-like source for the firmware installer: a directory, a .deb / ar .ipk, a tar .ipk, a tarball."""
    if path.is_dir():
        return open_directory(path, limits, mapper, links)
    if not path.is_file():
        raise UserError(f"{path}: no such file or directory")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == b"!<arch>\n":
        return open_deb(path, limits, mapper, links, kind="deb" if path.suffix == ".deb" else "ipk")
    outer = open_tarball(path, limits, mapper=_as_root, links=links)
    names = {m.path for m in outer.members}
    data = sorted(n for n in names if n.startswith("data.tar"))
    if not data or not names <= _IPK_NAMES:
        outer.close()
        return open_tarball(path, limits, mapper=mapper, links=links)
    # OpenWrt .ipk: a tar.gz holding debian-binary, control.tar.gz and data.tar.gz.
    inner_member = next(m for m in outer.members if m.path == data[0])
    payload = Payload(str(path), "ipk", limits=limits)
    payload.closers.append(outer.close)
    try:
        _data_tar(payload, path, data[0], inner_member.open(), limits, mapper, links)
    except BaseException:
        payload.close()
        raise
    return payload


def open_regular(path: Path, *, follow: bool = False) -> IO[bytes]:
    """Open ``path`` for reading only if it is a regular file: never blocks on a FIFO or a device
    (``O_NONBLOCK``, then ``fstat``), follows a final symlink only with ``follow``. A device is not
    even opened (opening some has effects: a watchdog starts, a tape rewinds). Raises UserError."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        if not stat.S_ISREG((os.stat if follow else os.lstat)(path).st_mode):
            raise UserError(f"{path}: not a regular file; refused")
        fd = os.open(path, flags)
    except OSError as err:
        raise UserError(f"{path}: cannot open ({err.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserError(f"{path}: not a regular file; refused")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: open_regular(path)


def _walk_dir(payload: Payload, base: Path, top: Path, prefix: str, part: Part, limits: Limits, total: int,
              links: LinkPolicy, shown: str) -> int:
    """Members for the tree ``top`` (below ``base``), paths ``prefix/<relative to base>``; returns the new total."""
    count = len(payload.entries)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        d = Path(dirpath)
        relbase = d.relative_to(base).as_posix()
        rel = "/".join(p for p in (prefix, relbase) if p and p != ".")
        if rel:
            payload.entries.append(Entry(part, rel, "dir"))
            payload.members.append(Member(part, rel, "dir", mode=0o755))
        for name in sorted(filenames) + [n for n in dirnames if (d / n).is_symlink()]:
            count += 1
            if count > limits.max_members:
                raise UserError(f"{shown}: more than {limits.max_members} entries refused")
            p = d / name
            relp = f"{rel}/{name}" if rel else name
            clean_name(relp, shown, limits)
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(p)
                payload.entries.append(Entry(part, relp, "symlink", target))
                if links(relp, target, shown):
                    payload.members.append(Member(part, relp, "symlink", linkname=target))
                else:
                    payload.notes.append(f"skipped link {relp} -> {target!r}")
            elif stat.S_ISREG(st.st_mode):
                if st.st_size > limits.max_file:
                    raise UserError(f"{p}: {st.st_size} bytes, over the {limits.max_file} byte limit")
                total += st.st_size
                if total > limits.max_total:
                    raise UserError(f"{shown}: contents exceed the {limits.max_total} byte total limit")
                payload.entries.append(Entry(part, relp, "file"))
                payload.members.append(Member(part, relp, "file", size=st.st_size, mode=st.st_mode & 0o777,
                                              opener=_file_opener(p)))
            else:
                raise UserError(f"{p}: not a regular file, directory or link; refused")
        dirnames[:] = [n for n in dirnames if not (d / n).is_symlink()]
    return total


def open_directory(path: Path, limits: Limits, mapper: Mapper, links: LinkPolicy = skip_links) -> Payload:
    """A directory tree read like an archive (links not followed); ``mapper`` gives each path its partition."""
    payload = Payload(str(path), "directory", limits=limits)
    raw = Payload(str(path), "directory", limits=limits)
    _walk_dir(raw, path, path, "", "root", limits, 0, links, str(path))
    payload.notes.extend(raw.notes)
    for e in raw.entries:
        mapped = mapper(e.path)
        if mapped:
            payload.entries.append(Entry(mapped[0], mapped[1], e.kind, e.target))
    for m in raw.members:
        mapped = mapper(m.path)
        if mapped:
            m.part, m.path = mapped
            payload.members.append(m)
    validate_tree(payload.entries, str(path))
    return payload


def open_image(path: Path, modules: Path | None, limits: Limits) -> Payload:
    """A bare uImage (+ a modules directory: ``lib/modules/<rel>`` tree, its parent, or the root)."""
    payload = Payload(str(path), "uimage", limits=limits)
    size = path.stat().st_size
    if size > limits.max_image:
        raise UserError(f"{path}: {size} bytes, over the {limits.max_image} byte limit for a kernel image")
    payload.members.append(Member("boot", f"bananapi/bpi-r2/linux/{path.name}", "file", size=size, mode=0o755,
                                  opener=_file_opener(path)))
    if modules is None:
        return payload
    if not modules.is_dir():
        raise UserError(f"--modules {modules}: not a directory")
    if (modules / "lib" / "modules").is_dir():
        base = modules / "lib" / "modules"
        rel_dirs = [p for p in sorted(base.iterdir()) if p.is_dir() and not p.is_symlink()]
    elif (modules / "kernel").is_dir() or any(modules.glob("modules.*")):
        base, rel_dirs = modules.parent, [modules]
    else:
        base = modules
        rel_dirs = [p for p in sorted(modules.iterdir()) if p.is_dir() and not p.is_symlink()]
    if not rel_dirs:
        raise UserError(f"--modules {modules}: no lib/modules/<release> directory found")
    total = size
    for rel_dir in rel_dirs:
        total = _walk_dir(payload, base, rel_dir, "lib/modules", "root", limits, total, check_symlink, str(modules))
    validate_tree(payload.entries, str(modules))
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
