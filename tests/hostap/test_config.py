"""Configuration: defaults, loading, validation errors that name the key, and `r2wifi config`."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

import pytest

from r2wifi.config import (
    Config,
    default_config,
    load_config,
    parse_config,
    parse_rate,
    render_default_toml,
    toml_value,
)
from r2wifi.errors import ConfigError, UserError

GOOD = "correct horse battery"


def toml(**sections: dict[str, object]) -> str:
    """Build a TOML document; [ap] always gets a valid passphrase unless overridden."""
    sections.setdefault("ap", {})
    ap = sections["ap"]
    if "passphrase" not in ap and ap.get("security") != "open" and "psk" not in ap:
        ap["passphrase"] = GOOD
    out = []
    for name, body in sections.items():
        out.append(f"[{name}]")
        out += [f"{k} = {toml_value(v)}" for k, v in body.items()]
    return "\n".join(out) + "\n"


def test_defaults_match_the_board():
    """The defaults are the BPI-R2 ones: ap0, 192.168.10.1/24, fd00:b::10/64, channel 6, DE, DHCP .100-.199."""
    cfg = default_config()
    assert cfg.ap.interface == "ap0" and cfg.sta.interface == "wlan0"
    assert cfg.ap.address4 == "192.168.10.1/24" and cfg.ap.address6 == "fd00:b::10/64"
    assert (cfg.ap.channel, cfg.ap.country, cfg.ap.hw_mode) == (6, "DE", "g")
    assert (cfg.dhcp.range_start, cfg.dhcp.range_end) == ("192.168.10.100", "192.168.10.199")
    assert cfg.shaping.enabled is False and cfg.shaping.rate_bps == 8_000_000
    assert cfg.chip.firmware_dir == "/etc/firmware"


def test_mtk_names_pick_openwrt_interfaces():
    """chip.names = "mtk" makes the unset interfaces mtkap0 / mtkwlan0; an explicit one wins."""
    cfg = parse_config(toml(chip={"names": "mtk"}))
    assert (cfg.ap.interface, cfg.sta.interface) == ("mtkap0", "mtkwlan0")
    cfg = parse_config(toml(chip={"names": "mtk"}, ap={"interface": "wlan1"}))
    assert cfg.ap.interface == "wlan1"


def test_commented_default_file_loads_and_keeps_every_key():
    """The file `config init` writes loads back to the defaults plus the passphrase."""
    cfg = parse_config(render_default_toml(GOOD))
    assert cfg.ap.passphrase == GOOD
    assert cfg.ap == dataclasses.replace(default_config().ap, passphrase=GOOD)
    assert cfg.dhcp == default_config().dhcp and cfg.supervisor == default_config().supervisor


def test_small_subnet_gets_a_range_inside_it():
    """A /28 subnet gets a DHCP range of the hosts above the AP's address, inside the subnet."""
    cfg = parse_config(toml(ap={"address4": "10.9.0.1/28"}))
    assert (cfg.dhcp.range_start, cfg.dhcp.range_end) == ("10.9.0.2", "10.9.0.14")


def test_secrets_are_hidden_from_repr():
    """repr() of the config never shows the passphrase or the PSK."""
    cfg = parse_config(toml(sta={"enabled": True, "ssid": "up", "passphrase": "sta-secret-1"}))
    assert GOOD not in repr(cfg) and "sta-secret-1" not in repr(cfg)


def test_security_modes_accept_their_valid_forms():
    """wpa2 takes a passphrase or a 64-hex PSK; wpa3 and wpa2-wpa3 a passphrase; open neither."""
    assert parse_config(toml(ap={"psk": "ab" * 32})).ap.key_material == "ab" * 32
    assert parse_config(toml(ap={"security": "wpa3"})).ap.security == "wpa3"
    assert parse_config(toml(ap={"security": "wpa2-wpa3"})).ap.passphrase == GOOD
    assert parse_config(toml(ap={"security": "open"})).ap.key_material == ""


