"""A hostapd-like control socket serving recorded STATUS and STA replies (tests/data/clients)."""

from __future__ import annotations

from pathlib import Path

from tests.hostap.fakectrl import FakeDaemon

DATA = Path(__file__).resolve().parent.parent / "data" / "clients"

STATUS = """state=ENABLED
phy=phy0
freq=2437
channel=6
num_sta[0]=2
bssid[0]=02:00:00:00:01:00
ssid[0]=r2wifi-test
"""


def recorded_stations() -> dict[str, str]:
    """{mac: full STA reply} from the recorded files, in STA-FIRST order."""
    out: dict[str, str] = {}
    for name in ("sta_first.txt", "sta_next.txt"):
        text = (DATA / name).read_text()
        out[text.split("\n", 1)[0].strip()] = text
    return out


def fake_hostapd(path: Path) -> FakeDaemon:
    stas = recorded_stations()
    order = list(stas)

    def handler(cmd: str) -> str | None:
        if cmd == "PING":
            return "PONG\n"
        if cmd == "STATUS":
            return STATUS
        if cmd == "STA-FIRST":
            return stas[order[0]]
        if cmd.startswith("STA-NEXT "):
            mac = cmd.split()[1]
            i = order.index(mac) + 1 if mac in order else len(order)
            return stas[order[i]] if i < len(order) else ""
        if cmd.startswith("STA "):
            return stas.get(cmd.split()[1], "FAIL\n")
        return "UNKNOWN COMMAND\n"

    return FakeDaemon(path, handler)
