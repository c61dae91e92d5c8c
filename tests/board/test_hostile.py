"""Hostile install archives: every one exits 2 with one line naming the problem, and nothing changes.

Run as a user does (``r2wifi kernel install``). Before and after, the card (both partitions) and a
canary directory outside it are snapshotted; every ancestor of the card is checked for the file a
link chain would have dropped.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from tests.board import hostile as h
from tests.board.boardkit import make_card, snapshot


def _extra_of(make: Callable[[int], h.Extra], n: int, tmp: Path) -> Path:
    return h.with_extra(tmp, make(n))


REFUSED: list[tuple[str, h.Builder, str]] = [
    *[(f"chain-under-links-{n}", partial(_extra_of, h.chain_under_links, n), "lies under the symbolic link")
      for n in (2, 3, 8, 40)],
    *[(f"chain-of-targets-{n}", partial(_extra_of, h.chain_of_targets, n), "chains of links are refused")
      for n in (2, 5, 40)],
    ("link-over-earlier-dir", lambda t: h.with_extra(t, h.link_over_earlier_dir()), "lies under the symbolic link"),
    ("file-through-link-to-dir", lambda t: h.with_extra(t, h.link_into_dir_then_file()),
     "lies under the symbolic link"),
    ("link-then-file", lambda t: h.with_extra(t, h.name_reuse(tarfile.SYMTYPE, tarfile.REGTYPE)),
     "appears twice in the archive (symbolic link and file)"),
    ("file-then-link", lambda t: h.with_extra(t, h.name_reuse(tarfile.REGTYPE, tarfile.SYMTYPE)),
     "appears twice in the archive (file and symbolic link)"),
    ("dir-then-file", lambda t: h.with_extra(t, h.name_reuse(tarfile.DIRTYPE, tarfile.REGTYPE)),
     "appears twice in the archive (directory and file)"),
    ("file-then-dir", lambda t: h.with_extra(t, h.name_reuse(tarfile.REGTYPE, tarfile.DIRTYPE)),
     "appears twice in the archive (file and directory)"),
    ("file-twice", lambda t: h.with_extra(t, h.name_reuse(tarfile.REGTYPE, tarfile.REGTYPE)),
     "appears twice in the archive (file and file)"),
    ("file-under-file", lambda t: h.with_extra(t, [(f"{h.MOD}/modules.order/x", b"x", tarfile.REGTYPE, "")]),
     "lies under the file"),
    ("dotdot", lambda t: h.with_extra(t, [("BPI-ROOT/../../etc/passwd", b"x", tarfile.REGTYPE, "")]), "'..'"),
    ("absolute-name", lambda t: h.with_extra(t, [(f"/tmp/{h.EVIL}", b"x", tarfile.REGTYPE, "")]), "absolute path"),
    ("absolute-link", lambda t: h.with_extra(t, [(f"{h.MOD}/kernel/x.ko", None, tarfile.SYMTYPE, "/etc/shadow")]),
     "absolute symbolic link"),
    ("escaping-link", lambda t: h.with_extra(t, [(f"{h.MOD}/kernel/y", None, tarfile.SYMTYPE, "../../../../etc")]),
     "leaves"),
    ("hardlink-outside", lambda t: h.with_extra(t, [("BPI-ROOT/etc/s2", None, tarfile.LNKTYPE, "etc/shadow")]),
     "hard link"),
    ("block-device", lambda t: h.with_extra(t, [("BPI-ROOT/dev/sda", None, tarfile.BLKTYPE, "")]), "device file"),
    ("char-device", lambda t: h.with_extra(t, [("BPI-ROOT/dev/mem", None, tarfile.CHRTYPE, "")]), "device file"),
    ("fifo", lambda t: h.with_extra(t, [("BPI-ROOT/tmp/pipe", None, tarfile.FIFOTYPE, "")]), "FIFO"),
    ("control-char-name", lambda t: h.with_extra(t, [("BPI-ROOT/etc/a\x1b[2Jb", b"x", tarfile.REGTYPE, "")]),
     "control character"),
    ("corrupt-gzip-data", h.corrupt_data, "corrupt compressed data"),
    ("corrupt-gzip-crc", lambda t: h.corrupt_trailer(t, "crc"), "corrupt compressed data"),
    ("corrupt-gzip-length", lambda t: h.corrupt_trailer(t, "length"), "corrupt compressed data"),
    ("truncated-gzip", h.truncated, "compressed"),
    ("trailing-garbage", h.trailing_garbage, "corrupt compressed data"),
    ("uimage-over-limit", h.big_uimage, "over the"),
    ("huge-pax-header", h.huge_pax_header, "extended header"),
]


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    boot, root = make_card(tmp_path / "sd")
    canary = tmp_path / "canary"
    (canary / "etc").mkdir(parents=True)
    (canary / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    return boot, root, canary


@pytest.mark.parametrize(("label", "build", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_hostile_archive_refused_nothing_changed(run_cli, world, tmp_path: Path, label, build, reason) -> None:  # type: ignore[no-untyped-def]
    """Exit 2, one line on stderr naming the problem, card and canary unchanged, no file escaped."""
    boot, root, canary = world
    src = build(tmp_path)
    before = snapshot(boot, root, canary)
    r = run_cli("kernel", "install", str(src), "--boot", str(boot), "--root", str(root), "--yes")
    assert r.returncode == 2, (label, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert reason in r.stderr, r.stderr
    assert snapshot(boot, root, canary) == before
    assert h.evil_written(root) == []


def test_concatenated_gzip_members_still_install(run_cli, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The stream check is not over-strict: a valid multi-member gzip installs."""
    boot, root, _canary = world
    r = run_cli("kernel", "install", str(h.gzip_members(tmp_path)), "--boot", str(boot), "--root", str(root),
                "--yes", "--no-depmod")
    assert r.returncode == 0, r.stderr
    assert (root / f"lib/modules/{h.REL}/modules.order").is_file()


def test_legit_links_still_install(run_cli, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A link to a real file in a sibling directory and to a directory (no chain) still install."""
    boot, root, _canary = world
    src = h.with_extra(tmp_path, [
        (f"{h.MOD}/kernel/alias.ko", None, tarfile.SYMTYPE, "drivers/net/dummy.ko"),
        (f"{h.MOD}/kernel/netdir", None, tarfile.SYMTYPE, "drivers/net"),
    ])
    r = run_cli("kernel", "install", str(src), "--boot", str(boot), "--root", str(root), "--yes", "--no-depmod")
    assert r.returncode == 0, r.stderr
    mod = root / f"lib/modules/{h.REL}/kernel"
    assert (mod / "alias.ko").is_symlink() and (mod / "netdir/dummy.ko").read_bytes() == b"m" * 1024
