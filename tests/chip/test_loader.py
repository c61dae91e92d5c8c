"""The loader (`chip init`) against a fake driver, and `chip ioctls`."""

from __future__ import annotations

import json

import pytest

from r2wifi.errors import UserError
from r2wifi.wmt.loader import Loader

from .chip_fakes import FakeBackend, FakeClock, FakeDriver


def make(drv: FakeDriver | None = None, timeout: float = 10.0) -> tuple[Loader, FakeBackend, FakeClock]:
    be = FakeBackend(drv)
    clk = FakeClock()
    return Loader(be, timeout=timeout, clock=clk, sleep=clk.sleep), be, clk


def test_loader_sequence_and_benign_eperm():
    """GET_SOC_CHIP_ID -> SET_CHIP_ID(0x7623) -> DO_MODULE_INIT(0x7623); its -1 is explained, not a failure."""
    ld, be, _clk = make()
    res = ld.run()
    assert [c for c in be.drv.calls] == [("COMBO_IOCTL_GET_SOC_CHIP_ID", 0), ("COMBO_IOCTL_SET_CHIP_ID", 0x7623),
                                         ("COMBO_IOCTL_DO_MODULE_INIT", 0x7623)]
    assert res.chip_id == 0x7623 and res.module_init == -1 and not res.skipped
    assert any("EPERM" in n and "normal on the BPI-R2" in n for n in res.notes)
    assert res.nodes["/dev/stpwmt"] is not None and res.nodes["/dev/wmtWifi"] is not None
    assert all(h.closed for h in be.opened)


def test_loader_runs_once_per_boot():
    """A second run sees /dev/stpwmt and skips: DO_MODULE_INIT is called exactly once."""
    ld, be, _clk = make()
    ld.run()
    res = ld.run()
    assert res.skipped and be.drv.module_init_calls == 1
    assert "already ran this boot" in res.notes[0]


def test_missing_wmtdetect_waits_then_names_the_cause():
    """No /dev/wmtdetect: retried every 300 ms up to the timeout, then an error about the driver / device tree."""
    ld, _be, clk = make(FakeDriver(nodes={}), timeout=3.0)
    with pytest.raises(UserError, match=r"wmtdetect is missing.*consys@18070000 is disabled in the device tree"):
        ld.run()
    assert clk.sleeps and set(clk.sleeps) == {0.3}
    assert 2.7 <= sum(clk.sleeps) <= 3.0


def test_wmtdetect_appearing_late_is_waited_for():
    """The detect node appearing after a few retries is opened and the init proceeds."""
    drv = FakeDriver(nodes={})
    ld, _be, clk = make(drv)

    def sleep(s: float) -> None:
        clk.sleep(s)
        if len(clk.sleeps) == 3:
            drv.nodes["/dev/wmtdetect"] = "char"

    ld.sleep = sleep
    assert ld.run().chip_id == 0x7623
    assert len(clk.sleeps) == 3


def test_regular_file_at_wmtdetect_is_explained_at_once():
    """/dev/wmtdetect as a regular file: immediate error telling to remove it and reboot."""
    ld, _be, clk = make(FakeDriver(nodes={"/dev/wmtdetect": "file"}))
    with pytest.raises(UserError, match="regular file.*remove it.*reboot"):
        ld.run()
    assert clk.sleeps == []


def test_wmtwifi_never_appearing_means_combo_wifi_not_built():
    """DO_MODULE_INIT creates /dev/stpwmt but not /dev/wmtWifi: CONFIG_MTK_COMBO_WIFI is named."""
    ld, _be, _clk = make(FakeDriver(module_init_creates_wifi=False))
    with pytest.raises(UserError, match="CONFIG_MTK_COMBO_WIFI"):
        ld.run()
    # and re-running (skip path) still says so instead of claiming success
    with pytest.raises(UserError, match="CONFIG_MTK_COMBO_WIFI"):
        ld.run()


def test_ioctl_numbers_follow_the_backend_abi():
    """An arm64 backend gets the same ioctls (decoded by the fake with the arm64 table)."""
    be = FakeBackend(abi="arm64")
    clk = FakeClock()
    Loader(be, clock=clk, sleep=clk.sleep).run()
    assert be.drv.module_init_calls == 1


def test_chip_ioctls_cli_table_and_json(run_cli):
    """`chip ioctls` prints armhf numbers; --abi arm64 --json gives the 8-byte pointer encodings; bad ABI exits 2."""
    r = run_cli("chip", "ioctls")
    assert r.returncode == 0
    assert "WMT_IOCTL_SET_PATCH_INFO" in r.stdout and "0x4004A00F" in r.stdout
    r = run_cli("chip", "ioctls", "--abi", "arm64", "--json")
    rows = {row["name"]: row for row in json.loads(r.stdout)["ioctls"]}
    assert rows["WMT_IOCTL_SET_PATCH_INFO"]["number"] == "0x4008A00F"
    assert rows["COMBO_IOCTL_GET_SOC_CHIP_ID"]["signed"] == -2147191037
    r = run_cli("chip", "ioctls", "--abi", "mips")
    assert r.returncode == 2 and r.stderr.startswith("r2wifi: error: unknown ABI 'mips'")


def test_regular_file_at_wmtwifi_is_named_not_blamed_on_kconfig():
    """An early 'echo A > /dev/wmtWifi' left a regular file: init names it and the fix, before any ioctl."""
    from r2wifi.wmt.wifi import WifiControl

    drv = FakeDriver(nodes={"/dev/wmtdetect": "char", "/dev/wmtWifi": "file"})
    ld, be, _clk = make(drv)
    with pytest.raises(UserError, match=r"/dev/wmtWifi is a regular file.*rm /dev/wmtWifi"):
        ld.run()
    assert be.drv.calls == []
    with pytest.raises(UserError, match="/dev/wmtWifi is a regular file"):
        WifiControl(be).set_mode("ap")
