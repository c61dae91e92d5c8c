"""The AP's country from the system (00 when it names none) and `up` / `reload` refusing what it forbids.

Issue 13.3: an unset ``ap.country`` is the system's (``iw reg get``, the locale), the world domain 00
otherwise; ``up`` and ``reload`` refuse a channel the country's regulatory rules forbid with the line
``config check`` prints, exit 2, before touching anything. A tiny regulatory.db is built here (the
layout of tests/hostap/test_regdb.py) with a world domain shaped like wireless-regdb's ``00``.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from r2wifi.config import parse_config
from r2wifi.errors import ConfigError
from r2wifi.hostap import render
from r2wifi.net import regdb
from r2wifi.net.regdb import FLAG_AUTO_BW, FLAG_DFS, FLAG_NO_IR
from tests.hostap.test_regdb import TINY, build_db

WORLD_DB = {**TINY, "00": (0, [(2402, 2472, 40, 20, 0), (2457, 2482, 20, 20, FLAG_NO_IR | FLAG_AUTO_BW),
                               (5170, 5250, 80, 20, FLAG_NO_IR | FLAG_AUTO_BW),
                               (5250, 5330, 80, 20, FLAG_DFS | FLAG_NO_IR | FLAG_AUTO_BW)])}
PASS = "correct horse battery"


def _cfg(ap: str, chip: bool = False) -> str:
    return (("" if chip else "[chip]\nenabled = false\n") + f'[ap]\npassphrase = "{PASS}"\ninterface = "r2tst0"\n'
            + ap)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny database as the system's (REGDB_PATHS) and a state dir of the test's own."""
    path = tmp_path / "regulatory.db"
    path.write_bytes(build_db(WORLD_DB))
    monkeypatch.setattr(regdb, "REGDB_PATHS", (path,))
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(tmp_path / "state"))
    return path


def _main(*argv: str) -> tuple[int, str, str]:
    from r2wifi.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def test_world_domain_renders_no_country_lines(monkeypatch: pytest.MonkeyPatch):
    """Country 00 (the system names none): hostapd.conf has no country_code/ieee80211d (hostapd refuses 00),
    wpa_supplicant.conf no country; a named country keeps both."""
    monkeypatch.setattr(regdb, "system_country", lambda: None)
    world = parse_config(f'[ap]\npassphrase = "{PASS}"\n')
    assert world.ap.country == "00"
    hostapd = render.render_hostapd(world, "/x/ctrl").splitlines()
    assert not [ln for ln in hostapd if ln.startswith(("country_code=", "ieee80211d="))], hostapd
    assert "channel=6" in hostapd
    assert not [ln for ln in render.render_wpa_supplicant(world, "/x").splitlines() if ln.startswith("country=")]
    named = parse_config(f'[ap]\npassphrase = "{PASS}"\ncountry = "SE"\n')
    assert {"country_code=SE", "ieee80211d=1"} <= set(render.render_hostapd(named, "/x/ctrl").splitlines())
    assert "country=SE" in render.render_wpa_supplicant(named, "/x").splitlines()


def test_world_domain_in_config_check(run_cli, tmp_path: Path):
    """`config check` with 00: channel 6 passes with a note on what 00 limits; 13 and 36 are refused naming
    ap.country (the fix is the country), one line each, exit 2."""
    path = tmp_path / "regulatory.db"
    path.write_bytes(build_db(WORLD_DB))
    f = tmp_path / "c.toml"
    f.write_text(_cfg('country = "00"\n'))
    f.chmod(0o600)
    p = run_cli("config", "check", "--config", str(f), "--regdb", str(path))
    assert p.returncode == 0 and "note: ap.country: 00, the world domain" in p.stderr, p.stderr
    for ap in ('channel = 13\n', 'hw_mode = "a"\nchannel = 36\n'):
        f.write_text(_cfg('country = "00"\n' + ap))
        p = run_cli("config", "check", "--config", str(f), "--regdb", str(path))
        assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
        assert p.stderr.startswith("r2wifi: error: ap.country: 00, the world domain"), p.stderr
        assert "set ap.country" in p.stderr


