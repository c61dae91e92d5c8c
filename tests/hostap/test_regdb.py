"""The regulatory database reader (r2wifi.net.regdb) and `config check` against a country's rules.

Unit tests use a tiny database built here byte by byte from the documented layout (``build_db``);
the system's own /lib/firmware/regulatory.db (Debian's wireless-regdb) is read where installed.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2wifi.config import parse_config
from r2wifi.net import regdb
from r2wifi.net.regdb import FLAG_AUTO_BW, FLAG_DFS, FLAG_NO_IR, RegDbError

# (start MHz, end MHz, max bandwidth MHz, max EIRP dBm, flags)
TINY = {
    "DE": (2, [(2400, 2483.5, 40, 20, 0), (5150, 5250, 80, 23, FLAG_AUTO_BW), (5250, 5350, 80, 20, FLAG_DFS | FLAG_AUTO_BW),
               (5470, 5725, 160, 27, FLAG_DFS)]),
    "US": (1, [(2400, 2472, 40, 30, 0), (5150, 5250, 80, 23, FLAG_AUTO_BW), (5730, 5850, 80, 30, FLAG_AUTO_BW)]),
    "XA": (0, [(2400, 2483.5, 20, 20, FLAG_NO_IR), (5150, 5250, 20, 20, 0)]),  # narrow and passive
    "XB": (2, [(5470, 5725, 160, 27, FLAG_DFS)]),
}


def build_db(countries: dict[str, tuple[int, list[tuple[float, float, int, int, int]]]], *, cac_s: int = 0) -> bytes:
    """A regulatory.db image: header, country list, rules (with a CAC field when cac_s), collections."""
    out = bytearray(b"RGDB" + struct.pack(">I", 20))
    names = sorted(countries)
    country_at = {}
    for name in names:
        country_at[name] = len(out)
        out += name.encode() + b"\0\0"
    out += b"\0" * 4
    coll_ptrs = {}
    for name in names:
        region, rules = countries[name]
        rule_ptrs = []
        for start, end, bw, eirp, flags in rules:
            rule_ptrs.append(len(out) >> 2)
            length = 18 if cac_s else 16
            out += struct.pack(">BBHIII", length, flags, eirp * 100, int(start * 1000), int(end * 1000), bw * 1000)
            if cac_s:
                out += struct.pack(">H", cac_s)
            while len(out) % 4:
                out += b"\0"
        coll_ptrs[name] = len(out) >> 2
        out += struct.pack(">BBB", 3, len(rules), region) + b"\0"
        out += b"".join(struct.pack(">H", p) for p in rule_ptrs)
        while len(out) % 4:
            out += b"\0"
    for name in names:
        struct.pack_into(">H", out, country_at[name] + 2, coll_ptrs[name])
    return bytes(out)


@pytest.fixture
def tiny() -> regdb.RegDb:
    return regdb.parse(build_db(TINY))


def test_tiny_db_parses_to_its_rules(tiny: regdb.RegDb):
    """Every country, its DFS region and rules come back as written."""
    assert sorted(tiny.countries) == sorted(TINY)
    de = tiny.country("DE")
    assert de is not None and de.dfs_region == "ETSI" and len(de.rules) == 4
    assert de.rules[2].dfs and de.rules[2].auto_bw and not de.rules[0].dfs
    assert (de.rules[0].start_khz, de.rules[0].end_khz, de.rules[0].max_eirp_mbm) == (2400000, 2483500, 2000)
    assert tiny.country("US").dfs_region == "FCC" and tiny.country("ZZ") is None  # type: ignore[union-attr]


CHANNELS = [
    # (country, hw_mode, channel, width, allowed, dfs, cac)
    ("DE", "g", 13, 20, True, False, 0),
    ("US", "g", 13, 20, False, False, 0),  # 2462-2482 MHz is past 2472
    ("US", "g", 11, 20, True, False, 0),
    ("DE", "g", 14, 20, False, False, 0),
    ("DE", "a", 36, 20, True, False, 0),
    ("DE", "a", 52, 20, True, True, 60),
    ("DE", "a", 48, 40, True, True, 60),  # HT40+: 5230-5270 MHz joins two AUTO-BW rules, one DFS
    ("DE", "a", 124, 20, True, True, 600),  # weather radar, ETSI: 10 minutes
    ("DE", "a", 149, 20, False, False, 0),
    ("US", "a", 149, 20, True, False, 0),
    ("XA", "g", 6, 20, False, False, 0),  # NO-IR: no AP
    ("XA", "a", 36, 40, False, False, 0),  # at most 20 MHz wide
    ("XA", "a", 40, -40, False, False, 0),
    ("XB", "a", 64, 20, False, False, 0),
]


@pytest.mark.parametrize(("country", "hw", "ch", "width", "allowed", "dfs", "cac"), CHANNELS)
def test_channel_verdicts(tiny: regdb.RegDb, country: str, hw: str, ch: int, width: int, allowed: bool, dfs: bool,
                          cac: int):
    """Channels inside, outside, across and too wide for a country's rules; DFS and its CAC time."""
    domain = tiny.country(country)
    assert domain is not None
    v = regdb.check_channel(domain, hw, ch, width)
    assert (v.allowed, v.dfs, v.cac_seconds) == (allowed, dfs, cac), v
    assert bool(v.reason) != allowed


