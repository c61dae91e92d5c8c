"""Networking of the AP interface: netlink (pyroute2, imported lazily), shaping, NAT.

* :mod:`r2wifi.net.link`: :class:`~r2wifi.net.link.Link` (``with Link(netns) as link``):
  ``wait_interface``, ``set_mac``, ``ensure_address`` / ``remove_address`` (idempotent),
  ``set_up``, ``no_autoconf``, ``addresses``, ``info``.
* :mod:`r2wifi.net.shaping`: ``apply(ipr, index, ShapingPlan("htb"|"tbf", bits))``, ``remove``,
  ``counters`` (class bytes/packets and HTB's direct-queue count).
* :mod:`r2wifi.net.nat`: ``enable(subnet, uplink, netns)`` / ``disable(netns)`` on the nftables
  table ``ip r2wifi_nat`` only.
"""
