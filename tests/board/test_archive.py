"""Archive reading rules: allowed links inside lib/modules, size limits, .deb parsing."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from r2wifi.board.archive import Limits, open_source, read_ar
from r2wifi.errors import UserError
from tests.board.boardkit import make_deb, make_tarball

MOD = "BPI-ROOT/lib/modules/5.15.80-main"


def test_links_inside_the_modules_tree_are_kept(tmp_path: Path) -> None:
    """A relative symlink and a hard link that stay inside lib/modules/<rel> are accepted (link copied)."""
    src = make_tarball(tmp_path / "k.tar.gz", "5.15.80-main", extra=[
        (f"{MOD}/kernel/alias.ko", None, tarfile.SYMTYPE, "drivers/net/dummy.ko"),
        (f"{MOD}/kernel/copy.ko", None, tarfile.LNKTYPE, f"{MOD}/kernel/drivers/net/dummy.ko"),
    ])
    payload = open_source(src)
    try:
        by_path = {m.path: m for m in payload.members}
        assert by_path["lib/modules/5.15.80-main/kernel/alias.ko"].kind == "symlink"
        copy = by_path["lib/modules/5.15.80-main/kernel/copy.ko"]
        assert copy.kind == "file" and copy.open().read() == b"m" * 1024
    finally:
        payload.close()


@pytest.mark.parametrize(("limits", "reason"), [
    (Limits(max_file=512), "over the 512 byte limit"),
    (Limits(max_total=2000), "total limit"),
    (Limits(max_members=5), "more than 5 members"),
])
def test_size_and_count_limits(tmp_path: Path, limits: Limits, reason: str) -> None:
    """Per-file size, total size and member count limits refuse the archive while listing it."""
    src = make_tarball(tmp_path / "k.tar.gz", "5.15.80-main")
    with pytest.raises(UserError, match=reason):
        open_source(src, limits=limits)


def test_deb_members_are_mapped_to_partitions(tmp_path: Path) -> None:
    """A .deb's ar members are parsed; boot/ goes to BPI-BOOT and the rest to BPI-ROOT."""
    deb = make_deb(tmp_path / "k.deb", "5.15.80-main")
    assert [name for name, _off, _size in read_ar(deb)] == ["debian-binary", "control.tar.gz", "data.tar.xz"]
    payload = open_source(deb)
    try:
        parts = {(m.part, m.path) for m in payload.files()}
        assert ("boot", "bananapi/bpi-r2/linux/uImage") in parts
        assert ("root", "lib/modules/5.15.80-main/modules.order") in parts
    finally:
        payload.close()


def test_truncated_deb_is_refused(tmp_path: Path) -> None:
    """A .deb cut short in the middle of a member is a one-line error."""
    deb = make_deb(tmp_path / "k.deb", "5.15.80-main")
    deb.write_bytes(deb.read_bytes()[:300])
    with pytest.raises(UserError, match="truncated|broken"):
        open_source(deb)
