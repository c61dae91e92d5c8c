"""Every wrapper of log-formats.md section 1 is recognised, stripped and its timestamp kept."""

from __future__ import annotations

import calendar
import json

import pytest

from r2wifi.logs import wrappers
from r2wifi.logs.events import parse_line


def unwrap(raw: str, year: int = 2024) -> wrappers.Unwrapped:
    line, _ = wrappers.clean(raw)
    return wrappers.unwrap(line, year=year)


def epoch(*t: int) -> float:
    return float(calendar.timegm((*t, 0, 0, 0)))


def test_plain_hostapd_stdout() -> None:
    """A plain hostapd stdout line has no wrapper and no timestamp."""
    u = unwrap("wlan0: AP-STA-CONNECTED dc:56:7b:1d:3f:99")
    assert (u.fmt, u.msg, u.ts) == ("plain", "wlan0: AP-STA-CONNECTED dc:56:7b:1d:3f:99", None)


def test_hostapd_t_epoch() -> None:
    """hostapd -t prefixes epoch.usec, kept as ts."""
    u = unwrap("1539711731.723773: Station 9c:2e:a1:91:cc:29 not allowed to authenticate")
    assert u.fmt == "hostapd-t" and u.ts == pytest.approx(1539711731.723773)
    assert u.msg.startswith("Station 9c:2e")


def test_rsyslog_traditional_with_and_without_pid() -> None:
    """rsyslog traditional: month day padded, no year; both hostapd tags (with and without pid)."""
    a = unwrap("May  3 15:57:16 akacja hostapd: wlp4s0: STA e0:b9:a5:34:57:83 WPA: EAPOL-Key timeout")
    b = unwrap("May  3 15:37:15 akacja hostapd[4967]: Configuration file: /etc/hostapd/hostapd.conf")
    assert a.fmt == b.fmt == "syslog" and a.prog == b.prog == "hostapd"
    assert a.ts == epoch(2024, 5, 3, 15, 57, 16)
    assert b.msg == "Configuration file: /etc/hostapd/hostapd.conf"


def test_rfc3339_kernel_keeps_uptime_and_converts_zone() -> None:
    """RFC3339 syslog: the zone offset is applied and the kernel [uptime] is stripped into uptime."""
    u = unwrap("2024-02-09T15:55:10.360700+01:00 THE_SYSTEM kernel: [85972.934899] ieee80211 phy0: "
               "brcmf_fw_crashed: Firmware has halted or crashed")
    assert u.fmt == "rfc3339" and u.prog == "kernel" and u.uptime == pytest.approx(85972.934899)
    assert u.ts == pytest.approx(epoch(2024, 2, 9, 14, 55, 10) + 0.3607)
    assert u.msg.startswith("ieee80211 phy0: brcmf_fw_crashed")


def test_journald_short_localized_month() -> None:
    """journald short output with a Finnish month name ('touko' = May) is still unwrapped."""
    u = unwrap("touko 06 12:27:47 red hostapd[4488]: nl80211: Could not configure driver mode")
    assert u.fmt == "syslog" and u.prog == "hostapd" and u.ts == epoch(2024, 5, 6, 12, 27, 47)


def test_journalctl_catalog_lines_are_not_events() -> None:
    """journalctl -xe catalog lines ('░░ ') are recognised and yield no event."""
    u = unwrap("░░ Subject: A start job for unit hostapd.service has finished successfully")
    assert u.fmt == "journal-catalog"
    assert parse_line("░░ Subject: A start job for unit hostapd.service has finished successfully") == []


def test_journalctl_json() -> None:
    """journalctl -o json: MESSAGE, identifier and realtime stamp are taken from the object."""
    obj = {"__REALTIME_TIMESTAMP": "1700000000123456", "SYSLOG_IDENTIFIER": "hostapd",
           "MESSAGE": "wlan0: AP-STA-CONNECTED 02:00:00:00:01:00"}
    evs = parse_line(json.dumps(obj))
    assert [e.kind for e in evs] == ["sta_connected"]
    assert evs[0].ts == pytest.approx(1700000000.123456) and evs[0].station == "02:00:00:00:01:00"


