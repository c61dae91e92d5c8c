"""Board twin in deb mode (issue 12): r2wifi installed the way an owner installs it, then used from that install.

The twin boots the deb-mode root (tools/twin/build.py ``build_deb_rootfs``: apt, dpkg, a dpkg status of the
base set without r2wifi's dependencies, a local repository of bookworm armhf .debs; no wheel layer) and runs
``apt-get install -y ./r2wifi_*.deb`` (the .deb of ``scripts/package``): apt resolves python3-pyroute2,
python3-rich, python3-segno, hostapd, dnsmasq-base, iw and iproute2 from the repository, dpkg runs every
maintainer script; no pip. The busybox scenario runs here too (not in the default boot, which keeps its
time): r2wifi from the .deb with a PATH of busybox applets plus the binaries an OpenWrt image has as
packages (packaging/openwrt/r2wifi/Makefile's DEPENDS), and no machine id.
"""

from __future__ import annotations

import re

import pytest
from twin.guestops import PASSPHRASE, Guest

from r2wifi import __version__

# the first test's time includes the module's boot and the apt install under TCG (190 s at load 2)
pytestmark = [pytest.mark.twin, pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(2400)]

#: r2wifi's Depends (debian/control) and the version bookworm has of the pinned ones
DEPENDS = {"python3-pyroute2": "0.7.2", "python3-rich": "13.3.1", "python3-segno": "1.4.1", "hostapd": "",
           "dnsmasq-base": "", "iw": "", "iproute2": ""}
#: the busybox-only PATH: busybox's applets + what OpenWrt installs as packages for r2wifi (python3-light,
#: hostapd / wpad, dnsmasq, iw); nothing of Debian's coreutils, iproute2, procps, kmod, util-linux
BB_DIR = "/opt/busybox-only"
OPENWRT_BINARIES = ("python3", "hostapd", "wpa_supplicant", "dnsmasq", "iw")


def _installed_version(guest: Guest, pkg: str) -> str:
    res = guest.sh(f"dpkg-query -W -f '${{Status}}|${{Version}}' {pkg}")
    status, _, version = res.out.partition("|")
    return version if res.ok and status == "install ok installed" else f"not installed: {res.out} {res.err}"


def _up_and_join(guest: Guest, *, env: dict[str, str] | None = None) -> dict[str, object]:
    guest.need_chip()
    guest.ap_config(security="wpa2")
    up = guest.vm.run(["/usr/bin/r2wifi", "up", "--ap"], env=env, timeout=300)
    assert up.ok, f"up --ap rc={up.rc}: {up.err[-1500:]}"
    status = guest.status()
    assert status.get("chip", {}).get("powered") is True, status
    assert (status.get("hostapd") or {}).get("state") == "ENABLED", status
    st = guest.station()
    assert st["connected"] and st["lease"] and st["ping"], st
    assert re.fullmatch(r"192\.168\.10\.1\d\d", str(st["lease"])), st
    ap_log = guest.log_of("hostapd")
    assert "AP-STA-CONNECTED" in ap_log and "EAPOL-4WAY-HS-COMPLETED" in ap_log, ap_log[-1500:]
    assert PASSPHRASE not in ap_log + guest.log_of("dnsmasq")
    return st


