"""What a board-twin test does in the guest: r2wifi commands, its config, the peer radio, logs.

Used by tests/twin (the ``guest`` fixture) and bench/twin.py. :meth:`Guest.need_chip` FAILS the
calling test (pytest.fail) with the reason when the simulated chip is not there: never a silent skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from twin.session import SIM_START, Twin
from twin.vm import Result

REPO = Path(__file__).resolve().parents[2]
PEER = str(REPO / "tools" / "twin" / "guest" / "peer.py")
CONFIG = "/etc/r2wifi/r2wifi.toml"
SSID = "r2twin"
PASSPHRASE = "twin-horse-0815"
#: waits in the guest for a regex in a file (python: the guest has no sleep-loop-friendly tools to rely on)
WAITER = ("import re,sys,time\na=time.monotonic();p,rx,lim=sys.argv[1],re.compile(sys.argv[2]),float(sys.argv[3])\n"
          "while time.monotonic()-a<lim:\n try:\n  s=open(p,errors='replace').read()\n except OSError: s=''\n"
          " if rx.search(s): print(time.monotonic()-a);break\n time.sleep(0.2)\nelse: print(-1)\n")


class Guest:
    """What a twin test does in the guest."""

    def __init__(self, tw: Twin, name: str) -> None:
        self.tw = tw
        self.vm = tw.vm
        self.out = tw.workdir / name
        self.out.mkdir(parents=True, exist_ok=True)

    def need_chip(self) -> None:
        if self.tw.chip != "ok":
            pytest.fail(f"needs the simulated chip behind real /dev nodes: {self.tw.chip}")

    def sh(self, line: str, timeout: float = 300) -> Result:
        return self.vm.run(line, timeout=timeout)

    def r2(self, *args: str, timeout: float = 300) -> Result:
        """``r2wifi ARGS`` as root in the guest, the real backend auto-detected (no --backend)."""
        return self.vm.run(["r2wifi", *args], timeout=timeout)

    def write_config(self, body: str) -> None:
        """The guest's /etc/r2wifi/r2wifi.toml (0600), through a file in the shared work dir."""
        src = self.out / "r2wifi.toml"
        src.write_text(body)
        src.chmod(0o600)
        self.vm.run(["install", "-D", "-m", "600", str(src), CONFIG], timeout=60, check=True)

    def ap_config(self, *, security: str = "wpa2", chip: bool = True, interface: str = "",
                  extra: str = "") -> None:
        chip_part = '[chip]\nfirmware_dir = "/etc/firmware"\n' if chip else "[chip]\nenabled = false\n"
        self.write_config(
            f"{chip_part}\n[ap]\ninterface = \"{interface}\"\nssid = \"{SSID}\"\npassphrase = \"{PASSPHRASE}\"\n"
            f"security = \"{security}\"\nchannel = 1\naddress6 = \"\"\n\n[dhcp]\ndns_port = 0\n\n"
            f"[supervisor]\nbackoff_initial = 1.0\n{extra}")

    def peer(self, *args: str, timeout: float = 400) -> dict[str, Any]:
        res = self.vm.run(["python3", PEER, *args], timeout=timeout)
        lines = res.out.strip().splitlines()
        try:
            data: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        except ValueError:
            data = {}
        data.setdefault("ok", False)
        data["_rc"], data["_err"] = res.rc, res.err[-800:]
        return data

    def station(self, *, sae: bool = False) -> dict[str, Any]:
        return self.peer("station", "--ssid", SSID, "--passphrase", PASSPHRASE, "--out", str(self.out),
                         *(["--sae"] if sae else []))

    def status(self) -> dict[str, Any]:
        res = self.r2("status", "--json")
        try:
            return dict(json.loads(res.out))
        except ValueError:
            return {"_rc": res.rc, "_err": res.err[-500:]}

    def log_of(self, daemon: str) -> str:
        """The log r2wifi captured for ``daemon`` (named by ``status --json``), read in the guest."""
        info = (self.status().get("daemons") or {}).get(daemon) or {}
        path = info.get("log") if isinstance(info, dict) else None
        if not path:
            return ""
        return self.vm.run(["cat", str(path)], timeout=60).out

    def kmsg(self) -> str:
        return self.vm.run(["dmesg"], timeout=60).out

    def wait_log(self, path: str | Path, regex: str, limit: float) -> float:
        """Seconds (guest clock) until ``regex`` shows up in ``path``; -1 when it did not within ``limit``."""
        res = self.vm.run(["python3", "-c", WAITER, str(path), regex, str(limit)], timeout=limit + 120)
        try:
            return float(res.out.strip())
        except ValueError:
            return -1.0

    def restart_chip(self, *extra: str) -> Result:
        """A fresh simulated chip (``sim stop`` + the session's ``sim start``, ``extra`` options last).

        It stands for a rebooted board, so the kernel log starts over too (``dmesg -c``): a driver lockout
        provoked before (a second DO_MODULE_INIT lasts until reboot) is not this chip's history."""
        self.r2("sim", "stop", timeout=300)
        self.vm.run(["dmesg", "-c"], timeout=60)
        return self.vm.run([*SIM_START, *extra], timeout=300)

    def cleanup(self) -> None:
        self.vm.run(["pkill", "-f", "^/usr/bin/python3 /usr/bin/r2wifi run"], timeout=60)
        self.r2("down", timeout=300)
        self.peer("stop", timeout=120)
