"""The supervisor's brain: failure detectors and the recovery ladder, as a sans-IO state machine.

Theory of operation (h11 style). :class:`Ladder` never does I/O and never reads a clock: the
supervisor feeds it *events* (hostapd exited, AP-ENABLED/AP-DISABLED, TX queue stopped/woken,
station connected/disconnected, EAPOL timeout, launcher exited, clock ticks, the outcome of a
recovery) each carrying the time ``t`` it happened, and executes the *actions* it returns
(:class:`Recover`, :class:`Health`, :class:`Note`). :meth:`Ladder.next_deadline` says when the
next :class:`Tick` is needed, so the I/O loop can sleep in ``select`` instead of polling.

States and transitions (the table :data:`TRANSITIONS`; anything not in it is ignored)::

    WATCHING   --fault-->            RECOVERING   (action Recover(rung))          [no backoff due]
    WATCHING   --fault-->            BACKOFF      (recovery scheduled at t+delay) [backoff due]
    BACKOFF    --tick >= due-->      RECOVERING   (action Recover(rung))
    RECOVERING --Done(ok)-->         WATCHING     (detectors reset)
    RECOVERING --Done(failed)-->     BACKOFF      (next rung)

The ladder never gives up. Past its budget (``limit`` recoveries within ``limit_window``) it is
*degraded*: every further recovery waits ``backoff_max`` (action ``Health(degraded=True, reason)``,
once); when the window holds fewer than ``limit`` recoveries again it says ``Health(False)``.

Detectors (run in WATCHING; each fault has a reason string and a lowest rung):
* a daemon r2wifi started exited (``DaemonExited``: hostapd, dnsmasq, wpa_supplicant, the DHCP
  client) / ``AP disabled``                                           -> rung 0 (that daemon)
* ``InterfaceFault``: the interface lost what r2wifi gave it (addresses, qdisc, link up, or it was
  re-created), reported by the supervisor's interface check           -> rung 0 (every daemon)
* TX-queue stall: a queue stopped and not woken for ``stall_seconds`` -> rung 1 (a hostapd
  restart does not drain the driver's queue; ``echo 0``/``echo A`` does, spec platform.md E.2)
* association loop: one station connects ``loop_count`` times within ``loop_window`` -> rung 0
* handshake-timeout storm: ``storm_count`` EAPOL timeouts within ``storm_window`` -> rung 0.
  Timeouts of a station that showed a wrong key (MIC failure / AP-STA-POSSIBLE-PSK-MISMATCH) within
  the window do not count: hostapd retransmits message 1/4 after every bad 2/4, and restarting the
  AP for a client's typo would kick every other station.
* launcher exited                                                      -> rung 2

The ladder (:data:`RUNGS`): 0 re-apply the interface state and restart the daemons named in the
fault (``Recover.daemons``; hostapd when none is named); 1 WiFi off, AP again, re-shape, every
daemon; 2 chip reset (launcher again) then rung 1. The supervisor verifies the result of every rung
end to end before it reports ``Done(ok=True)``. A fault that comes back within ``escalate_window`` of
the last recovery climbs one rung above the last one used when it is the same kind of fault
(the same daemon, the interface, the TX queue, ...): a dnsmasq exit after a hostapd restart is
not a sign that restarting hostapd failed, so it starts at its own rung. Recoveries are spaced by an
exponential backoff (``backoff_base`` doubling up to ``backoff_max``) once more than one happens
within ``escalate_window``; past the budget, ``backoff_max`` (degraded, see above). A delay that is
not a finite number (a nan/inf that got past the configuration check) is replaced by a finite one:
:meth:`LadderConfig.sanitized` names every such value. Every decision carries its reason, and the
supervisor logs each one.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Callable

from r2wifi import records
from r2wifi.records import field, record

RUNGS = ("restart-hostapd", "reset-wifi", "reset-chip")


# -- events (inputs) ------------------------------------------------------------------------------
@record(frozen=True)
class Tick:
    t: float


@record(frozen=True)
class HostapdExited:
    """A daemon r2wifi started exited (hostapd by default; dnsmasq, wpa_supplicant, dhcpc ...)."""

    t: float
    code: int | None = None
    daemon: str = "hostapd"


DaemonExited = HostapdExited


@record(frozen=True)
class InterfaceFault:
    """The interface lost state r2wifi gave it; ``daemons`` are the ones to restart with it."""

    t: float
    problem: str
    daemons: tuple[str, ...] = ("hostapd",)


@record(frozen=True)
class LauncherExited:
    t: float


@record(frozen=True)
class ApEnabled:
    t: float


@record(frozen=True)
class ApDisabled:
    t: float


@record(frozen=True)
class TxqStopped:
    t: float
    queue: str = ""


@record(frozen=True)
class TxqWoken:
    t: float
    queue: str = ""


@record(frozen=True)
class StaConnected:
    t: float
    station: str


@record(frozen=True)
class StaDisconnected:
    t: float
    station: str


@record(frozen=True)
class EapolTimeout:
    t: float
    station: str | None = None


@record(frozen=True)
class WrongKey:
    """A station's 4-way handshake failed its MIC check: the client has the wrong passphrase."""

    t: float
    station: str


