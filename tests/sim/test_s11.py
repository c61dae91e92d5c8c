"""The driver behaviours of driver-interface.md §11 (second reading), on the model with a fake clock.

Each test fails on the simulator before §11 was modelled (power states, the 4 s WiFi op wait, the
second-DO_MODULE_INIT lock-out, unvalidated patch download, the command bit, power-on retries, OPID
semantics, the log lines and their levels).
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from r2wifi.sim.model import DriverModel
from r2wifi.wmt import driver

from .helpers import make_patch, srh_patch_answer
from .test_model import ABI, Dev, Rig, _power_naming_one_patch, n


def lines(rig: Rig, needle: str) -> list[tuple[int, str]]:
    return [(p, m) for p, _u, m in rig.log if needle in m]


def count(rig: Rig, needle: str) -> int:
    return len(lines(rig, needle))


def mark(rig: Rig) -> int:
    return len(rig.log)


def since(rig: Rig, at: int) -> str:
    return "\n".join(m for _p, _u, m in rig.log[at:])


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


# ---------------------------------------------------------------- power states


def test_s11_second_lpbk_on_is_func_already_on_and_resets_nothing(rig: Rig) -> None:
    """A second launcher's LPBK(1) on a powered chip: "func(4) already on", no srh_patch, no download."""
    w = rig.up()
    at = mark(rig)
    assert rig.power(w) == 0
    t = since(rig, at)
    assert "func(4) already on" in t
    assert "patch dwn" not in t and rig.model.srh_patch_count == 1


def test_s11_lpbk_off_keeps_chip_while_wifi_is_on(rig: Rig) -> None:
    """LPBK(0) clears only the LPBK function: WiFi still on, so the chip stays powered."""
    w = rig.up()
    assert rig.wifi(b"1") == 1
    assert rig.model.ioctl(w.hid, n("WMT_IOCTL_LPBK_POWER_CTRL"), 0) == 0
    assert rig.model.chip_powered is True and rig.model.ifaces == {"wlan0": "sta"}
    assert "HW_PWR_OFF ok" not in rig.text()


def test_s11_power_cycle_wifi_off_lpbk_off_on_downloads_patches_again(rig: Rig) -> None:
    """WiFi 0, LPBK(0) (last function: power-down), LPBK(1): full power-on, srh_patch, patches again."""
    w = rig.up()
    assert rig.wifi(b"A") == 1
    assert rig.wifi(b"0") == 1
    assert rig.model.chip_powered is True  # LPBK still on
    assert rig.model.ioctl(w.hid, n("WMT_IOCTL_LPBK_POWER_CTRL"), 0) == 0
    assert rig.model.chip_powered is False and "HW_PWR_OFF ok" in rig.text()
    at = mark(rig)
    assert rig.power(w) == 0
    assert rig.model.srh_patch_count == 2 and rig.model.chip_powered
    assert since(rig, at).count("patch dwn:0 frag(") == 2


def test_s11_after_reset_wifi_0_powers_down_and_1_does_full_power_on(rig: Rig) -> None:
    """A kernel reset marks LPBK off: WiFi 0 then powers the chip down; 1 powers it with srh_patch."""
    rig.up()
    assert rig.wifi(b"A") == 1
    assert rig.model.chip_reset() is True
    t = rig.text()
    assert "Set wlan mode 1" in t and "Set wlan mode 1 -->" not in t.split("Whole chip reset start!")[1]
    assert set(rig.model.ifaces) == {"wlan0", "ap0"}
    assert rig.model.status()["functions"] == {"bt": False, "wifi": True, "lpbk": False}
    assert rig.wifi(b"0") == 1
    assert rig.model.chip_powered is False and rig.model.ifaces == {}
    posts = rig.model.srh_patch_count
    assert rig.wifi(b"1") == 1
    assert rig.model.srh_patch_count == posts + 1 and rig.model.chip_powered
    assert rig.model.ifaces == {"wlan0": "sta"}


