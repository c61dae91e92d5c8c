"""r2wifi.fsutil: atomic replacement with a backup, and only of regular files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from r2wifi.errors import UserError
from r2wifi.fsutil import atomic_write, file_kind, make_backup

REPO = Path(__file__).resolve().parents[1]


def test_atomic_write_replaces_keeps_mode_and_backs_up(tmp_path: Path) -> None:
    """A regular file is replaced whole, keeps its mode, and its old text is in the backup; no temp file stays."""
    p = tmp_path / "x.conf"
    p.write_text("old\n")
    p.chmod(0o640)
    saved = atomic_write(p, "new\n", backup=True)
    assert p.read_text() == "new\n" and stat.S_IMODE(p.stat().st_mode) == 0o640
    assert saved is not None and saved.read_text() == "old\n"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["x.conf", "x.conf.bak"]
    fresh = atomic_write(tmp_path / "secret", b"psk", mode=0o600)
    assert fresh is None and stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


@pytest.mark.parametrize("kind", ["fifo", "dir", "link-to-null"])
def test_a_target_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str, special_file) -> None:  # type: ignore[no-untyped-def]
    """A FIFO, a directory or a link to /dev/null is refused by name; nothing is read, written or backed up."""
    p = special_file(tmp_path, kind)
    before = sorted(f.name for f in tmp_path.iterdir())
    for call in (lambda: atomic_write(p, "x", backup=True), lambda: atomic_write(p, "x"), lambda: make_backup(p)):
        with pytest.raises(UserError, match=r"/x is a (FIFO|directory|character device), not a regular file"):
            call()
    assert sorted(f.name for f in tmp_path.iterdir()) == before
    assert kind != "link-to-null" or p.is_symlink()


def test_file_kind_names_what_a_file_is() -> None:
    """file_kind: None for a regular file, else what it is (one wording for every such message)."""
    assert file_kind(stat.S_IFREG | 0o644) is None
    assert file_kind(os.stat("/dev/null").st_mode) == "a character device"
    assert file_kind(stat.S_IFIFO) == "a FIFO" and file_kind(stat.S_IFDIR) == "a directory"


def test_diagnose_html_to_a_device_is_one_line_and_exit_2(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`diagnose --html` naming a link to /dev/zero: exit 2 with one line, no endless backup copy of the device."""
    out = tmp_path / "report.html"
    out.symlink_to("/dev/zero")
    log = REPO / "tests" / "data" / "generated_corpus" / "baseline" / "hostapd.log"
    p = run_cli("diagnose", str(log), "--html", str(out), timeout=60)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and "character device, not a regular file" in p.stderr, p.stderr
    assert sorted(f.name for f in tmp_path.iterdir() if f.name != "state") == ["report.html"]
