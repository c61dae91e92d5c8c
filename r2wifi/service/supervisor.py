"""``r2wifi run``: keep the launcher and the AP up; the I/O shell around :mod:`r2wifi.service.ladder`.

Theory of operation. All decisions are made by the sans-IO :class:`~r2wifi.service.ladder.Ladder`;
this module only turns the outside world into its events and its actions into deeds:

* watcher threads push ``(monotonic time, event)`` into one queue:
  - processes: a pidfd per watched pid (hostapd, and the launcher when the chip is used); its
    exit -> ``HostapdExited`` / ``LauncherExited``. The pids come from our pid files, so a
    daemon we did not start is never watched or signalled;
  - hostapd's control socket (ATTACH): ``AP-DISABLED``, ``AP-ENABLED``, ``AP-STA-CONNECTED``,
    ``AP-STA-DISCONNECTED``;
  - the kernel log (``backend.follow_kmsg()``: /dev/kmsg, or the simulator's log) and hostapd's
    captured log, both classified by the one shared parser :func:`r2wifi.logs.events.parse_line`:
    TX queue stop/wake lines and ``EAPOL-Key timeout``;
* the main loop feeds each event to the ladder, or a ``Tick`` when the ladder's deadline comes;
  a ``Recover`` action runs the rung (:class:`~r2wifi.service.ap.ApController`) under the AP lock
  and reports ``Done(ok)``; events observed *during* a recovery are dropped (they are its own
  side effects: the hostapd it stopped, the interface it removed);
* every step is logged with its reason (stderr -> journal, and ``<state>/ap/supervisor.log``);
* under systemd (``NOTIFY_SOCKET``) it sends READY=1 once the AP is up, STATUS= on every change and
  WATCHDOG=1 at half of ``WATCHDOG_USEC`` from the main loop (so a hung loop is restarted).
"""

from __future__ import annotations

import os
import queue
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from r2wifi.errors import UserError
from r2wifi.service import ladder as L
from r2wifi.service.ap import ApController, ApLock
from r2wifi.service.sdnotify import Notifier

RECOVERY_MAX = 300.0  # seconds a recovery may keep the systemd watchdog fed
KMSG_RETRY = 2.0  # seconds between attempts to reopen a kernel log that ended or failed
READY_WAIT = 10.0  # seconds `run` waits for its watchers to be in place before it says "supervising"
WATCHERS = ("processes", "ctrl", "kmsg", "hostapd-log")


