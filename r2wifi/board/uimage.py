"""U-Boot kernel images: legacy uImage and FIT, verified before anything touches the SD card.

Rules:
* :func:`verify_image` never raises for a bad image; it returns an :class:`ImageInfo` whose
  ``problems`` list says what is wrong (empty list = bootable as far as U-Boot checks go).
* Legacy uImage (``mkimage -A arm -O linux -T kernel``): 64-byte big-endian header, magic
  0x27051956, CRC32 of the header with its CRC field zeroed, CRC32 of the payload, OS linux (5),
  arch ARM (2), type kernel (2). These are exactly the checks ``bootm`` makes (plus type/arch
  which it checks before booting).
* FIT (``mkimage -f``): a flattened device tree (magic 0xd00dfeed). We walk the structure block
  (balanced BEGIN_NODE/END_NODE, properties inside bounds, names in the strings block), then
  require ``/images/<n>`` with ``type = "kernel"``, ``arch = "arm"``, a ``data`` property and,
  where ``hash-*`` subnodes carry crc32/sha1/sha256 values, matching digests.
* The kernel release is read from, in order: the ``Linux version X`` banner in an uncompressed
  payload, the image name (``mkimage -n``). Installers prefer the modules directory name.

:func:`make_uimage` and :func:`make_fit` write images (used by the tests and handy for users who
build their own); the tests cross-check them against ``mkimage -l``.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import struct
import time
import zlib
from dataclasses import dataclass, field

UIMAGE_MAGIC = 0x27051956
FDT_MAGIC = 0xD00DFEED
HEADER = struct.Struct(">7I4B32s")
HEADER_SIZE = HEADER.size  # 64

IH_OS_LINUX = 5
IH_ARCH_ARM = 2
IH_TYPE_KERNEL = 2
IH_COMP_NONE = 0

OS_NAMES = {0: "invalid", 1: "openbsd", 2: "netbsd", 3: "freebsd", 4: "4.4bsd", 5: "linux", 17: "u-boot"}
ARCH_NAMES = {0: "invalid", 1: "alpha", 2: "arm", 3: "x86", 5: "mips", 7: "powerpc", 22: "arm64"}
TYPE_NAMES = {0: "invalid", 1: "standalone", 2: "kernel", 3: "ramdisk", 4: "multi", 5: "firmware",
              6: "script", 7: "filesystem", 8: "flat_dt"}
COMP_NAMES = {0: "none", 1: "gzip", 2: "bzip2", 3: "lzma", 4: "lzo", 5: "lz4", 6: "zstd"}

_BANNER = re.compile(rb"Linux version (\d+\.\d+(?:\.\d+)?[^\s()]*)")
_RELEASE_IN_NAME = re.compile(r"(\d+\.\d+(?:\.\d+)?(?:[-+.~][\w.+~-]*)?)")


@dataclass
class ImageInfo:
    """What :func:`verify_image` found out about one kernel image."""

    kind: str  # "uimage", "fit" or "unknown"
    size: int
    name: str = ""
    os: str = ""
    arch: str = ""
    type: str = ""
    compression: str = ""
    load: int = 0
    entry: int = 0
    release: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.kind == "unknown":
            return "not a U-Boot image"
        state = "verified" if self.ok else "BAD: " + "; ".join(self.problems)
        rel = f" release {self.release}" if self.release else ""
        return f"{self.kind} {self.arch}/{self.os}/{self.type}{rel}, {self.size} bytes, {state}"


def release_from_text(text: str) -> str | None:
    """The first kernel-release-looking token in ``text`` (e.g. an image name)."""
    m = _RELEASE_IN_NAME.search(text)
    return m.group(1) if m else None


def release_from_payload(data: bytes | bytearray | memoryview) -> str | None:
    """The release from a ``Linux version X`` banner (present only in uncompressed images)."""
    m = _BANNER.search(data)
    return m.group(1).decode("ascii", "replace") if m else None


# ---------------------------------------------------------------------------------------------
# legacy uImage


def make_uimage(
    payload: bytes,
    *,
    name: str = "Linux Kernel",
    os_: int = IH_OS_LINUX,
    arch: int = IH_ARCH_ARM,
    type_: int = IH_TYPE_KERNEL,
    comp: int = IH_COMP_NONE,
    load: int = 0x80008000,
    entry: int = 0x80008000,
    timestamp: int | None = None,
) -> bytes:
    """A legacy uImage around ``payload``, byte-identical to ``mkimage`` with the same fields."""
    raw_name = name.encode()[:32]
    ts = int(time.time()) if timestamp is None else timestamp
    dcrc = zlib.crc32(payload) & 0xFFFFFFFF
    fields = [UIMAGE_MAGIC, 0, ts, len(payload), load, entry, dcrc, os_, arch, type_, comp, raw_name]
    hcrc = zlib.crc32(HEADER.pack(*fields)) & 0xFFFFFFFF
    fields[1] = hcrc
    return HEADER.pack(*fields) + payload


def _verify_uimage(data: bytes | bytearray | memoryview) -> ImageInfo:
    info = ImageInfo(kind="uimage", size=len(data))
    if len(data) < HEADER_SIZE:
        info.problems.append("shorter than a uImage header")
        return info
    (magic, hcrc, _ts, size, load, entry, dcrc, os_, arch, type_, comp, raw_name) = HEADER.unpack_from(data)
    header = bytearray(data[:HEADER_SIZE])
    header[4:8] = b"\0\0\0\0"
    info.name = raw_name.split(b"\0", 1)[0].decode("latin-1")
    info.os = OS_NAMES.get(os_, str(os_))
    info.arch = ARCH_NAMES.get(arch, str(arch))
    info.type = TYPE_NAMES.get(type_, str(type_))
    info.compression = COMP_NAMES.get(comp, str(comp))
    info.load, info.entry = load, entry
    if magic != UIMAGE_MAGIC:
        info.problems.append(f"bad magic 0x{magic:08x}")
        return info
    if zlib.crc32(bytes(header)) & 0xFFFFFFFF != hcrc:
        info.problems.append("header CRC mismatch")
        return info
    if HEADER_SIZE + size > len(data):
        info.problems.append(f"truncated: header says {size} data bytes, file has {len(data) - HEADER_SIZE}")
        return info
    payload = memoryview(data)[HEADER_SIZE:HEADER_SIZE + size]
    if zlib.crc32(payload) & 0xFFFFFFFF != dcrc:
        info.problems.append("data CRC mismatch")
    if os_ != IH_OS_LINUX:
        info.problems.append(f"OS is {info.os}, not linux")
    if arch != IH_ARCH_ARM:
        info.problems.append(f"architecture is {info.arch}, not arm")
    if type_ != IH_TYPE_KERNEL:
        info.problems.append(f"image type is {info.type}, not kernel")
    info.release = (release_from_payload(payload) if comp == IH_COMP_NONE else None) or release_from_text(info.name)
    return info


# ---------------------------------------------------------------------------------------------
# FIT (flattened device tree)

FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END = 1, 2, 3, 4, 9
_FDT_HEADER = struct.Struct(">10I")


class FdtError(ValueError):
    """The structure of a flattened device tree is broken."""


@dataclass
class FdtNode:
    name: str
    props: dict[str, bytes] = field(default_factory=dict)
    children: dict[str, FdtNode] = field(default_factory=dict)

    def prop_str(self, name: str) -> str | None:
        raw = self.props.get(name)
        return None if raw is None else raw.split(b"\0", 1)[0].decode("latin-1")


def parse_fdt(data: bytes | bytearray | memoryview) -> FdtNode:
    """Parse a flattened device tree; raises :class:`FdtError` on any structural problem."""
    buf = bytes(data)
    if len(buf) < _FDT_HEADER.size:
        raise FdtError("shorter than an FDT header")
    (magic, total, off_struct, off_strings, _off_rsv, version, _last, _cpu, size_strings, size_struct) = (
        _FDT_HEADER.unpack_from(buf)
    )
    if magic != FDT_MAGIC:
        raise FdtError(f"bad magic 0x{magic:08x}")
    if total > len(buf):
        raise FdtError(f"truncated: totalsize {total}, file {len(buf)}")
    if version < 17:
        raise FdtError(f"FDT version {version} is too old")
    if off_struct + size_struct > total or off_strings + size_strings > total:
        raise FdtError("structure or strings block outside the blob")
    strings = buf[off_strings:off_strings + size_strings]
    pos, end = off_struct, off_struct + size_struct
    stack: list[FdtNode] = []
    root: FdtNode | None = None

    def u32() -> int:
        nonlocal pos
        if pos + 4 > end:
            raise FdtError("structure block ends early")
        (v,) = struct.unpack_from(">I", buf, pos)
        pos += 4
        return int(v)

    while True:
        token = u32()
        if token == FDT_BEGIN_NODE:
            stop = buf.find(b"\0", pos, end)
            if stop < 0:
                raise FdtError("unterminated node name")
            node = FdtNode(buf[pos:stop].decode("latin-1"))
            pos = (stop + 4) & ~3
            if stack:
                stack[-1].children[node.name] = node
            elif root is None:
                root = node
            else:
                raise FdtError("more than one root node")
            stack.append(node)
        elif token == FDT_END_NODE:
            if not stack:
                raise FdtError("END_NODE without BEGIN_NODE")
            stack.pop()
        elif token == FDT_PROP:
            length, nameoff = u32(), u32()
            if not stack:
                raise FdtError("property outside any node")
            if pos + length > end or nameoff >= len(strings):
                raise FdtError("property outside the blob")
            nstop = strings.find(b"\0", nameoff)
            if nstop < 0:
                raise FdtError("unterminated property name")
            stack[-1].props[strings[nameoff:nstop].decode("latin-1")] = buf[pos:pos + length]
            pos = (pos + length + 3) & ~3
        elif token == FDT_NOP:
            continue
        elif token == FDT_END:
            break
        else:
            raise FdtError(f"unknown token {token} at offset {pos - 4}")
    if stack or root is None:
        raise FdtError("unbalanced nodes")
    return root


def build_fdt(root: FdtNode) -> bytes:
    """Serialise a tree of :class:`FdtNode` (version 17), like dtc does."""
    strings = bytearray()
    offsets: dict[str, int] = {}
    body = bytearray()

    def name_off(name: str) -> int:
        if name not in offsets:
            offsets[name] = len(strings)
            strings.extend(name.encode() + b"\0")
        return offsets[name]

    def emit(node: FdtNode) -> None:
        body.extend(struct.pack(">I", FDT_BEGIN_NODE))
        raw = node.name.encode() + b"\0"
        body.extend(raw + b"\0" * (-len(raw) % 4))
        for key, value in node.props.items():
            body.extend(struct.pack(">III", FDT_PROP, len(value), name_off(key)))
            body.extend(value + b"\0" * (-len(value) % 4))
        for child in node.children.values():
            emit(child)
        body.extend(struct.pack(">I", FDT_END_NODE))

    emit(root)
    body.extend(struct.pack(">I", FDT_END))
    off_rsv = _FDT_HEADER.size
    rsv = b"\0" * 16
    off_struct = off_rsv + len(rsv)
    off_strings = off_struct + len(body)
    total = off_strings + len(strings)
    header = _FDT_HEADER.pack(FDT_MAGIC, total, off_struct, off_strings, off_rsv, 17, 16, 0,
                              len(strings), len(body))
    return header + rsv + bytes(body) + bytes(strings)


def make_fit(payload: bytes, *, description: str = "Linux kernel", hash_algo: str = "crc32") -> bytes:
    """A minimal FIT image: one ARM Linux kernel with a hash node, one default configuration."""
    if hash_algo == "crc32":
        value = struct.pack(">I", zlib.crc32(payload) & 0xFFFFFFFF)
    else:
        value = hashlib.new(hash_algo, payload).digest()
    kernel = FdtNode("kernel-1", {
        "description": description.encode() + b"\0",
        "data": payload,
        "type": b"kernel\0",
        "arch": b"arm\0",
        "os": b"linux\0",
        "compression": b"none\0",
        "load": struct.pack(">I", 0x80008000),
        "entry": struct.pack(">I", 0x80008000),
    }, {"hash-1": FdtNode("hash-1", {"value": value, "algo": hash_algo.encode() + b"\0"})})
    conf = FdtNode("conf-1", {"kernel": b"kernel-1\0"})
    root = FdtNode("", {"description": description.encode() + b"\0", "timestamp": struct.pack(">I", 1_600_000_000),
                        "#address-cells": struct.pack(">I", 1)}, {
        "images": FdtNode("images", {}, {"kernel-1": kernel}),
        "configurations": FdtNode("configurations", {"default": b"conf-1\0"}, {"conf-1": conf}),
    })
    return build_fdt(root)


def _verify_fit(data: bytes | bytearray | memoryview) -> ImageInfo:
    info = ImageInfo(kind="fit", size=len(data))
    try:
        root = parse_fdt(data)
    except FdtError as err:
        info.problems.append(f"FIT structure: {err}")
        return info
    info.name = root.prop_str("description") or ""
    images = root.children.get("images")
    if images is None:
        info.problems.append("FIT has no /images node")
        return info
    kernels = [n for n in images.children.values() if n.prop_str("type") in ("kernel", "kernel_noload")]
    if not kernels:
        info.problems.append("FIT has no kernel image")
        return info
    confs = root.children.get("configurations")
    if confs is not None:
        default = confs.prop_str("default")
        if default and default not in confs.children:
            info.problems.append(f"FIT default configuration {default!r} does not exist")
    kernel = kernels[0]
    info.type = kernel.prop_str("type") or ""
    info.arch = kernel.prop_str("arch") or ""
    info.os = kernel.prop_str("os") or ""
    info.compression = kernel.prop_str("compression") or "none"
    payload = kernel.props.get("data")
    if payload is None:
        info.problems.append(f"FIT kernel {kernel.name} has no data (external data is not supported)")
        return info
    if info.arch != "arm":
        info.problems.append(f"architecture is {info.arch or 'unset'}, not arm")
    if info.os and info.os != "linux":
        info.problems.append(f"OS is {info.os}, not linux")
    for hnode in kernel.children.values():
        if not hnode.name.startswith("hash"):
            continue
        algo = hnode.prop_str("algo") or ""
        want = hnode.props.get("value")
        if want is None:
            continue
        if algo == "crc32":
            got = struct.pack(">I", zlib.crc32(payload) & 0xFFFFFFFF)
        elif algo in ("sha1", "sha256", "md5"):
            got = hashlib.new(algo, payload).digest()
        else:
            continue
        if got != want:
            info.problems.append(f"FIT kernel {algo} hash mismatch")
    info.release = (release_from_payload(payload) if info.compression == "none" else None) or (
        release_from_text(kernel.prop_str("description") or "") or release_from_text(info.name)
    )
    return info


def verify_image(data: bytes | bytearray | memoryview) -> ImageInfo:
    """Verify a kernel image the way U-Boot will before booting it."""
    if len(data) >= 4:
        (magic,) = struct.unpack_from(">I", data)
        if magic == UIMAGE_MAGIC:
            return _verify_uimage(data)
        if magic == FDT_MAGIC:
            return _verify_fit(data)
    info = ImageInfo(kind="unknown", size=len(data))
    info.problems.append("not a U-Boot image (no uImage or FIT magic)")
    return info


def verify_file(path: str | os.PathLike[str]) -> ImageInfo:
    """:func:`verify_image` of a file, read through mmap (no second copy of a 20 MB kernel)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return verify_image(b"")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = memoryview(mm)
            try:
                return verify_image(view)
            finally:
                view.release()


def looks_like_image(head: bytes) -> bool:
    """True when the first bytes carry a uImage or FIT magic."""
    return len(head) >= 4 and struct.unpack_from(">I", head)[0] in (UIMAGE_MAGIC, FDT_MAGIC)