def test_cac_time_from_the_rule_wins(tmp_path: Path):
    """A rule that carries its own CAC time (length 18) sets the wait."""
    db = regdb.parse(build_db({"XB": TINY["XB"]}, cac_s=120))
    v = regdb.check_channel(db.country("XB"), "a", 100, 20)  # type: ignore[arg-type]
    assert v.allowed and v.dfs and v.cac_seconds == 120


def test_load_parses_a_file_once_until_it_changes(tmp_path: Path):
    """`up` looks twice: the second load of the same file is the parsed one; a replaced file is read again."""
    import os

    path = tmp_path / "regulatory.db"
    path.write_bytes(build_db(TINY))
    first = regdb.load(path)
    assert regdb.load(path) is first and first.country("DE") is not None
    path.write_bytes(build_db({"US": TINY["US"]}))
    os.utime(path, ns=(1, 1))  # a new mtime even on a coarse clock
    again = regdb.load(path)
    assert again is not first and again.country("DE") is None and again.country("US") is not None


BROKEN = [
    (b"", "outside the file"),
    (b"XXXX" + bytes(8), "RGDB"),
    (b"RGDB" + struct.pack(">I", 19) + bytes(4), "version 19"),
    (b"RGDB" + struct.pack(">I", 20) + b"DE" + struct.pack(">H", 0x4000), "outside the file"),
    (b"RGDB" + struct.pack(">I", 20) + b"d!" + struct.pack(">H", 3) + bytes(4), "country code"),
]


@pytest.mark.parametrize(("data", "words"), BROKEN, ids=[w for _, w in BROKEN])
def test_broken_db_is_a_one_line_error(data: bytes, words: str):
    """A truncated, foreign or damaged file raises RegDbError naming the problem."""
    with pytest.raises(RegDbError) as info:
        regdb.parse(data)
    assert words in str(info.value) and "\n" not in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=len(build_db(TINY)) - 1), st.binary(max_size=8))
def test_damaged_db_never_raises_anything_else(junk: bytes, at: int, patch: bytes):
    """Random bytes, and the tiny db with random bytes written into it: a RegDb or a RegDbError."""
    good = bytearray(build_db(TINY))
    good[at:at + len(patch)] = patch
    for data in (junk, b"RGDB\0\0\0\x14" + junk, bytes(good)):
        try:
            regdb.parse(data)
        except RegDbError:
            pass


def test_system_regdb_agrees_with_known_rules():
    """Debian's regulatory.db: DE allows 13 but not 14, 52 is DFS, 124 is weather radar; US stops at 11."""
    if not any(p.exists() for p in regdb.REGDB_PATHS):
        pytest.skip("wireless-regdb is not installed (scripts/setup-test-deps installs it)")
    db = regdb.load()
    de, us = db.country("DE"), db.country("US")
    assert de is not None and us is not None and len(db.countries) > 100
    assert regdb.check_channel(de, "g", 13).allowed and not regdb.check_channel(de, "g", 14).allowed
    assert regdb.check_channel(de, "a", 52).dfs and regdb.check_channel(de, "a", 124).cac_seconds == 600
    assert not regdb.check_channel(us, "g", 13).allowed and regdb.check_channel(us, "g", 11).allowed


def test_system_country_from_the_kernel_then_locale():
    """The kernel's domain (nl80211) wins unless it is 00 or unknown; then the locale's territory; else None."""
    assert regdb.system_country(lambda: "FR", {"LANG": "de_DE.UTF-8"}) == "FR"
    assert regdb.system_country(lambda: "00", {"LANG": "de_DE.UTF-8"}) == "DE"
    assert regdb.system_country(lambda: None, {"LC_ALL": "pt_BR.UTF-8", "LANG": "de_DE.UTF-8"}) == "BR"
    assert regdb.system_country(lambda: None, {"LANG": "C.UTF-8"}) is None
    assert regdb.system_country(lambda: "99", {"LC_CTYPE": "C.UTF-8", "LANG": "nl_NL.UTF-8"}) == "NL"
    assert regdb.system_country(lambda: None, {}) is None


