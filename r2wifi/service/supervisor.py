"""``r2wifi run``: keep the launcher and the AP up; the I/O shell around :mod:`r2wifi.service.ladder`.

Theory of operation. All decisions are made by the sans-IO :class:`~r2wifi.service.ladder.Ladder`;
this module only turns the outside world into its events and its actions into deeds:

* watcher threads push ``(monotonic time, event)`` into one queue:
  - processes: every daemon r2wifi started for the mode (hostapd, dnsmasq; wpa_supplicant and the
    DHCP client in station mode; :meth:`ApController.expected_daemons`) and the launcher when the
    chip is used, each watched through :mod:`r2wifi.procutil` (a pidfd, or pid + start time polling
    on kernels without pidfds); an exit or a missing daemon -> ``DaemonExited(daemon)`` /
    ``LauncherExited``. The pids come from our pid files, so a daemon we did not start is never
    watched or signalled;
  - the interface: every ``IFACE_CHECK`` seconds the shallow health check
    (:meth:`ApController.problems`: interface present and not re-created, up, addresses, qdisc)
    over one netlink session; a problem seen on two checks in a row -> ``InterfaceFault`` (a chip reset that re-creates ``ap0``
    without its addresses is noticed here);
  - hostapd's control socket (ATTACH): ``AP-DISABLED``, ``AP-ENABLED``, ``AP-STA-CONNECTED``,
    ``AP-STA-DISCONNECTED``;
  - the kernel log (``backend.follow_kmsg()``: /dev/kmsg, or the simulator's log) and hostapd's
    captured log, both classified by the one shared parser :func:`r2wifi.logs.events.parse_line`:
    TX queue stop/wake lines and ``EAPOL-Key timeout``;
* the main loop feeds each event to the ladder, or a ``Tick`` when the ladder's deadline comes;
  a ``Recover`` action runs the rung (:class:`~r2wifi.service.ap.ApController`) under the AP lock,
  then verifies the result end to end (:meth:`ApController.verify`), and only then reports
  ``Done(ok=True)``; a rung whose result does not verify is ``Done(ok=False)`` (the next rung).
  Events observed *during* a recovery are dropped (they are its own side effects: the hostapd it
  stopped, the interface it removed);
* the supervisor never exits on its own: past the recovery budget the ladder is *degraded* and
  keeps trying every ``backoff_max`` seconds; that is logged, published in
  ``<state>/ap/supervisor.json`` (``r2wifi status`` shows it) and sent as ``STATUS=degraded: ...``;
* every step is logged with its reason (stderr -> journal, and ``supervisor.log`` in the log dir, else
  ``<state>/ap/``; UTC stamps, rotated: :mod:`r2wifi.logdir`);
* under systemd (``NOTIFY_SOCKET``) it sends READY=1 once the AP is up, STATUS= on every change and
  WATCHDOG=1 at half of ``WATCHDOG_USEC`` from the main loop (so a hung loop is restarted);
* on stop every watcher thread is joined, so its sockets (the control client's bound path) are
  closed and removed.
"""

from __future__ import annotations

import json
import math
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from r2wifi.errors import UserError
from r2wifi.fsutil import atomic_write
from r2wifi.logdir import LogSink, iso_prefix, open_file, supervisor_log
from r2wifi.procutil import ProcessHandle, wait_any_exit
from r2wifi.service import ladder as L
from r2wifi.service.ap import ApController, ApLock
from r2wifi.service.sdnotify import Notifier

RECOVERY_MAX = 300.0  # seconds a recovery may keep the systemd watchdog fed
KMSG_RETRY = 2.0  # seconds between attempts to reopen a kernel log that ended or failed
READY_WAIT = 10.0  # seconds `run` waits for its watchers to be in place before it says "supervising"
IFACE_CHECK = 1.0  # seconds between the interface health checks
JOIN_WAIT = 5.0  # seconds `run` waits for each watcher thread to finish when stopping
WATCHERS = ("processes", "ctrl", "kmsg", "hostapd-log", "interface")

