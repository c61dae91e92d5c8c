"""End to end: real `r2wifi` processes (chip init, chip launch --daemon, wifi, bt) against the simulator."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from r2wifi.wmt.fwgen import write_firmware_set
from r2wifi.wmt.state import lock_is_held


@dataclass
class Sim:
    run: Callable[..., object]
    tmp: Path
    env: dict[str, str]
    fw: Path

    def cli(self, *args: str, timeout: float = 60):  # -> CompletedProcess
        return self.run("--backend", "sim", *args, env=self.env, timeout=timeout)

    def status(self) -> dict:
        r = self.cli("sim", "status", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def launcher_state(self) -> dict:
        return json.loads((self.tmp / "state" / "launcher.json").read_text())

    def bring_up(self, mode: str = "ap") -> None:
        for args in (("chip", "init"), ("chip", "launch", "--daemon", "-p", str(self.fw)), ("wifi", mode)):
            r = self.cli(*args)
            assert r.returncode == 0, f"{args}: {r.stderr}"


@pytest.fixture
def start_sim(tmp_path, run_cli) -> Iterator[Callable[..., Sim]]:
    started: list[Sim] = []

    def _start(*faults: str, netns: bool = False, names: str = "default") -> Sim:
        env = {"R2WIFI_STATE_DIR": str(tmp_path / "state"), "R2WIFI_SIM_DIR": str(tmp_path / "sim")}
        fw = write_firmware_set(tmp_path / "root")
        sim = Sim(run_cli, tmp_path, env, fw)
        args = ["sim", "start", "--timing", "fast", "--firmware-dir", str(fw),
                "--netns" if netns else "--no-netns", "--names", names]
        for f in faults:
            args += ["--fault", f]
        r = sim.cli(*args)
        assert r.returncode == 0, r.stderr
        started.append(sim)
        return sim

    yield _start
    for sim in started:
        stop_launcher(sim.tmp / "state")
        sim.cli("sim", "stop")


def stop_launcher(sdir: Path) -> bool:
    """SIGTERM the launcher of ``sdir`` and wait until it released its lock (it may linger as a zombie)."""
    lock = sdir / "launcher.lock"
    try:
        pid = int((sdir / "launcher.pid").read_text())
    except (OSError, ValueError):
        return not lock_is_held(lock)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    for _ in range(500):
        if not lock_is_held(lock):
            return True
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    return False


def one_line_error(r, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("r2wifi: error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_full_bring_up_to_ap(start_sim):
    """chip init -> chip launch --daemon -> wifi ap: nodes, one DO_MODULE_INIT, chip powered, ap0 up."""
    sim = start_sim()
    r = sim.cli("chip", "init")
    assert r.returncode == 0 and "EPERM" in r.stdout
    r = sim.cli("chip", "launch", "--daemon", "-p", str(sim.fw))
    assert r.returncode == 0, r.stderr
    assert "chip powered" in r.stdout
    r = sim.cli("wifi", "ap")
    assert r.returncode == 0, r.stderr
    st = sim.status()
    assert st["do_module_init_count"] == 1 and st["chip_powered"] and st["launcher_connected"]
    assert st["wifi_mode"] == "ap" and {"ap0", "wlan0"} <= set(st["interfaces"])
    cs = json.loads(sim.cli("chip", "status", "--json").stdout)
    assert cs["powered"] and cs["wifi_mode"] == "ap" and cs["launcher"]["alive"]
    assert cs["nodes"]["/dev/stpwmt"] == {"kind": "char", "major": 190}
    log = (sim.tmp / "state" / "launcher.log").read_text()
    assert "cmd(srh_patch) resp(ok)" in log
    text = sim.cli("chip", "status").stdout
    assert "chip powered: yes" in text and "wifi mode: ap (ap0, wlan0)" in text
    assert sim.cli("wifi", "status").stdout.strip() == "wifi mode: ap (ap0, wlan0)"
    r = sim.cli("wifi", "ap")
    assert r.returncode == 0 and "already ap" in r.stdout


def test_rerunning_never_duplicates_init_or_launcher(start_sim):
    """Running chip init and chip launch again: one DO_MODULE_INIT, one launcher, a foreground second launcher refused."""
    sim = start_sim()
    sim.bring_up("sta")
    pid = sim.launcher_state()["pid"]
    r = sim.cli("chip", "init", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["skipped"] is True
    assert json.loads(r.stdout)["nodes"]["/dev/wmtWifi"] == {"kind": "char", "major": 155}
    r = sim.cli("chip", "launch", "--daemon", "-p", str(sim.fw))
    assert r.returncode == 0 and f"already running (pid {pid})" in r.stdout
    one_line_error(sim.cli("chip", "launch", "-p", str(sim.fw)), f"another launcher is running (pid {pid})")
    st = sim.status()
    assert st["do_module_init_count"] == 1 and st["srh_patch_count"] == 1 and st["lpbk_power_on_count"] == 1


def test_chip_reset_is_served_by_the_resident_launcher(start_sim):
    """`sim inject chip-reset`: the kernel asks srh_patch again and the resident launcher answers ok."""
    sim = start_sim()
    sim.bring_up("ap")
    r = sim.cli("sim", "inject", "chip-reset")
    assert r.returncode == 0, r.stderr
    assert sim.status()["srh_patch_count"] == 2
    for _ in range(100):
        if sim.launcher_state()["srh_patch_count"] == 2:
            break
        time.sleep(0.02)
    assert sim.launcher_state()["srh_patch_count"] == 2
    assert sim.launcher_state()["last_exchange"]["resp"] == "ok"
    assert sim.status()["chip_powered"]


def test_sigterm_stops_the_launcher_cleanly(start_sim):
    """SIGTERM: the launcher sends LAUNCHER_KILL(1), exits, releases the lock; chip status shows it gone."""
    sim = start_sim()
    sim.bring_up("sta")
    assert stop_launcher(sim.tmp / "state"), "launcher did not exit on SIGTERM"
    assert "SET_LAUNCHER_KILL(1)" in (sim.tmp / "state" / "launcher.log").read_text()
    cs = json.loads(sim.cli("chip", "status", "--json").stdout)
    assert cs["launcher"]["alive"] is False and cs["powered"] is False


def test_openwrt_interface_names(start_sim):
    """With OpenWrt's mtk* names, `wifi ap --names mtk` waits for mtkap0; default names would time out."""
    sim = start_sim(names="mtk")
    assert sim.cli("chip", "init").returncode == 0
    assert sim.cli("chip", "launch", "--daemon", "-p", str(sim.fw)).returncode == 0
    r = sim.cli("wifi", "ap", "--names", "mtk")
    assert r.returncode == 0, r.stderr
    assert "mtkap0, mtkwlan0" in r.stdout
    assert sim.cli("wifi", "status", "--names", "mtk").stdout.strip() == "wifi mode: ap (mtkap0, mtkwlan0)"
    assert "wifi mode: ap" in sim.cli("chip", "status").stdout


