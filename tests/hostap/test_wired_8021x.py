"""Acceptance: real hostapd (driver=wired) and wpa_supplicant (-Dwired) in two network namespaces do an
IEEE 802.1X exchange over a veth pair, driven through r2wifi's daemon runner and control client; dnsmasq
rendered from an r2wifi config hands a lease to busybox udhcpc in the other namespace."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator

import pytest

from r2wifi.config import parse_config, toml_value
from r2wifi.hostap.ctrl import CtrlClient, CtrlError, wait_ready
from r2wifi.hostap.daemon import Daemon, dnsmasq_daemon, hostapd_daemon, wpa_supplicant_daemon
from r2wifi.hostap.render import hostapd_argv, wpa_supplicant_argv
from tests.conftest import need_binary

from .bed import WiredBed, hostapd_8021x_conf, wpas_8021x_conf
from .test_daemon import STAMP, wait_for_log

pytestmark = [pytest.mark.root, pytest.mark.netns]

PSK_KEY = "0123456789abcdef0123456789abcdef"


class Wired:
    """A bed with hostapd running and an attached control client (``self.ap``)."""

    def __init__(self, bed: WiredBed) -> None:
        self.bed = bed
        self.hostapd = bed.track(Daemon("hostapd-w", [], netns=bed.ns_ap, root=bed.root))
        self.hostapd.conf_file.parent.mkdir(parents=True, exist_ok=True)
        self.hostapd.conf_file.write_text(hostapd_8021x_conf(bed, self.hostapd.ctrl_dir))
        self.hostapd.argv = hostapd_argv(self.hostapd.conf_file, binary=need_binary("hostapd"))
        self.hostapd.start()
        self.ap = wait_ready(self.hostapd.ctrl_dir / bed.if_ap, alive=self.hostapd.alive, timeout=20)

    def supplicant(self, eap: str, identity: str, password: str) -> Daemon:
        w = self.bed.track(Daemon(f"wpas-{eap.lower()}", [], netns=self.bed.ns_sta, root=self.bed.root))
        w.conf_file.parent.mkdir(parents=True, exist_ok=True)
        w.conf_file.write_text(wpas_8021x_conf(w.ctrl_dir, eap, identity, password))
        w.argv = wpa_supplicant_argv(w.conf_file, self.bed.if_sta, driver="wired",
                                     binary=need_binary("wpa_supplicant"))
        w.ctrl_path = w.ctrl_dir / self.bed.if_sta
        w.start()
        return w


@pytest.fixture
def wired() -> Iterator[Wired]:
    need_binary("hostapd")
    need_binary("wpa_supplicant")
    bed = WiredBed()
    try:
        w = Wired(bed)
        yield w
        w.ap.close()
    finally:
        bed.close()


def test_eap_psk_success_station_lookup_reauth_and_logoff(wired: Wired):
    """EAP-PSK succeeds on both sides, STA shows the authorized station, EAPOL_REAUTH re-authenticates,
    and the supplicant's LOGOFF makes hostapd report AP-STA-DISCONNECTED."""
    mac = wired.bed.sta_mac
    wpas = wired.supplicant("PSK", "psk-user", PSK_KEY)
    sta = wait_ready(wpas.ctrl_path, kind="wpa_supplicant", alive=wpas.alive, timeout=30)  # type: ignore[arg-type]
    try:
        status = sta.status()
        assert status["wpa_state"] == "COMPLETED" and status["suppPortStatus"] == "Authorized"
        assert status["selectedMethod"].endswith("(EAP-PSK)")
        ok = wired.ap.wait_event({"CTRL-EVENT-EAP-SUCCESS"}, timeout=10)
        conn = wired.ap.wait_event({"AP-STA-CONNECTED"}, timeout=10)
        assert ok is not None and conn is not None and ok.mac == conn.mac == mac

        info = wired.ap.sta(mac)
        assert info is not None and "[AUTHORIZED]" in info["flags"]
        assert info["dot1xAuthSessionUserName"] == "psk-user"
        assert list(wired.ap.all_sta()) == [mac]
        reauths = int(info["dot1xAuthAuthReauthsWhileAuthenticated"])

        wired.ap.clear_events()
        assert wired.ap.request(f"EAPOL_REAUTH {mac}").strip() == "OK"
        again = wired.ap.wait_event({"CTRL-EVENT-EAP-SUCCESS"}, timeout=15)
        assert again is not None and again.mac == mac
        info = wired.ap.sta(mac)
        assert info is not None and int(info["dot1xAuthAuthReauthsWhileAuthenticated"]) == reauths + 1

        assert sta.request("LOGOFF").strip() == "OK"
        gone = wired.ap.wait_event({"AP-STA-DISCONNECTED"}, timeout=15)
        assert gone is not None and gone.mac == mac
    finally:
        sta.close()
    # the captured log (for `r2wifi diagnose`) has the event too; it is written asynchronously, so wait for it
    log = wait_for_log(wired.hostapd, f"AP-STA-CONNECTED {mac}")
    assert any(line.endswith(f"AP-STA-CONNECTED {mac}") and STAMP.match(line) for line in log)


