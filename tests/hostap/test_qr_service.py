"""`r2wifi ap qr` (join QR code) and `r2wifi service install` (systemd / OpenWrt / SysV files)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
from pathlib import Path

import pytest

from r2wifi.hostap.qr import wifi_qr_payload
from r2wifi.service.files import render_service

PASS = "s3cret;pass"


def write_cfg(tmp_path: Path, **ap: str) -> Path:
    f = tmp_path / "r2wifi.toml"
    body = {"ssid": "My;Net", "passphrase": PASS, **ap}
    f.write_text("[ap]\n" + "".join(f'{k} = "{v}"\n' for k, v in body.items()))
    return f


def test_payload_escapes_special_characters():
    """; , : \\ and " in SSID and password are backslash-escaped; T is WPA, SAE or nopass."""
    assert wifi_qr_payload('a;b,c:d\\e"f', "wpa2", "p;w") == 'WIFI:T:WPA;S:a\\;b\\,c\\:d\\\\e\\"f;P:p\\;w;;'
    assert wifi_qr_payload("Home", "wpa3", "pw123456") == "WIFI:T:SAE;S:Home;P:pw123456;;"
    assert wifi_qr_payload("Bistro", "open", "") == "WIFI:T:nopass;S:Bistro;;"
    assert wifi_qr_payload("Home", "wpa2-wpa3", "pw123456", hidden=True) == "WIFI:T:WPA;S:Home;P:pw123456;H:true;;"


def test_hex_looking_values_are_quoted():
    """An SSID or password made only of hex digits is quoted so readers do not decode it as hex."""
    assert wifi_qr_payload("CAFE", "wpa2", "12345678") == 'WIFI:T:WPA;S:"CAFE";P:"12345678";;'


def test_cli_qr_draws_the_code_and_warns_without_printing_the_passphrase(run_cli, tmp_path: Path):
    """`ap qr` draws a QR code, warns on stderr, and the passphrase never appears as text."""
    p = run_cli("ap", "qr", "--config", str(write_cfg(tmp_path)))
    assert p.returncode == 0, p.stderr
    assert "█" in p.stdout or "▀" in p.stdout
    assert "SSID: My;Net" in p.stdout
    assert "warning" in p.stderr and "passphrase" in p.stderr
    assert PASS not in p.stdout + p.stderr and "s3cret" not in p.stdout + p.stderr


def test_cli_qr_png_is_private_and_decodes_to_the_payload(run_cli, tmp_path: Path):
    """`ap qr --png F` writes a 0600 PNG that is exactly the QR code of the escaped join payload."""
    import segno

    out = tmp_path / "join.png"
    p = run_cli("ap", "qr", "--no-terminal", "--png", str(out), "--scale", "2", "--config", str(write_cfg(tmp_path)))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert PASS not in p.stdout
    expected = io.BytesIO()
    segno.make(wifi_qr_payload("My;Net", "wpa2", PASS), error="m", micro=False).save(
        expected, kind="png", scale=2, border=4
    )
    assert out.read_bytes() == expected.getvalue()  # exactly the code of the escaped payload


def test_cli_qr_with_bad_config_is_one_line(run_cli, tmp_path: Path):
    """`ap qr` on a config with a bad SSID fails with one line naming ap.ssid, exit 2, no PNG."""
    f = write_cfg(tmp_path, ssid="x" * 40)
    p = run_cli("ap", "qr", "--png", str(tmp_path / "q.png"), "--config", str(f))
    assert p.returncode == 2 and p.stderr.startswith("r2wifi: error: ap.ssid:") and p.stderr.count("\n") == 1
    assert not (tmp_path / "q.png").exists()


# -- service files ---------------------------------------------------------------------------


def test_systemd_unit_has_notify_watchdog_and_restart():
    """The unit is Type=notify with WatchdogSec, runs `r2wifi run --config`, restarts on failure."""
    text = render_service("systemd", "/usr/bin/r2wifi", "/etc/r2wifi/r2wifi.toml", watchdog=45)
    lines = text.splitlines()
    for want in ("Type=notify", "WatchdogSec=45", "Restart=on-failure",
                 "ExecStart=/usr/bin/r2wifi run --down-on-exit --config /etc/r2wifi/r2wifi.toml", "WantedBy=multi-user.target"):
        assert want in lines, want
    assert "@" not in text.replace("r2wifi@", "")  # every placeholder replaced


@pytest.mark.parametrize("kind", ["openwrt", "sysv"])
def test_init_scripts_are_valid_shell(kind: str, tmp_path: Path):
    """The OpenWrt and SysV scripts pass `sh -n` and start `r2wifi run` with the config."""
    text = render_service(kind, "/usr/bin/r2wifi", "/etc/r2wifi/r2wifi.toml")
    f = tmp_path / "init"
    f.write_text(text)
    subprocess.run(["sh", "-n", str(f)], check=True)
    assert 'PROG="/usr/bin/r2wifi"' in text and "run --config" in text
    if kind == "openwrt":
        assert "USE_PROCD=1" in text and "START=19" in text and "procd_set_param respawn" in text
    else:
        assert "### BEGIN INIT INFO" in text and "start-stop-daemon" in text


