"""Board-twin scenarios (test bed D): r2wifi's real backend on the board's 32-bit ARM ABI.

The guest is an armhf QEMU machine with Debian's own python3/hostapd/iw; the chip is the simulated
driver behind real character devices (CUSE) with an hwsim radio; the peer radio plays the station
or the upstream AP. Everything goes through ``r2wifi`` with the backend auto-detected. Assertions
are on events in both sides' logs, with generous timeouts, never on durations.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from twin.guestops import PASSPHRASE, Guest

pytestmark = [pytest.mark.twin, pytest.mark.root, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


# -- the twin itself (no simulated chip needed) -----------------------------------------------------
def test_twin_is_the_boards_abi(guest: Guest) -> None:
    """The guest is 32-bit ARM with Debian's Python 3.11: r2wifi computes the board's ioctl numbers."""
    res = guest.sh("uname -m; python3 -c 'import struct,sys;print(struct.calcsize(\"P\"), sys.version_info[:2])'; "
                   "python3 -c 'from r2wifi.wmt import ioctls;print(hex(ioctls.number(\"WMT_IOCTL_SET_PATCH_INFO\")))'")
    assert res.ok, res.err
    lines = res.out.split()
    assert lines[0].startswith("armv7"), res.out
    assert res.out.splitlines()[1].startswith("4 (3, 11)"), res.out
    assert res.out.splitlines()[2] == "0x4004a00f", res.out


NL_CHECK = """
import re, subprocess
from r2wifi.net.nl80211 import Nl80211, kernel_country
iw = subprocess.run(["iw", "reg", "get"], capture_output=True, text=True).stdout
m = re.search(r"^country (..):", iw, re.M)
print("reg", kernel_country(), m and m.group(1))
phy = int(open("/sys/class/net/wlan2/phy80211/index").read())
with Nl80211() as nl:
    nl.new_interface(phy, "nltest0", "__ap", "02:00:00:00:99:01")
print("added", " ".join(subprocess.run(["iw", "dev", "nltest0", "info"], capture_output=True, text=True).stdout.split()))
with Nl80211() as nl:
    nl.del_interface(int(open("/sys/class/net/nltest0/ifindex").read()))
print("after", "nltest0" in subprocess.run(["iw", "dev"], capture_output=True, text=True).stdout)
"""


def test_nl80211_requests_agree_with_iw(guest: Guest) -> None:
    """r2wifi's nl80211 requests agree with `iw`: the regulatory domain, an AP interface added with its MAC, removed."""
    res = guest.vm.run(["python3", "-c", NL_CHECK], timeout=300)
    assert res.rc == 0, res.err[-1500:]
    reg, added, after = res.out.strip().splitlines()[-3:]
    _, mine, iws = reg.split()
    assert mine == iws and re.fullmatch(r"[0-9A-Z]{2}", mine), reg
    assert "type AP" in added and "addr 02:00:00:00:99:01" in added, added
    assert after == "after False", after


def test_r2wifi_help_and_diagnose_run_in_the_guest(guest: Guest) -> None:
    """`r2wifi --help` lists the commands; `diagnose` of a corpus log finds on armhf what it finds on the host."""
    helps = guest.r2("--help")
    assert helps.ok and "diagnose" in helps.out, helps.err
    log = str(REPO / "tests" / "data" / "generated_corpus" / "eapol_drop" / "hostapd.log")
    in_guest = guest.r2("diagnose", "--json", log)
    on_host = subprocess.run([sys.executable, "-m", "r2wifi", "diagnose", "--json", log], capture_output=True,
                             text=True, timeout=300, check=False)
    assert in_guest.rc == on_host.returncode, (in_guest.err, on_host.stderr)
    kinds = sorted(f["kind"] for f in json.loads(in_guest.out)["findings"])
    assert kinds and kinds == sorted(f["kind"] for f in json.loads(on_host.stdout)["findings"])