def test_channel_14_only_in_japan_with_11b():
    """Channel 14 is accepted for hw_mode b in JP (without 11n) and nowhere else."""
    cfg = parse_config(toml(ap={"country": "JP", "hw_mode": "b", "channel": 14, "ieee80211n": False}))
    assert cfg.ap.channel == 14


def test_utf8_ssid_of_32_bytes_is_fine():
    """An SSID of exactly 32 UTF-8 bytes (16 two-byte characters) is valid."""
    assert parse_config(toml(ap={"ssid": "ä" * 16})).ap.ssid == "ä" * 16


BAD = [
    # (sections, key named in the error, words in the message)
    ({"ap": {"ssid": ""}}, "ap.ssid", "1-32 bytes"),
    ({"ap": {"ssid": "ä" * 17}}, "ap.ssid", "34"),
    ({"ap": {"passphrase": "short"}}, "ap.passphrase", "8-63"),
    ({"ap": {"passphrase": "x" * 64}}, "ap.passphrase", "8-63"),
    ({"ap": {"passphrase": "pässwörter"}}, "ap.passphrase", "printable ASCII"),
    ({"ap": {"passphrase": ""}}, "ap.passphrase", "required"),
    ({"ap": {"psk": "ab" * 31}}, "ap.psk", "64 hexadecimal"),
    ({"ap": {"psk": "zz" * 32}}, "ap.psk", "64 hexadecimal"),
    ({"ap": {"psk": "ab" * 32, "passphrase": GOOD}}, "ap.psk", "not both"),
    ({"ap": {"security": "wpa3", "psk": "ab" * 32}}, "ap.psk", "SAE"),
    ({"ap": {"security": "wpa2-wpa3", "passphrase": "x" * 70}}, "ap.passphrase", "8-63"),
    ({"ap": {"security": "open", "passphrase": GOOD}}, "ap.passphrase", "open"),
    ({"ap": {"security": "wep"}}, "ap.security", "wpa2"),
    ({"ap": {"country": "XX"}}, "ap.country", "ISO 3166"),
    ({"ap": {"country": "de"}}, "ap.country", "ISO 3166"),
    ({"ap": {"channel": 14}}, "ap.channel", "hw_mode g"),
    ({"ap": {"channel": 0}}, "ap.channel", "not a valid channel"),
    ({"ap": {"hw_mode": "a", "channel": 6}}, "ap.channel", "5 GHz"),
    ({"ap": {"hw_mode": "a", "channel": 38}}, "ap.channel", "5 GHz"),
    ({"ap": {"hw_mode": "n"}}, "ap.hw_mode", "not one of"),
    ({"ap": {"hw_mode": "b"}}, "ap.ieee80211n", "hw_mode g or a"),
    ({"ap": {"ieee80211n": False, "ht_capab": "[SHORT-GI-20]"}}, "ap.ht_capab", "ieee80211n is false"),
    ({"ap": {"ht_capab": "HT40+"}}, "ap.ht_capab", "bracketed"),
    ({"ap": {"ht_capab": "[HT80]"}}, "ap.ht_capab", "unknown flag"),
    ({"ap": {"channel": 11, "ht_capab": "[HT40+]"}}, "ap.ht_capab", "secondary channel 15"),
    ({"ap": {"channel": 2, "ht_capab": "[HT40-]"}}, "ap.ht_capab", "below 1"),
    ({"ap": {"hw_mode": "a", "channel": 40, "ht_capab": "[HT40+]"}}, "ap.ht_capab", "does not allow"),
    ({"ap": {"address4": "192.168.10.1"}}, "ap.address4", "prefix length"),
    ({"ap": {"address4": "192.168.300.1/24"}}, "ap.address4", "IPv4"),
    ({"ap": {"address4": "192.168.10.0/24"}}, "ap.address4", "network or broadcast"),
    ({"ap": {"address4": "10.0.0.1/31"}}, "ap.address4", "too small"),
    ({"ap": {"address6": "fd00:b::zz/64"}}, "ap.address6", "IPv6"),
    ({"ap": {"mac": "02:00:00:00:01"}}, "ap.mac", "MAC"),
    ({"ap": {"mac": "03:00:00:00:00:01"}}, "ap.mac", "multicast"),
    ({"ap": {"max_inactivity": 0}}, "ap.max_inactivity", "1-86400"),
    ({"ap": {"interface": "a/b"}}, "ap.interface", "interface name"),
    ({"ap": {"interface": "x" * 16}}, "ap.interface", "interface name"),
    ({"ap": {"extra": ["no equals sign"]}}, "ap.extra[0]", "key=value"),
    ({"dhcp": {"range_start": "192.168.11.10", "range_end": "192.168.11.20"}}, "dhcp.range_start", "inside"),
    ({"dhcp": {"range_start": "192.168.10.50", "range_end": "192.168.10.40"}}, "dhcp.range_end", "below"),
    ({"dhcp": {"range_start": "192.168.10.1", "range_end": "192.168.10.40"}}, "dhcp.range_start", "own address"),
    ({"dhcp": {"range_end": "192.168.10.255"}}, "dhcp.range_end", "inside"),
    ({"dhcp": {"lease_time": "12 hours"}}, "dhcp.lease_time", "lease time"),
    ({"dhcp": {"lease_time": "60"}}, "dhcp.lease_time", "2m"),
    ({"dhcp": {"dns": ["8.8.8.x"]}}, "dhcp.dns[0]", "IP address"),
    ({"dhcp": {"dns_port": 70000}}, "dhcp.dns_port", "port"),
    ({"shaping": {"rate": "fast"}}, "shaping.rate", "rate"),
    ({"shaping": {"rate": "8furlongs"}}, "shaping.rate", "unit"),
    ({"shaping": {"rate": "0mbit"}}, "shaping.rate", "more than zero"),
    ({"nat": {"uplink": "ap0"}}, "nat.uplink", "AP interface"),
    ({"sta": {"enabled": True, "ssid": "home"}}, "sta.passphrase", "required"),
    ({"sta": {"enabled": True, "ssid": "x" * 33, "passphrase": GOOD}}, "sta.ssid", "1-32"),
    ({"chip": {"backend": "fake"}}, "chip.backend", "auto"),
    ({"chip": {"names": "openwrt"}}, "chip.names", "default"),
    ({"chip": {"firmware_dir": "etc/firmware"}}, "chip.firmware_dir", "absolute"),
    ({"supervisor": {"stall_seconds": 0}}, "supervisor.stall_seconds", "more than 0"),
    ({"supervisor": {"backoff_initial": 10.0, "backoff_max": 5.0}}, "supervisor.backoff_max", "below"),
    ({"supervisor": {"max_restarts": -1}}, "supervisor.max_restarts", "0 or more"),
    ({"ap": {"channel": "6"}}, "ap.channel", "expected an integer"),
    ({"ap": {"ieee80211n": 1}}, "ap.ieee80211n", "true or false"),
    ({"ap": {"ssid": 5}}, "ap.ssid", "expected a string"),
    ({"ap": {"chanel": 6}}, "ap.chanel", "unknown key"),
    ({"wifi": {"ssid": "x"}}, "wifi", "unknown section"),
]


