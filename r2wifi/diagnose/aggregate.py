"""Bounded summary of a whole diagnosis run: what the rules look at.

Theory of operation: :meth:`Aggregate.add` receives every event once, in log order. It feeds the
per-station :class:`~r2wifi.diagnose.sessions.Tracker`, keeps per-hostapd-run state (reset at
``Configuration file:``), TX-queue episodes, counters and a few evidence references per *key*
(``note(key, event)``). The catalogue's rules (:mod:`r2wifi.diagnose.rules`) read only this
object, so they are pure functions and each is testable with a handful of synthetic lines.

Rules: memory is bounded whatever the input size - counters, capped evidence lists
(:data:`MAX_EVIDENCE`), capped station sets, bounded timelines and value reservoirs.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from r2wifi.diagnose.sessions import Session, Tracker
from r2wifi.logs.catalog import wmt
from r2wifi.logs.model import Event, K

MAX_EVIDENCE = 12
MAX_RECOVERY_KINDS = 1000  # distinct (step, reason) pairs counted; the counts themselves are unbounded
MAX_KEY_STATIONS = 64
MAX_TIMELINE = 200
MAX_VALUES = 20000
MASS_WINDOW_S = 2.0
MASS_MIN_STATIONS = 3
RECOVERY_WINDOW_S = 300.0  # a recovery without its end line covers at most this long (the supervisor's cap)
TXQ_STALL_S = 5.0  # a TX queue stopped this long without a wake is a stall

FAIL_WHATS = frozenset({
    "driver_mode", "ap_mode_unsupported", "mode_change", "busy", "register_frame", "driver_init",
    "set_channel", "init_failed", "not_started", "device_node", "fatal",
})
MAX_CAUSES = 6  # the last error lines of a failed run kept as its cause


@dataclass(slots=True)
class Run:
    """One hostapd run (from one ``Configuration file:`` to the next)."""

    errors: set[str] = field(default_factory=set)
    refs: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    enabled: bool = False
    disabled_without_enable: bool = False
    stopped: bool = False
    iface_disabled: bool = False
    config_ref: tuple[str, int] | None = None
    # a station or client session seen in this run: the daemon was up, whatever lines are missing
    activity: bool = False
    cac: bool = False  # a DFS channel availability check started in this run
    # the last error lines (text, ref): the cause of a run that never came up
    causes: deque[tuple[str, tuple[str, int]]] = field(default_factory=lambda: deque(maxlen=MAX_CAUSES))


class Aggregate:
    def __init__(self) -> None:
        self.tracker = Tracker()
        # plain dicts, not Counters, for the per-event counts: the hot path (see analyze._scan)
        self.counts: dict[str, int] = {}  # event kinds
        self.keys: dict[str, int] = {}  # finding keys noted
        self.evidence: dict[str, list[tuple[str, int]]] = {}
        self.key_stations: dict[str, set[str]] = {}
        self.run = Run()
        self.runs = 0
        self.runs_failed = 0
        self.clean_stops = 0
        self.benign: Counter[str] = Counter()
        self.wmt: Counter[str] = Counter()
        self.wmt_ctx = wmt.WmtContext()
        self.startup_causes: list[str] = []  # cause lines of the runs that never came up (bounded)
        self.stops: list[tuple[float | None, tuple[str, int]]] = []  # orderly AP stops, judged at finish
        # r2wifi supervisor recoveries: start/end time, step, reason, ok, evidence (bounded), and every
        # recovery counted by (step, reason) and failure by step without a bound on the number of recoveries
        self.recoveries: list[dict[str, object]] = []
        self.recovery_counts: Counter[tuple[str, str]] = Counter()
        self.recovery_failures: Counter[str] = Counter()
        self.link_not_ready: Counter[str] = Counter()
        self.link_ready: set[str] = set()
        self.link_refs: dict[str, list[tuple[str, int]]] = {}
        # TX queue
        self.txq_stops = 0
        self.txq_wakes = 0
        self.txq_full = 0
        # per interface: (stopped at, evidence) of a queue stopped and not yet woken
        self.txq_open: dict[str, tuple[float | None, tuple[str, int]]] = {}
        self.txq_episodes = 0
        self.txq_window: deque[float] = deque()
        self.txq_max_rate = 0  # stops within 10 s
        self.last_t: float | None = None
        # mass disconnects
        self.recent_ends: deque[tuple[float, str, tuple[str, int]]] = deque()
        self.mass_events = 0
        # metrics reservoirs
        self.connect_ms: deque[float] = deque(maxlen=MAX_VALUES)
        self.session_s: deque[float] = deque(maxlen=MAX_VALUES)
        self.reasons: Counter[int] = Counter()
        # per station: (t, kind, text, file, line) of its last events; see timeline()
        self.timelines: dict[str, deque[tuple[float | None, str, str, str, int]]] = {}
        self.clock_offset: float | None = None
        self.ifaces: dict[str, dict[str, int]] = {}
        # files that show a station's own daemon (wpa_supplicant) or the AP: a CTRL-EVENT-TERMINATING
        # in a supplicant's log is the client stopping, not the AP shutting down cleanly
        self.client_files: set[str] = set()
        self.ap_files: set[str] = set()
        self.assoc_statuses: set[int] = set()
        # EAPOL timeouts not (yet) followed by a completed handshake of the same kind, per station
        self.hs_open: dict[tuple[str, bool], tuple[str, int]] = {}
        self.hs_unrecovered: Counter[bool] = Counter()  # group? -> timeouts never recovered
        # stations the AP sent 4-way message 1/4, and 3/4 (3/4 means the AP verified 2/4's MIC: the
        # PSK matched); bounded like every per-station table here
        self.ptk_m1: set[str] = set()
        self.ptk_m3: set[str] = set()

    # ---------------------------------------------------------------- helpers
    def note(self, key: str, ev: Event | None, station: str | None = None, ref: tuple[str, int] | None = None) -> None:
        keys = self.keys
        keys[key] = keys.get(key, 0) + 1
        lst = self.evidence.get(key)
        if lst is None:
            lst = self.evidence[key] = []
        if len(lst) < MAX_EVIDENCE:
            r = ref or ((ev.file, ev.line) if ev is not None else None)
            if r is not None and r not in lst:
                lst.append(r)
        sta = station if station is not None else (ev.station if ev is not None else None)
        if sta:
            ss = self.key_stations.get(key)
            if ss is None:
                ss = self.key_stations[key] = set()
            if len(ss) < MAX_KEY_STATIONS:
                ss.add(sta)

    def add_benign(self, what: str, file: str, line: int, ts: float | None = None) -> None:
        """Same effect as ``add`` of a station-less BENIGN event, without building the event."""
        if ts is not None:
            self.last_t = ts
        self.counts[K.BENIGN] = self.counts.get(K.BENIGN, 0) + 1
        self.benign[what] += 1
        self.keys["benign_noise"] = self.keys.get("benign_noise", 0) + 1
        lst = self.evidence.setdefault("benign_noise", [])
        if len(lst) < MAX_EVIDENCE and (file, line) not in lst:
            lst.append((file, line))

    def add_benign_counts(self, counts: dict[str, int]) -> None:
        """Fold in benign lines counted elsewhere (names already seen, evidence already full)."""
        n = sum(counts.values())
        if not n:
            return
        self.counts[K.BENIGN] = self.counts.get(K.BENIGN, 0) + n
        self.keys["benign_noise"] = self.keys.get("benign_noise", 0) + n
        self.benign.update(counts)

    def _timeline(self, ev: Event) -> None:
        if ev.station is None:
            return
        tl = self.timelines.get(ev.station)
        if tl is None:
            if len(self.timelines) >= 500:
                return
            tl = self.timelines[ev.station] = deque(maxlen=MAX_TIMELINE)
        tl.append((ev.ts, ev.kind, ev.text, ev.file, ev.line))

    def timeline(self, mac: str) -> list[dict[str, object]]:
        """A station's bounded timeline as JSON-ready entries (text cut to 240 characters)."""
        return [{"t": t, "kind": kind, "text": text[:240], "file": file, "line": line}
                for t, kind, text, file, line in self.timelines.get(mac, ())]

    # ---------------------------------------------------------------- runs
    def _close_run(self) -> None:
        """Structural start-up verdict: a run that never came up (no ENABLED / CONNECTED, no station) and
        ended (a fatal line, a start-up error that stops it, AP-DISABLED) failed to start, whatever the
        message; its last error lines are the cause."""
        r = self.run
        errs = r.errors
        up = r.enabled or r.activity
        if not up and (errs & FAIL_WHATS or r.disabled_without_enable):
            self.runs_failed += 1
            for what in sorted(errs & FAIL_WHATS) or ["disabled"]:
                for ref in r.refs.get(what, [])[:4] or ([r.config_ref] if r.config_ref else []):
                    self.note("startup_failure", None, ref=ref)
            if not (errs & FAIL_WHATS):
                for ref in r.refs.get("disabled", [])[:2]:
                    self.note("startup_failure", None, ref=ref)
            for text, ref in r.causes:
                self.note("startup_failure", None, ref=ref)
                if len(self.startup_causes) < 3 * MAX_CAUSES and text not in self.startup_causes:
                    self.startup_causes.append(text)
        elif up and "beacon" in errs:
            for ref in r.refs.get("beacon", [])[:4]:  # the AP was up: the driver stopped taking beacons
                self.note("driver_error", None, station="", ref=ref)
        if "driver_mode" in errs and not errs & {"ap_mode_unsupported", "mode_change"}:
            for ref in r.refs.get("driver_mode", [])[:4]:
                self.note("iface_busy_other_process", None, ref=ref)

    def _stop(self, ev: Event) -> None:
        if self.run.enabled and not self.run.stopped:
            self.run.stopped = True
            if not (self.run.errors & FAIL_WHATS) and len(self.stops) < MAX_TIMELINE:
                # judged at finish(): a stop inside a supervisor recovery (maybe from another file) is
                # the supervisor restarting hostapd, not a clean shutdown
                self.stops.append((ev.ts, (ev.file, ev.line)))
        self.tracker.stop_all(ev, "ap_stopped")

    def _judge_stops(self) -> None:
        for t, ref in self.stops:
            rec = self._recovery_at(t)
            if rec is not None:
                self.note("x_supervisor_restart", None, station="", ref=ref)
            else:
                self.clean_stops += 1
                self.note("clean_shutdown", None, station="", ref=ref)

    def _recovery_at(self, t: float | None) -> dict[str, object] | None:
        if t is None:
            return None
        for rec in self.recoveries:
            start = rec["start"]
            end = rec.get("end")
            if isinstance(start, float) and start - 2.0 <= t <= (end if isinstance(end, float) else
                                                                  start + RECOVERY_WINDOW_S) + 2.0:
                return rec
        return None

    # ---------------------------------------------------------------- main entry
    def add(self, ev: Event) -> None:
        ts = ev.ts
        up = ev.uptime
        if up is not None:
            if ts is None:
                if self.clock_offset is not None:
                    ev.ts = ts = up + self.clock_offset
            else:
                self.clock_offset = ts - up
        if ts is not None:
            self.last_t = ts
        k = ev.kind
        counts = self.counts
        counts[k] = counts.get(k, 0) + 1
        if k in _CLIENT_KINDS:
            self.client_files.add(ev.file)
        elif k in _AP_KINDS:
            self.ap_files.add(ev.file)
        if ev.iface and ev.source == "hostapd":
            c = self.ifaces.get(ev.iface)
            if c is None:
                c = self.ifaces[ev.iface] = {}
            c[k] = c.get(k, 0) + 1
        if ev.station is not None and k not in _RUN_NEUTRAL:
            self.run.activity = True
        if self.txq_open and k not in (K.TXQ_STOP, K.TXQ_WAKE):
            self._txq_check(ts if ts is not None else up, k in _LEAVING)
        handler = _HANDLERS.get(k)
        if handler is not None:
            handler(self, ev)
        st = self.tracker.feed(ev) if ev.station is not None else None
        if st is not None:
            self._timeline(ev)
        if k not in _POST_KINDS:
            pass
        elif k == K.EAPOL_TIMEOUT:
            group = st.last_tx_group if st is not None else False
            self.note("group_key_handshake_timeout" if group else "handshake_timeout", ev)
            self._hs_timeout(ev, group)
        elif k == K.HANDSHAKE_COMPLETED and ev.station is not None:
            self.hs_open.pop((ev.station, bool(ev.params.get("group"))), None)
        elif k in (K.DEAUTH, K.DISASSOC, K.CLIENT_DISCONNECTED):
            _disconnect_reason(self, ev, st.after_cleanup if st is not None else False)
        elif k == K.RETRY_LIMIT:
            state = str(ev.params.get("state", "")).upper()
            group = "GROUP" in state or "REKEY" in state
            self.note("group_key_handshake_timeout" if group else "handshake_timeout", ev)
            self._hs_timeout(ev, group)
            if ev.station is not None:  # the retry limit is final: this attempt did not recover
                if self.hs_open.pop((ev.station, group), None) is not None:
                    self.hs_unrecovered[group] += 1
        if st is not None and self.tracker.ended:
            self._drain()

    def _txq_stalled(self, dev: str, ref: tuple[str, int]) -> None:
        self.txq_open.pop(dev, None)
        self.note("tx_queue_stall", None, station="", ref=ref)
        self.keys["tx_stuck"] = self.keys.get("tx_stuck", 0) + 1

    def _txq_check(self, t: float | None, leaving: bool) -> None:
        """A queue stopped and not woken within :data:`TXQ_STALL_S` (or still stopped when a station
        leaves after that long) is a stall."""
        for dev, (since, ref) in list(self.txq_open.items()):
            if since is not None and t is not None and (t > 1e8) != (since > 1e8):
                continue  # an uptime and a wall-clock time (no clock alignment yet): not comparable
            if since is not None and t is not None and t - since >= TXQ_STALL_S:
                self._txq_stalled(dev, ref)
            elif leaving and (since is None or t is None):
                self._txq_stalled(dev, ref)

    def _hs_timeout(self, ev: Event, group: bool) -> None:
        key = (ev.station or "", group)
        if key not in self.hs_open and len(self.hs_open) < 4096:
            self.hs_open[key] = (ev.file, ev.line)

    def _drain(self) -> None:
        for s in self.tracker.ended:
            self._session_ended(s)
        self.tracker.ended.clear()

    def _session_ended(self, s: Session) -> None:
        if s.eapol_tx1 >= 1 and s.eapol_rx == 0 and (s.timeouts or s.outcome == "failed"):
            self.note("missing_eapol_rx", None, station=s.mac, ref=s.end_ref or s.start_ref)
        d = s.duration()
        if d is not None:
            self.session_s.append(d)
        c = s.connect_ms()
        if c is not None:
            self.connect_ms.append(c)
        if s.outcome in ("ap_stopped", "ap_restart") or s.end is None or s.client:
            return
        ref = s.end_ref or ("-", 0)
        while self.recent_ends and s.end - self.recent_ends[0][0] > MASS_WINDOW_S:
            self.recent_ends.popleft()
        self.recent_ends.append((s.end, s.mac, ref))
        if len({m for _t, m, _r in self.recent_ends}) < len(self.recent_ends):
            # the same station twice in the window is not a mass event
            last = self.recent_ends.pop()
            self.recent_ends = deque(e for e in self.recent_ends if e[1] != last[1])
            self.recent_ends.append(last)
        if len(self.recent_ends) >= MASS_MIN_STATIONS:
            self.mass_events += 1
            for _t, _i, r in self.recent_ends:
                self.note("mass_disassociation", None, ref=r)
            self.recent_ends.clear()

    def finish(self) -> None:
        for (_mac, group) in self.hs_open:
            self.hs_unrecovered[group] += 1
        self.hs_open.clear()
        self._close_run()
        self._judge_stops()
        _wmt_context(self)
        self.tracker.finish()
        self._drain()
        for st in self.tracker.stations.values():
            cur = st.current
            if cur is not None and cur.eapol_tx1 >= 1 and cur.eapol_rx == 0 and cur.timeouts:
                self.note("missing_eapol_rx", None, station=st.mac, ref=cur.start_ref)
        for dev, (since, ref) in list(self.txq_open.items()):
            end = self.last_t
            if since is None or end is None or end - since >= TXQ_STALL_S or self.txq_stops <= 1:
                self._txq_stalled(dev, ref)
        for dev, n in self.link_not_ready.items():
            if n >= 2 and dev not in self.link_ready:
                for ref in self.link_refs.get(dev, []):
                    self.note("iface_missing", None, ref=ref)