def test_openwrt_logread_and_kernel_inside() -> None:
    """OpenWrt logread has its own year; kernel lines keep their uptime."""
    u = unwrap("Thu Apr  4 23:43:25 2019 daemon.info hostapd: wlan0-ap: STA 11:22:33:44:55:66 IEEE 802.11: associated")
    assert u.fmt == "logread" and u.ts == epoch(2019, 4, 4, 23, 43, 25) and u.prio == "daemon.info"
    k = unwrap("Sun Dec 10 23:34:46 2023 kern.warn kernel: [ 2789.033741] ath11k c000000.wifi: failed to flush transmit queue")
    assert k.prog == "kernel" and k.uptime == pytest.approx(2789.033741)


def test_luci_web_log() -> None:
    """The LuCI log view: [Mmm D, YYYY, h:mm:ss PM GMT+N] facility.prio: prog: msg."""
    u = unwrap("[Jul 5, 2026, 1:21:09 PM GMT+2] daemon.debug: hostapd: phy0-ap0: STA xx:xx:xx:xx:xx:xx IEEE 802.11: deauthenticated")
    assert u.fmt == "luci" and u.prog == "hostapd" and u.ts == epoch(2026, 7, 5, 13, 21, 9)


def test_pfsense_gui() -> None:
    """pfSense/OPNsense GUI rows 'Mmm DD HH:MM:SS | prog | pid | msg'."""
    u = unwrap("Aug  4 11:35:37 | hostapd | 11217 | athp0_wlan0: STA 04:d6:aa:1a:6c:90 WPA: EAPOL-Key timeout")
    assert u.fmt == "pfsense" and u.prog == "hostapd" and u.msg.startswith("athp0_wlan0: STA")


def test_dmesg_raw_and_T() -> None:
    """dmesg raw keeps the uptime; dmesg -T has a full wall-clock date."""
    r = unwrap("[   71.553894] rtl8187: disagrees about version of symbol ieee80211_queue_stopped")
    t = unwrap("[Sat Aug 20 18:15:08 2016] brcmfmac: brcmf_add_if: ERROR: netdev:wlan0 already exists")
    assert r.fmt == "dmesg" and r.uptime == pytest.approx(71.553894)
    assert t.fmt == "dmesg-T" and t.ts == epoch(2016, 8, 20, 18, 15, 8)


def test_kmsg_record() -> None:
    """/dev/kmsg records 'prio,seq,usec,flags;msg' (what the simulator writes)."""
    u = unwrap("6,1234,5000000,-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512")
    assert u.fmt == "kmsg" and u.uptime == 5.0 and u.prog == "kernel"


def test_printk_interleaved_mid_line() -> None:
    """A console line with a kernel record glued into it is split; the kernel part is classified."""
    evs = parse_line("init combo devic[   47.593778] [WLAN-MOD-INIT][I]do_wlan_drv_init:CONFIG_MTK_COMBO_WIFI is not defined")
    assert [(e.kind, e.source, e.uptime) for e in evs] == [("wmt", "kernel", pytest.approx(47.593778))]


@pytest.mark.parametrize("raw", [
    "> wlan0: AP-STA-CONNECTED 02:00:00:00:01:00",
    "`wlan0: AP-STA-CONNECTED 02:00:00:00:01:00`",
    "root@box:~# wlan0: AP-STA-CONNECTED 02:00:00:00:01:00",
    "^Cwlan0: AP-STA-CONNECTED 02:00:00:00:01:00",
    "[color=red]wlan0: AP-STA-CONNECTED 02:00:00:00:01:00[/color]",
])
def test_paste_damage_is_removed(raw: str) -> None:
    """Quote markers, backticks, shell prompts, ^C and BBCode do not hide the event."""
    evs = parse_line(raw)
    assert [(e.kind, e.station, e.iface) for e in evs] == [("sta_connected", "02:00:00:00:01:00", "wlan0")]


