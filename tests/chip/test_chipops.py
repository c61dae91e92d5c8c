"""The chip steps of `up` run in-process (InProcessChipOps); reset is a real power cycle; WiFi on EIO
during a power-on is retried with a bounded backoff; the launcher ignores SIGHUP."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from r2wifi.errors import UserError
from r2wifi.wmt import wifi
from r2wifi.wmt.fwgen import write_firmware_set

from .chip_fakes import FakeBackend, FakeClock, FakeDriver, FakeHandle
from .test_e2e_sim import stop_launcher

TIMEOUT_LINE = "[WMT-LIB][E]wmt_lib_put_act_op(1368):wait completion timeout, opId(3), show wmtd_thread stack!"


# ---------------------------------------------------------------- EIO retry (fake driver)


class _EioFor:
    """A /dev/wmtWifi handle that answers EIO (with kernel lines) for the first ``n`` writes."""

    def __init__(self, inner: FakeHandle, drv: FakeDriver, state: dict[str, Any]) -> None:
        self.inner, self.drv, self.state = inner, drv, state

    def write(self, data: bytes) -> int:
        if self.state["eio"] > 0:
            self.state["eio"] -= 1
            self.drv.wifi_writes.append(data)
            for line in self.state["lines"]:
                self.drv.log(line)
            raise OSError(errno.EIO, "Input/output error")
        return self.inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _Backend(FakeBackend):
    def __init__(self, drv: FakeDriver, eio: int, lines: list[str]) -> None:
        super().__init__(drv)
        self.state = {"eio": eio, "lines": lines}

    def open(self, path: str) -> Any:
        h = super().open(path)
        return _EioFor(h, self.drv, self.state) if path == "/dev/wmtWifi" else h


@pytest.fixture
def sdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "state"
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(d))
    return d


def _ctl(be: FakeBackend, clock: FakeClock) -> wifi.WifiControl:
    return wifi.WifiControl(be, timeout=1.0, watcher=wifi.InterfaceWatcher(be, use_netlink=False), sleep=clock.sleep)


def _drv(tmp_path: Path) -> FakeDriver:
    return FakeDriver(nodes={"/dev/wmtdetect": "char", "/dev/stpwmt": "char", "/dev/wmtWifi": "char"},
                      chip_id=0x7623, stp_mode=0x23, powered=True, kmsg_file=str(tmp_path / "kmsg"))


def test_wifi_on_eio_while_power_on_runs_is_written_again(sdir: Path, tmp_path: Path) -> None:
    """EIO with "wait completion timeout" and no failure after it: backoff, write again, success."""
    drv, clock = _drv(tmp_path), FakeClock()
    be = _Backend(drv, 2, [TIMEOUT_LINE, "[MTK-WIFI] WIFI_write: WMT turn on WIFI fail!"])
    ctl = _ctl(be, clock)
    res = ctl.set_mode("ap")
    assert res.mode == "ap" and sorted(res.interfaces) == ["ap0", "wlan0"]
    assert drv.wifi_writes == [b"A", b"A", b"A"]
    assert clock.sleeps[:2] == list(wifi.EIO_RETRY_DELAYS[:2]) and ctl.eio_retries == 2


def test_wifi_on_eio_with_a_failure_after_the_timeout_is_not_retried(sdir: Path, tmp_path: Path) -> None:
    """The op timed out and then failed (BTIF dead): one write, the EIO is reported."""
    drv, clock = _drv(tmp_path), FakeClock()
    be = _Backend(drv, 1, [TIMEOUT_LINE, "WMT-CORE:type(0x3) function on failed, ret(-1)"])
    with pytest.raises(UserError, match="answered EIO"):
        _ctl(be, clock).set_mode("sta")
    assert drv.wifi_writes == [b"1"] and wifi.EIO_RETRY_DELAYS[0] not in clock.sleeps


def test_wifi_eio_retries_are_bounded(sdir: Path, tmp_path: Path) -> None:
    """A power-on that never ends: 1 + len(EIO_RETRY_DELAYS) writes, then the EIO is reported."""
    drv, clock = _drv(tmp_path), FakeClock()
    be = _Backend(drv, 100, [TIMEOUT_LINE])
    with pytest.raises(UserError, match="answered EIO"):
        _ctl(be, clock).set_mode("sta")
    assert len(drv.wifi_writes) == 1 + len(wifi.EIO_RETRY_DELAYS)


def test_wifi_eio_without_op_timeout_is_not_retried(sdir: Path, tmp_path: Path) -> None:
    """A plain EIO (e.g. "Set p2p mode handler is NULL") is reported at once."""
    drv, clock = _drv(tmp_path), FakeClock()
    be = _Backend(drv, 1, ["[MTK-WIFI] WIFI_write: Set p2p mode handler is NULL"])
    with pytest.raises(UserError, match="wlan_gen2"):
        _ctl(be, clock).set_mode("ap")
    assert drv.wifi_writes == [b"A"]


# ---------------------------------------------------------------- in-process chip steps on the simulator


class SimRig:
    def __init__(self, tmp: Path, run_cli: Any) -> None:
        self.tmp, self.run = tmp, run_cli
        self.env = {"R2WIFI_STATE_DIR": str(tmp / "state"), "R2WIFI_SIM_DIR": str(tmp / "sim")}
        self.fw = write_firmware_set(tmp / "root")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        r: subprocess.CompletedProcess[str] = self.run("--backend", "sim", *args, env=self.env, timeout=120)
        return r

    def status(self) -> dict[str, Any]:
        r = self.cli("sim", "status", "--json")
        assert r.returncode == 0, r.stderr
        data: dict[str, Any] = json.loads(r.stdout)
        return data

    def launcher_pid(self) -> int:
        return int((self.tmp / "state" / "launcher.pid").read_text())


@pytest.fixture
def simrig(tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimRig]:
    rig = SimRig(tmp_path, run_cli)
    for k, v in rig.env.items():
        monkeypatch.setenv(k, v)
    r = rig.cli("sim", "start", "--timing", "fast", "--firmware-dir", str(rig.fw), "--no-netns")
    assert r.returncode == 0, r.stderr
    yield rig
    stop_launcher(tmp_path / "state")
    rig.cli("sim", "stop")


def _no_interpreters(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object, **kw: object) -> None:
        raise AssertionError(f"a chip step started a process: {a!r}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


def test_chip_steps_run_in_process(simrig: SimRig, monkeypatch: pytest.MonkeyPatch) -> None:
    """init, launch (forked from this process) and wifi ap without a new interpreter; idempotent."""
    from r2wifi.service.chipops import InProcessChipOps
    from r2wifi.sim.client import SimBackend

    ops = InProcessChipOps("sim", firmware_dir=str(simrig.fw))
    _no_interpreters(monkeypatch)
    ops.init()
    assert ops.launch() is True
    assert ops.launcher_pid() == simrig.launcher_pid()
    ops.wifi("ap")
    assert sorted(SimBackend().interfaces()) == ["ap0", "wlan0"]
    ops.init()  # /dev/stpwmt exists: skipped, no second DO_MODULE_INIT
    assert ops.launch() is False
    monkeypatch.undo()
    st = simrig.status()
    assert st["do_module_init_count"] == 1 and st["chip_powered"] is True and st["patched"] is True


def test_chip_reset_is_a_power_cycle_served_by_the_running_launcher(simrig: SimRig) -> None:
    """reset(): WiFi off, LPBK(0) powers down, LPBK(1) posts srh_patch to the same launcher, AP back."""
    from r2wifi.service.chipops import InProcessChipOps
    from r2wifi.sim.client import SimBackend

    ops = InProcessChipOps("sim", firmware_dir=str(simrig.fw))
    ops.init()
    ops.launch()
    ops.wifi("ap")
    pid = ops.launcher_pid()
    before = simrig.status()
    ops.reset()
    after = simrig.status()
    assert ops.launcher_pid() == pid  # not a launcher restart
    assert after["srh_patch_count"] == before["srh_patch_count"] + 1
    assert after["power_on_count"] == before["power_on_count"] + 1
    assert after["patched"] is True and after["wifi_mode"] == "ap"
    assert sorted(SimBackend().interfaces()) == ["ap0", "wlan0"]
    assert after["functions"]["lpbk"] is True  # on again, set by our LPBK(1)


def test_chip_reset_without_a_launcher_starts_one(simrig: SimRig) -> None:
    """No launcher running: the power-on after the power-down is a launcher start."""
    from r2wifi.service.chipops import InProcessChipOps

    ops = InProcessChipOps("sim", firmware_dir=str(simrig.fw))
    ops.init()
    ops.launch()
    ops.wifi("sta")
    assert stop_launcher(simrig.tmp / "state")
    ops.reset()
    assert ops.launcher_pid() is not None
    st = simrig.status()
    assert st["chip_powered"] is True and st["wifi_mode"] == "sta"


def test_launcher_ignores_sighup(simrig: SimRig) -> None:
    """SIGHUP is logged and ignored like the vendor launcher's; SIGTERM still stops it."""
    for args in (("chip", "init"), ("chip", "launch", "--daemon", "-p", str(simrig.fw))):
        r = simrig.cli(*args)
        assert r.returncode == 0, r.stderr
    pid = simrig.launcher_pid()
    os.kill(pid, signal.SIGHUP)
    log = simrig.tmp / "state" / "launcher.log"
    deadline = time.monotonic() + 30
    while "SIGHUP: ignored" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "the launcher did not log the SIGHUP"
        time.sleep(0.05)
    os.kill(pid, 0)  # still alive
    st = json.loads((simrig.tmp / "state" / "launcher.json").read_text())
    assert st["powered"] is True and st["phase"] == "serving"
    assert stop_launcher(simrig.tmp / "state")


