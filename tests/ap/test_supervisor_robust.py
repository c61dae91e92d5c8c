"""Acceptance (issues 9 and 10): one supervisor, every daemon watched, never giving up, verified recoveries.

Simulator scenarios assert on events (log lines, pids, status) with generous timeouts, never on
durations.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ap.conftest import SimBed
from tests.ap.test_supervisor import hostapd_enabled, sup_log, wait_for
from tests.conftest import need_binary

FAST = "[supervisor]\nstall_seconds = 1\nbackoff_initial = 0.2\nbackoff_max = 0.5\n"


def running(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != b"Z"


def status(bed: SimBed) -> dict[str, Any]:
    out = bed.cli("status", "--json", "--config", str(bed.config))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert isinstance(data, dict)
    return data


def start_run(bed: SimBed, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(bed.config), *extra],
                            env=bed.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop_run(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr:
        proc.stderr.close()
    return proc.returncode


@pytest.fixture
def running_sup(sim_bed: SimBed) -> Iterator[tuple[SimBed, subprocess.Popen[str]]]:
    """`r2wifi run` (fast ladder) in the background, supervising."""
    need_binary("hostapd")
    need_binary("dnsmasq")
    sim_bed.write_config(FAST)
    proc = start_run(sim_bed)
    try:
        wait_for(lambda: "supervising" in sup_log(sim_bed) or proc.poll() is not None, 90, "the supervisor")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        yield sim_bed, proc
    finally:
        stop_run(proc)


def done_count(bed: SimBed) -> int:
    return sup_log(bed).count(" s (verified)")


# -- one supervisor ---------------------------------------------------------------------------------


def _claimer(directory: Path, go_r: int, out_w: int, end_r: int) -> None:
    """Child: wait for the start signal, try to become the supervisor, say so, hold until told."""
    from r2wifi.config import default_config
    from r2wifi.errors import UserError
    from r2wifi.service.ap import ApController

    ctl = ApController(default_config(), "sim", directory=directory)
    os.read(go_r, 1)
    try:
        ctl.claim_supervisor()
        os.write(out_w, b"W")
    except UserError as err:
        os.write(out_w, b"L" if "already supervising" in str(err) else b"?")
    os.read(end_r, 1)
    ctl.release_supervisor()


def test_two_claims_at_once_exactly_one_supervises_50_times(tmp_path: Path) -> None:
    """Two processes claiming the supervisor at the same instant: always exactly one wins, the pid file
    names it, the other is told 'already supervising'."""
    from r2wifi.service.procs import Procs

    for i in range(50):
        d = tmp_path / f"ap{i}"
        go_r, go_w = os.pipe()
        out_r, out_w = os.pipe()
        end_r, end_w = os.pipe()
        kids = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - child
                code = 0
                try:
                    _claimer(d, go_r, out_w, end_r)
                except BaseException:  # noqa: BLE001
                    code = 1
                os._exit(code)
            kids.append(pid)
        os.write(go_w, b"gg")
        got = os.read(out_r, 1) + os.read(out_r, 1)
        try:
            assert sorted(got) == sorted(b"WL"), (i, got)
            holder = Procs(d).pid("supervisor")
            assert holder in kids
        finally:
            os.write(end_w, b"ee")
            for pid in kids:
                _, st = os.waitpid(pid, 0)
                assert os.waitstatus_to_exitcode(st) == 0
            for fd in (go_r, go_w, out_r, out_w, end_r, end_w):
                os.close(fd)


def test_two_run_commands_at_once_exactly_one_supervises_50_times(tmp_path: Path) -> None:
    """Two real `r2wifi run` processes started together, 50 times: one holds the supervisor (it waits for an
    interface that never comes, so it stays in its bring-up), the other exits 2 with one line naming it;
    SIGTERM then stops the holder during its bring-up (exit 0)."""
    from tests.ap.conftest import REPO

    cfg = tmp_path / "r2wifi.toml"
    cfg.write_text('[chip]\nenabled = false\n[ap]\ninterface = "r2wnx0"\npassphrase = "correct horse battery"\n')
    env = dict(os.environ, R2WIFI_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(REPO))
    env.pop("R2WIFI_DEBUG", None)
    pidfile = tmp_path / "state" / "ap" / "supervisor.pid"
    for i in range(50):
        procs = [subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(cfg)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            wait_for(lambda ps=procs: any(p.poll() is not None for p in ps), 60, f"one run to exit ({i})")
            loser = next(p for p in procs if p.poll() is not None)
            holder = next(p for p in procs if p is not loser)
            err = loser.stderr.read() if loser.stderr else ""
            assert loser.returncode == 2 and "already supervising (pid" in err, (i, err)
            assert len(err.strip().splitlines()) == 1
            assert holder.poll() is None and pidfile.read_text().split()[0] == str(holder.pid)
            assert f"pid {holder.pid}" in err
            holder.send_signal(signal.SIGTERM)
            assert holder.wait(timeout=30) == 0
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                if p.stderr:
                    p.stderr.close()


@pytest.mark.root
def test_two_runs_at_once_one_supervises_and_down_leaves_everything_down(sim_bed: SimBed) -> None:
    """Two `r2wifi run` started together: one supervises, the other exits 2; `down` stops it all and
    nothing comes back."""
    need_binary("hostapd")
    sim_bed.write_config(FAST)
    procs = [start_run(sim_bed), start_run(sim_bed)]
    try:
        wait_for(lambda: any(p.poll() is not None for p in procs), 90, "one of the two runs to exit")
        loser = next(p for p in procs if p.poll() is not None)
        winner = next(p for p in procs if p is not loser)
        assert loser.returncode == 2
        err = loser.stderr.read() if loser.stderr else ""
        assert "already supervising" in err and len(err.strip().splitlines()) == 1
        wait_for(lambda: "supervising" in sup_log(sim_bed) or winner.poll() is not None, 90, "the supervisor")
        assert winner.poll() is None
        st = status(sim_bed)
        assert st["supervisor"]["pid"] == winner.pid and st["state"] == "up"
        pids = [sim_bed.pid("hostapd"), sim_bed.pid("dnsmasq"), st["chip"]["launcher_pid"]]
        down = sim_bed.cli("down", "--config", str(sim_bed.config))
        assert down.returncode == 0, down.stderr
        assert winner.wait(timeout=30) == 0
        time.sleep(2)  # give anything that would bring the AP back the chance to do it
        st = status(sim_bed)
        assert st["state"] == "down" and st["supervisor"] is None
        assert not any(running(p) for p in pids) and sim_bed.pid("hostapd") is None
        assert not sim_bed.sim_status()["launcher_connected"]
    finally:
        for p in procs:
            stop_run(p)


@pytest.mark.root
def test_down_during_the_bring_up_leaves_everything_down(sim_bed: SimBed) -> None:
    """`down` right after `run` started (still bringing the AP up): run stops, nothing stays up."""
    need_binary("hostapd")
    sim_bed.write_config(FAST)
    proc = start_run(sim_bed)
    try:
        wait_for(lambda: (sim_bed.state / "ap" / "supervisor.pid").exists() or proc.poll() is not None, 60,
                 "run to claim the supervisor")
        down = sim_bed.cli("down", "--config", str(sim_bed.config))
        assert down.returncode == 0, down.stderr
        assert proc.wait(timeout=60) == 0
        time.sleep(2)
        st = status(sim_bed)
        assert st["state"] == "down" and sim_bed.pid("hostapd") is None and sim_bed.pid("dnsmasq") is None
        assert not sim_bed.sim_status()["launcher_connected"]
    finally:
        stop_run(proc)


# -- every daemon watched ---------------------------------------------------------------------------


@pytest.mark.root
def test_kill9_of_each_ap_daemon_is_repaired_by_the_first_rung(
        running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:
    """dnsmasq and hostapd killed with SIGKILL: each is restarted by rung 0 (restart-<daemon>), verified."""
    bed, proc = running_sup
    for kind in ("dnsmasq", "hostapd"):
        old = bed.pid(kind)
        assert running(old)
        before = done_count(bed)
        os.kill(old or 0, signal.SIGKILL)
        wait_for(lambda b=before: done_count(bed) > b, 60, f"the recovery of {kind}")
        log = sup_log(bed)
        assert f"recovery: restart-{kind} (reason: {kind} exited" in log
        assert re.search(rf"restart-{kind} done in [\d.]+ s \(verified\)", log)
        assert running(bed.pid(kind)) and bed.pid(kind) != old
    assert status(bed)["state"] == "up" and hostapd_enabled(bed)
    assert proc.poll() is None


@pytest.mark.root
def test_kill9_of_each_station_daemon_is_repaired_by_the_first_rung(sim_bed: SimBed) -> None:
    """Station mode: wpa_supplicant and udhcpc killed with SIGKILL are each restarted by rung 0."""
    need_binary("wpa_supplicant")
    need_binary("busybox")
    sim_bed.env["R2WIFI_RESOLV_CONF"] = str(sim_bed.root / "resolv.conf")
    sim_bed.write_config('[sta]\nenabled = true\nssid = "Upstream"\npassphrase = "upstream pass"\n' + FAST)
    proc = start_run(sim_bed, "--sta")
    try:
        wait_for(lambda: "supervising" in sup_log(sim_bed) or proc.poll() is not None, 90, "the supervisor")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        for kind in ("dhcpc", "wpa_supplicant"):
            old = sim_bed.pid(kind, "wlan0")
            assert running(old), kind
            before = done_count(sim_bed)
            os.kill(old or 0, signal.SIGKILL)
            wait_for(lambda b=before: done_count(sim_bed) > b, 60, f"the recovery of {kind}")
            assert f"recovery: restart-{kind} (reason: {kind} exited" in sup_log(sim_bed)
            assert running(sim_bed.pid(kind, "wlan0")) and sim_bed.pid(kind, "wlan0") != old
        assert proc.poll() is None
    finally:
        stop_run(proc)


@pytest.mark.root
def test_ten_hostapd_crashes_the_ap_comes_back_each_time_and_run_never_exits(sim_bed: SimBed) -> None:
    """With a budget of 3 recoveries per 600 s, ten hostapd crashes: each one repaired (verified), the
    supervisor says it is degraded (log, status text and JSON) and keeps running."""
    need_binary("hostapd")
    sim_bed.write_config("[supervisor]\nmax_restarts = 3\nrestart_window = 600\nbackoff_initial = 0.2\n"
                         "backoff_max = 0.5\n")
    proc = start_run(sim_bed)
    try:
        wait_for(lambda: "supervising" in sup_log(sim_bed) or proc.poll() is not None, 90, "the supervisor")
        for i in range(10):
            old = sim_bed.pid("hostapd")
            assert running(old), (i, sup_log(sim_bed)[-2000:])
            before = done_count(sim_bed)
            os.kill(old or 0, signal.SIGKILL)
            wait_for(lambda b=before: done_count(sim_bed) > b, 120, f"recovery {i + 1}")
            assert hostapd_enabled(sim_bed) and proc.poll() is None
        log = sup_log(sim_bed)
        assert "degraded: 3 recoveries within 600 s (limit 3); retrying every 0.5 s" in log
        assert "giving up" not in log
        st = status(sim_bed)
        assert st["state"] == "up" and st["supervisor"]["degraded"] is True
        assert st["supervisor"]["retry_every"] == 0.5
        text = sim_bed.cli("status", "--config", str(sim_bed.config)).stdout
        assert "DEGRADED: " in text and "limit 3" in text
        assert proc.poll() is None
    finally:
        assert stop_run(proc) == 0


# -- verified recoveries (issue 10 item 4) ----------------------------------------------------------


@pytest.mark.root
def test_status_is_not_up_while_an_address_is_missing(sim_bed: SimBed) -> None:
    """Without a supervisor: an address removed behind r2wifi's back makes status say degraded, naming it."""
    need_binary("hostapd")
    assert sim_bed.cli("up", "--config", str(sim_bed.config)).returncode == 0
    st = status(sim_bed)
    assert st["state"] == "up" and st["up"] is True and st["problems"] == []
    subprocess.run(["ip", "-n", st["netns"], "addr", "del", "192.168.10.1/24", "dev", "ap0"], check=True)
    st = status(sim_bed)
    assert st["state"] == "degraded" and st["up"] is False
    assert "ap0 lacks 192.168.10.1/24" in st["problems"]
    text = sim_bed.cli("status", "--config", str(sim_bed.config)).stdout
    assert text.splitlines()[0].startswith("state:     degraded (ap): ap0 lacks 192.168.10.1/24")


