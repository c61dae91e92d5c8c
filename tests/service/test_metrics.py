"""`r2wifi metrics`: Prometheus text from a known session (recorded logs + a fake hostapd socket),
parsed with prometheus_client's own parser; the HTTP endpoint; cause labels from the ladder's reasons."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from r2wifi.service import clients, metrics
from r2wifi.service import ladder as L
from tests.service.fakeap import DATA as CLIENT_DATA
from tests.service.fakeap import fake_hostapd

prom_parser = pytest.importorskip("prometheus_client.parser")

LOGS = Path(__file__).resolve().parent.parent / "data" / "metrics"
LAPTOP = "a4:c3:f0:12:34:56"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="r2me", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in prom_parser.text_string_to_metric_families(text)}


def _value(fam: Any, sample: str, **labels: str) -> float:
    hits = [s.value for s in fam.samples if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(hits) == 1, (sample, labels, fam.samples)
    return float(hits[0])


def _known_session(short_dir: Path) -> str:
    """The live look at the fake hostapd (recorded STA replies, lease file) + the recorded logs."""
    from r2wifi.diagnose.analyze import analyze

    fake = fake_hostapd(short_dir / "ap0")
    try:
        ap, stations = clients.query(short_dir / "ap0", CLIENT_DATA / "dnsmasq.leases")
    finally:
        fake.close()
    status = {"state": "up", "up_since": 1000.0, "hostapd": ap, "stations": stations,
              "supervisor": {"pid": 1, "state": "watching"}}
    agg = analyze([str(LOGS / "hostapd-ap0.log"), str(LOGS / "supervisor.log"), str(LOGS / "kern.log")])[0]
    return metrics.render(metrics.collect(status, agg, now=1060.0))


def test_known_session_parses_with_names_types_and_values(short_dir: Path):
    fams = _families(_known_session(short_dir))
    types = {name: f.type for name, f in fams.items()}
    assert all(name.startswith("r2wifi_") for name in fams)
    # the parser strips _total from counter family names
    assert types["r2wifi_connects"] == types["r2wifi_recoveries"] == types["r2wifi_disconnects"] == "counter"
    assert types["r2wifi_time_to_connect_seconds"] == "histogram"
    assert types["r2wifi_ap_up"] == types["r2wifi_clients"] == types["r2wifi_client_signal_dbm"] == "gauge"
    assert all(f.documentation for f in fams.values())

    assert _value(fams["r2wifi_ap_up"], "r2wifi_ap_up") == 1
    assert _value(fams["r2wifi_ap_state"], "r2wifi_ap_state", state="degraded") == 0
    assert _value(fams["r2wifi_ap_uptime_seconds"], "r2wifi_ap_uptime_seconds") == 60
    assert _value(fams["r2wifi_clients"], "r2wifi_clients") == 2
    assert _value(fams["r2wifi_client_info"], "r2wifi_client_info", mac=LAPTOP, ip="192.168.50.23",
                  hostname="laptop") == 1
    assert _value(fams["r2wifi_client_signal_dbm"], "r2wifi_client_signal_dbm", mac=LAPTOP) == -48
    assert len(fams["r2wifi_client_signal_dbm"].samples) == 1  # the other client reports no signal
    assert _value(fams["r2wifi_client_receive_bytes"], "r2wifi_client_receive_bytes_total", mac=LAPTOP) == 184532
    assert _value(fams["r2wifi_client_transmit_bytes"], "r2wifi_client_transmit_bytes_total", mac=LAPTOP) == 1203344

    # counted from the logs by the diagnose pipeline
    assert _value(fams["r2wifi_connects"], "r2wifi_connects_total") == 2
    assert _value(fams["r2wifi_connect_failures"], "r2wifi_connect_failures_total") == 1
    assert _value(fams["r2wifi_disconnects"], "r2wifi_disconnects_total", reason="8") == 1
    assert _value(fams["r2wifi_tx_queue_stops"], "r2wifi_tx_queue_stops_total") == 2
    rec = fams["r2wifi_recoveries"]
    assert _value(rec, "r2wifi_recoveries_total", step="restart-hostapd", cause="tx_stall") == 1
    assert _value(rec, "r2wifi_recoveries_total", step="reset-chip", cause="launcher_exited") == 1
    assert _value(fams["r2wifi_recovery_failures"], "r2wifi_recovery_failures_total", step="restart-hostapd") == 1
    assert _value(fams["r2wifi_chip_resets"], "r2wifi_chip_resets_total") == 1

    # two sessions reached a connect: 0.3 s (still connected) and 1.5 s (ended)
    h = fams["r2wifi_time_to_connect_seconds"]
    assert _value(h, "r2wifi_time_to_connect_seconds_count") == 2
    assert _value(h, "r2wifi_time_to_connect_seconds_sum") == pytest.approx(1.8, abs=0.01)
    assert _value(h, "r2wifi_time_to_connect_seconds_bucket", le="0.25") == 0
    assert _value(h, "r2wifi_time_to_connect_seconds_bucket", le="0.5") == 1
    assert _value(h, "r2wifi_time_to_connect_seconds_bucket", le="2.0") == 2
    assert _value(h, "r2wifi_time_to_connect_seconds_bucket", le="+Inf") == 2


def test_nothing_known_is_zero_not_missing():
    fams = _families(metrics.render(metrics.collect({}, None)))
    assert _value(fams["r2wifi_ap_up"], "r2wifi_ap_up") == 0
    assert _value(fams["r2wifi_ap_state"], "r2wifi_ap_state", state="down") == 1
    assert _value(fams["r2wifi_connects"], "r2wifi_connects_total") == 0
    assert _value(fams["r2wifi_time_to_connect_seconds"], "r2wifi_time_to_connect_seconds_count") == 0


def test_recovery_counters_keep_counting_past_the_kept_evidence(tmp_path: Path):
    """200 recoveries in the supervisor's log count 200 (the report keeps only a few as evidence)."""
    from r2wifi.diagnose.analyze import analyze

    lines = ["2025-12-05T21:00:00.000 supervising ap0 (hostapd, dnsmasq)"]
    for i in range(200):
        lines.append(f"2025-12-05T21:{i // 60:02d}:{i % 60:02d}.100 recovery: reset-chip (reason: the chip launcher exited)")
        outcome = "FAILED: not restored: ap0 is missing in 1.00 s" if i % 4 == 0 else "done in 0.50 s (verified)"
        lines.append(f"2025-12-05T21:{i // 60:02d}:{i % 60:02d}.600 recovery: reset-chip {outcome}")
    log = tmp_path / "supervisor.log"
    log.write_text("\n".join(lines) + "\n")
    fams = _families(metrics.render(metrics.collect({}, analyze([str(log)])[0])))
    assert sum(s.value for s in fams["r2wifi_recoveries"].samples if s.name == "r2wifi_recoveries_total") == 200
    assert _value(fams["r2wifi_recovery_failures"], "r2wifi_recovery_failures_total", step="reset-chip") == 50
    assert _value(fams["r2wifi_chip_resets"], "r2wifi_chip_resets_total") == 200