def test_deb_installs_with_apts_dependency_resolution(guest_deb: Guest) -> None:
    """apt installs the .deb and pulls Debian's python3-pyroute2 0.7.2, rich, segno, hostapd ... from the repository."""
    inst = guest_deb.tw.deb_install
    assert inst is not None and inst.ok, f"apt-get rc={inst.install.rc if inst else None}: see apt-install.log"
    out = inst.install.out
    new = re.search(r"The following NEW packages will be installed:\n((?:  .*\n)+)", out)
    assert new, out[-2000:]
    assert set(DEPENDS) | {"r2wifi"} <= set(new.group(1).split()), new.group(1)
    for pkg in [*DEPENDS, "r2wifi"]:
        assert re.search(rf"^Setting up {re.escape(pkg)}(:armhf)? \(", out, re.M), f"{pkg} was not configured"
    assert _installed_version(guest_deb, "r2wifi") == __version__
    for pkg, version in DEPENDS.items():
        got = _installed_version(guest_deb, pkg)
        assert re.match(rf"\d*:?{re.escape(version)}", got), (pkg, got)
    where = guest_deb.sh("python3 -c 'import r2wifi, pyroute2; print(r2wifi.__file__); print(pyroute2.__file__)'")
    mod, pyr = where.out.split()
    assert mod == "/usr/lib/python3/dist-packages/r2wifi/__init__.py", where.out
    owners = guest_deb.sh(f"dpkg -S {mod} {pyr}").out
    assert f"r2wifi: {mod}" in owners and f"python3-pyroute2: {pyr}" in owners, owners
    assert not guest_deb.sh("test -e /.twin-r2wifi").ok, "the wheel layer is mounted"
    assert not guest_deb.sh("python3 -m pip --version").ok, "pip is in the guest"
    ver = guest_deb.r2("--version")
    assert ver.ok and ver.out.strip() == f"r2wifi {__version__}", ver.err


def test_up_ap_from_the_deb_wpa2_station_joins(guest_deb: Guest) -> None:
    """From the apt-installed r2wifi, `up --ap` on the simulated chip: a WPA2 station joins, gets a lease and pings."""
    st = _up_and_join(guest_deb)
    stations = guest_deb.status().get("stations") or []
    assert any(s.get("ip") == st["lease"] for s in stations), stations


def test_busybox_only_path_and_no_machine_id(guest_deb: Guest) -> None:
    """PATH of busybox applets + OpenWrt's packages, no machine id: a stable MAC twice, `up --ap`, a station joins."""
    made = guest_deb.sh(
        f"set -e; rm -rf {BB_DIR}; mkdir -p {BB_DIR}; for a in $(busybox --list); do ln -s /bin/busybox {BB_DIR}/$a; done; "
        f"for t in {' '.join(OPENWRT_BINARIES)}; do ln -sf \"$(command -v $t)\" {BB_DIR}/$t; done; "
        "for f in /etc/machine-id /var/lib/dbus/machine-id; do [ ! -e $f ] || mv $f $f.away; done; "
        "rm -f /etc/r2wifi/mac-seed")
    assert made.ok, made.err
    listing = guest_deb.sh(f"ls {BB_DIR}").out.split()
    assert {"udhcpc", "modprobe", "sysctl", "ip", *OPENWRT_BINARIES} <= set(listing), listing
    non_busybox = guest_deb.sh(f"for f in {BB_DIR}/*; do readlink $f; done | grep -v '^/bin/busybox$'").out.split()
    assert sorted(non_busybox) == sorted(guest_deb.sh(f"for t in {' '.join(OPENWRT_BINARIES)}; do command -v $t; done").out.split())
    assert not guest_deb.sh("test -e /etc/machine-id -o -e /var/lib/dbus/machine-id").ok
    env = {"PATH": BB_DIR}
    first = guest_deb.vm.run(["/usr/bin/r2wifi", "firmware", "mac", "--stable"], env=env, timeout=300)
    second = guest_deb.vm.run(["/usr/bin/r2wifi", "firmware", "mac", "--stable"], env=env, timeout=300)
    mac = re.search(r"MAC set to (02:08:22(:[0-9a-f]{2}){3})", first.out)
    assert first.ok and mac, (first.out, first.err)
    assert second.ok and f"MAC set to {mac.group(1)} (already set, unchanged)" in second.out, (second.out, second.err)
    assert guest_deb.sh("cat /etc/r2wifi/mac-seed").out.strip(), "the seed r2wifi stores once is missing"
    shown = guest_deb.vm.run(["/usr/bin/r2wifi", "firmware", "mac"], env=env, timeout=300)
    assert shown.out.strip().endswith(mac.group(1)), shown.out
    _up_and_join(guest_deb, env=env)