def test_hard_wrap_continuation() -> None:
    """An e-mail hard wrap is recognised as the continuation of the previous line."""
    prev = "wlan0: STA 1e:e3:0e:49:xx:yy IEEE 802.11: deauthenticated due to"
    assert wrappers.is_continuation(prev, "inactivity (timer DEAUTH/REMOVE)")
    assert not wrappers.is_continuation(prev, "wlan0: AP-STA-CONNECTED 1e:e3:0e:49:xx:yy")


def test_placeholder_macs_group_lines() -> None:
    """Placeholder MACs are kept (lower-cased) as the station so lines still group."""
    a = parse_line("wlan0: STA XX:XX:XX:XX:XX:XX IEEE 802.11: associated")
    b = parse_line("wlan0: STA sm:ar:tp:ho:ne:07 IEEE 802.11: associated")
    assert a[0].station == "xx:xx:xx:xx:xx:xx" and b[0].station == "sm:ar:tp:ho:ne:07"


def test_syslog_line_without_a_host_field() -> None:
    """busybox syslogd (or a trimmed paste) drops the host: `Mar 14 18:44:40 kernel: [  1.0] msg` is still syslog."""
    u = wrappers.unwrap("Mar 14 18:44:40 kernel: [97563.280914] [MTK-WIFI] WIFI_open: major 155 minor 0 (pid 2119)")
    assert (u.fmt, u.prog, u.uptime) == ("syslog", "kernel", 97563.280914)
    assert u.msg.startswith("[MTK-WIFI] WIFI_open")
    v = wrappers.unwrap("May  3 15:57:16 akacja hostapd: wlp4s0: STA e0:b9:a5:34:57:83 WPA: EAPOL-Key timeout")
    assert (v.prog, v.msg) == ("hostapd", "wlp4s0: STA e0:b9:a5:34:57:83 WPA: EAPOL-Key timeout")


@pytest.mark.parametrize("stamps", [
    ("Mar 14 18:44:40 box kernel: [  10.000001] ", "Mar 14 18:44:41 box kernel: [  10.500002] ",
     "Mar 14 18:44:41 box hostapd: "),
    ("2024-02-09T15:55:10.360700+01:00 box kernel: [  10.000001] ",
     "2024-02-09T15:55:10.860700+01:00 box kernel: [  10.500002] ", "2024-02-09T15:55:11.000000+01:00 box hostapd: "),
    ("Sun Dec 10 23:34:46 2023 kern.warn kernel: [  10.000001] ",
     "Sun Dec 10 23:34:46 2023 kern.warn kernel: [  10.500002] ", "Sun Dec 10 23:34:47 2023 daemon.info hostapd: "),
])
def test_records_glued_into_one_line_are_each_classified(stamps: tuple[str, str, str]) -> None:
    """A paste that lost its newlines: every syslog / RFC 3339 / logread record in the line is an event of its own."""
    line = (f"{stamps[0]}p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512 "
            f"{stamps[1]}kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0 "
            f"{stamps[2]}wlan0: STA 02:00:00:00:00:01 IEEE 802.11: disassociated")
    evs = parse_line(line)
    assert [e.kind for e in evs] == ["txq_stop", "txq_wake", "disassoc"]
    assert [e.uptime for e in evs[:2]] == [10.000001, 10.500002]  # each kernel record keeps its own stamp
    assert evs[2].station == "02:00:00:00:00:01"


def test_a_date_inside_a_message_does_not_split_it() -> None:
    """Only a whole record (stamp, host/program and colon) after white space starts a glued record."""
    msg = "wlan0: CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid=\"Mar 14 18:44:40 cafe\" auth_failures=1 reason=WRONG_KEY"
    assert wrappers.split_glued(msg) == [msg]
    assert [e.kind for e in parse_line(msg)] == ["client_wrong_key"]