@record(frozen=True)
class Done:
    """The outcome of the last :class:`Recover` action."""

    t: float
    ok: bool
    detail: str = ""


Event = (Tick | HostapdExited | InterfaceFault | LauncherExited | ApEnabled | ApDisabled | TxqStopped
         | TxqWoken | StaConnected | StaDisconnected | EapolTimeout | WrongKey | Done)


# -- actions (outputs) ----------------------------------------------------------------------------
@record(frozen=True)
class Recover:
    rung: int
    reason: str
    daemons: tuple[str, ...] = ()  # rung 0: the daemons to restart (empty: hostapd)

    @property
    def step(self) -> str:
        if self.rung == 0 and self.daemons:
            return "restart-" + "+".join(self.daemons)
        return RUNGS[self.rung]


@record(frozen=True)
class Health:
    """The recovery budget is exhausted (``degraded``: still recovering, at ``backoff_max``) or fine again."""

    degraded: bool
    reason: str = ""


@record(frozen=True)
class Note:
    """Something worth a log line that needs no action (a detector's observation)."""

    message: str


Action = Recover | Health | Note


class State(enum.Enum):
    WATCHING = "watching"
    BACKOFF = "backoff"
    RECOVERING = "recovering"


@record
class LadderConfig:
    stall_seconds: float = 5.0
    loop_count: int = 6
    loop_window: float = 60.0
    storm_count: int = 5
    storm_window: float = 60.0
    escalate_window: float = 120.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    limit: int = 10
    limit_window: float = 600.0

    def sanitized(self) -> tuple[LadderConfig, list[str]]:
        """A copy in which every value is a finite, usable number, and what was replaced (by name).

        Durations must be finite and > 0 (defaults otherwise), counts >= 0 (``limit``) or >= 1;
        ``backoff_max`` is raised to ``backoff_base`` when below it.
        """
        default = LadderConfig()
        changes: dict[str, float | int] = {}
        notes: list[str] = []
        for f in records.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                bad = True
            elif isinstance(getattr(default, f.name), int):  # counts: at least 1 (limit: 0 allowed)
                bad = value < (0 if f.name == "limit" else 1)
            else:  # durations
                bad = value <= 0
            if bad:
                changes[f.name] = getattr(default, f.name)
                notes.append(f"{f.name} = {value!r} is not usable; using {getattr(default, f.name)!r}")
        out = records.replace(self, **changes)
        if out.backoff_max < out.backoff_base:
            notes.append(f"backoff_max {out.backoff_max!r} is below backoff_base {out.backoff_base!r}; using that")
            out = records.replace(out, backoff_max=out.backoff_base)
        return out, notes


@record
class _Fault:
    reason: str
    rung: int
    daemons: tuple[str, ...] = ()
    key: str = ""  # what kind of fault: only the same kind coming back climbs the ladder


