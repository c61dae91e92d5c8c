"""Fixtures of the AP tests: a pair of network namespaces joined by a veth (test bed A)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class VethPair:
    ns_a: str
    ns_b: str
    if_a: str
    if_b: str

    def send_udp(self, dest: str, count: int, size: int = 1000) -> None:
        """Send ``count`` UDP datagrams from namespace A to ``dest`` (port 9, discard)."""
        # Then wait until the socket's send queue is empty (SIOCOUTQ counts datagrams still held
        # by the qdisc), so the shaped class has dequeued every packet when this returns.
        code = (
            "import socket,fcntl,struct,time\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            f"for _ in range({count}): s.sendto(b'x'*{size},('{dest}',9))\n"
            "while struct.unpack('i',fcntl.ioctl(s,0x5411,b'\\0'*4))[0]>0: time.sleep(0.005)\n"
        )
        subprocess.run(["ip", "netns", "exec", self.ns_a, sys.executable, "-c", code], check=True)


@pytest.fixture
def veth_pair() -> Iterator[VethPair]:
    """Two fresh namespaces with a veth between them (no addresses, links down)."""
    tag = f"r2t{os.getpid() % 100000}"
    pair = VethPair(f"{tag}-a", f"{tag}-b", "ta0", "tb0")
    for ns in (pair.ns_a, pair.ns_b):
        subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", pair.ns_a, "link", "add", pair.if_a, "type", "veth", "peer", "name",
                        pair.if_b, "netns", pair.ns_b], check=True)
        yield pair
    finally:
        for ns in (pair.ns_a, pair.ns_b):
            subprocess.run(["ip", "netns", "del", ns], check=False)


REPO = Path(__file__).resolve().parents[2]


@dataclass
class SimBed:
    """A running simulator (fast timing) with a firmware set and an r2wifi config pointing at it."""

    root: Path
    state: Path
    config: Path
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "r2wifi", *args], capture_output=True, text=True,
                              env=self.env, timeout=timeout, cwd=self.root)

    def write_config(self, extra: str = "") -> None:
        self.config.write_text(
            "[chip]\n"
            'backend = "sim"\n'
            f'firmware_dir = "{self.root}/fw/etc/firmware"\n'
            "[ap]\n"
            'passphrase = "correct horse battery"\n'
            "[shaping]\n"
            "enabled = true\n"
            'rate = "8mbit"\n'
            "[dhcp]\n"
            "dns_port = 0\n" + extra
        )

    def sim_status(self) -> dict[str, object]:
        import json

        out = self.cli("--backend", "sim", "sim", "status", "--json")
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        assert isinstance(data, dict)
        return data

    def pid(self, name: str, iface: str = "ap0") -> int | None:
        """The pid recorded by the daemon runner for ``name`` (hostapd, dnsmasq, wpa_supplicant)."""
        try:
            return int((self.state / "run" / f"{name}-{iface}.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None


def _our_processes(marker: str) -> list[int]:
    """Pids whose command line mentions ``marker`` (our tmp dir), excluding this test process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if marker.encode() in cmd:
            found.append(int(entry))
    return found


@pytest.fixture
def sim_bed(tmp_path: Path) -> Iterator[SimBed]:
    """Simulator started with --timing fast in its own state dir; stopped (and checked) afterwards."""
    from r2wifi.wmt.fwgen import write_firmware_set

    write_firmware_set(tmp_path / "fw")
    state = tmp_path / "state"
    env = dict(os.environ)
    env.pop("R2WIFI_DEBUG", None)
    env.update(R2WIFI_STATE_DIR=str(state), R2WIFI_BACKEND="sim", PYTHONPATH=str(REPO))
    bed = SimBed(tmp_path, state, tmp_path / "r2wifi.toml", env)
    bed.write_config()
    started = bed.cli("--backend", "sim", "sim", "start", "--timing", "fast", "--firmware-dir",
                      f"{tmp_path}/fw/etc/firmware")
    assert started.returncode == 0, started.stderr
    try:
        yield bed
    finally:
        bed.cli("down", "--config", str(bed.config), "-q")
        bed.cli("--backend", "sim", "sim", "stop")
        for pid in _our_processes(str(tmp_path)):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