def _config(a: Aggregate, ev: Event) -> None:
    if a.runs:
        a._close_run()
    a.runs += 1
    a.tracker.stop_all(ev, "ap_restart")
    a._drain()
    a.run = Run(config_ref=(ev.file, ev.line))


def _startup(a: Aggregate, ev: Event) -> None:
    what = str(ev.params.get("what"))
    if what == "apparmor" and not _AP_DAEMONS.search(ev.text):
        return  # another program's denial
    a.run.errors.add(what)
    refs = a.run.refs.setdefault(what, [])
    if len(refs) < MAX_EVIDENCE:
        refs.append((ev.file, ev.line))
    if what not in ("entropy",):
        a.run.causes.append((ev.text[-240:], (ev.file, ev.line)))
    if ev.params.get("channel"):  # channel / width / DFS refused (a channel problem, running or not)
        a.note("set_channel_failed", ev, station="")
    key = {
        "ap_mode_unsupported": "ap_mode_unsupported",
        "mode_change": "ap_mode_unsupported",
        "busy": "iface_busy_other_process",
        "set_channel": "set_channel_failed",
        "iface_missing": "iface_missing",
        "permission": "permission_denied",
        "entropy": "entropy_warning",
        "config_unsupported": "config_unsupported_by_driver",
        "acs_unsupported": "config_unsupported_by_driver",
        "apparmor": "permission_denied" if _AP_DAEMONS.search(ev.text) else None,
        "device_node": "startup_failure_launcher",
    }.get(what)
    if key:
        a.note(key, ev)
    if what in ("driver_init", "register_frame", "driver_mode", "busy", "ap_mode_unsupported"):
        if what != "busy" or "Register frame" in ev.text:
            a.note("driver_init_failed", ev)
    if what == "device_node":
        a.note("startup_failure", ev)


