"""Rendering hostapd.conf, wpa_supplicant.conf and dnsmasq.conf: golden files, modes, real-daemon acceptance.

Golden files live in tests/hostap/golden/; after an intended change regenerate them with
``R2WIFI_REGEN_GOLDEN=1 pytest tests/hostap/test_render.py`` and review the diff.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from r2wifi.config import Config, parse_config, toml_value
from r2wifi.hostap import render
from r2wifi.hostap.daemon import Daemon
from tests.conftest import need_binary

from .bed import WiredBed

GOLDEN = Path(__file__).parent / "golden"
SRC = "/etc/r2wifi/r2wifi.toml"


def cfg_of(**sections: dict[str, object]) -> Config:
    """The config of these sections; the AP's country is DE unless given (the default is the test machine's)."""
    sections.setdefault("ap", {}).setdefault("country", "DE")
    lines = []
    for name, body in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in body.items()]
    return parse_config("\n".join(lines) + "\n", source=SRC)


OPTIONS = ('[ap]\npassphrase = "correct horse battery"\nhidden = true\nisolate_clients = true\n'
           '[ap.mac_filter]\nmode = "allow"\nmacs = ["02:08:22:00:00:10", "02:08:22:00:00:1A"]\n'
           '[[dhcp.reservation]]\nmac = "02:08:22:00:00:10"\nip = "192.168.10.10"\nname = "printer"\n'
           '[[dhcp.reservation]]\nmac = "02:08:22:00:00:1A"\nip = "192.168.10.150"\n')


def options_cfg(mode: str = "allow") -> Config:
    return parse_config(OPTIONS.replace('mode = "allow"', f'mode = "{mode}"').replace("[ap]\n", '[ap]\ncountry = "DE"\n'),
                        source=SRC)


CASES = {
    "hostapd-hidden-isolate-allow.conf": lambda: render.render_hostapd(
        options_cfg(), "/run/r2wifi/ctrl", "/run/r2wifi/conf/hostapd-ap0.maclist"
    ),
    "hostapd-deny.conf": lambda: render.render_hostapd(
        options_cfg("deny"), "/run/r2wifi/ctrl", "/run/r2wifi/conf/hostapd-ap0.maclist"
    ),
    "maclist-allow.txt": lambda: render.render_mac_file(options_cfg()),
    "dnsmasq-reservations.conf": lambda: render.render_dnsmasq(options_cfg(), "/tmp/l"),
    "hostapd-wpa2.conf": lambda: render.render_hostapd(
        cfg_of(ap={"passphrase": "correct horse battery"}), "/run/r2wifi/ctrl/hostapd-ap0"
    ),
    "hostapd-wpa3-ht40.conf": lambda: render.render_hostapd(
        cfg_of(
            ap={"security": "wpa3", "passphrase": "sae secret 1", "channel": 1, "ht_capab": "[HT40+][SHORT-GI-20]",
                "country": "US", "extra": ["beacon_int=100"]}
        ),
        "/run/r2wifi/ctrl/hostapd-ap0",
    ),
    "hostapd-transition-5ghz.conf": lambda: render.render_hostapd(
        cfg_of(chip={"names": "mtk"}, ap={"security": "wpa2-wpa3", "passphrase": "both ways ok", "hw_mode": "a",
                                          "channel": 36, "max_inactivity": 600}),
        "/var/run/r2wifi/ctrl",
    ),
    "hostapd-open-utf8.conf": lambda: render.render_hostapd(
        cfg_of(ap={"security": "open", "ssid": "Café ☕", "ieee80211n": False}), "/run/r2wifi/ctrl/h"
    ),
    "hostapd-psk.conf": lambda: render.render_hostapd(cfg_of(ap={"psk": "AB" * 32}), "/run/r2wifi/ctrl/h"),
    "wpa_supplicant-wpa2.conf": lambda: render.render_wpa_supplicant(
        cfg_of(ap={"passphrase": "x" * 8}, sta={"enabled": True, "ssid": "Home", "passphrase": "home secret"}),
        "/run/r2wifi/ctrl/wpa_supplicant-wlan0",
    ),
    "wpa_supplicant-sae-hexssid.conf": lambda: render.render_wpa_supplicant(
        cfg_of(ap={"passphrase": "x" * 8}, sta={"enabled": True, "ssid": " spaced ", "passphrase": "sae secret",
                                                 "security": "wpa3"}),
        "/run/r2wifi/ctrl/w",
    ),
    "dnsmasq-default.conf": lambda: render.render_dnsmasq(
        cfg_of(ap={"passphrase": "x" * 8}), "/run/r2wifi/dhcp/dnsmasq-ap0.leases", "/run/r2wifi/run/d.pid"
    ),
    "dnsmasq-dhcp-only.conf": lambda: render.render_dnsmasq(
        cfg_of(ap={"passphrase": "x" * 8, "address4": "10.88.0.1/24", "address6": ""},
               dhcp={"dns_port": 0, "range_start": "10.88.0.50", "range_end": "10.88.0.99", "lease_time": "1h"}),
        "/tmp/l", no_ping=True,
    ),
    "dnsmasq-dns-servers.conf": lambda: render.render_dnsmasq(
        cfg_of(ap={"passphrase": "x" * 8}, dhcp={"dns": ["9.9.9.9", "2620:fe::fe"]}), "/tmp/l"
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str):
    """The rendered file is byte-for-byte the reviewed golden file."""
    text = CASES[name]()
    path = GOLDEN / name
    if os.environ.get("R2WIFI_REGEN_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_hostapd_has_the_mt6625l_quirks_and_diagnosis_logging():
    """Every AP config carries bss_load_update_period=0, ctrl_interface, debug stdout logging, 802.11d."""
    text = render.render_hostapd(cfg_of(ap={"passphrase": "correct horse battery"}), "/x/ctrl")
    lines = text.splitlines()
    for want in ("bss_load_update_period=0", "ctrl_interface=/x/ctrl", "logger_stdout=-1",
                 "logger_stdout_level=0", "logger_syslog=0", "ieee80211d=1", "country_code=DE",
                 "ap_max_inactivity=300", "interface=ap0", "wpa=2", "wpa_key_mgmt=WPA-PSK", "rsn_pairwise=CCMP"):
        assert want in lines, want


@pytest.mark.parametrize(
    ("security", "mgmt", "pmf"),
    [("wpa2", "WPA-PSK", None), ("wpa3", "SAE", "2"), ("wpa2-wpa3", "WPA-PSK SAE", "1")],
)
def test_security_modes_pick_key_management_and_pmf(security: str, mgmt: str, pmf: str | None):
    """wpa2 -> WPA-PSK without PMF; wpa3 -> SAE with PMF required; transition -> both with PMF optional."""
    text = render.render_hostapd(cfg_of(ap={"security": security, "passphrase": "pass phrase"}), "/c")
    kv = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    assert kv["wpa_key_mgmt"] == mgmt
    assert kv.get("ieee80211w") == pmf
    assert ("sae_password" in kv) == (security != "wpa2")


def test_secret_files_are_0600_and_open_ones_0644(tmp_path: Path):
    """hostapd.conf with a passphrase is written 0600; an open network's and dnsmasq's are 0644."""
    secret = render.write_hostapd_conf(cfg_of(ap={"passphrase": "pass phrase"}), tmp_path / "a.conf", "/c")
    opened = render.write_hostapd_conf(cfg_of(ap={"security": "open"}), tmp_path / "b.conf", "/c")
    dns = render.write_dnsmasq_conf(cfg_of(ap={"passphrase": "pass phrase"}), tmp_path / "d.conf", "/l")
    sta = render.write_wpa_supplicant_conf(
        cfg_of(ap={"passphrase": "x" * 8}, sta={"enabled": True, "ssid": "s", "passphrase": "y" * 8}),
        tmp_path / "w.conf", "/c",
    )
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (secret, opened, dns, sta)}
    assert modes == {"a.conf": 0o600, "b.conf": 0o644, "d.conf": 0o644, "w.conf": 0o600}


def test_mac_filter_file_lies_beside_hostapd_conf(tmp_path: Path):
    """write_hostapd_conf writes the MAC list beside hostapd.conf (0600, lower-case) and points hostapd at it;
    with the filter off no list is written and macaddr_acl stays 0."""
    conf = render.write_hostapd_conf(options_cfg(), tmp_path / "hostapd-ap0.conf", tmp_path / "ctrl")
    maclist = tmp_path / "hostapd-ap0.maclist"
    assert f"accept_mac_file={maclist}\n" in conf.read_text() and "macaddr_acl=1\n" in conf.read_text()
    assert maclist.read_text().splitlines()[-2:] == ["02:08:22:00:00:10", "02:08:22:00:00:1a"]
    assert stat.S_IMODE(maclist.stat().st_mode) == 0o600
    off = render.write_hostapd_conf(cfg_of(ap={"passphrase": "x" * 8}), tmp_path / "o.conf", tmp_path / "ctrl")
    text = off.read_text()
    assert "macaddr_acl=0\n" in text and "_mac_file" not in text and not (tmp_path / "o.maclist").exists()
    assert "ignore_broadcast_ssid=0\n" in text and "ap_isolate" not in text


def test_real_dnsmasq_accepts_the_reservations(tmp_path: Path):
    """dnsmasq's own syntax check passes the rendered file with dhcp-host lines, and fails a damaged one."""
    dnsmasq = need_binary("dnsmasq")
    conf = render.write_dnsmasq_conf(options_cfg(), tmp_path / "d.conf", tmp_path / "l")
    assert "dhcp-host=02:08:22:00:00:10,192.168.10.10,printer\n" in conf.read_text()
    p = subprocess.run([dnsmasq, "--test", f"--conf-file={conf}"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0 and "syntax check OK" in p.stdout + p.stderr, p.stderr
    conf.write_text(conf.read_text().replace(",printer", ",pr inter"))  # what config's host-name rule refuses
    p = subprocess.run([dnsmasq, "--test", f"--conf-file={conf}"], capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "bad DHCP host name" in p.stderr


def _hostapd_verdict(conf: Path, bed: WiredBed) -> tuple[bool, str]:
    """Run hostapd on ``conf`` (through the daemon runner) until it rejects the file or starts the interface."""
    d = Daemon(conf.stem, [need_binary("hostapd"), str(conf)], netns=bed.ns_ap, root=bed.root)
    d.start()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            out = "\n".join(d.log_tail(200))
            if "interface state UNINITIALIZED->" in out:
                return True, out
            if not d.alive() and d.returncode() is not None:
                d.stop()  # reaps the log pump: the log is complete now
                return False, "\n".join(d.log_tail(200))
            time.sleep(0.02)
        raise AssertionError(f"hostapd neither started nor failed: {out}")
    finally:
        d.stop(timeout=3)


@pytest.mark.root
@pytest.mark.netns
def test_real_hostapd_accepts_every_rendered_mode():
    """Real hostapd parses the rendered config of every security mode (driver=wired on a veth), and
    rejects a config with a bad extra line (so the check can fail)."""
    need_binary("hostapd")
    bed = WiredBed()
    try:
        for i, ap in enumerate([
            {"passphrase": "correct horse battery"},
            {"security": "wpa3", "passphrase": "sae secret 1", "ht_capab": "[SHORT-GI-20]"},
            {"security": "wpa2-wpa3", "passphrase": "both ways ok", "hw_mode": "a", "channel": 36},
            {"security": "open", "ssid": "Café ☕"},
            {"psk": "ab" * 32, "extra": ["beacon_int=200"]},
        ]):
            cfg = cfg_of(ap={**ap, "interface": bed.if_ap, "driver": "wired"})
            conf = render.write_hostapd_conf(cfg, bed.root / f"h{i}.conf", bed.root / "ctrl")
            ok, out = _hostapd_verdict(conf, bed)
            assert ok and "errors found" not in out, out
        for mode in ("allow", "deny"):  # hidden, ap_isolate and the MAC list file
            text = OPTIONS.replace('mode = "allow"', f'mode = "{mode}"').replace(
                "[ap]\n", f'[ap]\ninterface = "{bed.if_ap}"\ndriver = "wired"\n', 1)
            conf = render.write_hostapd_conf(parse_config(text), bed.root / f"{mode}.conf", bed.root / "ctrl")
            ok, out = _hostapd_verdict(conf, bed)
            assert ok and "errors found" not in out, out
        bad = cfg_of(ap={"passphrase": "correct horse battery", "interface": bed.if_ap, "driver": "wired",
                         "extra": ["no_such_option=1"]})
        conf = render.write_hostapd_conf(bad, bed.root / "bad.conf", bed.root / "ctrl")
        ok, out = _hostapd_verdict(conf, bed)
        assert not ok and "unknown configuration item 'no_such_option'" in out
    finally:
        bed.close()


def _wpas_parses(wpas: str, conf: Path) -> tuple[bool, str]:
    """Run wpa_supplicant's config parser on ``conf`` (the nonexistent interface fails only afterwards)."""
    p = subprocess.run([wpas, "-dd", "-i", "r2wnosuch0", "-c", str(conf)], capture_output=True, text=True, timeout=20)
    out = p.stdout + p.stderr
    ok = "Reading configuration file" in out and "Priority group" in out and "Failed to read or parse" not in out
    return ok, out


def test_real_wpa_supplicant_parses_the_station_config(tmp_path: Path):
    """wpa_supplicant's own parser accepts every rendered station config and rejects a damaged one."""
    wpas = need_binary("wpa_supplicant")
    for i, sta in enumerate([
        {"ssid": "Home", "passphrase": "home secret"},
        {"ssid": " spaced ", "passphrase": "sae secret", "security": "wpa3"},
        {"ssid": "Cafe", "security": "open"},
        {"ssid": "Hex", "psk": "cd" * 32},
        {"ssid": "Both", "passphrase": "both secret", "security": "wpa2-wpa3"},
    ]):
        cfg = cfg_of(ap={"passphrase": "x" * 8}, sta={"enabled": True, **sta})
        conf = render.write_wpa_supplicant_conf(cfg, tmp_path / f"w{i}.conf", tmp_path / "c")
        ok, out = _wpas_parses(wpas, conf)
        assert ok, out
    damaged = tmp_path / "damaged.conf"
    damaged.write_text(conf.read_text().replace("scan_ssid=1", "scan_sid=1"))
    ok, out = _wpas_parses(wpas, damaged)
    assert not ok and "unknown network field 'scan_sid'" in out