@pytest.mark.parametrize(("sections", "key", "words"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_value_names_its_key(sections, key, words):
    """Each bad value raises ConfigError whose one-line message starts with the dotted key."""
    with pytest.raises(ConfigError) as info:
        parse_config(toml(**sections))
    msg = str(info.value)
    assert info.value.key == key
    assert msg.startswith(f"{key}: ") and "\n" not in msg
    assert words in msg
    assert GOOD not in msg


def test_rate_parser_understands_tc_units():
    """Rates use tc's units: bit-based (kbit, mbit) and byte-based (kbps, mbps)."""
    assert parse_rate("8mbit") == 8_000_000
    assert parse_rate("500kbit") == 500_000
    assert parse_rate("1.5mbit") == 1_500_000
    assert parse_rate("1mbps") == 8_000_000
    assert parse_rate("64") == 64


def test_broken_toml_is_a_user_error_with_the_line():
    """A TOML syntax error is a UserError that names the file and the line."""
    with pytest.raises(UserError) as info:
        parse_config("[ap]\nssid = \n", source="/etc/r2wifi/r2wifi.toml")
    assert "/etc/r2wifi/r2wifi.toml" in str(info.value) and "line 2" in str(info.value)


def test_missing_file_points_to_config_init(tmp_path: Path):
    """Loading a file that does not exist says so and suggests `r2wifi config init`."""
    with pytest.raises(UserError) as info:
        load_config(tmp_path / "nope.toml")
    assert "not found" in str(info.value) and "config init" in str(info.value)


def test_load_config_records_its_source(tmp_path: Path):
    """load_config reads the file and remembers where the config came from."""
    f = tmp_path / "r2wifi.toml"
    f.write_text(toml(ap={"ssid": "Wohnzimmer"}))
    cfg = load_config(f)
    assert isinstance(cfg, Config) and cfg.ap.ssid == "Wohnzimmer" and cfg.source == str(f)


# -- the CLI -------------------------------------------------------------------------------


def test_cli_check_reports_the_bad_key(run_cli, tmp_path: Path):
    """`config check` on a bad channel: one line `r2wifi: error: ap.channel: ...`, exit 2."""
    f = tmp_path / "bad.toml"
    f.write_text(toml(ap={"channel": 42}))
    p = run_cli("config", "check", "--config", str(f))
    assert p.returncode == 2
    assert p.stderr.startswith("r2wifi: error: ap.channel: 42 ") and p.stderr.count("\n") == 1
    assert p.stdout == ""


CLI_BAD = [
    ({"ap": {"ssid": "x" * 33}}, "ap.ssid"),
    ({"ap": {"passphrase": "1234567"}}, "ap.passphrase"),
    ({"ap": {"security": "wpa3", "psk": "ab" * 32}}, "ap.psk"),
    ({"ap": {"country": "EU"}}, "ap.country"),
    ({"ap": {"hw_mode": "a", "channel": 13}}, "ap.channel"),
    ({"dhcp": {"range_start": "10.0.0.2", "range_end": "10.0.0.9"}}, "dhcp.range_start"),
    ({"shaping": {"enabled": True, "rate": "lots"}}, "shaping.rate"),
    ({"ap": {"adress4": "10.0.0.1/24"}}, "ap.adress4"),
]


@pytest.mark.parametrize(("sections", "key"), CLI_BAD, ids=[k for _, k in CLI_BAD])
def test_cli_bad_values_exit_2_and_write_nothing(run_cli, tmp_path: Path, sections, key):
    """For each bad value `config check` and `service install` print one line naming the key, exit 2,
    and no service file appears."""
    f = tmp_path / "bad.toml"
    f.write_text(toml(**sections))
    p = run_cli("config", "check", "--config", str(f))
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.startswith(f"r2wifi: error: {key}: ") and p.stderr.count("\n") == 1
    assert "Traceback" not in p.stderr and GOOD not in p.stderr
    p = run_cli("service", "install", "--systemd", "--prefix", str(tmp_path / "root"), "--config", str(f),
                "--exec", "/usr/bin/r2wifi")
    assert p.returncode == 2 and p.stderr.startswith(f"r2wifi: error: {key}: ")
    assert not (tmp_path / "root").exists()


def test_cli_check_accepts_a_good_file(run_cli, tmp_path: Path):
    """`config check` on a valid 0600 file prints ok, exits 0 and warns about nothing."""
    f = tmp_path / "good.toml"
    f.write_text(toml())
    f.chmod(0o600)
    p = run_cli("config", "check", "--config", str(f))
    assert p.returncode == 0 and p.stdout.startswith("ok: ") and p.stderr == ""


def test_cli_check_warns_about_a_world_readable_secret(run_cli, tmp_path: Path):
    """A 0644 file holding the passphrase passes, with a chmod 600 warning on stderr (and no secret)."""
    f = tmp_path / "good.toml"
    f.write_text(toml())
    f.chmod(0o644)
    p = run_cli("config", "check", "--config", str(f))
    assert p.returncode == 0 and "chmod 600" in p.stderr and GOOD not in p.stderr


def test_cli_check_uses_R2WIFI_CONFIG(run_cli, tmp_path: Path):
    """Without --config, R2WIFI_CONFIG names the file."""
    f = tmp_path / "env.toml"
    f.write_text(toml(ap={"country": "ZZ"}))
    p = run_cli("config", "check", env={"R2WIFI_CONFIG": str(f)})
    assert p.returncode == 2 and "ap.country" in p.stderr


def test_cli_show_masks_secrets(run_cli, tmp_path: Path):
    """`config show` (TOML and --json) prints every section with the passphrase masked."""
    f = tmp_path / "c.toml"
    f.write_text(toml(sta={"ssid": "up", "psk": "cd" * 32}))
    p = run_cli("config", "show", "--config", str(f))
    assert p.returncode == 0 and GOOD not in p.stdout and "cd" * 32 not in p.stdout
    assert 'passphrase = "********"' in p.stdout and "[supervisor]" in p.stdout
    p = run_cli("config", "show", "--json", "--config", str(f))
    data = json.loads(p.stdout)
    assert data["ap"]["passphrase"] == "********" and data["sta"]["psk"] == "********"
    assert data["dhcp"]["range_start"] == "192.168.10.100"


def test_show_masks_secret_lines_in_extra(run_cli, tmp_path: Path):
    """Raw hostapd lines in ap.extra whose key is secret (wpa_psk, sae_password) are masked by `config show`."""
    f = tmp_path / "c.toml"
    f.write_text(toml(ap={"extra": ["beacon_int=100", "sae_password=other-secret|id=guest"]}))
    p = run_cli("config", "show", "--json", "--config", str(f))
    assert p.returncode == 0 and "other-secret" not in p.stdout
    assert json.loads(p.stdout)["ap"]["extra"] == ["beacon_int=100", "sae_password=********"]


def test_cli_init_writes_a_private_valid_file_once(run_cli, tmp_path: Path):
    """`config init PATH` writes a 0600 file that checks OK, and refuses to overwrite it."""
    f = tmp_path / "etc" / "r2wifi.toml"
    p = run_cli("config", "init", str(f), "--ssid", "Garten")
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    cfg = load_config(f)
    assert cfg.ap.ssid == "Garten" and len(cfg.ap.passphrase) == 16
    assert cfg.ap.passphrase not in p.stdout + p.stderr
    before = f.read_bytes()
    p = run_cli("config", "init", str(f))
    assert p.returncode == 2 and "already exists" in p.stderr and f.read_bytes() == before


def test_cli_init_force_keeps_a_backup(run_cli, tmp_path: Path):
    """`config init --force` replaces the file and keeps the old one as .bak."""
    f = tmp_path / "r2wifi.toml"
    f.write_text("# mine\n")
    p = run_cli("config", "init", str(f), "--force", "--passphrase-stdin", input="my own passphrase\n")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "r2wifi.toml.bak").read_text() == "# mine\n"
    assert load_config(f).ap.passphrase == "my own passphrase"


def test_cli_init_with_bad_value_writes_nothing(run_cli, tmp_path: Path):
    """`config init` with an invalid passphrase exits 2 naming the key and creates no file."""
    f = tmp_path / "r2wifi.toml"
    p = run_cli("config", "init", str(f), "--passphrase-stdin", input="short\n")
    assert p.returncode == 2 and p.stderr.startswith("r2wifi: error: ap.passphrase:")
    assert "short" not in p.stderr
    assert [n for n in os.listdir(tmp_path) if "r2wifi" in n] == []  # no file, no temp file