def _note(a: Aggregate, ev: Event) -> None:
    """Catalogued informational lines that tell about the run: radar outside a CAC means the AP was up."""
    what = ev.params.get("what")
    if what == "cac_start":
        a.run.cac = True
    elif what == "radar" and not a.run.cac:
        a.run.activity = True  # radar is only reported on a channel the AP was operating on


def _supervisor(a: Aggregate, ev: Event) -> None:
    """r2wifi's supervisor: a recovery (its step, cause and time) and its outcome."""
    what = ev.params.get("what")
    t = ev.ts
    step = str(ev.params.get("step") or "unknown")
    if what == "recovery_start":
        key = (step, str(ev.params.get("reason_text") or ""))
        if key in a.recovery_counts or len(a.recovery_counts) < MAX_RECOVERY_KINDS:
            a.recovery_counts[key] += 1
        if len(a.recoveries) < MAX_EVIDENCE * 4:
            a.recoveries.append({"start": t, "step": ev.params.get("step"), "reason": ev.params.get("reason_text"),
                                 "ok": None, "ref": (ev.file, ev.line)})
        a.note("x_supervisor_recovery", ev, station="")
        return
    open_rec = next((r for r in reversed(a.recoveries) if r["ok"] is None and r["step"] == ev.params.get("step")),
                    None)
    if what == "recovery_failed":
        a.recovery_failures[step] += 1
    if what in ("recovery_ok", "recovery_failed") and open_rec is not None:
        open_rec["end"] = t
        open_rec["ok"] = what == "recovery_ok"
    if what in ("recovery_failed", "degraded"):
        a.note("x_supervisor_recovery_failed", ev, station="")
    else:
        a.note("x_supervisor_recovery", ev, station="")


