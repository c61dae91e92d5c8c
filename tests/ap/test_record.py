"""The typed up.json record and the per-mode step tables of r2wifi.service.ap (no root needed)."""

from __future__ import annotations

import json
from pathlib import Path

from r2wifi.config import default_config
from r2wifi.service.ap import MODES, ApController, UpRecord


def test_record_round_trips_and_keeps_unknown_keys(tmp_path: Path) -> None:
    ctl = ApController(default_config(), "sim", directory=tmp_path)
    rec = UpRecord(mode="ap", interface="ap0", addresses=["192.168.10.1/24"], shaping={"kind": "htb", "rate": "8mbit"})
    rec["future_key"] = {"x": 1}  # what a newer version wrote: kept, written back
    ctl.write_record(rec)
    back = ctl.read_record()
    assert back == rec and back.extra == {"future_key": {"x": 1}} and back["addresses"] == ["192.168.10.1/24"]
    assert json.loads(ctl.record_path.read_text())["future_key"] == {"x": 1}


def test_record_from_an_older_file_takes_defaults(tmp_path: Path) -> None:
    ctl = ApController(default_config(), "sim", directory=tmp_path)
    ctl.record_path.write_text(json.dumps({"mode": "sta", "interface": "wlan0", "daemons": ["wpa_supplicant"]}))
    rec = ctl.read_record()
    assert (rec.mode, rec.interface, rec.daemons) == ("sta", "wlan0", ["wpa_supplicant"])
    assert rec.up_at is None and rec.addresses == [] and rec.nat is None and rec.get("missing") is None
    ctl.record_path.write_text(json.dumps({"addresses": None, "daemons": "hostapd"}))
    assert ctl.read_record().addresses == [] and ctl.read_record().daemons == []
    for junk in ("[1, 2]", "not json", ""):
        ctl.record_path.write_text(junk)
        assert ctl.read_record() == UpRecord()


def test_modes_are_data() -> None:
    cfg = default_config()
    ctl = ApController(cfg, "sim", directory=Path("/nonexistent"))
    assert ctl.expected_daemons("ap") == ["hostapd", "dnsmasq"] and ctl.expected_daemons("sta") == ["wpa_supplicant", "dhcpc"]
    for mode, steps in MODES.items():
        ctl.mode = mode
        assert ctl.daemon_name == steps.main and ctl.interface == getattr(cfg, steps.section).interface
        assert all(callable(getattr(ctl, name)) for name in (*steps.up, *steps.start))


def _lazy_imports(cls: type, names: list[str]) -> set[str]:
    """The r2wifi modules the methods ``names`` of ``cls`` import inside their bodies."""
    import ast
    import importlib.util
    import inspect
    import textwrap

    found: set[str] = set()
    for name in names:
        tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(cls, name))))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("r2wifi"):
                for alias in node.names:  # `from r2wifi.net import regdb` imports the module r2wifi.net.regdb
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if importlib.util.find_spec(node.module).submodule_search_locations  # type: ignore[union-attr]
                              and importlib.util.find_spec(sub) is not None else node.module)
    return found


def test_prefetch_covers_what_the_steps_after_the_launch_import() -> None:
    """Each mode's prefetch (imported while the launcher powers the chip) names every r2wifi module its later steps
    import (WiFi mode, interface steps, daemons), and only modules that exist."""
    import importlib.util

    from r2wifi.service.chipops import InProcessChipOps

    for mode, steps in MODES.items():
        later = ["configure_interface", *steps.interface, *steps.start]
        wanted = _lazy_imports(ApController, later) | _lazy_imports(InProcessChipOps, ["wifi"])
        wanted -= {"r2wifi.net.regdb"}  # the preflight imported it before the chip was touched
        assert wanted <= set(steps.prefetch), (mode, sorted(wanted - set(steps.prefetch)))
        assert all(importlib.util.find_spec(m) is not None for m in steps.prefetch), mode
