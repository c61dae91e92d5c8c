"""Unit scenarios for the driver model (FakeClock: no sleeps, simulated time only)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2wifi.sim.model import DriverModel
from r2wifi.sim.timing import REALISTIC, FakeClock, Timing
from r2wifi.wmt import ioctls

from .helpers import good_firmware, patch_info, srh_patch_answer

ABI = "armhf"


def n(name: str) -> int:
    return ioctls.number(name, ABI)


class Dev:
    """A handle of the model, shaped like a DeviceHandle (returns like libc: raise on < 0)."""

    def __init__(self, model: DriverModel, path: str) -> None:
        self.model = model
        hid = model.open(path, pid=4242)
        if hid < 0:
            raise OSError(-hid, path)
        self.hid = hid

    def ioctl(self, request: int, arg: int | bytes = 0) -> int:
        ret = self.model.ioctl(self.hid, request, arg)
        if ret < 0:
            raise OSError(-ret, "ioctl")
        return ret

    def write(self, data: bytes) -> int:
        ret = self.model.write(self.hid, data)
        if ret < 0:
            raise OSError(-ret, "write")
        return ret

    def close(self) -> None:
        self.model.close(self.hid)


class Rig:
    """A model with a fake clock, a captured kernel log and an optional hook-driven launcher."""

    def __init__(self, tmp: Path, **kw: object) -> None:
        self.clock = FakeClock()
        self.log: list[tuple[int, int, str]] = []
        kw.setdefault("wmt_debug", "all")
        self.model = DriverModel(timing=Timing.named("realistic"), clock=self.clock, abi=ABI,
                                 sink=lambda p, u, m: self.log.append((p, u, m)), **kw)  # type: ignore[arg-type]
        self.fw = good_firmware(tmp / "firmware")
        self.reply: bytes | None = None  # override of the launcher's answer

    def text(self) -> str:
        return "\n".join(m for _p, _u, m in self.log)

    def loader(self) -> None:
        d = Dev(self.model, "/dev/wmtdetect")
        cid = d.ioctl(n("COMBO_IOCTL_GET_SOC_CHIP_ID"))
        d.ioctl(n("COMBO_IOCTL_SET_CHIP_ID"), cid)
        with pytest.raises(OSError) as e:
            d.ioctl(n("COMBO_IOCTL_DO_MODULE_INIT"), cid)
        assert e.value.errno == errno.EPERM  # the BT part's -1, normal on the R2
        d.close()

    def launcher(self, patch_dir: Path | None = None) -> Dev:
        """Open /dev/stpwmt, configure it and register a hook answering srh_patch."""
        w = Dev(self.model, "/dev/stpwmt")
        w.ioctl(n("WMT_IOCTL_SET_STP_MODE"), 0x23)
        w.ioctl(n("WMT_IOCTL_WMT_COREDUMP_CTRL"), 0)
        w.ioctl(n("WMT_IOCTL_SET_LAUNCHER_KILL"), 0)
        pdir = patch_dir or self.fw

        def answer() -> None:
            if self.model.poll(w.hid, 0) is True:
                cmd = self.model.read(w.hid)
                assert cmd == b"srh_patch"
                reply = srh_patch_answer(w, pdir, ABI)
                w.write(self.reply if self.reply is not None else reply)

        self.clock.hooks.append(answer)
        return w

    def power(self, w: Dev) -> int:
        return self.model.ioctl(w.hid, n("WMT_IOCTL_LPBK_POWER_CTRL"), 1)

    def up(self) -> Dev:
        self.loader()
        w = self.launcher()
        assert self.power(w) == 0
        return w

    def wifi(self, cmd: bytes) -> int:
        d = Dev(self.model, "/dev/wmtWifi")
        try:
            return self.model.write(d.hid, cmd)
        finally:
            d.close()


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


# ---------------------------------------------------------------- /dev/wmtdetect


def test_detect_present_from_boot(rig: Rig) -> None:
    """/dev/wmtdetect is a char device 154,0 before anything runs; nothing else is."""
    assert rig.model.stat_node("/dev/wmtdetect") == ("char", 154, 0)
    assert rig.model.stat_node("/dev/stpwmt") is None
    assert "driver(major 154) installed success" in rig.text()


def test_detect_chip_id_ioctls(rig: Rig) -> None:
    """GET_CHIP_ID is -1 until SET_CHIP_ID; GET_SOC_CHIP_ID is always 0x7623, logged as signed cmd."""
    d = Dev(rig.model, "/dev/wmtdetect")
    assert rig.model.ioctl(d.hid, n("COMBO_IOCTL_GET_CHIP_ID")) == -1
    assert d.ioctl(n("COMBO_IOCTL_GET_SOC_CHIP_ID")) == 0x7623
    assert "cmd (-2147191037),arg(0)" in rig.text()
    assert d.ioctl(n("COMBO_IOCTL_SET_CHIP_ID"), 0x7623) == 0
    assert "set current consys chipid (0x7623)" in rig.text()
    assert d.ioctl(n("COMBO_IOCTL_GET_CHIP_ID")) == 0x7623


def test_detect_soc_build_returns(rig: Rig) -> None:
    """EXT_CHIP_DETECT / EXT_CHIP_PWR_ON are -1 (EPERM) on the SOC build; PWR_OFF, CLEANUP are 0."""
    d = Dev(rig.model, "/dev/wmtdetect")
    for name in ("COMBO_IOCTL_EXT_CHIP_DETECT", "COMBO_IOCTL_EXT_CHIP_PWR_ON"):
        assert rig.model.ioctl(d.hid, n(name)) == -errno.EPERM
    for name in ("COMBO_IOCTL_EXT_CHIP_PWR_OFF", "COMBO_IOCTL_MODULE_CLEANUP", "COMBO_IOCTL_DO_SDIO_AUDOK"):
        assert d.ioctl(n(name)) == 0


def test_detect_unknown_cmd_returns_zero(rig: Rig) -> None:
    """An unknown request on /dev/wmtdetect logs "unknown cmd" and returns 0 (stpwmt would EINVAL)."""
    d = Dev(rig.model, "/dev/wmtdetect")
    assert d.ioctl(ioctls.ioc(ioctls.IOC_READ, 0x77, 99, 4)) == 0
    assert "unknown cmd (" in rig.text()


def test_detect_ioctls_decoded_per_abi(tmp_path: Path) -> None:
    """A model for arm64 decodes arm64 numbers (same for int-typed commands)."""
    m = DriverModel(timing=Timing.named("zero"), clock=FakeClock(), abi="arm64")
    hid = m.open("/dev/wmtdetect")
    assert m.ioctl(hid, ioctls.number("COMBO_IOCTL_GET_SOC_CHIP_ID", "arm64")) == 0x7623


def test_module_init_creates_nodes_once(rig: Rig) -> None:
    """DO_MODULE_INIT registers stpwmt/wmtWifi, returns -1; a second call fails with EBUSY (§11.2)."""
    rig.loader()
    assert rig.model.stat_node("/dev/stpwmt") == ("char", 190, 0)
    assert rig.model.stat_node("/dev/wmtWifi") == ("char", 155, 0)
    t = rig.text()
    assert "WMT Version= SOC Consys WMT Driver - v1.0 DATE=2013/01/20" in t
    assert "unknown field 'mt6620.defAnt'." in t
    assert "WLAN-GEN2 driver init, ret:0" in t
    assert "busy major" not in t
    d = Dev(rig.model, "/dev/wmtdetect")
    assert rig.model.ioctl(d.hid, n("COMBO_IOCTL_DO_MODULE_INIT"), 0x7623) == -errno.EBUSY
    assert rig.model.do_module_init_count == 2
    assert "busy major" in rig.text()


def test_combo_wifi_not_built(tmp_path: Path) -> None:
    """Without CONFIG_MTK_COMBO_WIFI there is no /dev/wmtWifi and the real line is logged."""
    r = Rig(tmp_path, faults=["combo-wifi-not-built"])
    r.loader()
    assert r.model.stat_node("/dev/stpwmt") is not None
    assert r.model.stat_node("/dev/wmtWifi") is None
    assert "do_wlan_drv_init:CONFIG_MTK_COMBO_WIFI is not defined" in r.text()


def test_detect_faults(tmp_path: Path) -> None:
    """no-detect hides the node; detect-regular-file makes it a file whose ioctls fail with ENOTTY."""
    assert DriverModel(clock=FakeClock(), faults=["no-detect"]).open("/dev/wmtdetect") == -errno.ENOENT
    m = DriverModel(clock=FakeClock(), faults=["detect-regular-file"], abi=ABI)
    assert m.stat_node("/dev/wmtdetect") == ("file", None, None)
    hid = m.open("/dev/wmtdetect")
    assert m.ioctl(hid, n("COMBO_IOCTL_GET_SOC_CHIP_ID")) == -errno.ENOTTY


# ---------------------------------------------------------------- /dev/stpwmt ioctls


def test_stpwmt_value_ioctls(rig: Rig) -> None:
    """QUERY_CHIPID, GET_CHIP_INFO 0/1/2, GET_APO_FLAG EINVAL, combo-only EINVAL, launcher kill."""
    d = Dev(rig.model, "/dev/wmtdetect")
    rig.model.ioctl(d.hid, n("COMBO_IOCTL_DO_MODULE_INIT"), 0x7623)
    w = Dev(rig.model, "/dev/stpwmt")
    assert "1st call" in rig.text()
    assert rig.model.ioctl(w.hid, n("WMT_IOCTL_WMT_QUERY_CHIPID")) == -1
    d.ioctl(n("COMBO_IOCTL_SET_CHIP_ID"), 0x7623)
    assert w.ioctl(n("WMT_IOCTL_WMT_QUERY_CHIPID")) == 0x7623
    assert [w.ioctl(n("WMT_IOCTL_GET_CHIP_INFO"), i) for i in (0, 1, 2)] == [0x7623, 0, 0]  # never powered
    for name in ("WMT_IOCTL_GET_APO_FLAG", "WMT_IOCTL_PORT_NAME", "WMT_IOCTL_WMT_TELL_CHIPID"):
        assert rig.model.ioctl(w.hid, n(name), 0) == -errno.EINVAL
    assert rig.model.ioctl(w.hid, ioctls.ioc(1, 0xA0, 99, 4), 0) == -errno.EINVAL
    assert rig.model.ioctl(w.hid, n("WMT_IOCTL_FW_DBGLOG_CTRL"), 0) == -errno.EPERM
    assert w.ioctl(n("WMT_IOCTL_SET_LAUNCHER_KILL"), 1) == 0
    assert "launcher may be killed,block abnormal stp tx." in rig.text()
    assert rig.model.launcher_connected() is False
    w.close()
    assert "last call" in rig.text()


def test_set_patch_info_bounds(rig: Rig) -> None:
    """SET_PATCH_INFO with seq 0 or seq > num is the kernel's unchecked write: logged, EFAULT."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    w.ioctl(n("WMT_IOCTL_SET_PATCH_NUM"), 2)
    info = n("WMT_IOCTL_SET_PATCH_INFO")
    assert rig.model.ioctl(w.hid, info, patch_info(0, b"\0\0\x0e\xf0", "/x")) == -errno.EFAULT
    assert rig.model.ioctl(w.hid, info, patch_info(3, b"\0\0\x0e\xf0", "/x")) == -errno.EFAULT
    assert "without a bounds check" in rig.text()
    assert rig.model.ioctl(w.hid, info, 1234) == -errno.EFAULT  # not a struct
    assert w.ioctl(info, patch_info(1, b"\0\0\x0e\xf0", "/x")) == 0