def _run_end(a: Aggregate, ev: Event) -> None:
    """The daemon's run ended (nl80211 deinit): judge it now; later lines belong to the next run."""
    a._close_run()
    a.run = Run(config_ref=(ev.file, ev.line))


def _service_failed(a: Aggregate, ev: Event) -> None:
    """systemd says the AP or station daemon's unit failed: that run ended (a fatal line of its own)."""
    a.note("service_failed", ev, station="")
    if "hostapd" in ev.text or "wpa_supplicant" in ev.text:
        a.run.errors.add("fatal")
        a.run.refs.setdefault("fatal", []).append((ev.file, ev.line))


def _enabled(a: Aggregate, ev: Event) -> None:
    a.run.enabled = True
    a.run.stopped = False
    if a.run.iface_disabled:
        a.note("interface_flap", ev)
        a.run.iface_disabled = False


def _iface_state(a: Aggregate, ev: Event) -> None:
    old, new = ev.params.get("old"), ev.params.get("new")
    if new == "ENABLED":
        _enabled(a, ev)
    elif new in ("DISABLED", "DISABED") and old == "ENABLED":
        _stop(a, ev)
    elif new in ("DISABLED", "DISABED"):
        a.run.disabled_without_enable = not a.run.enabled
        a.run.refs.setdefault("disabled", []).append((ev.file, ev.line))