def test_wifi_without_launcher_explains(start_sim):
    """wifi ap after init but with no launcher: EIO explained as the missing STP mode / launcher."""
    sim = start_sim()
    assert sim.cli("chip", "init").returncode == 0
    one_line_error(sim.cli("wifi", "ap"), "EIO", "launcher")


def test_launch_daemon_with_missing_patches_exits_2(start_sim, tmp_path):
    """--daemon with a patch dir lacking ROMv2_lm_patch files exits 2 naming the directory; no launcher stays."""
    sim = start_sim()
    assert sim.cli("chip", "init").returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(sim.cli("chip", "launch", "--daemon", "-p", str(empty)), str(empty), "ROMv2_lm_patch")
    assert not sim.status()["launcher_connected"]


def test_launch_daemon_before_init(start_sim):
    """--daemon before chip init: exit 2 telling to run chip init."""
    sim = start_sim()
    one_line_error(sim.cli("chip", "launch", "--daemon", "-p", str(sim.fw)), "chip init")


@pytest.mark.parametrize(
    ("fault", "step", "needles"),
    [
        ("no-detect", "init", ["/dev/wmtdetect is missing", "device tree"]),
        ("detect-regular-file", "init", ["regular file", "reboot"]),
        ("combo-wifi-not-built", "init", ["CONFIG_MTK_COMBO_WIFI"]),
        ("wlan-gen2-module", "wifi", ["wlan_gen2"]),
        ("btif-dead", "wifi", ["BTIF"]),
        ("wlan0-renamed", "wifi", ["wlan0", "renamed"]),
        ("wifi-ram-code-missing", "wifi", ["WIFI_RAM_CODE_7623"]),
    ],
)
def test_each_fault_ends_in_one_line_naming_the_cause(start_sim, fault, step, needles):
    """Every simulated fault stops the bring-up with one line naming the cause and exit code 2."""
    sim = start_sim(fault)
    if step == "init":
        r = sim.cli("chip", "init", "--timeout", "1")
        one_line_error(r, *needles)
        return
    assert sim.cli("chip", "init").returncode == 0
    assert sim.cli("chip", "launch", "--daemon", "-p", str(sim.fw)).returncode == 0
    r = sim.cli("wifi", "ap", "--timeout", "5", "--no-modprobe")
    one_line_error(r, *needles)