# ---------------------------------------------------------------- power-on and srh_patch


def test_power_without_stp_mode_no_hif_info(rig: Rig) -> None:
    """LPBK_POWER_CTRL(1) before SET_STP_MODE fails with EFAULT and "no hif info!"."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    assert rig.power(w) == -errno.EFAULT
    assert "[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!" in rig.text()
    assert rig.model.chip_powered is False


def test_power_on_with_launcher_downloads_patches(rig: Rig) -> None:
    """Power-on posts srh_patch, the launcher answers ok, both patches download, chip is powered."""
    w = rig.up()
    m = rig.model
    assert m.chip_powered and m.lpbk_power_on_count == 1 and m.srh_patch_count == 1
    assert [w.ioctl(n("WMT_IOCTL_GET_CHIP_INFO"), i) for i in (0, 1, 2)] == [0x7623, 0x8A00, 0x8A00]
    t = rig.text()
    assert "Read CONSYS chipId(0x00007623)" in t
    assert "Wmt Cannot find pinctrl default!" in t
    assert "[Patch]BuiltTime = 20151206145017a, HVer = 0x8a00, SVer = 0x8a00, PhVer = 0x00fe,Platform = ALPS" in t  # b27 | b26 (the driver ORs them)
    assert "patch dwn:0 frag(114, 52) ok" in t  # 113052 payload bytes in 1000-byte fragments, 52 in the last
    assert "patch dwn:0 frag(51, 268) ok" in t
    assert "OPID(3) type(4) ok" in t


def test_power_on_timing_accounted(rig: Rig) -> None:
    """The inherent delay of a power-on is the table's chip-id loop, power, STP init and fragments."""
    before = rig.model.inherent_delay_s
    rig.loader()
    after_loader = rig.model.inherent_delay_s
    assert after_loader - before == pytest.approx(REALISTIC["module_init"])
    w = rig.launcher()
    rig.power(w)
    frags = 51 + 114  # ceil(50268/1000) + ceil(113052/1000)
    expected = REALISTIC["core_init"] + 3 * REALISTIC["chipid_read"] + REALISTIC["consys_pwr_on"] \
        + REALISTIC["stp_init"] + frags * REALISTIC["patch_frag"]
    assert rig.model.inherent_delay_s - after_loader == pytest.approx(expected)


