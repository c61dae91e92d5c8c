"""``r2wifi status [--json | --watch [SECONDS]]``: chip, mode, interface, hostapd/wpa_supplicant, clients.

``--watch`` is a live view (rich, redrawn every SECONDS, default 2; Ctrl-C ends it with exit 0).

``--json`` schema (``version`` 1; :data:`r2wifi.service.clients.SCHEMA_VERSION`; absent facts are null,
numbers are numbers)::

    version        int     the schema version of this object
    state          str     up | degraded | down;  up: bool;  problems: [str]
    up_since       float   epoch seconds the bring-up finished | null
    mode           str     ap | sta | null;  interface: str;  netns: str|null;  backend: str
    chip           {launcher_alive: bool, powered: bool, launcher_pid: int|null} | {enabled: false}
    interface_state {index, up, mac, addresses: [str], shaping: {...}} | null
    daemons        {hostapd|dnsmasq|wpa_supplicant|dhcpc|supervisor: {pid: int|null, log: str}}
    supervisor     see below | null
    hostapd        {state: str, ssid: str, bssid: str, channel: int|null, freq_mhz: int|null, num_stations: int,
                    driver: str|null (wired: no radio, channel and freq_mhz null)} | null
    stations       [{mac: str, ip: str|null, hostname: str|null (both from dnsmasq's lease),
                     authorized: bool|null (null: wired driver, no 802.11 authorization),
                     flags: [str], signal_dbm: int|null, connected_seconds: int|null,
                     inactive_ms: int|null, rx_bytes, tx_bytes, rx_packets, tx_packets: int|null,
                     rx_rate_mbps, tx_rate_mbps: float|null, identity: str|null (802.1X)}]
    wpa_supplicant {wpa_state, ssid, bssid, freq, key_mgmt, ip_address: str} | null  (station mode)
    dhcp_lease     station mode only: the DHCP client's lease

``state`` is ``up`` only when the health check (:meth:`ApController.problems`) finds nothing;
otherwise ``degraded`` followed by the problems (``problems`` in JSON; ``up`` is then false).
``supervisor`` (JSON; a line in the text) is what a running ``r2wifi run`` last published: its
state (watching / backoff / recovering), ``degraded`` with ``degraded_reason`` and ``retry_every``
once the recovery budget is exhausted, ``recoveries_in_window``, ``limit``, ``last_recovery``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (default /etc/r2wifi/r2wifi.toml)")
    parser.add_argument("--json", action="store_true", help="machine-readable output (schema: module header)")
    parser.add_argument("--watch", metavar="SECONDS", nargs="?", const=2.0, type=_interval, default=None,
                        help="live view, refreshed every SECONDS (default 2); Ctrl-C ends it")


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a number of seconds") from None
    if not 0.2 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text[:20]!r}: between 0.2 and 3600 seconds")
    return value


def _text(st: dict[str, Any]) -> str:
    state = st.get("state") or ("up" if st["up"] else "down")
    lines = [f"state:     {state}" + (f" ({st['mode']})" if st.get("mode") else "")
             + (": " + "; ".join(st["problems"]) if st.get("problems") else "")]
    sup = st.get("supervisor")
    if sup:
        line = f"supervisor: pid {sup['pid']}, {sup.get('state', '?')}"
        if sup.get("degraded"):
            line += f", DEGRADED: {sup.get('degraded_reason')}"
        last = sup.get("last_recovery")
        if last:
            line += f"; last recovery {last['step']} {'ok' if last.get('ok') else 'FAILED'} ({last.get('reason')})"
        lines.append(line)
    chip = st.get("chip") or {}
    if chip.get("enabled") is False:
        lines.append("chip:      not used (chip.enabled = false)")
    else:
        lines.append(f"chip:      launcher {'running' if chip.get('launcher_alive') else 'not running'}, "
                     f"{'powered' if chip.get('powered') else 'not powered'}")
    iface = st.get("interface_state")
    ns = f" netns {st['netns']}" if st.get("netns") else ""
    if iface and "error" not in iface:
        lines.append(f"interface: {st['interface']}{ns} {'UP' if iface['up'] else 'DOWN'} {iface['mac']} "
                     + " ".join(iface.get("addresses", [])))
        sh = iface.get("shaping") or {}
        if sh.get("kind"):
            lines.append(f"shaping:   {sh['kind']}: {sh['class_packets']} packets / {sh['class_bytes']} bytes "
                         f"shaped, {sh['direct_packets']} unshaped, {sh['drops']} dropped")
        else:
            lines.append("shaping:   off")
    else:
        lines.append(f"interface: {st['interface']}{ns} absent")
    for name, d in (st.get("daemons") or {}).items():
        lines.append(f"{name + ':':<10} " + (f"pid {d['pid']}" if d["pid"] else "not running") + f", log {d['log']}")
    hp = st.get("hostapd")
    if hp:
        lines.append("AP:        " + " ".join(f"{k}={v}" for k, v in hp.items() if v is not None))
    wp = st.get("wpa_supplicant")
    if wp:
        lines.append("station:   " + " ".join(f"{k}={v}" for k, v in wp.items()))
    if st.get("mode") == "sta":
        lease = st.get("dhcp_lease")
        lines.append("DHCP:      " + (f"{lease['address']} via {lease.get('router') or 'no router'}, DNS "
                                      f"{' '.join(lease.get('dns') or []) or 'none'}" if lease else "no lease yet"))
    from r2wifi.service.clients import station_line

    for sta in st.get("stations") or []:
        lines.append(f"client:    {station_line(sta)}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from r2wifi.errors import UserError
    from r2wifi.service.ap import ApController, load_or_default, user_errors

    cfg = load_or_default(args.config)
    if args.watch is not None:
        from r2wifi.cli.status_watch import watch

        if args.json:
            raise UserError("--watch and --json do not go together (poll 'status --json' instead)")
        return watch(lambda: ApController(cfg, args.backend).status(), args.watch)
    with user_errors():
        st = ApController(cfg, args.backend).status()
    sys.stdout.write(json.dumps(st, indent=2, sort_keys=True) + "\n" if args.json else _text(st))
    return 0
