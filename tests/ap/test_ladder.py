"""The supervisor's detectors and recovery ladder, driven with a fake clock (no I/O, no sleeps)."""

from __future__ import annotations

from r2wifi.service.ladder import (
    ApDisabled,
    DaemonExited,
    Done,
    EapolTimeout,
    Health,
    HostapdExited,
    InterfaceFault,
    Ladder,
    LadderConfig,
    LauncherExited,
    Note,
    Recover,
    StaConnected,
    StaDisconnected,
    State,
    Tick,
    TxqStopped,
    TxqWoken,
    WrongKey,
)


def recovers(actions: list) -> list[Recover]:  # type: ignore[type-arg]
    return [a for a in actions if isinstance(a, Recover)]


def test_hostapd_exit_restarts_hostapd_first() -> None:
    """hostapd dying is fixed by the lowest rung, with the reason carried along."""
    lad = Ladder()
    acts = lad.handle(HostapdExited(10.0, code=-9))
    assert acts == [Recover(0, "hostapd exited (exit status -9)", ("hostapd",))]
    assert acts[0].step == "restart-hostapd" and lad.state is State.RECOVERING
    assert lad.handle(Done(10.5, ok=True))[0] == Note("restart-hostapd succeeded; watching again")
    assert lad.state is State.WATCHING


def test_exit_during_recovery_is_ignored() -> None:
    """The hostapd exit our own restart causes does not start a second recovery."""
    lad = Ladder()
    lad.handle(ApDisabled(1.0))
    assert lad.handle(HostapdExited(1.1)) == []
    assert lad.handle(TxqStopped(1.2, "p2p0")) == []


def test_txq_stall_needs_stall_seconds_without_wake() -> None:
    """A stopped queue is a stall only after stall_seconds with no wake; a wake clears it."""
    lad = Ladder(LadderConfig(stall_seconds=5))
    assert lad.handle(TxqStopped(100.0, "p2p0")) == []
    assert lad.next_deadline() == 105.0
    assert lad.handle(Tick(104.9)) == []
    assert lad.handle(TxqWoken(104.95, "bss: 0")) == []
    assert lad.next_deadline() is None
    assert lad.handle(Tick(200.0)) == []
    lad.handle(TxqStopped(300.0, "p2p0"))
    lad.handle(TxqStopped(301.0, "p2p0"))  # a repeated stop keeps the first time
    (rec,) = recovers(lad.handle(Tick(305.0)))
    assert rec.rung == 1 and rec.step == "reset-wifi"
    assert "stopped for 5.0 s" in rec.reason


def test_repeated_fault_climbs_the_ladder_with_backoff() -> None:
    """A fault returning soon after a recovery escalates one rung, after a doubling backoff."""
    lad = Ladder(LadderConfig(backoff_base=2, escalate_window=60))
    assert recovers(lad.handle(HostapdExited(0.0)))[0].rung == 0
    lad.handle(Done(1.0, ok=True))
    acts = lad.handle(HostapdExited(5.0))
    assert recovers(acts) == [] and lad.state is State.BACKOFF
    assert lad.next_deadline() == 7.0
    assert lad.handle(Tick(6.9)) == []
    (rec,) = recovers(lad.handle(Tick(7.0)))
    assert rec.rung == 1
    lad.handle(Done(8.0, ok=True))
    lad.handle(HostapdExited(9.0))
    assert lad.next_deadline() == 13.0  # two recoveries in the window: 2 * 2
    (rec,) = recovers(lad.handle(Tick(13.0)))
    assert rec.step == "reset-chip"


def test_fault_long_after_recovery_starts_at_the_bottom() -> None:
    """Once escalate_window has passed, the next fault starts again at rung 0 with no delay."""
    lad = Ladder(LadderConfig(escalate_window=60))
    lad.handle(TxqStopped(0.0))
    assert recovers(lad.handle(Tick(10.0)))[0].rung == 1
    lad.handle(Done(12.0, ok=True))
    assert recovers(lad.handle(HostapdExited(500.0))) == [Recover(0, "hostapd exited", ("hostapd",))]


