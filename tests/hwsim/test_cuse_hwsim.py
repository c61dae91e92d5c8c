"""The simulated driver as real character devices (CUSE) with hwsim as its radio, in test bed C.

One story per session, run in the guest by the ``cuse_story`` fixture: ``r2wifi sim start --cuse``
(fast timing, ``--kmsg``), raw ``fcntl.ioctl`` calls on the nodes, then r2wifi's *real* backend
(``--backend real``: ``os.open``/``fcntl.ioctl``/``poll`` on /dev) through ``chip init``,
``chip launch --daemon``, ``wifi ap`` (hostapd ``driver=nl80211``, WPA2, on the new ``ap0``; a
wpa_supplicant station on the other hwsim phy joins it), ``wifi off``, and ``sim stop``. Each test
checks one part of the story; the guest is left as it was found (hwsim's own wlan0 is given back, the
launcher, hostapd and wpa_supplicant are stopped).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
from testbed.build import Image
from testbed.vm import VM, Result

pytestmark = [pytest.mark.hwsim, pytest.mark.root, pytest.mark.slow]

FW = "/tmp/cuse-fw"
PATCH_DIR = f"{FW}/etc/firmware"
HOSTAPD_CTRL = "/run/hostapd-cuse"
NODES = ("/dev/wmtdetect", "/dev/stpwmt", "/dev/wmtWifi")

STAT_NODES = (
    "import json, os, stat\n"
    "out = {}\n"
    f"for p in {NODES!r}:\n"
    "    try:\n"
    "        st = os.stat(p)\n"
    "    except FileNotFoundError:\n"
    "        out[p] = None\n"
    "        continue\n"
    "    out[p] = [stat.S_ISCHR(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev)]\n"
    "print(json.dumps(out))\n"
)

# raw ioctls as any program would make them (numbers for this interpreter's ABI)
RAW_IOCTLS = (
    "import errno, fcntl, json, os\n"
    "from r2wifi.wmt import ioctls\n"
    "res = {'abi': ioctls.host_abi()}\n"
    "fd = os.open('/dev/wmtdetect', os.O_RDWR | os.O_NOCTTY)\n"
    "res['soc_chip_id'] = fcntl.ioctl(fd, ioctls.number('COMBO_IOCTL_GET_SOC_CHIP_ID'), 0)\n"
    "res['chip_id'] = fcntl.ioctl(fd, ioctls.number('COMBO_IOCTL_GET_CHIP_ID'), 0)\n"
    "os.close(fd)\n"
    "fd = os.open('/dev/stpwmt', os.O_RDWR | os.O_NOCTTY)\n"
    "buf = bytearray(b'mt7623-patch'.ljust(256, b'\\0'))\n"
    "res['set_patch_name'] = fcntl.ioctl(fd, ioctls.number('WMT_IOCTL_SET_PATCH_NAME'), buf, True)\n"
    "try:\n"
    "    fcntl.ioctl(fd, ioctls.number('WMT_IOCTL_SET_PATCH_NAME'), 0)\n"
    "    res['null_pointer'] = 'no error'\n"
    "except OSError as e:\n"
    "    res['null_pointer'] = errno.errorcode[e.errno]\n"
    "res['query_chipid'] = fcntl.ioctl(fd, ioctls.number('WMT_IOCTL_WMT_QUERY_CHIPID'), 0)\n"
    "os.close(fd)\n"
    "print(json.dumps(res))\n"
)

WPA_CTRL = "/run/wpa-cuse"
PSK = "cuse-test-passphrase"
HOSTAPD_CONF = f"""interface=ap0
driver=nl80211
ctrl_interface={HOSTAPD_CTRL}
ssid=r2wifi-cuse
hw_mode=g
channel=1
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
wpa_passphrase={PSK}
"""
WPA_CONF = f"""ctrl_interface={WPA_CTRL}
network={{
    ssid="r2wifi-cuse"
    key_mgmt=WPA-PSK
    psk="{PSK}"
    scan_freq=2412
}}
"""
PEER_NETDEV = ("for d in /sys/class/net/*; do [ \"$(cat $d/phy80211/name 2>/dev/null)\" = {phy} ] && "
               "basename $d; done | head -n 1")


class Story:
    """Runs the steps in the guest and keeps every result."""

    def __init__(self, vm: VM, image: Image) -> None:
        self.vm = vm
        self.r2wifi = f"{image.venv}/bin/r2wifi"
        self.python = f"{image.venv}/bin/python"
        self.sim_dir = "$(" + shlex.join([self.python, "-c", "from r2wifi.paths import sim_dir; print(sim_dir())"]) + ")"
        self.steps: dict[str, Result] = {}

    def sh(self, name: str, line: str, timeout: float = 120) -> Result:
        res = self.vm.run(line, timeout=timeout)
        self.steps[name] = res
        return res

    def r2(self, name: str, *args: str, timeout: float = 120) -> Result:
        return self.sh(name, shlex.join([self.r2wifi, *args]) + " 2>&1", timeout=timeout)

    def py(self, name: str, code: str) -> Any:
        res = self.sh(name, shlex.join([self.python, "-c", code]))
        try:
            return json.loads(res.out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"error": res.out + res.err}

    def explain(self) -> str:
        return "\n".join(f"--- {k} rc={v.rc}\n{(v.out + v.err)[-1500:]}" for k, v in self.steps.items())


@pytest.fixture(scope="module")
def cuse_story(hwsim_vm: VM, hwsim_image: Image) -> Iterator[tuple[Story, dict[str, Any]]]:
    s = Story(hwsim_vm, hwsim_image)
    logs = hwsim_vm.workdir / "cuse"  # 9p-shared: the same path in the guest; kept as the artefact
    logs.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    s.sh("netdevs_before", "ls /sys/class/net")
    s.r2("firmware", "firmware", "generate", FW)
    s.r2("start", "sim", "start", "--cuse", "--timing", "fast", "--kmsg", "--firmware-dir", PATCH_DIR)
    try:
        data["nodes_at_start"] = s.py("nodes_at_start", STAT_NODES)
        st0 = s.r2("sim_status_start", "sim", "status", "--json")
        try:
            data["radio"] = json.loads(st0.out).get("radio") or {}
        except ValueError:
            data["radio"] = {}
        s.sh("second", f"R2WIFI_SIM_DIR=/tmp/cuse-second {s.r2wifi} sim start --cuse --timing fast --radio none")
        s.r2("init", "--backend", "real", "chip", "init", "-v")
        data["nodes_after_init"] = s.py("nodes_after_init", STAT_NODES)
        data["raw"] = s.py("raw", RAW_IOCTLS)
        s.r2("launch", "--backend", "real", "chip", "launch", "--daemon", "-p", PATCH_DIR, timeout=180)
        s.r2("ap", "--backend", "real", "wifi", "ap", timeout=180)
        s.sh("ap0_info", "iw dev ap0 info; cat /sys/class/net/ap0/phy80211/name")
        s.sh("wlan0_info", "iw dev wlan0 info; cat /sys/class/net/wlan0/phy80211/name")
        s.sh("hostapd_conf", f"mkdir -p {HOSTAPD_CTRL} && printf %s {shlex.quote(HOSTAPD_CONF)} > /tmp/cuse-hostapd.conf")
        s.sh("hostapd", f"hostapd -B -t -P /tmp/cuse-hostapd.pid -f {logs}/hostapd.log /tmp/cuse-hostapd.conf")
        s.sh("hostapd_status", f"for i in $(seq 1 60); do hostapd_cli -p {HOSTAPD_CTRL} -i ap0 status > /tmp/st 2>&1;"
             " grep -q state=ENABLED /tmp/st && break; sleep 0.5; done; cat /tmp/st", timeout=90)
        group = "/sys/kernel/debug/ieee80211/$(cat /sys/class/net/ap0/phy80211/name)/hwsim/group"
        s.sh("stall", f"{s.r2wifi} sim inject txq-stall && cat {group}")
        s.sh("unstall", f"{s.r2wifi} sim inject clear-stall && cat {group}")
        peer = s.sh("peer", PEER_NETDEV.format(phy=data["radio"].get("peer_phy") or "none")).out.strip()
        data["peer"] = peer
        if peer:  # a station on the other hwsim phy joins the chip's AP
            s.sh("wpa_conf", f"mkdir -p {WPA_CTRL} && printf %s {shlex.quote(WPA_CONF)} > /tmp/cuse-wpa.conf")
            s.sh("wpa", f"wpa_supplicant -B -t -i {peer} -c /tmp/cuse-wpa.conf -P /tmp/cuse-wpa.pid -f {logs}/wpa_supplicant.log")
            s.sh("sta_connected", f"for i in $(seq 1 120); do hostapd_cli -p {HOSTAPD_CTRL} -i ap0 all_sta > /tmp/sta"
                 " 2>&1; grep -q AUTHORIZED /tmp/sta && break; sleep 0.5; done; cat /tmp/sta;"
                 f" cat /sys/class/net/{peer}/address", timeout=150)
            s.sh("wpa_stop", f"kill $(cat /tmp/cuse-wpa.pid); sleep 1; ip link set {peer} down; true")
        s.sh("hostapd_stop", "kill $(cat /tmp/cuse-hostapd.pid); sleep 1; true")
        s.r2("off", "--backend", "real", "wifi", "off", timeout=180)
        s.sh("netdevs_after_off", "ls /sys/class/net")
        st = s.r2("sim_status", "sim", "status", "--json")
        try:
            data["sim_status"] = json.loads(st.out)
        except ValueError:
            data["sim_status"] = {}
        s.sh("dmesg", "dmesg | grep -e do_connectivity_driver_init -e 'WIFI_write: WIFI_write'")
    finally:
        s.sh("launcher_stop", shlex.join([s.python, "-c", "import os, signal\n"
                                          "from r2wifi.wmt.state import launcher_pid\n"
                                          "p = launcher_pid()\n"
                                          "p and os.kill(p, signal.SIGTERM)\n"]) + "; sleep 1")
        s.sh("sim_log", f"cp {s.sim_dir}/daemon.log {logs}/sim-daemon.log; dmesg > {logs}/dmesg.log; true")
        s.r2("stop", "sim", "stop")
        s.sh("second_stop", f"R2WIFI_SIM_DIR=/tmp/cuse-second {s.r2wifi} sim stop 2>/dev/null; true")
        data["nodes_after_stop"] = s.py("nodes_after_stop", STAT_NODES)
        s.sh("netdevs_after_stop", "ls /sys/class/net; cat /sys/class/net/wlan0/address")
    yield s, data


@pytest.fixture(autouse=True)
def _failure_logs(request: pytest.FixtureRequest, hwsim_vm: VM) -> None:
    request.node._tb_logs = hwsim_vm.workdir / "cuse"  # tails of these logs go into a failure's report


def test_sim_start_cuse_serves_only_wmtdetect_until_module_init(cuse_story):
    s, data = cuse_story
    assert s.steps["start"].rc == 0, s.explain()
    assert "CUSE nodes" in s.steps["start"].out
    assert data["nodes_at_start"] == {"/dev/wmtdetect": [True, 154, 0], "/dev/stpwmt": None,
                                      "/dev/wmtWifi": None}, s.explain()


def test_a_second_simulator_fails_in_one_line_on_the_busy_major(cuse_story):
    """Major 154 is taken by the first simulator: the second one says so and exits 2, the first keeps its node."""
    s, data = cuse_story
    res = s.steps["second"]
    assert res.rc == 2, s.explain()
    assert res.err.count("\n") == 1 and "/dev/wmtdetect" in res.err and "Traceback" not in res.err, res.err
    assert data["nodes_after_init"]["/dev/wmtdetect"] == [True, 154, 0]


def test_loader_do_module_init_makes_stpwmt_and_wmtwifi_appear(cuse_story):
    s, data = cuse_story
    assert s.steps["init"].rc == 0, s.explain()
    assert data["nodes_after_init"] == {"/dev/wmtdetect": [True, 154, 0], "/dev/stpwmt": [True, 190, 0],
                                        "/dev/wmtWifi": [True, 155, 0]}, s.explain()


def test_raw_ioctls_round_trip(cuse_story):
    """Positive returns pass through; SET_PATCH_NAME's buffer arrives (FUSE_IOCTL_RETRY); NULL -> EFAULT."""
    s, data = cuse_story
    raw = data["raw"]
    assert raw.get("soc_chip_id") == 0x7623, s.explain()
    assert raw.get("chip_id") == 0x7623  # stored by chip init's SET_CHIP_ID
    assert raw.get("query_chipid") == 0x7623
    assert raw.get("set_patch_name") == 0  # the model answers EFAULT when no bytes arrive
    assert raw.get("null_pointer") == "EFAULT"  # the kernel copies from the caller's (null) pointer