@record
class Ladder:
    config: LadderConfig = field(default_factory=LadderConfig)
    state: State = State.WATCHING
    rung: int = 0  # rung of the last recovery
    key: str = ""  # kind of fault the last recovery was for
    last_recovery: float | None = None  # when the last recovery finished (ok or not)
    recoveries: deque[float] = field(default_factory=deque)  # start times, for limit and backoff
    due: float | None = None  # BACKOFF: when to start the pending recovery
    pending: _Fault | None = None
    txq_stopped: dict[str, float] = field(default_factory=dict)
    sta_connects: dict[str, deque[float]] = field(default_factory=dict)
    eapol_timeouts: deque[tuple[float, str | None]] = field(default_factory=deque)
    wrong_key: dict[str, float] = field(default_factory=dict)  # station -> last wrong-key time
    degraded: str | None = None  # why the recovery budget is exhausted (None: within budget)

    def __post_init__(self) -> None:
        self.config, _ = self.config.sanitized()

    # -- public ---------------------------------------------------------------------------------
    def handle(self, event: Event) -> list[Action]:
        handler = TRANSITIONS.get((self.state, type(event)))
        if handler is None:
            return []
        return handler(self, event)

    def next_deadline(self) -> float | None:
        """The time at which a :class:`Tick` may change something (None: only events matter)."""
        if self.state is State.BACKOFF:
            return self.due
        deadlines = []
        if self.state is State.WATCHING and self.txq_stopped:
            deadlines.append(min(self.txq_stopped.values()) + self.config.stall_seconds)
        if self.state is State.WATCHING and self.degraded is not None and self.recoveries:
            deadlines.append(self.recoveries[0] + self.config.limit_window)  # the budget may recover
        return min(deadlines) if deadlines else None

    # -- detectors (WATCHING) -------------------------------------------------------------------
    def _hostapd_exited(self, ev: Event) -> list[Action]:
        assert isinstance(ev, HostapdExited)
        code = "" if ev.code is None else f" (exit status {ev.code})"
        return self._fault(ev.t, _Fault(f"{ev.daemon} exited{code}", 0, (ev.daemon,), ev.daemon))

    def _interface_fault(self, ev: Event) -> list[Action]:
        assert isinstance(ev, InterfaceFault)
        return self._fault(ev.t, _Fault(ev.problem, 0, ev.daemons, "interface"))

    def _launcher_exited(self, ev: Event) -> list[Action]:
        return self._fault(ev.t, _Fault("the chip launcher exited", 2, (), "launcher"))

    def _ap_disabled(self, ev: Event) -> list[Action]:
        return self._fault(ev.t, _Fault("hostapd reported AP-DISABLED", 0, ("hostapd",), "hostapd"))

    def _txq_stopped(self, ev: Event) -> list[Action]:
        assert isinstance(ev, TxqStopped)
        self.txq_stopped.setdefault(ev.queue, ev.t)
        return self._check_stall(ev.t)

    def _txq_woken(self, ev: Event) -> list[Action]:
        assert isinstance(ev, TxqWoken)
        if ev.queue in self.txq_stopped:
            self.txq_stopped.pop(ev.queue)
        else:
            # The driver names the netdev on stop but the bss number on wake (spec 7.5), so a
            # wake that matches no stopped queue by name counts for all of them.
            self.txq_stopped.clear()
        return []

    def _check_stall(self, t: float) -> list[Action]:
        for queue, since in sorted(self.txq_stopped.items(), key=lambda kv: kv[1]):
            if t - since >= self.config.stall_seconds:
                name = f" {queue}" if queue else ""
                return self._fault(t, _Fault(
                    f"TX queue{name} stopped for {t - since:.1f} s without a wake (driver TX stall)", 1, (), "txq"))
        return []

    def _tick_watching(self, ev: Event) -> list[Action]:
        return self._budget(ev.t) + self._check_stall(ev.t)

    def _sta_connected(self, ev: Event) -> list[Action]:
        assert isinstance(ev, StaConnected)
        times = self.sta_connects.setdefault(ev.station, deque())
        times.append(ev.t)
        _trim(times, ev.t - self.config.loop_window)
        if len(times) >= self.config.loop_count:
            n = len(times)
            times.clear()
            return self._fault(ev.t, _Fault(
                f"station {ev.station} connected {n} times within {self.config.loop_window:g} s "
                "(association loop)", 0, ("hostapd",), "loop"))
        return []

    def _sta_disconnected(self, ev: Event) -> list[Action]:
        return []

    def _client_has_wrong_key(self, station: str | None, t: float) -> bool:
        seen = self.wrong_key.get(station) if station is not None else None
        return seen is not None and t - seen <= self.config.storm_window

    def _wrong_key(self, ev: Event) -> list[Action]:
        assert isinstance(ev, WrongKey)
        self.wrong_key[ev.station] = ev.t
        for sta in [s for s, t in self.wrong_key.items() if ev.t - t > self.config.storm_window]:
            del self.wrong_key[sta]  # bounded: only stations seen within the window
        # timeouts of this station already counted were the same typo, not an AP fault
        kept = [(t, s) for t, s in self.eapol_timeouts if s != ev.station]
        self.eapol_timeouts = deque(kept)
        return [Note(f"station {ev.station} has a wrong passphrase: its handshake timeouts are not an AP fault")]

    def _eapol_timeout(self, ev: Event) -> list[Action]:
        assert isinstance(ev, EapolTimeout)
        if self._client_has_wrong_key(ev.station, ev.t):
            return []
        self.eapol_timeouts.append((ev.t, ev.station))
        oldest = ev.t - self.config.storm_window
        while self.eapol_timeouts and self.eapol_timeouts[0][0] < oldest:
            self.eapol_timeouts.popleft()
        if len(self.eapol_timeouts) >= self.config.storm_count:
            n = len(self.eapol_timeouts)
            self.eapol_timeouts.clear()
            return self._fault(ev.t, _Fault(
                f"{n} EAPOL handshake timeouts within {self.config.storm_window:g} s", 0, ("hostapd",), "storm"))
        return []

    # -- the ladder -----------------------------------------------------------------------------
    def _budget(self, t: float) -> list[Action]:
        """Trim the recovery window; say when the budget is exhausted or fine again."""
        cfg = self.config
        _trim(self.recoveries, t - cfg.limit_window)
        over = len(self.recoveries) >= cfg.limit
        if over and self.degraded is None:
            self.degraded = (f"{len(self.recoveries)} recoveries within {cfg.limit_window:g} s (limit {cfg.limit}); "
                             f"retrying every {cfg.backoff_max:g} s")
            return [Health(True, self.degraded)]
        if not over and self.degraded is not None:
            self.degraded = None
            return [Health(False, f"fewer than {cfg.limit} recoveries within {cfg.limit_window:g} s again")]
        return []

    def _fault(self, t: float, fault: _Fault) -> list[Action]:
        cfg = self.config
        out = self._budget(t)
        recent = (self.last_recovery is not None and t - self.last_recovery < cfg.escalate_window
                  and fault.key == self.key)
        rung = max(fault.rung, min(self.rung + 1, len(RUNGS) - 1) if recent else 0)
        fault = _Fault(fault.reason, rung, fault.daemons, fault.key)
        in_window = sum(1 for r in self.recoveries if t - r < cfg.escalate_window)
        if self.degraded is not None:
            delay = cfg.backoff_max
        elif in_window == 0:
            delay = 0.0
        else:
            delay = min(cfg.backoff_base * 2.0 ** min(in_window - 1, 64), cfg.backoff_max)
        if not math.isfinite(delay) or delay < 0:  # cannot happen with a sanitized config; never freeze
            delay = LadderConfig.backoff_max
        if delay <= 0:
            return out + self._start(t, fault)
        self.state = State.BACKOFF
        self.due = t + delay
        self.pending = fault
        step = Recover(rung, fault.reason, fault.daemons).step
        return out + [Note(f"{fault.reason}: {step} in {delay:g} s (backoff)")]

    def _start(self, t: float, fault: _Fault) -> list[Action]:
        self.state = State.RECOVERING
        self.rung = fault.rung
        self.key = fault.key
        self.recoveries.append(t)
        self.due = None
        self.pending = None
        return [Recover(fault.rung, fault.reason, fault.daemons if fault.rung == 0 else ())]

    def _tick_backoff(self, ev: Event) -> list[Action]:
        if self.due is not None and self.pending is not None and ev.t >= self.due:
            return self._start(ev.t, self.pending)
        return []

    def _done(self, ev: Event) -> list[Action]:
        assert isinstance(ev, Done)
        self.last_recovery = ev.t
        self._reset_detectors()
        if ev.ok:
            self.state = State.WATCHING
            return [Note(f"{RUNGS[self.rung]} succeeded; watching again")]
        self.state = State.WATCHING
        why = f"{RUNGS[self.rung]} failed" + (f": {ev.detail}" if ev.detail else "")
        return self._fault(ev.t, _Fault(why, min(self.rung + 1, len(RUNGS) - 1), ("hostapd",), self.key))

    def _reset_detectors(self) -> None:
        self.txq_stopped.clear()
        self.sta_connects.clear()
        self.eapol_timeouts.clear()

    def _ignore(self, ev: Event) -> list[Action]:
        return []