def test_failed_recovery_escalates() -> None:
    """A recovery that fails is followed by the next rung up."""
    lad = Ladder(LadderConfig(backoff_base=1))
    lad.handle(HostapdExited(0.0))
    acts = lad.handle(Done(1.0, ok=False, detail="hostapd did not reach ENABLED"))
    assert lad.state is State.BACKOFF and "restart-hostapd failed" in acts[0].message  # type: ignore[union-attr]
    (rec,) = recovers(lad.handle(Tick(lad.next_deadline() or 0)))
    assert rec.rung == 1 and "did not reach ENABLED" in rec.reason


def test_launcher_exit_goes_straight_to_chip_reset() -> None:
    """Losing the launcher needs the chip rung at once."""
    assert recovers(Ladder().handle(LauncherExited(3.0)))[0].step == "reset-chip"


def test_association_loop_detected_per_station() -> None:
    """One station connecting loop_count times in the window is a loop; spread-out reconnects are not."""
    lad = Ladder(LadderConfig(loop_count=4, loop_window=30))
    for i in range(3):
        assert lad.handle(StaConnected(i * 20.0, "aa:bb:cc:00:00:01")) == []
        lad.handle(StaDisconnected(i * 20.0 + 1, "aa:bb:cc:00:00:01"))
    acts: list = []  # type: ignore[type-arg]
    for i in range(4):
        acts += lad.handle(StaConnected(100 + i * 2.0, "aa:bb:cc:00:00:02"))
        acts += lad.handle(StaDisconnected(100 + i * 2.0 + 1, "aa:bb:cc:00:00:02"))
    (rec,) = recovers(acts)
    assert "aa:bb:cc:00:00:02 connected 4 times" in rec.reason


def test_eapol_timeout_storm() -> None:
    """storm_count handshake timeouts within storm_window trigger a recovery; fewer do not."""
    lad = Ladder(LadderConfig(storm_count=3, storm_window=10))
    assert lad.handle(EapolTimeout(0.0, "aa")) == []
    assert lad.handle(EapolTimeout(20.0, "bb")) == []
    assert lad.handle(EapolTimeout(25.0, "cc")) == []
    (rec,) = recovers(lad.handle(EapolTimeout(27.0, "dd")))
    assert "3 EAPOL handshake timeouts" in rec.reason


def test_wrong_passphrase_timeouts_are_not_a_storm() -> None:
    """A client with a wrong key retransmits into timeouts; that is its typo, not an AP fault."""
    lad = Ladder(LadderConfig(storm_count=3, storm_window=60))
    assert lad.handle(EapolTimeout(1.0, "typo")) == []  # before hostapd saw the bad MIC
    assert isinstance(lad.handle(WrongKey(1.5, "typo"))[0], Note)
    for t in (2.0, 3.0, 4.0, 12.0, 13.0, 14.0):
        assert lad.handle(EapolTimeout(t, "typo")) == []
    # other stations still count, and the typo's early timeout was dropped from the count
    assert lad.handle(EapolTimeout(20.0, "aa")) == []
    assert lad.handle(EapolTimeout(21.0, "bb")) == []
    (rec,) = recovers(lad.handle(EapolTimeout(22.0, "cc")))
    assert "3 EAPOL handshake timeouts" in rec.reason


def test_wrong_key_is_forgotten_after_the_window() -> None:
    """A station that typed its key wrong long ago counts again (and the memory stays bounded)."""
    lad = Ladder(LadderConfig(storm_count=2, storm_window=10))
    lad.handle(WrongKey(0.0, "x"))
    assert lad.handle(EapolTimeout(5.0, "x")) == []
    assert lad.handle(EapolTimeout(30.0, "x")) == []
    lad.handle(WrongKey(31.0, "y"))
    assert "x" not in lad.wrong_key
    assert recovers(lad.handle(EapolTimeout(32.0, "x")))


