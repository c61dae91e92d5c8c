"""The resident launcher against a fake driver: SOC flow, power thread, serving srh_patch, lock, state."""

from __future__ import annotations

import threading

import pytest

from r2wifi.errors import UserError
from r2wifi.wmt import state
from r2wifi.wmt.fwgen import write_firmware_set
from r2wifi.wmt.launcher import Launcher

from .chip_fakes import FakeBackend, FakeClock, FakeDriver


@pytest.fixture
def sdir(tmp_path, monkeypatch):
    d = tmp_path / "state"
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(d))
    return d


def initialised() -> FakeDriver:
    return FakeDriver(nodes={"/dev/wmtdetect": "char", "/dev/stpwmt": "char", "/dev/wmtWifi": "char"}, chip_id=0x7623)


def serve_in_thread(la: Launcher) -> threading.Thread:
    def loop() -> None:
        while not la.stopping.is_set():
            la.handle_once(50)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


def test_soc_flow_ioctls_in_order(sdir, tmp_path):
    """setup(): QUERY_CHIPID, empty 256-byte patch name, STP mode 0x23, coredump 0, launcher kill 0, APO query."""
    be = FakeBackend(initialised())
    la = Launcher(be, str(tmp_path))
    la.setup()
    names = [(n, a if isinstance(a, int) else len(a)) for n, a in be.drv.calls]
    assert names == [("WMT_IOCTL_WMT_QUERY_CHIPID", 0), ("WMT_IOCTL_SET_PATCH_NAME", 256),
                     ("WMT_IOCTL_SET_STP_MODE", 0x23), ("WMT_IOCTL_WMT_COREDUMP_CTRL", 0),
                     ("WMT_IOCTL_SET_LAUNCHER_KILL", 0), ("WMT_IOCTL_GET_APO_FLAG", 0)]
    assert state.read_state()["chip_id"] == "0x7623"


def test_open_retries_every_300ms_until_the_core_is_ready(sdir, tmp_path):
    """EIO from /dev/stpwmt open (core not ready) is retried; QUERY_CHIPID -1 is retried too."""
    drv = initialised()
    drv.open_failures = 3
    drv.chip_id = -1
    clk = FakeClock()
    la = Launcher(FakeBackend(drv), str(tmp_path), clock=clk)
    la.sleep = lambda s: (clk.sleep(s), setattr(drv, "chip_id", 0x7623) if len(clk.sleeps) == 5 else None)  # type: ignore[func-returns-value]
    la.setup()
    assert clk.sleeps == [0.3] * 5


def test_open_timeout_names_chip_init(sdir, tmp_path):
    """With an open timeout and no /dev/stpwmt, the error tells to run `chip init`."""
    clk = FakeClock()
    la = Launcher(FakeBackend(FakeDriver()), str(tmp_path), open_timeout=1.0, clock=clk, sleep=clk.sleep)
    with pytest.raises(UserError, match="run 'r2wifi chip init' first"):
        la.setup()


def test_power_thread_and_main_loop_download_patches(sdir, tmp_path):
    """LPBK_POWER_CTRL(1) blocks in the power thread while the main loop answers srh_patch with the patch list."""
    pdir = write_firmware_set(tmp_path / "root")
    be = FakeBackend(initialised())
    logs: list[str] = []
    la = Launcher(be, str(pdir), log=logs.append)
    la.setup()
    srv = serve_in_thread(la)
    assert la.power_on() is True
    la.stop()
    srv.join(2)
    assert be.drv.powered and be.drv.patch_num == 2
    assert [(s, n.rsplit("/", 1)[1]) for s, _a, n in be.drv.patch_infos] == [
        (2, "ROMv2_lm_patch_1_0_hdr.bin"), (1, "ROMv2_lm_patch_1_1_hdr.bin")]
    assert be.drv.replies == [b"ok"]
    assert "cmd(srh_patch) resp(ok)" in logs
    st = state.read_state()
    assert st["powered"] is True and st["srh_patch_count"] == 1
    assert st["last_exchange"]["resp"] == "ok"


def test_power_failure_retries_with_lpbk_off_between(sdir, tmp_path):
    """A failed power-on is followed by LPBK_POWER_CTRL(0) and another try; success on the second attempt."""
    pdir = write_firmware_set(tmp_path / "root")
    drv = initialised()
    drv.power_fail = 1
    be = FakeBackend(drv)
    la = Launcher(be, str(pdir), power_retry_s=0.01)
    la.setup()
    srv = serve_in_thread(la)
    assert la.power_on() is True
    la.stop()
    srv.join(2)
    lpbk = [a for n, a in drv.calls if n == "WMT_IOCTL_LPBK_POWER_CTRL"]
    assert lpbk == [1, 0, 1]
    assert state.read_state()["power_attempts"] == 2


