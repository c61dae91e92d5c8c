"""Configuration: defaults, loading, validation errors that name the key, and `r2wifi config`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from r2wifi import records
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


def test_defaults_match_the_board(monkeypatch: pytest.MonkeyPatch):
    """The defaults are the BPI-R2 ones: ap0, 192.168.10.1/24, fd00:b::10/64, channel 6, the system's country
    (00 when it names none), DHCP .100-.199."""
    from r2wifi.net import regdb

    monkeypatch.setattr(regdb, "system_country", lambda: None)
    assert default_config().ap.country == "00"
    monkeypatch.setattr(regdb, "system_country", lambda: "FR")
    cfg = default_config()
    assert cfg.ap.interface == "ap0" and cfg.sta.interface == "wlan0"
    assert cfg.ap.address4 == "192.168.10.1/24" and cfg.ap.address6 == "fd00:b::10/64"
    assert (cfg.ap.channel, cfg.ap.country, cfg.ap.hw_mode) == (6, "FR", "g")
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
    assert cfg.ap == records.replace(default_config().ap, passphrase=GOOD)
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
    ({"ap": {"channel": 0}}, "ap.channel", "1-177"),
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
    ({"supervisor": {"stall_seconds": 0}}, "supervisor.stall_seconds", "1-3600"),
    ({"supervisor": {"backoff_initial": 10.0, "backoff_max": 5.0}}, "supervisor.backoff_max", "below"),
    ({"supervisor": {"max_restarts": -1}}, "supervisor.max_restarts", "0-1000"),
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
    """`config check` on a valid 0600 file naming its country prints ok, exits 0 and warns about nothing."""
    f = tmp_path / "good.toml"
    f.write_text(toml(ap={"country": "DE"}))
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


# -- every input path bounded and typed (issue 9) --------------------------------------------

# (name, how to make the --config argument in tmp_path, the key/word the one-line error names)
def _file(text: str):
    def make(tmp: Path) -> str:
        f = tmp / "c.toml"
        f.write_text(text, encoding="utf-8")
        return str(f)
    return make


def _fifo(tmp: Path) -> str:
    f = tmp / "fifo.toml"
    os.mkfifo(f)
    return str(f)


HOSTILE = [
    ("huge-rate", _file(toml(shaping={"enabled": True, "rate": "9" * 400 + "gbit"})), "shaping.rate"),
    ("rate-too-fast", _file(toml(shaping={"enabled": True, "rate": "99999gbit"})), "shaping.rate"),
    ("deep-toml", _file("a = " + "[" * 50_000 + "\n"), "nested too deeply"),
    ("deep-tables", _file("x = " + "{a = " * 50_000 + "\n"), "TOML"),
    ("dev-zero", lambda tmp: "/dev/zero", "a character device"),
    ("fifo", _fifo, "a FIFO"),
    ("directory", lambda tmp: str(tmp), "a directory"),
    ("too-big", _file("#" * (1024 * 1024 + 10) + "\n"), "at most"),
    ("not-utf8", lambda tmp: (tmp / "b.toml").write_bytes(b"[ap]\nssid = \"\xff\"\n") and str(tmp / "b.toml"), "UTF-8"),
    ("ifname-nul", _file(toml(ap={"interface": "ap\x000"})), "ap.interface"),
    ("ifname-ctrl", _file(toml(ap={"interface": "ap\x1b0"})), "ap.interface"),
    ("ifname-16", _file(toml(ap={"interface": "a" * 16})), "ap.interface"),
    ("ifname-utf8-16-bytes", _file(toml(ap={"interface": "ä" * 8})), "ap.interface"),
    ("ifname-dotdot", _file(toml(nat={"uplink": ".."})), "nat.uplink"),
    ("ifname-space", _file(toml(sta={"interface": "wl an0"})), "sta.interface"),
    ("ht-capab-newline", _file(toml(ap={"ht_capab": "[SHORT-GI-20]\nwpa=0"})), "ap.ht_capab"),
    ("extra-newline", _file(toml(ap={"extra": ["beacon_int=100\nwpa=0"]})), "ap.extra[0]"),
    ("extra-cr", _file(toml(ap={"extra": ["beacon_int=100\rwpa=0"]})), "ap.extra[0]"),
    ("extra-bad-key", _file(toml(ap={"extra": ["bad key=1"]})), "ap.extra[0]"),
    ("ssid-newline", _file(toml(ap={"ssid": "a\nwpa=0"})), "ap.ssid"),
    ("address6-zone", _file(toml(ap={"address6": "fe80::1%eth0/64"})), "ap.address6"),
    ("dns-zone", _file(toml(dhcp={"dns": ["fe80::1%eth0"]})), "dhcp.dns[0]"),
    ("watchdog-absurd", _file(toml(supervisor={"watchdog_seconds": 10**18})), "supervisor.watchdog_seconds"),
    ("backoff-max-inf", _file(toml(supervisor={"backoff_max": float("inf")})), "supervisor.backoff_max"),
    ("backoff-initial-nan", _file(toml().rstrip("\n") + "\n[supervisor]\nbackoff_initial = nan\n"),
     "supervisor.backoff_initial"),
    ("lease-huge", _file(toml(dhcp={"lease_time": "9" * 30 + "w"})), "dhcp.lease_time"),
    ("firmware-dir-long", _file(toml(chip={"firmware_dir": "/" + "x" * 5000})), "chip.firmware_dir"),
    ("too-many-dns", _file(toml(dhcp={"dns": ["1.1.1.1"] * 9})), "dhcp.dns"),
]


@pytest.mark.parametrize(("make", "named"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_config_is_one_line_exit_2(run_cli, tmp_path: Path, make, named):
    """Every bad input of the issue-9 probe: `config check` exits 2 with one line naming the key
    (or what is wrong with the file), no traceback, and returns (the subprocess timeout bounds it)."""
    arg = make(tmp_path)
    p = run_cli("config", "check", "--config", arg, timeout=60)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert p.stderr.startswith("r2wifi: error: ") and p.stderr.count("\n") == 1, p.stderr
    assert named in p.stderr
    assert GOOD not in p.stderr


def test_toml_inf_and_nan_never_pass(tmp_path: Path):
    """TOML's inf/nan reach every float key as a finite-number error, never as a valid value."""
    for key in ("backoff_initial", "backoff_max"):
        for word in ("inf", "-inf", "nan"):
            with pytest.raises(ConfigError) as info:
                parse_config(toml() + f"[supervisor]\n{key} = {word}\n")
            assert info.value.key == f"supervisor.{key}"


