"""`r2wifi doctor --root FAKE`: one fixture tree per check, passing and failing, and the forum cases."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from r2wifi.board.doctor import FIRMWARE, SysView, check_firmware
from tests.board.boardkit import healthy_system


def _doctor(run_cli, root: Path) -> tuple[int, dict[str, list[dict[str, str]]]]:  # type: ignore[no-untyped-def]
    r = run_cli("doctor", "--root", str(root), "--json")
    assert r.returncode in (0, 1), r.stderr
    data = json.loads(r.stdout)
    by_id: dict[str, list[dict[str, str]]] = {}
    for c in data["checks"]:
        by_id.setdefault(c["id"], []).append(c)
    return r.returncode, by_id


def _status(by_id: dict[str, list[dict[str, str]]], cid: str) -> set[str]:
    return {c["status"] for c in by_id.get(cid, [])}


def test_healthy_system_has_no_failures(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A complete, well-set-up system: exit 0, every core check passes (firmware hashes: unknown blobs warn)."""
    rc, by_id = _doctor(run_cli, healthy_system(tmp_path / "sys"))
    assert rc == 0
    for cid in ("kernel.release", "kernel.config", "dt.consys", "dt.reserved", "cmdline.vmalloc", "dev.wmtdetect",
                "dev.stpwmt", "dev.wmtWifi", "dev.stpbt", "nvram.mac", "wlan_gen2", "launcher", "iface.wlan0",
                "rfkill", "entropy", "regdom", "klog", "firmware.WMT_SOC.cfg", "firmware.nvram/WIFI"):
        assert _status(by_id, cid) == {"pass"}, (cid, by_id.get(cid))
    assert _status(by_id, "firmware.WIFI_RAM_CODE_7623") == {"warn"}  # test blob, not the vendor hash


def _write(rel: str, data: bytes | str) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    return f


def _rm(rel: str) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        p = root / rel
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return f


def _node(path: str, entry: dict[str, object] | None) -> Callable[[Path], None]:
    def f(root: Path) -> None:
        nodes = json.loads((root / "dev-nodes.json").read_text())
        if entry is None:
            nodes.pop(path)
        else:
            nodes[path] = entry
        (root / "dev-nodes.json").write_text(json.dumps(nodes))
    return f


def _regular_wmtwifi(root: Path) -> None:
    _node("/dev/wmtWifi", None)(root)
    _write("dev/wmtWifi", "A\n")(root)


def _no_system_firmware_dir(root: Path) -> None:
    shutil.rmtree(root / "system")
    _write("etc/firmware/WMT_SOC.cfg", b"x" * 95)(root)


def _wpa_on_wlan0(root: Path) -> None:
    _write("proc/900/cmdline", b"/sbin/wpa_supplicant\0-u\0-s\0-iwlan0\0-c/etc/wpa_supplicant.conf\0")(root)


def _renamed(root: Path) -> None:
    shutil.rmtree(root / "sys/class/net/wlan0")
    d = root / "sys/class/net/wlx0008221234"
    d.mkdir(parents=True)
    (d / "uevent").write_text("INTERFACE=wlx0008221234\nDRIVER=wlan_gen2\n")


def _no_combo_config(root: Path) -> None:
    _write("proc/config.gz", gzip.compress(b"CONFIG_ARM=y\n"))(root)


def _kernel_without_driver(release: str) -> Callable[[Path], None]:
    """A kernel ``release`` that shows no connectivity driver: no /dev/wmtdetect, no MTK_COMBO options."""
    def f(root: Path) -> None:
        _write("proc/sys/kernel/osrelease", release + "\n")(root)
        _no_combo_config(root)
        _node("/dev/wmtdetect", None)(root)
    return f


