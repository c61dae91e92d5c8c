"""The simulator brings its own firmware set when the configured directory has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from r2wifi.service.simfw import patch_dir_for
from r2wifi.wmt.firmware import check_patches


def test_sim_without_a_set_uses_its_own_under_the_sim_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("R2WIFI_SIM_DIR", str(tmp_path / "sim"))
    empty = tmp_path / "etc-firmware"  # does not exist, like /etc/firmware on a fresh machine
    got = patch_dir_for("sim", str(empty))
    assert Path(got).is_relative_to(tmp_path / "sim")
    assert not empty.exists()  # nothing written where the user pointed
    assert not [f for f in check_patches(Path(got)).findings if f.level == "error"]
    mtime = {p.name: p.stat().st_mtime_ns for p in Path(got).iterdir()}
    assert patch_dir_for("sim", str(empty)) == got  # reused, not rewritten
    assert {p.name: p.stat().st_mtime_ns for p in Path(got).iterdir()} == mtime


def test_real_backend_and_a_user_set_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from r2wifi.wmt.fwgen import write_firmware_set

    monkeypatch.setenv("R2WIFI_SIM_DIR", str(tmp_path / "sim"))
    assert patch_dir_for("real", "/etc/firmware") == "/etc/firmware"
    mine = write_firmware_set(tmp_path / "root")
    assert patch_dir_for("sim", str(mine)) == str(mine)
    assert not (tmp_path / "sim").exists()