def test_up_ap_on_a_plain_hwsim_interface_station_joins(guest: Guest) -> None:
    """Chip disabled, `up --ap` on hwsim's third radio (wlan2): a WPA2 station joins, gets a lease and pings."""
    iw = guest.sh("iw dev")
    assert "Interface wlan2" in iw.out, f"no wlan2 in the init namespace:\n{iw.out}"
    guest.ap_config(chip=False, interface="wlan2")
    up = guest.r2("up", "--ap")
    assert up.ok, f"up --ap rc={up.rc}: {up.err[-1500:]}"
    st = guest.station()
    assert st["connected"], st
    assert st["lease"] and re.fullmatch(r"192\.168\.10\.1\d\d", st["lease"]), st
    assert st["ping"], st
    ap_log = guest.log_of("hostapd")
    assert "AP-STA-CONNECTED" in ap_log and "EAPOL-4WAY-HS-COMPLETED" in ap_log
    assert PASSPHRASE not in ap_log + guest.log_of("dnsmasq")


# -- the simulated chip behind /dev/wmtdetect, /dev/stpwmt, /dev/wmtWifi ----------------------------
def _ap_up_and_join(guest: Guest, security: str, sae: bool) -> dict[str, object]:
    guest.need_chip()
    guest.ap_config(security=security)
    up = guest.r2("up", "--ap")
    assert up.ok, f"up --ap rc={up.rc}: {up.err[-1500:]}"
    status = guest.status()
    # the real backend (auto-detected from /dev/wmtdetect): a powered chip, ap0 in the initial namespace
    assert status.get("chip", {}).get("powered") is True and status.get("netns") is None, status
    assert (status.get("hostapd") or {}).get("state") == "ENABLED", status
    st = guest.station(sae=sae)
    assert st["connected"] and st["lease"] and st["ping"], st
    ap_log = guest.log_of("hostapd")
    assert "AP-STA-CONNECTED" in ap_log, ap_log[-1500:]
    return st


def test_up_ap_from_cold_wpa2_station_joins(guest: Guest) -> None:
    """`up --ap` from a cold chip; a WPA2 station joins, pings, and `status` shows it with its IP and host name."""
    st = _ap_up_and_join(guest, "wpa2", sae=False)
    assert re.fullmatch(r"192\.168\.10\.1\d\d", str(st["lease"])), st
    # `status --json`: the station with its MAC, the leased address and the host name it sent, typed values
    stations = guest.status().get("stations") or []
    mine = [s for s in stations if s.get("mac") == st["mac"]]
    assert len(mine) == 1, (st["mac"], stations)
    sta = mine[0]
    assert (sta["ip"], sta["hostname"]) == (st["lease"], st["hostname"]) == (st["lease"], "twin-phone"), sta
    assert sta["authorized"] is True and "AUTHORIZED" in sta["flags"], sta  # a real 802.11 association
    for key in ("signal_dbm", "connected_seconds", "rx_bytes", "tx_bytes", "rx_packets", "tx_packets"):
        assert type(sta[key]) is int, (key, sta)
    assert sta["rx_bytes"] > 0 and sta["tx_bytes"] > 0, sta  # the lease and the pings crossed the AP
    # plain `status`: one line for the station with its MAC, address and name
    text = guest.r2("status")
    assert text.ok, text.err
    lines = [ln for ln in text.out.splitlines() if st["mac"] in ln]
    assert len(lines) == 1 and str(st["lease"]) in lines[0] and "twin-phone" in lines[0], text.out


def test_up_ap_from_cold_wpa3_sae_station_joins(guest: Guest) -> None:
    """The same with WPA3-SAE: the station authenticates with SAE, gets a lease and pings."""
    _ap_up_and_join(guest, "wpa3", sae=True)
    sta_log = (guest.out / "wpa_supplicant.log").read_text(errors="replace")
    assert re.search(r"SAE|key_mgmt=SAE", sta_log), "the station did not use SAE"


def test_up_sta_joins_the_upstream_ap_and_gets_a_lease(guest: Guest) -> None:
    """`up --sta` joins an upstream AP on the other radio and gets a lease from it."""
    guest.need_chip()
    upstream = guest.peer("upstream", "--ssid", "r2up", "--passphrase", PASSPHRASE, "--out", str(guest.out))
    assert upstream["enabled"], upstream
    guest.write_config('[chip]\nfirmware_dir = "/etc/firmware"\n\n'
                       f'[ap]\nenabled = false\npassphrase = "{PASSPHRASE}"\n\n'
                       f'[sta]\nenabled = true\nssid = "r2up"\npassphrase = "{PASSPHRASE}"\nset_dns = false\n')
    up = guest.r2("up", "--sta")
    try:
        assert up.ok, f"up --sta rc={up.rc}: {up.err[-1500:]}"
        # up --sta does not wait for the association (the network may be out of range): wait for the lease
        addr = _wait_sh(guest, "ip -4 -o addr show dev wlan0", r"inet 10\.99\.0\.(5\d|[6-9]\d)/24", 300)
        assert addr is not None, guest.sh("ip -4 -o addr show dev wlan0; iw dev wlan0 link").out
    finally:
        (guest.out / "wpa_supplicant-r2wifi.log").write_text(guest.log_of("wpa_supplicant"))
    assert "DHCPACK" in (guest.out / "upstream-dnsmasq.log").read_text(errors="replace")
    assert guest.sh("ping -c 2 -W 10 10.99.0.1").ok