def _stop(a: Aggregate, ev: Event) -> None:
    a._stop(ev)
    a._drain()


def _ap_disabled(a: Aggregate, ev: Event) -> None:
    if a.run.enabled:
        _stop(a, ev)
    else:
        a.run.disabled_without_enable = True
        a.run.refs.setdefault("disabled", []).append((ev.file, ev.line))


def _terminating(a: Aggregate, ev: Event) -> None:
    if ev.file in a.client_files and ev.file not in a.ap_files:
        return  # the station's wpa_supplicant stopping, not the AP
    if a.run.enabled:
        _stop(a, ev)


def _iface_disabled(a: Aggregate, ev: Event) -> None:
    a.run.iface_disabled = True
    a.note("interface_flap_candidate", ev)


def _iface_enabled(a: Aggregate, ev: Event) -> None:
    if a.run.iface_disabled:
        a.note("interface_flap", ev)
        for ref in a.evidence.get("interface_flap_candidate", [])[-1:]:
            a.note("interface_flap", None, ref=ref)
        a.run.iface_disabled = False


def _benign(a: Aggregate, ev: Event) -> None:
    what = str(ev.params.get("what"))
    a.benign[what] += 1
    if what != "poll_ok" or a.benign[what] <= 3:
        a.note("benign_noise", ev, station="")
    else:
        a.keys["benign_noise"] = a.keys.get("benign_noise", 0) + 1