def test_every_numeric_key_has_a_documented_range():
    """Every int/float key has a range in RANGES, and the line of the default file that sets it shows it;
    the bounds themselves load, one step outside them does not."""
    from r2wifi.config import _SECTIONS, RANGES

    text = render_default_toml(GOOD)
    numeric = [
        f"{name}.{f.name}" for name, cls in _SECTIONS.items() for f in records.fields(cls)
        if isinstance(f.default, int | float) and not isinstance(f.default, bool)
    ]
    assert sorted(numeric) == sorted(RANGES)
    for dotted, (lo, hi) in RANGES.items():
        section, key = dotted.split(".")
        line = next(ln for ln in text.splitlines() if ln.startswith(f"{key} = "))
        shown = "-".join(f"{v:d}" if isinstance(v, int) else f"{v:g}" for v in (lo, hi))  # sizes in full
        assert shown in line, line
        if dotted == "ap.channel":
            continue  # channel rules are narrower than the range (tested above)
        # the partner key of the backoff pair at the value that never conflicts
        partner = {"backoff_initial": {"backoff_max": 3600.0}, "backoff_max": {"backoff_initial": 0.1}}.get(key, {})
        conv = float if isinstance(lo, float) or isinstance(hi, float) else int
        step = 1 if conv is int else 0.05
        for good in (lo, hi):
            parse_config(toml(**{section: {key: conv(good), **partner}}))
        for bad in (hi + step, lo - step):
            with pytest.raises(ConfigError) as info:
                parse_config(toml(**{section: {key: conv(bad), **partner}}))
            assert info.value.key == dotted and "out of range" in str(info.value)


def test_check_lists_five_different_mistakes(run_cli, tmp_path: Path):
    """One `config check` run names all five mistakes of a file, one line each, in file order, with a
    "did you mean" for the misspelt key."""
    f = tmp_path / "five.toml"
    f.write_text('[ap]\npassphrase = "short"\nchanel = 6\ncountry = "XX"\n[dhcp]\nlease_time = "1s"\n'
                 '[supervisor]\nbackoff_initial = nan\n')
    p = run_cli("config", "check", "--config", str(f))
    assert p.returncode == 2 and p.stdout == "" and "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 5 and all(ln.startswith("r2wifi: error: ") for ln in lines)
    keys = [ln.removeprefix("r2wifi: error: ").split(":")[0] for ln in lines]
    assert keys == ["ap.passphrase", "ap.country", "ap.chanel", "dhcp.lease_time", "supervisor.backoff_initial"]
    assert "did you mean 'channel'" in lines[2]
    # commands other than `check` get the same problems on one line
    p = run_cli("ap", "qr", "--config", str(f))
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert all(k in p.stderr for k in keys)


def test_unknown_section_and_value_suggest_the_close_name():
    """A misspelt section or choice gets a "did you mean"."""
    with pytest.raises(ConfigError) as info:
        parse_config(toml(supervisr={"stall_seconds": 5}))
    assert "did you mean 'supervisor'" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config(toml(ap={"security": "wpa22"}))
    assert "did you mean 'wpa2'" in str(info.value)


# -- the common AP options (issue 13) ---------------------------------------------------------

MAC1, MAC2 = "02:08:22:00:00:10", "02:08:22:00:00:11"


def _with(text: str) -> str:
    return toml() + text


