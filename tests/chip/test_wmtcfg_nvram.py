"""WMT_SOC.cfg parsing/validation and the NVRAM MAC (`r2wifi firmware mac`)."""

from __future__ import annotations

from r2wifi.wmt import nvram, wmtcfg
from r2wifi.wmt.fwgen import SHIPPED_WMT_SOC_CFG, nvram_image


def test_shipped_defant_lines_are_reported_harmless():
    """The vendor file's three mtXXXX.defAnt lines give one 'harmless' note and no warning or error."""
    cfg = wmtcfg.parse(SHIPPED_WMT_SOC_CFG.decode())
    assert cfg.entries == []
    assert [f.level for f in cfg.findings] == ["ok"]
    assert "3 mtXXXX.defAnt" in cfg.findings[0].message and "harmless" in cfg.findings[0].message


def test_values_decimal_hex_crlf_and_whitespace():
    """CR, LF and CRLF all separate lines; spaces/tabs are trimmed; 0x hex and decimal both parse."""
    text = "coex_wmt_ant_mode = 1\r\n\tco_clock_flag=0x11\rcoex_ext_pta_sample_t1=0x1234\npwr_on_rtc_slot=\t7 "
    cfg = wmtcfg.parse(text)
    vals = cfg.values()
    assert (vals["coex_wmt_ant_mode"], vals["co_clock_flag"], vals["coex_ext_pta_sample_t1"], vals["pwr_on_rtc_slot"]) \
        == (1, 0x11, 0x1234, 7)
    assert vals["coex_bt_pwr_high"] == 0
    assert cfg.co_clock is True
    assert cfg.findings == []


def test_bad_values_and_unknown_keys():
    """Out-of-range, non-numeric values are errors; a misspelt key is a warning naming the line."""
    cfg = wmtcfg.parse("coex_wmt_ant_mode=0x100\nco_clock_flag=yes\ncoex_wmt_ant_mod=1\njunk")
    msgs = [(f.level, f.message) for f in cfg.findings]
    assert ("error", "line 1: coex_wmt_ant_mode = 0x100 exceeds 0xff") in msgs
    assert any(lvl == "error" and "line 2" in m and "not a decimal" in m for lvl, m in msgs)
    assert any(lvl == "warn" and "unknown key 'coex_wmt_ant_mod'" in m for lvl, m in msgs)
    assert any(lvl == "warn" and "line 4" in m for lvl, m in msgs)
    assert cfg.entries == []


def test_nvram_mac_read_write_keeps_the_rest(tmp_path):
    """Writing a MAC changes only bytes 4..9, keeps a backup and reads back."""
    path = tmp_path / "WIFI"
    orig = nvram_image()
    path.write_bytes(orig)
    assert nvram.read_mac(path) is None
    backup = nvram.write_mac(path, "02:08:22:AB:cd:01")
    new = path.read_bytes()
    assert new[:4] == orig[:4] and new[10:] == orig[10:] and len(new) == 514
    assert nvram.read_mac(path) == "02:08:22:ab:cd:01"
    assert backup is not None and backup.read_bytes() == orig


def test_stable_mac_is_deterministic_and_locally_administered():
    """The same seed gives the same 02:08:22 MAC; another seed another one."""
    a = nvram.stable_mac(b"machine-a")
    assert a == nvram.stable_mac(b"machine-a") != nvram.stable_mac(b"machine-b")
    assert a.startswith("02:08:22:")


def test_mac_cli_set_show_and_reject(tmp_path, run_cli):
    """`firmware mac --set` writes, plain `firmware mac` shows; a multicast MAC is refused with exit 2."""
    path = tmp_path / "WIFI"
    path.write_bytes(nvram_image())
    r = run_cli("firmware", "mac", "--nvram", str(path))
    assert r.returncode == 0 and "no MAC stored" in r.stdout
    r = run_cli("firmware", "mac", "--nvram", str(path), "--set", "02:11:22:33:44:55")
    assert r.returncode == 0 and "02:11:22:33:44:55" in r.stdout
    assert (tmp_path / "WIFI.bak").exists()
    assert "02:11:22:33:44:55" in run_cli("firmware", "mac", "--nvram", str(path)).stdout
    r = run_cli("firmware", "mac", "--nvram", str(path), "--set", "01:00:5e:00:00:01")
    assert r.returncode == 2 and "multicast" in r.stderr
    r = run_cli("firmware", "mac", "--nvram", str(tmp_path / "absent"))
    assert r.returncode == 2 and "NVRAM file missing" in r.stderr