def test_s11_wifi_on_over_the_4s_op_wait_is_eio_then_retry_succeeds(rig: Rig) -> None:
    """Full power-on inside WiFi on taking > 4 s: "wait completion timeout", EIO; it still finishes."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    w.ioctl(n("WMT_IOCTL_SET_STP_MODE"), 0x23)
    posts: list[int] = []

    def slow_launcher() -> None:  # reads every post, answers only the second one (the first times out)
        if rig.model.poll(w.hid, 0) is True:
            rig.model.read(w.hid)
            posts.append(1)
            if len(posts) >= 2:
                w.write(srh_patch_answer(w, rig.fw, ABI))

    rig.clock.hooks.append(slow_launcher)
    assert rig.wifi(b"1") == -errno.EIO
    t = rig.text()
    assert "wait completion timeout, opId(3), show wmtd_thread stack!" in t
    assert "OPID(3) type(3) fail" in t
    # the timeout lines come at the 4 s mark (2 s reply timeout + retry + download + WiFi on), before the end
    assert t.index("patch dwn:0") < t.index("wait completion timeout") < t.index("firmware size")
    assert t.count("WMT turn on WIFI fail!") == 1
    assert rig.model.chip_powered and rig.model.ifaces == {"wlan0": "sta"}  # the op went on
    assert rig.wifi(b"1") == 1  # a retry finds the function on
    assert "func(3) already on" in rig.text()
    assert rig.text().endswith("WMT turn on WIFI success!")


# ---------------------------------------------------------------- DO_MODULE_INIT twice


def test_s11_second_module_init_locks_out_stpwmt_until_reboot(rig: Rig) -> None:
    """A second DO_MODULE_INIT: -EBUSY, abort line; every later /dev/stpwmt open waits 2 s, EIO."""
    w = rig.up()
    d = Dev(rig.model, "/dev/wmtdetect")
    at = mark(rig)
    assert rig.model.ioctl(d.hid, n("COMBO_IOCTL_DO_MODULE_INIT"), 0x7623) == -errno.EBUSY
    t = since(rig, at)
    assert "do common driver init failed, ret:-16" in t
    assert "abort connectivity driver init, because common part is not ready" in t
    assert "start to do wlan module init" not in t
    for _ in range(2):
        before = rig.clock.t
        assert rig.model.open("/dev/stpwmt", pid=7) == -errno.EIO
        assert rig.clock.t - before == pytest.approx(driver.STPWMT_OPEN_WAIT_S)
    assert count(rig, "wait_event_timeout (2000)ms") == 2
    assert w.ioctl(n("WMT_IOCTL_WMT_QUERY_CHIPID")) == 0x7623  # an fd opened before still works
    assert rig.model.status()["stpwmt_locked_out"] is True


# ---------------------------------------------------------------- patches


@pytest.mark.parametrize("kw", [
    {"platform": b"ANDR"}, {"count": 3}, {"seq": 2}, {"fw": 0x8A01}, {"size": 20},
], ids=["platform", "count", "seq", "fw-version", "shorter-than-header"])
def test_s11_patch_download_does_not_validate_the_header(rig: Rig, tmp_path: Path, kw: dict[str, object]) -> None:
    """The kernel downloads whatever follows the 28-byte header: a wrong header still powers the chip."""
    path = tmp_path / "ROMv2_lm_patch_x.bin"
    args: dict[str, object] = {"count": 1, "seq": 1, "addr": b"\x00\x0e\xf0", "size": 5028}
    args.update(kw)
    if args["size"] == 20:
        path.write_bytes(b"2015\0" + b"\0" * 15)
    else:
        make_patch(path, **args)  # type: ignore[arg-type]
    assert _power_naming_one_patch(rig, path) == 0
    assert rig.model.status()["patched"] is True
    expect = "frag(0, 0) ok" if args["size"] == 20 else "patch dwn:0 frag(5, 1000) ok"
    assert expect in rig.text()
    assert "patch dwn fail" not in rig.text()


def test_s11_srh_patch_ok_without_patch_num_powers_unpatched(rig: Rig, tmp_path: Path) -> None:
    """srh_patch answered ok without SET_PATCH_NUM: the first power-on continues unpatched."""
    empty = tmp_path / "empty"
    empty.mkdir()
    rig.loader()
    w = rig.launcher(empty)
    assert rig.power(w) == 0
    st = rig.model.status()
    assert st["chip_powered"] is True and st["patched"] is False
    t = rig.text()
    assert "patch dwn" not in t and "patch info perpare fail" not in t and "[Patch]BuiltTime" not in t


def test_s11_patch_info_prepare_fail_only_when_srh_patch_fails(rig: Rig) -> None:
    """"patch info perpare fail" follows a failed srh_patch (a non-ok answer), not a missing patch."""
    rig.loader()
    w = rig.launcher()
    rig.reply = b"resp_-1"
    assert rig.power(w) == -errno.EFAULT
    assert count(rig, "patch info perpare fail(-1)") == driver.KERNEL_POWER_ON_TRIES
    assert count(rig, "warning resp str (resp_-1)") == driver.KERNEL_POWER_ON_TRIES


def test_s11_patch_header_line_once_build_time_cut_at_15_chars(rig: Rig, tmp_path: Path) -> None:
    """[Patch]BuiltTime once per power-on at [I]; the build time is cut at 15 characters."""
    rig.up()
    hits = lines(rig, "[Patch]BuiltTime = ")
    assert len(hits) == 1 and hits[0][0] == 6
    assert "[Patch]BuiltTime = 20151206145017a, HVer" in hits[0][1]  # the file has "...017a\0" at 15
    assert all(p == 4 for p, _m in lines(rig, "patch dwn:0 frag("))  # WMT_WARN_FUNC


def test_s11_patch_header_with_newline_stays_one_kmsg_record(rig: Rig, tmp_path: Path) -> None:
    """A real header's build time "20151206145017a\\n" and an embedded newline: escaped like /dev/kmsg."""
    pdir = tmp_path / "nl"
    pdir.mkdir()
    make_patch(pdir / "ROMv2_lm_patch_1_1_hdr.bin", count=1, seq=1, addr=b"\x00\x0e\xf0", size=2028,
               built=b"2015\n206145017a\n")
    rig.loader()
    w = rig.launcher(pdir)
    assert rig.power(w) == 0
    (hit,) = lines(rig, "[Patch]BuiltTime = ")
    assert "[Patch]BuiltTime = 2015\\x0a206145017a, HVer" in hit[1]
    assert all("\n" not in m for _p, _u, m in rig.log)


