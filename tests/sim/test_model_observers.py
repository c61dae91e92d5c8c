"""The model's observer hooks: node changes (DO_MODULE_INIT, module load, fault) and handle readiness."""

from __future__ import annotations

from pathlib import Path

from r2wifi.sim.model import DriverModel
from r2wifi.wmt import driver

from .test_model import Dev, Rig, n


def observed(model: DriverModel) -> tuple[list[list[str]], list[int]]:
    """Lists filled by the hooks: the node paths at each node change, the handle ids made readable."""
    changes: list[list[str]] = []
    ready: list[int] = []
    model.on_nodes_changed(lambda: changes.append(sorted(model.k.nodes)))
    model.on_ready(ready.append)
    return changes, ready


def test_do_module_init_fires_one_node_change_with_both_new_nodes(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    changes, _ready = observed(rig.model)
    d = Dev(rig.model, driver.WMTDETECT)
    d.ioctl(n("COMBO_IOCTL_SET_CHIP_ID"), 0x7623)
    assert changes == []  # an ioctl that registers nothing
    rig.model.ioctl(d.hid, n("COMBO_IOCTL_DO_MODULE_INIT"), 0x7623)
    assert changes == [sorted([driver.WMTDETECT, driver.STPWMT, driver.WMTWIFI])]
    rig.model.ioctl(d.hid, n("COMBO_IOCTL_DO_MODULE_INIT"), 0x7623)  # EBUSY: nothing new
    assert len(changes) == 1


def test_module_load_and_faults_fire_node_changes(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.loader()
    w = rig.launcher()
    assert rig.power(w) == 0
    changes, _ready = observed(rig.model)
    assert rig.model.load_module("stp_chrdev_bt") == 0
    assert changes and driver.STPBT in changes[-1]
    assert rig.model.load_module("stp_chrdev_bt") == 0  # already loaded: no change
    assert len(changes) == 1
    rig.model.inject("combo-wifi-not-built")
    assert len(changes) == 2 and driver.WMTWIFI not in changes[-1]
    rig.model.inject("detect-regular-file")  # same path, another kind: still a change
    assert len(changes) == 3 and rig.model.stat_node(driver.WMTDETECT) == ("file", None, None)
    rig.model.inject("no-detect")
    assert len(changes) == 4 and driver.WMTDETECT not in changes[-1]


def test_a_posted_command_makes_every_stpwmt_handle_ready(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.loader()
    other = Dev(rig.model, driver.STPWMT)
    w = rig.launcher()
    _changes, ready = observed(rig.model)
    assert rig.power(w) == 0  # posts srh_patch; the rig's launcher hook reads and answers it
    assert rig.model.srh_patch_count == 1
    assert sorted(ready) == sorted([w.hid, other.hid])


def test_queued_bt_data_makes_its_handle_ready(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.loader()
    w = rig.launcher()
    rig.power(w)
    assert rig.model.load_module("stp_chrdev_bt") == 0
    bt = Dev(rig.model, driver.STPBT)
    _changes, ready = observed(rig.model)
    assert rig.model.poll(bt.hid, 0) is False
    bt.write(b"\x01\x03\x0c\x00")  # HCI Reset -> a Command Complete event queued
    assert ready == [bt.hid] and rig.model.poll(bt.hid, 0) is True
