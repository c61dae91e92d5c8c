"""Egress traffic shaping of the AP interface (HTB or TBF) that really classifies traffic.

Theory (``shared/spec/platform.md`` E.3): the vendor advice ``htb default 11`` + ``class parent
1:1 classid 1:2 rate 8Mbit ceil 4Mbit`` shapes nothing: class 1:11 does not exist, so every packet
goes to HTB's *direct queue*, unshaped. The right recipe, built here:

    qdisc root handle 1: htb default 10            (the default class exists)
    class 1:1  parent 1:   rate R ceil R           (the parent carries the configured limit)
    class 1:10 parent 1:1  rate R/2 ceil R         (the leaf every packet lands in; rate <= ceil)

or ``tbf rate R burst 32k latency 50ms``. The purpose is to keep the driver's per-AC backlog under
its 256-frame TX-queue stop threshold. Rules:
* Off by default; the rate is configurable (``shaping.rate``, e.g. ``"8mbit"``, parsed by
  :func:`r2wifi.config.parse_rate`).
* :func:`apply` replaces whatever root qdisc is there, so it is idempotent and must be called every
  time the AP interface is (re)created: a new netdev starts with the default qdisc. :func:`ensure`
  applies only when our root qdisc is missing (the re-apply after every recovery rung); :func:`change`
  sets a new rate on the running shaper in place (``r2wifi reload``: classes changed, nothing replaced).
* :func:`counters` reads the class byte/packet counters and HTB's direct-queue packet count back,
  so a test (and ``r2wifi status``) can prove packets go through the shaped class.
"""

from __future__ import annotations

import errno
from typing import Any

from r2wifi.errors import UserError
from r2wifi.records import record

ROOT = 0x10000  # "1:"
PARENT = 0x10001  # "1:1"
LEAF = 0x10010  # "1:10"
DEFAULT_CLASS = 0x10  # minor of LEAF

