"""The hostapd / wpa_supplicant and kernel driver catalogues, and the structural verdicts built on them.

The excerpts here are not corpus lines: they are other messages of the same problem classes (another
config error, another driver's firmware timeout), so the verdict must come from the problem, not the file.
"""

from __future__ import annotations

import inspect
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

from r2wifi.diagnose.analyze import diagnose
from r2wifi.logdir import iso_stamp
from r2wifi.logs.catalog import base, hostap, kernel, supervisor
from r2wifi.logs.events import parse_line
from r2wifi.logs.model import K

from .helpers import finding, kinds, run_text

TABLES = {"hostap": hostap.TABLE, "kernel": kernel.TABLE, "supervisor": supervisor.TABLE}
ENTRIES = [(name, m) for name, t in TABLES.items() for m in t.messages]


def _sample(m: base.Message) -> str:
    return m.render(**{f: ("-5" if f == "err" else "some words here" if f.endswith("text") else "x7")
                       for f in base.fields_of(m.fmt)})


@pytest.mark.parametrize("name,m", ENTRIES, ids=[f"{n}:{m.key}" for n, m in ENTRIES])
def test_every_entry_renders_and_classifies_back(name: str, m: base.Message) -> None:
    """Each entry's format, rendered, is recognised as that entry by its table."""
    hit = TABLES[name].classify(_sample(m))
    assert hit is not None and hit[0].key == m.key, (_sample(m), hit and hit[0].key)


def test_tables_are_valid_and_report_their_size(capsys: pytest.CaptureFixture[str]) -> None:
    """No duplicate keys, known classes and severities, every entry has a source; sizes are reported."""
    for name, t in TABLES.items():
        assert t.check() == [], name
        assert set(t.keywords) == {base.keyword(m.fmt) for m in t.messages}
    with capsys.disabled():
        print("\ncatalogue entries with a test line: "
              + ", ".join(f"{n} {len(t.messages)}/{len(t.messages)}" for n, t in TABLES.items()))


def test_unknown_lines_stay_unknown() -> None:
    assert hostap.classify("something hostapd never printed") is None
    assert kernel.classify("ath10k_pci 0000:01:00.0: a brand new message") is None


@pytest.mark.parametrize("line", [
    "[ 10.1] mt7915e 0000:01:00.0: Message 000000ed (seq 3) timeout",
    "[ 10.1] mt76x2e 0000:01:00.0: MCU message 31 (seq 9) timed out",
    "[ 10.1] ath10k_pci 0000:01:00.0: wmi command 36878 timeout, restarting hardware",
    "[ 10.1] ath11k_pci 0000:03:00.0: wmi command 16387 timeout",
    "[ 10.1] brcmfmac: brcmf_cfg80211_stop_ap: BRCMF_C_DOWN error -110",
    "[ 10.1] iwlwifi 0000:00:14.3: Error sending STATISTICS_CMD: time out after 2000ms.",
    "[ 10.1] mwifiex_sdio mmc0:0001:1: mwifiex_cmd_timeout_func: Timeout cmd id = 0x107, act = 0x0",
    "[ 10.1] rtw_8822ce 0000:01:00.0: firmware failed to leave lps state",
])
def test_firmware_command_timeouts_of_many_drivers(line: str) -> None:
    """Firmware command timeouts of mt76, ath10k, ath11k, brcmfmac, iwlwifi, mwifiex, rtw88."""
    assert "firmware_cmd_timeout" in kinds(run_text(line + "\n"))


@pytest.mark.parametrize("line", [
    "[    1.234567] pci-host-generic 3f000000.pcie: probe failed -16",
    "[    1.234567] pci-host-generic: probe of 3f000000.pcie failed with error -16",
    "[    2.500000] usb: probe of 1-1:1.0 failed with error -71",
    "[    2.500000] dwc2: probe of 3f980000.usb failed with error -517",
    "[    2.600000] sdhci-mtk: probe of 11230000.mmc failed with error -110",
    "[    2.700000] at24: probe of 0-0050 failed with error -5",
    "Jan  1 00:00:03 box kernel: [    2.8] i2c-mt65xx: probe of 11007000.i2c failed with error -22",
])
def test_probe_failures_of_other_drivers_are_not_wifi_findings(line: str) -> None:
    """The driver core prints its probe report for every driver: only a WiFi driver's is a WiFi finding."""
    assert kernel.classify(line.rsplit("] ", 1)[1]) is None
    assert parse_line(line) == []
    assert kinds(run_text(line + "\n")) == set()


