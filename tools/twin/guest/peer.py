"""The other side of the board twin's air: a station or an upstream AP on the peer hwsim radio.

Runs in the guest (stdlib only, Debian armhf python3). The peer radio is the second-lowest phy (the
simulator's radio takes the lowest as the chip's and names the next one its peer; a third radio, if
any, is left for plain-interface tests). It is moved into its own network namespace so
traffic really crosses the simulated medium. Subcommands print one JSON line:

* ``station --ssid S --passphrase P [--sae] [--hostname NAME] --out DIR``: wpa_supplicant (``-dd -t``
  log in DIR) joins, busybox udhcpc takes a lease asking for host name NAME (DHCP option 12, default
  ``twin-phone``), ping reaches the gateway. ``{"mac", "hostname", "connected", "lease", "gateway",
  "ping", "secs": {...}}``; exit 0 only when all three happened.
* ``upstream --ssid S --passphrase P --out DIR``: hostapd (WPA2, channel 1) + dnsmasq (DHCP only,
  ``--port=0``) at 10.99.0.1/24. ``{"enabled", "address"}``. hostapd's ``-dd`` log is written to
  tmpfs (RUN) and copied to DIR by ``stop``: with it written line by line to DIR over 9p, hostapd's
  authentication reply took 380 ms under load, longer than mac80211 on the station waits for it
  (a few hundred ms per try, 3 tries): the chip's wlan0 authenticated over and over and never associated.
* ``stop``: stops what this script started (pid files), copies the upstream AP's log to its DIR,
  moves the phy back, deletes the namespace.

Rules: absolute log paths (hostapd -B chdirs to /); the passphrase only goes to the 0600 config.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NS = "twpeer"
RUN = Path("/run/twpeer")
UP_ADDR = "10.99.0.1"


def sh(argv: list[str], *, ns: bool = False, check: bool = True, timeout: float = 60) -> str:
    full = ["ip", "netns", "exec", NS, *argv] if ns else argv
    proc = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)}: rc={proc.returncode} {proc.stderr.strip()[-300:]}")
    return proc.stdout


def peer_phy() -> str:
    phys = sorted(os.listdir("/sys/class/ieee80211"), key=lambda p: int(re.sub(r"\D", "", p) or 0))
    if len(phys) < 2:
        raise RuntimeError(f"need two hwsim radios, found {phys}")
    return phys[1]


def setup_ns() -> str:
    """The peer phy in namespace NS with one interface ``peer0``; returns its name."""
    RUN.mkdir(parents=True, exist_ok=True)
    if not Path(f"/run/netns/{NS}").exists():
        phy = peer_phy()
        sh(["ip", "netns", "add", NS])
        sh(["iw", "phy", phy, "set", "netns", "name", NS])
        (RUN / "phy").write_text(phy)
    out = sh(["iw", "dev"], ns=True)
    for name in re.findall(r"Interface (\S+)", out):
        if name != "peer0":
            sh(["iw", "dev", name, "del"], ns=True)
    if "Interface peer0" not in out:
        phy = (RUN / "phy").read_text().strip()
        sh(["iw", "phy", phy, "interface", "add", "peer0", "type", "managed"], ns=True)
    sh(["ip", "link", "set", "lo", "up"], ns=True)
    return "peer0"


def wait_for(pred: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return bool(pred())


def text(p: Path) -> str:
    try:
        return p.read_text(errors="replace")
    except OSError:
        return ""


def write_secret(path: Path, body: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body)


def station(ns: argparse.Namespace) -> dict[str, Any]:
    out = Path(ns.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    iface = setup_ns()
    t0 = time.monotonic()
    secs: dict[str, float] = {}
    key = "key_mgmt=SAE\n    ieee80211w=2\n    sae_password" if ns.sae else "key_mgmt=WPA-PSK\n    psk"
    conf = RUN / "wpa_supplicant.conf"
    write_secret(conf, f'ctrl_interface=/run/twpeer/wpas\nsae_pwe=2\nnetwork={{\n    ssid="{ns.ssid}"\n'
                       f'    {key}="{ns.passphrase}"\n}}\n')
    log = out / "wpa_supplicant.log"
    sh(["wpa_supplicant", "-B", "-dd", "-t", "-D", "nl80211", "-i", iface, "-c", str(conf), "-f", str(log),
        "-P", str(RUN / "wpa_supplicant.pid")], ns=True)
    connected = wait_for(lambda: "CTRL-EVENT-CONNECTED" in text(log), ns.timeout)
    secs["connect"] = round(time.monotonic() - t0, 2)
    lease = gateway = None
    ping = False
    if connected:
        t1 = time.monotonic()
        script = RUN / "udhcpc.sh"
        script.write_text('#!/bin/sh\n[ "$1" = bound ] || exit 0\nip addr add "$ip/${mask:-24}" dev "$interface"\n'
                          'echo "$ip $router" > /run/twpeer/lease\n')
        script.chmod(0o755)
        (RUN / "lease").unlink(missing_ok=True)
        res = subprocess.run(["ip", "netns", "exec", NS, "busybox", "udhcpc", "-i", iface, "-n", "-q", "-f",
                              "-t", "10", "-T", "3", "-s", str(script), "-x", f"hostname:{ns.hostname}"],
                             capture_output=True, text=True,
                             timeout=ns.timeout, check=False)
        (out / "udhcpc.log").write_text(res.stdout + res.stderr)
        got = text(RUN / "lease").split()
        if got:
            lease = got[0]
            gateway = got[1] if len(got) > 1 else None
        secs["lease"] = round(time.monotonic() - t1, 2)
        if gateway:
            t2 = time.monotonic()
            p = subprocess.run(["ip", "netns", "exec", NS, "ping", "-c", "3", "-W", "10", gateway],
                               capture_output=True, text=True, timeout=120, check=False)
            ping = p.returncode == 0
            (out / "ping.log").write_text(p.stdout + p.stderr)
            secs["ping"] = round(time.monotonic() - t2, 2)
    mac = sh(["cat", f"/sys/class/net/{iface}/address"], ns=True, check=False).strip().lower() or None
    return {"mac": mac, "hostname": ns.hostname, "connected": connected, "lease": lease, "gateway": gateway,
            "ping": ping, "secs": secs, "ok": bool(connected and lease and ping)}


def upstream(ns: argparse.Namespace) -> dict[str, Any]:
    out = Path(ns.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    iface = setup_ns()
    conf = RUN / "hostapd.conf"
    write_secret(conf, f"interface={iface}\ndriver=nl80211\nctrl_interface=/run/twpeer/hostapd\nssid={ns.ssid}\n"
                       f"hw_mode=g\nchannel=1\nwpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\n"
                       f"wpa_passphrase={ns.passphrase}\n")
    log = RUN / "upstream-hostapd.log"  # tmpfs: see the module docstring
    (RUN / "out").write_text(str(out))
    sh(["ip", "addr", "add", f"{UP_ADDR}/24", "dev", iface], ns=True, check=False)
    sh(["hostapd", "-B", "-dd", "-t", "-f", str(log), "-P", str(RUN / "hostapd.pid"), str(conf)], ns=True)
    enabled = wait_for(lambda: "AP-ENABLED" in text(log), ns.timeout)
    sh(["dnsmasq", "--conf-file=/dev/null", f"--interface={iface}", "--bind-interfaces", "--except-interface=lo",
        "--port=0", "--no-ping", "--dhcp-range=10.99.0.50,10.99.0.99,255.255.255.0,1h",
        f"--dhcp-leasefile={RUN / 'dnsmasq.leases'}", f"--pid-file={RUN / 'dnsmasq.pid'}",
        f"--log-facility={out / 'upstream-dnsmasq.log'}", "--log-dhcp"], ns=True)
    return {"enabled": enabled, "address": UP_ADDR, "ok": enabled}


def stop(_ns: argparse.Namespace) -> dict[str, Any]:
    killed = []
    for name in ("wpa_supplicant", "hostapd", "dnsmasq"):
        pidf = RUN / f"{name}.pid"
        try:
            pid = int(text(pidf).split()[0])
            os.kill(pid, signal.SIGTERM)
            killed.append(name)
        except (IndexError, ValueError, ProcessLookupError):
            pass
        pidf.unlink(missing_ok=True)
    time.sleep(0.5)
    out = text(RUN / "out").strip()
    if out and (RUN / "upstream-hostapd.log").exists():
        (Path(out) / "upstream-hostapd.log").write_bytes((RUN / "upstream-hostapd.log").read_bytes())
        (RUN / "upstream-hostapd.log").unlink()
        (RUN / "out").unlink()
    if Path(f"/run/netns/{NS}").exists():
        phy = text(RUN / "phy").strip()
        if phy:
            sh(["iw", "phy", phy, "set", "netns", "1"], ns=True, check=False)
        sh(["ip", "netns", "del", NS], check=False)
    return {"ok": True, "stopped": killed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("station", "upstream"):
        p = sub.add_parser(name)
        p.add_argument("--ssid", required=True)
        p.add_argument("--passphrase", required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--timeout", type=float, default=120)
        p.add_argument("--sae", action="store_true")
        p.add_argument("--hostname", default="twin-phone", help="station: the host name udhcpc sends")
    sub.add_parser("stop")
    ns = ap.parse_args(argv)
    try:
        res = {"station": station, "upstream": upstream, "stop": stop}[ns.cmd](ns)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        res = {"ok": False, "error": str(exc)}
    sys.stdout.write(json.dumps(res) + "\n")
    return 0 if res.get("ok") else 1


if __name__ == "__main__":
    raise SystemExit(main())