CASES: list[tuple[str, Callable[[Path], None], str, str, str]] = [
    # (name, mutate, check id, expected status, text expected in detail/fix)
    ("kernel-6.1-no-driver", _kernel_without_driver("6.1.70-main"), "kernel.release", "fail", "newer than 5.15"),
    ("kernel-6.1-with-driver", _write("proc/sys/kernel/osrelease", "6.1.0-50-armmp\n"), "kernel.release", "pass",
     "has the connectivity driver (/dev/wmtdetect registered)"),
    ("no-combo-wifi", lambda r: (_no_combo_config(r), _node("/dev/wmtdetect", None)(r)), "kernel.config", "fail",
     "MTK_COMBO"),
    ("no-combo-wifi-driver-present", _no_combo_config, "kernel.config", "info", "present anyway"),
    ("no-config", _rm("proc/config.gz"), "kernel.config", "warn", "config"),
    ("consys-disabled", _write("proc/device-tree/consys@18070000/status", b"disabled\0"), "dt.consys", "fail",
     "disabled"),
    ("no-consys-node", lambda r: (_rm("proc/device-tree/consys@18070000")(r), _node("/dev/stpwmt", None)(r)),
     "dt.consys", "fail", "no consys"),
    ("consys-node-unknown-but-probed", _rm("proc/device-tree/consys@18070000"), "dt.consys", "info",
     "/dev/stpwmt registered"),
    ("no-reserved-memory", lambda r: (_rm("proc/device-tree/reserved-memory")(r), _node("/dev/stpwmt", None)(r)),
     "dt.reserved", "fail", "reserve"),
    ("reserved-memory-unknown-but-probed", _rm("proc/device-tree/reserved-memory"), "dt.reserved", "info",
     "/dev/stpwmt registered"),
    ("no-vmalloc", _write("proc/cmdline", "root=/dev/mmcblk0p2 rootwait\n"), "cmdline.vmalloc", "warn",
     "vmalloc=496M"),
    ("wmtwifi-regular-file", _regular_wmtwifi, "dev.wmtWifi", "fail", "REGULAR FILE"),
    ("stpwmt-wrong-major", _node("/dev/stpwmt", {"type": "char", "major": 10}), "dev.stpwmt", "fail", "major 10"),
    ("no-wmtdetect", _node("/dev/wmtdetect", None), "dev.wmtdetect", "fail", "not in this kernel"),
    ("no-system-etc-firmware", _no_system_firmware_dir, "firmware.WMT_SOC.cfg", "fail",
     "found at /etc/firmware/WMT_SOC.cfg"),
    ("truncated-ram-code", _write("etc/firmware/WIFI_RAM_CODE_7623", b"\x33" * 1000), "firmware.WIFI_RAM_CODE_7623",
     "fail", "expected 225840"),
    ("zero-mac", _write("etc/firmware/nvram/WIFI", b"\x06\x01" + b"\0" * 512), "nvram.mac", "warn", "random"),
    ("no-wlan-gen2", lambda r: (_rm("lib/modules")(r), _write("proc/modules", "")(r), _node("/dev/wmtWifi", None)(r)),
     "wlan_gen2", "fail", "neither built in"),
    ("wmtwifi-registered-no-ko", lambda r: (_rm("lib/modules")(r), _write("proc/modules", "")(r),
                                            _no_combo_config(r)), "wlan_gen2", "pass", "/dev/wmtWifi registered"),
    ("no-launcher", _rm("proc/1200"), "launcher", "warn", "no launcher"),
    ("two-launchers", _write("proc/1201/cmdline", b"stp_uart_launcher\0-p\0/etc/firmware\0"), "launcher", "fail",
     "2 launchers"),
    ("wlan0-renamed", _renamed, "iface.wlan0", "fail", "wlx0008221234"),
    ("wpa-supplicant-holds-wlan0", _wpa_on_wlan0, "managers.wpa_supplicant", "fail", "holds wlan0"),
    ("networkmanager", _write("proc/700/cmdline", b"/usr/sbin/NetworkManager\0--no-daemon\0"),
     "managers.networkmanager", "warn", "unmanaged"),
    ("rfkill-soft", _write("sys/class/rfkill/rfkill0/soft", "1\n"), "rfkill.rfkill0", "fail", "rfkill unblock wifi"),
    ("low-entropy", _write("proc/sys/kernel/random/entropy_avail", "23\n"), "entropy", "warn", "haveged"),
    ("world-regdom", _write("sys/module/cfg80211/parameters/ieee80211_regdom", "00\n"), "regdom", "warn",
     "country_code"),
    ("no-hif-info", _write("var/log/dmesg", "[ 9.0] [WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!\n"),
     "klog", "fail", "launcher"),
]