def test_hostile_label_values_are_escaped():
    """A DHCP host name is the client's choice: quotes, backslashes and newlines stay inside the label."""
    st = {"state": "up", "stations": [{"mac": LAPTOP, "ip": "10.0.0.2", "hostname": 'a"b\\c\nd} x 1'}]}
    fams = _families(metrics.render(metrics.collect(st, None)))
    assert _value(fams["r2wifi_client_info"], "r2wifi_client_info", mac=LAPTOP) == 1
    assert fams["r2wifi_client_info"].samples[0].labels["hostname"] == 'a"b\\c\nd} x 1'


def test_cli_reads_rotated_own_logs_and_writes_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`r2wifi metrics --output` with r2wifi's captured logs (one rotated) and --log for the kernel log."""
    from r2wifi.cli.main import main

    state = tmp_path / "state"
    (state / "logs").mkdir(parents=True)
    (state / "ap").mkdir()
    lines = (LOGS / "hostapd-ap0.log").read_text().splitlines(keepends=True)
    (state / "logs" / "hostapd-ap0.log.1").write_text("".join(lines[:12]))
    (state / "logs" / "hostapd-ap0.log").write_text("".join(lines[12:]))
    shutil.copy(LOGS / "supervisor.log", state / "ap" / "supervisor.log")
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(state))
    out = tmp_path / "r2wifi.prom"
    out.write_text("old")
    cfg = tmp_path / "r2wifi.toml"
    cfg.write_text("[chip]\nenabled = false\n[ap]\npassphrase = \"correct horse battery\"\n")
    assert main(["metrics", "--config", str(cfg), "--output", str(out), "--log", str(LOGS / "kern.log")]) == 0
    fams = _families(out.read_text())
    assert _value(fams["r2wifi_connects"], "r2wifi_connects_total") == 2
    assert _value(fams["r2wifi_tx_queue_stops"], "r2wifi_tx_queue_stops_total") == 2
    assert _value(fams["r2wifi_recoveries"], "r2wifi_recoveries_total", step="reset-chip", cause="launcher_exited") == 1
    assert _value(fams["r2wifi_ap_state"], "r2wifi_ap_state", state="down") == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("r2wifi.prom")] == ["r2wifi.prom"]
    assert main(["metrics", "--config", str(cfg), "--log", str(tmp_path / "missing.log")]) == 2


