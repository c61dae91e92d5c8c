"""Acceptance: `r2wifi up/status/down` against the simulator backend, as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ap.conftest import SimBed, _our_processes
from tests.conftest import need_binary


def _left_behind(state: Path) -> list[str]:
    """Files of ours still there after `down`: only logs (kept for diagnose) and the lock may stay."""
    keep = {"ap/lock", "ap/supervisor.lock", "launcher.log", "launcher.json", "launcher.lock"}
    out = []
    for path in state.rglob("*"):
        rel = str(path.relative_to(state))
        if path.is_dir() or rel.startswith(("logs/", "sim/")) or rel in keep:
            continue
        out.append(rel)
    return sorted(out)


def _ns_addresses(netns: str, ifname: str) -> str:
    return subprocess.run(["ip", "-n", netns, "-o", "addr", "show", "dev", ifname], capture_output=True,
                          text=True).stdout


@pytest.mark.root
def test_up_brings_the_ap_up_and_down_leaves_nothing(sim_bed: SimBed) -> None:
    """up: chip powered, ap0 appears, addresses + HTB shaping, hostapd ENABLED; down removes all of it."""
    need_binary("hostapd")
    need_binary("dnsmasq")
    up = sim_bed.cli("up", "--ap", "--config", str(sim_bed.config))
    assert up.returncode == 0, up.stderr
    st = json.loads(sim_bed.cli("status", "--json", "--config", str(sim_bed.config)).stdout)
    assert st["up"] and st["mode"] == "ap" and st["interface"] == "ap0"
    assert st["chip"]["launcher_alive"] and st["chip"]["powered"]
    iface = st["interface_state"]
    assert iface["up"] and sorted(iface["addresses"]) == ["192.168.10.1/24", "fd00:b::10/64"]
    assert iface["shaping"]["kind"] == "htb"
    assert st["hostapd"]["state"] == "ENABLED"
    assert st["daemons"]["hostapd"]["pid"] and st["daemons"]["dnsmasq"]["pid"]
    netns = st["netns"]
    assert netns and "ap0" in sim_bed.sim_status()["interfaces"]  # type: ignore[operator]
    conf = (sim_bed.state / "conf" / "hostapd-ap0.conf")
    assert "driver=wired" in conf.read_text() and conf.stat().st_mode & 0o777 == 0o600
    log = (sim_bed.state / "logs" / "hostapd-ap0.log").read_text()
    assert "AP-ENABLED" in log and log.splitlines()[-1].split(":")[0].replace(".", "").isdigit()
    assert "correct horse" not in up.stdout + up.stderr + log

    down = sim_bed.cli("down", "--config", str(sim_bed.config))
    assert down.returncode == 0, down.stderr
    for name in ("hostapd", "dnsmasq"):
        pid = st["daemons"][name]["pid"]
        assert not os.path.exists(f"/proc/{pid}") or b"Z" in Path(f"/proc/{pid}/stat").read_bytes().split(b")")[-1][:3]
    assert "ap0" not in subprocess.run(["ip", "-n", netns, "-o", "link"], capture_output=True, text=True).stdout
    assert _left_behind(sim_bed.state) == []
    assert not sim_bed.sim_status()["launcher_connected"]
    again = sim_bed.cli("down", "--config", str(sim_bed.config))
    assert again.returncode == 0 and "nothing of ours" in again.stdout


@pytest.mark.root
def test_up_twice_changes_nothing(sim_bed: SimBed) -> None:
    """A second `up` keeps the same hostapd, launcher and addresses (nothing added twice)."""
    assert sim_bed.cli("up", "--config", str(sim_bed.config)).returncode == 0
    first = json.loads(sim_bed.cli("status", "--json", "--config", str(sim_bed.config)).stdout)
    again = sim_bed.cli("up", "--config", str(sim_bed.config))
    assert again.returncode == 0, again.stderr
    second = json.loads(sim_bed.cli("status", "--json", "--config", str(sim_bed.config)).stdout)
    assert second["daemons"]["hostapd"]["pid"] == first["daemons"]["hostapd"]["pid"]
    assert second["chip"]["launcher_pid"] == first["chip"]["launcher_pid"]
    shown = _ns_addresses(first["netns"], "ap0")
    assert shown.count("192.168.10.1/24") == 1 and shown.count("fd00:b::10/64") == 1
    assert "start hostapd" not in again.stdout
    text = sim_bed.cli("status", "--config", str(sim_bed.config)).stdout
    assert "state:     up (ap)" in text and "shaping:   htb" in text and "state=ENABLED" in text


@pytest.mark.root
def test_nat_table_added_and_removed(sim_bed: SimBed) -> None:
    """With nat.uplink, up adds our nft table inside the simulator's namespace and down removes it."""
    need_binary("nft")
    sim_bed.write_config('[nat]\nuplink = "eth9"\n')
    assert sim_bed.cli("up", "--config", str(sim_bed.config)).returncode == 0
    netns = json.loads(sim_bed.cli("status", "--json", "--config", str(sim_bed.config)).stdout)["netns"]
    rules = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "ruleset"], capture_output=True,
                           text=True).stdout
    assert "r2wifi_nat" in rules and 'oifname "eth9" masquerade' in rules
    assert sim_bed.cli("down", "--config", str(sim_bed.config)).returncode == 0
    rules = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "ruleset"], capture_output=True,
                           text=True).stdout
    assert "r2wifi_nat" not in rules


