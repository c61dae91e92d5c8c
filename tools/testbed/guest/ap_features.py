"""AP feature scenarios (issue 13) run INSIDE the hwsim guest: r2wifi's AP, real stations.

Theory of operation: each scenario starts r2wifi as the AP on wlan0 (``r2wifi up --ap``, chip
disabled; the ``[ap]`` / ``[dhcp]`` feature under test written into its config) and real
wpa_supplicant stations on the other hwsim radios, each in its own netns: ``sta`` (phy1/wlan1,
made by :class:`scenarios.Bed`) and ``sta2`` (phy2/wlan2, made here). It records what the stations
see (scan results, CONNECTED / AUTH-REJECT, pings, DHCP leases) in ``data`` and copies r2wifi's
hostapd / dnsmasq logs to the output directory; tests/hwsim/test_hwsim_ap_features.py asserts on
them. The world, waits (with ``TB_SLACK``), process handling and JSON outcome are those of
scenarios.py (:func:`scenarios.run`); this module only adds its ``r2wifi_<feature>`` entries to
``scenarios.SCENARIOS`` (the ``r2wifi`` prefix: r2wifi adds the AP address itself).

Rules: stdlib only; no ``shell=True``; waits end on events (log lines, a successful ping), a
negative (no CONNECTED, a ping that fails) is only recorded after the positive event that proves
the world works (the other station connected, the AP answered the same station's ping).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scenarios as sc  # noqa: E402 - the guest runner beside this file
from scenarios import Bed, StepFailed, SupervisedAp, sh  # noqa: E402

#: station -> (netns, phy, interface, MAC, static address)
STATIONS: dict[int, tuple[str, str, str, str, str]] = {
    1: (sc.NETNS, sc.STA_PHY, sc.STA_IF, sc.STA_MAC, "192.168.77.10"),
    2: ("sta2", "phy2", "wlan2", "02:00:00:00:02:00", "192.168.77.11"),
}
RESERVED_IP, RESERVED_NAME = "192.168.77.20", "tb-laptop"  # outside the pool .50-.99 on purpose
POOL = ("192.168.77.50", "192.168.77.99")


def _wlog(n: int) -> str:
    return "wpa_supplicant.log" if n == 1 else f"wpa_supplicant-sta{n}.log"


class FeatureAp(SupervisedAp):
    """r2wifi's AP with the features under test: ``up --ap`` only (no supervisor), ``down`` at the end."""

    def __init__(self, bed: Bed, *, ap: str = "", mac_filter: str = "", dhcp: bool = False,
                 reservation: str = "") -> None:
        super().__init__(bed)
        text = ("[chip]\nenabled = false\n\n[ap]\ninterface = \"wlan0\"\n"
                f"ssid = \"{sc.SSID}\"\npassphrase = \"{sc.PASSPHRASE}\"\nchannel = 1\n"
                f"address4 = \"{sc.AP_IP}/24\"\naddress6 = \"\"\n{ap}\n"
                f"{mac_filter}\n"
                f"[dhcp]\nenabled = {'true' if dhcp else 'false'}\ndns_port = 0\n"
                f"range_start = \"{POOL[0]}\"\nrange_end = \"{POOL[1]}\"\n\n{reservation}\n"
                "[shaping]\nenabled = false\n")
        self.cfg.write_text(text)  # 0600 already (SupervisedAp created it so)
        self.live.setdefault("dnsmasq", self.state / "ap" / "dnsmasq.log")

    def start(self) -> None:
        up = self.bed.step("r2wifi up --ap", lambda: self.cli("up", "--ap"))
        assert isinstance(up, subprocess.CompletedProcess)
        if up.returncode != 0:
            raise StepFailed(f"r2wifi up failed rc={up.returncode}: {up.stderr.strip()[-300:]}")
        status = self.status()
        for daemon, info in (status.get("daemons") or {}).items():
            if isinstance(info, dict) and info.get("log"):
                self.live[daemon] = Path(info["log"])
        self.bed.logs["hostapd.log"] = str(self.live.get("hostapd", self.state / "logs" / "hostapd-wlan0.log"))
        conf = sorted(self.state.rglob("*hostapd*.conf"))
        if conf:  # the rendered config, for the failure report (its passphrase line left out)
            text = "".join(ln for ln in conf[0].read_text().splitlines(keepends=True) if "passphrase" not in ln
                           and not ln.startswith("wpa_psk"))
            self.bed.write_log("hostapd-conf.log", text)
        for maclist in sorted(self.state.rglob("*.maclist")):  # [ap.mac_filter]'s list as hostapd reads it
            self.bed.write_log("maclist.log", maclist.read_text())

    def status(self) -> dict[str, Any]:
        st = self.cli("status", "--json")
        try:
            return dict(json.loads(st.stdout)) if st.stdout.strip() else {}
        except ValueError:
            return {}

    def _collect(self) -> None:
        super()._collect()
        src = self.live.get("dnsmasq")
        if src is not None and src.exists():
            self.bed.write_log("dnsmasq.log", src.read_text(errors="replace"))

    def finish(self) -> None:
        for n in STATIONS:
            self.bed.stop(f"wpa_supplicant-{n}")
        super().finish()