def test_ap_options_load():
    """hidden, isolate_clients, the MAC filter and DHCP reservations load into the records."""
    cfg = parse_config(_with(f'[ap.mac_filter]\nmode = "allow"\nmacs = ["{MAC1.upper()}", "{MAC2}"]\n'
                             f'[[dhcp.reservation]]\nmac = "{MAC1}"\nip = "192.168.10.10"\nname = "printer"\n'
                             f'[[dhcp.reservation]]\nmac = "{MAC2}"\nip = "192.168.10.150"\n')
                       .replace("[ap]\n", "[ap]\nhidden = true\nisolate_clients = true\n", 1))
    assert cfg.ap.hidden and cfg.ap.isolate_clients
    assert cfg.ap.mac_filter.mode == "allow" and cfg.ap.mac_filter.macs == (MAC1.upper(), MAC2)
    assert [(r.mac, r.ip, r.name) for r in cfg.dhcp.reservation] == [
        (MAC1, "192.168.10.10", "printer"), (MAC2, "192.168.10.150", "")]


AP_BAD = [
    (f'[ap.mac_filter]\nmode = "block"\nmacs = ["{MAC1}"]\n', "ap.mac_filter.mode", "allow"),
    ('[ap.mac_filter]\nmode = "allow"\n', "ap.mac_filter.macs", "no station"),
    ('[ap.mac_filter]\nmode = "deny"\nmacs = ["02:08:22"]\n', "ap.mac_filter.macs[0]", "MAC"),
    (f'[ap.mac_filter]\nmode = "deny"\nmacs = ["{MAC1}", "{MAC1.upper()}"]\n', "ap.mac_filter.macs[1]", "twice"),
    ('[ap.mac_filter]\nmode = "deny"\nmacs = ["01:00:5e:00:00:01"]\n', "ap.mac_filter.macs[0]", "multicast"),
    ('[ap.mac_filter]\nmodes = "deny"\n', "ap.mac_filter.modes", "did you mean 'mode'"),
    ('[[dhcp.reservation]]\nip = "192.168.10.10"\n', "dhcp.reservation[0].mac", "required"),
    (f'[[dhcp.reservation]]\nmac = "{MAC1}"\nip = "192.168.11.10"\n', "dhcp.reservation[0].ip", "inside"),
    (f'[[dhcp.reservation]]\nmac = "{MAC1}"\nip = "192.168.10.1"\n', "dhcp.reservation[0].ip", "own address"),
    (f'[[dhcp.reservation]]\nmac = "{MAC1}"\nip = "192.168.10.255"\n', "dhcp.reservation[0].ip", "inside"),
    (f'[[dhcp.reservation]]\nmac = "{MAC1}"\nip = "192.168.10.10"\n[[dhcp.reservation]]\nmac = "{MAC1}"\n'
     'ip = "192.168.10.11"\n', "dhcp.reservation[1].mac", "twice"),
    (f'[[dhcp.reservation]]\nmac = "{MAC1}"\nip = "192.168.10.10"\n[[dhcp.reservation]]\nmac = "{MAC2}"\n'
     'ip = "192.168.10.10"\n', "dhcp.reservation[1].ip", "twice"),
    (f'[[dhcp.reservation]]\nmac = "{MAC1}"\nip = "192.168.10.10"\nname = "my printer"\n',
     "dhcp.reservation[0].name", "host name"),
    (f'[[dhcp.reservation]]\nmac = "{MAC1}"\nip = "192.168.10.10"\nhost = "x"\n', "dhcp.reservation[0].host",
     "unknown key"),
    ('[dhcp]\nreservation = "x"\n', "dhcp.reservation", "[[dhcp.reservation]]"),
]


@pytest.mark.parametrize(("text", "key", "words"), AP_BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(AP_BAD)])
def test_bad_ap_option_names_its_key(text: str, key: str, words: str):
    """Each bad MAC filter or reservation value names its key (with the list index)."""
    with pytest.raises(ConfigError) as info:
        parse_config(_with(text))
    assert info.value.key == key, str(info.value)
    assert words in str(info.value)


def test_hidden_must_be_a_boolean():
    """ap.hidden and ap.isolate_clients are booleans."""
    for key in ("hidden", "isolate_clients"):
        with pytest.raises(ConfigError) as info:
            parse_config(toml(ap={key: "yes"}))
        assert info.value.key == f"ap.{key}" and "true or false" in str(info.value)


def test_show_json_has_the_sub_tables(run_cli, tmp_path: Path):
    """`config show --json` carries mac_filter as an object and reservations as a list of objects."""
    f = tmp_path / "c.toml"
    f.write_text(_with(f'[ap.mac_filter]\nmode = "deny"\nmacs = ["{MAC1}"]\n'
                       f'[[dhcp.reservation]]\nmac = "{MAC2}"\nip = "192.168.10.20"\n'))
    p = run_cli("config", "show", "--json", "--config", str(f))
    data = json.loads(p.stdout)
    assert data["ap"]["mac_filter"] == {"mode": "deny", "macs": [MAC1]}
    assert data["dhcp"]["reservation"] == [{"mac": MAC2, "ip": "192.168.10.20", "name": ""}]
    p = run_cli("config", "show", "--config", str(f))
    assert "[ap.mac_filter]" in p.stdout and "[[dhcp.reservation]]" in p.stdout
