"""The Backend protocol additions (Bluetooth) on the real backend, against a fake sysroot."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from r2wifi.wmt.backend import RealBackend, module_index


def test_real_hci_devices_from_sysfs(tmp_path: Path) -> None:
    """hci_devices() lists /sys/class/bluetooth/hciN entries, not their child connections."""
    be = RealBackend(sysroot=str(tmp_path))
    assert be.hci_devices() == []
    bt = tmp_path / "sys" / "class" / "bluetooth"
    (bt / "hci1").mkdir(parents=True)
    (bt / "hci0").mkdir()
    (bt / "hci0:11").mkdir()
    assert be.hci_devices() == ["hci0", "hci1"]


def test_real_bt_address_rejects_bad_names(tmp_path: Path) -> None:
    """bt_address() of something that is not hciN is None (no socket is even opened)."""
    be = RealBackend(sysroot=str(tmp_path))
    assert be.bt_address("eth0") is None
    assert be.bt_address("hci") is None


def _modules(root: Path, dep: str | None, builtin: str | None = None) -> None:
    d = root / "lib" / "modules" / os.uname().release
    d.mkdir(parents=True)
    if dep is not None:
        (d / "modules.dep").write_text(dep)
    if builtin is not None:
        (d / "modules.builtin").write_text(builtin)


@pytest.mark.parametrize(("dep", "builtin", "want"), [
    ("kernel/drivers/misc/mediatek/wlan_gen2.ko: kernel/x/wmt_drv.ko\n", "", "module"),
    ("kernel/drivers/misc/mediatek/wlan-gen2.ko.xz:\n", None, "module"),
    ("kernel/net/mac80211/mac80211.ko:\nkernel/x/wlan_gen2_extra.ko:\n", "", "absent"),
    ("", "kernel/drivers/misc/mediatek/wlan_gen2.ko\n", "builtin"),
    (None, None, "unknown"),
])
def test_module_index(tmp_path: Path, dep: str | None, builtin: str | None, want: str) -> None:
    """module_index() reads modules.builtin and modules.dep: built in, loadable, absent, or no index (OpenWrt)."""
    _modules(tmp_path, dep, builtin)
    assert module_index("wlan_gen2", str(tmp_path)) == want


def test_load_module_absent_fails_without_modprobe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module the kernel's modules.dep does not list fails like modprobe, without running modprobe."""
    _modules(tmp_path, "kernel/net/mac80211/mac80211.ko:\n")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))  # a modprobe run would fail differently
    be = RealBackend(sysroot=str(tmp_path))
    with pytest.raises(OSError, match="module wlan_gen2 not found in .*modules") as err:
        be.load_module("wlan_gen2")
    assert err.value.errno == errno.ENOENT


def test_load_module_builtin_is_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A built-in module (modules.builtin; no /sys/module entry without parameters) needs no modprobe."""
    _modules(tmp_path, "", "kernel/drivers/misc/mediatek/wlan_gen2.ko\n")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    RealBackend(sysroot=str(tmp_path)).load_module("wlan_gen2")