def test_wlan_gen2_module_is_loaded_when_needed(start_sim):
    """With wlan_gen2 built as a module, `wifi ap` loads it first and succeeds."""
    sim = start_sim("wlan-gen2-module")
    sim.bring_up("ap")
    st = sim.status()
    assert "wlan_gen2" in st["modules"] and st["wifi_mode"] == "ap"


def test_bluetooth_after_the_launcher(start_sim):
    """bt up before the launcher is refused; after the bring-up it reports hci0 with an address."""
    sim = start_sim()
    assert sim.cli("chip", "init").returncode == 0
    one_line_error(sim.cli("bt", "up"), "launcher is not running")
    assert sim.cli("chip", "launch", "--daemon", "-p", str(sim.fw)).returncode == 0
    r = sim.cli("bt", "up", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["hci"] == ["hci0"] and data["address"]
    assert sim.status()["hci"] == ["hci0"]


@pytest.mark.root
def test_bring_up_in_network_namespace(start_sim):
    """As root the simulator creates real interfaces in its namespace; `wifi ap` waits for them over netlink."""
    import subprocess

    sim = start_sim(netns=True)
    sim.bring_up("ap")
    ns = sim.status()["netns"]
    assert ns
    links = subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert " ap0" in links.replace(":", " ") and " wlan0" in links.replace(":", " ")
    r = sim.cli("wifi", "off")
    assert r.returncode == 0, r.stderr
    links = subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert "ap0" not in links


def test_foreground_launcher_logs_to_stderr_and_exits_0_on_sigint(start_sim):
    """`chip launch` in the foreground (as a service runs it): exchanges on stderr with timestamps, SIGINT -> exit 0."""
    import subprocess
    import sys

    sim = start_sim()
    assert sim.cli("chip", "init").returncode == 0
    env = dict(os.environ, **sim.env)
    proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "--backend", "sim", "chip", "launch", "-p", str(sim.fw)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        for _ in range(1000):
            st = sim.tmp / "state" / "launcher.json"
            if st.exists() and json.loads(st.read_text()).get("powered"):
                break
            time.sleep(0.01)
        assert sim.status()["chip_powered"]
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    import re

    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z launcher\[\d+\]: cmd\(srh_patch\) resp\(ok\)$", err, re.M)
    assert "SET_LAUNCHER_KILL(1)" in err
    assert not sim.status()["launcher_connected"]