def test_stpwmt_open_waits_for_core_init(rig: Rig) -> None:
    """Opening /dev/stpwmt right after DO_MODULE_INIT waits for the core; later opens do not."""
    assert rig.model.open("/dev/stpwmt") == -errno.ENOENT  # before the loader: no node at all
    rig.loader()
    t0 = rig.clock.now()
    Dev(rig.model, "/dev/stpwmt")
    assert rig.clock.now() - t0 == pytest.approx(REALISTIC["core_init"])
    t1 = rig.clock.now()
    Dev(rig.model, "/dev/stpwmt")
    assert rig.clock.now() == t1


def test_fast_timing_divides_delays_by_20() -> None:
    """--timing fast divides every delay by 20; timeouts never drop below 1 s."""
    fast = Timing.named("fast")
    for k, v in REALISTIC.items():
        assert fast.delay(k) == pytest.approx(v / 20)
    assert fast.timeout("ul_cmd_reply") == 1.0


def test_power_on_without_launcher_times_out(rig: Rig) -> None:
    """Nobody answers srh_patch: "wait signal timeout" after 2 s, EFAULT, chip stays off."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    w.ioctl(n("WMT_IOCTL_SET_STP_MODE"), 0x23)
    t0 = rig.model.inherent_delay_s
    assert rig.power(w) == -errno.EFAULT
    assert "wait signal timeout" in rig.text()
    assert "wmt_ctrl_ul_cmd fail(-1)" in rig.text()
    assert rig.model.inherent_delay_s - t0 >= 2.0
    assert not rig.model.chip_powered


@pytest.mark.parametrize("reply,ok", [(b"OK", True), (b"ok\n", False), (b"ok\0", False), (b"resp_-1", False)])
def test_reply_compared_case_insensitively_whole_buffer(rig: Rig, reply: bytes, ok: bool) -> None:
    """Only exactly "ok" (any case) is success; anything else logs "warning resp str"."""
    rig.loader()
    w = rig.launcher()
    rig.reply = reply
    assert (rig.power(w) == 0) is ok
    assert ("warning resp str" in rig.text()) is (not ok)


def test_read_returns_pending_command_once(rig: Rig) -> None:
    """read() gives the pending command once, then 0 bytes; poll is false when nothing is pending."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    assert rig.model.read(w.hid) == b""
    assert rig.model.poll(w.hid, 0) is False
    seen: list[bytes] = []

    def once() -> None:
        if rig.model.poll(w.hid, 0) is True:
            seen.append(bytes(rig.model.read(w.hid)))
            seen.append(bytes(rig.model.read(w.hid)))

    rig.clock.hooks.append(once)
    w.ioctl(n("WMT_IOCTL_SET_STP_MODE"), 0x23)
    rig.power(w)  # read but never answered: the kernel retries the power-on (3 tries in all)
    assert seen == [b"srh_patch", b""] * 3