@pytest.mark.parametrize(("extra", "key"), [
    ("[ap]\nchannel = 99\n", "ap.channel"),
    ('[shaping]\nrate = "fast"\n', "shaping.rate"),
    ('[ap]\naddress4 = "192.168.10.1"\n', "ap.address4"),
])
def test_bad_config_is_one_line_naming_the_key(run_cli, tmp_path: Path, extra: str, key: str) -> None:  # type: ignore[no-untyped-def]
    """A bad value stops `up` with exit 2 and one line naming the key; nothing is written."""
    cfg = tmp_path / "bad.toml"
    body = '[chip]\nenabled = false\n[ap]\npassphrase = "correct horse"\n'
    if extra.startswith("[ap]"):
        body = body.replace('[ap]\n', extra, 1)
    else:
        body += extra
    cfg.write_text(body)
    res = run_cli("up", "--config", str(cfg))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and key in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "state").exists()


@pytest.mark.root
@pytest.mark.timeout(1200)
def test_many_up_down_cycles_leak_nothing(sim_bed: SimBed) -> None:
    """Repeated up/down cycles (200 in CI, 25 by default) leave no process of ours and no extra open file."""
    sim_pid = int((sim_bed.state / "sim" / "sim.pid").read_text().split()[0])
    cycles = int(os.environ.get("R2WIFI_AP_CYCLES", "25"))
    assert sim_bed.cli("up", "-q", "--config", str(sim_bed.config)).returncode == 0
    assert sim_bed.cli("down", "-q", "--config", str(sim_bed.config)).returncode == 0
    fds_before = len(os.listdir(f"/proc/{sim_pid}/fd"))
    for _ in range(cycles):
        up = sim_bed.cli("up", "-q", "--config", str(sim_bed.config))
        assert up.returncode == 0, up.stderr
        down = sim_bed.cli("down", "-q", "--config", str(sim_bed.config))
        assert down.returncode == 0, down.stderr
    assert len(os.listdir(f"/proc/{sim_pid}/fd")) == fds_before
    assert _left_behind(sim_bed.state) == []
    leftovers = [p for p in _our_processes(str(sim_bed.root)) if p != sim_pid]
    assert leftovers == []


@pytest.mark.root
def test_client_in_the_air_gets_a_lease_through_the_shaped_class(sim_bed: SimBed) -> None:
    """A DHCP client on the simulator's air side gets a lease from our dnsmasq; replies pass the HTB leaf."""
    need_binary("busybox")
    assert sim_bed.cli("up", "--config", str(sim_bed.config)).returncode == 0
    before = json.loads(sim_bed.cli("status", "--json", "--config", str(sim_bed.config)).stdout)
    air = str(sim_bed.sim_status()["air_netns"])
    lease = subprocess.run(["ip", "netns", "exec", air, "busybox", "udhcpc", "-i", "air0", "-n", "-q", "-f",
                            "-s", "/bin/true"], capture_output=True, text=True, timeout=30)
    assert lease.returncode == 0, lease.stdout + lease.stderr
    assert "192.168.10." in lease.stdout + lease.stderr
    after = json.loads(sim_bed.cli("status", "--json", "--config", str(sim_bed.config)).stdout)
    sh0, sh1 = before["interface_state"]["shaping"], after["interface_state"]["shaping"]
    assert sh1["class_packets"] > sh0["class_packets"] and sh1["class_bytes"] > sh0["class_bytes"]
    assert sh1["direct_packets"] == sh0["direct_packets"]


