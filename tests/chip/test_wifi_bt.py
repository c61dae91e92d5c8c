"""WiFi mode switching and Bluetooth against a fake driver."""

from __future__ import annotations

import os

import pytest

from r2wifi.errors import UserError
from r2wifi.wmt import bt, state, wifi

from .chip_fakes import FakeBackend, FakeDriver


@pytest.fixture
def sdir(tmp_path, monkeypatch):
    d = tmp_path / "state"
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(d))
    return d


def powered(tmp_path) -> FakeDriver:
    return FakeDriver(nodes={"/dev/wmtdetect": "char", "/dev/stpwmt": "char", "/dev/wmtWifi": "char"},
                      chip_id=0x7623, stp_mode=0x23, powered=True, kmsg_file=str(tmp_path / "kmsg"))


def ctl(be: FakeBackend, names: str = "default") -> wifi.WifiControl:
    return wifi.WifiControl(be, names=names, timeout=1.0, watcher=wifi.InterfaceWatcher(be, use_netlink=False))


def fake_launcher(powered_flag: bool) -> state.LauncherLock:
    lock = state.LauncherLock()
    assert lock.acquire() is None
    state.write_state({"powered": powered_flag, "pid": os.getpid()})
    return lock


def test_ap_from_off_writes_A_and_waits_for_ap0(sdir, tmp_path):
    """`wifi ap` from off: one write of 'A', then ap0 and wlan0 are there."""
    be = FakeBackend(powered(tmp_path))
    res = ctl(be).set_mode("ap")
    assert be.drv.wifi_writes == [b"A"]
    assert res.previous == "off" and res.interfaces == ["ap0", "wlan0"]


def test_switching_modes_goes_through_off(sdir, tmp_path):
    """ap -> sta writes '0' first (interfaces gone), then '1'."""
    be = FakeBackend(powered(tmp_path))
    c = ctl(be)
    c.set_mode("ap")
    res = c.set_mode("sta")
    assert be.drv.wifi_writes == [b"A", b"0", b"1"]
    assert [s["write"] for s in res.steps] == ["0", "1"]
    assert res.interfaces == ["wlan0"]


def test_same_mode_again_writes_nothing(sdir, tmp_path):
    """Asking for the current mode is a no-op reported as unchanged."""
    be = FakeBackend(powered(tmp_path))
    c = ctl(be)
    c.set_mode("sta")
    res = c.set_mode("sta")
    assert res.changed is False and be.drv.wifi_writes == [b"1"]


def test_mtk_names_are_waited_for(sdir, tmp_path):
    """With --names mtk the watcher waits for mtkap0, which this (default-named) driver never creates."""
    be = FakeBackend(powered(tmp_path))
    with pytest.raises(UserError, match="mtkap0, mtkwlan0 did not appear within 1 s"):
        ctl(be, "mtk").set_mode("ap")
    assert wifi.expected_interfaces("ap", "mtk") == ["mtkwlan0", "mtkap0"]


def test_eio_without_launcher_explains_no_hif_info(sdir, tmp_path):
    """EIO and 'no hif info!' in the kernel log since the write: the launcher never set the STP mode."""
    drv = powered(tmp_path)
    drv.powered = False
    drv.stp_mode = None
    drv.log("[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!")  # an old line, before our write
    be = FakeBackend(drv)
    with pytest.raises(UserError, match=r"wifi ap: /dev/wmtWifi answered EIO: the launcher never set the STP mode"):
        ctl(be).set_mode("ap")


def test_eio_with_dead_launcher_and_no_kernel_hint(sdir, tmp_path):
    """EIO with nothing in the kernel log and no launcher alive: says to start the launcher."""
    drv = powered(tmp_path)
    drv.wifi_eio = True
    with pytest.raises(UserError, match="the launcher is not running"):
        ctl(FakeBackend(drv)).set_mode("sta")


