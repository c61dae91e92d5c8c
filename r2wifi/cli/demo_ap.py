"""The rest of ``r2wifi demo`` after the chip: the AP, a station joining it, ``status`` and ``diagnose``.

Theory of operation: with root the simulator runs in network namespaces (its ``ap0`` is one end of a
veth pair whose peer ``air0`` lives in the air namespace, :mod:`r2wifi.sim.net`). The demo then runs,
through the same command code a user runs (in-process :func:`r2wifi.cli.main.main`):

1. ``up --ap`` with a demo configuration (simulator backend, the demo's firmware set, a random
   passphrase that is never printed): hostapd and dnsmasq on ``ap0``;
2. a station in the air namespace: ``wpa_supplicant -Dwired`` on ``air0`` announces itself with
   EAPOL-Start, which makes the AP's hostapd (``driver=wired`` on the simulator's veth) list it as a
   station (a WPA2 4-way handshake needs a radio: ``r2wifi sim start --cuse --radio hwsim``), and
   ``busybox udhcpc`` gets a lease from dnsmasq under the host name ``demo-phone``;
3. ``status``: the client with its MAC, address and host name;
4. ``diagnose`` over r2wifi's captured logs of this session: the verdict, and (:func:`wired_note`) why it
   counts no station connect on the wired simulator (hostapd logs no association there) with the lease
   dnsmasq logged instead; ``status`` says the same of the station (authorization does not apply);
5. ``down`` (by :func:`take_down`, from the demo's cleanup).

Without root only the chip steps run, and :func:`why_not` says why the rest is skipped. Each step's
outcome is recorded; a step that fails ends the story there with its one-line reason.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATION_HOSTNAME = "demo-phone"
STATION_WAIT = 15.0  # seconds for hostapd to list the station


def why_not() -> str | None:
    """Why the AP part cannot run here (None: it can)."""
    if os.geteuid() != 0:
        return "the AP, a joining station and diagnose need root (the simulator's interfaces live in network namespaces)"
    missing = [b for b in ("hostapd", "dnsmasq") if shutil.which(b) is None]
    if missing:
        return f"the AP needs {' and '.join(missing)} (Debian packages hostapd, dnsmasq-base)"
    return None


def _cli(argv: list[str]) -> tuple[int, str, str]:
    from r2wifi.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["--backend", "sim", *argv])
    return rc, out.getvalue().strip(), err.getvalue().strip()


def write_config(base: Path, fw: Path) -> Path:
    from r2wifi.fsutil import atomic_write

    path = base / "r2wifi.toml"
    text = ("[chip]\n"
            'backend = "sim"\n'
            f'firmware_dir = "{fw}"\n'
            "[ap]\n"
            'ssid = "r2wifi-demo"\n'
            f'passphrase = "{secrets.token_urlsafe(12)}"\n'
            "[dhcp]\n"
            "dns_port = 0\n"
            "[log]\n"
            'dir = "state"\n')  # the session's logs stay with its state, where step 4 diagnoses them
    atomic_write(path, text, mode=0o600)
    return path


def _status(cfg: Path) -> dict[str, Any]:
    rc, out, err = _cli(["status", "--json", "--config", str(cfg)])
    if rc != 0:
        return {"error": err or out}
    data = json.loads(out)
    return data if isinstance(data, dict) else {}


def _join(base: Path, air: str, cfg: Path) -> tuple[str, str]:
    """A station on air0: EAPOL-Start (hostapd lists it), then a DHCP lease. Returns (result, error)."""
    wpas = shutil.which("wpa_supplicant")
    if wpas is None:
        return "", "skipped: wpa_supplicant is not installed (Debian package wpasupplicant)"
    conf = base / "air-station.conf"
    conf.write_text("ap_scan=0\nnetwork={\n key_mgmt=IEEE8021X\n eap=MD5\n identity=\"demo\"\n"
                    " password=\"demo\"\n eapol_flags=0\n}\n")
    proc = subprocess.Popen(["ip", "netns", "exec", air, wpas, "-Dwired", "-i", "air0", "-c", str(conf)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STATION_WAIT
        stations: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not stations:
            time.sleep(0.3)
            stations = _status(cfg).get("stations") or []
        if not stations:
            return "", f"hostapd did not list the station within {STATION_WAIT:g} s"
        busybox = shutil.which("busybox")
        if busybox is None:
            return f"station {stations[0]['mac']} listed; no DHCP (busybox is not installed)", ""
        dhcp = subprocess.run(["ip", "netns", "exec", air, busybox, "udhcpc", "-i", "air0", "-n", "-q", "-f",
                               "-s", "/bin/true", "-t", "5", "-T", "1", "-x", f"hostname:{STATION_HOSTNAME}"],
                              capture_output=True, text=True, timeout=60)
        if dhcp.returncode != 0:
            return "", f"no DHCP lease: {(dhcp.stderr or dhcp.stdout).strip().splitlines()[-1:]}"
        return f"station {stations[0]['mac']} listed by hostapd, DHCP lease for {STATION_HOSTNAME}", ""
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ap_story(base: Path, fw: Path, air: str | None, state: Path,
             on_step: Callable[[str, str], None] = lambda _n, _s: None) -> dict[str, Any]:
    """Steps 1-4 of the module docstring; returns {steps, status, status_text, diagnose}."""
    cfg = write_config(base, fw)
    out: dict[str, Any] = {"config": str(cfg), "steps": []}

    def step(name: str, what: str, fn: Callable[[], tuple[str, str]]) -> bool:
        on_step(name, what)
        t0 = time.monotonic()
        result, error = fn()
        out["steps"].append({"step": name, "what": what, "seconds": round(time.monotonic() - t0, 3),
                             "output": result, "error": error})
        return not error

    def up() -> tuple[str, str]:
        rc, text, err = _cli(["up", "--ap", "--config", str(cfg)])
        lines = (text + "\n" + err).strip().splitlines()
        return (lines[-1] if lines else "up", "") if rc == 0 else ("", err.splitlines()[-1] if err else f"exit {rc}")

    if not step("up --ap", "hostapd (driver=wired on the simulator's veth) and dnsmasq on ap0", up):
        return out
    if air is None:
        out["steps"].append({"step": "station", "what": "", "seconds": 0, "output": "",
                             "error": "skipped: the simulator has no air namespace"})
    else:
        step("station joins", f"wpa_supplicant and udhcpc on air0 in {air}", lambda: _join(base, air, cfg))
    on_step("status", "r2wifi status")
    out["status"] = _status(cfg)
    out["status_text"] = _cli(["status", "--config", str(cfg)])[1]
    on_step("diagnose", "r2wifi diagnose of this session's captured logs")
    logs = [str(p) for p in (state / "logs", state / "ap" / "supervisor.log") if p.exists()]
    rc, text, err = _cli(["diagnose", "--json", *logs]) if logs else (2, "", "no logs")
    try:
        result = json.loads(text)
        out["diagnose"] = {"exit": rc, "verdict": result["verdict"],
                           "findings": [f"{f['severity']} {f['code']} {f['title']}" for f in result["findings"]]}
        note = wired_note(out["status"], result, state / "logs")
        if note:
            out["diagnose"]["note"] = note
    except (ValueError, KeyError, TypeError):
        out["diagnose"] = {"exit": rc, "error": err or "no result"}
    return out


def wired_note(status: dict[str, Any], diagnosis: dict[str, Any], logs: Path) -> str | None:
    """Why ``diagnose`` counts no station although one joined: on the wired simulator hostapd logs no
    802.11 association or handshake (it only saw EAPOL-Start); the join is in dnsmasq's log. None when
    hostapd did not run wired, or diagnose counted every listed station."""
    if ((status.get("hostapd") or {}).get("driver") != "wired"
            or int((diagnosis.get("metrics") or {}).get("stations") or 0) >= len(status.get("stations") or [])):
        return None
    leased = []
    dhcp = "\n".join(p.read_text(errors="replace") for p in sorted(logs.glob("dnsmasq*.log")))
    for sta in status.get("stations") or []:
        if sta.get("ip") and re.search(rf"DHCPACK\(\S+\) {re.escape(sta['ip'])} {re.escape(sta['mac'])}", dhcp):
            leased.append(f"{sta['mac']} {sta['ip']}" + (f" ({sta['hostname']})" if sta.get("hostname") else ""))
    seen = f"; dnsmasq's log has its lease: {', '.join(leased)}" if leased else ""
    return ("hostapd runs with driver=wired on the simulator's veth: no 802.11 association or key handshake "
            f"to log, so diagnose counts no station connect{seen}")


def take_down(cfg: str | None) -> None:
    if cfg:
        _cli(["down", "-q", "--config", cfg])