def _wait_sh(guest: Guest, line: str, regex: str, limit: float) -> str | None:
    """The output of ``line`` in the guest once it matches ``regex``; None when it did not within ``limit`` s."""
    end = time.monotonic() + limit
    while True:
        out = guest.sh(line, timeout=120).out
        if re.search(regex, out):
            return out
        if time.monotonic() > end:
            return None
        time.sleep(2)


def test_chip_reset_is_detected_and_recovered_by_run(guest: Guest) -> None:
    """A chip reset injected into the driver model: `r2wifi run` detects it and brings the AP back alone."""
    _ap_up_and_join(guest, "wpa2", sae=False)
    run_log = guest.out / "r2wifi-run.log"
    guest.sh(f"setsid r2wifi run </dev/null >{run_log} 2>&1 &", timeout=60)
    assert guest.wait_log(run_log, "supervising", 400) >= 0, run_log.read_text(errors="replace")[-1500:]
    inj = guest.r2("sim", "inject", "chip-reset")
    assert inj.ok, inj.err
    # the supervisor notices and recovers; the station (its wpa_supplicant still running) rejoins
    recovered = guest.wait_log(run_log, r"recovery: .* done", 500)
    text = run_log.read_text(errors="replace")
    assert recovered >= 0, text[-2000:]
    assert "giving up" not in text
    rejoin = guest.wait_log(guest.out / "wpa_supplicant.log", r"(?s)CTRL-EVENT-CONNECTED.*CTRL-EVENT-CONNECTED", 300)
    assert rejoin >= 0, "the station did not rejoin after the recovery"
    assert (guest.status().get("hostapd") or {}).get("state") == "ENABLED"


def test_wifi_eio_during_a_slow_power_up(guest: Guest) -> None:
    """WiFi on before the slow (realistic) power-up gives EIO, r2wifi names the cause, `up --ap` still succeeds."""
    guest.need_chip()
    try:
        start = guest.restart_chip("--timing", "realistic")
        assert start.ok, start.err
        guest.ap_config()
        assert guest.r2("chip", "init").ok
        early = guest.sh("python3 -c 'import os,errno\ntry:\n fd=os.open(\"/dev/wmtWifi\",os.O_WRONLY); "
                         "os.write(fd,b\"1\"); print(\"ok\")\nexcept OSError as e: print(errno.errorcode[e.errno])'")
        assert early.out.strip() == "EIO", f"expected EIO before power-up, got {early.out!r} {early.err[-300:]}"
        said = guest.r2("wifi", "ap")
        assert said.rc != 0 and "Traceback" not in said.err, said.err
        assert "launcher" in said.err and len(said.err.strip().splitlines()) == 1, said.err
        up = guest.r2("up", "--ap")
        assert up.ok, f"up --ap after the EIO rc={up.rc}: {up.err[-1500:]}"
        assert (guest.status().get("hostapd") or {}).get("state") == "ENABLED"
    finally:
        guest.cleanup()
        guest.restart_chip()