def _driver_error(a: Aggregate, ev: Event) -> None:
    what = str(ev.params.get("what"))
    key = {
        "sdio_timeout": "sdio_bus_timeout",
        "sdio_card_removed": "sdio_bus_timeout",
        "sdio_nak": "sdio_bus_timeout",
        "fw_cmd_timeout": "firmware_cmd_timeout",
    }.get(what, "driver_error")
    a.note(key, ev, station="")
    if what == "set_channel":
        a.note("set_channel_failed", ev, station="")


def _kernel_warning(a: Aggregate, ev: Event) -> None:
    if ev.params.get("start"):
        return
    if ev.params.get("benign"):
        a.note("kernel_warning_benign", ev, station="")
        a.benign[str(ev.params.get("what"))] += 1
        a.note("benign_noise", ev, station="")
        return
    a.note("kernel_warning", ev, station="")


def _txq_stop(a: Aggregate, ev: Event) -> None:
    a.txq_stops += 1
    t = ev.ts if ev.ts is not None else ev.uptime
    if ev.params.get("full"):
        a.txq_full += 1
        a.note("tx_queue_full", ev, station="")
        a.note("driver_error", ev, station="")
    if ev.params.get("stuck"):  # the driver itself says the queue is stuck
        a.txq_episodes += 1
        a.note("tx_queue_stall", ev, station="")
        return
    a._txq_check(t, False)
    dev = str(ev.params.get("dev") or ev.params.get("queue") or "")
    if dev not in a.txq_open and len(a.txq_open) < 64:
        a.txq_episodes += 1
        a.txq_open[dev] = (t, (ev.file, ev.line))
    if t is not None:
        w = a.txq_window
        w.append(t)
        while w and t - w[0] > 10.0:
            w.popleft()
        if len(w) > a.txq_max_rate:
            a.txq_max_rate = len(w)
            if len(w) >= 20:
                a.note("tx_queue_churn", ev, station="")