# [supervisor] key -> LadderConfig field
_LADDER_KEYS = {"stall_seconds": "stall_seconds", "max_restarts": "limit", "restart_window": "limit_window",
                "backoff_initial": "backoff_base", "backoff_max": "backoff_max", "storm_count": "storm_count",
                "storm_window": "storm_window", "loop_count": "loop_count", "loop_window": "loop_window"}


def ladder_config_checked(cfg: Any) -> tuple[L.LadderConfig, list[str]]:
    """The ladder's configuration from ``[supervisor]``, every value made usable, and what was replaced.

    The configuration check rejects nan/inf and bad ranges; this guards the supervisor against one
    that got through anyway (``backoff_initial = nan`` must not freeze recovery).
    """
    sv = cfg.supervisor
    values: dict[str, Any] = {}
    for key, name in _LADDER_KEYS.items():
        raw = getattr(sv, key)
        try:
            values[name] = int(raw) if name in ("limit", "storm_count", "loop_count") else float(raw)
        except (TypeError, ValueError, OverflowError):  # int(nan), int(inf)
            values[name] = math.nan
    lc, notes = L.LadderConfig(**values).sanitized()
    names = {v: k for k, v in _LADDER_KEYS.items()}
    out = []
    for note in notes:
        field, _, rest = note.partition(" ")
        out.append(f"supervisor.{names.get(field, field)} {rest}" if field in names else note)
    return lc, out


def ladder_config(cfg: Any) -> L.LadderConfig:
    return ladder_config_checked(cfg)[0]


def events_from_log_line(raw: str, *, file: str, line: int, t: float) -> list[L.Event]:
    """Map one hostapd or kernel log line to ladder events, through the shared parser."""
    from r2wifi.logs.events import parse_line
    from r2wifi.logs.model import K

    out: list[L.Event] = []
    for ev in parse_line(raw, file=file, line=line):
        if ev.kind == K.TXQ_STOP:
            out.append(L.TxqStopped(t, str(ev.params.get("dev") or ev.params.get("queue") or "")))
        elif ev.kind == K.TXQ_WAKE:
            out.append(L.TxqWoken(t, ""))
        elif ev.kind == K.EAPOL_TIMEOUT:
            out.append(L.EapolTimeout(t, ev.station))
        elif ev.kind in (K.PSK_MISMATCH, K.INVALID_MIC) and ev.station:
            out.append(L.WrongKey(t, ev.station))
    return out


def event_from_ctrl(name: str, mac: str | None, t: float) -> L.Event | None:
    if name == "AP-DISABLED":
        return L.ApDisabled(t)
    if name == "AP-ENABLED":
        return L.ApEnabled(t)
    if name == "AP-STA-CONNECTED" and mac:
        return L.StaConnected(t, mac)
    if name == "AP-STA-DISCONNECTED" and mac:
        return L.StaDisconnected(t, mac)
    if name == "AP-STA-POSSIBLE-PSK-MISMATCH" and mac:
        return L.WrongKey(t, mac)
    return None


