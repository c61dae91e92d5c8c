"""Root scenarios: the simulator's real interfaces in its network namespaces."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from r2wifi.sim.client import SimBackend

from .helpers import CliRunner, good_firmware, loader, mini_launcher


def links(ns: str) -> dict[str, dict[str, object]]:
    p = subprocess.run(["ip", "-n", ns, "-j", "link", "show"], capture_output=True, text=True)
    if p.returncode != 0:
        return {}
    return {d["ifname"]: d for d in json.loads(p.stdout)}


def busybox() -> str:
    path = shutil.which("busybox")
    if not path:
        pytest.skip("busybox is not installed (scripts/apt-packages.txt)")
    return path


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """True as soon as ``predicate()`` holds; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def netns_list() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


@pytest.mark.root
@pytest.mark.netns
def test_ap_interfaces_in_netns_and_gone_after_stop(run_cli: CliRunner, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`A` creates wlan0 + ap0 (02:08:22 MAC) in the sim netns, air0 across; stop removes both netns."""
    monkeypatch.setenv("R2WIFI_STATE_DIR", str(tmp_path / "state"))
    p = run_cli("sim", "start", "--timing", "fast", "--netns")
    assert p.returncode == 0, p.stderr
    try:
        be = SimBackend()
        ns, air = be.netns(), be.air_netns()
        assert ns and air == f"{ns}-air"
        assert ns in netns_list()
        loader(be)
        mini_launcher(be, good_firmware(tmp_path / "fw"))
        be.open("/dev/wmtWifi").write(b"A\n")
        got = links(ns)
        assert {"wlan0", "ap0"} <= set(got)
        assert str(got["ap0"]["address"]).startswith("02:08:22:")
        assert "air0" in links(air)
        # traffic path: an address on each end, ping across the veth "air"
        subprocess.run(["ip", "-n", ns, "addr", "add", "10.99.0.1/24", "dev", "ap0"], check=True)
        subprocess.run(["ip", "-n", air, "addr", "add", "10.99.0.2/24", "dev", "air0"], check=True)
        ping = subprocess.run(["ip", "netns", "exec", air, busybox(), "ping", "-c1", "-W2",
                               "10.99.0.1"],
                              capture_output=True, text=True)
        assert ping.returncode == 0, ping.stdout + ping.stderr
        # the kernel's link watch updates the carrier flag asynchronously (up to a second, longer under load)
        assert run_cli("sim", "inject", "txq-stall").returncode == 0
        assert wait_for(lambda: "NO-CARRIER" in links(ns)["ap0"]["flags"])  # type: ignore[operator]
        assert run_cli("sim", "inject", "clear-stall").returncode == 0
        assert wait_for(lambda: "NO-CARRIER" not in links(ns)["ap0"]["flags"])  # type: ignore[operator]
        be.open("/dev/wmtWifi").write(b"0")
        assert "ap0" not in links(ns)
    finally:
        assert run_cli("sim", "stop").returncode == 0
    assert ns not in netns_list() and air not in netns_list()