def test_real_backend_launcher_powers_the_chip_through_poll_and_read(cuse_story):
    """The launcher's power thread blocks in LPBK_POWER_CTRL while its poll is woken for srh_patch."""
    s, data = cuse_story
    assert s.steps["launch"].rc == 0, s.explain()
    st = data["sim_status"]
    assert st.get("chip_powered") is True and st.get("srh_patch_count", 0) >= 1, st
    assert st.get("lpbk_power_on_count", 0) >= 1


def test_wifi_ap_creates_ap0_on_the_hwsim_phy_and_hostapd_runs_there(cuse_story):
    s, data = cuse_story
    assert s.steps["ap"].rc == 0, s.explain()
    info = s.steps["ap0_info"].out
    phy = (data["sim_status"].get("radio") or {}).get("phy")
    assert "type AP" in info and "addr 02:08:22:" in info, info
    assert phy and info.strip().splitlines()[-1] == phy, info
    assert "state=ENABLED" in s.steps["hostapd_status"].out, s.explain()
    sta = s.steps["wlan0_info"].out  # the driver's station netdev, on the same (chip) phy, chip MAC
    assert "type managed" in sta and "addr 00:08:22:" in sta and sta.strip().splitlines()[-1] == phy, sta


def test_a_station_on_the_peer_phy_joins_the_chips_ap(cuse_story):
    """wpa_supplicant (WPA2-PSK) on the other hwsim phy completes association with hostapd on ap0."""
    s, data = cuse_story
    assert data.get("peer"), s.explain()
    out = s.steps["sta_connected"].out.split()
    mac = out[-1]
    assert mac in out[:-1], s.explain()  # listed by hostapd's all_sta
    assert "[AUTHORIZED]" in s.steps["sta_connected"].out, s.explain()  # the 4-way handshake completed


