"""Hostile install archives for the board tests: link chains, name reuse, corrupt gzip streams, bombs.

Each builder returns a path; the archives are otherwise complete frank-w release tarballs (kernel,
modules, firmware), so a refusal can only come from the hostile part.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import tarfile
from collections.abc import Callable
from pathlib import Path

from tests.board.boardkit import make_tarball, release_members, uimage

REL = "5.15.80-main"
MOD = f"BPI-ROOT/lib/modules/{REL}"
EVIL = "r2wifi-hostile-canary-written"

Extra = list[tuple[str, bytes | None, bytes, str]]


def chain_under_links(n: int) -> Extra:
    """n links, each created *under* the previous one; each alone stays inside the release dir
    lexically, together they climb out; then a file is written through the chain."""
    out: Extra = [(f"{MOD}/x/d1", None, tarfile.DIRTYPE, "")]
    path = f"{MOD}/x/d1/l1"
    out.append((path, None, tarfile.SYMTYPE, ".."))
    for k in range(2, n + 1):
        path = f"{path}/l{k}"
        out.append((path, None, tarfile.SYMTYPE, "../.."))
    out.append((f"{path}/{EVIL}", b"owned\n", tarfile.REGTYPE, ""))
    return out


def chain_of_targets(n: int) -> Extra:
    """n links each pointing at the next one (l1 -> l2 -> ... -> ln -> .), all siblings."""
    out: Extra = [(f"{MOD}/y", None, tarfile.DIRTYPE, "")]
    for k in range(1, n):
        out.append((f"{MOD}/y/l{k}", None, tarfile.SYMTYPE, f"l{k + 1}"))
    out.append((f"{MOD}/y/l{n}", None, tarfile.SYMTYPE, "."))
    return out


def link_over_earlier_dir() -> Extra:
    """A directory made implicitly by a file member, then a link of that name, then a file through it."""
    return [
        (f"{MOD}/a/b/f.ko", b"f", tarfile.REGTYPE, ""),
        (f"{MOD}/a/b", None, tarfile.SYMTYPE, "../c"),
        (f"{MOD}/a/b/{EVIL}", b"owned", tarfile.REGTYPE, ""),
    ]


def link_into_dir_then_file() -> Extra:
    """A link to a real directory created by an earlier member, then a file written through the link."""
    return [
        (f"{MOD}/real", None, tarfile.DIRTYPE, ""),
        (f"{MOD}/alias", None, tarfile.SYMTYPE, "real"),
        (f"{MOD}/alias/{EVIL}", b"owned", tarfile.REGTYPE, ""),
    ]


def name_reuse(first: bytes, second: bytes) -> Extra:
    """The same name twice with the given tar types."""
    def member(kind: bytes) -> tuple[str, bytes | None, bytes, str]:
        name = f"{MOD}/kernel/twice.ko"
        if kind == tarfile.REGTYPE:
            return (name, b"data", kind, "")
        if kind == tarfile.SYMTYPE:
            return (name, None, kind, "drivers/net/dummy.ko")
        return (name, None, kind, "")
    return [member(first), member(second)]


def with_extra(tmp: Path, extra: Extra, name: str = "hostile.tar.gz") -> Path:
    return make_tarball(tmp / name, REL, extra=extra)


def corrupt_data(tmp: Path) -> Path:
    """A byte flipped inside a stored (incompressible) module: deflate does not notice, the CRC does."""
    rng = random.Random(7)
    blob = rng.randbytes(256 * 1024)
    path = with_extra(tmp, [(f"{MOD}/kernel/random.ko", blob, tarfile.REGTYPE, "")])
    raw = bytearray(path.read_bytes())
    at = bytes(raw).find(blob[100_000:100_032])
    assert at > 0, "random data is stored verbatim in the deflate stream"
    raw[at + 5] ^= 0x55
    path.write_bytes(bytes(raw))
    return path


def corrupt_trailer(tmp: Path, which: str) -> Path:
    """The gzip trailer's CRC32 (``crc``) or ISIZE (``length``) changed; the deflate data is intact."""
    path = with_extra(tmp, [])
    raw = bytearray(path.read_bytes())
    raw[-8 if which == "crc" else -4] ^= 0x01
    path.write_bytes(bytes(raw))
    return path


def truncated(tmp: Path) -> Path:
    path = with_extra(tmp, [])
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 20])
    return path


def trailing_garbage(tmp: Path) -> Path:
    path = with_extra(tmp, [])
    path.write_bytes(path.read_bytes() + b"this is not gzip")
    return path


def big_uimage(tmp: Path, mib: int = 49) -> Path:
    """A release whose uImage member is larger than the image limit (compresses to almost nothing)."""
    path = tmp / "big.tar.gz"
    big = uimage(REL) + b"\0" * (mib << 20)
    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        for name, data, kind, link in release_members(REL, kernel=big):
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname, ti.mode = kind, link, 0o755 if kind == tarfile.DIRTYPE else 0o644
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
    return path


def huge_pax_header(tmp: Path) -> Path:
    """A pax extended header of 2 MiB (tarfile would read it whole into memory)."""
    path = tmp / "pax.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("BPI-ROOT/etc/x")
        ti.pax_headers = {"comment": "x" * (2 << 20)}
        ti.size = 1
        tf.addfile(ti, io.BytesIO(b"x"))
    return path


def gzip_members(tmp: Path) -> Path:
    """Two concatenated gzip members (valid: what `cat a.gz b.gz` gives): must still install."""
    path = with_extra(tmp, [])
    raw = gzip.decompress(path.read_bytes())
    half = len(raw) // 2
    path.write_bytes(gzip.compress(raw[:half]) + gzip.compress(raw[half:]))
    return path


Builder = Callable[[Path], Path]


def escape_spots(card_root: Path) -> list[Path]:
    """Every place outside the card a climbing chain could drop the canary file: each ancestor of the card.
    (Inside the card, the tests compare snapshots.)"""
    out = []
    p = card_root.parent
    while True:
        out.append(p / EVIL)
        if p == p.parent:
            return out
        p = p.parent


def evil_written(card_root: Path) -> list[Path]:
    return [p for p in escape_spots(card_root) if os.path.lexists(p)]