@pytest.mark.parametrize("line,driver", [
    ("[   30.578095] mt7986-wmac: probe of 18000000.wmac failed with error -110", "mt7986-wmac"),
    ("[    3.100000] ath10k_pci: probe of 0000:01:00.0 failed with error -22", "ath10k_pci"),
    ("[    3.100000] brcmfmac: probe of mmc1:0001:1 failed with error -5", "brcmfmac"),
])
def test_a_wifi_drivers_probe_failure_is_a_driver_error(line: str, driver: str) -> None:
    hit = kernel.classify(line.split("] ", 1)[1])
    assert hit is not None and hit[0].key == "probe_failed" and hit[1]["driver"] == driver
    f = finding(run_text(line + "\n"), "driver_error")
    assert f["count"] == 1 and f["evidence"] == [{"file": "-", "line": 1}]


def test_a_failed_firmware_command_without_timeout_is_a_driver_error() -> None:
    r = run_text("[ 10.1] brcmfmac: brcmf_cfg80211_stop_ap: BRCMF_C_DOWN error -5\n")
    assert "driver_error" in kinds(r) and "firmware_cmd_timeout" not in kinds(r)


@pytest.mark.parametrize("excerpt", [
    # hostapd: an invalid country code
    "Configuration file: /etc/hostapd/hostapd.conf\nLine 9: invalid country_code 'XY'\n"
    "1 errors found in configuration file '/etc/hostapd/hostapd.conf'\nFailed to set up interface with "
    "/etc/hostapd/hostapd.conf\nFailed to initialize interface\n",
    # hostapd: passphrase too short
    "Line 12: invalid WPA passphrase length 5 (expected 8..63)\n1 errors found in configuration file "
    "'/etc/hostapd.conf'\nFailed to initialize interface\n",
    # wpa_supplicant: an unparsable config
    "wpa_supplicant[9]: Line 4: unknown network field 'sssid'.\nwpa_supplicant[9]: Line 6: failed to parse "
    "network block.\nwpa_supplicant[9]: Failed to read or parse configuration '/etc/wpa_supplicant.conf'.\n",
    # systemd says the unit failed, hostapd's own words unseen
    "Jan  1 00:00:01 box hostapd[5]: Could not open configuration file '/run/h.conf' for reading.\n"
    "Jan  1 00:00:01 box systemd[1]: hostapd.service: Failed with result 'exit-code'.\n",
])
def test_a_run_that_never_came_up_and_ended_is_a_startup_failure(excerpt: str) -> None:
    """Whatever the message: no ENABLED/CONNECTED, then the daemon gave up -> startup_failure with its cause."""
    r = run_text(excerpt)
    f = finding(r, "startup_failure")
    assert f["severity"] == "error"
    assert f["params"]["cause"], f["params"]


def test_config_error_in_a_run_that_came_up_is_not_a_startup_failure() -> None:
    r = run_text("Line 30: DEPRECATED: 'dump_file' configuration variable is not used anymore\n"
                 "wlan0: interface state COUNTRY_UPDATE->ENABLED\nwlan0: AP-ENABLED\n")
    assert "startup_failure" not in kinds(r)


@pytest.mark.parametrize("excerpt,startup", [
    ("wlan0: interface state HT_SCAN->DFS\nwlan0: DFS-CAC-START freq=5260 chan=52 sec_chan=1, width=1, seg0=54, "
     "seg1=0, cac_time=60s\nDFS start_dfs_cac() failed, -1\nInterface initialization failed\n"
     "wlan0: interface state DFS->DISABLED\nwlan0: AP-DISABLED\n", True),
    ("wlan0: AP-ENABLED\nwlan0: AP-STA-CONNECTED 02:00:00:00:01:00\nwlan0: DFS-RADAR-DETECTED freq=5260 "
     "ht_enabled=1 chan_offset=0 chan_width=3 cf1=5290 cf2=0\nstart_channel_switch_cac: No valid channel "
     "available\nwlan0: AP-DISABLED\n", False),
    ("Frequency 5500 (primary) not allowed for AP mode, flags: 0x1c1 NO-IR RADAR\n", False),
])
def test_dfs_and_refused_channels_are_a_channel_problem(excerpt: str, startup: bool) -> None:
    """DFS CAC failure, radar with no channel left, a refused frequency: set_channel_failed; a start-up
    failure only when the AP never came up."""
    got = kinds(run_text(excerpt))
    assert "set_channel_failed" in got
    assert ("startup_failure" in got) == startup


def test_client_side_group_key_timeout() -> None:
    """wpa_supplicant / mac80211 dropped by the AP with reason 16: the group key handshake timed out."""
    r = run_text("[ 1.0] wlan0: deauthenticated from 02:00:00:00:0a:01 (Reason: 16=GROUP_KEY_HANDSHAKE_TIMEOUT)\n"
                 "wlan0: CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:0a:01 reason=16\n")
    assert finding(r, "group_key_handshake_timeout")["severity"] == "warning"


