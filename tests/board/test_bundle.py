"""`r2wifi bundle`: one redacted tar.gz (0600) with doctor, kernel log, logs, config, versions."""

from __future__ import annotations

import gzip
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from tests.board.boardkit import healthy_system

SECRET = "correct horse battery"
CLIENT_MAC = "3c:22:fb:12:34:56"
SSID = "MyHomeNet-5G"


def _setup(run_cli, tmp_path: Path) -> tuple[Path, Path, Path]:  # type: ignore[no-untyped-def]
    root = healthy_system(tmp_path / "sys")
    (root / "var/log/dmesg").write_text(
        "[ 3.2] [WMT-CONSYS-HW]Wmt Cannot find pinctrl default!\n"
        f"[ 40.1] wlan0: STA {CLIENT_MAC} deauthenticated from 192.168.10.23\n")
    log = tmp_path / "hostapd.log"
    log.write_text(f"1700000000.1: ap0: STA {CLIENT_MAC} IEEE 802.11: associated\n"
                   f"1700000000.2: ssid=\"{SSID}\"\n"
                   f"1700000000.3: wpa_passphrase={SECRET}\n")
    cfg = tmp_path / "r2wifi.toml"
    r = run_cli("config", "init", str(cfg), "--ssid", SSID, "--passphrase-stdin", input=SECRET + "\n")
    assert r.returncode == 0, r.stderr
    return root, log, cfg


def test_bundle_is_redacted_and_private(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The archive is 0600, lists its members, and no passphrase, client MAC or SSID survives in it."""
    root, log, cfg = _setup(run_cli, tmp_path)
    out = tmp_path / "support.tar.gz"
    r = run_cli("bundle", "-o", str(out), "--root", str(root), "--log", str(log), "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    for name in ("doctor.txt", "kernel.log", "config.json", "versions.txt", "MANIFEST.txt"):
        assert name in r.stdout
    with tarfile.open(out) as tf:
        names = [m.name.split("/", 1)[1] for m in tf.getmembers()]
        blob = b"".join(tf.extractfile(m).read() for m in tf.getmembers() if m.isfile())  # type: ignore[union-attr]
    assert {"doctor.txt", "doctor.json", "kernel.log", "config.json", "versions.txt", "diagnosis.json",
            "diagnosis.txt"} <= set(names)
    assert any(n.startswith("logs/") and n.endswith("hostapd.log") for n in names)
    for secret in (SECRET, CLIENT_MAC, SSID, "192.168.10.23"):
        assert secret.encode() not in blob, secret
    assert b"pinctrl" in blob and b"harmless" in blob  # doctor's verdict made it in
    assert b"02:00:00:00:00:01" in blob  # the MAC was pseudonymised, not dropped
    with tarfile.open(out) as tf:
        diag = json.loads(tf.extractfile(f"{out.name[:-7]}/diagnosis.json").read())  # type: ignore[union-attr]
    assert [s["mac"] for s in diag["stations"]] == ["02:00:00:00:00:01"]  # same pseudonym as in the logs


def test_bundle_bad_log_is_user_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A --log that does not exist is one line on stderr, exit 2, and no archive is left."""
    out = tmp_path / "b.tar.gz"
    r = run_cli("bundle", "-o", str(out), "--root", str(tmp_path), "--log", str(tmp_path / "missing.log"))
    assert r.returncode == 2 and "missing.log" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_bundle_fifo_log_is_one_line_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A --log that is a FIFO is refused at once (no hang), exit 2, one line."""
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    r = run_cli("bundle", "-o", str(tmp_path / "b.tar.gz"), "--root", str(tmp_path), "--log", str(fifo), timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a regular file" in r.stderr, r.stderr


@pytest.mark.timeout(300)
def test_bundle_of_hostile_and_compressed_logs(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Backtracking bait (a 256 KiB ssid= line) and a .gz log: bundled, decompressed, still redacted."""
    root, log, cfg = _setup(run_cli, tmp_path)
    bait = tmp_path / "bait.log"
    bait.write_text(f"1700000001.0: ap0: STA {CLIENT_MAC} IEEE 802.11: associated\n"
                    f"ssid={SSID}" + " " * (256 << 10) + "x\n" + 'ssid "' * 20_000 + "\n")
    packed = tmp_path / "hostapd.log.1.gz"
    packed.write_bytes(gzip.compress(log.read_bytes()))
    out = tmp_path / "support.tar.gz"
    r = run_cli("bundle", "-o", str(out), "--root", str(root), "--log", str(bait), "--log", str(packed),
                "--config", str(cfg), timeout=280)
    assert r.returncode == 0, r.stderr
    with tarfile.open(out) as tf:
        members = {m.name.split("/", 1)[1]: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}  # type: ignore[union-attr]
    gz_member = next(v for k, v in members.items() if k.endswith("hostapd.log.1.gz"))
    assert b"IEEE 802.11: associated" in gz_member  # decompressed text, not gzip bytes
    blob = b"".join(members.values())
    for secret in (SECRET, CLIENT_MAC, SSID):
        assert secret.encode() not in blob, secret


def test_bundle_takes_r2wifi_logs_with_their_rotated_backups(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The log dir (/var/log/r2wifi below the root) and the state dir, each log with its .1/.2 backups."""
    root, _log, cfg = _setup(run_cli, tmp_path)
    logs = root / "var/log/r2wifi"
    logs.mkdir(parents=True)
    for name, text in (("supervisor.log", "2026-12-05T21:00:00.000Z recovery: restart-hostapd (reason: live)\n"),
                       ("supervisor.log.1", "2026-12-05T20:00:00.000Z recovery: restart-hostapd (reason: older)\n"),
                       ("hostapd-ap0.log.2", "1700000000.1: ap0: AP-ENABLED oldest-backup\n"),
                       ("launcher.log", "2026-12-05T19:00:00.000Z launcher[7]: cmd(srh_patch) resp(ok)\n")):
        (logs / name).write_text(text)
    state = tmp_path / "state" / "logs"
    state.mkdir(parents=True)
    (state / "dnsmasq-ap0.log.1").write_text("1700000000.2: dnsmasq-dhcp: DHCPACK(ap0) state-backup\n")
    out = tmp_path / "support.tar.gz"
    r = run_cli("bundle", "-o", str(out), "--root", str(root), "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    with tarfile.open(out) as tf:
        names = [m.name.split("/", 1)[1] for m in tf.getmembers()]
        blob = b"".join(tf.extractfile(m).read() for m in tf.getmembers() if m.isfile())  # type: ignore[union-attr]
    for suffix in ("supervisor.log", "supervisor.log.1", "hostapd-ap0.log.2", "launcher.log", "dnsmasq-ap0.log.1"):
        assert any(n.startswith("logs/") and n.endswith(suffix) for n in names), (suffix, names)
    for marker in (b"reason: live", b"reason: older", b"oldest-backup", b"state-backup"):
        assert marker in blob, marker