def _launch_with(rig: Rig, pdir: Path) -> tuple[int, str]:
    rig.loader()
    w = rig.launcher(pdir)
    return rig.power(w), rig.text()


def _power_naming_one_patch(rig: Rig, path: Path) -> int:
    """Power on with a launcher that answers srh_patch by naming ``path`` as the only patch."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    w.ioctl(n("WMT_IOCTL_SET_STP_MODE"), 0x23)

    def answer() -> None:
        if rig.model.poll(w.hid, 0) is True:
            rig.model.read(w.hid)
            w.ioctl(n("WMT_IOCTL_SET_PATCH_NUM"), 1)
            w.ioctl(n("WMT_IOCTL_SET_PATCH_INFO"), patch_info(1, b"\0\0\x0e\xf0", str(path)))
            w.write(b"ok")

    rig.clock.hooks.append(answer)
    return rig.power(w)


def test_patch_file_unreadable_after_listing(rig: Rig, tmp_path: Path) -> None:
    """A named patch file that vanished before download: "load file (...) fail", EFAULT."""
    assert _power_naming_one_patch(rig, tmp_path / "gone.bin") == -errno.EFAULT
    assert f"load file ({tmp_path / 'gone.bin'}) fail" in rig.text()


# ---------------------------------------------------------------- /dev/wmtWifi


def test_wifi_write_before_launcher_no_hif_info(rig: Rig) -> None:
    """echo A with no launcher ever run: "no hif info!" and EIO."""
    rig.loader()
    assert rig.wifi(b"A\n") == -errno.EIO
    assert "no hif info!" in rig.text()
    assert "WMT turn on WIFI fail!" in rig.text()


def test_wifi_write_chip_not_powered(rig: Rig) -> None:
    """STP mode set but the chip never powered: function on fails, EIO."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    w.ioctl(n("WMT_IOCTL_SET_STP_MODE"), 0x23)
    assert rig.wifi(b"1") == -errno.EIO
    assert "func(3) pwr_on fail(-1)" in rig.text()