def test_http_endpoint_serves_errors_and_404():
    calls = []

    def produce() -> str:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("status\nbroke")
        return metrics.render(metrics.collect({"state": "up"}, None))

    srv = metrics.serve(("127.0.0.1", 0), produce)
    try:
        host, port = srv.address
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert _value(_families(r.read().decode())["r2wifi_ap_up"], "r2wifi_ap_up") == 1
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10)
        assert err.value.code == 500 and b"status broke" in err.value.read()
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://{host}:{port}/other", timeout=10)
        assert err.value.code == 404
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as r:
            assert r.status == 200  # still serving after the failure
    finally:
        srv.close()


@pytest.mark.parametrize("text", ["9477", "localhost", "1.2.3.4:99999", "[::1]", "a b:80", ""])
def test_bad_listen_address_is_a_user_error(text: str):
    from r2wifi.errors import UserError

    with pytest.raises(UserError, match="--metrics-listen"):
        metrics.parse_listen(text)


def test_listen_forms():
    assert metrics.parse_listen("127.0.0.1:9477") == ("127.0.0.1", 9477)
    assert metrics.parse_listen("[::1]:9477") == ("::1", 9477)
    assert metrics.parse_listen(":9477") == ("", 9477)


def test_every_ladder_fault_reason_has_a_cause_label():
    """Drive the real ladder into each fault; the reason it gives its Recover maps to a named cause."""
    cfg = L.LadderConfig(stall_seconds=1.0, loop_count=2, storm_count=2)
    seen: dict[str, str] = {}

    def recover_reason(*events: Any) -> str:
        lad = L.Ladder(cfg)
        acts: list[Any] = []
        for ev in events:
            acts += lad.handle(ev)
        rec = [a for a in acts if isinstance(a, L.Recover)]
        assert rec, (events, acts)
        return rec[-1].reason

    cases = {
        "daemon_exited": (L.HostapdExited(1.0, 1, "dnsmasq"),),
        "interface": (L.InterfaceFault(1.0, "ap0 lacks 192.168.50.1/24"),),
        "launcher_exited": (L.LauncherExited(1.0),),
        "ap_disabled": (L.ApDisabled(1.0),),
        "tx_stall": (L.TxqStopped(1.0, "ap0"), L.Tick(3.0)),
        "association_loop": (L.StaConnected(1.0, LAPTOP), L.StaConnected(2.0, LAPTOP), L.StaConnected(3.0, LAPTOP)),
        "handshake_storm": (L.EapolTimeout(1.0, "02:00:00:00:00:01"), L.EapolTimeout(2.0, "02:00:00:00:00:02"),
                            L.EapolTimeout(3.0, "02:00:00:00:00:03")),
        "escalation": (L.ApDisabled(1.0), L.Done(2.0, False, "not restored"), L.Tick(100.0)),
    }
    for want, events in cases.items():
        reason = recover_reason(*events)
        seen[want] = reason
        assert metrics.cause_of(reason) == want, (want, reason)
    assert set(metrics.CAUSES) == set(cases) | {"other"}


def test_runtime_does_not_import_prometheus_client():
    import subprocess
    import sys

    code = ("import sys, r2wifi.service.metrics as m; m.render(m.collect({}, None)); "
            "print('prometheus_client' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ))
    assert out.stdout.strip() == "False", out.stderr
