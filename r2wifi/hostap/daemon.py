"""Run hostapd, wpa_supplicant and dnsmasq as managed daemons (pid file, captured log, polite stop).

Public API::

    d = Daemon("hostapd-ap0", ["hostapd", conf], netns=None)   # netns: run via `ip netns exec NS`
    d.start()            # -> pid; UserError if the binary is missing or it already runs
    d.alive()            # running and really ours (pid file + /proc/<pid>/cmdline)
    d.pid()              # verified pid or None
    d.stop(timeout=5)    # SIGTERM, wait, SIGKILL; True if something was running
    d.log_file, d.pid_file, d.ctrl_dir, d.log_tail(20)

    hostapd_daemon(cfg, netns=None, debug=0) -> Daemon      # renders + writes the config (0600)
    wpa_supplicant_daemon(cfg, netns=None, debug=0) -> Daemon
    dnsmasq_daemon(cfg, netns=None, no_ping=False) -> Daemon
    d.ctrl_path   # control socket of hostapd/wpa_supplicant daemons (pass to ctrl.wait_ready)

Layout under ``r2wifi.paths.state_dir()`` (or ``root=``): ``run/<name>.pid``,
``ctrl/<name>/`` (the daemon's ctrl_interface dir), ``conf/<name>.conf``, ``dhcp/<name>.leases``.
The log is ``<name>.log`` (+ ``.1`` ... backups) where :func:`r2wifi.logdir.target` says (``[log] dir``:
``/var/log/r2wifi`` as root, syslog on OpenWrt), else ``logs/<name>.log`` under the root; its size limit
and backups come from ``[log]`` unless ``log_max_bytes`` / ``log_backups`` are given.

Rules:
* Never ``shell=True``; a network namespace is entered with the argv ``ip netns exec NS ...``.
* Output (stdout+stderr) goes through a pseudo-terminal (so that stdio stays line-buffered) to a
  small log-pump process (forked from this interpreter when it has one thread, else spawned)
  (:mod:`r2wifi.hostap.logpump`) that prefixes wall-clock ``<epoch>.<usec>: `` stamps and rotates
  by size; its first line is ``r2wifi: started <argv>``. Both run in their own session, so
  they outlive the r2wifi command that started them.
* Only processes this runner started are ever signalled: the pid file records the pid and the
  argv, and ``/proc/<pid>/cmdline`` must match before any signal. No ``killall``.
* The parent keeps no descriptor of the daemon (close_fds, both pipe ends closed after spawn).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import tty
from pathlib import Path
from typing import TYPE_CHECKING

from r2wifi.config import Config
from r2wifi.errors import UserError
from r2wifi.fsutil import atomic_write
from r2wifi.paths import ensure_dir, state_dir
from r2wifi.procutil import terminate

if TYPE_CHECKING:
    from r2wifi.hostap.logpump import ForkedPump

PACKAGE_OF = {"hostapd": "hostapd", "wpa_supplicant": "wpasupplicant", "dnsmasq": "dnsmasq", "ip": "iproute2"}


def _read_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if stat.rpartition(")")[2].split()[:1] == ["Z"]:
        return None  # zombie: exited
    if not raw:
        return None
    return [a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0")]


class Daemon:
    """One managed daemon process (see the module docstring)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        netns: str | None = None,
        root: str | Path | None = None,
        log_max_bytes: int | None = None,
        log_backups: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        if not name or "/" in name:
            raise ValueError(f"bad daemon name {name!r}")
        self.name = name
        self.argv = list(argv)
        self.netns = netns
        self.root = Path(root) if root else state_dir()
        self.log_max_bytes = log_max_bytes
        self.log_backups = log_backups
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: subprocess.Popen[bytes] | ForkedPump | None = None
        self.ctrl_path: Path | None = None  # set by the hostapd / wpa_supplicant factories
        self.lease_file: Path | None = None  # set by the dnsmasq factory

    # -- paths ---------------------------------------------------------------------------
    @property
    def pid_file(self) -> Path:
        return self.root / "run" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        from r2wifi.logdir import target

        return target().path(self.name, self.root / "logs" / f"{self.name}.log")

    @property
    def ctrl_dir(self) -> Path:
        return self.root / "ctrl" / self.name

    @property
    def conf_file(self) -> Path:
        return self.root / "conf" / f"{self.name}.conf"

    @property
    def full_argv(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *self.argv] if self.netns else list(self.argv)

    # -- state ---------------------------------------------------------------------------
    def _recorded(self) -> tuple[int, list[str]] | None:
        try:
            lines = self.pid_file.read_text().splitlines()
            pid = int(lines[0])
            argv = json.loads(lines[1]) if len(lines) > 1 else []
        except (OSError, ValueError, IndexError):
            return None
        return pid, [str(a) for a in argv]

    def pid(self) -> int | None:
        """The daemon's pid if it runs and is the process we started, else None."""
        if self._proc is not None:
            # our own child: no doubt about identity (its cmdline may still be pre-exec)
            return self._proc.pid if self._proc.poll() is None else None
        rec = self._recorded()
        if rec is None:
            return None
        pid, argv = rec
        cmd = _read_cmdline(pid)
        if cmd is None:
            return None
        inner = argv[4:] if argv[:3] == ["ip", "netns", "exec"] else argv
        return pid if cmd in (argv, inner) else None

    def alive(self) -> bool:
        return self.pid() is not None

    # -- start / stop --------------------------------------------------------------------
    def start(self) -> int:
        running = self.pid()
        if running is not None:
            raise UserError(f"{self.name} is already running (pid {running})")
        argv = self.full_argv
        for binary in {argv[0], self.argv[0]}:
            if shutil.which(binary) is None and not os.access(binary, os.X_OK):
                pkg = PACKAGE_OF.get(Path(binary).name)
                raise UserError(
                    f"{binary} not found", hint=f"install the Debian package {pkg}" if pkg else None
                )
        ensure_dir(self.pid_file.parent)
        from r2wifi.logdir import target

        where = target(max_bytes=self.log_max_bytes, backups=self.log_backups)
        ensure_dir(self.log_file.parent, 0o750)
        ensure_dir(self.ctrl_dir)
        pkg_root = str(Path(__file__).resolve().parent.parent.parent)
        pump_env = dict(os.environ)
        pump_env["PYTHONPATH"] = pkg_root + (os.pathsep + pump_env["PYTHONPATH"] if pump_env.get("PYTHONPATH") else "")
        # A pseudo-terminal, not a pipe: C programs (hostapd, wpa_supplicant) line-buffer stdout
        # on a tty but block-buffer it on a pipe, which would delay log lines until exit.
        r, w = os.openpty()
        tty.setraw(w)  # no CR/LF translation, no echo
        banner = f"r2wifi: started {shlex.join(argv)}"
        tag = Path(self.argv[0]).name if where.syslog else ""
        try:
            if threading.active_count() == 1:  # forked: no interpreter start-up (see logpump's header)
                from r2wifi.hostap.logpump import fork_pump

                self._pump = fork_pump(r, str(self.log_file), max_bytes=where.max_bytes, backups=where.backups,
                                       banner=banner, syslog=tag)
            else:
                self._pump = subprocess.Popen(
                    [sys.executable, "-m", "r2wifi.hostap.logpump", "--max-bytes", str(where.max_bytes),
                     "--backups", str(where.backups), "--banner", banner, *(["--syslog", tag] if tag else []),
                     str(self.log_file)],
                    stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True, env=pump_env,
                )
            env = dict(os.environ, **self.env) if self.env else None
            try:
                self._proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=w, stderr=w, start_new_session=True, env=env
                )
            except OSError as err:
                os.close(w)  # the pump sees the end of input and exits; reap it
                w = -1
                self._pump.wait(timeout=5)
                raise UserError(f"cannot start {argv[0]}: {err.strerror or err}") from None
        finally:
            os.close(r)
            if w >= 0:
                os.close(w)
        record = f"{self._proc.pid}\n{json.dumps(argv)}\n"
        atomic_write(self.pid_file, record, mode=0o644)
        return self._proc.pid

    def stop(self, timeout: float = 5.0) -> bool:
        """SIGTERM, wait up to ``timeout``, then SIGKILL. True if a daemon of ours was running."""
        pid = self.pid()
        was_running = pid is not None
        if pid is not None:
            terminate(pid, timeout)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        if self._pump is not None:
            try:
                self._pump.wait(timeout=2.0)  # exits at EOF once the daemon is gone
            except subprocess.TimeoutExpired:
                self._pump.kill()
                self._pump.wait()
        self.pid_file.unlink(missing_ok=True)
        return was_running

    def returncode(self) -> int | None:
        """Exit status when this process started the daemon and it has exited (else None)."""
        return self._proc.poll() if self._proc is not None else None

    def log_tail(self, lines: int = 20) -> list[str]:
        try:
            data = self.log_file.read_bytes()[-65536:]
        except OSError:
            return []
        return data.decode("utf-8", "replace").splitlines()[-lines:]


