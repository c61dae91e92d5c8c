"""Real interfaces for the simulator (root only): a network namespace and an "air" namespace.

Layout: the simulator owns namespace ``<netns>`` (default ``r2sim-<hash of sim dir>``) where the
WiFi netdevs appear on mode changes, and ``<netns>-air``. Every simulated netdev is one end of a
veth pair whose peer lives in the air namespace: ``ap0``/``mtkap0`` <-> ``air0``, ``p2p0`` <->
``airp0``, ``wlan0`` (or its renamed form) <-> ``airw0``. So ``wpa_supplicant -Dwired -i air0`` or a
DHCP client in the air namespace talks to hostapd / dnsmasq running on ``ap0`` "over the air".
A TX stall takes the air peer down (the AP interface loses carrier, traffic stops).

Rules: pyroute2 is imported here only (this module is imported only when root networking is
used); every operation is idempotent; :meth:`SimNet.destroy` removes both namespaces.
"""

from __future__ import annotations

import hashlib
from typing import Any

PEER_NAMES = {"ap": "air0", "p2p": "airp0", "sta": "airw0"}


def netns_name_for(sim_dir: str) -> str:
    return "r2sim-" + hashlib.sha256(sim_dir.encode()).hexdigest()[:8]


class SimNet:
    """Creates and removes the simulator's interfaces with pyroute2 (NetHook of the model)."""

    def __init__(self, name: str) -> None:
        from pyroute2 import netns

        self.name = name
        self.air = f"{name}-air"
        self.current: dict[str, str] = {}
        for ns in (self.name, self.air):
            if ns in netns.listnetns():  # left over by a killed simulator: start clean
                netns.remove(ns)
            netns.create(ns)
        for ns in (self.name, self.air):
            with self._ns(ns) as ipr:
                lo = ipr.link_lookup(ifname="lo")
                if lo:
                    ipr.link("set", index=lo[0], state="up")

    @staticmethod
    def _ns(name: str) -> Any:
        from pyroute2 import NetNS

        return NetNS(name)

    def sync(self, interfaces: dict[str, str], macs: dict[str, str]) -> None:
        for name in [n for n in self.current if n not in interfaces]:
            self._remove(name)
            del self.current[name]
        for name, role in interfaces.items():
            if name not in self.current:
                self._add(name, role, macs.get(name))
                self.current[name] = role

    def _add(self, name: str, role: str, mac: str | None) -> None:
        peer = PEER_NAMES[role]
        with self._ns(self.name) as ipr:
            if not ipr.link_lookup(ifname=name):
                ipr.link("add", ifname=name, kind="veth", peer={"ifname": peer})
                pidx = ipr.link_lookup(ifname=peer)[0]
                ipr.link("set", index=pidx, net_ns_fd=self.air)
            idx = ipr.link_lookup(ifname=name)[0]
            if mac:
                ipr.link("set", index=idx, address=mac)
            ipr.link("set", index=idx, state="up")
        with self._ns(self.air) as air:
            found = air.link_lookup(ifname=peer)
            if found:
                air.link("set", index=found[0], state="up")

    def _remove(self, name: str) -> None:
        with self._ns(self.name) as ipr:
            found = ipr.link_lookup(ifname=name)
            if found:
                ipr.link("del", index=found[0])

    def set_stall(self, ifname: str, stalled: bool) -> None:
        role = self.current.get(ifname)
        if role is None:
            return
        with self._ns(self.air) as air:
            found = air.link_lookup(ifname=PEER_NAMES[role])
            if found:
                air.link("set", index=found[0], state="down" if stalled else "up")

    def links(self) -> list[str]:
        with self._ns(self.name) as ipr:
            return sorted(str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links())

    def destroy(self) -> None:
        from pyroute2 import netns

        # delete the links first: a process still inside the namespace (hostapd) would keep it alive
        for name in list(self.current):
            try:
                self._remove(name)
            except OSError:
                pass
        for ns in (self.name, self.air):
            try:
                if ns in netns.listnetns():
                    netns.remove(ns)
            except OSError:
                pass
        self.current.clear()
