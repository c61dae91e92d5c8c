"""``r2wifi status --watch``: a live view of the AP and its clients (rich, imported only here).

Rules: the view is redrawn from a fresh status every ``interval`` seconds (on a terminal in place; into a
pipe or file one view after the other); Ctrl-C (SIGINT) ends it
with exit code 0 and the terminal restored; a status that fails shows its error in the view
instead of ending it. The row content comes from :mod:`r2wifi.service.clients` (one home).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def render(st: dict[str, Any]) -> Any:
    """A rich renderable of one status (``ApController.status()``)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from r2wifi.service.clients import STATION_COLUMNS, station_cells

    hp = st.get("hostapd") or {}
    head = f"state {st.get('state', '?')}"
    if st.get("problems"):
        head += ": " + "; ".join(st["problems"])
    if hp.get("ssid"):
        head += f"   SSID {hp['ssid']}  channel {hp.get('channel')}  ({hp.get('state')})"
    sup = st.get("supervisor")
    if sup:
        head += f"   supervisor {sup.get('state', '?')}" + (" DEGRADED" if sup.get("degraded") else "")
    table = Table(title=f"{len(st.get('stations') or [])} client(s) on {st.get('interface')}",
                  title_justify="left")
    for col in STATION_COLUMNS:
        table.add_column(col, justify="right" if col in ("signal", "rx", "tx") else "left")
    for sta in st.get("stations") or []:
        table.add_row(*station_cells(sta))
    stamp = Text(time.strftime("%H:%M:%S") + "  (Ctrl-C to quit)", style="dim")
    return Group(Text(head, style="bold"), table, stamp)


def watch(get_status: Callable[[], dict[str, Any]], interval: float) -> int:
    """Redraw in place on a terminal; elsewhere (a pipe, a log) print one view per interval."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    def current() -> Any:
        try:
            return render(get_status())
        except Exception as err:  # noqa: BLE001 - the view stays up; the error is shown in it
            return Text(f"status failed: {' '.join(str(err).split()) or type(err).__name__}", style="red")

    console = Console()
    try:
        if not console.is_terminal:
            while True:
                console.print(current())
                console.file.flush()
                time.sleep(interval)
        with Live(current(), console=console, auto_refresh=False, screen=False) as live:
            while True:
                time.sleep(interval)
                live.update(current(), refresh=True)
    except KeyboardInterrupt:
        return 0