def test_eio_explanations_from_kernel_markers(sdir, tmp_path):
    """Each known kernel marker maps to its cause (wlan_gen2, renamed wlan0, RAM code, BTIF)."""
    cases = [
        ("[MTK-WIFI] WIFI_write: Set p2p mode handler is NULL", "wlan_gen2 is not loaded"),
        ("[MTK-WIFI] WIFI_write: Get wlan0 net device timeout", "renamed it"),
        ("[wlan]Open FW image: WIFI_RAM_CODE_7623 failed", "WIFI_RAM_CODE_7623 is missing"),
        ("[WMT-LIB][E]wmt_lib_put_act_op(1368):wait completion timeout, opId(5), show wmtd_thread stack!",
         "does not answer over BTIF"),
    ]
    for n, (marker, cause) in enumerate(cases):
        drv = powered(tmp_path)
        drv.kmsg_file = str(tmp_path / f"kmsg{n}")
        be = FakeBackend(drv)
        since = wifi.KmsgSince(be)
        drv.log(marker)
        assert cause in wifi.explain_eio(be, "default", since), marker


def test_missing_wmtwifi_node(sdir, tmp_path):
    """Without /dev/wmtWifi the error says to run chip init."""
    drv = powered(tmp_path)
    del drv.nodes["/dev/wmtWifi"]
    with pytest.raises(UserError, match="run 'r2wifi chip init' first"):
        ctl(FakeBackend(drv)).set_mode("ap")


def test_wlan_gen2_is_loaded_before_switching_on(sdir, tmp_path):
    """When wlan_gen2 is not loaded, set_mode loads it first (unless disabled)."""
    be = FakeBackend(powered(tmp_path))
    ctl(be).set_mode("sta")
    assert "wlan_gen2" in be.drv.modules
    be2 = FakeBackend(powered(tmp_path))
    wifi.WifiControl(be2, timeout=1.0, load_module=False,
                     watcher=wifi.InterfaceWatcher(be2, use_netlink=False)).set_mode("sta")
    assert "wlan_gen2" not in be2.drv.modules


def test_current_mode_from_interfaces():
    """The mode is read from the interfaces: ap0 -> ap, p2p0 -> p2p, wlan0 -> sta, none -> off; 'wap0' is not ap0."""
    assert wifi.current_mode(["lo", "ap0", "wlan0"]) == "ap"
    assert wifi.current_mode(["p2p0", "wlan0"]) == "p2p"
    assert wifi.current_mode(["wlan0"]) == "sta"
    assert wifi.current_mode(["wap0", "eth0"]) == "off"
    assert wifi.current_mode(["mtkap0", "mtkwlan0"], "mtk") == "ap"


def test_bt_up_refused_before_the_launcher_patched(sdir, tmp_path):
    """bt up with no launcher, or a launcher still patching, refuses with a clear reason and loads nothing."""
    drv = powered(tmp_path)
    be = FakeBackend(drv)
    with pytest.raises(UserError, match="launcher is not running"):
        bt.bt_up(be)
    lock = fake_launcher(False)
    try:
        with pytest.raises(UserError, match="STP is not ready"):
            bt.bt_up(be)
    finally:
        lock.release()
    assert "stp_chrdev_bt" not in drv.modules


def test_bt_up_loads_module_and_reports_hci0(sdir, tmp_path):
    """With a powered chip, bt up loads stp_chrdev_bt, waits for hci0 and reports its address."""
    be = FakeBackend(powered(tmp_path))
    lock = fake_launcher(True)
    try:
        st = bt.bt_up(be)
    finally:
        lock.release()
    assert st.module_loaded and st.hci == ["hci0"] and st.address == "00:0C:E7:12:34:56"


def test_eio_names_a_failed_wlan_gen2_load(sdir, tmp_path):
    """wlan_gen2 missing and not loadable: the EIO explanation carries modprobe's error."""
    drv = powered(tmp_path)
    drv.wifi_eio = True
    drv.wifi_eio_log = "[MTK-WIFI] WIFI_write: Set p2p mode handler is NULL"
    drv.modprobe_fails = True
    with pytest.raises(UserError, match="wlan_gen2 is not loaded.*loading it failed: modprobe wlan_gen2: Module"):
        ctl(FakeBackend(drv)).set_mode("ap")
