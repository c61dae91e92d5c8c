"""The Backend protocol additions (Bluetooth) on the real backend, against a fake sysroot."""

from __future__ import annotations

from pathlib import Path

from r2wifi.wmt.backend import RealBackend


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