def test_eap_md5_wrong_password_fails(wired: Wired):
    """A wrong EAP-MD5 password ends in CTRL-EVENT-EAP-FAILURE on both sides and no authorized station."""
    mac = wired.bed.sta_mac
    wpas = wired.supplicant("MD5", "md5-user", "not-the-secret")
    assert wpas.ctrl_path is not None
    with pytest.raises(CtrlError, match="wpa_supplicant failed: CTRL-EVENT-EAP-FAILURE"):
        wait_ready(wpas.ctrl_path, kind="wpa_supplicant", alive=wpas.alive, timeout=30,
                   fail_events={"CTRL-EVENT-EAP-FAILURE"})
    fail = wired.ap.wait_event({"CTRL-EVENT-EAP-FAILURE", "CTRL-EVENT-EAP-SUCCESS"}, timeout=30)
    assert fail is not None and fail.name == "CTRL-EVENT-EAP-FAILURE" and fail.mac == mac
    assert wired.ap.wait_event({"AP-STA-CONNECTED"}, timeout=0.2, raise_timeout=False) is None
    wait_for_log(wpas, "CTRL-EVENT-EAP-FAILURE")
    with CtrlClient(wpas.ctrl_path) as sta:
        assert sta.status().get("suppPortStatus") == "Unauthorized"
    info = wired.ap.sta(mac)
    assert info is None or "[AUTHORIZED]" not in info.get("flags", "")


def test_eap_md5_right_password_succeeds(wired: Wired):
    """The same MD5 user with the right password is authorized (the failure above is the password's)."""
    wpas = wired.supplicant("MD5", "md5-user", "md5-secret")
    ev = wired.ap.wait_event({"CTRL-EVENT-EAP-FAILURE", "AP-STA-CONNECTED"}, timeout=30)
    assert ev is not None and ev.name == "AP-STA-CONNECTED" and ev.mac == wired.bed.sta_mac
    assert wpas.alive()


@pytest.mark.parametrize("security", ["wpa2", "wpa3", "open"])
def test_hostapd_from_config_becomes_enabled(security: str):
    """hostapd_daemon() renders an r2wifi config (driver=wired), starts it in a netns, and wait_ready()
    sees state=ENABLED; the config file is 0600 when it holds a passphrase; stop leaves nothing running."""
    need_binary("hostapd")
    bed = WiredBed()
    try:
        secret = 'passphrase = "correct horse battery"\n' if security != "open" else ""
        cfg = parse_config(f'[ap]\ninterface = "{bed.if_ap}"\ndriver = "wired"\nsecurity = "{security}"\n{secret}')
        d = bed.track(hostapd_daemon(cfg, netns=bed.ns_ap, root=bed.root))
        assert (d.conf_file.stat().st_mode & 0o777) == (0o644 if security == "open" else 0o600)
        d.start()
        assert d.ctrl_path is not None
        c = wait_ready(d.ctrl_path, alive=d.alive, timeout=20)
        try:
            status = c.status()
            assert status["state"] == "ENABLED" and status["bss[0]"] == bed.if_ap
            assert c.request("GET_CONFIG").count("key_mgmt=") == (0 if security == "open" else 1)
        finally:
            c.close()
        assert d.stop(timeout=5) and not d.alive()
        log = "\n".join(d.log_tail(50))
        assert "AP-ENABLED" in log and "CTRL-EVENT-TERMINATING" in log
        assert "correct horse" not in log
    finally:
        bed.close()