@pytest.mark.parametrize(("name", "mutate", "cid", "status", "text"), CASES, ids=[c[0] for c in CASES])
def test_each_check_fails_on_its_broken_tree(run_cli, tmp_path: Path, name, mutate, cid, status, text) -> None:  # type: ignore[no-untyped-def]
    """Break one thing in a healthy tree: that check reports it with a fix; exit 1 iff something fails."""
    root = healthy_system(tmp_path / "sys")
    mutate(root)
    rc, by_id = _doctor(run_cli, root)
    assert status in _status(by_id, cid), (cid, by_id.get(cid))
    entry = next(c for c in by_id[cid] if c["status"] == status)
    assert text in entry["detail"] + " " + entry["fix"]
    assert rc == (1 if any(c["status"] == "fail" for cs in by_id.values() for c in cs) else 0)
    assert (rc == 1) is (status == "fail")


def test_pinctrl_message_is_harmless(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Forum case: 'Wmt Cannot find pinctrl default!' is reported as harmless info, not a failure."""
    root = healthy_system(tmp_path / "sys")
    _write("var/log/dmesg", "[ 3.2] [WMT-CONSYS-HW]Wmt Cannot find pinctrl default!\n"
                            "[ 3.3] [WMT-CONF][E]unknown field 'mt6620.defAnt'.\n")(root)
    rc, by_id = _doctor(run_cli, root)
    assert rc == 0
    details = [c["detail"] for c in by_id["klog"]]
    assert _status(by_id, "klog") == {"info"}
    assert any("pinctrl" in d and "harmless" in d for d in details)


def test_text_output_and_exit_code(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Human output shows FAIL lines with their fix and a summary; exit 1 on failure; --help documents it."""
    root = healthy_system(tmp_path / "sys")
    _regular_wmtwifi(root)
    r = run_cli("doctor", "--root", str(root))
    assert r.returncode == 1
    assert "[FAIL] /dev/wmtWifi" in r.stdout and "fix: rm /dev/wmtWifi" in r.stdout
    assert "1 failures" in r.stdout
    assert "1 at least one check fails" in run_cli("doctor", "--help").stdout
    assert run_cli("doctor", "--bogus").returncode == 2


def test_r2wifi_launcher_found_by_its_lock(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A live r2wifi launcher (holding launcher.lock, pid in launcher.pid) counts as the launcher."""
    root = healthy_system(tmp_path / "sys")
    _rm("proc/1200")(root)
    state = tmp_path / "state"
    state.mkdir()
    (state / "launcher.pid").write_text("4242\n")
    fd = os.open(state / "launcher.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        r = run_cli("doctor", "--root", str(root), "--json", env={"R2WIFI_STATE_DIR": str(state)})
    finally:
        os.close(fd)
    checks = [c for c in json.loads(r.stdout)["checks"] if c["id"] == "launcher"]
    assert checks[0]["status"] == "pass" and "4242" in checks[0]["detail"]


@pytest.mark.root
def test_real_char_devices_with_mknod(tmp_path: Path) -> None:
    """As root, real device nodes made with mknod in the fake /dev are classified by their major."""
    root = healthy_system(tmp_path / "sys")
    (root / "dev-nodes.json").unlink()
    (root / "dev").mkdir()
    for name, major in (("wmtdetect", 154), ("stpwmt", 190), ("wmtWifi", 155), ("stpbt", 1)):
        os.mknod(root / "dev" / name, 0o600 | 0o020000, os.makedev(major, 0))
    sv = SysView(root)
    from r2wifi.board.doctor import check_devnodes

    got = {c.id: c.status for c in check_devnodes(sv)}
    assert got == {"dev.wmtdetect": "pass", "dev.stpwmt": "pass", "dev.wmtWifi": "pass", "dev.stpbt": "fail"}


def test_firmware_with_known_hashes_passes(tmp_path: Path) -> None:
    """With the vendor table's sizes and hashes matching, every firmware file passes (WMT_SOC.cfg is real)."""
    import hashlib

    root = healthy_system(tmp_path / "sys")
    table = {}
    for path, (size, prefix, hashed) in FIRMWARE.items():
        digest = hashlib.sha256((root / path.lstrip("/")).read_bytes()).hexdigest()
        table[path] = (size, digest[:8] if path != "/system/etc/firmware/WMT_SOC.cfg" else prefix, hashed)
    assert {c.status for c in check_firmware(SysView(root), table)} == {"pass"}


def test_live_root_ignores_dev_nodes_override(tmp_path: Path) -> None:
    """The dev-nodes.json test seam is only honoured for fake roots, never for /."""
    assert SysView(Path("/"))._nodes == {}


def test_devicetree_under_sysfs_with_proc_symlink(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A root where /proc/device-tree is the usual absolute symlink: the tree under /sys is read instead."""
    root = healthy_system(tmp_path / "sys")
    dt = root / "sys/firmware/devicetree/base"
    dt.parent.mkdir(parents=True)
    shutil.move(root / "proc/device-tree", dt)
    (dt / "consys@18070000/status").write_bytes(b"disabled\0")
    (root / "proc/device-tree").symlink_to("/sys/firmware/devicetree/base")
    rc, by_id = _doctor(run_cli, root)
    assert rc == 1 and _status(by_id, "dt.consys") == {"fail"}


@pytest.mark.parametrize(("release", "mutate", "status", "text"), [
    ("6.12.1-main", _node("/dev/wmtdetect", None), "pass", "MTK_COMBO_WIFI in /proc/config.gz"),
    ("5.15.160-bpi-r2-main", _kernel_without_driver("5.15.160-bpi-r2-main"), "pass", "5.15.160"),
    ("6.1.0-50-armmp", _kernel_without_driver("6.1.0-50-armmp"), "fail", "no /dev/wmtdetect"),
])
def test_kernel_release_judged_by_the_driver_it_shows(run_cli, tmp_path: Path, release: str,  # type: ignore[no-untyped-def]
                                                      mutate: Callable[[Path], None], status: str, text: str) -> None:
    """A release newer than 5.15 fails only when the kernel shows no connectivity driver (no node, no config);
    an older one is never blamed (the missing node is dev.wmtdetect's to report)."""
    root = healthy_system(tmp_path / "sys")
    _write("proc/sys/kernel/osrelease", release + "\n")(root)
    mutate(root)
    _rc, by_id = _doctor(run_cli, root)
    assert _status(by_id, "kernel.release") == {status}, by_id.get("kernel.release")
    assert text in by_id["kernel.release"][0]["detail"]


WIFI_ON_FAIL = "[ 20.0] [MTK-WIFI] WIFI_write: WMT turn on WIFI fail!\n"
WIFI_ON_OK = "[ 30.0] [MTK-WIFI] WIFI_write: WMT turn on WIFI success!\n"


@pytest.mark.parametrize(("log", "status"), [
    (WIFI_ON_FAIL, "fail"),                              # nothing came after it: still wrong
    (WIFI_ON_FAIL + WIFI_ON_OK, "info"),                 # WiFi came on afterwards: overcome, history
    (WIFI_ON_OK + WIFI_ON_FAIL.replace("20.0", "40.0"), "fail"),  # failed after the last success
])
def test_kernel_log_failure_overcome_by_a_later_wifi_on_is_info(run_cli, tmp_path: Path, log: str,  # type: ignore[no-untyped-def]
                                                                 status: str) -> None:
    """A WiFi-on failure followed by a successful WiFi-on in the same boot is reported as info, not a failure."""
    root = healthy_system(tmp_path / "sys")
    _write("var/log/dmesg", log)(root)
    rc, by_id = _doctor(run_cli, root)
    entry = next(c for c in by_id["klog"] if "turn on WIFI fail" in c["detail"])
    assert entry["status"] == status, by_id["klog"]
    assert (rc == 1) is (status == "fail")
    if status == "info":
        assert "overcome" in entry["detail"]


def test_second_do_module_init_stays_a_failure_after_a_later_wifi_on(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The busy-major lockout of a second DO_MODULE_INIT lasts until reboot: a later WiFi-on does not make it info."""
    root = healthy_system(tmp_path / "sys")
    _write("var/log/dmesg", "[ 20.0] [WMT-DEV][E]WMT_init(1528):fail to register chrdev(190), ret -16 (busy major)\n"
           + WIFI_ON_OK)(root)
    rc, by_id = _doctor(run_cli, root)
    entry = next(c for c in by_id["klog"] if "busy major" in c["detail"])
    assert entry["status"] == "fail" and rc == 1, by_id["klog"]