# ---------------------------------------------------------------- the command channel


def test_s11_unread_command_keeps_buffer_occupied_and_pollin(rig: Rig) -> None:
    """Nobody reads srh_patch: one post times out, the retries find "cmd buf is occupied", poll stays IN."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    w.ioctl(n("WMT_IOCTL_SET_STP_MODE"), 0x23)
    assert rig.power(w) == -errno.EFAULT
    assert rig.model.srh_patch_count == 1
    assert count(rig, "wait signal timeout") == 1
    assert count(rig, "cmd buf is occupied by (srh_patch)") == driver.KERNEL_POWER_ON_TRIES - 1
    assert count(rig, "OPID(3) type(4) fail") == 1
    assert rig.model.poll(w.hid, 0) is True and rig.model.poll(w.hid, 0) is True
    assert rig.model.read(w.hid) == b"srh_patch"
    assert rig.model.poll(w.hid, 0) is False and rig.model.read(w.hid) == b""


def test_s11_power_on_posts_srh_patch_up_to_three_times(rig: Rig) -> None:
    """A launcher that reads but never answers: one LPBK(1) posts srh_patch 3 times (3 x 2 s)."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    w.ioctl(n("WMT_IOCTL_SET_STP_MODE"), 0x23)

    def reader() -> None:
        if rig.model.poll(w.hid, 0) is True:
            rig.model.read(w.hid)

    rig.clock.hooks.append(reader)
    before = rig.clock.t
    assert rig.power(w) == -errno.EFAULT
    assert rig.model.srh_patch_count == driver.KERNEL_POWER_ON_TRIES == 3
    assert count(rig, "wait signal timeout") == 3
    assert count(rig, "wmt_core_stp_init fail (-2)") == 3
    assert rig.clock.t - before >= 3 * driver.UL_CMD_REPLY_S


# ---------------------------------------------------------------- OPID and log lines


def test_s11_opid_is_op_and_driver_type_not_a_sequence(rig: Rig) -> None:
    """OPID(op) type(driver): FUNC_ON=3/FUNC_OFF=4, WIFI=3/LPBK=4; the same op logs the same numbers."""
    w = rig.up()
    assert rig.wifi(b"1") == 1
    assert rig.wifi(b"0") == 1
    rig.power(w)
    t = rig.text()
    assert t.count("OPID(3) type(4) start") == 2  # two LPBK power-ons, same OPID
    assert "OPID(3) type(3) ok" in t and "OPID(4) type(3) ok" in t
    assert all(m.startswith("[WMT-EXP]") for _p, m in lines(rig, "OPID("))


def test_s11_stp_mode_lines_levels_and_bad_modes(rig: Rig) -> None:
    """0x23 -> "new hifType: 2, fm:2" at [W], "HIF info added" at [E]; again: "overwrite!"; bad modes."""
    rig.loader()
    w = Dev(rig.model, "/dev/stpwmt")
    set_mode = n("WMT_IOCTL_SET_STP_MODE")
    assert w.ioctl(set_mode, 0x23) == 0
    assert lines(rig, "new hifType: 2, fm:2")[0][0] == 4
    (added,) = lines(rig, "WMT HIF info added")
    assert added[0] == 3 and "[WMT-CORE][E]" in added[1]
    assert w.ioctl(set_mode, 0x23) == 0
    (over,) = lines(rig, "WMT HIF already exist. overwrite!")
    assert over[0] == 3
    assert rig.model.ioctl(w.hid, set_mode, 0x25) == -1  # STP mode 5
    assert rig.model.ioctl(w.hid, set_mode, 0x73) == -2  # FM mode 7