def test_start_resident_spawned_once_when_threads_run(simrig: SimRig) -> None:
    """With threads running (the supervisor) the launcher is spawned as one process, not forked."""
    import threading

    from r2wifi.backends import backend_factory
    from r2wifi.wmt.loader import Loader
    from r2wifi.wmt.resident import start_resident

    make = backend_factory("sim")
    Loader(make()).run()
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        res = start_resident(make(), str(simrig.fw), backend_name="sim", make_backend=make, timeout=60)
    finally:
        stop.set()
        t.join()
    assert res.already is False and res.pid == simrig.launcher_pid()
    cmdline = Path(f"/proc/{res.pid}/cmdline").read_bytes().split(b"\0")
    assert b"r2wifi" in cmdline and b"launch" in cmdline  # a spawned `python -m r2wifi chip launch`
    assert simrig.status()["chip_powered"] is True


def test_forked_launcher_lets_go_of_its_error_pipe_once_powered(simrig: SimRig) -> None:
    """A forked launcher points stderr at /dev/null once powered: the waiting caller wakes on the pipe's end."""
    from r2wifi.backends import backend_factory
    from r2wifi.wmt.loader import Loader
    from r2wifi.wmt.resident import start_resident

    make = backend_factory("sim")
    Loader(make()).run()
    res = start_resident(make(), str(simrig.fw), backend_name="sim", make_backend=make, timeout=60)
    assert res.already is False and res.pid == simrig.launcher_pid()
    # the caller may read "powered" in the record a moment before the launcher lets go of the pipe
    deadline = time.monotonic() + 30
    while os.readlink(f"/proc/{res.pid}/fd/2") != "/dev/null":
        assert time.monotonic() < deadline, "the powered launcher still holds its start-up error pipe"
        time.sleep(0.02)
    os.kill(res.pid, 0)  # released, not gone
    assert simrig.status()["chip_powered"] is True
    assert stop_launcher(simrig.tmp / "state")