def test_monitor_interface_failure_is_benign_noise() -> None:
    (e,) = parse_line("Failed to create interface mon.wlan1: -95 (Not supported)")
    assert e.kind == K.BENIGN and e.params["what"] == "monitor_iface"


STOP = "p2pHardStartXmit:(TX INFO)netif_stop_subqueue for {dev}, Queue len: 512"
WAKE = "kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: {bss}. Queue len: 0"
LEAVE = "wlan0: deauthenticated from 02:00:00:00:0a:01 (Reason: 4=DISASSOC_DUE_TO_INACTIVITY)"


def _kmsg(lines: list[tuple[float, str]]) -> str:
    """/dev/kmsg records ``prio,seq,usec,-;message`` at the given uptimes."""
    return "".join(f"6,{i},{int(t * 1e6)},-;{msg}\n" for i, (t, msg) in enumerate(lines))


def test_tx_stall_is_paired_per_interface() -> None:
    """ap0 and wlan0 stop; the wake for BSS 1 wakes ap0 only; wlan0 stays stopped 6 s until a station leaves."""
    text = _kmsg([
        (10.0, STOP.format(dev="ap0")),
        (10.1, STOP.format(dev="wlan0")),
        (10.2, WAKE.format(bss=1)),
        (16.5, LEAVE),
    ])
    r = run_text(text)
    f = finding(r, "tx_queue_stall")
    assert f["evidence"] == [{"file": "-", "line": 2}]


def test_tx_queue_woken_in_time_is_no_stall() -> None:
    text = _kmsg([
        (10.0, STOP.format(dev="ap0")),
        (10.5, WAKE.format(bss=1)),
        (20.0, LEAVE),
    ])
    assert "tx_queue_stall" not in kinds(run_text(text))


def _files(tmp: Path, **files: str) -> dict[str, object]:
    for name, text in files.items():
        (tmp / name).write_text(text)
    return diagnose([str(tmp)])


def _iso(t: float) -> str:
    return iso_stamp(t)  # the supervisor's own stamp (UTC, "Z")


T0 = 1764968400.0
AP_UP_DOWN = (f"{T0:.6f}: wlan0: interface state COUNTRY_UPDATE->ENABLED\n{T0 + 0.1:.6f}: wlan0: AP-ENABLED\n"
              f"{T0 + 100:.6f}: wlan0: interface state ENABLED->DISABLED\n{T0 + 100.1:.6f}: wlan0: AP-DISABLED\n")


def test_supervisor_recovery_is_a_finding_and_its_hostapd_stop_is_no_clean_shutdown(tmp_path: Path) -> None:
    """The supervisor's log (its own file shape) next to hostapd's: one recovery with cause and time."""
    sup = (f"{_iso(T0 + 99)} recovery: restart-hostapd (reason: TX queue stalled for 30 s)\n"
           f"{_iso(T0 + 103)} recovery: restart-hostapd done in 4.00 s (verified)\n")
    r = _files(tmp_path, **{"hostapd.log": AP_UP_DOWN, "r2wifi-run.log": sup})
    f = finding(r, "x_supervisor_recovery")
    assert f["severity"] == "warning"
    (rec,) = f["params"]["recoveries"]
    assert rec == {"t": T0 + 99, "step": "restart-hostapd", "reason": "TX queue stalled for 30 s", "ok": True}
    assert "clean_shutdown" not in kinds(r)


def test_supervisor_stamps_with_an_offset_are_read_in_utc(tmp_path: Path) -> None:
    """A stamp with an explicit offset lands at the same instant as its UTC spelling (recovery windows)."""
    local = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + 99 + 3600)) + ".000+01:00"
    sup = (f"{local} recovery: restart-hostapd (reason: TX queue stalled for 30 s)\n"
           f"{_iso(T0 + 103)} recovery: restart-hostapd done in 4.00 s (verified)\n")
    r = _files(tmp_path, **{"hostapd.log": AP_UP_DOWN, "r2wifi-run.log": sup})
    (rec,) = finding(r, "x_supervisor_recovery")["params"]["recoveries"]
    assert rec["t"] == T0 + 99 and "clean_shutdown" not in kinds(r)


def test_without_a_recovery_the_stop_is_a_clean_shutdown(tmp_path: Path) -> None:
    r = _files(tmp_path, **{"hostapd.log": AP_UP_DOWN})
    assert "clean_shutdown" in kinds(r) and "x_supervisor_recovery" not in kinds(r)