class _Chip:
    """Chip steps that only record that they were called."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: self.calls.append(name)


def test_up_refuses_a_forbidden_channel_before_touching_anything(db: Path, tmp_path: Path, run_cli):
    """`up --ap` with channel 13 in US: the one line of `config check`, exit 2, no chip step, no record."""
    from r2wifi.service.ap import ApController

    text = _cfg('country = "US"\nchannel = 13\n', chip=True)
    f = tmp_path / "c.toml"
    f.write_text(text)
    f.chmod(0o600)
    rc, out, err = _main("--backend", "real", "up", "--ap", "--config", str(f))
    checked = run_cli("config", "check", "--config", str(f), "--regdb", str(db))
    assert rc == 2 and checked.returncode == 2
    assert err.startswith("r2wifi: error: ap.channel: channel 13") and err == checked.stderr, (err, checked.stderr)
    chip = _Chip()
    ctl = ApController(parse_config(text, source=str(f)), "real", chip=chip, directory=tmp_path / "ap")
    with pytest.raises(ConfigError) as info:
        ctl.up("ap")
    assert info.value.key == "ap.channel"
    assert chip.calls == [] and not (tmp_path / "ap" / "up.json").exists()


def test_up_preflight_notes_a_dfs_channel_and_skips_what_it_cannot_judge(db: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    """A DFS channel passes the check with the radar-wait note as a step line; the simulator's wired AP,
    station mode and a system without regulatory.db are not judged."""
    from r2wifi.service.ap import ApController

    dfs = parse_config(_cfg('country = "DE"\nhw_mode = "a"\nchannel = 120\n'))
    ctl = ApController(dfs, "real", chip=_Chip(), directory=tmp_path / "ap")
    notes = ctl.preflight()
    assert len(notes) == 1 and "DFS channel in DE" in notes[0] and "600 s" in notes[0]
    assert any("note: ap.channel:" in line for line in ctl.log)
    bad = parse_config(_cfg('country = "US"\nchannel = 13\n', chip=True))
    assert ApController(bad, "sim", chip=_Chip(), directory=tmp_path / "ap").preflight() == []
    sta = ApController(bad, "real", chip=_Chip(), directory=tmp_path / "ap")
    sta.mode = "sta"
    assert sta.preflight() == []
    monkeypatch.setattr(regdb, "REGDB_PATHS", (tmp_path / "none.db",))
    assert ApController(bad, "real", chip=_Chip(), directory=tmp_path / "ap").preflight() == []


def test_reload_refuses_a_forbidden_channel_without_signalling(db: Path, tmp_path: Path):
    """`reload` with a supervisor running and a file whose channel the country forbids: the same line, exit 2,
    and no SIGHUP reaches the supervisor (this test process holds the supervisor lock)."""
    from r2wifi.paths import state_dir
    from r2wifi.service.ap import ApController

    f = tmp_path / "c.toml"
    f.write_text(_cfg('country = "US"\nchannel = 13\n'))
    f.chmod(0o600)
    hups: list[int] = []
    old = signal.signal(signal.SIGHUP, lambda signum, _frame: hups.append(signum))
    sup = ApController(parse_config(_cfg("")), "real", chip=_Chip(), directory=state_dir() / "ap")
    sup.claim_supervisor()
    try:
        assert sup.supervisor_pid() == os.getpid()
        rc, out, err = _main("reload", "--config", str(f))
        assert rc == 2 and err.startswith("r2wifi: error: ap.channel: channel 13") and err.count("\n") == 1, err
        assert hups == [] and "asked the supervisor" not in out
        f.write_text(_cfg('country = "US"\nchannel = 11\n'))
        rc, out, err = _main("reload", "--config", str(f))
        assert rc == 0 and "asked the supervisor" in out, err
        assert hups == [signal.SIGHUP]
    finally:
        sup.release_supervisor()
        signal.signal(signal.SIGHUP, old)


def test_supervisor_reload_keeps_the_running_config_when_the_channel_is_forbidden(db: Path, tmp_path: Path):
    """SIGHUP to `run` (Supervisor.reload) with a forbidden channel in the file: refused with the line, the
    configuration in use is kept and nothing is applied."""
    from r2wifi.service.ap import ApController
    from r2wifi.service.supervisor import Supervisor

    f = tmp_path / "c.toml"
    f.write_text(_cfg('country = "US"\nchannel = 11\n'))
    f.chmod(0o600)
    ctl = ApController(parse_config(f.read_text(), source=str(f)), "real", chip=_Chip(), directory=tmp_path / "ap")
    out = io.StringIO()
    sup = Supervisor(ctl, out=out)
    sup.config_arg = str(f)
    f.write_text(_cfg('country = "US"\nchannel = 13\nssid = "other"\n'))
    sup.reload()
    said = out.getvalue()
    assert "SIGHUP: configuration not reloaded (ap.channel: channel 13" in said and "keeping the one in use" in said
    assert ctl.cfg.ap.channel == 11 and ctl.cfg.ap.ssid != "other" and "reload:" not in said