def _txq_wake(a: Aggregate, ev: Event) -> None:
    """Pair a wake with the queue it wakes: by interface name, else by wlan_gen2's BSS index (0 is the
    station interface, the others the AP/P2P one), else (one driver, one queue) every stopped queue."""
    a.txq_wakes += 1
    t = ev.ts if ev.ts is not None else ev.uptime
    a._txq_check(t, False)
    dev = ev.params.get("dev")
    if isinstance(dev, str) and dev in a.txq_open:
        del a.txq_open[dev]
        return
    bss = str(ev.params.get("bss", ""))
    if bss.isdigit():
        sta = bss == "0"
        match = [d for d in a.txq_open if d.startswith(("wlan", "sta")) == sta]
        if match:
            for d in match:
                del a.txq_open[d]
            return
    a.txq_open.clear()


def _wmt(a: Aggregate, ev: Event) -> None:
    """A MediaTek WMT line: its marker's finding (the WMT table says which); context lines wait for finish()."""
    marker = str(ev.params.get("marker"))
    a.wmt[marker] += 1
    m = wmt.BY_KEY.get(str(ev.params.get("key")))
    if m is not None:
        fields = ev.params.get("fields")
        a.wmt_ctx.feed(m, fields if isinstance(fields, dict) else {}, (ev.file, ev.line))
    key = wmt.kind_of(marker)
    if key == "startup_failure":
        a.note("startup_failure_launcher", ev, station="")
    if key:
        a.note(key, ev, station="")


def _wmt_context(a: Aggregate) -> None:
    """Section 7.3 / 11.2: the BT part's ``ret:-1`` is benign unless the lines around it show a real failure."""
    ctx = a.wmt_ctx
    if not ctx.seen:
        return
    refs = [r for r in ctx.context_refs if isinstance(r, tuple)]
    if ctx.failed:
        for ref in refs + [r for r in ctx.failure_refs if isinstance(r, tuple)]:
            a.note("wmt_init_failed", None, station="", ref=ref)
        return
    for ref in refs:
        a.benign["wmt_bt_part_init"] += 1
        a.note("benign_noise", None, station="", ref=ref)


Handler = Callable[["Aggregate", Event], None]


def _note_kind(key: str) -> Handler:
    def h(a: Aggregate, ev: Event) -> None:
        a.note(key, ev)

    return h


def _eapol_tx(a: Aggregate, ev: Event) -> None:
    sta = ev.station
    if sta is None or ev.params.get("group"):
        return
    msg = ev.params.get("msg")
    target = a.ptk_m1 if msg == 1 else a.ptk_m3 if msg == 3 else None
    if target is not None and len(target) < 4096:
        target.add(sta)


def _handshake(a: Aggregate, ev: Event) -> None:
    a.note("group_handshake_completed" if ev.params.get("group") else "handshake_completed", ev)


def _auth(a: Aggregate, ev: Event) -> None:
    if ev.params.get("noack"):
        a.note("auth_not_acked", ev)


def _assoc_reject(a: Aggregate, ev: Event) -> None:
    st = ev.params.get("status")
    if isinstance(st, int) and len(a.assoc_statuses) < 32:
        a.assoc_statuses.add(st)
    a.note("assoc_reject", ev)


def _link(a: Aggregate, ev: Event) -> None:
    dev = str(ev.params.get("dev"))
    if ev.kind == "link_ready":
        a.link_ready.add(dev)
    else:
        a.link_not_ready[dev] += 1
        refs = a.link_refs.setdefault(dev, [])
        if len(refs) < 4:
            refs.append((ev.file, ev.line))