@pytest.fixture
def plain_iface() -> Iterator[str]:
    """A veth in this namespace (peer in a scratch namespace), standing in for any hostapd radio."""
    name = f"r2p{os.getpid() % 10000}"
    peer_ns = f"{name}-peer"
    subprocess.run(["ip", "netns", "add", peer_ns], check=True)
    subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", "peer0", "netns", peer_ns],
                   check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], check=False)
        subprocess.run(["ip", "netns", "del", peer_ns], check=False)


@pytest.mark.root
def test_chip_disabled_uses_an_existing_interface_and_keeps_foreign_addresses(
        run_cli, tmp_path: Path, plain_iface: str) -> None:  # type: ignore[no-untyped-def]
    """chip.enabled = false: no chip steps; down removes only the addresses up added."""
    need_binary("hostapd")
    subprocess.run(["ip", "addr", "add", "10.55.0.1/24", "dev", plain_iface], check=True)
    cfg = tmp_path / "plain.toml"
    cfg.write_text(f'[chip]\nenabled = false\n[ap]\ninterface = "{plain_iface}"\ndriver = "wired"\n'
                   'passphrase = "correct horse"\naddress6 = ""\n[dhcp]\nenabled = false\n')
    up = run_cli("up", "--config", str(cfg))
    assert up.returncode == 0, up.stderr
    assert "chip" not in up.stdout
    st = json.loads(run_cli("status", "--json", "--config", str(cfg)).stdout)
    assert st["chip"] == {"enabled": False} and st["hostapd"]["state"] == "ENABLED"
    assert sorted(st["interface_state"]["addresses"]) == ["10.55.0.1/24", "192.168.10.1/24"]
    assert st["interface_state"]["shaping"]["kind"] is None  # shaping is off by default
    assert run_cli("down", "--config", str(cfg)).returncode == 0
    shown = subprocess.run(["ip", "-o", "addr", "show", "dev", plain_iface], capture_output=True, text=True).stdout
    assert "10.55.0.1/24" in shown and "192.168.10.1" not in shown


@pytest.mark.root
def test_station_mode_up_and_down(sim_bed: SimBed) -> None:
    """`up --sta` sets the chip to station mode and runs our wpa_supplicant on wlan0; down stops it."""
    need_binary("wpa_supplicant")
    sim_bed.write_config('[sta]\nenabled = true\nssid = "Upstream"\npassphrase = "upstream pass"\n')
    up = sim_bed.cli("up", "--sta", "--config", str(sim_bed.config))
    assert up.returncode == 0, up.stderr
    st = json.loads(sim_bed.cli("status", "--json", "--config", str(sim_bed.config)).stdout)
    assert st["mode"] == "sta" and st["interface"] == "wlan0"
    assert st["wpa_supplicant"]["ssid"] == "Upstream" and st["wpa_supplicant"]["wpa_state"]
    assert st["hostapd"] is None and st["daemons"]["wpa_supplicant"]["pid"]
    assert sim_bed.sim_status()["wifi_mode"] == "sta"
    ap = sim_bed.cli("up", "--ap", "--config", str(sim_bed.config))
    assert ap.returncode == 2 and "down" in ap.stderr  # no silent mode switch
    assert sim_bed.cli("down", "--config", str(sim_bed.config)).returncode == 0
    assert sim_bed.pid("wpa_supplicant") is None and sim_bed.sim_status()["wifi_mode"] == "off"