def test_second_do_module_init_is_refused_and_diagnosed(guest: Guest) -> None:
    """A second vendor-style DO_MODULE_INIT after bring-up is refused (EBUSY, busy major) and `diagnose` points at it."""
    guest.need_chip()
    try:
        guest.ap_config()
        assert guest.r2("chip", "init").ok
        second = guest.sh("python3 -c 'import os,fcntl\nfrom r2wifi.wmt import ioctls\n"
                          "fd=os.open(\"/dev/wmtdetect\",os.O_RDWR)\n"
                          "try: print(fcntl.ioctl(fd, ioctls.number(\"COMBO_IOCTL_DO_MODULE_INIT\"), 0x7623))\n"
                          "except OSError as e: print(\"errno\", e.errno)'")
        assert second.out.strip() == "errno 16", (second.out, second.err[-500:])  # EBUSY
        kmsg = guest.kmsg()
        (guest.out / "kmsg.log").write_text(kmsg)
        busy = [i for i, ln in enumerate(kmsg.splitlines(), 1) if "fail to register chrdev" in ln]
        assert busy, kmsg[-1500:]
        diag = guest.r2("diagnose", "--json", str(guest.out / "kmsg.log"))
        findings = json.loads(diag.out or "{}").get("findings", [])
        cited = [f for f in findings if f.get("severity") == "error"
                 and any(e.get("line") in busy for e in f.get("evidence", []))]
        assert diag.rc == 1 and cited, [(f.get("kind"), f.get("severity"), f.get("evidence")) for f in findings]
    finally:
        guest.cleanup()
        guest.restart_chip()  # the second init left the simulated driver locked out


def test_down_leaves_nothing_behind(guest: Guest) -> None:
    """After `up --ap` and a station, `down` leaves no process, interface, address, qdisc or rule."""
    _ap_up_and_join(guest, "wpa2", sae=False)
    guest.peer("stop")
    down = guest.r2("down")
    assert down.ok, down.err
    procs = guest.sh("ps -eo comm").out.split()
    assert not {"hostapd", "dnsmasq", "wpa_supplicant", "udhcpc"} & set(procs), procs
    addrs = guest.sh("ip -o addr show").out
    assert "192.168.10." not in addrs, addrs
    links = guest.sh("ip -o link show").out
    assert not re.search(r"^\d+: ap0[:@]", links, re.M), links
    qdiscs = [ln for ln in guest.sh("tc qdisc show").out.splitlines()
              if ln.split()[1:2] and ln.split()[1] not in ("noqueue", "mq", "pfifo_fast", "fq_codel")]
    assert qdiscs == [], qdiscs
    tables = guest.sh("nft list tables").out
    assert "r2wifi" not in tables, tables
    rules = [ln for ln in guest.sh("ip rule show").out.splitlines()
             if not re.search(r"lookup (local|main|default)\s*$", ln)]
    assert rules == [], rules


def test_doctor_on_the_healthy_twin_reports_no_error(guest: Guest) -> None:
    """`r2wifi doctor --json` on the twin with the simulated chip up reports no failing check."""
    _ap_up_and_join(guest, "wpa2", sae=False)
    doc = guest.r2("doctor", "--json")
    (guest.out / "doctor.json").write_text(doc.out + doc.err)
    data = json.loads(doc.out or "{}")
    checks = data.get("checks", data if isinstance(data, list) else [])
    bad = [c for c in checks if isinstance(c, dict) and str(c.get("status", c.get("level", ""))).lower()
           in ("fail", "error")]
    assert doc.rc == 0 and not bad, bad or doc.err


def test_diagnose_of_a_healthy_bring_up_has_no_warning(guest: Guest) -> None:
    """`diagnose` of this bring-up's kmsg and hostapd log: no warning or error the logs do not prove happened."""
    from testbed.scenario import EVIDENCE

    guest.need_chip()
    guest.vm.run(["python3", "-c", "import glob,os\nfor p in glob.glob('/run/r2wifi/**/hostapd*.log*', recursive=True)"
                  " + glob.glob('/var/log/r2wifi/hostapd*.log*'):"
                  " os.remove(p)"], timeout=120)  # this bring-up's log only
    start = len(guest.kmsg().splitlines())
    _ap_up_and_join(guest, "wpa2", sae=False)
    kmsg = "\n".join(guest.kmsg().splitlines()[start:]) + "\n"
    ap_log = guest.log_of("hostapd")
    (guest.out / "kmsg.log").write_text(kmsg)
    (guest.out / "hostapd.log").write_text(ap_log)
    diag = guest.r2("diagnose", "--json", str(guest.out / "kmsg.log"), str(guest.out / "hostapd.log"))
    findings = json.loads(diag.out)["findings"]
    # a real EAPOL-Key retransmission under load is diagnosed correctly: only what the logs do not show is wrong
    shown = {k for k, rx in EVIDENCE.items() if re.search(rx, kmsg + ap_log)}
    bad = [(f["kind"], f["severity"], f.get("evidence", [])[:2]) for f in findings
           if str(f.get("severity", "")).lower() in ("warning", "error") and f["kind"] not in shown]
    assert bad == [], bad