def test_power_gives_up_after_the_limit_and_names_the_cause(sdir, tmp_path):
    """Patch dir without patches: every attempt fails; after N tries the state says gave up, with the cause."""
    (tmp_path / "empty").mkdir()
    drv = initialised()
    la = Launcher(FakeBackend(drv), str(tmp_path / "empty"), power_tries=3, power_retry_s=0.0)
    la.setup()
    srv = serve_in_thread(la)
    assert la.power_on() is False
    la.stop()
    srv.join(2)
    st = state.read_state()
    assert st["power_gave_up"] is True and st["power_attempts"] == 3
    assert "srh_patch answered 'resp_-1' (no usable ROMv2_lm_patch* patch in" in st["last_error"]
    assert [a for n, a in drv.calls if n == "WMT_IOCTL_LPBK_POWER_CTRL"] == [1, 0] * 3


def test_missing_patch_dir_is_answered_resp_minus_one(sdir, tmp_path):
    """A patch dir that does not exist: srh_patch answered resp_-1, and the power failure cause says so."""
    drv = initialised()
    la = Launcher(FakeBackend(drv), str(tmp_path / "nope"), power_tries=1)
    la.setup()
    srv = serve_in_thread(la)
    la.power_on()
    la.stop()
    srv.join(2)
    assert drv.replies == [b"resp_-1"]
    assert "resp_-1" in state.read_state()["last_error"]


def test_empty_read_is_not_answered(sdir, tmp_path):
    """A wake-up with nothing to read writes nothing back to the kernel."""
    drv = initialised()
    la = Launcher(FakeBackend(drv), str(tmp_path))
    la.setup()
    assert la.feed(b"") is False
    assert drv.replies == []


def test_shutdown_sends_launcher_kill_1(sdir, tmp_path):
    """Stopping issues SET_LAUNCHER_KILL(1) and records the launcher as stopped and unpowered."""
    drv = initialised()
    la = Launcher(FakeBackend(drv), str(tmp_path))
    la.setup()
    la.shutdown()
    assert ("WMT_IOCTL_SET_LAUNCHER_KILL", 1) in drv.calls
    st = state.read_state()
    assert st["phase"] == "stopped" and st["powered"] is False


def test_second_launcher_is_refused_by_the_lock(sdir):
    """While one launcher holds the lock, another acquire names the holder's pid; released -> free again."""
    a = state.LauncherLock()
    assert a.acquire() is None
    assert state.launcher_pid() is not None
    b = state.LauncherLock()
    import os

    assert b.acquire(patience=0.05) == os.getpid()
    a.release()
    assert state.launcher_pid() is None
    assert b.acquire() is None
    b.release()


def test_status_probes_never_make_a_starting_launcher_fail(sdir):
    """A probe holding the lock file's shared lock (a `status` at that instant) delays a launcher, never refuses it."""
    import fcntl
    import os

    lock_path = state.files().lock
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    probe = os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
        assert state.launcher_pid() is None  # a second probe at the same time: still "no launcher"
        threading.Timer(0.1, fcntl.flock, (probe, fcntl.LOCK_UN)).start()
        a = state.LauncherLock()
        assert a.acquire() is None
        assert state.launcher_pid() == os.getpid()
        a.release()
    finally:
        os.close(probe)


def test_vendor_launcher_process_is_detected(tmp_path):
    """A process named stp_uart_launcher (comm truncated to 15 chars) is found by vendor_launchers()."""
    import shutil
    import subprocess

    exe = tmp_path / "stp_uart_launcher"
    shutil.copy("/bin/sleep", exe)
    proc = subprocess.Popen([str(exe), "30"])
    try:
        import time

        for _ in range(200):  # the new process may not have exec'd its name yet
            if proc.pid in state.vendor_launchers():
                break
            time.sleep(0.01)
        assert proc.pid in state.vendor_launchers()
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in state.vendor_launchers()


def test_stale_record_of_a_killed_launcher_is_not_trusted(sdir):
    """A powered record left by a SIGKILLed launcher does not make a new, still-starting launcher look ready."""
    state.write_state({"pid": 999999, "powered": True, "phase": "serving"})
    assert state.read_state()["alive"] is False
    lock = state.LauncherLock()
    assert lock.acquire() is None  # a new launcher (this process) holds the lock, no record of its own yet
    try:
        st = state.read_state()
        assert st["alive"] is True and st["powered"] is False and st["stale_record"] is True
        assert state.chip_ready() is False
    finally:
        lock.release()