def test_s11_wmt_open_logs_every_open_and_a_separate_first_call(rig: Rig) -> None:
    """WMT_open: "major 190 minor 0 (pid N)" on every open, "1st call" as its own line once."""
    rig.loader()
    a = Dev(rig.model, "/dev/stpwmt")
    b = Dev(rig.model, "/dev/stpwmt")
    assert count(rig, "WMT_open:major 190 minor 0 (pid 4242)") == 2
    assert [m for _p, m in lines(rig, "1st call")] == ["[WMT-DEV][I]WMT_open:1st call"]
    b.close()
    assert "last call" not in rig.text()
    a.close()
    assert count(rig, "WMT_close:last call") == 1


def test_s11_wmtwifi_zero_in_sta_runs_p2p_off_and_debug_logs_only_write(rig: Rig) -> None:
    """'0' in STA mode logs "Turn off p2p/ap mode"; D<n> logs only "WIFI_write D<n>" and is EIO."""
    rig.up()
    assert rig.wifi(b"1") == 1
    at = mark(rig)
    assert rig.wifi(b"D3") == -errno.EIO
    assert since(rig, at) == "[MTK-WIFI] WIFI_write: WIFI_write D3"
    assert rig.wifi(b"0") == 1
    assert "Turn off p2p/ap mode" in rig.text()


def test_s11_chip_info_selectors_and_absent_ioctls(rig: Rig) -> None:
    """GET_CHIP_INFO selectors other than 0/1/2 return 0; GET_APO_FLAG etc. are "unknown cmd", EINVAL."""
    w = rig.up()
    assert w.ioctl(n("WMT_IOCTL_GET_CHIP_INFO"), 7) == 0
    for name in ("WMT_IOCTL_GET_APO_FLAG", "WMT_IOCTL_PORT_NAME", "WMT_IOCTL_WMT_CFG_NAME",
                 "WMT_IOCTL_WMT_TELL_CHIPID"):
        arg: int | bytes = b"\0" * 8 if name in ("WMT_IOCTL_PORT_NAME", "WMT_IOCTL_WMT_CFG_NAME") else 0
        assert rig.model.ioctl(w.hid, n(name), arg) == -errno.EINVAL
    assert f"unknown cmd ({n('WMT_IOCTL_GET_APO_FLAG') - (1 << 32)})" in rig.text()


def test_s11_default_error_level_shows_only_e_lines_of_the_wmt_core(tmp_path: Path) -> None:
    """wmt_debug=err (frank-w's gWmtDbgLvl): WMT core [I]/[W] lines vanish, [E] and other tags stay."""
    rig = Rig(tmp_path, wmt_debug="err")
    rig.up()
    t = rig.text()
    assert "WMT HIF info added" in t  # [E]
    assert "OPID(" not in t and "patch dwn:" not in t and "new hifType" not in t  # [I]/[W]
    assert "driver(major 154) installed success" in t  # [WMT-DETECT] is plain printk
    assert all("][I]" not in m and "][W]" not in m for _p, _u, m in rig.log if m.startswith("[WMT-") and
               not m.startswith(("[WMT-DETECT]", "[WMT-MOD-INIT]")))


def test_s11_lines_come_from_the_catalog() -> None:
    """Every line the simulator prints renders a catalogue entry (no line literals in r2wifi/sim)."""
    from r2wifi.logs.catalog import wmt

    seen: list[str] = []
    m = DriverModel(sink=lambda _p, _u, msg: seen.append(msg), wmt_debug="all")
    hid = m.open("/dev/wmtdetect")
    m.ioctl(hid, n("COMBO_IOCTL_DO_MODULE_INIT"), 0x7623, ABI)
    assert seen and all(wmt.classify(msg) is not None for msg in seen), [s for s in seen if not wmt.classify(s)]


def test_s11_whole_chip_reset_tries_ten_times_each_posting_srh_patch(rig: Rig) -> None:
    """wmt_lib_cmb_rst: up to 10 reset tries, each posting srh_patch; none answered -> reset fails, WiFi off."""
    w = rig.up()
    assert rig.wifi(b"A") == 1
    posts = rig.model.srh_patch_count
    rig.clock.hooks.clear()

    def reader() -> None:  # a launcher that reads but never answers
        if rig.model.poll(w.hid, 0) is True:
            rig.model.read(w.hid)

    rig.clock.hooks.append(reader)
    assert rig.model.chip_reset() is False
    assert rig.model.srh_patch_count - posts == driver.KERNEL_RESET_TRIES
    assert "chip reset fail" in rig.text()
    assert rig.model.chip_powered is False and rig.model.ifaces == {}
    assert rig.model.status()["functions"] == {"bt": False, "wifi": False, "lpbk": False}
