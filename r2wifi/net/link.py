"""Interface plumbing over rtnetlink: wait, MAC, addresses, link state, bridge master, default route.

The requests go through :mod:`r2wifi.net.rtnl` (standard library, no import cost worth naming);
pyroute2 is imported only when a caller asks for :attr:`Link.ipr`, which traffic shaping
(``net/shaping.py``, tc's many message formats) uses, so ``up`` without shaping never loads it.

Rules:
* Everything can run inside a network namespace (``netns=``): the simulator owns one, the board
  uses the root namespace (``None``).
* No sleeps: :meth:`Link.wait_interface` subscribes to link events first, then checks whether the
  interface already exists, then waits on the netlink socket with ``select`` until the deadline.
* Idempotent: :meth:`Link.ensure_address` adds an address only if it is not there yet, so running
  ``r2wifi up`` twice adds nothing twice; :meth:`Link.remove_address` ignores an absent address.
* Errors the user can act on (bad address text, missing interface) are :class:`UserError`; a refused
  request is :class:`r2wifi.net.rtnl.NetlinkError` (an OSError with ``code``).
"""

from __future__ import annotations

import errno
import ipaddress
import select
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from r2wifi.errors import UserError
from r2wifi.net.rtnl import RTMGRP_LINK, NetlinkError, Rtnl


def parse_cidr(text: str, key: str = "address") -> tuple[str, int, int]:
    """``"192.168.10.1/24"`` -> (address, prefixlen, family). Raises UserError naming ``key``."""
    try:
        iface = ipaddress.ip_interface(text.strip())
    except ValueError:
        raise UserError(f"{key}: {text!r} is not an address with a prefix length (like 192.168.10.1/24)") from None
    if "/" not in text:
        raise UserError(f"{key}: {text!r} has no prefix length (like 192.168.10.1/24)")
    family = 2 if iface.version == 4 else 10  # AF_INET / AF_INET6
    return str(iface.ip), iface.network.prefixlen, family


def _netns_exists(name: str) -> bool:
    import os

    return os.path.exists(f"/run/netns/{name}")


