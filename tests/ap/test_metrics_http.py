"""`r2wifi run --metrics-listen`: the supervisor on the simulator answers /metrics over HTTP."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.ap.conftest import SimBed
from tests.conftest import need_binary

prom_parser = pytest.importorskip("prometheus_client.parser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.root
def test_run_serves_metrics_while_supervising(sim_bed: SimBed) -> None:
    need_binary("hostapd")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(sim_bed.config),
                             "--metrics-listen", f"127.0.0.1:{port}"],
                            env=sim_bed.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        fams: dict[str, object] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=20) as r:
                    text = r.read().decode()
                fams = {f.name: f for f in prom_parser.text_string_to_metric_families(text)}
                up = fams["r2wifi_ap_up"].samples[0].value  # type: ignore[attr-defined]
                sup = fams["r2wifi_supervisor_running"].samples[0].value  # type: ignore[attr-defined]
                if up == 1 and sup == 1:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert fams, "no /metrics answer"
        assert fams["r2wifi_ap_up"].samples[0].value == 1  # type: ignore[attr-defined]
        assert fams["r2wifi_clients"].samples[0].value == 0  # type: ignore[attr-defined]
        assert "r2wifi_time_to_connect_seconds" in fams
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    with pytest.raises(OSError):  # the port is closed with the supervisor
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
