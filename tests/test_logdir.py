"""r2wifi.logdir: where the logs go, rotation with a bounded number of backups, syslog mode."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from r2wifi import logdir
from r2wifi.config import ConfigError, ConfigErrors, parse_config
from r2wifi.logs.wrappers import unwrap

MAX, BACKUPS = 4096, 2


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for k in (logdir.ENV_DIR, logdir.ENV_CONF, logdir.ENV_SOCKET):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(tmp_path / "state"))


def _bounded(path: Path, last: str) -> None:
    """Exactly BACKUPS backups, none beyond, each within the limit, the newest line in the live file."""
    names = sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))
    assert names == [path.name, f"{path.name}.1", f"{path.name}.2"], names
    for p in logdir.log_files(path):
        assert p.stat().st_size <= MAX
    assert path.read_text().splitlines()[-1].endswith(last)
    assert logdir.log_files(path) == [path, path.with_name(f"{path.name}.1"), path.with_name(f"{path.name}.2")]


def test_target_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert logdir.target(openwrt=True).syslog
    t = logdir.target(openwrt=False)
    assert t.mode == "state" and t.path("hostapd-ap0", tmp_path / "x.log") == tmp_path / "x.log"
    monkeypatch.delenv("R2WIFI_STATE_DIR")
    if os.geteuid() == 0:
        assert logdir.target(openwrt=False).dir == logdir.DEFAULT_DIR
    logdir.adopt(str(tmp_path / "logs"), 5000, 7)
    t = logdir.target(openwrt=True)
    assert (t.mode, t.dir, t.max_bytes, t.backups) == ("dir", tmp_path / "logs", 5000, 7)
    assert t.path("launcher", tmp_path / "x.log") == tmp_path / "logs" / "launcher.log"
    monkeypatch.setenv(logdir.ENV_DIR, "syslog")  # the override beats the configuration
    assert logdir.target().syslog and logdir.target().max_bytes == 5000


def test_unwritable_var_log_falls_back_to_the_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As root with a read-only /var/log (read-only root, a guest's 9p root), "auto" keeps logs in the state dir."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setattr(logdir, "DEFAULT_DIR", blocker / "r2wifi")
    monkeypatch.delenv("R2WIFI_STATE_DIR", raising=False)
    monkeypatch.delenv(logdir.ENV_DIR, raising=False)
    monkeypatch.delenv(logdir.ENV_CONF, raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert logdir.target(openwrt=False).mode == "state"
    writable = tmp_path / "var-log" / "r2wifi"
    monkeypatch.setattr(logdir, "DEFAULT_DIR", writable)
    assert logdir.target(openwrt=False).dir == writable and writable.is_dir()


def test_config_log_keys_are_validated() -> None:
    cfg = parse_config('[ap]\npassphrase = "correct-horse-77"\n[log]\ndir = "/srv/logs"\nmax_bytes = 4096\nbackups = 2\n')
    assert (cfg.log.dir, cfg.log.max_bytes, cfg.log.backups) == ("/srv/logs", 4096, 2)
    with pytest.raises((ConfigError, ConfigErrors)) as err:
        parse_config('[ap]\npassphrase = "correct-horse-77"\n[log]\ndir = "logs"\nmax_bytes = 10\nbackups = 101\n')
    text = str(err.value)
    assert "log.dir" in text and "log.max_bytes" in text and "log.backups" in text


def test_launcher_log_rotates_in_the_log_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from r2wifi.wmt.launcher import LauncherLog
    from r2wifi.wmt.state import files

    logdir.adopt(str(tmp_path / "logs"), MAX, BACKUPS)
    path = files().log
    assert path == tmp_path / "logs" / "launcher.log"
    log = LauncherLog(path, stream=None)
    for i in range(300):
        log(f"cmd(srh_patch) resp(ok) line {i}")
    log.close()
    _bounded(path, "line 299")
    u = unwrap(path.read_text().splitlines()[-1])
    assert u is not None and u.ts is not None and u.msg.startswith("launcher[")


def test_supervisor_log_rotates_and_is_utc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from r2wifi.service.supervisor import Supervisor

    logdir.adopt(str(tmp_path / "logs"), MAX, BACKUPS)
    sup = Supervisor.__new__(Supervisor)  # only the logging half: no AP behind it
    sup.out = io.StringIO()
    sup.logfile = logdir.supervisor_log(tmp_path / "ap")
    sup._log = None
    for i in range(300):
        sup.say(f"recovery: restart-hostapd (reason: test {i})")
    _bounded(sup.logfile, "(reason: test 299)")
    line = sup.logfile.read_text().splitlines()[-1]
    assert line[23] == "Z", line  # 2026-12-05T22:26:24.123Z
    u = unwrap(line)
    assert u is not None and u.ts is not None and abs(u.ts - os.stat(sup.logfile).st_mtime) < 5


def test_daemon_log_pump_rotates(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "hostapd-ap0.log"
    lines = "".join(f"wlan0: STA 02:00:00:00:00:01 IEEE 802.11: associated {i}\n" for i in range(300))
    subprocess.run([sys.executable, "-m", "r2wifi.hostap.logpump", "--max-bytes", str(MAX), "--backups",
                    str(BACKUPS), str(path)], input=lines.encode(), check=True, timeout=120)
    _bounded(path, "associated 299")


def test_daemon_log_file_follows_the_configured_dir(tmp_path: Path) -> None:
    from r2wifi.hostap.daemon import Daemon

    d = Daemon("dnsmasq-ap0", ["dnsmasq"], root=tmp_path / "state")
    assert d.log_file == tmp_path / "state" / "logs" / "dnsmasq-ap0.log"  # tests: the state dir
    logdir.adopt(str(tmp_path / "logs"), MAX, BACKUPS)
    assert d.log_file == tmp_path / "logs" / "dnsmasq-ap0.log"


def test_syslog_mode_sends_datagrams_with_the_program_tag(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dev_log = str(tmp_path / "log.sock")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(dev_log)
    rx.settimeout(60)
    monkeypatch.setenv(logdir.ENV_SOCKET, dev_log)
    monkeypatch.setenv(logdir.ENV_DIR, "syslog")
    try:
        # the daemon path: a log pump with --syslog (as hostap.daemon starts it in syslog mode)
        copy = tmp_path / "state" / "logs" / "hostapd-ap0.log"
        subprocess.run([sys.executable, "-m", "r2wifi.hostap.logpump", "--syslog", "hostapd", str(copy)],
                       input=b"wlan0: AP-ENABLED\n", check=True, timeout=120, env=dict(os.environ))
        msg = rx.recv(4096).decode()
        assert msg.startswith("<30>") and " hostapd[" in msg and msg.endswith("]: wlan0: AP-ENABLED"), msg
        assert "AP-ENABLED" in copy.read_text()  # the runtime copy the supervisor follows
        # r2wifi's own writers
        sink = logdir.open_log("supervisor", tmp_path / "ap" / "supervisor.log", tag="r2wifi", stamp=logdir.iso_prefix)
        sink.write_line(b"supervising wlan0", 1.0e9)
        sink.close()
        msg = rx.recv(4096).decode()
        assert msg.startswith("<30>") and f" r2wifi[{os.getpid()}]: supervising wlan0" in msg, msg
    finally:
        rx.close()


def test_syslog_without_a_listener_drops_lines(tmp_path: Path) -> None:
    sink = logdir.SyslogSink("r2wifi", str(tmp_path / "absent.sock"))
    sink.write_line(b"nobody listens", 1.0e9)  # no exception, no hang
    sink.close()