class Link:
    """A netlink session in one namespace (``None`` = this process's namespace)."""

    def __init__(self, netns: str | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.netns = netns
        self.clock = clock
        if netns and not _netns_exists(netns):
            raise UserError(f"network namespace {netns!r} does not exist")
        self.nl = Rtnl(netns)
        self._ipr: Any = None

    @property
    def ipr(self) -> Any:
        """pyroute2's IPRoute/NetNS in the same namespace, created on first use (traffic control)."""
        if self._ipr is None:
            if self.netns:
                from pyroute2 import NetNS

                self._ipr = NetNS(self.netns)
            else:
                from pyroute2 import IPRoute

                self._ipr = IPRoute()
        return self._ipr

    def close(self) -> None:
        self.nl.close()
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    def __enter__(self) -> Link:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- lookups ---------------------------------------------------------------------------------
    def index(self, ifname: str) -> int | None:
        found = self.nl.link(ifname=ifname)
        return found.index if found else None

    def require(self, ifname: str) -> int:
        idx = self.index(ifname)
        if idx is None:
            where = f" in namespace {self.netns}" if self.netns else ""
            raise UserError(f"interface {ifname!r} does not exist{where}")
        return idx

    def exists(self, ifname: str) -> bool:
        return self.index(ifname) is not None

    def info(self, ifname: str) -> dict[str, Any] | None:
        li = self.nl.link(ifname=ifname)
        if li is None:
            return None
        return {"ifname": ifname, "index": li.index, "mac": li.mac, "operstate": li.operstate, "up": li.up,
                "mtu": li.mtu}

    # -- waiting ---------------------------------------------------------------------------------
    def _wait_link(self, ifname: str, timeout: float, *, present: bool, cancel: Any = None) -> bool:
        # A second socket subscribed to link events only: a dump on the subscribed socket would read
        # (and drop) a broadcast that arrives meanwhile, and the wait would miss the interface.
        events = Rtnl(self.netns, groups=RTMGRP_LINK)
        try:
            deadline = self.clock() + timeout
            # Subscribed first, then looked: a change between the two is still seen as an event.
            while self.exists(ifname) != present:
                left = deadline - self.clock()
                if left <= 0 or (cancel is not None and cancel.is_set()):
                    return False
                # Re-check at least every second in case a burst of events was read in one go.
                ready, _, _ = select.select([events.fileno()], [], [], min(left, 1.0))
                if ready:
                    events.drain()
            return True
        finally:
            events.close()

    def wait_interface(self, ifname: str, timeout: float, cancel: Any = None) -> int:
        """Block until ``ifname`` exists (woken by netlink link events). Returns its index.

        ``cancel`` (a ``threading.Event``, looked at least every second): when set, InterruptedError.
        """
        if not self._wait_link(ifname, timeout, present=True, cancel=cancel):
            if cancel is not None and cancel.is_set():
                raise InterruptedError(f"stopped while waiting for interface {ifname}")
            raise TimeoutError(f"interface {ifname} did not appear within {timeout:g} s")
        return self.require(ifname)

    def wait_gone(self, ifname: str, timeout: float, cancel: Any = None) -> bool:
        """Block until ``ifname`` no longer exists; False on timeout (or when ``cancel`` is set)."""
        return self._wait_link(ifname, timeout, present=False, cancel=cancel)

    # -- configuration ---------------------------------------------------------------------------
    def set_mac(self, ifname: str, mac: str) -> bool:
        """Set a stable MAC (link briefly down if needed). Returns True if it changed."""
        mac = mac.lower()
        li = self.nl.link(ifname=ifname)
        if li is None:
            self.require(ifname)  # raises the UserError
            raise AssertionError("unreachable")
        if li.mac == mac:
            return False
        try:
            self.nl.set_link(li.index, mac=mac)
        except NetlinkError as err:  # EBUSY on drivers that refuse while up
            if err.code != errno.EBUSY:
                raise
            self.nl.set_link(li.index, up=False)
            self.nl.set_link(li.index, mac=mac)
            if li.up:
                self.nl.set_link(li.index, up=True)
        return True

    def no_autoconf(self, ifname: str) -> None:
        """An AP is the router: it must not take SLAAC addresses from RAs (its own dnsmasq's)."""
        import subprocess

        leaves = ("accept_ra", "autoconf")
        if self.netns:  # slash form: interface names may contain dots
            keys = [f"net/ipv6/conf/{ifname}/{leaf}=0" for leaf in leaves]
            subprocess.run(["ip", "netns", "exec", self.netns, "sysctl", "-qw", *keys], capture_output=True)
            return
        for leaf in leaves:
            try:
                with open(f"/proc/sys/net/ipv6/conf/{ifname}/{leaf}", "w") as fh:
                    fh.write("0")
            except OSError:
                pass

    def set_up(self, ifname: str, up: bool = True) -> None:
        self.nl.set_link(self.require(ifname), up=up)

    def set_master(self, ifname: str, master: str | None) -> None:
        """Enslave ``ifname`` to the bridge ``master`` (``None``: release it)."""
        self.nl.set_link(self.require(ifname), master=self.require(master) if master else 0)

    def addresses(self, ifname: str) -> list[str]:
        """Addresses on ``ifname`` as ``addr/prefix`` strings (link-local IPv6 left out)."""
        idx = self.index(ifname)
        if idx is None:
            return []
        return [f"{a.address}/{a.prefixlen}" for a in self.nl.addrs(idx)
                if not (a.family == 10 and a.address.startswith("fe80:"))]

    def has_address(self, ifname: str, cidr: str) -> bool:
        addr, plen, _fam = parse_cidr(cidr)
        want = ipaddress.ip_address(addr)
        for have in self.addresses(ifname):
            a, p = have.rsplit("/", 1)
            if ipaddress.ip_address(a) == want and int(p) == plen:
                return True
        return False

    def ensure_address(self, ifname: str, cidr: str) -> bool:
        """Add ``cidr`` to ``ifname`` unless present. Returns True if it was added."""
        addr, plen, family = parse_cidr(cidr)
        idx = self.require(ifname)
        if self.has_address(ifname, cidr):
            return False
        try:
            # IPv6: IFA_F_NODAD, usable at once, no 1-2 s of tentative state
            self.nl.add_addr(idx, addr, plen, nodad=family == 10)
        except NetlinkError as err:
            if err.code == errno.EEXIST:
                return False
            raise
        return True

    def remove_address(self, ifname: str, cidr: str) -> bool:
        """Remove ``cidr`` from ``ifname`` if present. Returns True if it was removed."""
        addr, plen, _family = parse_cidr(cidr)
        idx = self.index(ifname)
        if idx is None or not self.has_address(ifname, cidr):
            return False
        try:
            self.nl.del_addr(idx, addr, plen)
        except NetlinkError as err:
            if err.code in (errno.EADDRNOTAVAIL, errno.ENODEV):
                return False
            raise
        return True

    def replace_default_route(self, ifname: str, gateway: str, metric: int) -> None:
        """The default route via ``gateway`` on ``ifname`` with ``metric`` (replacing the same one)."""
        self.nl.replace_default_route(gateway, self.require(ifname), metric)

    def remove_default_route(self, ifname: str, gateway: str, metric: int) -> bool:
        """Remove that default route; False when it (or the interface) is already gone."""
        idx = self.index(ifname)
        if idx is None:
            return False
        try:
            self.nl.del_default_route(gateway, idx, metric)
        except NetlinkError as err:
            if err.code in (errno.ESRCH, errno.ENOENT, errno.ENODEV):
                return False
            raise
        return True