def test_past_the_budget_the_ladder_keeps_trying_at_backoff_max() -> None:
    """More than `limit` recoveries within limit_window: degraded (said once), every fault still recovered
    after backoff_max, and the budget comes back once the window has passed."""
    lad = Ladder(LadderConfig(limit=3, limit_window=1000, backoff_base=1, backoff_max=7, escalate_window=1))
    t = 0.0
    for _ in range(3):
        assert recovers(lad.handle(HostapdExited(t)))
        lad.handle(Done(t + 1, ok=True))
        t += 10
    health: list[Health] = []
    for _ in range(20):  # never a give-up, never a frozen state
        acts = lad.handle(HostapdExited(t))
        health += [a for a in acts if isinstance(a, Health)]
        assert lad.state is State.BACKOFF and lad.next_deadline() == t + 7
        assert recovers(lad.handle(Tick(t + 6.9))) == []
        (rec,) = recovers(lad.handle(Tick(t + 7)))
        assert rec.rung == 0 and rec.daemons == ("hostapd",)
        lad.handle(Done(t + 8, ok=True))
        t += 10
    assert len(health) == 1 and health[0].degraded and "limit 3" in health[0].reason
    assert lad.degraded is not None
    # quiet for a whole window: the next tick says the budget is back
    (back,) = [a for a in lad.handle(Tick(t + 1000)) if isinstance(a, Health)]
    assert back.degraded is False and lad.degraded is None
    assert recovers(lad.handle(HostapdExited(t + 1001)))  # at once again, no backoff


def test_nan_and_inf_in_the_config_never_freeze_recovery() -> None:
    """A nan/inf backoff (past the config check) is replaced: recovery is scheduled at a finite time."""
    import math

    lc, notes = LadderConfig(backoff_base=math.nan, backoff_max=math.inf, limit_window=-1).sanitized()
    assert math.isfinite(lc.backoff_base) and math.isfinite(lc.backoff_max) and lc.limit_window > 0
    assert len(notes) == 3 and any("backoff_base = nan" in n for n in notes)
    lad = Ladder(LadderConfig(backoff_base=math.nan, backoff_max=math.nan, escalate_window=100))
    recovers(lad.handle(HostapdExited(0.0)))
    lad.handle(Done(1.0, ok=True))
    acts = lad.handle(HostapdExited(2.0))
    due = lad.next_deadline()
    assert due is not None and math.isfinite(due) and "nan" not in acts[-1].message  # type: ignore[union-attr]
    assert recovers(lad.handle(Tick(due)))


def test_nan_from_the_supervisor_section_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The supervisor maps [supervisor] keys to the ladder and names a replaced nan by its config key."""
    from r2wifi import records
    from r2wifi.config import default_config
    from r2wifi.service.supervisor import ladder_config_checked

    cfg = default_config()
    cfg = records.replace(cfg, supervisor=records.replace(cfg.supervisor, backoff_initial=float("nan"),
                                                                  max_restarts=float("inf")))
    lc, notes = ladder_config_checked(cfg)
    assert lc.backoff_base == LadderConfig().backoff_base and lc.limit == LadderConfig().limit
    assert any(n.startswith("supervisor.backoff_initial = nan") for n in notes)
    assert any(n.startswith("supervisor.max_restarts") for n in notes)


def test_every_daemon_exit_and_interface_faults_restart_their_daemons() -> None:
    """dnsmasq (or any daemon) exiting restarts that daemon at rung 0; an interface fault names its daemons."""
    lad = Ladder()
    (rec,) = recovers(lad.handle(DaemonExited(1.0, daemon="dnsmasq")))
    assert rec.rung == 0 and rec.daemons == ("dnsmasq",) and rec.step == "restart-dnsmasq"
    lad.handle(Done(2.0, ok=True))
    lad2 = Ladder()
    (rec,) = recovers(lad2.handle(InterfaceFault(5.0, "ap0 lacks 192.168.10.1/24", ("hostapd", "dnsmasq"))))
    assert rec.step == "restart-hostapd+dnsmasq" and "lacks 192.168.10.1/24" in rec.reason
    assert lad2.handle(InterfaceFault(5.5, "ap0 is missing")) == []  # ignored while recovering


def test_log_lines_become_ladder_events_through_the_shared_parser() -> None:
    """Kernel TX-queue lines and hostapd EAPOL timeouts map to the ladder's events."""
    from r2wifi.service.supervisor import events_from_log_line

    stop = "6,12,34567,-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for p2p0, Queue len: 256"
    wake = "6,13,34999,-;kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0"
    eapol = "1795540750.003687: ap0: STA 02:00:00:00:00:01 WPA: EAPOL-Key timeout"
    assert events_from_log_line(stop, file="kmsg", line=1, t=5.0) == [TxqStopped(5.0, "p2p0")]
    assert events_from_log_line(wake, file="kmsg", line=2, t=6.0) == [TxqWoken(6.0, "")]
    assert events_from_log_line(eapol, file="h", line=3, t=7.0) == [EapolTimeout(7.0, "02:00:00:00:00:01")]
    assert events_from_log_line("ap0: AP-ENABLED", file="h", line=4, t=8.0) == []
    mic = "ap0: STA 02:00:00:00:00:01 WPA: invalid MIC in msg 2/4 of 4-Way Handshake"
    assert events_from_log_line(mic, file="h", line=5, t=9.0) == [WrongKey(9.0, "02:00:00:00:00:01")]