def test_txq_stall_takes_the_chip_radio_out_of_the_peers_group(cuse_story):
    """`sim inject txq-stall` moves the chip's hwsim radio to group 2 (nobody hears it); clear-stall back to 1."""
    s, _data = cuse_story
    assert s.steps["stall"].rc == 0 and s.steps["stall"].out.split()[-1] == "2", s.explain()
    assert s.steps["unstall"].rc == 0 and s.steps["unstall"].out.split()[-1] == "1", s.explain()


def test_wifi_off_removes_the_interfaces(cuse_story):
    s, _data = cuse_story
    assert s.steps["off"].rc == 0, s.explain()
    after = s.steps["netdevs_after_off"].out.split()
    assert "ap0" not in after and "wlan0" not in after, after


def test_kernel_lines_reach_the_guest_kmsg(cuse_story):
    s, _data = cuse_story
    out = s.steps["dmesg"].out
    assert "do_connectivity_driver_init" in out and "WIFI_write A" in out and "WIFI_write 0" in out, out


def test_sim_stop_removes_the_nodes_and_gives_hwsim_its_wlan0_back(cuse_story):
    s, data = cuse_story
    assert s.steps["stop"].rc == 0, s.explain()
    assert data["nodes_after_stop"] == dict.fromkeys(NODES), s.explain()
    after = s.steps["netdevs_after_stop"].out.split()
    assert "wlan0" in after and "02:00:00:00:00:00" in after
    assert sorted(after) == sorted(s.steps["netdevs_before"].out.split() + ["02:00:00:00:00:00"])