def ladder_config(cfg: Any) -> L.LadderConfig:
    sv = cfg.supervisor
    return L.LadderConfig(stall_seconds=float(sv.stall_seconds), limit=int(sv.max_restarts),
                          limit_window=float(sv.restart_window), backoff_base=float(sv.backoff_initial),
                          backoff_max=float(sv.backoff_max), storm_count=int(sv.storm_count),
                          storm_window=float(sv.storm_window), loop_count=int(sv.loop_count),
                          loop_window=float(sv.loop_window))


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
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ctl = ctl
        self.ladder = L.Ladder(ladder_config(ctl.cfg))
        self.notifier = notifier or Notifier()
        self.kmsg = kmsg
        self.out = out
        self.clock = clock
        self.q: queue.Queue[L.Event] = queue.Queue()
        self.stop = threading.Event()
        self.recovering_since: float | None = None
        self.last_recovery_end = 0.0
        self.logfile = ctl.dir / "supervisor.log"
        self.recoveries: list[dict[str, Any]] = []
        # Set by each watcher once its source is open (attached, positioned): `run` announces
        # "supervising" (and READY=1) only then, so nothing logged afterwards can be missed.
        self.watching = {name: threading.Event() for name in WATCHERS}
        self.said_once: set[str] = set()  # keys of the troubles already reported (see say_once)

    # -- logging ---------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        now = time.time()
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(now))}.{int(now % 1 * 1000):03d} {text}"
        self.out.write(f"r2wifi run: {text}\n")
        self.out.flush()
        try:
            with open(self.logfile, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError:
            pass

    def say_once(self, key: str, text: str) -> None:
        """Report a recurring trouble (``key``) the first time only."""
        if key not in self.said_once:
            self.said_once.add(key)
            self.say(text)

    def put(self, ev: L.Event) -> None:
        self.q.put(ev)

    # -- watchers --------------------------------------------------------------------------------
    def _watch_processes(self) -> None:
        """pidfd watcher for hostapd (and the launcher): reports an exit once per pid."""
        reported: set[tuple[str, int]] = set()
        while not self.stop.is_set():
            pids: dict[str, int] = {}
            daemon = self.ctl.daemon_name
            hp = self.ctl.daemons.pid(daemon)
            if hp:
                pids["hostapd"] = hp
            if self.ctl.cfg.chip.enabled:
                lp = self.ctl.chip.launcher_pid()
                if lp:
                    pids["launcher"] = lp
            if self.recovering_since is None:
                if "hostapd" not in pids and ("hostapd", 0) not in reported:
                    reported.add(("hostapd", 0))
                    self.put(L.HostapdExited(self.clock(), daemon=daemon))
                if self.ctl.cfg.chip.enabled and "launcher" not in pids and ("launcher", 0) not in reported:
                    reported.add(("launcher", 0))
                    self.put(L.LauncherExited(self.clock()))
            reported = {r for r in reported if not (r[1] == 0 and r[0] in pids)}
            self.watching["processes"].set()
            fds: dict[int, tuple[str, int]] = {}
            try:
                for name, pid in pids.items():
                    try:
                        fds[os.pidfd_open(pid)] = (name, pid)
                    except ProcessLookupError:
                        pass
                ready, _, _ = select.select(list(fds), [], [], 0.5)
                for fd in ready:
                    name, pid = fds[fd]
                    if (name, pid) in reported or self.recovering_since is not None:
                        continue
                    reported.add((name, pid))
                    reported.add((name, 0))
                    t = self.clock()
                    self.put(L.HostapdExited(t, daemon=daemon) if name == "hostapd" else L.LauncherExited(t))
            finally:
                for fd in fds:
                    os.close(fd)

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
        self.notifier.status(f"recovering: {action.step} ({action.reason})")
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
                    self.ctl.restart_hostapd()
                elif action.rung == 1:
                    self.ctl.reset_wifi()
                else:
                    self.ctl.reset_chip()
        except Exception as err:  # noqa: BLE001 - every failure is an input to the ladder
            ok, detail = False, " ".join(str(err).split()) or type(err).__name__
        finally:
            finished.set()
        end = self.clock()
        took = end - self.recovering_since
        self.recoveries.append({"step": action.step, "reason": action.reason, "ok": ok, "seconds": took})
        self.say(f"recovery: {action.step} {'done' if ok else 'FAILED: ' + detail} in {took:.2f} s")
        self.last_recovery_end = end
        self.recovering_since = None
        self.notifier.status("AP up" if ok else f"{action.step} failed")
        # Drop what the recovery itself caused.
        while True:
            try:
                self.q.get_nowait()
            except queue.Empty:
                break
        return L.Done(end, ok, detail)

    def perform(self, actions: list[L.Action]) -> int | None:
        pending = list(actions)
        while pending:
            act = pending.pop(0)
            if isinstance(act, L.Note):
                self.say(act.message)
            elif isinstance(act, L.GiveUp):
                self.say(f"giving up: {act.reason}")
                self.notifier.status(f"gave up: {act.reason}")
                return 1
            elif isinstance(act, L.Recover):
                pending.extend(self.ladder.handle(self.recover(act)))
        return None

    def run(self) -> int:
        threads = [threading.Thread(target=f, daemon=True, name=f.__name__) for f in
                   (self._watch_processes, self._watch_ctrl, self._watch_kmsg, self._watch_hostapd_log)]
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
                actions = self.ladder.handle(ev)
                if not isinstance(ev, L.Tick):
                    actions += self.ladder.handle(L.Tick(self.clock()))
                rc = self.perform(actions)
                if rc is not None:
                    return rc
                _reap()
        finally:
            self.stop.set()
            self.notifier.stopping()
        return 0


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
    from r2wifi.wmt.backend import get_backend

    try:
        backend = get_backend(backend_name)
    except (UserError, OSError):
        return None
    return lambda: backend.follow_kmsg(False)
