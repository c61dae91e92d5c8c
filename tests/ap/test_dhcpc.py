"""The station's DHCP client hook (r2wifi.net.dhcpc): lease parsing and resolv.conf handling, no root needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from r2wifi.net import dhcpc


def test_lease_is_read_from_udhcpc_environment() -> None:
    """ip/mask/router/dns/lease as udhcpc exports them become one lease record (first router wins)."""
    lease = dhcpc.lease_from_env({"ip": "10.0.0.7", "mask": "24", "router": "10.0.0.1 10.0.0.2",
                                  "dns": "10.0.0.1 2001:db8::1", "lease": "3600", "serverid": "10.0.0.1"})
    assert lease == {"address": "10.0.0.7/24", "router": "10.0.0.1", "dns": ["10.0.0.1", "2001:db8::1"],
                     "lease_seconds": 3600, "server": "10.0.0.1"}
    assert dhcpc.lease_from_env({"ip": "192.168.1.9", "subnet": "255.255.255.128"})["address"] == "192.168.1.9/25"


def test_a_malformed_lease_is_refused_by_the_hook_without_touching_anything(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A garbage address from the server: the hook exits 1 with the reason; no lease is recorded."""
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(tmp_path))
    rc = dhcpc.hook_main(["bound"], {"interface": "wlan0", "ip": "10.0.0.300", "mask": "24"})
    assert rc == 1 and dhcpc.read_lease(tmp_path / "ap", "wlan0") is None


def test_dns_is_written_and_the_original_restored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """resolv.conf gets the lease's servers; the original (kept once, across renewals) comes back on release."""
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 9.9.9.9\n")
    monkeypatch.setenv("R2WIFI_RESOLV_CONF", str(resolv))
    dhcpc.set_dns(tmp_path, "wlan0", ["10.0.0.1"])
    dhcpc.set_dns(tmp_path, "wlan0", ["10.0.0.2"])  # a renewal with another server
    assert resolv.read_text().endswith("nameserver 10.0.0.2\n")
    assert dhcpc.restore_dns(tmp_path, "wlan0") and resolv.read_text() == "nameserver 9.9.9.9\n"
    assert not dhcpc.restore_dns(tmp_path, "wlan0")  # nothing left to restore


def test_a_resolv_conf_that_did_not_exist_is_removed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No resolv.conf before the lease: releasing it leaves none (not an empty file)."""
    resolv = tmp_path / "resolv.conf"
    monkeypatch.setenv("R2WIFI_RESOLV_CONF", str(resolv))
    dhcpc.set_dns(tmp_path, "wlan0", ["10.0.0.1"])
    assert resolv.read_text().endswith("nameserver 10.0.0.1\n")
    assert dhcpc.restore_dns(tmp_path, "wlan0") and not resolv.exists()


def test_a_managed_resolv_conf_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolv.conf that is a symlink (systemd-resolved, resolvconf) is not replaced."""
    target = tmp_path / "stub-resolv.conf"
    target.write_text("nameserver 127.0.0.53\n")
    link = tmp_path / "resolv.conf"
    link.symlink_to(target)
    monkeypatch.setenv("R2WIFI_RESOLV_CONF", str(link))
    assert "left alone" in dhcpc.set_dns(tmp_path, "wlan0", ["10.0.0.1"])
    assert link.is_symlink() and target.read_text() == "nameserver 127.0.0.53\n"


def test_hook_script_runs_this_interpreter_without_a_shell(tmp_path: Path) -> None:
    """The udhcpc script is an executable Python file (0755) calling hook_main."""
    hook = dhcpc.write_hook(tmp_path / "dhcpc-wlan0.hook")
    text = hook.read_text()
    assert text.startswith("#!/") and "hook_main" in text and (hook.stat().st_mode & 0o777) == 0o755
    argv = dhcpc.client_argv("wlan0", hook)
    if argv is not None:
        assert argv[-10:-6] == ["-i", "wlan0", "-s", str(hook)] and "-R" in argv
