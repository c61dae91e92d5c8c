"""`r2wifi demo`: the whole simulated bring-up as one command, and `--keep`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from r2wifi.cli.demo import stop_launcher


def test_demo_json_brings_the_chip_to_ap_and_cleans_up(run_cli):
    """demo --json: three timed steps, chip powered in AP mode, figures add up; its temp dir is gone after."""
    r = run_cli("demo", "--json", "--timing", "fast", timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["ok"] is True
    assert [s["step"] for s in res["steps"]] == ["chip init", "chip launch --daemon", "wifi ap"]
    assert all(s["rc"] == 0 for s in res["steps"])
    assert res["chip_status"]["powered"] is True and res["chip_status"]["wifi_mode"] == "ap"
    assert abs(res["total_s"] - res["inherent_s"] - res["overhead_s"]) < 0.001
    assert res["inherent_s"] > 0
    assert not Path(res["dir"]).exists()


def test_demo_keep_leaves_a_usable_simulator(run_cli):
    """demo --keep: the simulator and launcher stay; `chip status` with the printed env shows AP mode."""
    r = run_cli("demo", "--json", "--timing", "fast", "--keep", timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    env = res["env"]
    try:
        st = run_cli("--backend", "sim", "chip", "status", "--json", env=env)
        assert st.returncode == 0, st.stderr
        data = json.loads(st.stdout)
        assert data["launcher"]["alive"] and data["wifi_mode"] == "ap"
    finally:
        if res.get("ap"):  # as root the AP is kept too
            run_cli("--backend", "sim", "down", "-q", "--config", res["ap"]["config"], env=env)
        stop_launcher(Path(env["R2WIFI_STATE_DIR"]))
        run_cli("--backend", "sim", "sim", "stop", env=env)
        import shutil

        shutil.rmtree(res["dir"], ignore_errors=True)
    assert not os.path.exists(os.path.join(env["R2WIFI_SIM_DIR"], "sim.sock"))


def test_demo_rich_output(run_cli):
    """The human output names each step and the overhead figure."""
    r = run_cli("demo", "--timing", "fast", timeout=120)
    assert r.returncode == 0, r.stderr
    for text in ("chip init", "chip launch --daemon", "wifi ap", "r2wifi overhead", "wifi.sh sleeps a fixed 15 s"):
        assert text in r.stdout