def test_wifi_modes_and_interfaces(rig: Rig) -> None:
    """1 -> wlan0; A -> wlan0+ap0; A again is a no-op; S swaps ap0 for p2p0; 0 removes everything."""
    rig.up()
    assert rig.wifi(b"1\n") == 2
    assert rig.model.ifaces == {"wlan0": "sta"}
    assert "WMT turn on WIFI success!" in rig.text()
    assert rig.wifi(b"A\n") == 2
    assert set(rig.model.ifaces) == {"wlan0", "ap0"}
    assert "Set wlan mode 0 --> 1" in rig.text()
    assert rig.wifi(b"A") == 1
    assert "WIFI is already in mode 1!" in rig.text()
    assert rig.wifi(b"S") == 1
    assert set(rig.model.ifaces) == {"wlan0", "p2p0"}
    assert "Set wlan mode 1 --> 2" in rig.text()
    assert "Turn off p2p/ap mode" not in rig.text()
    assert rig.wifi(b"0") == 1
    assert "Turn off p2p/ap mode" in rig.text()
    assert rig.model.ifaces == {} and rig.model.wifi_mode == "off"
    assert "WMT turn off WIFI OK!" in rig.text()
    assert rig.wifi(b"0") == 1
    assert "WIFI is already power off!" in rig.text()


def test_wifi_debug_level_bug_and_unknown(rig: Rig) -> None:
    """D2 sets the level but still returns EIO (driver bug); unknown characters give EIO."""
    rig.up()
    assert rig.wifi(b"D2") == -errno.EIO
    assert rig.model.wlan_dbg_level == 2
    assert rig.wifi(b"x") == -errno.EIO


def test_wifi_mtk_names(tmp_path: Path) -> None:
    """--names mtk gives mtkwlan0 / mtkap0."""
    r = Rig(tmp_path, names="mtk")
    r.up()
    assert r.wifi(b"A") == 1
    assert set(r.model.ifaces) == {"mtkwlan0", "mtkap0"}


def test_wlan_gen2_module_needs_load(tmp_path: Path) -> None:
    """wlan_gen2 as a module: A fails "Set p2p mode handler is NULL" until the module is loaded."""
    r = Rig(tmp_path, faults=["wlan-gen2-module"])
    r.up()
    assert r.wifi(b"A") == -errno.EIO
    assert "Set p2p mode handler is NULL" in r.text()
    assert r.model.load_module("wlan_gen2") == 0
    assert r.wifi(b"0") == 1
    assert r.wifi(b"A") == 1
    assert set(r.model.ifaces) == {"wlan0", "ap0"}