def test_failed_recovery_from_the_journal_is_an_error() -> None:
    r = run_text("Dec  5 21:00:00 bpi r2wifi[812]: r2wifi run: recovery: reset-chip (reason: firmware assert)\n"
                 "Dec  5 21:01:00 bpi r2wifi[812]: r2wifi run: recovery: reset-chip FAILED: chip did not answer "
                 "in 60.00 s\n")
    f = finding(r, "x_supervisor_recovery")
    assert f["severity"] == "error" and f["params"]["recoveries"][0]["ok"] is False


def test_the_supervisor_still_prints_the_catalogued_formats() -> None:
    """The supervisor's source holds every literal piece of the recovery formats this catalogue reads."""
    from r2wifi.service import supervisor as sv

    src = inspect.getsource(sv)
    for key in ("recovery_start", "recovery_ok", "recovery_failed", "degraded"):
        m = supervisor.BY_KEY[key]
        for literal, _f, _s, _c in string.Formatter().parse(m.fmt):
            assert literal.strip() in src, (key, literal)


def test_gen_catalog_validates_the_tables_and_the_docs_are_current() -> None:
    """tools/gen_catalog.py runs offline from the committed tables: no problem, docs/findings up to date."""
    from r2wifi.logs.catalog import listing

    assert listing.problems() == []
    repo = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, str(repo / "tools" / "gen_catalog.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "catalogue entries: hostap" in run.stdout


def test_prefilter_keywords_are_derived_and_cover_every_message() -> None:
    """The grep keywords come from the catalogues and rule needles (prefilter.cover): every message holds one."""
    from r2wifi.logs.catalog import prefilter, wmt
    from r2wifi.logs.events import KEYWORDS

    fmts = [m.fmt for m in wmt.MESSAGES] + [m.fmt for t in TABLES.values() for m in t.messages]
    assert all(prefilter.covered(KEYWORDS, _sample_any(f)) for f in fmts)
    assert len(KEYWORDS) < len(fmts)  # a cover, not one keyword per message
    kws = prefilter.cover(["Message {cmd} (seq {seq}) timeout", "MCU message {cmd} (seq {seq}) timed out",
                           "[WMT-CORE][E]wmt_core_stp_init({line}):WMT-CORE: no hif info!"])
    assert kws == ("MCU message", "Message", "[WMT-CORE]")  # the tag, not a level-specific header


def _sample_any(fmt: str) -> str:
    return fmt.format(**{f: "x7" for f in base.fields_of(fmt)})


def test_group_key_handshake_failure_at_the_default_level() -> None:
    """hostapd's info-level 'group key handshake failed ... after N tries' is an unrecovered GTK timeout."""
    r = run_text("wlan0: STA 02:00:00:00:01:00 WPA: group key handshake failed (RSN) after 4 tries\n")
    assert finding(r, "group_key_handshake_timeout")["severity"] == "warning"


def test_rfkill_blocks_the_start() -> None:
    r = run_text("rfkill: WLAN soft blocked\nwlan0: Could not set interface wlan0 flags (UP): Operation not "
                 "possible due to RF-kill\nwlan0: Unable to setup interface.\n")
    assert {"permission_denied", "startup_failure"} <= kinds(r)


def test_apparmor_denial_of_hostapd_is_a_permission_problem_and_the_cause() -> None:
    """An AppArmor denial naming hostapd, then hostapd gives up: permission_denied and a start-up failure."""
    r = run_text('[ 812.1] audit: type=1400 audit(1600000000.123:77): apparmor="DENIED" operation="open" '
                 'profile="/usr/sbin/hostapd" name="/tmp/ap/hostapd.conf" pid=4242 comm="hostapd" '
                 'requested_mask="r" denied_mask="r" fsuid=0 ouid=0\n'
                 "Could not open configuration file '/tmp/ap/hostapd.conf' for reading.\n"
                 "Failed to initialize interface\n")
    assert {"permission_denied", "startup_failure"} <= kinds(r)
    other = run_text('[ 812.1] audit: type=1400 audit(1600000000.123:78): apparmor="DENIED" operation="open" '
                     'profile="/usr/bin/evince" name="/home/u/x.pdf" pid=1 comm="evince"\n')
    assert not {"permission_denied", "startup_failure"} & kinds(other)


def test_radar_on_a_running_ap_without_stations_is_no_startup_failure() -> None:
    """Radar outside a CAC means the AP was operating: no channel left is a channel problem, not a start-up one."""
    got = kinds(run_text("wlan0: DFS-RADAR-DETECTED freq=5500 ht_enabled=0 chan_offset=0 chan_width=3 cf1=5530 "
                         "cf2=0\ndfs_downgrade_bandwidth: no DFS channels left, waiting for NOP to finish\n"
                         "wlan0: AP-DISABLED\n"))
    assert "set_channel_failed" in got and "startup_failure" not in got