# -- factories ---------------------------------------------------------------------------


def hostapd_daemon(
    cfg: Config, *, netns: str | None = None, debug: int = 0, root: str | Path | None = None, name: str | None = None
) -> Daemon:
    """Render ``cfg`` into ``conf/hostapd-<iface>.conf`` (0600) and return the (unstarted) Daemon."""
    from r2wifi.hostap.render import hostapd_argv, write_hostapd_conf

    d = Daemon(name or f"hostapd-{cfg.ap.interface}", [], netns=netns, root=root)
    ensure_dir(d.conf_file.parent)
    write_hostapd_conf(cfg, d.conf_file, d.ctrl_dir)
    d.argv = hostapd_argv(d.conf_file, debug=debug)
    d.ctrl_path = d.ctrl_dir / cfg.ap.interface
    return d


def wpa_supplicant_daemon(
    cfg: Config, *, netns: str | None = None, debug: int = 0, root: str | Path | None = None, name: str | None = None
) -> Daemon:
    from r2wifi.hostap.render import wpa_supplicant_argv, write_wpa_supplicant_conf

    d = Daemon(name or f"wpa_supplicant-{cfg.sta.interface}", [], netns=netns, root=root)
    ensure_dir(d.conf_file.parent)
    write_wpa_supplicant_conf(cfg, d.conf_file, d.ctrl_dir)
    d.argv = wpa_supplicant_argv(d.conf_file, cfg.sta.interface, driver=cfg.sta.driver, debug=debug)
    d.ctrl_path = d.ctrl_dir / cfg.sta.interface
    return d


def dnsmasq_daemon(
    cfg: Config, *, netns: str | None = None, no_ping: bool = False, root: str | Path | None = None,
    name: str | None = None,
) -> Daemon:
    from r2wifi.hostap.render import dnsmasq_argv, dnsmasq_hosts_path, write_dnsmasq_conf

    d = Daemon(name or f"dnsmasq-{cfg.ap.interface}", [], netns=netns, root=root)
    lease = ensure_dir(d.root / "dhcp") / f"{d.name}.leases"
    ensure_dir(d.conf_file.parent)
    # reservations in a dhcp-hostsfile: a SIGHUP makes the running dnsmasq re-read them (r2wifi reload)
    write_dnsmasq_conf(cfg, d.conf_file, lease, d.root / "run" / f"{d.name}.dnsmasq.pid", no_ping=no_ping,
                       hosts_file=dnsmasq_hosts_path(d.conf_file))
    d.argv = dnsmasq_argv(d.conf_file)
    d.lease_file = lease
    return d
