"""The hwsim radio adapter (r2wifi.sim.radio) on a fake /sys tree, and `sim start --cuse` where CUSE is absent.

The real thing (iw on mac80211_hwsim, CUSE nodes) runs in test bed C: tests/hwsim/test_cuse_hwsim.py.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from r2wifi.sim.radio import HwsimRadio, RadioError


class FakeSys:
    """/sys/class/ieee80211 + /sys/class/net of hwsim with ``radios`` phys, each with its wlanN."""

    def __init__(self, root: Path, radios: int = 2, hwsim: bool = True) -> None:
        self.root = root
        self.calls: list[list[str]] = []
        dev = root / "sys/devices/virtual" / ("mac80211_hwsim" if hwsim else "other")
        for i in range(radios):
            (dev / f"hwsim{i}").mkdir(parents=True)
            phy = root / f"sys/class/ieee80211/phy{i}"
            phy.mkdir(parents=True)
            (phy / "device").symlink_to(dev / f"hwsim{i}")
            self.add_netdev(f"wlan{i}", f"phy{i}", f"02:00:00:00:0{i}:00")

    def add_netdev(self, name: str, phy: str, addr: str) -> None:
        d = self.root / "sys/class/net" / name
        d.mkdir(parents=True)
        (d / "phy80211").symlink_to(self.root / "sys/class/ieee80211" / phy)
        (d / "address").write_text(addr + "\n")

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        argv = list(argv)
        self.calls.append(argv)
        if argv[:1] == ["iw"] and argv[1] == "dev" and argv[3] == "del":
            import shutil

            shutil.rmtree(self.root / "sys/class/net" / argv[2])
        elif argv[:1] == ["iw"] and argv[3:5] == ["interface", "add"]:
            addr = argv[argv.index("addr") + 1] if "addr" in argv else "00:00:00:00:00:00"
            self.add_netdev(argv[5], argv[2], addr)
        return subprocess.CompletedProcess(argv, 0, "", "")


def test_start_takes_the_first_hwsim_phy_and_frees_wlan0(tmp_path: Path) -> None:
    fake = FakeSys(tmp_path, radios=3)
    radio = HwsimRadio(run=fake.run, sys_root=str(tmp_path), say=lambda s: None).start()
    assert (radio.phy, radio.peer_phy) == ("phy0", "phy1")
    assert fake.calls == [["iw", "dev", "wlan0", "del"]]
    assert not (tmp_path / "sys/class/net/wlan0").exists() and (tmp_path / "sys/class/net/wlan1").exists()


def test_mode_changes_become_iw_interfaces_with_the_chip_macs(tmp_path: Path) -> None:
    fake = FakeSys(tmp_path)
    radio = HwsimRadio(run=fake.run, sys_root=str(tmp_path), say=lambda s: None).start()
    fake.calls.clear()
    radio.sync({"wlan0": "sta", "ap0": "ap"}, {"wlan0": "00:08:22:aa:bb:cc", "ap0": "02:08:22:aa:bb:cc"})
    assert ["iw", "phy", "phy0", "interface", "add", "ap0", "type", "__ap", "addr", "02:08:22:aa:bb:cc"] in fake.calls
    assert ["iw", "phy", "phy0", "interface", "add", "wlan0", "type", "managed", "addr",
            "00:08:22:aa:bb:cc"] in fake.calls
    fake.calls.clear()
    radio.sync({"wlan0": "sta"}, {"wlan0": "00:08:22:aa:bb:cc"})  # 'A' -> '1': ap0 goes
    assert fake.calls == [["iw", "dev", "ap0", "del"]]
    radio.sync({}, {})
    assert not (tmp_path / "sys/class/net/wlan0").exists()


def test_destroy_gives_hwsim_its_wlan0_back(tmp_path: Path) -> None:
    fake = FakeSys(tmp_path)
    radio = HwsimRadio(run=fake.run, sys_root=str(tmp_path), say=lambda s: None).start()
    radio.sync({"ap0": "ap"}, {"ap0": "02:08:22:aa:bb:cc"})
    radio.destroy()
    assert not (tmp_path / "sys/class/net/ap0").exists()
    assert (tmp_path / "sys/class/net/wlan0/address").read_text().strip() == "02:00:00:00:00:00"
    assert (tmp_path / "sys/class/net/wlan0/phy80211").resolve().name == "phy0"


def test_no_hwsim_phy_is_one_clear_error(tmp_path: Path) -> None:
    fake = FakeSys(tmp_path, radios=1, hwsim=False)
    with pytest.raises(RadioError, match="mac80211_hwsim"):
        HwsimRadio(run=fake.run, sys_root=str(tmp_path), say=lambda s: None).start()


def test_iw_failure_is_reported_not_raised_during_sync(tmp_path: Path) -> None:
    fake = FakeSys(tmp_path)
    said: list[str] = []
    radio = HwsimRadio(run=fake.run, sys_root=str(tmp_path), say=said.append).start()
    radio.run = lambda argv: subprocess.CompletedProcess(list(argv), 1, "", "command failed: Device or resource busy")
    radio.sync({"ap0": "ap"}, {"ap0": "02:08:22:aa:bb:cc"})
    assert "ap0" not in radio.current and any("resource busy" in s for s in said)


@pytest.mark.skipif(os.path.exists("/dev/cuse"), reason="this machine has /dev/cuse")
def test_sim_start_cuse_without_dev_cuse_is_one_line(run_cli) -> None:
    """Where /dev/cuse does not exist, `sim start --cuse` says so in one line, exit 2, no daemon."""
    p = run_cli("sim", "start", "--cuse", "--timing", "fast")
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert "/dev/cuse" in p.stderr or "root" in p.stderr


def test_sim_start_kmsg_needs_cuse(run_cli) -> None:
    p = run_cli("sim", "start", "--kmsg")
    assert p.returncode == 2 and "--kmsg needs --cuse" in p.stderr and p.stderr.count("\n") == 1


def test_sim_status_text_names_the_transport() -> None:
    from r2wifi.cli.sim import _status_text

    text = _status_text({"cuse": True, "radio": {"kind": "hwsim", "phy": "phy0", "peer_phy": "phy1"}, "nodes": []})
    assert "socket + CUSE (real /dev nodes), radio phy0 (peer phy1)" in text
    assert "transport      socket\n" in _status_text({"nodes": []})
