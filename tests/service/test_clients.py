"""The station model: recorded hostapd STA replies and dnsmasq lease files -> typed clients."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from r2wifi import records
from r2wifi.hostap.ctrl import parse_sta
from r2wifi.service import clients
from tests.service.fakeap import DATA, fake_hostapd

LAPTOP = "a4:c3:f0:12:34:56"
PHONE = "02:11:22:33:44:55"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="r2cl", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _station(name: str) -> clients.Station:
    got = parse_sta((DATA / name).read_text())
    assert got is not None
    return clients.parse_station(*got)


def test_recorded_sta_reply_becomes_typed_values():
    sta = _station("sta_first.txt")
    assert sta.mac == LAPTOP and sta.authorized
    assert sta.flags == ("AUTH", "ASSOC", "AUTHORIZED", "SHORT_PREAMBLE", "WMM", "HT")
    assert sta.signal_dbm == -48 and sta.connected_seconds == 754 and sta.inactive_ms == 120
    assert (sta.rx_bytes, sta.tx_bytes, sta.rx_packets, sta.tx_packets) == (184532, 1203344, 1523, 987)
    assert sta.rx_rate_mbps == 65.0 and sta.tx_rate_mbps == 130.0
    assert sta.ip is None and sta.identity is None


def test_missing_fields_are_none_not_strings():
    """The wired driver (simulator) reports no signal or rates; an unauthorised station says so."""
    sta = _station("sta_next.txt")
    assert sta.mac == PHONE and not sta.authorized
    assert sta.signal_dbm is None and sta.rx_rate_mbps is None and sta.tx_rate_mbps is None
    assert sta.connected_seconds == 4
    bad = clients.parse_station(PHONE, {"signal": "weak", "rx_rate_info": "", "rx_bytes": "12x"})
    assert bad.signal_dbm is None and bad.rx_rate_mbps is None and bad.rx_bytes is None


def test_dnsmasq_lease_file_ipv4_lines_only():
    leases = clients.read_leases(DATA / "dnsmasq.leases")
    assert set(leases) == {LAPTOP, "de:ad:be:ef:00:01"}  # garbage, bad MAC and the IPv6 part skipped
    assert leases[LAPTOP] == clients.Lease(LAPTOP, "192.168.50.23", "laptop", 1765000000)
    assert leases["de:ad:be:ef:00:01"].hostname is None and leases["de:ad:be:ef:00:01"].expires is None
    assert clients.read_leases(DATA / "no-such-file") == {}
    assert clients.parse_leases("") == {}


def test_join_fills_address_and_name_from_the_lease():
    joined = clients.join([_station("sta_next.txt"), _station("sta_first.txt")],
                          clients.read_leases(DATA / "dnsmasq.leases"))
    assert [s.mac for s in joined] == [PHONE, LAPTOP]
    assert (joined[1].ip, joined[1].hostname) == ("192.168.50.23", "laptop")
    assert (joined[0].ip, joined[0].hostname) == (None, None)  # no lease yet


def test_query_over_a_hostapd_control_socket(short_dir: Path):
    """STATUS + STA-FIRST/NEXT over a socket answering with the recorded replies, joined with leases."""
    fake = fake_hostapd(short_dir / "ap0")
    try:
        ap, stations = clients.query(short_dir / "ap0", DATA / "dnsmasq.leases")
    finally:
        fake.close()
    assert ap == {"state": "ENABLED", "ssid": "r2wifi-test", "bssid": "02:00:00:00:01:00", "channel": 6,
                  "freq_mhz": 2437, "num_stations": 2, "driver": None}
    laptop = next(s for s in stations if s["mac"] == LAPTOP)
    assert laptop["ip"] == "192.168.50.23" and laptop["hostname"] == "laptop"
    assert isinstance(laptop["signal_dbm"], int) and isinstance(laptop["rx_rate_mbps"], float)
    assert json.loads(json.dumps(stations)) == stations  # JSON-ready
    assert set(laptop) == {f.name for f in records.fields(clients.Station)}


def test_wired_driver_says_authorization_does_not_apply(short_dir: Path):
    """driver=wired (the simulator's veth): no radio (channel and frequency None, not hostapd's 0), and a
    station without AUTHORIZED is `authorized: null` with a text line saying why, not "not authorized"."""
    fake = fake_hostapd(short_dir / "ap0")
    try:
        ap, stations = clients.query(short_dir / "ap0", DATA / "dnsmasq.leases", "wired")
    finally:
        fake.close()
    assert (ap["driver"], ap["channel"], ap["freq_mhz"], ap["state"]) == ("wired", None, None, "ENABLED")
    phone = next(s for s in stations if s["mac"] == PHONE)
    laptop = next(s for s in stations if s["mac"] == LAPTOP)
    assert phone["authorized"] is None and laptop["authorized"] is True  # hostapd's AUTHORIZED is kept
    line = clients.station_line(phone)
    assert "wired link (802.3)" in line and "not authorized" not in line
    assert "not authorized" in clients.station_line({**phone, "authorized": False})
    assert "802.3" not in clients.station_line(laptop) and "authorized" not in clients.station_line(laptop)


def test_status_text_shows_each_client_with_address_and_name():
    from r2wifi.cli.status import _text

    sta = clients.join([_station("sta_first.txt")], clients.read_leases(DATA / "dnsmasq.leases"))[0]
    st = {"version": clients.SCHEMA_VERSION, "state": "up", "up": True, "mode": "ap", "interface": "ap0",
          "chip": {"enabled": False}, "interface_state": None, "daemons": {},
          "hostapd": {"state": "ENABLED", "ssid": "x", "bssid": None, "channel": 6, "freq_mhz": 2437,
                      "num_stations": 1},
          "stations": [sta.as_dict()]}
    text = _text(st)
    line = next(ln for ln in text.splitlines() if ln.startswith("client:"))
    assert LAPTOP in line and "192.168.50.23" in line and "laptop" in line and "-48 dBm" in line
    assert "12m34s" in line and "65/130 Mbit/s" in line
    assert "bssid=None" not in text


def test_watch_view_renders_clients_and_status_errors():
    from rich.console import Console

    from r2wifi.cli.status_watch import render

    sta = clients.join([_station("sta_first.txt")], clients.read_leases(DATA / "dnsmasq.leases"))[0]
    console = Console(record=True, width=140)
    console.print(render({"state": "up", "interface": "ap0", "stations": [sta.as_dict()],
                          "hostapd": {"ssid": "r2wifi-test", "channel": 6, "state": "ENABLED"}}))
    out = console.export_text()
    assert "1 client(s) on ap0" in out and "192.168.50.23" in out and "laptop" in out and "r2wifi-test" in out


def test_watch_bad_interval_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    from r2wifi.cli.main import main

    for bad in ("0", "soon"):
        with pytest.raises(SystemExit) as exc:
            main(["status", "--watch", bad])
        assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--watch" in err and "Traceback" not in err


def test_watch_redraws_and_ends_cleanly_on_ctrl_c(tmp_path: Path):
    """`status --watch 0.3` keeps drawing until SIGINT, then exits 0 without a traceback."""
    import os
    import signal
    import subprocess
    import sys
    import time

    repo = Path(__file__).resolve().parents[2]
    cfg = tmp_path / "r2wifi.toml"
    cfg.write_text('[chip]\nenabled = false\n[ap]\npassphrase = "correct horse battery"\n')
    env = dict(os.environ, R2WIFI_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(repo), COLUMNS="100")
    proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "status", "--watch", "0.3", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out_path = b""
    try:
        assert proc.stdout is not None
        import select

        deadline = time.monotonic() + 60
        while out_path.count(b"client(s) on ap0") < 2 and time.monotonic() < deadline and proc.poll() is None:
            if select.select([proc.stdout], [], [], 1.0)[0]:
                out_path += os.read(proc.stdout.fileno(), 4096)
        assert out_path.count(b"client(s) on ap0") >= 2 and b"state down" in out_path  # redrawn
        proc.send_signal(signal.SIGINT)
        _rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
