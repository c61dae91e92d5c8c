"""`r2wifi demo` tells the whole story as root: AP up, a station joins in the air namespace, status shows
it with its address and host name, diagnose gives the session's verdict, and nothing is left running."""

from __future__ import annotations

import json
import os

import pytest

from r2wifi.cli import demo_ap
from tests.conftest import need_binary


def _running_from(path: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if path.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.root
def test_demo_as_root_goes_from_chip_to_client_and_verdict(run_cli):  # type: ignore[no-untyped-def]
    for binary in ("hostapd", "dnsmasq", "wpa_supplicant", "busybox"):
        need_binary(binary)
    r = run_cli("demo", "--json", "--timing", "fast", timeout=240)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["ok"] is True and "ap_skipped" not in res
    ap = res["ap"]
    steps = {s["step"]: s for s in ap["steps"]}
    assert steps["up --ap"]["error"] == "" and "ap up on ap0" in steps["up --ap"]["output"]
    assert steps["station joins"]["error"] == "", steps["station joins"]
    clients = ap["status"]["stations"]
    assert len(clients) == 1 and clients[0]["hostname"] == demo_ap.STATION_HOSTNAME
    assert clients[0]["ip"].startswith("192.168.10.")
    assert ap["status"]["state"] == "up" and ap["status"]["hostapd"]["state"] == "ENABLED"
    assert demo_ap.STATION_HOSTNAME in ap["status_text"]
    assert ap["diagnose"]["verdict"]["status"] in ("ok", "warning", "error") and ap["diagnose"]["exit"] in (0, 1)
    assert _running_from(res["dir"]) == []  # hostapd, dnsmasq, launcher, simulator: all gone


def test_without_root_the_reason_is_given(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    why = demo_ap.why_not()
    assert why is not None and "root" in why