def test_config_init_writes_the_system_country(run_cli, tmp_path: Path):
    """`config init` takes the country from the locale when `iw reg get` has none (no radio here),
    --country overrides it, and with neither it writes "auto" (00 until the system names one) with a note."""
    env = {"LC_ALL": "", "LC_CTYPE": "", "LANG": "fr_FR.UTF-8", "PATH": str(tmp_path)}  # no iw on PATH
    p = run_cli("config", "init", str(tmp_path / "a.toml"), env=env)
    assert p.returncode == 0, p.stderr
    assert parse_config((tmp_path / "a.toml").read_text()).ap.country == "FR"
    p = run_cli("config", "init", str(tmp_path / "b.toml"), "--country", "JP", env=env)
    assert p.returncode == 0 and parse_config((tmp_path / "b.toml").read_text()).ap.country == "JP"
    p = run_cli("config", "init", str(tmp_path / "c.toml"), env={**env, "LANG": "C.UTF-8"})
    assert p.returncode == 0 and "country is unknown" in p.stderr and "00" in p.stderr
    assert 'country = "auto"' in (tmp_path / "c.toml").read_text()


def _cfg_file(tmp_path: Path, ap: str) -> Path:
    f = tmp_path / "c.toml"
    f.write_text('[ap]\npassphrase = "correct horse battery"\n' + ap)
    f.chmod(0o600)
    return f


def test_config_check_against_the_country(run_cli, tmp_path: Path):
    """`config check --regdb`: a channel the country forbids names ap.channel (exit 2); a DFS channel passes
    with a note on the start-up wait; a country missing from the db names ap.country."""
    db = tmp_path / "regulatory.db"
    db.write_bytes(build_db(TINY))
    f = _cfg_file(tmp_path, 'country = "US"\nchannel = 13\n')
    p = run_cli("config", "check", "--config", str(f), "--regdb", str(db))
    assert p.returncode == 2 and p.stderr.startswith("r2wifi: error: ap.channel: channel 13")
    assert p.stderr.count("\n") == 1
    f = _cfg_file(tmp_path, 'country = "DE"\nhw_mode = "a"\nchannel = 124\n')
    p = run_cli("config", "check", "--config", str(f), "--regdb", str(db))
    assert p.returncode == 0 and "DFS channel in DE" in p.stderr and "600 s" in p.stderr
    f = _cfg_file(tmp_path, 'country = "FR"\n')
    p = run_cli("config", "check", "--config", str(f), "--regdb", str(db))
    assert p.returncode == 2 and "ap.country: FR is not in the regulatory database" in p.stderr
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"RGDB\0\0\0\x13")
    p = run_cli("config", "check", "--config", str(f), "--regdb", str(bad))
    assert p.returncode == 2 and "version 19" in p.stderr and "Traceback" not in p.stderr


def test_config_check_width_from_ht_capab(tmp_path: Path, tiny: regdb.RegDb):
    """[HT40+] on a 20 MHz-only country is refused for ap.channel; without it the channel passes."""
    cfg = parse_config('[ap]\npassphrase = "correct horse battery"\ncountry = "DE"\nhw_mode = "a"\nchannel = 36\n'
                       'ht_capab = "[HT40+]"\n')
    narrow = regdb.RegDb({"DE": regdb.Domain("DE", "ETSI", tiny.country("XA").rules)})  # type: ignore[union-attr]
    problems, _ = regdb.check_config(cfg, narrow)
    assert [p.key for p in problems] == ["ap.channel"] and "20 MHz" in str(problems[0])
    problems, notes = regdb.check_config(cfg, tiny)
    assert problems == [] and notes == []


def test_cac_wait_extends_the_start_up_wait(tiny: regdb.RegDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`up` waits for AP-ENABLED that much longer: the CAC time on a DFS channel, 0 elsewhere, on the wired
    test bed, or without a database."""
    def cfg(ap: str):
        return parse_config('[ap]\npassphrase = "correct horse battery"\ncountry = "DE"\n' + ap)

    assert regdb.cac_wait(cfg('hw_mode = "a"\nchannel = 52\n'), tiny) == 60
    assert regdb.cac_wait(cfg('hw_mode = "a"\nchannel = 120\n'), tiny) == 600
    assert regdb.cac_wait(cfg('hw_mode = "a"\nchannel = 36\n'), tiny) == 0
    assert regdb.cac_wait(cfg(""), tiny) == 0
    assert regdb.cac_wait(cfg('hw_mode = "a"\nchannel = 52\ndriver = "wired"\n'), tiny) == 0
    monkeypatch.setattr(regdb, "REGDB_PATHS", (tmp_path / "none.db",))
    assert regdb.cac_wait(cfg('hw_mode = "a"\nchannel = 52\n')) == 0


def test_country_auto_is_looked_up_at_load(monkeypatch: pytest.MonkeyPatch):
    """ap.country "auto" or unset takes the system's country when the config loads; none -> 00 (world)."""
    auto = '[ap]\npassphrase = "correct horse battery"\ncountry = "auto"\n'
    unset = '[ap]\npassphrase = "correct horse battery"\n'
    monkeypatch.setattr(regdb, "system_country", lambda: "NL")
    assert parse_config(auto).ap.country == parse_config(unset).ap.country == "NL"
    monkeypatch.setattr(regdb, "system_country", lambda: None)
    assert parse_config(auto).ap.country == parse_config(unset).ap.country == "00"
    assert parse_config(unset.replace("\n", '\ncountry = "00"\n', 1)).ap.country == "00"  # explicit world
