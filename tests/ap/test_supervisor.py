"""Acceptance: `r2wifi run` on the simulator recovers from a killed hostapd and from a TX stall."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from tests.ap.conftest import SimBed
from tests.conftest import need_binary


def wait_for(pred: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``pred`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def hostapd_enabled(bed: SimBed) -> bool:
    out = bed.cli("status", "--json", "--config", str(bed.config))
    if out.returncode != 0:
        return False
    st = json.loads(out.stdout)
    return bool(st.get("hostapd")) and st["hostapd"].get("state") == "ENABLED"


def sup_log(bed: SimBed) -> str:
    try:
        return (bed.state / "ap" / "supervisor.log").read_text()
    except FileNotFoundError:
        return ""


@pytest.fixture
def supervised(sim_bed: SimBed) -> Iterator[SimBed]:
    """`r2wifi run` in the background (stall_seconds = 1), stopped with SIGTERM afterwards."""
    need_binary("hostapd")
    sim_bed.write_config("[supervisor]\nstall_seconds = 1\nbackoff_initial = 0.5\n")
    proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(sim_bed.config)],
                            env=sim_bed.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: "supervising" in sup_log(sim_bed) or proc.poll() is not None, 60, "the supervisor")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        yield sim_bed
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.root
def test_kill9_of_hostapd_is_repaired_within_5s(supervised: SimBed) -> None:
    """hostapd killed with SIGKILL: the supervisor restarts it and the AP is ENABLED again within 5 s."""
    old = supervised.pid("hostapd")
    assert old and hostapd_enabled(supervised)
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: (supervised.pid("hostapd") or old) != old and hostapd_enabled(supervised), 5.0,
             "a new hostapd with the AP ENABLED")
    log = sup_log(supervised)
    assert "recovery: restart-hostapd (reason: hostapd exited" in log
    assert "restart-hostapd done" in log


@pytest.mark.root
def test_txq_stall_runs_the_ladder_and_the_ap_comes_back(supervised: SimBed) -> None:
    """An injected TX-queue stall is detected from the kernel log and fixed by WiFi off/AP again."""
    old = supervised.pid("hostapd")
    inj = supervised.cli("--backend", "sim", "sim", "inject", "txq-stall")
    assert inj.returncode == 0, inj.stderr
    wait_for(lambda: "reset-wifi done" in sup_log(supervised), 30, "the reset-wifi rung to finish")
    log = sup_log(supervised)
    assert "recovery: reset-wifi (reason: TX queue p2p0 stopped for" in log
    assert supervised.sim_status()["tx_stalled"] is False
    assert supervised.pid("hostapd") != old and hostapd_enabled(supervised)
    st = json.loads(supervised.cli("status", "--json", "--config", str(supervised.config)).stdout)
    assert st["interface_state"]["shaping"]["kind"] == "htb"  # re-applied on the new ap0
    assert sorted(st["interface_state"]["addresses"]) == ["192.168.10.1/24", "fd00:b::10/64"]


@pytest.mark.root
def test_launcher_death_resets_the_chip_and_the_ap_comes_back(supervised: SimBed) -> None:
    """The resident launcher killed: the supervisor goes straight to the chip rung and the AP returns."""
    launcher = json.loads(supervised.cli("status", "--json", "--config", str(supervised.config)).stdout)[
        "chip"]["launcher_pid"]
    assert launcher
    os.kill(launcher, signal.SIGKILL)
    wait_for(lambda: "reset-chip done" in sup_log(supervised), 30, "the reset-chip rung to finish")
    assert "recovery: reset-chip (reason: the chip launcher exited)" in sup_log(supervised)
    st = json.loads(supervised.cli("status", "--json", "--config", str(supervised.config)).stdout)
    assert st["chip"]["launcher_alive"] and st["chip"]["launcher_pid"] != launcher
    assert hostapd_enabled(supervised)


@pytest.mark.root
def test_down_stops_the_supervisor_first(supervised: SimBed) -> None:
    """`down` while `run` supervises: the supervisor is stopped, so it does not bring the AP back."""
    st = json.loads(supervised.cli("status", "--json", "--config", str(supervised.config)).stdout)
    sup_pid = st["daemons"]["supervisor"]["pid"]
    assert sup_pid
    down = supervised.cli("down", "--config", str(supervised.config))
    assert down.returncode == 0, down.stderr
    assert "stopped the supervisor" in down.stdout
    assert not os.path.exists(f"/proc/{sup_pid}") or b") Z" in open(f"/proc/{sup_pid}/stat", "rb").read()
    assert supervised.pid("hostapd") is None
    assert "recovery:" not in sup_log(supervised)


@pytest.mark.root
def test_second_supervisor_is_refused(supervised: SimBed) -> None:
    """Only one `r2wifi run` at a time: a second one exits 2 naming the first."""
    res = supervised.cli("run", "--config", str(supervised.config), timeout=30)
    assert res.returncode == 2 and "already supervising" in res.stderr


@pytest.mark.root
def test_run_under_systemd_notify_sends_ready_and_watchdog(sim_bed: SimBed) -> None:
    """With NOTIFY_SOCKET and WATCHDOG_USEC set, `run` sends READY=1 once the AP is up, then WATCHDOG=1."""
    import socket

    need_binary("hostapd")
    path = str(sim_bed.root / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as srv:
        srv.bind(path)
        srv.settimeout(60)
        env = dict(sim_bed.env, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(sim_bed.config)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            got: list[bytes] = []
            while b"WATCHDOG=1" not in got:
                got.append(srv.recv(4096))
            ready = [m for m in got if m.startswith(b"READY=1")]
            assert ready and got.index(ready[0]) < got.index(b"WATCHDOG=1")
            assert hostapd_enabled(sim_bed)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        assert proc.returncode == 0


@pytest.mark.root
def test_ap_disabled_event_restarts_hostapd(supervised: SimBed) -> None:
    """hostapd told to DISABLE (AP-DISABLED on its control socket): the supervisor restarts it."""
    from r2wifi.hostap.ctrl import CtrlClient

    old = supervised.pid("hostapd")
    with CtrlClient(supervised.state / "ctrl" / "hostapd-ap0" / "ap0") as c:
        assert c.request("DISABLE").strip() == "OK"
    wait_for(lambda: "restart-hostapd done" in sup_log(supervised), 10, "the restart-hostapd rung")
    assert "recovery: restart-hostapd (reason: hostapd reported AP-DISABLED)" in sup_log(supervised)
    assert supervised.pid("hostapd") != old and hostapd_enabled(supervised)


@pytest.mark.root
def test_storm_of_handshake_timeouts_in_the_hostapd_log_restarts_hostapd(supervised: SimBed) -> None:
    """Five `EAPOL-Key timeout` lines in hostapd's captured log within a minute trigger a restart."""
    log = supervised.state / "logs" / "hostapd-ap0.log"
    with open(log, "a") as fh:
        for i in range(5):
            fh.write(f"{time.time():.6f}: ap0: STA 02:00:00:00:00:0{i} WPA: EAPOL-Key timeout\n")
    wait_for(lambda: "restart-hostapd done" in sup_log(supervised), 10, "the restart-hostapd rung")
    assert "5 EAPOL handshake timeouts within 60 s" in sup_log(supervised)
    assert hostapd_enabled(supervised)