def _trim(times: deque[float], oldest: float) -> None:
    while times and times[0] < oldest:
        times.popleft()


_Handler = Callable[[Ladder, Event], list[Action]]

TRANSITIONS: dict[tuple[State, type], _Handler] = {
    (State.WATCHING, HostapdExited): Ladder._hostapd_exited,
    (State.WATCHING, InterfaceFault): Ladder._interface_fault,
    (State.WATCHING, LauncherExited): Ladder._launcher_exited,
    (State.WATCHING, ApDisabled): Ladder._ap_disabled,
    (State.WATCHING, TxqStopped): Ladder._txq_stopped,
    (State.WATCHING, TxqWoken): Ladder._txq_woken,
    (State.WATCHING, StaConnected): Ladder._sta_connected,
    (State.WATCHING, StaDisconnected): Ladder._sta_disconnected,
    (State.WATCHING, EapolTimeout): Ladder._eapol_timeout,
    (State.WATCHING, WrongKey): Ladder._wrong_key,
    (State.BACKOFF, WrongKey): Ladder._wrong_key,
    (State.RECOVERING, WrongKey): Ladder._wrong_key,
    (State.WATCHING, Tick): Ladder._tick_watching,
    (State.BACKOFF, Tick): Ladder._tick_backoff,
    (State.RECOVERING, Done): Ladder._done,
    # While a recovery runs, the faults it causes itself (hostapd exits, queue noise) are ignored.
    (State.RECOVERING, HostapdExited): Ladder._ignore,
    (State.RECOVERING, InterfaceFault): Ladder._ignore,
    (State.RECOVERING, TxqStopped): Ladder._ignore,
}
