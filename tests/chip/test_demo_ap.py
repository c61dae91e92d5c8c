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
    sta = clients[0]
    assert sta["ip"].startswith("192.168.10.") and sta["mac"] in steps["station joins"]["output"]
    assert ap["status"]["state"] == "up" and ap["status"]["hostapd"]["state"] == "ENABLED"
    # the wired simulator: no radio, no 802.11 authorization -> null (does not apply), said so in the text
    assert ap["status"]["hostapd"]["driver"] == "wired" and ap["status"]["hostapd"]["channel"] is None
    assert sta["authorized"] is None and sta["signal_dbm"] is None and ap["status"]["hostapd"]["num_stations"] == 1
    line = next(ln for ln in ap["status_text"].splitlines() if sta["mac"] in ln)
    assert sta["ip"] in line and demo_ap.STATION_HOSTNAME in line and "wired link (802.3)" in line
    assert "not authorized" not in ap["status_text"]
    assert ap["diagnose"]["verdict"]["status"] in ("ok", "warning", "error") and ap["diagnose"]["exit"] in (0, 1)
    # diagnose counts no connect on a wired link (hostapd logs no association): the demo says why, with the lease
    assert "driver=wired" in ap["diagnose"]["note"] and f"{sta['mac']} {sta['ip']}" in ap["diagnose"]["note"]
    assert _running_from(res["dir"]) == []  # hostapd, dnsmasq, launcher, simulator: all gone


def test_without_root_the_reason_is_given(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    why = demo_ap.why_not()
    assert why is not None and "root" in why


def test_wired_note_only_when_diagnose_misses_a_wired_station(tmp_path):  # type: ignore[no-untyped-def]
    """The note explains a wired AP's uncounted station (with the lease dnsmasq logged); nothing otherwise."""
    sta = {"mac": "02:00:00:00:00:07", "ip": "192.168.10.107", "hostname": "p"}
    (tmp_path / "dnsmasq-ap0.log").write_text(f"1.0: dnsmasq-dhcp[9]: 1 DHCPACK(ap0) {sta['ip']} {sta['mac']} p\n")
    wired = {"hostapd": {"driver": "wired"}, "stations": [sta]}
    note = demo_ap.wired_note(wired, {"metrics": {"stations": 0}}, tmp_path)
    assert note and f"{sta['mac']} {sta['ip']} (p)" in note
    assert demo_ap.wired_note(wired, {"metrics": {"stations": 1}}, tmp_path) is None
    assert demo_ap.wired_note({**wired, "hostapd": {"driver": "nl80211"}}, {"metrics": {"stations": 0}}, tmp_path) is None
    (tmp_path / "dnsmasq-ap0.log").write_text("")
    assert "lease" not in (demo_ap.wired_note(wired, {"metrics": {}}, tmp_path) or "lease")