class Supervisor:
    def __init__(self, ctl: ApController, *, notifier: Notifier | None = None,
                 kmsg: Callable[[], Iterator[str]] | None = None, out: TextIO = sys.stderr,
                 clock: Callable[[], float] = time.monotonic, stop: threading.Event | None = None) -> None:
        self.ctl = ctl
        lc, self.config_notes = ladder_config_checked(ctl.cfg)
        self.ladder = L.Ladder(lc)
        self.notifier = notifier or Notifier()
        self.kmsg = kmsg
        self.out = out
        self.clock = clock
        self.q: queue.Queue[L.Event] = queue.Queue()
        self.stop = stop or threading.Event()
        self.state_file = ctl.dir / "supervisor.json"
        self.reload_requested = threading.Event()  # set by the SIGHUP handler of `run`
        self.config_arg: str | None = None  # the --config `run` was given (re-read on SIGHUP)
        self.last: dict[str, Any] | None = None  # the last recovery, as published
        self.recovering_since: float | None = None
        self.last_recovery_end = 0.0
        self.logfile = supervisor_log(ctl.dir)
        self._log: LogSink | None = None  # opened on the first line (rotated; r2wifi.logdir)
        self.recoveries: list[dict[str, Any]] = []
        # Set by each watcher once its source is open (attached, positioned): `run` announces
        # "supervising" (and READY=1) only then, so nothing logged afterwards can be missed.
        self.watching = {name: threading.Event() for name in WATCHERS}
        self.said_once: set[str] = set()  # keys of the troubles already reported (see say_once)

    # -- logging ---------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        now = time.time()
        self.out.write(f"r2wifi run: {text}\n")
        self.out.flush()
        try:  # the file's line: "<UTC ISO time>.<ms>Z <text>" (logdir.iso_stamp; logs/wrappers reads it)
            if self._log is None:
                self._log = open_file(self.logfile, tag="r2wifi", stamp=iso_prefix)
            self._log.write_line(text.encode("utf-8", "replace"), now)
        except OSError:
            pass

    def say_once(self, key: str, text: str) -> None:
        """Report a recurring trouble (``key``) the first time only."""
        if key not in self.said_once:
            self.said_once.add(key)
            self.say(text)

    def put(self, ev: L.Event) -> None:
        self.q.put(ev)

    def publish(self) -> None:
        """Write what ``r2wifi status`` shows about the supervisor (atomically; errors ignored)."""
        lad = self.ladder
        state = "recovering" if self.recovering_since is not None else lad.state.value
        data: dict[str, Any] = {
            "pid": os.getpid(), "state": state, "degraded": lad.degraded is not None,
            "degraded_reason": lad.degraded, "recoveries_in_window": len(lad.recoveries),
            "limit": lad.config.limit, "limit_window": lad.config.limit_window,
            "retry_every": lad.config.backoff_max if lad.degraded is not None else None,
            "last_recovery": self.last, "updated": time.time(),
        }
        if lad.state is L.State.BACKOFF and lad.due is not None:
            data["next_recovery_in"] = round(max(0.0, lad.due - self.clock()), 3)
        try:
            atomic_write(self.state_file, json.dumps(data, sort_keys=True) + "\n", mode=0o644)
        except OSError:
            pass

    def status_text(self, text: str) -> str:
        """The systemd STATUS= line: prefixed with the degraded state while it lasts."""
        deg = self.ladder.degraded
        return f"degraded ({deg}): {text}" if deg else text

    # -- watchers --------------------------------------------------------------------------------
    def _watch_processes(self) -> None:
        """Every daemon of the mode and the launcher: reports an exit (or absence) once per pid."""
        reported: set[tuple[str, int]] = set()
        recovered_at = self.last_recovery_end
        while not self.stop.is_set():
            if self.last_recovery_end != recovered_at:
                # a recovery ended and started its daemons again: an absence seen from now on is new, even
                # for a daemon killed before this loop ever saw it running
                recovered_at = self.last_recovery_end
                reported = {r for r in reported if r[1] != 0}
            pids: dict[str, int] = {}
            kinds = self.ctl.expected_daemons()
            for kind in kinds:
                pid = self.ctl.daemons.pid(kind)
                if pid:
                    pids[kind] = pid
            if self.ctl.cfg.chip.enabled:
                lp = self.ctl.chip.launcher_pid()
                if lp:
                    pids["launcher"] = lp
            if self.recovering_since is None:
                for kind in [*kinds, *(["launcher"] if self.ctl.cfg.chip.enabled else [])]:
                    if kind not in pids and (kind, 0) not in reported:
                        reported.add((kind, 0))
                        self.put(self._exit_event(kind))
            reported = {r for r in reported if not (r[1] == 0 and r[0] in pids)}
            self.watching["processes"].set()
            handles = {name: ProcessHandle(pid) for name, pid in pids.items()}
            try:
                for name in wait_any_exit(handles, 0.5):
                    pid = pids[name]
                    if (name, pid) in reported or self.recovering_since is not None:
                        continue
                    reported.add((name, pid))
                    reported.add((name, 0))
                    self.put(self._exit_event(name))
            finally:
                for h in handles.values():
                    h.close()

    def _exit_event(self, name: str) -> L.Event:
        t = self.clock()
        return L.LauncherExited(t) if name == "launcher" else L.DaemonExited(t, daemon=name)

    def _watch_interface(self) -> None:
        """The shallow health check every IFACE_CHECK s; a new set of problems, seen on two checks in a
        row (not a blip while a daemon toggles the link), -> InterfaceFault."""
        link: Any = None
        last: tuple[str, ...] = ()  # the problems last reported
        seen: tuple[str, ...] = ()  # the problems of the previous check
        try:
            while not self.stop.is_set():
                if self.recovering_since is not None:
                    last = seen = ()
                    self.watching["interface"].set()
                    self.stop.wait(0.2)
                    continue
                problems: list[str] = []
                try:
                    if link is None:
                        from r2wifi.net.link import Link

                        link = Link(self.ctl.netns)
                    problems = self.ctl.problems(deep=False, link=link)
                except Exception as err:  # noqa: BLE001 - a failed check must not kill the watcher
                    why = " ".join(str(err).split()) or type(err).__name__
                    self.say_once(f"iface {why}", f"interface check failed ({why}); retrying")
                    if link is not None:
                        link.close()
                    link = None
                self.watching["interface"].set()
                key = tuple(problems)
                if problems and key == seen and key != last and self.recovering_since is None:
                    self.put(L.InterfaceFault(self.clock(), "; ".join(problems),
                                              tuple(self.ctl.expected_daemons())))
                    last = key
                elif not problems:
                    last = ()
                seen = key
                self.stop.wait(IFACE_CHECK)
        finally:
            if link is not None:
                link.close()

    def _watch_ctrl(self) -> None:
        from r2wifi.hostap.ctrl import CtrlClient, CtrlError

        path = self.ctl.ctrl_path()
        while not self.stop.is_set():
            if not path.exists() or self.recovering_since is not None:
                self.watching["ctrl"].set()  # no hostapd to attach to: the process watcher covers it
                self.stop.wait(0.2)
                continue
            try:
                with CtrlClient(path, timeout=2.0) as c:
                    c.attach()
                    self.watching["ctrl"].set()
                    while not self.stop.is_set() and self.recovering_since is None:
                        ev = c.next_event(0.5)
                        if ev is None:
                            if not path.exists():
                                break
                            continue
                        mapped = event_from_ctrl(ev.name, ev.mac, self.clock())
                        if mapped is not None:
                            self.put(mapped)
            except (CtrlError, OSError):
                self.watching["ctrl"].set()
                self.stop.wait(0.2)

    def _events(self, raw: str, file: str, line: int) -> list[L.Event]:
        """The ladder events of one log line; a line the parser chokes on is reported once and skipped."""
        try:
            return events_from_log_line(raw, file=file, line=line, t=self.clock())
        except Exception as err:  # noqa: BLE001 - one odd line must not blind a watcher
            self.say_once(f"parse {file}", f"skipping a line of {file} the log parser failed on "
                                           f"({type(err).__name__}: {err}); further ones are skipped silently")
            return []

    def _watch_kmsg(self) -> None:
        """Follow the kernel log; reopened (every KMSG_RETRY s) whenever it ends or fails."""
        if self.kmsg is None:
            self.watching["kmsg"].set()
            return
        last = ""
        n = 0
        while not self.stop.is_set():
            why = "ended"
            try:
                records = self.kmsg()  # opens and positions the source before returning
                self.watching["kmsg"].set()
                if last:
                    self.say("kernel log follower running again")
                    last = ""
                for rec in records:
                    if self.stop.is_set():
                        return
                    n += 1
                    for ev in self._events(rec, "kmsg", n):
                        self.put(ev)
            except Exception as err:  # noqa: BLE001 - a dead log follower must not kill the service
                why = " ".join(str(err).split()) or type(err).__name__
            self.watching["kmsg"].set()
            if why != last:
                self.say(f"kernel log follower stopped ({why}); retrying every {KMSG_RETRY:g} s")
                last = why
            self.stop.wait(KMSG_RETRY)

    def _watch_hostapd_log(self) -> None:
        path = self.ctl.daemons.logfile("hostapd")
        fh = None
        ino = None
        n = 0
        first = True  # only what was in the log before we started is skipped
        while not self.stop.is_set():
            try:
                st = path.stat()
                if fh is None or st.st_ino != ino:
                    if fh is not None:
                        fh.close()
                    fh = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
                    if first:
                        fh.seek(0, os.SEEK_END)
                    ino = st.st_ino
                first = False
                self.watching["hostapd-log"].set()
                for raw in fh:
                    n += 1
                    for ev in self._events(raw.rstrip("\n"), str(path), n):
                        self.put(ev)
            except FileNotFoundError:
                first = False
                self.watching["hostapd-log"].set()
            except OSError as err:  # unreadable for now (permissions, I/O error): keep trying
                self.watching["hostapd-log"].set()
                self.say_once(f"read {path}", f"cannot read {path}: {err.strerror or err}; retrying")
            self.stop.wait(0.3)
        if fh is not None:
            fh.close()

    # -- main loop -------------------------------------------------------------------------------
    def recover(self, action: L.Recover) -> L.Done:
        self.recovering_since = self.clock()
        self.say(f"recovery: {action.step} (reason: {action.reason})")
        self.notifier.status(self.status_text(f"recovering: {action.step} ({action.reason})"))
        self.publish()
        ok, detail = True, ""
        # A rung may legitimately block longer than WatchdogSec (echo A can take a minute): keep the
        # watchdog fed meanwhile, but only up to RECOVERY_MAX, so a hung recovery is still killed.
        finished = threading.Event()
        wd = self.notifier.watchdog_interval
        if wd is not None:
            limit = self.clock() + RECOVERY_MAX

            def keepalive() -> None:
                while not finished.wait(wd) and self.clock() < limit:
                    self.notifier.watchdog()

            threading.Thread(target=keepalive, daemon=True, name="watchdog-keepalive").start()
        try:
            with ApLock(self.ctl.dir):
                if action.rung == 0:
                    self.ctl.restart_daemons(action.daemons)
                elif action.rung == 1:
                    self.ctl.reset_wifi()
                else:
                    self.ctl.reset_chip()
                self.ctl.verify()  # done only when everything the AP had is back
        except Exception as err:  # noqa: BLE001 - every failure is an input to the ladder
            ok, detail = False, " ".join(str(err).split()) or type(err).__name__
        finally:
            finished.set()
        end = self.clock()
        took = end - self.recovering_since
        self.last = {"step": action.step, "reason": action.reason, "ok": ok, "seconds": round(took, 3),
                     "at": time.time(), **({} if ok else {"error": detail})}
        self.recoveries.append(self.last)
        del self.recoveries[:-100]  # bounded: the supervisor runs for months
        self.say(f"recovery: {action.step} done in {took:.2f} s (verified)" if ok else
                 f"recovery: {action.step} FAILED: {detail} in {took:.2f} s")
        self.last_recovery_end = end
        self.recovering_since = None
        self.notifier.status(self.status_text("AP up" if ok else f"{action.step} failed"))
        # Drop what the recovery itself caused (everything queued up to its end); a fault that happened
        # after it ended (a daemon killed as soon as the recovery finished) is new and stays.
        self._drop_events(until=end)
        return L.Done(end, ok, detail)

    def perform(self, actions: list[L.Action]) -> None:
        pending = list(actions)
        while pending:
            act = pending.pop(0)
            if isinstance(act, L.Note):
                self.say(act.message)
            elif isinstance(act, L.Health):
                if act.degraded:
                    self.say(f"degraded: {act.reason}; the supervisor keeps trying")
                    self.notifier.status(self.status_text("recovery budget exhausted"))
                else:
                    self.say(f"no longer degraded: {act.reason}")
                    self.notifier.status("AP up")
            elif isinstance(act, L.Recover):
                pending.extend(self.ladder.handle(self.recover(act)))
            if self.stop.is_set():
                break
        if actions:
            self.publish()

    def reload(self) -> None:
        """SIGHUP: re-read the configuration and apply each change with the least disruption.

        Which change gets which act is the table of :mod:`r2wifi.service.reload`: ``[supervisor]`` at once
        (the ladder keeps its history), shaping and NAT in place, hostapd re-reads its file (same process)
        for SSID/passphrase/hidden/isolation/MAC list, dnsmasq re-reads its reservations on SIGHUP, a
        restart (rung 0 for those daemons, verified) only where a change needs one (channel, radio,
        other DHCP settings, addresses). Each decision is logged per key. A bad file is refused and the
        running AP keeps the old configuration; so is a change of the chip, the interface names or the
        bridge (restart the service), as a whole.
        """
        from r2wifi.config import Config
        from r2wifi.service import reload as R
        from r2wifi.service.ap import load
        from r2wifi.service.daemons import Daemons

        try:
            new = load(self.config_arg)
            notes = self.ctl.preflight(new)  # the mode's checks of `up` (a channel the country forbids)
        except UserError as err:
            self.say(f"SIGHUP: configuration not reloaded ({err}); keeping the one in use")
            return
        for note in notes:
            self.say(f"configuration: {note}")
        changed = config_changes(self.ctl.cfg, new)
        if not changed:
            self.say("SIGHUP: configuration re-read; nothing changed")
            return
        plan = R.plan(changed, self.ctl.mode)
        if plan.refused:
            self.say(f"SIGHUP: configuration not applied: {', '.join(plan.refused)} cannot change while running "
                     "(restart the service); nothing else was changed either")
            return
        self.say(f"SIGHUP: configuration changed: {', '.join(changed)}")
        assert isinstance(new, Config)
        self.ctl.cfg = new
        self.ctl.daemons = Daemons(new)
        for key, act in plan.keys.items():
            if act is R.Act.NOTHING:
                self.say(f"reload: {key} {act.value}")
        for act in plan.acts():
            self._reload_act(act, plan.keys_of(act))
        self.publish()

    def _reload_act(self, act: Any, keys: list[str]) -> None:
        """Run one act of a reload plan for ``keys``; log the outcome per key; on failure its fallback."""
        from r2wifi.service import reload as R

        if act is R.Act.LADDER:
            lc, notes = ladder_config_checked(self.ctl.cfg)
            for note in notes:
                self.say(f"configuration: {note}")
            self.ladder.config = lc
            for key in keys:
                self.say(f"reload: {key} {act.value}")
            return
        if act in R.RESTARTS or act is R.Act.RESTART_ALL:
            daemons = R.RESTARTS.get(act) or tuple(self.ctl.expected_daemons())
            done = self.recover(L.Recover(0, f"configuration changed: {', '.join(keys)}", daemons))
            if done.ok:
                for key in keys:
                    self.say(f"reload: {key} {act.value}")
            else:
                self.say(f"reload: {', '.join(keys)}: the restart did not verify ({done.detail}); "
                         "the detectors take it from here")
            return
        in_place: dict[R.Act, Callable[[], str]] = {
            R.Act.SHAPING: self.ctl.reshape, R.Act.NAT: self.ctl.renat,
            R.Act.HOSTAPD_RELOAD: self.ctl.reload_hostapd, R.Act.DNSMASQ_HUP: self.ctl.hup_dnsmasq,
        }
        start = self.clock()
        self.recovering_since = start  # the watchers ignore what the act itself causes
        try:
            with ApLock(self.ctl.dir):
                how = in_place[act]()
                self.ctl.verify()
        except Exception as err:  # noqa: BLE001 - a failed act falls back to a heavier one
            why = " ".join(str(err).split()) or type(err).__name__
            fallback = R.FALLBACK.get(act)
            self.say(f"reload: {', '.join(keys)}: {act.name.lower()} failed ({why})"
                     + (f"; {fallback.value.lstrip('-> ')} instead" if fallback else ""))
            self.recovering_since = None
            if fallback is not None:
                self._reload_act(fallback, keys)
            return
        finally:
            self.recovering_since = None
            self._drop_events(since=start)
        for key in keys:
            self.say(f"reload: {key} {act.value} ({how}; verified)")

    def _drop_events(self, since: float = -math.inf, until: float = math.inf) -> None:
        """Drop the queued events that happened between ``since`` and ``until`` (what an act caused)."""
        kept: list[L.Event] = []
        while True:
            try:
                ev = self.q.get_nowait()
            except queue.Empty:
                break
            if not since <= ev.t <= until:
                kept.append(ev)
        for ev in kept:
            self.q.put(ev)

    def run(self) -> int:
        """Supervise until ``stop`` is set (SIGTERM); 0. Never returns on a recovery budget."""
        for note in self.config_notes:
            self.say(f"configuration: {note}")
        threads = [threading.Thread(target=f, daemon=True, name=f.__name__) for f in
                   (self._watch_processes, self._watch_ctrl, self._watch_kmsg, self._watch_hostapd_log,
                    self._watch_interface)]
        for t in threads:
            t.start()
        ready_by = time.monotonic() + READY_WAIT
        for flag in self.watching.values():
            flag.wait(max(0.0, ready_by - time.monotonic()))
        late = [name for name, flag in self.watching.items() if not flag.is_set()]
        if late:
            self.say(f"not yet watching: {', '.join(late)} (continuing; events before they start are missed)")
        self.say(f"supervising {self.ctl.interface} (stall after {self.ladder.config.stall_seconds:g} s, "
                 f"at most {self.ladder.config.limit} recoveries in {self.ladder.config.limit_window:g} s)")
        self.notifier.ready("AP up")
        self.publish()
        wd = self.notifier.watchdog_interval
        next_wd = self.clock()
        try:
            while not self.stop.is_set():
                now = self.clock()
                if wd is not None and now >= next_wd:
                    self.notifier.watchdog()
                    next_wd = now + wd
                deadline = self.ladder.next_deadline()
                waits = [1.0]
                if deadline is not None:
                    waits.append(deadline - now)
                if wd is not None:
                    waits.append(next_wd - now)
                try:
                    ev: L.Event = self.q.get(timeout=max(0.0, min(waits)))
                except queue.Empty:
                    ev = L.Tick(self.clock())
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self.reload()
                actions = self.ladder.handle(ev)
                if not isinstance(ev, L.Tick):
                    actions += self.ladder.handle(L.Tick(self.clock()))
                self.perform(actions)
                _reap()
        finally:
            self.stop.set()
            self.notifier.stopping()
            for t in threads:  # each closes what it opened (control client socket, netlink)
                if t.name != "_watch_kmsg":  # may block in a read of the kernel log; holds no socket
                    t.join(JOIN_WAIT)
            self.state_file.unlink(missing_ok=True)
        return 0


def config_changes(old: Any, new: Any) -> list[str]:
    """``section.key`` of every value that differs between two configurations (values not shown:
    some are secrets)."""
    from r2wifi import records

    out: list[str] = []
    for sec in records.fields(old):
        a, b = getattr(old, sec.name), getattr(new, sec.name)
        if not records.is_record(a) or not records.is_record(b):
            continue
        for f in records.fields(a):
            if getattr(a, f.name) != getattr(b, f.name):
                out.append(f"{sec.name}.{f.name}")
    return out


def _reap() -> None:
    """Collect exited children (the capture helpers started during recoveries)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kmsg_source(backend_name: str) -> Callable[[], Iterator[str]] | None:
    """The kernel-log follower of the backend (None when it cannot be opened)."""
    from r2wifi.backends import get_backend

    try:
        backend = get_backend(backend_name)
    except (UserError, OSError):
        return None
    return lambda: backend.follow_kmsg(False)
