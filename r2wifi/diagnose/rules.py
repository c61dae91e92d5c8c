"""The findings catalogue: every rule with its stable code, kind, severity, docs and check.

Theory of operation: a rule is a small function over the bounded
:class:`~r2wifi.diagnose.aggregate.Aggregate` (counters, evidence per key, per-station sessions)
registered with :func:`rule`, which also carries the rule's documentation: what it means, why it
matters, an example log excerpt and the fix. ``docs/findings/<CODE>.md`` and the index are
generated from this table (``python -m r2wifi.diagnose.catalogue --write docs/findings``).

Rules of this file:
* Codes are stable (``R2W1xx`` station lifecycle, ``R2W2xx`` AP start-up, ``R2W3xx``
  driver/kernel, ``R2W4xx`` MediaTek WMT, ``R2W5xx`` service); never reuse or renumber one.
* ``kind`` comes from ``shared/spec/finding-kinds.md``; severity follows it: ``info`` for normal
  behaviour worth showing, ``warning``/``error`` for something to act on.
* A rule returns findings, never raises; evidence is capped (:data:`MAX_EVIDENCE`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from r2wifi.diagnose.aggregate import Aggregate
from r2wifi.diagnose.sessions import reason_text, status_text

MAX_EVIDENCE = 12
Finding = dict[str, object]
Check = Callable[[Aggregate, "Rule"], list[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    kind: str
    severity: str
    title: str
    meaning: str
    why: str
    example: str
    fix: str
    check: Check


RULES: list[Rule] = []


def rule(code: str, kind: str, severity: str, title: str, *, meaning: str, why: str, example: str,
         fix: str) -> Callable[[Check], Check]:
    def deco(fn: Check) -> Check:
        RULES.append(Rule(code, kind, severity, title, meaning.strip(), why.strip(), example.strip("\n"),
                          fix.strip(), fn))
        return fn

    return deco


def make(r: Rule, a: Aggregate, key: str | Iterable[str], *, severity: str | None = None, title: str | None = None,
         params: dict[str, object] | None = None, explanation: str | None = None,
         stations: Iterable[str] | None = None, count: int | None = None) -> Finding:
    keys = [key] if isinstance(key, str) else list(key)
    ev: list[dict[str, object]] = []
    seen: set[tuple[str, int]] = set()
    stas: set[str] = set(stations or [])
    n = 0
    for k in keys:
        n += a.keys.get(k, 0)
        for ref in a.evidence.get(k, []):
            if ref not in seen and len(ev) < MAX_EVIDENCE:
                seen.add(ref)
                ev.append({"file": ref[0], "line": ref[1]})
        if stations is None:
            stas |= {s for s in a.key_stations.get(k, set()) if s}
    ev.sort(key=lambda e: (str(e["file"]), int(str(e["line"]))))
    return {
        "kind": r.kind,
        "code": r.code,
        "severity": severity or r.severity,
        "title": title or r.title,
        "stations": sorted(stas),
        "params": params or {},
        "evidence": ev,
        "count": count if count is not None else n,
        "explanation": explanation or r.meaning,
        "fix": r.fix,
    }


# ============================================================== station / connection lifecycle


@rule("R2W102", "assoc_disassoc_loop", "warning", "station associates and drops again repeatedly",
      meaning="A station associated at least three times and each time left again before the connection was "
              "complete (no completed handshake / AP-STA-CONNECTED).",
      why="The station never gets a usable link; users see 'connecting...' forever or 'authentication failed'.",
      example="wlan0: STA b8:27:eb:96:4c:9d IEEE 802.11: associated\n"
              "wlan0: STA b8:27:eb:96:4c:9d IEEE 802.11: disassociated\n"
              "wlan0: STA b8:27:eb:96:4c:9d IEEE 802.11: associated\n"
              "wlan0: STA b8:27:eb:96:4c:9d IEEE 802.11: disassociated\n"
              "wlan0: STA b8:27:eb:96:4c:9d IEEE 802.11: associated\n"
              "wlan0: STA b8:27:eb:96:4c:9d IEEE 802.11: disassociated",
      fix="Check the station side first (its own log, driver and firmware; forget and re-add the network). On "
          "the AP, look at the other findings for the same station (wrong passphrase, missing EAPOL replies).")
def _loop(a: Aggregate, r: Rule) -> list[Finding]:
    stas: list[str] = []
    refs: list[tuple[str, int]] = []
    n = 0
    for st in a.tracker.stations.values():
        fails = [s for s in st.sessions if s.outcome == "failed" and s.failure_stage in ("association", "key_handshake")]
        if st.client or len(fails) < 3:
            continue
        stas.append(st.mac)
        n += len(fails)
        refs += [s.start_ref for s in fails if s.start_ref][:4]
    if not stas:
        return []
    f = make(r, a, [], stations=stas, count=n, params={"stations": len(stas), "attempts": n},
             explanation=f"{len(stas)} station(s) associated {n} times in all without completing the connection.")
    f["evidence"] = [{"file": x[0], "line": x[1]} for x in refs[:MAX_EVIDENCE]]
    return [f]


@rule("R2W103", "connect_disconnect_churn", "warning", "station keeps reconnecting",
      meaning="A station completed its connection and then disconnected again; repeated short sessions are "
              "churn. One or two reconnects are reported as info.",
      why="Each reconnect interrupts traffic (calls drop, downloads stall). Frequent short sessions point at "
          "power saving, roaming, inactivity timers or driver trouble.",
      example="phy1-ap0: AP-STA-CONNECTED aa:bb:cc:dd:ee:ff auth_alg=sae\n"
              "phy1-ap0: AP-STA-DISCONNECTED aa:bb:cc:dd:ee:ff\n"
              "phy1-ap0: AP-STA-CONNECTED aa:bb:cc:dd:ee:ff auth_alg=open",
      fix="Look at the disconnect reasons reported with this finding; raise ap_max_inactivity or disable "
          "skip_inactivity_poll issues, update the station's driver, and check the AP's own driver findings.")
def _churn(a: Aggregate, r: Rule) -> list[Finding]:
    groups: dict[bool, list[tuple[str, int, int, list[tuple[str, int]], set[int]]]] = {True: [], False: []}
    for st in a.tracker.stations.values():
        ended = [s for s in st.sessions if s.outcome == "connected" and s.end_ref is not None]
        if not ended:
            continue
        durs = [d for d in (s.duration() for s in ended) if d is not None]
        short = [d for d in durs if d < 120.0]
        warn = len(short) >= 3 or (len(ended) >= 5 and len(short) >= len(durs) // 2)
        refs = [s.end_ref for s in ended if s.end_ref]
        groups[warn].append((st.mac, len(ended), len(short), refs, {s.reason for s in ended if s.reason is not None}))
    out = []
    for warn in (True, False):
        g = groups[warn]
        if not g:
            continue
        n = sum(x[1] for x in g)
        short_n = sum(x[2] for x in g)
        reasons = sorted(set().union(*(x[4] for x in g)))
        f = make(r, a, [], stations=[x[0] for x in g], count=n, severity="warning" if warn else "info",
                 title=r.title if warn else "station disconnected and reconnected",
                 params={"sessions": n, "short_sessions": short_n, "reasons": reasons},
                 explanation=f"{len(g)} station(s): {n} completed session(s) ended by a disconnect, "
                             f"{short_n} of them shorter than 2 minutes.")
        refs = [ref for x in g for ref in x[3][:3]]
        f["evidence"] = [{"file": x[0], "line": x[1]} for x in refs[:MAX_EVIDENCE]]
        out.append(f)
    return out


@rule("R2W104", "handshake_timeout", "warning", "4-way handshake timed out",
      meaning="The AP sent an EAPOL-Key message of the 4-way handshake and retransmitted it until 'EAPOL-Key "
              "timeout' or 'Retry limit reached': the station did not answer in time. When every such "
              "handshake completed after the retransmission it is reported as info.",
      why="The station cannot get keys, so it is disconnected (usually with reason 2 or 15).",
      example="wlan0: STA d8:9b:3b:d5:88:22 WPA: EAPOL-Key timeout\n"
              "wlan0: STA d8:9b:3b:d5:88:22 WPA: PTKSTART: Retry limit 4 reached",
      fix="If the station never replies at all see 'missing EAPOL replies'; otherwise try a different station "
          "driver, disable power saving on the station, or raise wpa_pairwise_update_count.")
def _hs_timeout(a: Aggregate, r: Rule) -> list[Finding]:
    if not a.keys.get("handshake_timeout"):
        return []
    if a.hs_unrecovered[False]:
        return [make(r, a, "handshake_timeout")]
    return [make(r, a, "handshake_timeout", severity="info",
                 title="4-way handshake message retransmitted, then completed",
                 explanation="EAPOL-Key timeouts occurred but every affected handshake completed afterwards.")]


@rule("R2W106", "wrong_passphrase", "warning", "wrong passphrase (MIC failure on 4-way message 2/4)",
      meaning="The station's EAPOL-Key 2/4 failed the MIC check (or hostapd reported "
              "AP-STA-POSSIBLE-PSK-MISMATCH) and the same station never completed a handshake; on the client "
              "side, wpa_supplicant disabled the network with reason=WRONG_KEY.",
      why="The station derived different keys: almost always a mistyped passphrase (or a stale saved "
          "network). When the same station completes a handshake elsewhere in the log it is not reported, "
          "nor is a client-side WRONG_KEY when the AP's debug log shows it sent message 3/4 to every station "
          "it started a handshake with (3/4 is only sent after 2/4's MIC checked out: the key matched, and "
          "the client's guess comes from a handshake that timed out later).",
      example="wlan0: STA XX:XX:XX:XX:XX:XX WPA: invalid MIC in msg 2/4 of 4-Way Handshake\n"
              "wlan0: AP-STA-POSSIBLE-PSK-MISMATCH XX:XX:XX:XX:XX:XX",
      fix="Forget the network on the station and enter the passphrase again; check wpa_passphrase in the AP "
          "configuration (8-63 characters, exact case) and that the station supports the AKM (WPA2 vs WPA3).")
def _wrong_psk(a: Aggregate, r: Rule) -> list[Finding]:
    bad = sorted(s for s in a.key_stations.get("invalid_mic", set())
                 if s and s in a.tracker.stations and not a.tracker.stations[s].handshake_ever)
    client = a.keys.get("client_wrong_key", 0)
    if client and not bad and a.ptk_m3 and not (a.ptk_m1 - a.ptk_m3):
        client = 0  # the AP side saw every handshake pass the MIC check (see "why")
    if not bad and not client:
        return []
    keys = (["invalid_mic"] if bad else []) + (["client_wrong_key"] if client else [])
    return [make(r, a, keys, stations=bad)]


@rule("R2W108", "group_key_handshake_timeout", "warning", "group key (GTK) handshake timed out",
      meaning="A group-key rekey message (1/2) was not answered before 'EAPOL-Key timeout'. When every such "
              "rekey completed after the retransmission it is reported as info.",
      why="A station that misses the new group key can no longer decrypt broadcast/multicast (ARP, DHCP, "
          "mDNS): 'connected but no internet' until it reconnects.",
      example="athp0_wlan0: STA 04:d6:aa:1a:6c:90 WPA: sending 1/2 msg of Group Key Handshake\n"
              "athp0_wlan0: STA 04:d6:aa:1a:6c:90 WPA: EAPOL-Key timeout",
      fix="Set a longer wpa_group_rekey (or 0 to disable periodic rekeying) and check the station's power "
          "saving and driver.")
def _gtk(a: Aggregate, r: Rule) -> list[Finding]:
    if not a.keys.get("group_key_handshake_timeout"):
        return []
    if a.hs_unrecovered[True]:
        return [make(r, a, "group_key_handshake_timeout")]
    return [make(r, a, "group_key_handshake_timeout", severity="info",
                 title="group key message retransmitted, then completed",
                 explanation="Group-key (GTK) rekey timeouts occurred but every affected rekey completed afterwards.")]


@rule("R2W109", "deauth_reason", "warning", "deauthentication / disassociation reason",
      meaning="A deauthentication or disassociation carried an IEEE 802.11 reason code; one finding per "
              "distinct code. Reasons 3 and 8 (the station is leaving) are normal and reported as info.",
      why="The reason code says which side ended the connection and why (2: previous authentication no "
          "longer valid, e.g. after a failed handshake; 4: inactivity; 15: 4-way handshake timeout).",
      example="wlan0: STA 00:13:e8:96:ff:7f MLME: MLME-DEAUTHENTICATE.indication(00:13:e8:96:ff:7f, 3)",
      fix="Follow the reason: 2/15 -> see handshake findings; 4 -> inactivity settings; 1/0 -> driver or "
          "station-side logs.")
def _reasons(a: Aggregate, r: Rule) -> list[Finding]:
    out = []
    for key in sorted((k for k in a.keys if k.startswith("reason:")), key=lambda k: int(k[7:])):
        code = int(key[7:])
        sev = "info" if code in (3, 8) else "warning"
        out.append(make(r, a, key, severity=sev, params={"reason": code},
                        title=f"disconnect reason {code}: {reason_text(code)}",
                        explanation=f"IEEE 802.11 reason {code}: {reason_text(code)}."))
    return out


@rule("R2W111", "station_inactivity", "warning", "station removed for inactivity",
      meaning="The AP removed a station it considered inactive ('disassociated due to inactivity', or the "
              "DEAUTH/REMOVE timer on a station that was still connected and came straight back).",
      why="The station did not answer the AP's inactivity poll - typical of aggressive power saving or a "
          "driver that drops null-data frames; the user sees a short outage and a reconnect.",
      example="wlan1: AP-STA-CONNECTED a0:20:a6:0a:2d:c8\n"
              "wlan1: STA a0:20:a6:0a:2d:c8 IEEE 802.11: disassociated due to inactivity\n"
              "wlan1: STA a0:20:a6:0a:2d:c8 IEEE802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)",
      fix="Raise ap_max_inactivity in hostapd.conf (e.g. 3600) or set skip_inactivity_poll=1; update the "
          "station firmware / disable its power saving.")
def _inactivity(a: Aggregate, r: Rule) -> list[Finding]:
    refs: list[tuple[str, int]] = []
    stas = []
    n = 0
    for st in a.tracker.stations.values():
        kicks = [s for s in st.sessions if s.inactivity == "kick"]
        if kicks or st.kicks:
            stas.append(st.mac)
            n += max(st.kicks, len(kicks))
            refs += [s.end_ref for s in kicks if s.end_ref]
    if not stas:
        return []
    f = make(r, a, [], stations=stas, count=n)
    f["evidence"] = [{"file": x[0], "line": x[1]} for x in sorted(set(refs))[:MAX_EVIDENCE]]
    return [f]


@rule("R2W112", "auth_not_acked", "warning", "authentication not acknowledged / authentication retry storm",
      meaning="The station was not acknowledging the AP's authentication/association responses, or kept "
              "re-sending Authentication (4 or more in a row within seconds).",
      why="The AP's transmissions do not reach the station (TX path, antenna, channel, driver) so the station "
          "retries until it gives up.",
      example="1539711731.100000: wlan0: STA 44:80:eb:cb:e5:88 IEEE 802.11: did not acknowledge authentication "
              "response",
      fix="Check the AP radio's TX path: antenna connectors, TX power, channel (try another), driver/firmware "
          "updates; compare with the other radio of the AP.")
def _auth_noack(a: Aggregate, r: Rule) -> list[Finding]:
    stas = [st for st in a.tracker.stations.values() if st.fast_auth_burst or st.max_auth_burst >= 5]
    if not stas and not a.keys.get("auth_not_acked"):
        return []
    f = make(r, a, "auth_not_acked", stations=[s.mac for s in stas] or None)
    if not f["evidence"]:
        refs = [s.start_ref for st in stas for s in st.sessions if s.auths >= 4 and s.start_ref]
        f["evidence"] = [{"file": x[0], "line": x[1]} for x in refs[:MAX_EVIDENCE]]
    return [f]


@rule("R2W113", "mass_disassociation", "warning", "many stations dropped at the same moment",
      meaning="Three or more stations lost their connection within two seconds (not at an AP stop).",
      why="Points at the AP, not the stations: a firmware reset, channel switch/radar, or a driver restart.",
      example="1539711731.000000: wlan0: AP-STA-CONNECTED 11:22:33:44:55:01\n"
              "1539711731.100000: wlan0: AP-STA-CONNECTED 11:22:33:44:55:02\n"
              "1539711731.200000: wlan0: AP-STA-CONNECTED 11:22:33:44:55:03\n"
              "1539711931.000000: wlan0: AP-STA-DISCONNECTED 11:22:33:44:55:01\n"
              "1539711931.100000: wlan0: AP-STA-DISCONNECTED 11:22:33:44:55:02\n"
              "1539711931.200000: wlan0: AP-STA-DISCONNECTED 11:22:33:44:55:03",
      fix="Look at the kernel log at that moment (firmware crash, DFS radar event, driver reset).")
def _mass(a: Aggregate, r: Rule) -> list[Finding]:
    return [make(r, a, "mass_disassociation", count=a.mass_events)] if a.mass_events else []


@rule("R2W115", "assoc_reject", "warning", "association rejected",
      meaning="An association attempt was rejected with an IEEE 802.11 status code (client side "
              "CTRL-EVENT-ASSOC-REJECT or an AssocResp with non-zero status).",
      why="The status code says why (16: authentication timeout - the AP did not answer; 17: AP full).",
      example="wlan0: CTRL-EVENT-ASSOC-REJECT bssid=00:00:00:00:00:00 status_code=16",
      fix="Follow the status code; a zero BSSID means the station's driver generated it (timeout).")
def _assoc_reject(a: Aggregate, r: Rule) -> list[Finding]:
    if not a.keys.get("assoc_reject"):
        return []
    out = []
    statuses: list[int | None] = [*sorted(a.assoc_statuses)] or [None]
    for st in statuses:
        params: dict[str, object] = {"status": st} if st is not None else {}
        title = f"association rejected: {status_text(st)}" if st is not None else r.title
        out.append(make(r, a, "assoc_reject", params=params, title=title))
    return out


@rule("R2W120", "benign_noise", "info", "known-harmless messages",
      meaning="Messages that look like errors but are known to be harmless (brcmfmac set_key noise, "
              "netlink attribute 213 version skew, AP-STA-POLL-OK, WMT pinctrl/unknown field, ...).",
      why="They are listed so nobody chases them.",
      example="nl80211: set_key failed; err=-22 Invalid argument)\n"
              "[WMT-CONF][E]wmt_conf_parse_pair(323):unknown field 'mt6620.defAnt'.",
      fix="Nothing to do.")
def _benign(a: Aggregate, r: Rule) -> list[Finding]:
    if not a.keys.get("benign_noise"):
        return []
    whats = dict(sorted(a.benign.items()))
    return [make(r, a, "benign_noise", params={"what": whats}, stations=[],
                 explanation="Recognised harmless messages: " + ", ".join(f"{k} x{v}" for k, v in whats.items()))]


# ============================================================== AP start-up

@rule("R2W201", "startup_failure", "error", "the AP daemon failed to start",
      meaning="A hostapd or wpa_supplicant run ended without ever becoming ENABLED / CONNECTED and without "
              "any station (it gave up: 'Failed to initialize interface', configuration errors, AP-DISABLED, "
              "systemd 'Failed with result'), whatever the message; its last error lines are the cause. Also "
              "reported when a chip launcher cannot open its device node.",
      why="No access point at all.",
      example="nl80211 driver initialization failed.\nwlan1: AP-DISABLED\n"
              "hostapd_free_hapd_data: Interface wlan1 wasn't started",
      fix="See the start-up findings reported with it (interface busy, no AP mode, channel) for the cause.")
def _startup(a: Aggregate, r: Rule) -> list[Finding]:
    if not a.keys.get("startup_failure"):
        return []
    causes = a.startup_causes[-6:]
    explanation = r.meaning + (f" Last error: {causes[-1]}" if causes else "")
    return [make(r, a, "startup_failure", stations=[], params={"cause": causes}, explanation=explanation)]


# ============================================================== driver / kernel


@rule("R2W305", "tx_queue_stall", "warning", "transmit queue stopped and not draining",
      meaning="The driver's TX queue was full (frames dropped), stayed stopped, or stopped/woke at a very high "
              "rate (MediaTek netif_stop_subqueue / netif_wake_subqueue).",
      why="Traffic stalls while the queue is stuck; on the MT6625L this is the known AP throughput problem.",
      example="p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512",
      fix="Limit the AP rate with an htb qdisc (`r2wifi` shaping), update the driver; a stuck queue needs a "
          "WiFi off/on cycle.")
def _txq(a: Aggregate, r: Rule) -> list[Finding]:
    keys = [k for k in ("tx_queue_full", "tx_queue_stall", "tx_queue_churn") if a.keys.get(k)]
    if not keys:
        return []
    return [make(r, a, keys, stations=[], params={"stops": a.txq_stops, "wakes": a.txq_wakes,
                                                   "full_drops": a.txq_full, "max_stops_per_10s": a.txq_max_rate})]


@rule("R2W306", "kernel_warning", "warning", "kernel WARNING / Oops / driver warning",
      meaning="The kernel printed a WARNING with call trace, an Oops, or a driver warning. Known-harmless "
              "warnings (netlink attribute 213 version skew) are reported as info.",
      why="A warning in the Wi-Fi stack means an unexpected state; Oopses can leave the driver dead.",
      example="WARNING: CPU: 0 PID: 240 at net/mac80211/sta_info.c:1288",
      fix="Update the kernel; report the trace upstream with the driver name.")
def _kwarn(a: Aggregate, r: Rule) -> list[Finding]:
    if a.keys.get("kernel_warning"):
        return [make(r, a, "kernel_warning", stations=[])]
    if a.keys.get("kernel_warning_benign"):
        return [make(r, a, "kernel_warning_benign", stations=[], severity="info",
                     title="harmless kernel warning (netlink attribute length, hostapd/kernel version skew)")]
    return []


# ============================================================== service


@rule("R2W502", "x_supervisor_recovery", "warning", "the r2wifi supervisor recovered the AP",
      meaning="`r2wifi run` detected a fault (its cause is the reason it logged) and ran a recovery step "
              "(restart hostapd, reset WiFi, reset the chip). A failed recovery, or a supervisor that "
              "reports itself degraded, is an error. hostapd stopping during a recovery is the supervisor "
              "restarting it, not a clean shutdown.",
      why="Each recovery interrupts every station; repeated ones point at the underlying fault (TX stall, "
          "firmware crash, chip reset) named in the reason.",
      example="2026-12-05T21:00:00.123 recovery: restart-hostapd (reason: TX queue stalled for 30 s)\n"
              "2026-12-05T21:00:03.456 recovery: restart-hostapd done in 3.33 s (verified)",
      fix="Follow the reason: see the other findings at that time (TX stall, firmware, WMT); `r2wifi status` "
          "shows the recovery history.")
def _recovery(a: Aggregate, r: Rule) -> list[Finding]:
    keys = [k for k in ("x_supervisor_recovery", "x_supervisor_recovery_failed", "x_supervisor_restart")
            if a.keys.get(k)]
    if not keys:
        return []
    recs = [{"t": x["start"], "step": x["step"], "reason": x["reason"], "ok": x["ok"]} for x in a.recoveries]
    failed = bool(a.keys.get("x_supervisor_recovery_failed")) or any(x["ok"] is False for x in recs)
    last = recs[-1] if recs else None
    explanation = r.meaning if last is None else (
        f"{len(recs)} recovery(ies); last: {last['step']} because {last['reason']}"
        + ("" if last["ok"] is None else " (succeeded)" if last["ok"] else " (FAILED)") + ".")
    return [make(r, a, keys, stations=[], severity="error" if failed else None,
                 params={"recoveries": recs[-12:]}, count=len(recs) or None, explanation=explanation)]


# ============================================================== one-line rules, as data

@dataclass(frozen=True, slots=True)
class OneLine:
    """A rule that reports its aggregate ``key`` when anything noted it: no logic of its own, only docs."""

    code: str
    kind: str
    severity: str
    title: str
    meaning: str
    why: str
    example: str
    fix: str
    key: str
    stations: bool = True  # report the stations noted with the key (False: a station-less finding)


ONE_LINE: list[OneLine] = [
    OneLine("R2W101", "handshake_completed", "info", "4-way handshake completed",
        meaning="At least one station completed the WPA pairwise 4-way handshake: keys were installed and the "
                "station could send data.",
        why="Shows that the passphrase and the EAPOL path work at least some of the time; a problem that "
            "appears later in the same log is then not a configuration error.",
        example="wlan0: STA 02:00:00:00:01:00 WPA: pairwise key handshake completed (RSN)",
        fix="Nothing to do.",
            key="handshake_completed"),
    OneLine("R2W105", "missing_eapol_rx", "warning", "AP never receives the station's EAPOL replies",
        meaning="The AP sent EAPOL-Key message 1/4 but never received message 2/4 from that station in the "
                "same attempt.",
        why="A missing reply is a transport problem (frames lost on air, or not delivered by the AP driver to "
            "hostapd), not a wrong passphrase: a wrong passphrase still produces a 2/4 with a bad MIC.",
        example="wlan0: STA d8:9b:3b:d5:88:22 WPA: sending 1/4 msg of 4-Way Handshake\n"
                "wlan0: STA d8:9b:3b:d5:88:22 WPA: EAPOL-Key timeout",
        fix="Check the AP driver's EAPOL path (control port / monitor interface), update the driver or use the "
            "in-kernel one, and check the station's driver; try another channel.",
            key="missing_eapol_rx"),
    OneLine("R2W107", "eapol_replay_counter_mismatch", "warning", "EAPOL-Key frames dropped (replay counter / state)",
        meaning="hostapd dropped an EAPOL-Key reply because its replay counter did not match the last request, "
                "or because it arrived in a state that does not expect it.",
        why="Usually the reply to a retransmission crossed with the next retransmission: the link is slow or "
            "lossy, or the station answers late (power save).",
        example="wlan0: STA e0:b9:a5:34:57:83 WPA: received EAPOL-Key 2/2 Group with unexpected replay counter",
        fix="Harmless when the handshake still completes; otherwise treat like a handshake timeout (station power "
            "saving, radio conditions, driver).",
            key="eapol_replay_counter_mismatch"),
    OneLine("R2W110", "station_initiated_disconnect", "info", "the station itself disconnected",
        meaning="The station sent the deauthentication/disassociation (or its own supplicant generated it).",
        why="A disconnect the station chose is normal when the user leaves or switches networks; combined with "
            "churn it points at the station's roaming or power management.",
        example="disassocation: STA=3a:xx:xx:xx:xx:xx reason_code=8",
        fix="Nothing to do on the AP unless it repeats; then look at the station's own log.",
            key="station_initiated_disconnect"),
    OneLine("R2W114", "mac_acl_reject", "warning", "station rejected by the MAC access list",
        meaning="hostapd refused authentication because the station's MAC is not allowed (macaddr_acl / "
                "accept_mac_file / deny_mac_file).",
        why="The station can never join; phones with MAC randomisation hit this after an update.",
        example="Station 9c:2e:a1:91:cc:29 not allowed to authenticate",
        fix="Add the MAC to accept_mac_file (or remove it from deny_mac_file), or disable MAC randomisation for "
            "this network on the station.",
            key="mac_acl_reject"),
    OneLine("R2W116", "client_auth_timeout", "warning", "client: authentication with the AP timed out",
        meaning="A station-side log shows Authentication frames to the AP going unanswered.",
        why="The AP did not answer at all: AP firmware hang, AP out of range, or AP not beaconing on that channel.",
        example="wlan7: authentication with b8:27:eb:33:98:14 timed out",
        fix="Check the AP side at that moment (firmware crash, overloaded AP), signal strength and channel.",
            key="client_auth_timeout"),
    OneLine("R2W117", "client_invalid_eapol_mic", "warning", "client: EAPOL-Key MIC invalid",
        meaning="The station's supplicant dropped an EAPOL-Key frame with an invalid MIC.",
        why="When the handshake also completes sometimes, this is a driver corrupting or mishandling EAPOL "
            "frames, not a wrong password.",
        example="wlan0: WPA: Invalid EAPOL-Key MIC - dropping packet",
        fix="Update or replace the station's Wi-Fi driver; if it never completes, re-enter the passphrase.",
            key="client_invalid_eapol_mic"),
    OneLine("R2W121", "clean_shutdown", "info", "AP stopped cleanly",
        meaning="hostapd left the ENABLED state in an orderly way (stop, restart, reload).",
        why="Disconnects at that moment are caused by the stop, not by the stations.",
        example="wlan0: interface state COUNTRY_UPDATE->ENABLED\nwlan0: AP-ENABLED\n"
              "wlan0: interface state ENABLED->DISABLED\nwlan0: AP-DISABLED\nwlan0: CTRL-EVENT-TERMINATING",
        fix="Nothing to do.",
            key="clean_shutdown", stations=False),
    OneLine("R2W202", "iface_busy_other_process", "error", "interface held by another network manager",
        meaning="hostapd could not put the interface in AP mode because another nl80211 user owns it "
                "(-16 EBUSY / -114 EALREADY, or 'Could not configure driver mode' without -95).",
        why="wpa_supplicant, NetworkManager, dhcpcd or iwd manage the interface and fight hostapd for it.",
        example="nl80211: Register frame command failed (type=208): ret=-114 (Operation already in progress)\n"
                "nl80211: Could not configure driver mode",
        fix="Stop the other manager for this interface: `nmcli device set wlan0 managed no`, add "
            "`denyinterfaces wlan0` to dhcpcd.conf, `systemctl stop wpa_supplicant`, then start hostapd again.",
            key="iface_busy_other_process", stations=False),
    OneLine("R2W203", "ap_mode_unsupported", "error", "the adapter/driver has no AP mode",
        meaning="Setting the interface to AP mode failed with -95 (EOPNOTSUPP).",
        why="The driver cannot act as an access point; no configuration change will help.",
        example="nl80211: Failed to set interface 4 to mode 3: -95 (Operation not supported)",
        fix="Check `iw list` ('Supported interface modes' must list AP); use an adapter/driver with AP support.",
            key="ap_mode_unsupported", stations=False),
    OneLine("R2W204", "set_channel_failed", "error", "channel or bandwidth rejected",
        meaning="The driver refused the configured channel / channel width (hostapd 'Could not set channel', "
                "brcmfmac 'set chanspec ... fail').",
        why="The AP cannot start on that channel (regulatory domain, DFS, unsupported VHT80/HT40 layout).",
        example="Could not set channel for kernel driver\nInterface initialization failed",
        fix="Pick a non-DFS channel, set country_code, or reduce the width (vht_oper_chwidth=0, no HT40).",
            key="set_channel_failed", stations=False),
    OneLine("R2W205", "config_unsupported_by_driver", "error", "a configured feature is not supported by the driver",
        meaning="hostapd reported that the driver does not support a configured feature.",
        why="hostapd refuses to start (or runs without the feature).",
        example="Management frame protection (ieee80211w) not supported by the driver",
        fix="Remove the feature from hostapd.conf (e.g. ieee80211w, wmm, ht_capab flags) or change driver.",
            key="config_unsupported_by_driver", stations=False),
    OneLine("R2W206", "iface_missing", "error", "interface missing or never ready",
        meaning="The configured interface does not exist (No such device), or the kernel reports it 'not ready' "
                "repeatedly and it never becomes ready.",
        why="hostapd cannot use an interface that is not there: wrong name, driver not loaded, renamed by udev.",
        example="Could not read interface wlan1mon flags: No such device",
        fix="Check `ip link` for the real name and set interface= accordingly; load the driver first.",
            key="iface_missing", stations=False),
    OneLine("R2W207", "permission_denied", "error", "operation not permitted",
        meaning="An operation on the interface failed with EPERM.",
        why="hostapd lacks privileges (not root / missing CAP_NET_ADMIN) or rfkill blocks the radio.",
        example="Could not set interface wlan1mon flags (DOWN): Operation not permitted",
        fix="Run hostapd as root (or with CAP_NET_ADMIN and CAP_NET_RAW); check `rfkill list` and unblock.",
            key="permission_denied", stations=False),
    OneLine("R2W208", "entropy_warning", "warning", "not enough entropy for key generation",
        meaning="hostapd could not read enough strong random data at start-up.",
        why="Keys are derived later (when the first station connects) - weaker start, and older hostapd may "
            "refuse connections for a while.",
        example="random: Only 0/20 bytes of strong random data available from /dev/random",
        fix="Install and enable an entropy daemon (rng-tools / haveged) or use a kernel >= 5.6.",
            key="entropy_warning", stations=False),
    OneLine("R2W209", "interface_flap", "warning", "the AP interface went down and up",
        meaning="INTERFACE-DISABLED followed by INTERFACE-ENABLED within one hostapd run.",
        why="Every station is dropped each time; often another tool toggles the interface or the driver resets.",
        example="wlan1mon: INTERFACE-DISABLED\nwlan1mon: INTERFACE-ENABLED",
        fix="Find what takes the interface down (NetworkManager, ifupdown hooks, a driver reset in the kernel log).",
            key="interface_flap", stations=False),
    OneLine("R2W210", "driver_init_failed", "error", "driver-level AP initialisation failed",
        meaning="nl80211 driver initialisation failed (mode change, frame registration, driver mode).",
        why="hostapd cannot even attach to the interface.",
        example="nl80211: Could not configure driver mode\nnl80211 driver initialization failed.",
        fix="See the reported cause (interface busy, no AP mode); check the driver in dmesg.",
            key="driver_init_failed", stations=False),
    OneLine("R2W301", "driver_error", "warning", "Wi-Fi driver errors",
        meaning="The Wi-Fi driver logged errors (failed commands, bus down, netdev conflicts, dropped frames).",
        why="Driver errors explain stalls and disconnects that look like station problems.",
        example="ieee80211 phy1: rt2x00queue_write_tx_frame: Error - Dropping frame due to full tx queue 2",
        fix="Update kernel / driver / firmware; check power supply and the other driver findings.",
            key="driver_error", stations=False),
    OneLine("R2W302", "firmware_crash", "error", "Wi-Fi firmware crashed",
        meaning="The Wi-Fi firmware halted, trapped, hit its watchdog or was restarted by the driver.",
        why="All stations are dropped; often the radio stays dead until the driver is reloaded or reboot.",
        example="ieee80211 phy0: brcmf_fw_crashed: Firmware has halted or crashed",
        fix="Update the firmware package; avoid the trigger (DFS channels, many stations); reload the driver "
            "(or let `r2wifi run` recover) when it happens.",
            key="firmware_crash", stations=False),
    OneLine("R2W303", "firmware_cmd_timeout", "error", "commands to the firmware time out",
        meaning="The driver's control messages to the firmware timed out (-110 / 'timed out').",
        why="The firmware or the bus to it hangs; configuration changes and key installs fail.",
        example="brcmf_proto_bcdc_query_dcmd: brcmf_proto_bcdc_msg failed w/status -110",
        fix="Reload the driver / reboot; update firmware; check the SDIO/PCIe findings.",
            key="firmware_cmd_timeout", stations=False),
    OneLine("R2W304", "sdio_bus_timeout", "error", "SDIO bus timeouts or card removal",
        meaning="The SDIO host controller timed out talking to the Wi-Fi chip, or the card dropped off the bus.",
        why="A hung bus takes the whole radio down; only a reset recovers.",
        example="mmc1: Timeout waiting for hardware interrupt.\nbrcmfmac: mmc_submit_one: CMD53 sg block write failed -110",
        fix="Check power supply and SDIO clock (lower it in the device tree), update kernel/firmware.",
            key="sdio_bus_timeout", stations=False),
    OneLine("R2W307", "kernel_module_mismatch", "error", "kernel module version mismatch",
        meaning="A Wi-Fi module disagrees about symbol versions with the running kernel.",
        why="The module cannot load: no driver, no interface.",
        example="[   71.553894] rtl8187: disagrees about version of symbol ieee80211_free_hw",
        fix="Rebuild / reinstall the module (or backports) for the running kernel; reboot into the matching kernel.",
            key="kernel_module_mismatch", stations=False),
    OneLine("R2W308", "driver_not_loaded", "error", "the Wi-Fi driver is not present or not built",
        meaning="The kernel says the Wi-Fi driver part is not built in / not loaded "
                "(MediaTek: CONFIG_MTK_COMBO_WIFI is not defined).",
        why="Nothing can bring up a wlan interface.",
        example="[WLAN-MOD-INIT][I]do_wlan_drv_init:CONFIG_MTK_COMBO_WIFI is not defined",
        fix="Build the kernel with the driver (BPI-R2: CONFIG_MTK_COMBO_WIFI=y); install it with `r2wifi kernel`.",
            key="driver_not_loaded", stations=False),
    OneLine("R2W501", "service_failed", "error", "the system service failed",
        meaning="systemd (or another service manager) reports the AP/DHCP unit failed or masked.",
        why="The service does not run or restarts in a loop.",
        example="hostapd.service: Failed with result 'exit-code'.",
        fix="`systemctl status hostapd` / `journalctl -u hostapd`; unmask with `systemctl unmask hostapd`.",
            key="service_failed", stations=False),
    # MediaTek WMT
    OneLine("R2W401", "wmt_init_failed", "error", "WMT/consys driver initialisation failed",
            meaning="The MediaTek connectivity (WMT/consys) driver failed to initialise: common driver init failed "
                    "(another code than the Bluetooth part's -1, or with 'abort connectivity driver init', a launcher "
                    "that cannot open /dev/stpwmt, or the WiFi part not built), chip id/power check failed, "
                    "regulator/reset/EMI problems. The 'ret:-1' line alone is the compiled-out Bluetooth part of "
                    "every healthy boot and is reported as harmless.",
            why="Without WMT nothing on the MT6625L (WiFi, BT) can be powered on.",
            example="[WCN-MOD-INIT][E]do_connectivity_driver_init(58):do common driver init failed, ret:-16\n"
                    "[WCN-MOD-INIT][E]do_connectivity_driver_init(60):abort connectivity driver init, because "
                    "common part is not ready",
            fix="Check the device tree (consys node, reserved EMI memory, regulators) and that the kernel has the "
          "connectivity drivers built in; `r2wifi doctor` checks these.", key="wmt_init_failed"),
    OneLine("R2W402", "wmt_launcher_missing", "error", "WMT launcher missing: STP mode never set",
            meaning="The WMT core had no HIF info or its user command channel timed out: the launcher "
          "(stp_uart_launcher, or `r2wifi chip launch`) is not running or not answering.",
            why="Power-on of the chip is impossible until the launcher sets STP mode.",
            example="[WMT-CORE][E]wmt_core_stp_init(648):WMT-CORE: no hif info!",
            fix="Start the launcher before turning WiFi on (`r2wifi chip launch`, or let `r2wifi run` supervise it).", key="wmt_launcher_missing"),
    OneLine("R2W403", "wmt_patch_failed", "error", "ROM patch search/download failed",
            meaning="The WMT core could not find or download the ROM patch.",
            why="The chip stays unusable without its patch.",
            example="[WMT-CORE][E]wmt_core_patch_dwn(1167):patch dwn fail (-1),patch_index(0)",
            fix="Install the firmware set (ROMv2_lm_patch_1_0_hdr.bin etc.) into the launcher's -p directory; "
          "`r2wifi firmware check`.", key="wmt_patch_failed"),
    OneLine("R2W404", "wmt_btif_failure", "error", "BTIF/STP transport failure",
            meaning="The STP transport over BTIF failed: write errors, no ACK, CRC errors, RX timeouts from the chip.",
            why="The chip is unreachable; usually a device-tree (BTIF node/IRQ/clock) problem.",
            example="[STP-BTIF][E]stp_btif_tx(160):stp btif write fail,len(12),written(0),retry_left(0),"
                    "pid[88/wmtd]",
            fix="Check the BTIF node, IRQ and clocks in the device tree; power-cycle the board.", key="wmt_btif_failure"),
    OneLine("R2W405", "wmt_wifi_on_failed", "error", "turning WiFi on through /dev/wmtWifi failed",
            meaning="The WMT WiFi function did not come on (op timeout, wlan_gen2 probe failure, missing firmware image, "
          "net device not found).",
            why="No wlan0/ap0 interface.",
            example="[MTK-WIFI] WIFI_write: WMT turn on WIFI fail!",
            fix="Check WIFI_RAM_CODE_7623 and the NVRAM in /lib/firmware, and that the launcher is up; retry "
          "`r2wifi wifi ap`.", key="wmt_wifi_on_failed"),
]


def simple(key: str, stations: bool = True) -> Check:
    def check(a: Aggregate, r: Rule) -> list[Finding]:
        if not a.keys.get(key):
            return []
        return [make(r, a, key) if stations else make(r, a, key, stations=[])]

    return check


for _d in ONE_LINE:
    rule(_d.code, _d.kind, _d.severity, _d.title, meaning=_d.meaning, why=_d.why, example=_d.example,
         fix=_d.fix)(simple(_d.key, _d.stations))


def evaluate(a: Aggregate) -> list[Finding]:
    """Run every rule; findings sorted by severity (error first), then code."""
    out: list[Finding] = []
    for r in RULES:
        out.extend(r.check(a, r))
    order = {"error": 0, "warning": 1, "info": 2}
    out.sort(key=lambda f: (order.get(str(f["severity"]), 3), str(f["code"])))
    return out