@record(frozen=True)
class ShapingPlan:
    kind: str  # "htb" | "tbf"
    rate: int  # bits per second

    @property
    def leaf_rate(self) -> int:
        return max(self.rate // 2, 8000)


@record
class Counters:
    kind: str | None  # root qdisc kind, None if no qdisc of ours
    class_bytes: int = 0
    class_packets: int = 0
    direct_packets: int = 0
    qdisc_bytes: int = 0
    qdisc_packets: int = 0
    drops: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _bytes_per_sec(bits: int) -> int:
    return max(bits // 8, 1)


def apply(ipr: Any, index: int, plan: ShapingPlan) -> None:
    """Install ``plan`` as the root qdisc of interface ``index`` (replacing what was there)."""
    remove(ipr, index)
    if plan.kind == "tbf":
        ipr.tc("add", "tbf", index, handle="1:", rate=_bytes_per_sec(plan.rate), burst=32 * 1024,
               latency=50 * 1000)
        return
    if plan.kind != "htb":
        raise UserError(f"shaping.kind: {plan.kind!r} is not htb or tbf")
    ipr.tc("add", "htb", index, handle="1:", default=DEFAULT_CLASS)
    ipr.tc("add-class", "htb", index, handle="1:1", parent="1:",
           rate=_bytes_per_sec(plan.rate), ceil=_bytes_per_sec(plan.rate))
    ipr.tc("add-class", "htb", index, handle="1:10", parent="1:1",
           rate=_bytes_per_sec(plan.leaf_rate), ceil=_bytes_per_sec(plan.rate))


def ensure(ipr: Any, index: int, plan: ShapingPlan) -> bool:
    """Apply ``plan`` unless a root qdisc of its kind (ours, handle 1:) is already there; True if applied.

    For the re-apply after a recovery: it leaves a working shaper (and its counters) alone. A changed
    rate needs :func:`apply`.
    """
    q = _root_qdisc(ipr, index)
    if q is not None and q.get_attr("TCA_KIND") == plan.kind:
        return False
    apply(ipr, index, plan)
    return True


def change(ipr: Any, index: int, plan: ShapingPlan) -> bool:
    """Set a new rate on our shaper in place (``tc class change`` / ``tc qdisc change``): no qdisc
    replaced, no packet dropped, counters kept, the link untouched. True if done in place; False when
    no root qdisc of ``plan.kind`` is there (then :func:`apply` is what is needed)."""
    q = _root_qdisc(ipr, index)
    if q is None or q.get_attr("TCA_KIND") != plan.kind:
        return False
    if plan.kind == "tbf":
        ipr.tc("change", "tbf", index, handle="1:", rate=_bytes_per_sec(plan.rate), burst=32 * 1024,
               latency=50 * 1000)
        return True
    rate = _bytes_per_sec(plan.rate)
    ipr.tc("change-class", "htb", index, handle="1:1", parent="1:", rate=rate, ceil=rate)
    ipr.tc("change-class", "htb", index, handle="1:10", parent="1:1", rate=_bytes_per_sec(plan.leaf_rate),
           ceil=rate)
    return True


def class_rate(ipr: Any, index: int, handle: int = PARENT) -> int | None:
    """The rate (bits per second) of HTB class ``handle`` (default 1:1, the configured limit), or None."""
    for c in ipr.get_classes(index=index):
        if c["handle"] != handle:
            continue
        opts = c.get_attr("TCA_OPTIONS")
        params = opts.get_attr("TCA_HTB_PARMS") if opts is not None else None
        if params:
            return int(params["rate"]) * 8  # bytes per second in the kernel
    return None


def _root_qdisc(ipr: Any, index: int) -> Any | None:
    for q in ipr.get_qdiscs(index=index):
        if q["parent"] == 0xFFFFFFFF and q["handle"] == ROOT and q.get_attr("TCA_KIND") in ("htb", "tbf"):
            return q
    return None


def remove(ipr: Any, index: int) -> bool:
    """Delete our root qdisc (handle 1: htb/tbf). Returns True if one was removed."""
    q = _root_qdisc(ipr, index)
    if q is None:
        return False
    kind = q.get_attr("TCA_KIND")
    # pyroute2 encodes options even for "del"; tbf insists on rate/burst/latency being present.
    extra: dict[str, int] = {"rate": 1000, "burst": 1600, "latency": 1000} if kind == "tbf" else {}
    try:
        ipr.tc("del", kind, index, handle="1:", **extra)
    except Exception as err:
        if getattr(err, "code", None) in (errno.ENOENT, errno.EINVAL, errno.ENODEV):
            return False
        raise
    return True


def counters(ipr: Any, index: int) -> Counters:
    """Read back the root qdisc and leaf-class counters of interface ``index``."""
    q = _root_qdisc(ipr, index)
    if q is None:
        return Counters(kind=None)
    kind = str(q.get_attr("TCA_KIND"))
    out = Counters(kind=kind)
    stats = q.get_attr("TCA_STATS2")
    if stats is not None:
        basic = stats.get_attr("TCA_STATS_BASIC") or {}
        queue = stats.get_attr("TCA_STATS_QUEUE") or {}
        out.qdisc_bytes = int(basic.get("bytes", 0))
        out.qdisc_packets = int(basic.get("packets", 0))
        out.drops = int(queue.get("drops", 0))
    if kind == "htb":
        opts = q.get_attr("TCA_OPTIONS")
        init = opts.get_attr("TCA_HTB_INIT") if opts is not None else None
        if init:
            out.direct_packets = int(init.get("direct_pkts", 0))
        for c in ipr.get_classes(index=index):
            if c["handle"] != LEAF:
                continue
            s = c.get_attr("TCA_STATS2")
            basic = (s.get_attr("TCA_STATS_BASIC") if s is not None else None) or {}
            out.class_bytes = int(basic.get("bytes", 0))
            out.class_packets = int(basic.get("packets", 0))
    else:
        out.class_bytes, out.class_packets = out.qdisc_bytes, out.qdisc_packets
    return out
