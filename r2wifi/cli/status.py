"""``r2wifi status [--json]``: chip, mode, interface, hostapd/wpa_supplicant, stations, shaping.

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
    parser.add_argument("--json", action="store_true", help="machine-readable output")


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
        lines.append("AP:        " + " ".join(f"{k}={v}" for k, v in hp.items()))
    wp = st.get("wpa_supplicant")
    if wp:
        lines.append("station:   " + " ".join(f"{k}={v}" for k, v in wp.items()))
    if st.get("mode") == "sta":
        lease = st.get("dhcp_lease")
        lines.append("DHCP:      " + (f"{lease['address']} via {lease.get('router') or 'no router'}, DNS "
                                      f"{' '.join(lease.get('dns') or []) or 'none'}" if lease else "no lease yet"))
    for sta in st.get("stations") or []:
        extra = " ".join(f"{k}={v}" for k, v in sta.items() if k != "mac")
        lines.append(f"client:    {sta['mac']} {extra}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from r2wifi.service.ap import ApController, load_or_default, user_errors

    cfg = load_or_default(args.config)
    with user_errors():
        st = ApController(cfg, args.backend).status()
    sys.stdout.write(json.dumps(st, indent=2, sort_keys=True) + "\n" if args.json else _text(st))
    return 0