@pytest.mark.root
def test_station_gets_address_route_and_dns_from_the_upstream_dhcp_server(sim_bed: SimBed) -> None:
    """`up --sta`: udhcpc leases from a DHCP server "over the air"; address, default route, DNS set; down undoes all."""
    need_binary("wpa_supplicant")
    need_binary("dnsmasq")
    need_binary("busybox")
    resolv = sim_bed.root / "resolv.conf"
    resolv.write_text("nameserver 9.9.9.9\n")
    sim_bed.env["R2WIFI_RESOLV_CONF"] = str(resolv)
    sim_bed.write_config('[sta]\nenabled = true\nssid = "Upstream"\npassphrase = "upstream pass"\n')
    air = str(sim_bed.sim_status()["air_netns"])
    up = sim_bed.cli("up", "--sta", "--config", str(sim_bed.config))
    assert up.returncode == 0, up.stderr
    netns = str(sim_bed.sim_status()["netns"])
    subprocess.run(["ip", "-n", air, "addr", "add", "10.66.0.1/24", "dev", "airw0"], check=True)
    server = subprocess.Popen(["ip", "netns", "exec", air, "dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                               "--port=0", "--interface=airw0", "--bind-interfaces", "--no-ping",
                               "--dhcp-range=10.66.0.50,10.66.0.99,1h", "--dhcp-option=3,10.66.0.1",
                               "--dhcp-option=6,10.66.0.1",
                               f"--dhcp-leasefile={sim_bed.root / 'upstream.leases'}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 45
        lease = None
        while lease is None and time.monotonic() < deadline:
            st = json.loads(sim_bed.cli("status", "--json", "--config", str(sim_bed.config)).stdout)
            lease = st.get("dhcp_lease")
            time.sleep(0.3)
        assert lease, (sim_bed.state / "logs" / "dhcpc-wlan0.log").read_text()
        assert lease["address"].startswith("10.66.0.") and lease["address"].endswith("/24")
        assert lease["router"] == "10.66.0.1" and lease["dns"] == ["10.66.0.1"]
        shown = subprocess.run(["ip", "-n", netns, "-o", "addr", "show", "dev", "wlan0"],
                               capture_output=True, text=True).stdout
        assert lease["address"] in shown
        route = subprocess.run(["ip", "-n", netns, "route", "show", "default"], capture_output=True, text=True).stdout
        assert "via 10.66.0.1 dev wlan0" in route and "metric 600" in route
        assert resolv.read_text().endswith("nameserver 10.66.0.1\n")
        text = sim_bed.cli("status", "--config", str(sim_bed.config)).stdout
        assert f"DHCP:      {lease['address']} via 10.66.0.1, DNS 10.66.0.1" in text
        down = sim_bed.cli("down", "--config", str(sim_bed.config))
        assert down.returncode == 0, down.stderr
        assert resolv.read_text() == "nameserver 9.9.9.9\n"  # the original is back
        assert sim_bed.pid("dhcpc", "wlan0") is None
        assert not (sim_bed.state / "ap" / "lease-wlan0.json").exists()
        assert not list((sim_bed.state / "conf").glob("dhcpc-*"))  # the hook script is gone too
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.root
def test_bridge_mode_enslaves_and_releases_the_interface(run_cli, tmp_path: Path, plain_iface: str) -> None:  # type: ignore[no-untyped-def]
    """nat.bridge: the AP interface joins the bridge (no addresses, no DHCP) and leaves it on down."""
    need_binary("hostapd")
    bridge = f"{plain_iface}br"
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    try:
        cfg = tmp_path / "bridge.toml"
        cfg.write_text(f'[chip]\nenabled = false\n[ap]\ninterface = "{plain_iface}"\ndriver = "wired"\n'
                       f'passphrase = "correct horse"\n[nat]\nbridge = "{bridge}"\n')
        up = run_cli("up", "--config", str(cfg))
        assert up.returncode == 0, up.stderr
        shown = subprocess.run(["ip", "-o", "link", "show", plain_iface], capture_output=True, text=True).stdout
        assert f"master {bridge}" in shown
        st = json.loads(run_cli("status", "--json", "--config", str(cfg)).stdout)
        assert st["interface_state"]["addresses"] == [] and "dnsmasq" not in st["daemons"]
        assert run_cli("down", "--config", str(cfg)).returncode == 0
        shown = subprocess.run(["ip", "-o", "link", "show", plain_iface], capture_output=True, text=True).stdout
        assert "master" not in shown
    finally:
        subprocess.run(["ip", "link", "del", bridge], check=False)


@pytest.mark.root
def test_hostapd_failure_is_one_line_with_its_log(run_cli, tmp_path: Path, plain_iface: str) -> None:  # type: ignore[no-untyped-def]
    """hostapd refusing the interface (nl80211 on a veth): exit 2, one line naming hostapd and its log."""
    need_binary("hostapd")
    cfg = tmp_path / "nl.toml"
    cfg.write_text(f'[chip]\nenabled = false\n[ap]\ninterface = "{plain_iface}"\n'
                   'passphrase = "correct horse"\n[dhcp]\nenabled = false\n')
    res = run_cli("up", "-q", "--config", str(cfg))
    assert res.returncode == 2
    err = res.stderr.strip()
    assert "\n" not in err and "hostapd did not come up" in err and f"hostapd-{plain_iface}.log" in err
    assert "nl80211" in err  # the telling line of hostapd's log
    assert "correct horse" not in err and "Traceback" not in err
    assert run_cli("down", "--config", str(cfg)).returncode == 0