def test_cli_print_writes_nothing(run_cli, tmp_path: Path):
    """`service install --systemd --print` prints the unit and writes no file."""
    p = run_cli("service", "install", "--systemd", "--print", "--prefix", str(tmp_path / "root"),
                "--exec", "/usr/bin/r2wifi", "--config", "/etc/r2wifi/r2wifi.toml")
    assert p.returncode == 0 and "Type=notify" in p.stdout
    assert not (tmp_path / "root").exists()


def test_cli_install_writes_atomically_with_backup(run_cli, tmp_path: Path):
    """`service install --sysv --prefix D` writes an executable script and backs up a different old one."""
    dest = tmp_path / "etc" / "init.d" / "r2wifi"
    dest.parent.mkdir(parents=True)
    dest.write_text("#!/bin/sh\n# old\n")
    p = run_cli("service", "install", "--sysv", "--prefix", str(tmp_path), "--exec", "/usr/bin/r2wifi",
                "--config", "/etc/r2wifi/r2wifi.toml")
    assert p.returncode == 0, p.stderr
    assert "start-stop-daemon" in dest.read_text()
    assert os.stat(dest).st_mode & 0o777 == 0o755
    assert (dest.parent / "r2wifi.bak").read_text() == "#!/bin/sh\n# old\n"
    assert "update-rc.d" in p.stdout


def test_cli_install_watchdog_from_config(run_cli, tmp_path: Path):
    """Without --watchdog the unit takes supervisor.watchdog_seconds from the config file."""
    cfg = write_cfg(tmp_path)
    cfg.write_text(cfg.read_text() + "[supervisor]\nwatchdog_seconds = 90\n")
    p = run_cli("service", "install", "--systemd", "--print", "--config", str(cfg), "--exec", "/usr/bin/r2wifi")
    assert p.returncode == 0 and "WatchdogSec=90" in p.stdout.splitlines()


def test_cli_rejects_unsafe_paths(run_cli, tmp_path: Path):
    """A config path with spaces or shell characters is refused (it would go into a shell script)."""
    p = run_cli("service", "install", "--openwrt", "--prefix", str(tmp_path), "--exec", "/usr/bin/r2wifi",
                "--config", "/etc/r2 wifi/$(reboot).toml")
    assert p.returncode == 2 and p.stderr.startswith("r2wifi: error: --config:")
    assert not (tmp_path / "etc").exists()


def test_cli_needs_exactly_one_kind(run_cli):
    """`service install` without a kind is a usage error (exit 2)."""
    p = run_cli("service", "install", "--print")
    assert p.returncode == 2 and "--systemd" in p.stderr


def test_hidden_network_and_raw_psk_in_the_payload(tmp_path: Path):
    """ap.hidden adds H:true; a raw 64-hex PSK goes in bare (readers take unquoted 64 hex as the PSK),
    while a hex-looking passphrase stays quoted."""
    from r2wifi.config import parse_config
    from r2wifi.hostap.qr import payload_for

    psk = "AB" * 32
    cfg = parse_config(f'[ap]\nssid = "Hidden"\npsk = "{psk}"\nhidden = true\n')
    assert payload_for(cfg) == f"WIFI:T:WPA;S:Hidden;P:{psk.lower()};H:true;;"
    cfg = parse_config('[ap]\nssid = "Shown"\npassphrase = "0123456789abcdef"\n')
    assert payload_for(cfg) == 'WIFI:T:WPA;S:Shown;P:"0123456789abcdef";;'
    with pytest.raises(ValueError):
        wifi_qr_payload("x", "wpa2", "not hex", raw_psk=True)


def test_cli_qr_of_a_hidden_network(run_cli, tmp_path: Path):
    """`ap qr` of a hidden network: the PNG is the code of the payload with H:true, and the text says hidden."""
    import segno

    f = tmp_path / "r2wifi.toml"
    f.write_text(f'[ap]\nssid = "Quiet"\npassphrase = "{PASS}"\nhidden = true\n')
    out = tmp_path / "q.png"
    p = run_cli("ap", "qr", "--png", str(out), "--scale", "2", "--config", str(f))
    assert p.returncode == 0, p.stderr
    assert "SSID: Quiet" in p.stdout and "hidden" in p.stdout and PASS not in p.stdout + p.stderr
    expected = io.BytesIO()
    segno.make(wifi_qr_payload("Quiet", "wpa2", PASS, hidden=True), error="m", micro=False).save(
        expected, kind="png", scale=2, border=4
    )
    assert out.read_bytes() == expected.getvalue()