def add_station2(bed: Bed) -> None:
    """phy2 into its own netns ``sta2`` (phy1 is in ``sta`` already, by Bed.setup)."""
    ns, phy = STATIONS[2][0], STATIONS[2][1]
    if Path(f"/run/netns/{ns}").exists():
        sh(["ip", "netns", "del", ns], check=False)
        bed.wait_for(lambda: Path(f"/sys/class/ieee80211/{phy}").exists(), f"{phy} back from a stale netns", 10)
    sh(["ip", "netns", "add", ns])

    def gone() -> None:
        bed.stop("wpa_supplicant-2")
        sh(["ip", "netns", "del", ns], check=False)
        for _ in range(100):
            if Path(f"/sys/class/ieee80211/{phy}").exists():
                break
            sc.time.sleep(0.1)

    bed.cleanups.append(gone)
    sh(["iw", "phy", phy, "set", "netns", "name", ns])
    sh(["ip", "link", "set", "lo", "up"], ns=ns)


def station(bed: Bed, n: int, *, scan_ssid: bool = False) -> None:
    """wpa_supplicant on station ``n`` (-dd -t, its log in the output directory)."""
    ns, _, iface, _, _ = STATIONS[n]
    conf = bed.conf / f"wpa_supplicant-{n}.conf"
    text = (f"ctrl_interface=/run/wpa_supplicant\nnetwork={{\n ssid=\"{sc.SSID}\"\n key_mgmt=WPA-PSK\n"
            f" psk=\"{sc.PASSPHRASE}\"\n scan_freq=2412\n{' scan_ssid=1' if scan_ssid else ''}\n}}\n")
    fd = sc.os.open(conf, sc.os.O_WRONLY | sc.os.O_CREAT | sc.os.O_TRUNC, 0o600)
    with sc.os.fdopen(fd, "w") as fh:
        fh.write(text)
    log = bed.out / _wlog(n)
    bed.logs[_wlog(n)] = str(log)
    bed.spawn(f"wpa_supplicant-{n}", ["wpa_supplicant", "-dd", "-t", "-D", "nl80211", "-i", iface,
                                      "-c", str(conf), "-f", str(log)], ns=ns)


def connected(bed: Bed, n: int) -> None:
    bed.wait_log(_wlog(n), r"CTRL-EVENT-CONNECTED", 60)
    bed.wait_log("hostapd.log", r"AP-STA-CONNECTED " + STATIONS[n][3], 30)


def address(n: int) -> None:
    ns, _, iface, _, ip = STATIONS[n]
    sh(["ip", "addr", "add", f"{ip}/24", "dev", iface], ns=ns)


def ping(n: int, dst: str, count: int = 2) -> bool:
    out = subprocess.run(["ip", "netns", "exec", STATIONS[n][0], "busybox", "ping", "-c", str(count), "-W", "3",
                          dst], capture_output=True, text=True, timeout=60, check=False)
    return out.returncode == 0


def hostapd_text(bed: Bed) -> str:
    p = Path(bed.logs.get("hostapd.log", ""))
    return p.read_text(errors="replace") if p.is_file() else ""


# -- scenarios ---------------------------------------------------------------------------------
def r2wifi_hidden(bed: Bed) -> None:
    """Hidden SSID: a plain scan shows the BSSID with an empty SSID; scan_ssid=1 joins."""
    ap = FeatureAp(bed, ap="hidden = true")
    ap.start()
    ns, _, iface, _, _ = STATIONS[1]
    sh(["ip", "link", "set", iface, "up"], ns=ns)
    scans: list[str] = []

    def bss_seen() -> bool:
        out = sh(["iw", "dev", iface, "scan", "freq", "2412"], ns=ns, check=False, timeout=60)
        scans.append(out)
        return re.search(rf"^BSS {sc.AP_MAC}", out, re.M) is not None

    bed.wait_for(bss_seen, "plain scan: the AP's BSSID", 60)
    block = re.split(r"^BSS ", scans[-1], flags=re.M)
    mine = next(b for b in block if b.startswith(sc.AP_MAC))
    m = re.search(r"^\s*SSID:(.*)$", mine, re.M)
    bed.data["scan_ssid_of_bssid"] = m.group(1).strip() if m else None
    bed.data["ssid_in_plain_scans"] = any(sc.SSID in s for s in scans)
    bed.write_log("scan.log", scans[-1])
    sh(["ip", "link", "set", iface, "down"], ns=ns)
    station(bed, 1, scan_ssid=True)
    connected(bed, 1)
    ap.finish()