def test_wpa_supplicant_from_config_connects():
    """wpa_supplicant_daemon() renders the [sta] section (open, driver=wired), starts it in the station
    namespace, and wait_ready() sees wpa_state=COMPLETED with the configured SSID."""
    need_binary("wpa_supplicant")
    bed = WiredBed()
    try:
        cfg = parse_config(f'[ap]\npassphrase = "unused here"\n[sta]\nenabled = true\ninterface = "{bed.if_sta}"\n'
                           'driver = "wired"\nssid = "Garten"\nsecurity = "open"\n')
        d = bed.track(wpa_supplicant_daemon(cfg, netns=bed.ns_sta, root=bed.root))
        d.start()
        assert d.ctrl_path is not None
        c = wait_ready(d.ctrl_path, kind="wpa_supplicant", alive=d.alive, timeout=20)
        try:
            status = c.status()
            assert status["wpa_state"] == "COMPLETED" and status["ssid"] == "Garten"
            assert status["address"] == bed.sta_mac
        finally:
            c.close()
        assert d.stop(timeout=5)
    finally:
        bed.close()


def test_dnsmasq_from_config_leases_to_udhcpc():
    """dnsmasq rendered from an r2wifi config (DHCP only, no-ping) gives busybox udhcpc a lease from the range."""
    need_binary("dnsmasq")
    busybox = need_binary("busybox")
    bed = WiredBed()
    try:
        subprocess.run(["ip", "netns", "exec", bed.ns_ap, "ip", "addr", "add", "10.88.0.1/24", "dev", bed.if_ap],
                       check=True)
        text = "\n".join([
            "[ap]", f"interface = {toml_value(bed.if_ap)}", 'passphrase = "not used here"',
            'address4 = "10.88.0.1/24"', 'address6 = ""',
            "[dhcp]", 'range_start = "10.88.0.50"', 'range_end = "10.88.0.99"', 'lease_time = "1h"', "dns_port = 0",
        ])
        cfg = parse_config(text + "\n")
        d = bed.track(dnsmasq_daemon(cfg, netns=bed.ns_ap, no_ping=True, root=bed.root))
        d.start()
        wait_for_log(d, "DHCP, IP range 10.88.0.50 -- 10.88.0.99")
        p = subprocess.run(
            ["ip", "netns", "exec", bed.ns_sta, busybox, "udhcpc", "-i", bed.if_sta, "-n", "-q", "-f",
             "-s", "/bin/true", "-t", "5", "-T", "1"],
            capture_output=True, text=True, timeout=60,
        )
        out = p.stdout + p.stderr
        assert p.returncode == 0, out
        m = re.search(r"lease of (10\.88\.0\.(\d+)) obtained from 10\.88\.0\.1", out)
        assert m is not None, out
        assert 50 <= int(m.group(2)) <= 99  # inside the configured range
        lines = wait_for_log(d, "DHCPACK")
        assert any(f"DHCPACK({bed.if_ap}) {m.group(1)} {bed.sta_mac}" in line for line in lines), lines
        assert d.lease_file is not None
        deadline = time.monotonic() + 20  # dnsmasq rewrites the lease file just after the ACK
        while bed.sta_mac not in (d.lease_file.read_text() if d.lease_file.exists() else ""):
            assert time.monotonic() < deadline, "lease never written"
            time.sleep(0.02)
    finally:
        bed.close()