def _disconnect_reason(a: Aggregate, ev: Event, after_cleanup: bool = False) -> None:
    r = ev.params.get("reason")
    if after_cleanup and ev.params.get("mlme") and r == 2:
        # hostapd's own deauth when it removes a station that already left: not a disconnect reason
        a.note("benign_noise", ev, station="")
        a.benign["cleanup_deauth"] += 1
        return
    if isinstance(r, int):
        a.note(f"reason:{r}", ev)
        a.reasons[r] += 1
        if ev.params.get("client") and ev.params.get("by") == "ap" and r in _HANDSHAKE_REASONS:
            # the AP dropped this client because a key handshake timed out (802.11 reasons 15 / 16)
            group = _HANDSHAKE_REASONS[r]
            a.note("group_key_handshake_timeout" if group else "handshake_timeout", ev)
            a.hs_unrecovered[group] += 1
    if ev.params.get("by") == "sta":
        a.note("station_initiated_disconnect", ev)


# events of a station leaving (a stopped queue still open then is a stall once the bound has passed)
_LEAVING = frozenset({K.STA_DISCONNECTED, K.DISASSOC, K.DEAUTH, K.INACTIVITY, K.CLIENT_DISCONNECTED})

# the daemons an AppArmor denial must name to concern the AP
_AP_DAEMONS = re.compile(r"hostapd|wpa_supplicant|dnsmasq")

# IEEE 802.11 reason codes of a key handshake timeout -> group key?
_HANDSHAKE_REASONS = {15: False, 16: True}

# station-carrying kinds that do not show the daemon was up (rejections before any session)
_RUN_NEUTRAL = frozenset({"acl_reject"})

# kinds with bookkeeping after the station machine ran (see the tail of Aggregate.add)
_POST_KINDS = frozenset({K.EAPOL_TIMEOUT, K.HANDSHAKE_COMPLETED, K.DEAUTH, K.DISASSOC, K.CLIENT_DISCONNECTED,
                         K.RETRY_LIMIT})

# Event kinds that only a station's own daemon logs, and kinds that only the AP logs.
_CLIENT_KINDS = frozenset({K.CLIENT_CONNECTED, K.CLIENT_DISCONNECTED, K.CLIENT_ASSOC_REJECT,
                           K.CLIENT_AUTH_TIMEOUT})
_AP_KINDS = frozenset({K.AP_CONFIG_FILE, K.AP_ENABLED, K.AP_DISABLED, K.STA_CONNECTED,
                       K.STA_DISCONNECTED, K.EAPOL_TX})

_HANDLERS: dict[str, Handler] = {
    K.AP_CONFIG_FILE: _config,
    K.STARTUP_ERROR: _startup,
    K.AP_ENABLED: _enabled,
    K.IFACE_STATE: _iface_state,
    K.AP_DISABLED: _ap_disabled,
    K.AP_TERMINATING: _terminating,
    K.IFACE_DISABLED: _iface_disabled,
    K.IFACE_ENABLED: _iface_enabled,
    K.BENIGN: _benign,
    K.DRIVER_ERROR: _driver_error,
    K.KERNEL_WARNING: _kernel_warning,
    K.TXQ_STOP: _txq_stop,
    K.TXQ_WAKE: _txq_wake,
    K.WMT: _wmt,
    K.FIRMWARE_CRASH: _note_kind("firmware_crash"),
    "module_mismatch": _note_kind("kernel_module_mismatch"),
    "service_failed": _service_failed,
    K.RUN_END: _run_end,
    K.SUPERVISOR: _supervisor,
    K.NOTE: _note,
    "acl_reject": _note_kind("mac_acl_reject"),
    K.CLIENT_AUTH_TIMEOUT: _note_kind("client_auth_timeout"),
    K.CLIENT_ASSOC_REJECT: _assoc_reject,
    "client_invalid_mic": _note_kind("client_invalid_eapol_mic"),
    "client_wrong_key": _note_kind("client_wrong_key"),
    K.INVALID_MIC: _note_kind("invalid_mic"),
    K.PSK_MISMATCH: _note_kind("invalid_mic"),
    K.REPLAY_MISMATCH: _note_kind("eapol_replay_counter_mismatch"),
    K.HANDSHAKE_COMPLETED: _handshake,
    K.EAPOL_TX: _eapol_tx,
    K.AUTH: _auth,
    "link_ready": _link,
    "link_not_ready": _link,
}