def test_wlan0_renamed(tmp_path: Path) -> None:
    """wlan0 renamed: ten "Fail to get wlan0 net device" lines, then timeout and EIO after 3 s."""
    r = Rig(tmp_path, faults=["wlan0-renamed"])
    r.up()
    t0 = r.model.inherent_delay_s
    assert r.wifi(b"A") == -errno.EIO
    t = r.text()
    assert t.count("Fail to get wlan0 net device, sleep 300ms") == 10
    assert "Get wlan0 net device timeout" in t
    assert r.model.inherent_delay_s - t0 >= 3.0
    assert [k for k in r.model.ifaces] == ["wlx" + r.model.mac.replace(":", "")]


def test_wifi_ram_code_missing(tmp_path: Path) -> None:
    """Without WIFI_RAM_CODE_7623 wlanProbe fails: EIO and no netdev."""
    r = Rig(tmp_path, faults=["wifi-ram-code-missing"])
    r.up()
    assert r.wifi(b"1") == -errno.EIO
    assert "kalFirmwareImageMapping fail!" in r.text()
    assert r.model.ifaces == {}


def test_firmware_dir_without_ram_code(tmp_path: Path) -> None:
    """--firmware-dir lacking WIFI_RAM_CODE_7623 fails the same way without any fault."""
    fw = tmp_path / "fwdir"
    fw.mkdir()
    r = Rig(tmp_path, firmware_dir=str(fw))
    r.up()
    assert r.wifi(b"A") == -errno.EIO
    assert "Open FW image: WIFI_RAM_CODE_7623 failed" in r.text()


def test_btif_dead_times_out(tmp_path: Path) -> None:
    """btif-dead: WiFi on blocks for the 4 s op wait then fails with EIO."""
    r = Rig(tmp_path, faults=["btif-dead"])
    r.up()
    t0 = r.model.inherent_delay_s
    assert r.wifi(b"A") == -errno.EIO
    assert "wait completion timeout" in r.text()
    assert r.model.inherent_delay_s - t0 >= 4.0


# ---------------------------------------------------------------- reset, stall, Bluetooth, net


def test_chip_reset_with_launcher_restores_ap(rig: Rig) -> None:
    """A chip reset re-issues srh_patch; the launcher answers and the AP comes back."""
    rig.up()
    rig.wifi(b"A")
    assert rig.model.inject("chip-reset") == "chip reset done"
    assert rig.model.srh_patch_count == 2
    assert rig.model.wifi_mode == "ap" and "ap0" in rig.model.ifaces


def test_chip_reset_without_launcher_fails(rig: Rig) -> None:
    """A chip reset with no launcher answering: "wait signal timeout", reset fails, WiFi off."""
    rig.up()
    rig.wifi(b"A")
    rig.clock.hooks.clear()  # the launcher died
    assert "failed" in rig.model.inject("chip-reset")
    assert "wait signal timeout" in rig.text()
    assert rig.model.wifi_mode == "off" and rig.model.ifaces == {}
    assert not rig.model.chip_powered


def test_txq_stall_and_recovery(rig: Rig) -> None:
    """txq-stall logs netif_stop_subqueue without wake; clear-stall wakes; WiFi off also clears."""
    rig.up()
    with pytest.raises(ValueError):
        rig.model.inject("txq-stall")  # no AP yet
    rig.wifi(b"A")
    rig.model.inject("txq-stall")
    assert "p2pHardStartXmit:(TX INFO)netif_stop_subqueue for p2p0, Queue len: 256" in rig.text()
    assert rig.model.stalled
    rig.model.inject("clear-stall")
    assert "netif_wake_subqueue" in rig.text() and not rig.model.stalled
    rig.model.inject("txq-stall")
    rig.wifi(b"0")
    assert not rig.model.stalled


