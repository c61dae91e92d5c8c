"""End-to-end scenarios: the simulator daemon as real `r2wifi sim ...` processes and SimBackend."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from r2wifi.errors import UserError
from r2wifi.sim.client import SimBackend
from r2wifi.sim.timing import REALISTIC as R
from r2wifi.wmt import ioctls

from .helpers import CliRunner, good_firmware, loader, mini_launcher


@pytest.fixture
def sim(run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimBackend]:
    """A fast, model-only simulator started with `r2wifi sim start`; stopped afterwards."""
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(tmp_path / "state"))
    p = run_cli("sim", "start", "--timing", "fast", "--no-netns")
    assert p.returncode == 0, p.stderr
    be = SimBackend()
    yield be
    run_cli("sim", "stop")


def status(run_cli: CliRunner) -> dict[str, object]:
    p = run_cli("sim", "status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)  # type: ignore[no-any-return]


def test_start_status_stop(run_cli: CliRunner, tmp_path: Path) -> None:
    """sim start answers at once, status shows the boot state, stop removes the socket."""
    p = run_cli("sim", "start", "--timing", "fast", "--no-netns")
    assert p.returncode == 0, p.stderr
    assert "simulator started" in p.stdout
    st = status(run_cli)
    assert [nd["path"] for nd in st["nodes"]] == ["/dev/wmtdetect"]  # type: ignore[index, union-attr]
    assert st["chip_powered"] is False and st["wifi_mode"] == "off" and st["netns"] is None
    assert st["inherent_delay_s"] == 0.0 and st["do_module_init_count"] == 0
    text = run_cli("sim", "status")
    assert "chip powered   no" in text.stdout
    env = dict(os.environ, R2WIFI_STATE_DIR=str(tmp_path / "state"))
    follow = subprocess.Popen([sys.executable, "-m", "r2wifi", "sim", "dmesg", "--follow"], env=env,
                              stdout=subprocess.PIPE, text=True)
    assert follow.stdout is not None
    assert "driver(major 154) installed success" in follow.stdout.readline()
    assert run_cli("sim", "stop").returncode == 0
    assert follow.wait(timeout=30) == 0  # --follow ends when the simulator stops
    assert not (tmp_path / "state" / "sim" / "sim.sock").exists()
    p = run_cli("sim", "status")
    assert p.returncode == 2
    assert "simulator not running (start it with 'r2wifi sim start')" in p.stderr


def test_double_start_refused(sim: SimBackend, run_cli: CliRunner) -> None:
    """Starting a second simulator on the same directory is a clear error, exit 2."""
    p = run_cli("sim", "start", "--timing", "fast", "--no-netns")
    assert p.returncode == 2
    assert "simulator already running" in p.stderr
    assert "Traceback" not in p.stderr


def test_bad_fault_and_runtime_fault_at_start(run_cli: CliRunner) -> None:
    """Unknown faults and run-time-only faults at start are refused with exit 2."""
    p = run_cli("sim", "start", "--no-netns", "--fault", "bogus")
    assert p.returncode == 2 and "unknown fault 'bogus'" in p.stderr
    p = run_cli("sim", "start", "--no-netns", "--fault", "chip-reset")
    assert p.returncode == 2 and "only at run time" in p.stderr
    p = run_cli("sim", "start", "--no-netns", "--firmware-dir", "/nonexistent/fw")
    assert p.returncode == 2 and "is not a directory" in p.stderr


def test_start_faults_visible(run_cli: CliRunner, tmp_path: Path) -> None:
    """--fault no-detect starts a simulator without /dev/wmtdetect and reports the fault."""
    p = run_cli("sim", "start", "--timing", "fast", "--no-netns", "--fault", "no-detect")
    assert p.returncode == 0, p.stderr
    try:
        st = status(run_cli)
        assert st["nodes"] == [] and st["faults"] == ["no-detect"]
    finally:
        run_cli("sim", "stop")


def test_launcher_exchange_over_socket(sim: SimBackend, run_cli: CliRunner, tmp_path: Path) -> None:
    """Two threads on one handle: power ioctl blocks while the other polls, reads, answers ok."""
    fw = good_firmware(tmp_path / "fw")
    loader(sim)
    w, _t, result = mini_launcher(sim, fw)
    assert result == [0]
    st = status(run_cli)
    assert st["chip_powered"] is True and st["launcher_connected"] is True
    assert st["srh_patch_count"] == 1 and st["lpbk_power_on_count"] == 1
    # fast timing: the table's power-on delays / 20 (plus at most the core-init wait of the open)
    power = (3 * R["chipid_read"] + R["consys_pwr_on"] + R["stp_init"] + 165 * R["patch_frag"]
             + R["module_init"]) / 20
    assert power - 1e-5 <= float(st["inherent_delay_s"]) <= power + R["core_init"] / 20 + 1e-5  # type: ignore[arg-type]
    wifi = sim.open("/dev/wmtWifi")
    assert wifi.write(b"A\n") == 2
    assert sorted(sim.interfaces()) == ["ap0", "wlan0"]
    with pytest.raises(OSError) as e:
        wifi.write(b"D1")
    assert e.value.errno == errno.EIO
    dmesg = run_cli("sim", "dmesg").stdout
    assert "] [MTK-WIFI] WIFI_write: WMT turn on WIFI success!" in dmesg
    assert dmesg.startswith("[    7.")


def test_s11_empty_patch_dir_powers_unpatched_over_socket(sim: SimBackend, tmp_path: Path) -> None:
    """§11.2: srh_patch answered ok without SET_PATCH_NUM: the first power-on continues unpatched."""
    empty = tmp_path / "nothing"
    empty.mkdir()
    loader(sim)
    _w, _t, result = mini_launcher(sim, empty)
    assert result == [0]
    st = sim.status()
    assert st["chip_powered"] is True and st["patched"] is False


def test_inject_and_kmsg(sim: SimBackend, run_cli: CliRunner, tmp_path: Path) -> None:
    """sim inject txq-stall needs an AP; with one it logs stop lines that follow_kmsg can read."""
    p = run_cli("sim", "inject", "txq-stall")
    assert p.returncode == 2 and "needs an AP" in p.stderr
    loader(sim)
    mini_launcher(sim, good_firmware(tmp_path / "fw"))
    sim.open("/dev/wmtWifi").write(b"A")
    p = run_cli("sim", "inject", "txq-stall")
    assert p.returncode == 0, p.stderr
    assert status(run_cli)["tx_stalled"] is True
    recs = []
    for rec in sim.follow_kmsg(from_start=True):
        recs.append(rec)
        if "netif_stop_subqueue" in rec:
            break
    assert recs[-1].split(";", 1)[1] == "p2pHardStartXmit:(TX INFO)netif_stop_subqueue for p2p0, Queue len: 256"
    prio, seq, usec, flags = recs[-1].split(";", 1)[0].split(",")
    assert int(seq) == len(recs) - 1 and int(usec) > 7_000_000 and flags == "-"
    assert run_cli("sim", "inject", "nonsense").returncode == 2


def test_client_death_releases_handles(sim: SimBackend, run_cli: CliRunner, tmp_path: Path) -> None:
    """A launcher process that dies without closing: the simulator sees it gone; reset then fails."""
    fw = good_firmware(tmp_path / "fw")
    loader(sim)
    code = (
        "import os, sys\n"
        "from r2wifi.sim.client import SimBackend\n"
        "from r2wifi.wmt import ioctls\n"
        "be = SimBackend()\n"
        "h = be.open('/dev/stpwmt')\n"
        "h.ioctl(ioctls.number('WMT_IOCTL_SET_STP_MODE'), 0x23)\n"
        "print('open', flush=True)\n"
        "sys.stdin.read()\n"
        "os._exit(0)\n"
    )
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env=env, text=True, cwd=str(Path(__file__).resolve().parents[2]))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    assert sim.status()["launcher_connected"] is True
    proc.kill()
    proc.wait()
    # the daemon notices the closed connection; a status round trip later it is gone
    for _ in range(200):
        if sim.status()["launcher_connected"] is False:
            break
        threading.Event().wait(0.01)
    assert sim.status()["launcher_connected"] is False
    w, _t, result = mini_launcher(sim, fw)
    assert result == [0]
    w.close()
    p = run_cli("sim", "inject", "chip-reset")
    assert p.returncode == 0
    assert "chip reset failed" in p.stdout
    assert "wait signal timeout" in run_cli("sim", "dmesg").stdout


def test_not_running_is_user_error(tmp_path: Path) -> None:
    """SimBackend against an empty directory raises the one-line 'not running' UserError."""
    be = SimBackend(tmp_path / "nosim")
    with pytest.raises(UserError, match="simulator not running"):
        be.stat_node("/dev/wmtdetect")
    with pytest.raises(UserError, match="simulator not running"):
        be.open("/dev/stpwmt")


def test_bluetooth_via_backend(sim: SimBackend, tmp_path: Path) -> None:
    """load_module(stp_chrdev_bt) fails before power-on (ENODEV), then gives hci0 with an address."""
    loader(sim)
    with pytest.raises(OSError) as e:
        sim.load_module("stp_chrdev_bt")
    assert e.value.errno == errno.ENODEV
    mini_launcher(sim, good_firmware(tmp_path / "fw"))
    sim.load_module("stp_chrdev_bt")
    assert sim.module_loaded("stp_chrdev_bt")
    assert sim.hci_devices() == ["hci0"]
    addr = sim.bt_address("hci0")
    assert addr is not None and addr.startswith("00:0C:E7:")
    assert sim.stat_node("/dev/stpbt") is not None


def test_ioctl_numbers_decoded_for_the_client_abi(sim: SimBackend) -> None:
    """A client encoding for armhf (pointer size 4) is understood whatever the host ABI is."""
    loader(sim)
    arm = SimBackend(sim.sim_dir, abi="armhf")
    h = arm.open("/dev/stpwmt")
    assert h.ioctl(ioctls.number("WMT_IOCTL_SET_PATCH_NAME", "armhf"), b"\0" * 4) == 0
    if ioctls.number("WMT_IOCTL_SET_PATCH_NAME", "arm64") != ioctls.number("WMT_IOCTL_SET_PATCH_NAME", "armhf"):
        with pytest.raises(OSError) as e:  # an arm64 number is unknown to an armhf client's driver view
            h.ioctl(ioctls.number("WMT_IOCTL_SET_PATCH_NAME", "arm64"), b"\0" * 4)
        assert e.value.errno == errno.EINVAL
    h.close()


def test_garbage_on_socket_is_answered_and_daemon_survives(sim: SimBackend) -> None:
    """Malformed requests get an error answer; the daemon keeps serving other clients."""
    import socket

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sim.sock_path))
    f = s.makefile("rwb")
    for bad in (b"not json\n", b"[1, 2]\n", b'{"op": "ioctl"}\n', b'{"op": "warp"}\n'):
        f.write(bad)
        f.flush()
        resp = json.loads(f.readline())
        assert resp["ok"] is False and resp["error"]
    s.close()
    assert sim.ping() > 0


def test_daemon_stops_when_its_socket_vanishes(run_cli: CliRunner, tmp_path: Path) -> None:
    """A simulator whose directory was deleted (a finished test's tmp dir) stops by itself."""
    assert run_cli("sim", "start", "--timing", "fast", "--no-netns").returncode == 0
    sdir = tmp_path / "state" / "sim"
    pid = int((sdir / "sim.pid").read_text())
    (sdir / "sim.sock").unlink()
    for _ in range(300):
        if not Path(f"/proc/{pid}").exists():
            break
        threading.Event().wait(0.05)
    assert not Path(f"/proc/{pid}").exists()
    assert not sdir.exists()


def test_interrupted_call_does_not_desync_the_connection(sim: SimBackend) -> None:
    """A call cut short between request and answer drops its connection; the next call gets its own answer."""
    assert sim.stat_node("/dev/wmtdetect") is not None
    conn = sim._conn()
    real_readline = conn.rfile.readline

    def interrupted(*_a: object) -> bytes:
        raise KeyboardInterrupt  # as a signal handler raising inside the wait would

    conn.rfile.readline = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        sim.stat_node("/dev/wmtdetect")
    conn.rfile.readline = real_readline  # type: ignore[method-assign]
    # the stale answer of the interrupted request must not be taken for this one
    assert sim.module_loaded("no_such_module") is False
    assert sim.stat_node("/dev/stpwmt") is None
    assert sim._conn() is not conn


def test_s11_daemon_prints_only_e_wmt_lines_by_default(sim: SimBackend, run_cli: CliRunner, tmp_path: Path) -> None:
    """`sim start` without --wmt-debug is frank-w's default level: [E] WMT lines only (no OPID, no HIF type)."""
    loader(sim)
    _w, _t, result = mini_launcher(sim, good_firmware(tmp_path / "fw"))
    assert result == [0]
    dmesg = run_cli("sim", "dmesg").stdout
    assert "WMT HIF info added" in dmesg and "do common driver init failed, ret:-1" in dmesg
    assert "OPID(" not in dmesg and "new hifType" not in dmesg and "patch dwn:" not in dmesg
    assert status(run_cli)["wmt_debug"] == "err"


def test_s11_kmsg_file_stays_one_record_per_line_with_a_newline_in_a_patch_header(
        run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A patch header whose build time holds a newline is escaped (\\x0a) like /dev/kmsg does."""
    from .helpers import make_patch

    monkeypatch.setenv("R2WIFI_STATE_DIR", str(tmp_path / "state"))
    p = run_cli("sim", "start", "--timing", "fast", "--no-netns", "--wmt-debug", "all")
    assert p.returncode == 0, p.stderr
    try:
        fw = tmp_path / "fw"
        fw.mkdir()
        make_patch(fw / "ROMv2_lm_patch_1_1_hdr.bin", count=1, seq=1, addr=b"\x00\x0e\xf0", size=3028,
                   built=b"2015\n206145017a\n")
        be = SimBackend()
        loader(be)
        _w, _t, result = mini_launcher(be, fw)
        assert result == [0]
        kmsg = Path(str(status(run_cli)["kmsg"])).read_text()
        recs = kmsg.splitlines()
        assert recs and all(r.split(";", 1)[0].count(",") == 3 for r in recs)
        assert any("[Patch]BuiltTime = 2015\\x0a206145017a, HVer" in r for r in recs)
    finally:
        run_cli("sim", "stop")