@pytest.mark.root
def test_a_lost_address_is_noticed_and_restored(running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:
    """An address deleted under a running AP is a fault: rung 0 re-applies it and verifies."""
    bed, _proc = running_sup
    netns = status(bed)["netns"]
    before = done_count(bed)
    subprocess.run(["ip", "-n", netns, "addr", "del", "fd00:b::10/64", "dev", "ap0"], check=True)
    wait_for(lambda: done_count(bed) > before, 60, "the interface recovery")
    assert "ap0 lacks fd00:b::10/64" in sup_log(bed)
    st = status(bed)
    assert st["state"] == "up" and sorted(st["interface_state"]["addresses"]) == ["192.168.10.1/24", "fd00:b::10/64"]


@pytest.mark.root
def test_chip_reset_brings_back_addresses_shaping_and_dhcp(running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:
    """`inject chip-reset` re-creates ap0 bare: the supervisor notices, restores addresses, qdisc, hostapd
    and dnsmasq, and calls it done only once all of it is verified."""
    bed, proc = running_sup
    old_dnsmasq = bed.pid("dnsmasq")
    before = done_count(bed)
    inj = bed.cli("--backend", "sim", "sim", "inject", "chip-reset")
    assert inj.returncode == 0 and "chip reset done" in inj.stdout, inj.stdout + inj.stderr
    wait_for(lambda: done_count(bed) > before, 90, "the recovery after the chip reset")
    log = sup_log(bed)
    assert "recovery: restart-hostapd+dnsmasq (reason: ap0 " in log
    st = status(bed)
    assert st["state"] == "up", st["problems"]
    iface = st["interface_state"]
    assert sorted(iface["addresses"]) == ["192.168.10.1/24", "fd00:b::10/64"]
    assert iface["shaping"]["kind"] == "htb" and st["hostapd"]["state"] == "ENABLED"
    assert running(bed.pid("dnsmasq")) and bed.pid("dnsmasq") != old_dnsmasq
    assert proc.poll() is None


# -- leftovers and signals --------------------------------------------------------------------------


@pytest.mark.root
def test_a_stopped_run_leaves_no_control_client_socket(sim_bed: SimBed) -> None:
    """SIGTERM to `run`: its watcher threads close their control-socket clients (no r2w_* files left)."""
    need_binary("hostapd")
    sim_bed.write_config(FAST)
    proc = start_run(sim_bed)
    try:
        wait_for(lambda: "supervising" in sup_log(sim_bed) or proc.poll() is not None, 90, "the supervisor")
        # r2wifi.hostap.ctrl puts them under the state dir, or in /tmp when that path is too long
        dirs = [sim_bed.state / "ctrl-clients", Path(tempfile.gettempdir()) / f"r2wifi-ctrl-{os.geteuid()}"]

        def ours() -> list[str]:
            return [p.name for d in dirs if d.is_dir() for p in d.iterdir() if p.name.startswith(f"r2w_{proc.pid}-")]

        wait_for(lambda: bool(ours()), 30, "the supervisor's control client")
    finally:
        assert stop_run(proc) == 0
    assert ours() == []


@pytest.mark.root
def test_sighup_rereads_the_config_and_run_keeps_supervising(
        running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:
    """SIGHUP never kills `run`: it re-reads the file, logs what changed, and still repairs faults."""
    bed, proc = running_sup
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SIGHUP: configuration re-read; nothing changed" in sup_log(bed), 30, "the reload")
    bed.write_config(FAST.replace("stall_seconds = 1", "stall_seconds = 3"))
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SIGHUP: configuration changed: supervisor.stall_seconds" in sup_log(bed), 30, "the 2nd reload")
    assert proc.poll() is None
    good = bed.config.read_text()
    bed.config.write_text(good + "[supervisor.bad\n")
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SIGHUP: configuration not reloaded" in sup_log(bed), 30, "the refused reload")
    assert proc.poll() is None
    bed.config.write_text(good.replace("[ap]\n", '[ap]\nssid = "Reloaded"\n'))
    old = bed.pid("hostapd")
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload: ap.ssid -> hostapd reloaded" in sup_log(bed), 60, "hostapd re-reading the new SSID")
    assert "SIGHUP: configuration changed: ap.ssid" in sup_log(bed)
    assert "ssid=Reloaded" in (bed.state / "conf" / "hostapd-ap0.conf").read_text().splitlines()
    assert hostapd_enabled(bed) and bed.pid("hostapd") == old  # the same hostapd, now with the new SSID
    assert status(bed)["hostapd"]["ssid"] == "Reloaded"
    before = done_count(bed)
    os.kill(old or 0, signal.SIGKILL)
    wait_for(lambda: done_count(bed) > before, 60, "a recovery after the reloads")
    assert proc.poll() is None and hostapd_enabled(bed)


@pytest.mark.root
def test_reload_command_signals_the_lock_holder(running_sup: tuple[SimBed, subprocess.Popen[str]]) -> None:
    """`r2wifi reload` sends SIGHUP to the running supervisor; without one it says so and exits 1."""
    bed, proc = running_sup
    out = bed.cli("reload", "--config", str(bed.config))
    assert out.returncode == 0 and f"pid {proc.pid}" in out.stdout, out.stderr
    wait_for(lambda: "SIGHUP: configuration re-read" in sup_log(bed), 30, "the reload")
    assert proc.poll() is None
    assert stop_run(proc) == 0
    again = bed.cli("reload", "--config", str(bed.config))
    assert again.returncode == 1 and "no supervisor" in again.stderr


@pytest.mark.root
def test_addresses_dropped_by_hostapds_start_are_put_back(sim_bed: SimBed) -> None:
    """hostapd with nl80211 may take the link down to switch it to AP mode, which drops IPv6 addresses;
    `up` puts them back once hostapd runs (a wrapper 'hostapd' does that link flap here)."""
    need_binary("hostapd")
    real = subprocess.run(["sh", "-c", "command -v hostapd"], capture_output=True, text=True).stdout.strip()
    bindir = sim_bed.root / "bin"
    bindir.mkdir()
    wrapper = bindir / "hostapd"
    wrapper.write_text("#!/bin/bash\nip link set dev ap0 down\nip link set dev ap0 up\n"
                       f'exec -a hostapd {real} "$@"\n')
    wrapper.chmod(0o755)
    sim_bed.env["PATH"] = f"{bindir}{os.pathsep}{sim_bed.env['PATH']}"
    up = sim_bed.cli("up", "--config", str(sim_bed.config))
    assert up.returncode == 0, up.stderr
    assert "address fd00:b::10/64 again (lost while hostapd started)" in up.stdout
    st = status(sim_bed)
    assert st["state"] == "up", st["problems"]
    assert sorted(st["interface_state"]["addresses"]) == ["192.168.10.1/24", "fd00:b::10/64"]
