"""One exit-code convention: 0 ok, 1 problems found, 2 bad usage or bad input (r2wifi --help says so).

Each command that has a "problems found" state is run on an input with problems and on one without."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path("/work/shared/corpus/dev")


def r2wifi(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    full.pop("R2WIFI_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "r2wifi", *args], capture_output=True, text=True,
                          timeout=120, env=full, cwd=REPO)


def test_top_help_documents_the_convention():
    out = r2wifi("--help").stdout
    assert "exit codes" in out and "0 ok; 1 problems found" in out and "2 bad usage or bad input" in out


def test_usage_errors_are_2_everywhere():
    from r2wifi.cli.commands import COMMANDS

    for name in COMMANDS:
        res = r2wifi(name, "--no-such-option")
        assert res.returncode == 2, (name, res.stderr)
        assert "Traceback" not in res.stderr


def test_firmware_check(tmp_path: Path):
    from r2wifi.wmt.fwgen import write_firmware_set

    empty = tmp_path / "empty"
    empty.mkdir()
    assert r2wifi("firmware", "check", str(empty)).returncode == 1
    good = write_firmware_set(tmp_path / "root")
    res = r2wifi("firmware", "check", "--root", str(tmp_path / "root"), "/etc/firmware")
    assert res.returncode == 0, res.stdout + res.stderr
    assert good.is_dir()


def test_diagnose(tmp_path: Path):
    bad = tmp_path / "hostapd.log"
    bad.write_text("Configuration file: /etc/hostapd.conf\n"
                   "Could not set channel for kernel driver\n"
                   "Interface initialization failed\n"
                   "wlan0: interface state UNINITIALIZED->DISABLED\n"
                   "wlan0: AP-DISABLED \n")
    assert r2wifi("diagnose", str(bad)).returncode == 1
    healthy = CORPUS / "006-mac80211-hwsim-healthy-single-client" / "hostapd.log"
    if healthy.exists():
        assert r2wifi("diagnose", str(healthy)).returncode == 0
    assert r2wifi("diagnose", str(tmp_path / "missing.log")).returncode == 2
    junk = tmp_path / "junk.log"
    junk.write_text("nothing here\n")
    assert r2wifi("diagnose", str(junk)).returncode == 2  # verdict unknown


def test_doctor_on_an_empty_root_finds_problems(tmp_path: Path):
    res = r2wifi("doctor", "--root", str(tmp_path))
    assert res.returncode == 1, res.stdout + res.stderr


def test_config_check_errors_are_bad_input(tmp_path: Path):
    cfg = tmp_path / "r2wifi.toml"
    cfg.write_text('[ap]\npassphrase = "short"\n')
    res = r2wifi("config", "check", "--config", str(cfg))
    assert res.returncode == 2 and "ap.passphrase" in res.stderr


def test_reload_without_a_supervisor_is_a_problem(tmp_path: Path):
    res = r2wifi("reload", env={"R2WIFI_STATE_DIR": str(tmp_path / "state")})
    assert res.returncode == 1 and "no supervisor" in res.stderr
