"""Per-station session state machine: events in, sessions out (sans-IO, h11 style).

Theory of operation: every station (AP side: the client MAC; client side: the peer BSSID) has a
:class:`Station` whose ``state`` is one of IDLE, AUTH, ASSOC, KEYING, CONNECTED. :data:`TABLE`
maps ``(state, event group)`` to ``(new state, action)``; :meth:`Tracker.feed` looks the pair up
and runs the action (start a session, note progress, end it). A session starts at the first
authentication or association after IDLE, is *connected* once the pairwise handshake completes
(or AP-STA-CONNECTED / CTRL-EVENT-CONNECTED), and ends at the first disconnect event.

Rules (the pitfalls of log-formats.md section 7):
* Disconnect events that follow the end of a session (the second ``disassociated`` of a
  device-SME station, the MLME indication with the reason, AP-STA-DISCONNECTED) are merged into
  the session that just ended: they only fill in the reason and who sent it.
* ``deauthenticated due to inactivity (timer DEAUTH/REMOVE)`` is cleanup when the station had
  already left; it is a kick (``inactivity``) when the station was still in a session, or when
  nothing is known about it and it comes straight back (within :data:`REJOIN_S` seconds).
* ``Configuration file:`` (a new hostapd run) and AP shutdown end every open session with
  outcome ``ap_restart`` / ``ap_stopped``: those are not client problems.
* Memory is bounded: a station keeps its last :data:`MAX_SESSIONS` sessions plus counters.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from r2wifi.logs.model import Event, K

IDLE, AUTH, ASSOC, KEYING, CONNECTED = "idle", "auth", "assoc", "keying", "connected"
MAX_SESSIONS = 100
REJOIN_S = 30.0

# IEEE 802.11 reason codes (Table 9-49) and status codes (Table 9-50), the common ones.
REASONS: dict[int, str] = {
    0: "reserved (0) - driver/stack internal disconnect",
    1: "unspecified reason",
    2: "previous authentication no longer valid",
    3: "station is leaving (deauthenticated)",
    4: "disassociated due to inactivity",
    5: "AP is unable to handle all associated stations",
    6: "class 2 frame received from nonauthenticated station",
    7: "class 3 frame received from nonassociated station",
    8: "station is leaving the BSS (disassociated)",
    9: "station requesting (re)association is not authenticated",
    10: "power capability unacceptable",
    11: "supported channels unacceptable",
    12: "BSS transition management",
    13: "invalid information element",
    14: "message integrity code (MIC) failure",
    15: "4-way handshake timeout",
    16: "group key handshake timeout",
    17: "information element in 4-way handshake differs",
    18: "invalid group cipher",
    19: "invalid pairwise cipher",
    20: "invalid AKMP",
    21: "unsupported RSNE version",
    22: "invalid RSNE capabilities",
    23: "IEEE 802.1X authentication failed",
    24: "cipher suite rejected by security policy",
    34: "disassociated: excessive frame losses / poor channel conditions",
    45: "peer link timeout / STA not in BSS",
}
STATUSES: dict[int, str] = {
    0: "success",
    1: "unspecified failure",
    10: "cannot support all requested capabilities",
    12: "association denied for a reason outside the standard",
    13: "authentication algorithm not supported",
    15: "authentication rejected: challenge failure",
    16: "authentication timeout (no response in time)",
    17: "AP unable to handle additional associated stations",
    18: "association denied: basic rates not supported",
    30: "association rejected temporarily; try again later",
    31: "robust management frame policy violation",
    40: "invalid information element",
    53: "invalid PMKID",
}


def reason_text(code: int) -> str:
    return REASONS.get(code, f"reason code {code}")


def status_text(code: int) -> str:
    return STATUSES.get(code, f"status code {code}")


@dataclass(slots=True)
class Session:
    mac: str = ""
    start: float | None = None
    start_ref: tuple[str, int] | None = None
    end: float | None = None
    end_ref: tuple[str, int] | None = None
    outcome: str = "open"  # open | connected | failed | ap_stopped | ap_restart
    failure_stage: str | None = None  # authentication | association | key_handshake | dhcp
    connected_at: float | None = None
    connected: bool = False
    reason: int | None = None
    by: str | None = None
    end_kind: str | None = None
    inactivity: str | None = None  # kick | cleanup | pending
    implicit_start: bool = False
    auths: int = 0
    eapol_tx1: int = 0
    eapol_rx: int = 0
    timeouts: int = 0
    group_timeouts: int = 0
    invalid_mic: int = 0
    dhcp: str | None = None  # requested | ack
    client: bool = False

    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max(0.0, self.end - self.start)

    def connect_ms(self) -> float | None:
        if self.start is None or self.connected_at is None:
            return None
        return max(0.0, (self.connected_at - self.start) * 1000.0)

    def to_json(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "start_evidence": _ref(self.start_ref),
            "end_evidence": _ref(self.end_ref),
            "outcome": self.outcome,
            "failure_stage": self.failure_stage,
            "connected": self.connected,
            "time_to_connect_ms": _round(self.connect_ms()),
            "duration_s": _round(self.duration()),
            "disconnect_reason": self.reason,
            "disconnect_reason_text": reason_text(self.reason) if self.reason is not None else None,
            "disconnected_by": self.by,
            "inactivity": self.inactivity,
            "dhcp": self.dhcp,
        }


def _ref(r: tuple[str, int] | None) -> dict[str, object] | None:
    return {"file": r[0], "line": r[1]} if r else None


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


@dataclass(slots=True)
class Station:
    mac: str
    client: bool = False
    state: str = IDLE
    current: Session | None = None
    last: Session | None = None
    sessions: deque[Session] = field(default_factory=lambda: deque(maxlen=MAX_SESSIONS))
    total_sessions: int = 0
    connects: int = 0
    failed: int = 0
    reasons: dict[int, int] = field(default_factory=dict)
    auth_burst: int = 0  # authentications in a row without association
    max_auth_burst: int = 0
    burst_start: float | None = None
    fast_auth_burst: bool = False
    handshake_ever: bool = False
    pending_inactivity: Session | None = None
    kicks: int = 0
    cleanups: int = 0
    last_tx_group: bool = False
    after_cleanup: bool = False  # the last thing seen was an inactivity cleanup of a departed station


Action = Callable[["Tracker", Station, Event], None]
DISCONNECT = "disconnect"
CONNECT = "connect"
PROGRESS = "progress"


_GROUPS: dict[str, str] = {
    K.AUTH: "auth", K.ASSOC: "assoc", K.REASSOC: "assoc", K.HANDSHAKE_COMPLETED: CONNECT,
    K.STA_CONNECTED: CONNECT, K.CLIENT_CONNECTED: CONNECT,
    K.DISASSOC: DISCONNECT, K.DEAUTH: DISCONNECT, K.STA_DISCONNECTED: DISCONNECT, K.CLIENT_DISCONNECTED: DISCONNECT,
    K.INACTIVITY: "inactivity",
    K.EAPOL_TX: PROGRESS, K.EAPOL_RX: PROGRESS, K.EAPOL_TIMEOUT: PROGRESS, K.INVALID_MIC: PROGRESS,
    K.PSK_MISMATCH: PROGRESS, K.REPLAY_MISMATCH: PROGRESS, K.RETRY_LIMIT: PROGRESS,
    K.DHCP_DISCOVER: "dhcp", K.DHCP_ACK: "dhcp",
}


def _group(ev: Event) -> str | None:
    """The table row an event kind feeds (None: not a station-machine event)."""
    g = _GROUPS.get(ev.kind)
    if g is None:
        return None
    if g == "auth":
        return None if ev.params.get("noack") else g
    if ev.kind == K.HANDSHAKE_COMPLETED and ev.params.get("group"):
        return None
    return g


class Tracker:
    """Feeds station events through the table; owns every :class:`Station`."""

    def __init__(self, max_stations: int = 2000) -> None:
        self.stations: dict[str, Station] = {}
        self.max_stations = max_stations
        self.ended: list[Session] = []  # sessions ended by the last feed() (consumers drain it)
        self.active: dict[str, Station] = {}  # stations with an open session or a pending inactivity

    # ----- actions
    def _start(self, st: Station, ev: Event, state: str, implicit: bool = False) -> None:
        s = Session(mac=st.mac, start=_t(ev), start_ref=(ev.file, ev.line), implicit_start=implicit,
                    client=st.client)
        st.current = s
        st.state = state
        st.after_cleanup = False
        self.active[st.mac] = st
        st.total_sessions += 1
        st.sessions.append(s)
        if st.pending_inactivity is not None:
            p = st.pending_inactivity
            t0, t1 = p.end, _t(ev)
            if t0 is not None and t1 is not None and 0 <= t1 - t0 <= REJOIN_S:
                p.inactivity = "kick"
                st.kicks += 1
            else:
                p.inactivity = "cleanup"
                st.cleanups += 1
            st.pending_inactivity = None

    def _end(self, st: Station, ev: Event, outcome: str | None = None) -> None:
        s = st.current
        if s is None:
            return
        s.end = _t(ev)
        s.end_ref = (ev.file, ev.line)
        s.end_kind = ev.kind
        if outcome is not None:
            s.outcome = outcome
        elif s.connected:
            s.outcome = "connected"
        else:
            s.outcome = "failed"
            s.failure_stage = {IDLE: "authentication", AUTH: "association"}.get(st.state, "key_handshake")
            st.failed += 1
        if s.connected and s.dhcp == "requested" and outcome is None:
            s.failure_stage = "dhcp"
        self._merge_reason(st, s, ev)
        st.last = s
        st.current = None
        st.state = IDLE
        self.ended.append(s)

    def _merge_reason(self, st: Station, s: Session, ev: Event) -> None:
        r = ev.params.get("reason")
        if isinstance(r, int) and s.reason is None:
            s.reason = r
            st.reasons[r] = st.reasons.get(r, 0) + 1
        by = ev.params.get("by")
        if isinstance(by, str) and s.by is None:
            s.by = by

    # ----- transitions
    def _auth(self, st: Station, ev: Event) -> None:
        t = _t(ev)
        if st.state in (IDLE, AUTH):
            if st.state == IDLE:
                self._start(st, ev, AUTH)
                st.auth_burst = 0
                st.burst_start = t
            st.auth_burst += 1
            if st.current is not None:
                st.current.auths += 1
            st.max_auth_burst = max(st.max_auth_burst, st.auth_burst)
            if st.auth_burst >= 4 and t is not None and st.burst_start is not None and t - st.burst_start <= 5:
                st.fast_auth_burst = True
            return
        # re-authentication inside a session: the old one is over
        self._end(st, ev)
        self._start(st, ev, AUTH)
        st.auth_burst = 1
        st.burst_start = t

    def _assoc(self, st: Station, ev: Event) -> None:
        if st.state == CONNECTED and ev.kind == K.REASSOC:
            return
        if st.state in (ASSOC, KEYING, CONNECTED):
            self._end(st, ev)
        if st.state == IDLE:
            self._start(st, ev, ASSOC)
        st.state = ASSOC
        st.auth_burst = 0

    def _connect(self, st: Station, ev: Event) -> None:
        if st.state == IDLE:
            self._start(st, ev, CONNECTED, implicit=True)
        s = st.current
        assert s is not None
        if not s.connected:
            s.connected = True
            s.connected_at = _t(ev)
            st.connects += 1
        if ev.kind == K.HANDSHAKE_COMPLETED:
            st.handshake_ever = True
        st.state = CONNECTED

    def _progress(self, st: Station, ev: Event) -> None:
        if st.state == IDLE:
            self._start(st, ev, KEYING, implicit=True)
        s = st.current
        assert s is not None
        k = ev.kind
        if k == K.EAPOL_TX:
            if not ev.params.get("group"):
                if ev.params.get("msg") == 1:
                    s.eapol_tx1 += 1
                if st.state in (AUTH, ASSOC):
                    st.state = KEYING
            st.last_tx_group = bool(ev.params.get("group"))
        elif k == K.EAPOL_RX:
            if not ev.params.get("group"):
                s.eapol_rx += 1
        elif k == K.EAPOL_TIMEOUT:
            if st.last_tx_group:
                s.group_timeouts += 1
            else:
                s.timeouts += 1
        elif k in (K.INVALID_MIC, K.PSK_MISMATCH):
            s.invalid_mic += 1

    def _disconnect(self, st: Station, ev: Event) -> None:
        if st.state != IDLE and st.current is not None:
            self._end(st, ev)
            return
        if st.last is not None and st.last.end_ref is not None:
            self._merge_reason(st, st.last, ev)
            return
        # nothing known about this station yet: a session that started before the log
        self._start(st, ev, CONNECTED, implicit=True)
        s = st.current
        assert s is not None
        s.start = None
        s.connected = True
        self._end(st, ev, outcome="connected")

    def _inactivity(self, st: Station, ev: Event) -> None:
        cleanup = bool(ev.params.get("cleanup"))
        if st.state != IDLE and st.current is not None:
            s = st.current
            self._end(st, ev)
            s.inactivity = "kick"
            st.kicks += 1
            return
        if not cleanup:
            # explicit "disassociated due to inactivity" with nothing open: still a kick
            self._disconnect(st, ev)
            if st.last is not None:
                st.last.inactivity = "kick"
            st.kicks += 1
            return
        if st.last is not None and st.last.end_ref is not None:
            if st.last.inactivity is None:
                st.cleanups += 1
                st.last.inactivity = "cleanup"
            st.after_cleanup = True
            return
        self._disconnect(st, ev)
        if st.last is not None:
            st.last.inactivity = "pending"
            st.pending_inactivity = st.last
            self.active[st.mac] = st

    def _dhcp(self, st: Station, ev: Event) -> None:
        s = st.current or st.last
        if s is None:
            return
        if ev.kind == K.DHCP_ACK:
            s.dhcp = "ack"
        elif s.dhcp is None:
            s.dhcp = "requested"

    # ----- entry points
    def feed(self, ev: Event) -> Station | None:
        """Run one event through its station's machine; returns the station (or None)."""
        mac = ev.station
        group = _group(ev)
        if mac is None or group is None:
            return None
        st = self.stations.get(mac)
        if st is None:
            if group == "dhcp":
                return None  # DHCP of hosts we never saw on the radio (wired clients)
            if len(self.stations) >= self.max_stations:
                return None
            st = Station(mac, client=bool(ev.params.get("client")))
            self.stations[mac] = st
        TABLE[group](self, st, ev)
        return st

    def stop_all(self, ev: Event, outcome: str) -> None:
        """AP stopped or restarted: end every open session with ``outcome``."""
        active = list(self.active.values())
        self.active.clear()
        for st in active:
            if st.client:
                continue
            if st.current is not None:
                self._end(st, ev, outcome=outcome)
            self._resolve_pending(st)
        for st in active:
            if st.client and (st.current is not None or st.pending_inactivity is not None):
                self.active[st.mac] = st

    def finish(self) -> None:
        for st in self.stations.values():
            self._resolve_pending(st)

    def _resolve_pending(self, st: Station) -> None:
        if st.pending_inactivity is not None:
            st.pending_inactivity.inactivity = "cleanup"
            st.cleanups += 1
            st.pending_inactivity = None


TABLE: dict[str, Action] = {
    "auth": Tracker._auth,
    "assoc": Tracker._assoc,
    CONNECT: Tracker._connect,
    PROGRESS: Tracker._progress,
    DISCONNECT: Tracker._disconnect,
    "inactivity": Tracker._inactivity,
    "dhcp": Tracker._dhcp,
}


def _t(ev: Event) -> float | None:
    return ev.ts
