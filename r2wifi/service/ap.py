"""Bring the access point (or station) up and down, idempotently; report its status.

Theory of operation. ``up`` runs the steps below in order; each one first looks at what is already
there, so re-running ``up`` changes nothing that is already right (one launcher, one hostapd of
our own, every address once). What ``up`` did is recorded in ``<state_dir>/ap/up.json`` (a typed
:class:`UpRecord`; files of other versions load, unknown keys are kept); ``down``
undoes exactly that record and nothing else (it never touches daemons, addresses or tables that
r2wifi did not create), then removes the record, the generated files and the control sockets.
What differs between AP and station is data, not branches: :data:`MODES` holds each mode's
ordered ``up`` steps, its interface steps (the AP's MAC, addresses or bridge, shaping and NAT; the
station only sets the link up), its daemons (with the setting that enables each) and the steps that
start them (``up`` and every recovery rung), what ``status`` adds for it, and the daemon rung 0
restarts by default. No step method asks which mode it is in.

    chip (chip.enabled only):  chip init -> chip launch --daemon -> wifi ap|sta
    interface:                 wait for it (netlink events) -> stable MAC -> addresses -> link up
    shaping (shaping.enabled): HTB root + parent + default leaf (see r2wifi.net.shaping)
    nat / bridge:              nft table r2wifi_nat, or enslave the interface to nat.bridge
    hostapd:                   start (r2wifi.hostap.daemon runner), wait STATUS state=ENABLED
    dnsmasq (dhcp.enabled):    start on the interface
    sta mode:                  wpa_supplicant instead of hostapd + dnsmasq

The same steps are the supervisor's recovery rungs: :meth:`ApController.restart_daemons` (the
interface state re-applied, then the named daemons restarted), :meth:`ApController.reset_wifi`
(WiFi off, AP again, interface re-done and re-shaped, hostapd, dnsmasq) and
:meth:`ApController.reset_chip`. After every rung the supervisor calls :meth:`ApController.verify`.

Health (one home: :meth:`ApController.problems`): what ``up`` gave the interface is recorded
(``ifindex``, ``want_addresses``, ``shaping``, ``nat``, ``daemons``), and a check compares the
live state with it: interface present, same index (not re-created), link up, every address, our
root qdisc; with ``deep``: the NAT table, the chip launcher, every daemon alive, hostapd
``state=ENABLED`` on its control socket, dnsmasq holding its DHCP socket. ``status`` reports ``state: degraded`` with the
problems instead of ``up`` when any is found; the supervisor treats them as faults.

One supervisor: ``r2wifi run`` holds an exclusive flock on ``<ap dir>/supervisor.lock`` for its
whole life and records its pid (with start time) in ``supervisor.pid`` right after taking it; a
second ``run`` exits 2 naming the holder. ``down`` takes the same lock before undoing anything
(SIGTERM to the holder first), so no supervisor can bring the AP back during or after a ``down``.

Where things run: the simulator backend owns a network namespace (``backend.netns()``) in which
its interfaces appear; every netlink step and daemon then runs inside it. The board uses the
root namespace.

hostapd driver rule: the simulator's AP interface is a veth (``r2wifi.sim.net``), on which
hostapd cannot use nl80211, so with the simulator backend hostapd runs with ``driver=wired``
(a backend may say otherwise with a ``wired_ap`` attribute); everywhere else ``ap.driver``
from the configuration is used (the renderer then leaves out the radio lines: with
``country_code`` the wired driver stops in COUNTRY_UPDATE -> DISABLED). Station mode likewise
runs wpa_supplicant with ``-Dwired`` on the simulator.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from r2wifi import records
from r2wifi.config import Config
from r2wifi.errors import UserError
from r2wifi.fsutil import atomic_write
from r2wifi.paths import ensure_dir, state_dir
from r2wifi.service.chipops import ChipOps, InProcessChipOps
from r2wifi.service.daemons import KINDS, Daemons
from r2wifi.service.procs import Procs, wait_pid_exit

if TYPE_CHECKING:
    from r2wifi.hostap.daemon import Daemon

INTERFACE_TIMEOUT = 60.0  # the driver may block ~4 s + 3 s netdev wait; allow much more
HOSTAPD_TIMEOUT = 20.0
#: how long ``up --sta`` waits for wpa_supplicant's control socket to answer PING; the wait ends at the first
#: PONG. Generous: in the board twin (TCG emulation) on a loaded CPU, a fixed 10 s was not enough.
WPAS_CTRL_TIMEOUT = 60.0
VERIFY_TIMEOUT = 15.0  # how long a recovery's end-to-end check may take to come true
DHCP_PORT = 67
SUPERVISOR_STOP_GRACE = 30.0  # `down`: SIGTERM to `run`, then SIGKILL after this (it may be mid-`up`)


class Cancelled(UserError):
    """A stop was asked for (SIGTERM to ``r2wifi run``) while a bring-up or recovery ran."""


def ap_dir() -> Path:
    return state_dir() / "ap"


def resolve_backend(cli_backend: str, cfg: Config) -> str:
    """``--backend`` wins unless it is ``auto``; then ``chip.backend`` from the configuration."""
    return cli_backend if cli_backend != "auto" else cfg.chip.backend


def backend_facts(name: str) -> tuple[str | None, bool]:
    """(network namespace, AP interface is wired) of the backend ``name``."""
    from r2wifi.backends import get_backend

    backend = get_backend(name)
    return backend.netns(), _wired(backend)


def backend_wired(name: str) -> bool:
    """The AP interface of backend ``name`` is wired (the simulator's veth), without asking for its namespace."""
    from r2wifi.backends import get_backend

    return _wired(get_backend(name))


def _wired(backend: Any) -> bool:
    return bool(getattr(backend, "wired_ap", backend.name == "sim"))


class ApLock:
    """An exclusive flock on ``<ap dir>/lock``: one up/down/recovery at a time."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "lock"
        self.fd = -1

    def __enter__(self) -> ApLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
        self.fd = -1


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn pyroute2's NetlinkError (not an OSError) into a one-line UserError."""
    try:
        yield
    except Exception as err:
        if type(err).__name__ == "NetlinkError":
            code = getattr(err, "code", None)
            text = os.strerror(code) if isinstance(code, int) and code > 0 else str(err)
            raise UserError(f"netlink: {text}") from None
        raise


def _has(have: list[str], cidr: str) -> bool:
    """``cidr`` is among ``have`` (``addr/plen`` strings), comparing addresses, not spellings."""
    import ipaddress

    want = ipaddress.ip_interface(cidr)
    for text in have:
        try:
            if ipaddress.ip_interface(text) == want:
                return True
        except ValueError:
            continue
    return False


def load(config: str | None) -> Config:
    from r2wifi.config import load_config

    return load_config(config)


def load_or_default(config: str | None) -> Config:
    """The configuration for commands that must work without one (`down`, `status`).

    An explicit ``--config`` that is bad is still an error; a missing default file means defaults.
    """
    from r2wifi.config import default_config

    try:
        return load(config)
    except UserError:
        if config:
            raise
        return default_config()


@records.record
class UpRecord:
    """``<ap dir>/up.json``: what ``up`` did, so that ``down`` undoes exactly that and the health check
    knows what to expect. :meth:`from_json` tolerates files of other versions: a missing key takes its
    default, an unknown one is kept in ``extra`` and written back unchanged. Item access
    (``record.netns``, ``.get``) still works for callers written against the former plain dict."""

    mode: str | None = None  # "ap" | "sta"
    interface: str = ""
    backend: str = ""
    chip: bool = False  # chip.enabled when it came up
    config: str = ""  # the configuration file it came up with
    started_at: float | None = None
    up_at: float | None = None  # the bring-up finished (epoch seconds)
    netns: str | None = None
    launcher_started: bool = False  # the launcher is ours to stop
    wifi: str | None = None  # the WiFi mode we switched on
    ifindex: int | None = None
    addresses: list[str] = records.field(default_factory=list)  # added by us: ours to remove
    want_addresses: list[str] = records.field(default_factory=list)  # the interface must have these
    bridge: str | None = None
    shaping: dict[str, Any] | None = None  # {"kind", "rate"}
    nat: dict[str, Any] | None = None  # {"subnet", "uplink"}
    daemons: list[str] = records.field(default_factory=list)  # started for the mode, in start order
    hostapd_driver: str | None = None
    dnsmasq: bool = False
    wpa_supplicant: bool = False
    dhcpc: bool = False
    extra: dict[str, Any] = records.field(default_factory=dict)  # keys this version does not know

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in records.fields(cls)) - {"extra"}

    @classmethod
    def from_json(cls, data: object) -> UpRecord:
        if not isinstance(data, dict):
            return cls()
        names = cls.names()
        lists = {f.name for f in records.fields(cls) if f.default_factory is list}
        # a list field that is not a list (hand-edited, damaged) takes its default
        rec = cls(**{k: v for k, v in data.items() if k in names and (k not in lists or isinstance(v, list))})
        rec.extra = {k: v for k, v in data.items() if k not in names}
        return rec

    def to_json(self) -> dict[str, Any]:
        out = dict(self.extra)
        out.update({name: getattr(self, name) for name in self.names()})
        return out

    # the former dict interface
    def __getitem__(self, key: str) -> Any:
        return getattr(self, key) if key in self.names() else self.extra[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self.names():
            setattr(self, key, value)
        else:
            self.extra[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.names() else self.extra.get(key, default)


def _always(cfg: Config) -> bool:
    return True


def _wants_dnsmasq(cfg: Config) -> bool:
    """A routed AP with DHCP on serves its own leases (a bridged AP leaves that to the bridge's network)."""
    return cfg.dhcp.enabled and not cfg.nat.bridge


@records.record(frozen=True)
class ModeSteps:
    """What differs between the AP and the station, as data: the ordered steps of ``up`` (every one a
    method of :class:`ApController` taking the record), the daemons each mode starts (with the
    condition under which it does), and the daemon recovery restarts by default."""

    main: str  # the daemon that makes the mode work (rung 0 restarts it when no daemon is named)
    section: str  # the configuration section that names the interface
    daemons: tuple[tuple[str, Callable[[Config], bool]], ...]  # (daemon, started when) in start order
    start: tuple[str, ...]  # the steps that start the daemons (up, and every recovery rung)
    #: checks ``up`` (and ``reload``, on the new file) run before touching anything: methods taking the
    #: configuration, returning notes, raising a ConfigError to refuse (:meth:`ApController.preflight`)
    check: tuple[str, ...] = ()
    #: what ``configure_interface`` does once the interface is there, in order (methods taking the record,
    #: the open Link and the interface index; ``up`` and every recovery rung)
    interface: tuple[str, ...] = ("iface_up",)
    #: what ``status`` adds for the mode (methods taking the status dict being built)
    status: tuple[str, ...] = ()
    up: tuple[str, ...] = ("chip_up", "configure_interface", "start_daemons")
    #: the modules the steps after the chip's launch import (WiFi mode, netlink, the daemons): imported
    #: while a newly forked launcher powers the chip (:meth:`ApController.prefetch`), so on the two-core
    #: board that import time overlaps the launcher's own start-up instead of following it
    prefetch: tuple[str, ...] = ()


#: what every mode's later steps import (see :attr:`ModeSteps.prefetch`)
PREFETCH_COMMON = ("r2wifi.wmt.wifi", "r2wifi.net.link", "r2wifi.hostap.daemon", "r2wifi.hostap.ctrl",
                   "r2wifi.hostap.render", "r2wifi.hostap.logpump")


MODES: dict[str, ModeSteps] = {
    "ap": ModeSteps("hostapd", "ap",
                    (("hostapd", _always), ("dnsmasq", _wants_dnsmasq)),
                    ("start_hostapd", "prepare_dnsmasq", "await_hostapd", "reapply_addresses", "start_dnsmasq"),
                    check=("check_regulatory",),
                    interface=("iface_mac", "iface_addresses", "iface_up", "iface_shaping", "iface_nat"),
                    prefetch=(*PREFETCH_COMMON, "r2wifi.net.shaping", "r2wifi.net.nat")),
    "sta": ModeSteps("wpa_supplicant", "sta",
                     (("wpa_supplicant", _always), ("dhcpc", lambda c: c.sta.dhcp)),
                     ("start_wpa_supplicant", "start_dhcp_client"),
                     interface=("iface_up",), status=("status_dhcp_lease",),
                     prefetch=(*PREFETCH_COMMON, "r2wifi.net.dhcpc")),
}


class ApController:
    def __init__(self, cfg: Config, backend: str = "auto", *, chip: ChipOps | None = None,
                 directory: Path | None = None) -> None:
        self.cfg = cfg
        self.backend = resolve_backend(backend, cfg)
        self.dir = directory or ap_dir()
        self.daemons = Daemons(cfg)
        self.sup = Procs(self.dir)  # only the supervisor's own pid file
        self.chip = chip or InProcessChipOps(self.backend, firmware_dir=cfg.chip.firmware_dir, names=cfg.chip.names)
        self.record_path = self.dir / "up.json"
        self.log: list[str] = []
        self.cancel: Any = None  # a threading.Event: when set, the next step raises Cancelled
        self._sup_lock = -1
        self._netns: str | None = None
        self._wired = False
        self._facts_done = False
        self._hostapd: Daemon | None = None  # started by start_hostapd, awaited by await_hostapd
        self._dnsmasq: Daemon | None = None  # rendered by prepare_dnsmasq, started by start_dnsmasq

    # -- record ----------------------------------------------------------------------------------
    def read_record(self) -> UpRecord:
        try:
            return UpRecord.from_json(json.loads(self.record_path.read_text()))
        except (OSError, ValueError, TypeError):
            return UpRecord()

    def write_record(self, record: UpRecord) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(self.record_path, json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n", mode=0o600)

    def step(self, text: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(f"stopped before: {text}")
        now = time.time()
        self.log.append(f"{time.strftime('%H:%M:%S', time.localtime(now))}.{int(now % 1 * 1000):03d} {text}")

    # -- facts -----------------------------------------------------------------------------------
    def facts(self) -> tuple[str | None, bool]:
        if not self._facts_done:
            if self.cfg.chip.enabled:
                self._netns, self._wired = backend_facts(self.backend)
            self._facts_done = True
        return self._netns, self._wired

    @property
    def netns(self) -> str | None:
        return self.facts()[0]

    @property
    def hostapd_driver(self) -> str:
        return "wired" if self.facts()[1] else self.cfg.ap.driver

    mode = "ap"

    @property
    def steps(self) -> ModeSteps:
        return MODES[self.mode]

    @property
    def interface(self) -> str:
        return str(getattr(self.cfg, self.steps.section).interface)

    @property
    def daemon_name(self) -> str:
        """The daemon that makes the mode work: hostapd (AP) or wpa_supplicant (station)."""
        return self.steps.main

    def start_daemons(self, record: UpRecord) -> None:
        record.daemons = self.expected_daemons()
        for name in self.steps.start:
            getattr(self, name)(record)

    def ctrl_path(self) -> Path:
        return self.daemons.ctrl_path(self.daemon_name)

    def expected_daemons(self, mode: str | None = None) -> list[str]:
        """The daemons ``up`` starts in ``mode`` with this configuration (start order)."""
        return [kind for kind, wanted in MODES[mode or self.mode].daemons if wanted(self.cfg)]

    # -- up --------------------------------------------------------------------------------------
    def up(self, mode: str = "ap") -> UpRecord:
        """The steps of ``mode`` (:data:`MODES`) in order, the record written after each."""
        if mode not in MODES:
            raise UserError(f"unknown mode {mode!r} (ap or sta)")
        self.mode = mode
        record = self.read_record()
        if record.mode and record.mode != mode:
            raise UserError(f"r2wifi is up in {record.mode} mode; run 'r2wifi down' first")
        self.preflight()
        record.mode, record.interface, record.backend = mode, self.interface, self.backend
        record.chip, record.config = self.cfg.chip.enabled, self.cfg.source
        if record.started_at is None:
            record.started_at = time.time()
        self.write_record(record)  # from here on, `down` knows what to undo
        for i, name in enumerate(self.steps.up, 1):
            getattr(self, name)(record)
            if i == len(self.steps.up):
                record.up_at = time.time()  # in the last step's write (each write costs ~10 ms on the board)
            self.write_record(record)
        return record

    def preflight(self, cfg: Config | None = None) -> list[str]:
        """The mode's checks (:attr:`ModeSteps.check`) on ``cfg`` (default: ours) before anything is touched:
        ConfigError (exit 2) when one refuses, else the notes (also logged as step lines)."""
        notes: list[str] = []
        for name in self.steps.check:
            notes += getattr(self, name)(cfg or self.cfg)
        for note in notes:
            self.step(f"note: {note}")
        return notes

    def check_regulatory(self, cfg: Config) -> list[str]:
        """The AP's channel against its country's rules in the system's regulatory.db: the check and message
        of ``config check`` (:func:`r2wifi.net.regdb.check_config`), so a forbidden channel is a ConfigError
        naming ap.channel or ap.country; a DFS channel gives a note on how long hostapd listens for radar.
        Not checked (no notes) with the wired driver (no radio) or without a database (the kernel still
        enforces its own rules)."""
        from r2wifi.net import regdb

        driver = "wired" if cfg.chip.enabled and backend_wired(self.backend) else cfg.ap.driver
        if driver == "wired" or not cfg.ap.enabled:
            return []
        try:
            db = regdb.load()
        except regdb.RegDbError:
            return []
        problems, notes = regdb.check_config(cfg, db)
        if problems:
            raise problems[0]
        return notes

    def chip_up(self, record: UpRecord) -> None:
        """chip init -> launcher -> WiFi mode (chip.enabled only); then the backend's namespace is known."""
        if self.cfg.chip.enabled:
            self._chip_steps(record)
        record.netns = self.netns

    def _chip_steps(self, record: UpRecord) -> None:
        self.step("chip init")
        self.chip.init()
        self.step("chip launch")
        if self.chip.launch(meanwhile=self.prefetch):
            record.launcher_started = True
        self.write_record(record)
        self.step(f"wifi {self.mode}")
        self.chip.wifi(self.mode)
        record.wifi = self.mode

    def prefetch(self) -> None:
        """Import the modules of the mode's later steps (:attr:`ModeSteps.prefetch`) ahead of their use."""
        import importlib

        for name in self.steps.prefetch:
            importlib.import_module(name)

    def configure_interface(self, record: UpRecord) -> None:
        """Wait for the interface, then the mode's interface steps (:attr:`ModeSteps.interface`: the AP's MAC,
        addresses or bridge, link up, shaping, NAT; the station's link up), all idempotent."""
        from r2wifi.net.link import Link

        ifname = self.interface
        with Link(self.netns) as link:
            self.step(f"wait for {ifname}")
            try:
                idx = link.wait_interface(ifname, INTERFACE_TIMEOUT, cancel=self.cancel)
            except InterruptedError as err:
                raise Cancelled(str(err)) from None
            except TimeoutError as err:
                raise UserError(str(err), hint="is ap.interface / chip.names right?") from None
            record.ifindex = idx
            for name in self.steps.interface:
                getattr(self, name)(record, link, idx)

    def iface_mac(self, record: UpRecord, link: Any, idx: int) -> None:
        """ap.mac, when set, on the AP interface."""
        if self.cfg.ap.mac:
            link.set_mac(self.interface, self.cfg.ap.mac)

    def iface_addresses(self, record: UpRecord, link: Any, idx: int) -> None:
        """The AP's addresses (only those we added are ours to remove on ``down``), or its bridge port."""
        ifname = self.interface
        added: list[str] = list(record.addresses)
        want: list[str] = []
        if self.cfg.nat.bridge:
            link.set_master(ifname, self.cfg.nat.bridge)
            record.bridge = self.cfg.nat.bridge
        else:
            link.no_autoconf(ifname)
            want = [cidr for cidr in (self.cfg.ap.address4, self.cfg.ap.address6) if cidr]
            for cidr in [c for c in added if not _has(want, c)]:  # ours, no longer configured (a reload)
                if link.remove_address(ifname, cidr):
                    self.step(f"removed {cidr} (no longer configured)")
                added.remove(cidr)
            for cidr in want:
                if link.ensure_address(ifname, cidr) and cidr not in added:
                    added.append(cidr)
        record.addresses = added
        record.want_addresses = want

    def iface_up(self, record: UpRecord, link: Any, idx: int) -> None:
        link.set_up(self.interface)

    def iface_shaping(self, record: UpRecord, link: Any, idx: int) -> None:
        """[shaping] on the AP interface: HTB at the configured rate (replaced when the rate changed)."""
        from r2wifi.net import shaping

        if not self.cfg.shaping.enabled:
            return
        plan = shaping.ShapingPlan("htb", self.cfg.shaping.rate_bps)
        same = (record.shaping or {}).get("rate") == self.cfg.shaping.rate
        if not same:
            shaping.apply(link.ipr, idx, plan)  # a new rate: replace what is there
        if not same or shaping.ensure(link.ipr, idx, plan):
            self.step(f"shaping htb {self.cfg.shaping.rate}")
        record.shaping = {"kind": plan.kind, "rate": self.cfg.shaping.rate}

    def iface_nat(self, record: UpRecord, link: Any, idx: int) -> None:
        """nat.uplink (routed AP only): our nft table masquerading the AP subnet."""
        from r2wifi.net import nat

        if self.cfg.nat.uplink and not self.cfg.nat.bridge:
            subnet = str(self.cfg.ap.network4.network)
            nat.enable(subnet, self.cfg.nat.uplink, self.netns)
            record.nat = {"subnet": subnet, "uplink": self.cfg.nat.uplink}

    def reapply_addresses(self, record: UpRecord) -> None:
        """Put back any address hostapd's start removed: with nl80211 it may take the link down to switch
        it to AP mode, and the kernel drops IPv6 addresses on link down. Idempotent (a netlink look)."""
        from r2wifi.net.link import Link

        want = record.want_addresses or []
        if not want:
            return
        with Link(self.netns) as link:  # whose an address is (``addresses``: ours to remove) does not change
            for cidr in want:
                if link.ensure_address(self.interface, cidr):
                    self.step(f"address {cidr} again (lost while hostapd started)")

    def start_hostapd(self, record: UpRecord) -> None:
        """Render and start hostapd (when it is not running); :meth:`await_hostapd` waits for it."""
        from r2wifi.hostap.daemon import hostapd_daemon

        ctrl = self.daemons.ctrl_path("hostapd")
        d = self.daemons.handle("hostapd")
        if not d.alive():
            cfg = records.replace(self.cfg, ap=records.replace(self.cfg.ap, driver=self.hostapd_driver))
            ctrl.unlink(missing_ok=True)  # a socket left by a hostapd of ours that was killed
            d = hostapd_daemon(cfg, netns=self.netns, name=self.daemons.name("hostapd"))
            self.step("start hostapd")
            self._start("hostapd", d)
            record.hostapd_driver = cfg.ap.driver
        self._hostapd = d

    def prepare_dnsmasq(self, record: UpRecord) -> None:
        """Render dnsmasq's files while hostapd comes up (it starts only once hostapd is ENABLED and the
        addresses are back: :meth:`start_dnsmasq`); nothing when dnsmasq is not wanted or already runs."""
        from r2wifi.hostap.daemon import dnsmasq_daemon

        if _wants_dnsmasq(self.cfg) and not self.daemons.alive("dnsmasq"):
            self._dnsmasq = dnsmasq_daemon(self.cfg, netns=self.netns, name=self.daemons.name("dnsmasq"))

    def await_hostapd(self, record: UpRecord) -> None:
        """Wait for the hostapd of :meth:`start_hostapd` to report AP-ENABLED (stopped if it does not)."""
        from r2wifi.hostap.ctrl import wait_ready

        d = self._hostapd if self._hostapd is not None else self.daemons.handle("hostapd")
        try:
            from r2wifi.net.regdb import cac_wait

            # a DFS channel: hostapd first listens for radar (CAC, 60 s or 600 s) before AP-ENABLED
            client = wait_ready(self.daemons.ctrl_path("hostapd"), kind="hostapd",
                                timeout=HOSTAPD_TIMEOUT + cac_wait(self.cfg), alive=d.alive)
        except UserError as err:
            d.stop(timeout=2.0)  # also waits for its log pump, so the log is complete
            raise UserError(f"hostapd did not come up: {err.message}; {self._last_log_line('hostapd')}",
                            hint=f"log: {self.daemons.logfile('hostapd')}") from None
        finally:
            self._hostapd = None
        client.close()
        self.step("hostapd ENABLED")

    def _last_log_line(self, kind: str) -> str:
        try:
            lines = [ln for ln in self.daemons.logfile(kind).read_text(errors="replace").splitlines()
                     if ln.strip() and "r2wifi:" not in ln]
        except OSError:
            return "no log"
        if not lines:
            return "empty log"
        telling = [ln for ln in lines if any(w in ln.lower() for w in ("fail", "could not", "error", "invalid"))]
        last = (telling or lines)[-1].split(": ", 1)[-1]
        return f"{'log says' if telling else 'last log line'}: {last[:200]}"

    def _start(self, kind: str, d: Daemon) -> None:
        try:
            d.start()
        except (OSError, UserError) as err:
            d.stop(timeout=2.0)
            text = err.message if isinstance(err, UserError) else str(err)
            raise UserError(f"{kind} did not come up: {text}; {self._last_log_line(kind)}",
                            hint=f"log: {d.log_file}") from None

    def start_dnsmasq(self, record: UpRecord) -> None:
        """Start dnsmasq (files from :meth:`prepare_dnsmasq`, or rendered now) when wanted and not running."""
        from r2wifi.hostap.daemon import dnsmasq_daemon

        d, self._dnsmasq = self._dnsmasq, None
        if not _wants_dnsmasq(self.cfg) or self.daemons.alive("dnsmasq"):
            return
        self.step("start dnsmasq")
        self._start("dnsmasq", d or dnsmasq_daemon(self.cfg, netns=self.netns, name=self.daemons.name("dnsmasq")))
        record.dnsmasq = True

    def start_wpa_supplicant(self, record: UpRecord) -> None:
        from r2wifi.hostap.ctrl import CtrlClient, CtrlError
        from r2wifi.hostap.daemon import wpa_supplicant_daemon

        d = self.daemons.handle("wpa_supplicant")
        if not d.alive():
            driver = "wired" if self.facts()[1] else self.cfg.sta.driver
            cfg = records.replace(self.cfg, sta=records.replace(self.cfg.sta, driver=driver))
            d = wpa_supplicant_daemon(cfg, netns=self.netns, name=self.daemons.name("wpa_supplicant"))
            self.step("start wpa_supplicant")
            self._start("wpa_supplicant", d)
        # Station mode does not wait for a connection (the network may be out of range): only for
        # wpa_supplicant's control socket to answer.
        ctrl = self.daemons.ctrl_path("wpa_supplicant")
        deadline = time.monotonic() + WPAS_CTRL_TIMEOUT
        while True:
            if not d.alive():
                raise UserError(f"wpa_supplicant exited at once; {self._last_log_line('wpa_supplicant')}",
                                hint=f"log: {d.log_file}")
            if ctrl.exists():
                try:
                    with CtrlClient(ctrl, timeout=1.0) as c:
                        if c.ping():
                            break
                except CtrlError:
                    pass  # the socket is there but not served yet: try again
            if time.monotonic() > deadline:
                raise UserError(f"wpa_supplicant's control socket did not answer within {WPAS_CTRL_TIMEOUT:g} s; "
                                f"{self._last_log_line('wpa_supplicant')}", hint=f"log: {d.log_file}")
            pid = d.pid()
            if pid:
                wait_pid_exit(pid, 0.05)  # returns early if it dies
        record.wpa_supplicant = True

    def start_dhcp_client(self, record: UpRecord) -> None:
        """Station mode: busybox udhcpc on the station interface (see r2wifi.net.dhcpc)."""
        from r2wifi.hostap.daemon import Daemon
        from r2wifi.net import dhcpc

        if not self.cfg.sta.dhcp or self.daemons.alive("dhcpc"):
            return
        iface = self.cfg.sta.interface
        name = self.daemons.name("dhcpc")
        hook = dhcpc.write_hook(ensure_dir(self.daemons.handle("dhcpc").conf_file.parent) / f"{name}.hook")
        argv = dhcpc.client_argv(iface, hook)
        if argv is None:
            raise UserError("no DHCP client for station mode (udhcpc)",
                            hint="install the Debian package busybox (or udhcpc), or set [sta] dhcp = false")
        # The host's resolv.conf is the station's only on the board (root namespace): the simulator's
        # station lives in a namespace of its own, and tests name another file (R2WIFI_RESOLV_CONF).
        set_dns = self.cfg.sta.set_dns and (self.netns is None or "R2WIFI_RESOLV_CONF" in os.environ)
        env = {"R2WIFI_STATE_DIR": str(state_dir()), "R2WIFI_SET_DNS": "1" if set_dns else "0"}
        self.step("start DHCP client")
        self._start("dhcpc", Daemon(name, argv, netns=self.netns, env=env))
        record.dhcpc = True

    # -- live changes (r2wifi reload; which change gets which: r2wifi.service.reload) ------------------
    def reload_hostapd(self, timeout: float = HOSTAPD_TIMEOUT) -> str:
        """Re-render hostapd.conf (and its MAC list) and make the running hostapd re-read it with SIGHUP:
        the same process, the AP stays ENABLED (stations are deauthenticated and join again). Not the control
        interface: hostapd 2.10 matches every command starting with ``RELOAD`` as ``RELOAD``, which answers
        OK but only re-applies the configuration it already has. Returns how; UserError if hostapd is not
        running or not ENABLED with the new SSID within ``timeout`` s."""
        import signal

        from r2wifi.hostap.ctrl import CtrlClient
        from r2wifi.hostap.daemon import hostapd_daemon

        pid = self.daemons.pid("hostapd")
        if pid is None:
            raise UserError("hostapd is not running")
        cfg = records.replace(self.cfg, ap=records.replace(self.cfg.ap, driver=self.hostapd_driver))
        hostapd_daemon(cfg, netns=self.netns, name=self.daemons.name("hostapd"))  # renders its files only
        self.step("reload hostapd")
        with CtrlClient(self.ctrl_path(), timeout=5.0) as c:
            os.kill(pid, signal.SIGHUP)
            deadline = time.monotonic() + timeout
            while True:  # the signal is handled before the next request is read; check the result anyway
                st = c.status()
                plain = cfg.ap.ssid.isascii() and cfg.ap.ssid.isprintable()  # else STATUS shows it escaped
                if st.get("state") == "ENABLED" and (not plain or st.get("ssid[0]") == cfg.ap.ssid):
                    break
                if time.monotonic() > deadline or self.daemons.pid("hostapd") != pid:
                    raise UserError(f"hostapd did not reload (state {st.get('state')}); "
                                    f"{self._last_log_line('hostapd')}")
                time.sleep(0.05)
        return "SIGHUP"

    def hup_dnsmasq(self, timeout: float = 10.0) -> str:
        """Re-render dnsmasq's files and SIGHUP it: it re-reads the reservations (its dhcp-hostsfile; not
        its main file), the same process. Waits for its log line saying it read the file."""
        import signal

        from r2wifi.hostap.daemon import dnsmasq_daemon
        from r2wifi.hostap.render import dnsmasq_hosts_path

        pid = self.daemons.pid("dnsmasq")
        if pid is None:
            raise UserError("dnsmasq is not running")
        d = dnsmasq_daemon(self.cfg, netns=self.netns, name=self.daemons.name("dnsmasq"))  # renders only
        hosts = dnsmasq_hosts_path(d.conf_file)
        log = self.daemons.logfile("dnsmasq")
        try:
            start = log.stat().st_size
        except OSError:
            start = 0
        self.step("SIGHUP dnsmasq")
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(log, "rb") as fh:
                    fh.seek(start)
                    if f"read {hosts}".encode() in fh.read():
                        return "SIGHUP"
            except OSError:
                pass
            if time.monotonic() > deadline or self.daemons.pid("dnsmasq") != pid:
                raise UserError(f"dnsmasq did not re-read {hosts} after SIGHUP")
            time.sleep(0.05)

    def reshape(self) -> str:
        """The ``[shaping]`` settings on the running interface in place: a new rate changes the classes
        (no qdisc replaced, no link bounce); on/off adds or removes our qdisc. Returns what was done."""
        from r2wifi.net import shaping
        from r2wifi.net.link import Link

        record = self.read_record()
        with user_errors(), Link(self.netns) as link:
            idx = link.index(self.interface)
            if idx is None:
                raise UserError(f"{self.interface} is missing")
            if not self.cfg.shaping.enabled:
                shaping.remove(link.ipr, idx)
                record.shaping = None
                how = "removed"
            else:
                plan = shaping.ShapingPlan("htb", self.cfg.shaping.rate_bps)
                how = "classes changed" if shaping.change(link.ipr, idx, plan) else "qdisc added"
                if how != "classes changed":
                    shaping.apply(link.ipr, idx, plan)
                record.shaping = {"kind": plan.kind, "rate": self.cfg.shaping.rate}
        self.step(f"shaping {how}")
        self.write_record(record)
        return how

    def renat(self) -> str:
        """``nat.uplink`` in place: our nft table replaced in one transaction (or removed)."""
        from r2wifi.net import nat

        record = self.read_record()
        if self.cfg.nat.uplink:
            subnet = str(self.cfg.ap.network4.network)
            nat.enable(subnet, self.cfg.nat.uplink, self.netns)
            record.nat = {"subnet": subnet, "uplink": self.cfg.nat.uplink}
            how = "table replaced"
        else:
            nat.disable(self.netns)
            record.nat = None
            how = "table removed"
        self.step(f"nat {how}")
        self.write_record(record)
        return how

    # -- recovery rungs --------------------------------------------------------------------------
    def restart_daemons(self, kinds: tuple[str, ...] | list[str] = ()) -> None:
        """Rung 0: re-apply the interface state (addresses, shaping, NAT), restart ``kinds``
        (default: hostapd, or wpa_supplicant in station mode) and start any daemon that is missing."""
        record = self.read_record()
        for kind in kinds or (self.daemon_name,):
            self.step(f"stop {kind}")
            self.daemons.stop(kind)
        self.configure_interface(record)
        self.write_record(record)
        self.start_daemons(record)
        self.write_record(record)

    def restart_hostapd(self) -> None:
        """Rung 0 for the mode's main daemon (hostapd; wpa_supplicant in station mode)."""
        self.restart_daemons((self.daemon_name,))

    def reset_wifi(self) -> None:
        """WiFi off, AP mode again, interface re-done (addresses, re-shaped), hostapd, dnsmasq."""
        self._rebuild(whole_chip=False)

    def reset_chip(self) -> None:
        """Launcher restarted (patches sent again), then the mode, interface and daemons as in reset_wifi."""
        self._rebuild(whole_chip=True)

    def _rebuild(self, *, whole_chip: bool) -> None:
        """The common body of the upper rungs: every daemon stopped, the chip step, everything redone."""
        record = self.read_record()
        for kind in KINDS:
            self.daemons.stop(kind)
        if self.cfg.chip.enabled:
            if whole_chip:
                # a power cycle served by the running launcher; only a launcher it had to start is ours to stop
                had_launcher = self.chip.launcher_pid() is not None
                self.chip.reset()
                if not had_launcher and self.chip.launcher_pid() is not None:
                    record["launcher_started"] = True
            else:
                from r2wifi.net.link import Link

                self.chip.wifi("off")
                with Link(self.netns) as link:
                    link.wait_gone(self.interface, 10.0, cancel=self.cancel)
            self.chip.wifi(self.mode)
        self.configure_interface(record)
        self.write_record(record)
        self.start_daemons(record)
        self.write_record(record)

    # -- health ----------------------------------------------------------------------------------
    def problems(self, record: UpRecord | None = None, *, deep: bool = True, link: Any = None) -> list[str]:
        """What is wrong with the AP/station compared with what ``up`` set up (empty: healthy).

        Shallow (``deep=False``, cheap, netlink only; ``link`` may be an open :class:`Link` to reuse):
        the interface, its index, link state, addresses and qdisc. ``deep`` adds the NAT table, the
        daemons, hostapd's state on its control socket and dnsmasq's DHCP socket.
        """
        from r2wifi.net import nat, shaping
        from r2wifi.net.link import Link

        record = self.read_record() if record is None else record
        if not record.up_at and not record.daemons:
            return ["not up"]
        mode = str(record.mode or self.mode)
        ifname = str(record.interface or self.interface)
        netns = record.netns
        if netns and not os.path.exists(f"/run/netns/{netns}"):
            return [f"network namespace {netns} is gone"]
        out: list[str] = []
        own = link is None
        lk = Link(netns) if own else link
        try:
            info = lk.info(ifname)
            if info is None:
                return [f"{ifname} is missing"]
            if record.ifindex and info["index"] != record.ifindex:
                out.append(f"{ifname} was re-created (index {record.ifindex} -> {info['index']})")
            if not info["up"]:
                out.append(f"{ifname} is down")
            have = lk.addresses(ifname)
            for cidr in record.want_addresses:
                if not _has(have, cidr):
                    out.append(f"{ifname} lacks {cidr}")
            if record.shaping and shaping.counters(lk.ipr, info["index"]).kind is None:
                out.append(f"{ifname} has no shaping qdisc")
        finally:
            if own:
                lk.close()
        if not deep:
            return out
        if record.nat and not nat.present(netns):
            out.append(f"the NAT table {nat.TABLE} is missing")
        if record.chip and self.chip.launcher_pid() is None:
            out.append("the chip launcher is not running")
        kinds = record.daemons or self.expected_daemons(mode)
        for kind in kinds:
            if not self.daemons.alive(kind):
                out.append(f"{kind} is not running")
        if "hostapd" in kinds and self.daemons.alive("hostapd"):
            state = self._ctrl_state("hostapd", "state")
            if state != "ENABLED":
                out.append(f"hostapd is not ENABLED ({state})")
        pid = self.daemons.pid("dnsmasq") if "dnsmasq" in kinds else None
        if pid:
            from r2wifi.net.sockets import udp_listening

            if not udp_listening(pid, DHCP_PORT):
                out.append(f"dnsmasq does not listen on DHCP port {DHCP_PORT}")
        return out

    def _ctrl_state(self, kind: str, key: str) -> str:
        from r2wifi.hostap.ctrl import CtrlClient, CtrlError

        try:
            with CtrlClient(self.daemons.ctrl_path(kind), timeout=2.0) as c:
                return c.status().get(key, "no state")
        except CtrlError as err:
            return f"control socket: {err.message}"

    def verify(self, timeout: float = VERIFY_TIMEOUT) -> None:
        """Wait until :meth:`problems` finds nothing (end-to-end check after a recovery); UserError naming
        what is still wrong after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.problems()
            if not found:
                self.step("verified: interface, addresses, shaping, NAT, daemons")
                return
            if time.monotonic() >= deadline:
                raise UserError("not restored: " + "; ".join(found))
            if self.cancel is not None and self.cancel.wait(0.2):
                raise Cancelled("stopped while verifying")
            if self.cancel is None:
                time.sleep(0.2)

    # -- the supervisor's lock and pid file ---------------------------------------------------------
    @property
    def supervisor_lock_path(self) -> Path:
        return self.dir / "supervisor.lock"

    def _open_supervisor_lock(self) -> int:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(self.supervisor_lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def claim_supervisor(self) -> None:
        """Become the one supervisor (``r2wifi run``): take the lock for life, then record our pid.

        Another holder -> UserError (exit 2) naming it.
        """
        import fcntl

        from r2wifi.procutil import starttime

        fd = self._open_supervisor_lock()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            deadline = time.monotonic() + 2.0  # the holder writes its pid right after locking
            other = self.sup.pid("supervisor")
            while other is None and time.monotonic() < deadline:
                time.sleep(0.05)
                other = self.sup.pid("supervisor")
            who = f"'r2wifi run' is already supervising (pid {other})" if other else \
                f"'r2wifi run' is already supervising or 'r2wifi down' is running ({self.supervisor_lock_path} is held)"
            raise UserError(who, hint="one supervisor at a time; 'r2wifi down' stops it") from None
        self._sup_lock = fd
        atomic_write(self.sup.pidfile("supervisor"), f"{os.getpid()} {starttime(os.getpid()) or ''}\n")

    def release_supervisor(self) -> None:
        if self.sup.pid("supervisor") == os.getpid():
            self.sup.pidfile("supervisor").unlink(missing_ok=True)
        if self._sup_lock >= 0:
            os.close(self._sup_lock)  # releases the flock
            self._sup_lock = -1

    def supervisor_pid(self) -> int | None:
        """The pid of the running supervisor (lock held and pid file verified), or None."""
        import fcntl

        pid = self.sup.pid("supervisor")
        if pid is None or not self.supervisor_lock_path.exists():
            return None
        fd = os.open(self.supervisor_lock_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None  # nobody holds it: the pid file is stale
        except BlockingIOError:
            return pid
        finally:
            os.close(fd)

    def stop_supervisor(self, grace: float = SUPERVISOR_STOP_GRACE) -> bool:
        """Stop the lock holder (``r2wifi run``) and keep the supervisor lock until :meth:`release_supervisor`.

        While ``down`` holds it, no ``run`` can start supervising. Returns True if a supervisor was stopped.
        """
        import fcntl

        from r2wifi.procutil import terminate

        if self._sup_lock >= 0:
            return False  # we are the supervisor (run --down-on-exit)
        fd = self._open_supervisor_lock()
        stopped = False
        deadline = time.monotonic() + grace + 90.0  # a `down` holding it (no pid file) may take a while
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._sup_lock = fd
                return stopped
            except BlockingIOError:
                pass
            pid = self.sup.pid("supervisor")
            if pid and pid != os.getpid():
                terminate(pid, grace)
                stopped = True
            elif time.monotonic() > deadline:
                os.close(fd)
                raise UserError(f"{self.supervisor_lock_path} stays locked by a process that is not a "
                                "supervisor of ours") from None
            else:
                time.sleep(0.05)

    # -- down ------------------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Undo what the record says we did. Returns the list of things removed."""
        from r2wifi.net import dhcpc, nat, shaping
        from r2wifi.net.link import Link

        record = self.read_record()
        done: list[str] = []
        netns = record.netns
        ifname = record.interface or self.interface
        for kind in ("dnsmasq", "hostapd", "dhcpc", "wpa_supplicant"):
            if self.daemons.stop(kind):
                done.append(f"stopped {kind}")
            self.daemons.forget(kind)
            if kind == "dhcpc" and dhcpc.release_leftovers(self.dir, self.cfg.sta.interface, netns):
                done.append("removed the DHCP lease")
        if record.nat and nat.disable(netns):
            done.append("removed nft table")
        ns_ok = netns is None or os.path.exists(f"/run/netns/{netns}")
        if ns_ok:
            with Link(netns) as link:
                idx = link.index(ifname)
                if idx is not None:
                    if record.shaping and shaping.remove(link.ipr, idx):
                        done.append("removed shaping")
                    for cidr in record.addresses:
                        if link.remove_address(ifname, cidr):
                            done.append(f"removed {cidr}")
                    if record.bridge:
                        link.set_master(ifname, None)
        if record.chip and record.wifi:
            try:
                self.chip.wifi("off")
                done.append("wifi off")
            except UserError as err:
                done.append(f"wifi off failed: {err}")
        if record.launcher_started and self.chip.stop_launcher():
            done.append("stopped launcher")
        self.record_path.unlink(missing_ok=True)
        if self.sup.pid("supervisor") is None:  # left by a supervisor that was killed
            self.sup.pidfile("supervisor").unlink(missing_ok=True)
            (self.dir / "supervisor.json").unlink(missing_ok=True)
        return done

    # -- status ----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        record = self.read_record()
        if record.mode in MODES:
            self.mode = str(record.mode)
        from r2wifi.service.clients import SCHEMA_VERSION

        out: dict[str, Any] = {"version": SCHEMA_VERSION, "up": bool(record.up_at), "mode": record.mode,
                               "interface": record.interface or self.cfg.ap.interface,
                               "netns": record.netns, "backend": self.backend}
        if self.cfg.chip.enabled:
            try:
                from r2wifi.wmt.state import read_state

                st = read_state()
                out["chip"] = {"launcher_alive": bool(st.get("alive")), "powered": bool(st.get("powered")),
                               "launcher_pid": st.get("pid")}
            except Exception as err:  # noqa: BLE001 - status must always answer
                out["chip"] = {"error": str(err)}
        else:
            out["chip"] = {"enabled": False}
        out["interface_state"] = self._iface_status(record, out["interface"])
        out["daemons"] = {kind: {"pid": self.daemons.pid(kind), "log": str(self.daemons.logfile(kind))}
                          for kind in KINDS
                          if self.daemons.pid(kind) or self.daemons.logfile(kind).exists()}
        sup = self.sup.pid("supervisor")
        if sup:
            from r2wifi.logdir import supervisor_log

            out["daemons"]["supervisor"] = {"pid": sup, "log": str(supervisor_log(self.dir))}
        out["supervisor"] = self._supervisor_status(sup)
        problems: list[str] = []
        if record.up_at:
            try:
                problems = self.problems(record)
            except Exception as err:  # noqa: BLE001 - status must always answer
                problems = [f"health check failed: {' '.join(str(err).split()) or type(err).__name__}"]
        out["problems"] = problems
        out["state"] = "down" if not record.up_at else ("degraded" if problems else "up")
        out["up"] = out["state"] == "up"
        out["up_since"] = record.up_at  # epoch seconds the bring-up finished (None: not up)
        out["hostapd"], out["stations"] = self._hostapd_status(out["interface"], record.hostapd_driver)
        out["wpa_supplicant"] = self._wpas_status(out["interface"])
        if record.mode in MODES:
            for name in self.steps.status:
                getattr(self, name)(out)
        return out

    def status_dhcp_lease(self, out: dict[str, Any]) -> None:
        """Station mode: the lease its DHCP client holds."""
        from r2wifi.net.dhcpc import read_lease

        out["dhcp_lease"] = read_lease(self.dir, self.cfg.sta.interface)

    def _supervisor_status(self, pid: int | None) -> dict[str, Any] | None:
        """What the running supervisor last published (``supervisor.json``), or None without one."""
        if not pid:
            return None
        try:
            data = json.loads((self.dir / "supervisor.json").read_text())
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or data.get("pid") != pid:
            data = {"state": "starting"}
        data["pid"] = pid
        return data

    def _wpas_status(self, ifname: str) -> dict[str, str] | None:
        from r2wifi.hostap.ctrl import CtrlClient, CtrlError

        path = self.daemons.ctrl_path("wpa_supplicant")
        if not self.daemons.alive("wpa_supplicant") or not path.exists():
            return None
        keep = ("wpa_state", "ssid", "bssid", "freq", "key_mgmt", "ip_address")
        try:
            with CtrlClient(path, timeout=2.0) as c:
                st = c.status()
        except CtrlError as err:
            return {"error": str(err)}
        return {k: v for k, v in st.items() if k in keep}

    def _iface_status(self, record: UpRecord, ifname: str) -> dict[str, Any] | None:
        from r2wifi.net import shaping
        from r2wifi.net.link import Link

        netns = record.netns
        if netns and not os.path.exists(f"/run/netns/{netns}"):
            return None
        try:
            with Link(netns) as link:
                info = link.info(ifname)
                if info is None:
                    return None
                info["addresses"] = link.addresses(ifname)
                info["shaping"] = shaping.counters(link.ipr, info["index"]).as_dict()
                return info
        except (UserError, OSError) as err:
            return {"error": str(err)}

    def _hostapd_status(self, ifname: str,
                        driver: str | None = None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        from r2wifi.hostap.ctrl import CtrlError

        path = self.daemons.ctrl_path("hostapd")
        if not self.daemons.alive("hostapd") or not path.exists():
            return None, []
        from r2wifi.service import clients  # the typed station / hostapd shapes (one home)

        try:
            return clients.query(path, clients.lease_file(self.daemons), driver)
        except CtrlError as err:
            return {"error": str(err)}, []