def test_control_events_map_to_ladder_events() -> None:
    """hostapd control-socket events become AP and station events."""
    from r2wifi.service.supervisor import event_from_ctrl

    assert event_from_ctrl("AP-DISABLED", None, 1.0) == ApDisabled(1.0)
    assert event_from_ctrl("AP-STA-CONNECTED", "aa:bb:cc:dd:ee:ff", 2.0) == StaConnected(2.0, "aa:bb:cc:dd:ee:ff")
    assert event_from_ctrl("AP-STA-DISCONNECTED", "aa:bb:cc:dd:ee:ff", 3.0) == StaDisconnected(3.0, "aa:bb:cc:dd:ee:ff")
    assert event_from_ctrl("AP-STA-POSSIBLE-PSK-MISMATCH", "aa:bb:cc:dd:ee:ff", 3.5) == WrongKey(3.5, "aa:bb:cc:dd:ee:ff")
    assert event_from_ctrl("CTRL-EVENT-EAP-STARTED", "aa:bb:cc:dd:ee:ff", 4.0) is None


class FakeController:
    """Just enough of ApController for Supervisor.perform: rungs that record calls or fail."""

    def __init__(self, tmp, fail: set[str]) -> None:  # type: ignore[no-untyped-def]
        from r2wifi.config import default_config

        self.cfg = default_config()
        self.dir = tmp
        self.calls: list[str] = []
        self.fail = fail

    def _rung(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise RuntimeError(f"{name} broke")

    def restart_daemons(self, kinds=()) -> None:  # type: ignore[no-untyped-def]
        self._rung("restart_" + "+".join(kinds or ("hostapd",)))

    def verify(self) -> None:
        self.calls.append("verify")

    def expected_daemons(self) -> list[str]:
        return ["hostapd"]

    def reset_wifi(self) -> None:
        self._rung("reset_wifi")

    def reset_chip(self) -> None:
        self._rung("reset_chip")


def test_supervisor_climbs_when_a_rung_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A failing hostapd restart is followed (after its backoff tick) by reset-wifi; all of it logged."""
    import io

    from r2wifi.service.supervisor import Supervisor

    ctl = FakeController(tmp_path, fail={"restart_hostapd"})
    t = [100.0]
    sup = Supervisor(ctl, out=io.StringIO(), clock=lambda: t[0])  # type: ignore[arg-type]
    sup.perform(sup.ladder.handle(HostapdExited(100.0)))
    assert ctl.calls == ["restart_hostapd"] and sup.ladder.state is State.BACKOFF
    t[0] = sup.ladder.next_deadline() or 0.0
    sup.perform(sup.ladder.handle(Tick(t[0])))
    assert ctl.calls == ["restart_hostapd", "reset_wifi", "verify"]
    log = (tmp_path / "supervisor.log").read_text()
    assert "restart-hostapd FAILED: restart_hostapd broke" in log
    assert "recovery: reset-wifi (reason: restart-hostapd failed: restart_hostapd broke)" in log


class _SlowDaemons:
    """The daemons seam, slow to name hostapd's log (a loaded machine), with hostapd alive (our pid)."""

    def __init__(self, log) -> None:  # type: ignore[no-untyped-def]
        self.log = log

    def pid(self, _name: str) -> int:
        import os

        return os.getpid()

    def logfile(self, _name: str):  # type: ignore[no-untyped-def]
        import time

        time.sleep(0.3)
        return self.log


def test_supervisor_announces_itself_only_once_every_watcher_is_in_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Lines hostapd logs right after "supervising" is printed are seen, however slowly the watchers start."""
    import io
    import threading
    import time

    from r2wifi import records
    from r2wifi.service.supervisor import Supervisor

    ctl = FakeController(tmp_path, fail=set())
    ctl.cfg = records.replace(ctl.cfg, chip=records.replace(ctl.cfg.chip, enabled=False))
    log = tmp_path / "hostapd.log"
    log.write_text("1.0: ap0: old line from before the supervisor started\n")
    ctl.daemon_name = "hostapd"  # type: ignore[attr-defined]
    ctl.interface = "ap0"  # type: ignore[attr-defined]
    ctl.daemons = _SlowDaemons(log)  # type: ignore[attr-defined]
    ctl.ctrl_path = lambda: tmp_path / "no-ctrl-socket"  # type: ignore[attr-defined]
    out = io.StringIO()
    sup = Supervisor(ctl, out=out)  # type: ignore[arg-type]
    th = threading.Thread(target=sup.run, daemon=True)
    th.start()
    try:
        deadline = time.monotonic() + 10
        while "supervising" not in out.getvalue():
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.01)
        with open(log, "a") as fh:
            for i in range(5):
                fh.write(f"{time.time():.6f}: ap0: STA 02:00:00:00:00:0{i} WPA: EAPOL-Key timeout\n")
        while "restart_hostapd" not in ctl.calls:
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.02)
        assert "not yet watching" not in out.getvalue()
    finally:
        sup.stop.set()
        th.join(5)


def test_kernel_log_follower_is_reopened_and_survives_an_unparsable_line(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A kernel log that fails is reopened; a line the parser raises on is skipped (reported once), the next is seen."""
    import io
    import queue
    import threading

    from r2wifi.service import supervisor as S

    monkeypatch.setattr(S, "KMSG_RETRY", 0.05)
    real = S.events_from_log_line

    def parse(raw: str, **kw):  # type: ignore[no-untyped-def]
        if "poison" in raw:
            raise ValueError("parser bug")
        return real(raw, **kw)

    monkeypatch.setattr(S, "events_from_log_line", parse)
    opens = []

    def kmsg():  # type: ignore[no-untyped-def]
        opens.append(1)
        if len(opens) == 1:
            raise OSError("kmsg went away")
        return iter(["6,1,100,-;poison line", "6,2,200,-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512"])

    out = io.StringIO()
    sup = S.Supervisor(FakeController(tmp_path, fail=set()), kmsg=kmsg, out=out)  # type: ignore[arg-type]
    th = threading.Thread(target=sup._watch_kmsg, daemon=True)
    th.start()
    try:
        ev = sup.q.get(timeout=10)
    except queue.Empty:
        raise AssertionError(out.getvalue()) from None
    finally:
        sup.stop.set()
        th.join(5)
    assert isinstance(ev, TxqStopped)
    log = out.getvalue()
    assert "kernel log follower stopped (kmsg went away)" in log
    assert "kernel log follower running again" in log
    assert log.count("the log parser failed on (ValueError: parser bug)") == 1


def test_a_different_kind_of_fault_does_not_climb() -> None:
    """A dnsmasq exit soon after a hostapd restart starts at rung 0 (after the backoff); hostapd again climbs."""
    lad = Ladder(LadderConfig(backoff_base=1, escalate_window=60))
    recovers(lad.handle(HostapdExited(0.0)))
    lad.handle(Done(1.0, ok=True))
    lad.handle(DaemonExited(2.0, daemon="dnsmasq"))
    (rec,) = recovers(lad.handle(Tick(lad.next_deadline() or 0)))
    assert rec.rung == 0 and rec.daemons == ("dnsmasq",)
    lad.handle(Done(4.0, ok=True))
    lad.handle(DaemonExited(5.0, daemon="dnsmasq"))
    (rec,) = recovers(lad.handle(Tick(lad.next_deadline() or 0)))
    assert rec.step == "reset-wifi"


class _VerifyFails(FakeController):
    def verify(self) -> None:
        self.calls.append("verify")
        if self.calls.count("verify") == 1:
            raise RuntimeError("not restored: ap0 lacks 192.168.10.1/24")


def test_a_rung_whose_result_does_not_verify_is_a_failure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """restart-hostapd ran but the check finds the address missing: not 'done', the next rung runs."""
    import io

    from r2wifi.service.supervisor import Supervisor

    ctl = _VerifyFails(tmp_path, fail=set())
    t = [10.0]
    sup = Supervisor(ctl, out=io.StringIO(), clock=lambda: t[0])  # type: ignore[arg-type]
    sup.perform(sup.ladder.handle(HostapdExited(10.0)))
    t[0] = sup.ladder.next_deadline() or 0.0
    sup.perform(sup.ladder.handle(Tick(t[0])))
    assert ctl.calls == ["restart_hostapd", "verify", "reset_wifi", "verify"]
    log = (tmp_path / "supervisor.log").read_text()
    assert "restart-hostapd FAILED: not restored: ap0 lacks 192.168.10.1/24" in log
    import re

    assert re.search(r"reset-wifi done in [\d.]+ s \(verified\)", log)
    assert sup.ladder.state is State.WATCHING


def test_degraded_is_logged_published_and_sent_to_systemd(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Past the budget: a 'degraded' log line, supervisor.json says so, STATUS= starts with 'degraded'."""
    import io
    import json

    from r2wifi import records
    from r2wifi.service.supervisor import Supervisor

    class Rec:
        watchdog_interval = None

        def __init__(self) -> None:
            self.sent: list[str] = []

        def status(self, text: str) -> bool:
            self.sent.append(text)
            return True

    ctl = FakeController(tmp_path, fail=set())
    ctl.cfg = records.replace(ctl.cfg, supervisor=records.replace(
        ctl.cfg.supervisor, max_restarts=1, backoff_initial=0.5, backoff_max=0.5))
    t = [0.0]
    note = Rec()
    sup = Supervisor(ctl, out=io.StringIO(), clock=lambda: t[0], notifier=note)  # type: ignore[arg-type]
    sup.perform(sup.ladder.handle(HostapdExited(0.0)))
    t[0] = 1.0
    sup.perform(sup.ladder.handle(HostapdExited(1.0)))
    assert "degraded: 1 recoveries within 600 s (limit 1); retrying every 0.5 s" in (tmp_path / "supervisor.log").read_text()
    pub = json.loads((tmp_path / "supervisor.json").read_text())
    assert pub["degraded"] is True and "limit 1" in pub["degraded_reason"] and pub["retry_every"] == 0.5
    t[0] = 1.5
    sup.perform(sup.ladder.handle(Tick(1.5)))
    assert ctl.calls == ["restart_hostapd", "verify", "reset_wifi", "verify"]  # still recovering, one rung up
    assert note.sent[-1].startswith("degraded (1 recoveries") or note.sent[-1].startswith("degraded (2 recoveries")


def test_interface_watcher_reports_a_problem_seen_twice_once(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A one-check blip is ignored; a lasting problem becomes one InterfaceFault naming it and the daemons."""
    import io
    import queue
    import threading

    from r2wifi.service import supervisor as S

    monkeypatch.setattr(S, "IFACE_CHECK", 0.01)
    ctl = FakeController(tmp_path, fail=set())
    answers = [["ap0 is down"], [], ["ap0 lacks 192.168.10.1/24"], ["ap0 lacks 192.168.10.1/24"]]
    calls = []

    def problems(*, deep: bool, link: object) -> list[str]:
        calls.append(deep)
        return answers[len(calls) - 1] if len(calls) <= len(answers) else answers[-1]

    ctl.netns = None  # type: ignore[attr-defined]
    ctl.problems = problems  # type: ignore[attr-defined]
    ctl.expected_daemons = lambda: ["hostapd", "dnsmasq"]  # type: ignore[method-assign]
    sup = S.Supervisor(ctl, out=io.StringIO())  # type: ignore[arg-type]
    th = threading.Thread(target=sup._watch_interface, daemon=True)
    th.start()
    try:
        ev = sup.q.get(timeout=10)
        while len(calls) < 8:
            threading.Event().wait(0.01)
    finally:
        sup.stop.set()
        th.join(5)
    assert isinstance(ev, InterfaceFault) and ev.problem == "ap0 lacks 192.168.10.1/24"
    assert ev.daemons == ("hostapd", "dnsmasq") and calls[0] is False
    try:
        extra = sup.q.get_nowait()
    except queue.Empty:
        extra = None
    assert extra is None  # the same lasting problem is reported once