def _isolation(bed: Bed, isolate: bool) -> None:
    ap = FeatureAp(bed, ap=f"isolate_clients = {'true' if isolate else 'false'}")
    add_station2(bed)
    ap.start()
    for n in STATIONS:
        station(bed, n)
    for n in STATIONS:
        connected(bed, n)
        address(n)
    for n in STATIONS:
        bed.wait_for(partial(ping, n, sc.AP_IP), f"station {n} pings the AP", 60)
    peer = STATIONS[2][4]
    if isolate:
        bed.data["peer_ping"] = bed.step("station 1 pings station 2 (expected to fail)",
                                         lambda: ping(1, peer, count=5))
        bed.data["ap_ping_after"] = ping(1, sc.AP_IP)  # the link still works after the failed peer ping
    else:
        bed.wait_for(lambda: ping(1, peer), "station 1 pings station 2", 60)
        bed.data["peer_ping"] = True
    bed.data["neigh"] = sh(["ip", "neigh", "show", "dev", STATIONS[1][2]], ns=STATIONS[1][0], check=False)
    ap.finish()


def r2wifi_isolate(bed: Bed) -> None:
    """isolate_clients = true: both stations reach the AP, not each other."""
    _isolation(bed, True)


def r2wifi_no_isolate(bed: Bed) -> None:
    """Control: isolate_clients = false, the stations reach each other."""
    _isolation(bed, False)


def _mac_filter(bed: Bed, mode: str) -> None:
    # allow: only station 2 on the list; deny: station 1 on the list. Station 1 is refused either way.
    listed = STATIONS[2][3] if mode == "allow" else STATIONS[1][3]
    ap = FeatureAp(bed, mac_filter=f"[ap.mac_filter]\nmode = \"{mode}\"\nmacs = [\"{listed.upper()}\"]\n")
    add_station2(bed)
    ap.start()
    station(bed, 1)
    station(bed, 2)
    connected(bed, 2)
    # the refused station keeps trying: wait for its second rejected attempt
    bed.wait_for(lambda: len(re.findall(r"CTRL-EVENT-AUTH-REJECT|CTRL-EVENT-ASSOC-REJECT",
                                        (bed.out / _wlog(1)).read_text(errors="replace"))) >= 2,
                 "station 1: 2 x AUTH/ASSOC-REJECT", 120)
    bed.data["hostapd_sta1_connected"] = f"AP-STA-CONNECTED {STATIONS[1][3]}" in hostapd_text(bed)
    bed.data["status_stations"] = [s.get("mac") for s in ap.status().get("stations") or []]
    ap.finish()


def r2wifi_mac_allow(bed: Bed) -> None:
    """mac_filter allow: the listed station joins, the other is rejected."""
    _mac_filter(bed, "allow")


def r2wifi_mac_deny(bed: Bed) -> None:
    """mac_filter deny: the listed station is rejected, the other joins."""
    _mac_filter(bed, "deny")


def udhcpc(bed: Bed, n: int) -> str | None:
    ns, _, iface, _, _ = STATIONS[n]
    script = bed.conf / "udhcpc.sh"
    script.write_text('#!/bin/sh\n[ "$1" = bound ] && ip addr add "$ip/${mask:-24}" dev "$interface"\nexit 0\n')
    script.chmod(0o755)
    out = bed.step(f"station {n}: dhcp lease", lambda: sh(["busybox", "udhcpc", "-i", iface, "-n", "-q", "-f",
                                                           "-t", "10", "-s", str(script)],
                                                          ns=ns, timeout=120, merge=True))
    m = re.search(r"lease of (\S+) obtained", str(out))
    return m.group(1) if m else None


def r2wifi_dhcp_reservation(bed: Bed) -> None:
    """[[dhcp.reservation]]: station 1 gets its reserved address and name, station 2 one from the pool."""
    res = (f"[[dhcp.reservation]]\nmac = \"{STATIONS[1][3].upper()}\"\nip = \"{RESERVED_IP}\"\n"
           f"name = \"{RESERVED_NAME}\"\n")
    ap = FeatureAp(bed, dhcp=True, reservation=res)
    add_station2(bed)
    ap.start()
    for n in STATIONS:
        station(bed, n)
    for n in STATIONS:
        connected(bed, n)
    bed.data["leases"] = {str(n): udhcpc(bed, n) for n in STATIONS}
    leases = sorted(ap.state.rglob("*.leases"))
    bed.data["lease_file"] = leases[0].read_text() if leases else None
    bed.data["status_stations"] = ap.status().get("stations")
    ap.finish()


FEATURES = {f.__name__: f for f in (r2wifi_hidden, r2wifi_isolate, r2wifi_no_isolate, r2wifi_mac_allow,
                                    r2wifi_mac_deny, r2wifi_dhcp_reservation)}
sc.SCENARIOS.update(FEATURES)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in FEATURES or args[1] != "--out":
        sys.stderr.write(f"usage: ap_features.py {{{','.join(FEATURES)}}} --out DIR\n")
        return 2
    res = sc.run(args[0], Path(args[2]))
    sys.stdout.write(json.dumps(res) + "\n")
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
