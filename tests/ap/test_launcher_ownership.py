"""`down` stops only a launcher r2wifi started: a chip reset by the supervisor does not make a launcher ours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.ap.conftest import SimBed
from tests.conftest import need_binary

# The supervisor's chip rung as it runs it (r2wifi/service/supervisor.py): under the AP lock, reset_chip then
# verify. Run in a child with the bed's environment (state directory, simulator backend).
_CHIP_RUNG = (
    "import sys\n"
    "from r2wifi.config import load_config\n"
    "from r2wifi.service.ap import ApController, ApLock\n"
    "ctl = ApController(load_config(sys.argv[1]), 'sim')\n"
    "with ApLock(ctl.dir):\n"
    "    ctl.reset_chip()\n"
    "    ctl.verify()\n"
)


def _status(bed: SimBed) -> dict[str, Any]:
    out = bed.cli("status", "--json", "--config", str(bed.config))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert isinstance(data, dict)
    return data


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.mark.root
def test_down_after_a_chip_reset_keeps_a_launcher_up_did_not_start(sim_bed: SimBed) -> None:
    need_binary("hostapd")
    need_binary("dnsmasq")
    fw = f"{sim_bed.root}/fw/etc/firmware"
    for args in (("chip", "init"), ("chip", "launch", "--daemon", "-p", fw)):
        r = sim_bed.cli(*args)
        assert r.returncode == 0, (args, r.stderr)
    up = sim_bed.cli("up", "--config", str(sim_bed.config))
    assert up.returncode == 0, up.stderr
    before = _status(sim_bed)
    launcher = before["chip"]["launcher_pid"]
    hostapd = before["daemons"]["hostapd"]["pid"]
    assert launcher and _alive(launcher) and hostapd

    rung = subprocess.run([sys.executable, "-c", _CHIP_RUNG, str(sim_bed.config)], capture_output=True, text=True,
                          env=sim_bed.env, cwd=sim_bed.root, timeout=180)
    assert rung.returncode == 0, rung.stderr
    after = _status(sim_bed)
    assert after["state"] == "up", after.get("problems")
    assert after["daemons"]["hostapd"]["pid"] != hostapd  # the rung did run: every daemon was restarted
    assert after["chip"]["launcher_pid"] == launcher  # served by the running launcher, no new one

    down = sim_bed.cli("down", "--config", str(sim_bed.config))
    assert down.returncode == 0, down.stderr
    assert "stopped launcher" not in down.stdout
    assert _alive(launcher), "down stopped the launcher that was running before up"
    os.kill(launcher, 15)