def test_bt_module_needs_powered_chip(rig: Rig) -> None:
    """stp_chrdev_bt before power-on: "STP is not ready"; after: /dev/stpbt and hci0."""
    rig.loader()
    assert rig.model.load_module("stp_chrdev_bt") == -errno.ENODEV
    assert "STP is not ready" in rig.text()
    w = rig.launcher()
    rig.power(w)
    assert rig.model.load_module("stp_chrdev_bt") == 0
    assert rig.model.stat_node("/dev/stpbt") == ("char", 192, 0)
    assert rig.model.hci == ["hci0"] and rig.model.bd_addr.startswith("00:0c:e7:")
    bt = Dev(rig.model, "/dev/stpbt")
    assert "WMT turn on BT OK!" in rig.text()
    assert bt.ioctl(n("COMBO_IOC_BT_IC_HW_VER")) == 0x8A00
    assert bt.write(b"\x01\x03\x0c\x00") == 4  # HCI Reset
    assert rig.model.read(bt.hid) == b"\x04\x0e\x04\x01\x03\x0c\x00"
    assert rig.model.load_module("no_such_module") == -errno.ENOENT


class FakeNet:
    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.macs: dict[str, str] = {}
        self.stalls: list[tuple[str, bool]] = []

    def sync(self, interfaces: dict[str, str], macs: dict[str, str]) -> None:
        self.calls.append(dict(interfaces))
        self.macs.update(macs)

    def set_stall(self, ifname: str, stalled: bool) -> None:
        self.stalls.append((ifname, stalled))


def test_net_hook_follows_modes(tmp_path: Path) -> None:
    """The network hook sees wlan0 then wlan0+ap0 with 02:08:22 on the AP, then nothing."""
    net = FakeNet()
    r = Rig(tmp_path, net=net)
    r.up()
    r.wifi(b"A")
    assert net.calls[-1] == {"wlan0": "sta", "ap0": "ap"}
    assert net.macs["ap0"].startswith("02:08:22:") and net.macs["wlan0"].startswith("00:08:22:")
    r.model.inject("txq-stall")
    assert net.stalls == [("ap0", True)]
    r.wifi(b"0")
    assert net.calls[-1] == {}


def test_nvram_mac_used(tmp_path: Path) -> None:
    """A firmware dir with nvram/WIFI gives the chip its NVRAM MAC."""
    fw = good_firmware(tmp_path / "fw")
    (fw / "nvram").mkdir()
    (fw / "nvram" / "WIFI").write_bytes(b"\x04\x01\0\0" + bytes.fromhex("000822aabbcc") + b"\0" * 100)
    m = DriverModel(clock=FakeClock(), firmware_dir=str(fw))
    assert m.mac == "00:08:22:aa:bb:cc"


def _fuzz_model() -> tuple[DriverModel, dict[str, int]]:
    m = DriverModel(timing=Timing.named("zero"), clock=FakeClock(), abi=ABI)
    d = m.open("/dev/wmtdetect")
    m.ioctl(d, n("COMBO_IOCTL_DO_MODULE_INIT"), 0x7623)
    return m, {p: m.open(p) for p in ("/dev/wmtdetect", "/dev/stpwmt", "/dev/wmtWifi")}


_FUZZ_REQUESTS = st.one_of(st.integers(0, 0xFFFFFFFF), st.sampled_from([io.number(ABI) for io in ioctls.TABLE]))


@settings(max_examples=150, deadline=None)
@given(reqs=st.lists(st.tuples(st.sampled_from(["/dev/wmtdetect", "/dev/stpwmt", "/dev/wmtWifi"]),
                               _FUZZ_REQUESTS, st.one_of(st.integers(-(2**31), 2**31 - 1),
                                                         st.binary(max_size=300))), max_size=12))
def test_fuzzed_ioctls_always_answer_like_a_kernel(reqs: list[tuple[str, int, int | bytes]]) -> None:
    """Any request number and argument on any node gives an int return, never an exception."""
    m, h = _fuzz_model()
    for path, req, arg in reqs:
        ret = m.ioctl(h[path], req, arg)
        assert isinstance(ret, int)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=0, max_size=16))
def test_fuzzed_wifi_writes_are_len_or_eio(data: bytes) -> None:
    """Any write to /dev/wmtWifi returns its length or -EIO, like the driver."""
    m, h = _fuzz_model()
    ret = m.write(h["/dev/wmtWifi"], data)
    assert ret == len(data) or ret == -errno.EIO
