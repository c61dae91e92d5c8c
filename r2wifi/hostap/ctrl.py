"""Client for the hostapd / wpa_supplicant control interface (UNIX datagram sockets).

Public API::

    with CtrlClient("/run/r2wifi/hostapd/ap0") as c:   # ctrl_interface dir + interface name
        c.ping()                     # True on PONG
        c.status()                   # dict from STATUS (state=ENABLED, ...)
        c.attach()                   # receive unsolicited events from now on (re-done on reconnect)
        ev = c.wait_event({"AP-STA-CONNECTED"}, timeout=10)   # -> CtrlEvent
        c.all_sta()                  # {mac: {key: value}} via STA-FIRST / STA-NEXT (no ALL_STA in Debian)
        c.request("EAPOL_REAUTH 02:..")  # raw command -> reply text
    wait_ready(path, kind="hostapd", timeout=10, alive=daemon.alive) -> CtrlClient (attached)

Theory of operation. A request is one datagram; the reply is the next datagram that does not
start with ``<N>`` (N = message level), everything starting with ``<N>`` is an unsolicited event
of an ATTACHed monitor. :class:`CtrlProtocol` is the sans-IO part: it is fed datagrams and sorts
them into the reply of the pending request and a queue of :class:`CtrlEvent`; it knows nothing
about sockets or time. :class:`CtrlClient` does the I/O: it binds its own filesystem path
(hostapd replies to the sender's address, so an unbound socket gets no reply, and abstract names
are per network namespace while filesystem paths work across namespaces), connects to the
daemon's socket, and applies timeouts. If the daemon went away and came back (its socket was
re-created), the next request reconnects once and re-ATTACHes.

Readiness (:func:`wait_ready`) never sleeps blindly: it waits for the socket, ATTACHes, then
checks STATUS (``state=ENABLED`` for hostapd, ``wpa_state=COMPLETED`` for wpa_supplicant)
because AP-ENABLED can fire before ATTACH, and otherwise waits for the ``AP-ENABLED`` /
``CTRL-EVENT-CONNECTED`` event, re-polling STATUS every half second.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from r2wifi.errors import UserError
from r2wifi.paths import state_dir
from r2wifi.records import field, record

_EVENT_RE = re.compile(rb"^<(\d)>(.*)$", re.S)
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
SUN_PATH_MAX = 107
_counter = itertools.count()


class CtrlError(UserError):
    """The control interface cannot be reached or answered badly."""


class CtrlTimeout(CtrlError):
    """No reply / no matching event within the timeout."""


@record(frozen=True)
class CtrlEvent:
    """An unsolicited message ``<level>NAME args...``; ``name`` is the first word."""

    level: int
    name: str
    args: tuple[str, ...]
    text: str  # the message without the <level> prefix
    received: float = 0.0  # time.monotonic() at reception
    params: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def mac(self) -> str | None:
        """The first argument that is a MAC address (station of AP-STA-* events), else None."""
        for a in self.args:
            if _MAC_RE.match(a.lower()):
                return a.lower()
        return None


def parse_event(data: bytes, received: float = 0.0) -> CtrlEvent | None:
    """Parse ``<3>AP-STA-CONNECTED 02:00:00:00:01:00 auth_alg=open`` (None if not an event)."""
    m = _EVENT_RE.match(data)
    if not m:
        return None
    text = m.group(2).decode("utf-8", "replace").rstrip("\n")
    words = text.split()
    name = words[0] if words else ""
    args = tuple(words[1:])
    params = {k: v for k, _, v in (a.partition("=") for a in args if "=" in a)}
    return CtrlEvent(int(m.group(1)), name, args, text, received, params)


def parse_kv(text: str) -> dict[str, str]:
    """``key=value`` lines (STATUS, STA, MIB replies) -> dict; other lines are ignored."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def parse_sta(text: str) -> tuple[str, dict[str, str]] | None:
    """A STA / STA-FIRST / STA-NEXT reply: first line the MAC, then key=value lines. None if empty/FAIL."""
    lines = text.splitlines()
    if not lines or not _MAC_RE.match(lines[0].strip().lower()):
        return None
    return lines[0].strip().lower(), parse_kv("\n".join(lines[1:]))


class CtrlProtocol:
    """Sans-IO state of one control connection: the pending request and the event queue.

    Transitions (``pending`` is None or the command awaiting its reply)::

        idle    --send(cmd)-->         pending=cmd   (returns the datagram to write)
        pending --feed(<N>event)-->    pending       (event queued)
        pending --feed(reply)-->       idle          (reply returned once by take_reply)
        idle    --feed(<N>event)-->    idle          (event queued)
        idle    --feed(reply)-->       idle          (stray late reply of a timed-out request: dropped)
    """

    def __init__(self, max_events: int = 10000) -> None:
        self.pending: str | None = None
        self.reply: str | None = None
        self.events: deque[CtrlEvent] = deque(maxlen=max_events)
        self.dropped = 0

    def send(self, command: str) -> bytes:
        if self.pending is not None:
            raise RuntimeError(f"request {self.pending!r} still pending")
        self.pending, self.reply = command, None
        return command.encode()

    def feed(self, data: bytes, now: float = 0.0) -> None:
        ev = parse_event(data, now)
        if ev is not None:
            self.events.append(ev)
        elif self.pending is not None:
            self.reply = data.decode("utf-8", "replace")
            self.pending = None
        else:
            self.dropped += 1

    def take_reply(self) -> str | None:
        reply, self.reply = self.reply, None
        return reply

    def abandon(self) -> None:
        """The pending request timed out; a late reply will be dropped."""
        self.pending = None
        self.reply = None

    def pop_event(self, names: Iterable[str] | None = None) -> CtrlEvent | None:
        """Remove and return the oldest queued event (whose name is in ``names``, if given)."""
        wanted = set(names) if names is not None else None
        for i, ev in enumerate(self.events):
            if wanted is None or ev.name in wanted:
                del self.events[i]
                return ev
        return None


def _client_dir() -> Path:
    d = state_dir() / "ctrl-clients"
    if len(str(d)) + 30 > SUN_PATH_MAX:
        import tempfile  # only for a state dir too long for a socket path

        d = Path(tempfile.gettempdir()) / f"r2wifi-ctrl-{os.geteuid()}"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


class CtrlClient:
    """A connection to one daemon control socket (see the module docstring)."""

    def __init__(self, path: str | Path, *, timeout: float = 3.0, client_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        if len(os.fsencode(self.path)) > SUN_PATH_MAX:
            raise CtrlError(f"control socket path {self.path} is longer than {SUN_PATH_MAX} bytes")
        self.timeout = timeout
        self._client_dir = Path(client_dir) if client_dir else None
        self.proto = CtrlProtocol()
        self.attached = False
        self._sock: socket.socket | None = None
        self._local: Path | None = None

    # -- connection ------------------------------------------------------------------------
    def open(self) -> CtrlClient:
        self.close_socket()
        d = self._client_dir or _client_dir()
        local = d / f"r2w_{os.getpid()}-{next(_counter)}"
        if len(os.fsencode(local)) > SUN_PATH_MAX:
            raise CtrlError(f"client socket path {local} is longer than {SUN_PATH_MAX} bytes")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            try:
                local.unlink()
            except FileNotFoundError:
                pass
            sock.bind(os.fspath(local))
            sock.connect(os.fspath(self.path))
        except OSError as err:
            sock.close()
            try:
                local.unlink()
            except FileNotFoundError:
                pass
            raise CtrlError(f"cannot connect to control socket {self.path}: {err.strerror or err}") from None
        self._sock, self._local = sock, local
        return self

    def close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._local is not None:
            try:
                self._local.unlink()
            except FileNotFoundError:
                pass
            self._local = None
        self.proto.abandon()

    def close(self) -> None:
        if self._sock is not None and self.attached:
            try:
                self.request("DETACH", timeout=0.5)
            except CtrlError:
                pass
        self.attached = False
        self.close_socket()

    def __enter__(self) -> CtrlClient:
        if self._sock is None:
            self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close_socket()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- I/O -------------------------------------------------------------------------------
    def _recv_one(self, deadline: float) -> bool:
        """Receive one datagram into the protocol; False on timeout."""
        assert self._sock is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            return False
        except ConnectionRefusedError:
            raise CtrlError(f"control socket {self.path} refused (daemon gone)") from None
        self.proto.feed(data, time.monotonic())
        return True

    def request(self, command: str, *, timeout: float | None = None) -> str:
        """Send ``command`` and return its reply (events arriving meanwhile are queued)."""
        if self._sock is None:
            self.open()
        try:
            return self._request_once(command, timeout)
        except (ConnectionRefusedError, FileNotFoundError, ConnectionResetError, BrokenPipeError):
            # the daemon restarted: reconnect once, re-attach, resend
            self.open()
            if self.attached and command not in ("ATTACH", "DETACH"):
                self._request_once("ATTACH", timeout)
            try:
                return self._request_once(command, timeout)
            except OSError as err:
                raise CtrlError(f"control socket {self.path}: {err.strerror or err}") from None

    def _request_once(self, command: str, timeout: float | None) -> str:
        assert self._sock is not None
        data = self.proto.send(command)
        try:
            self._sock.send(data)
        except BaseException:
            self.proto.abandon()
            raise
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            reply = self.proto.take_reply()
            if reply is not None:
                return reply
            if not self._recv_one(deadline):
                self.proto.abandon()
                verb = command.split()[0]
                raise CtrlTimeout(f"no reply to {verb} from {self.path}")

    def _ok(self, command: str) -> None:
        reply = self.request(command).strip()
        if reply != "OK":
            raise CtrlError(f"{command.split()[0]} failed on {self.path}: {reply or 'empty reply'}")

    # -- commands --------------------------------------------------------------------------
    def ping(self, timeout: float | None = None) -> bool:
        try:
            return self.request("PING", timeout=timeout).strip() == "PONG"
        except CtrlError:
            return False

    def status(self) -> dict[str, str]:
        return parse_kv(self.request("STATUS"))

    def attach(self) -> None:
        self._ok("ATTACH")
        self.attached = True

    def detach(self) -> None:
        self._ok("DETACH")
        self.attached = False

    def sta(self, mac: str) -> dict[str, str] | None:
        got = parse_sta(self.request(f"STA {mac.lower()}"))
        return got[1] if got else None

    def all_sta(self) -> dict[str, dict[str, str]]:
        """Every station, via STA-FIRST / STA-NEXT (Debian's hostapd has no ALL_STA)."""
        out: dict[str, dict[str, str]] = {}
        got = parse_sta(self.request("STA-FIRST"))
        while got is not None and got[0] not in out:
            out[got[0]] = got[1]
            got = parse_sta(self.request(f"STA-NEXT {got[0]}"))
        return out

    # -- events ----------------------------------------------------------------------------
    def clear_events(self) -> int:
        """Drop queued events (e.g. before triggering something whose events you wait for)."""
        n = len(self.proto.events)
        self.proto.events.clear()
        return n

    def next_event(self, timeout: float) -> CtrlEvent | None:
        """The next queued or arriving event, or None after ``timeout`` seconds."""
        return self.wait_event(None, timeout=timeout, raise_timeout=False)

    def wait_event(
        self,
        names: Iterable[str] | None,
        *,
        timeout: float,
        predicate: Callable[[CtrlEvent], bool] | None = None,
        raise_timeout: bool = True,
    ) -> CtrlEvent | None:
        """Wait for an event whose name is in ``names`` (and matches ``predicate``).

        Events that do not match stay queued in order for later callers; ``raise_timeout``
        chooses between :class:`CtrlTimeout` and returning None.
        """
        if self._sock is None:
            self.open()
        wanted = set(names) if names is not None else None
        deadline = time.monotonic() + timeout
        while True:
            for ev in list(self.proto.events):
                if (wanted is None or ev.name in wanted) and (predicate is None or predicate(ev)):
                    self.proto.events.remove(ev)
                    return ev
            if not self._recv_one(deadline):
                if raise_timeout:
                    what = ", ".join(sorted(wanted)) if wanted else "an event"
                    raise CtrlTimeout(f"timed out after {timeout:g}s waiting for {what} on {self.path}")
                return None
            self.proto.take_reply()  # a stray late reply is dropped by the protocol anyway


def _is_ready(kind: str, status: dict[str, str]) -> bool:
    if kind == "hostapd":
        return status.get("state") == "ENABLED"
    return status.get("wpa_state") == "COMPLETED"


def wait_ready(
    path: str | Path,
    *,
    kind: str = "hostapd",
    timeout: float = 15.0,
    alive: Callable[[], bool] | None = None,
    client_dir: str | Path | None = None,
    fail_events: Iterable[str] = (),
) -> CtrlClient:
    """Wait until the daemon behind ``path`` is ready; returns an ATTACHed client.

    ``kind`` is ``hostapd`` (ready = STATUS state=ENABLED or AP-ENABLED) or ``wpa_supplicant``
    (ready = wpa_state=COMPLETED or CTRL-EVENT-CONNECTED). ``alive`` (e.g. ``Daemon.alive``) lets
    the wait stop at once when the daemon died. An event named in ``fail_events`` (e.g.
    ``CTRL-EVENT-SSID-TEMP-DISABLED`` for a wrong passphrase, ``CTRL-EVENT-EAP-FAILURE``) ends
    the wait with a :class:`CtrlError` quoting it. Raises :class:`CtrlTimeout` / :class:`CtrlError`.
    """
    ready_event = "AP-ENABLED" if kind == "hostapd" else "CTRL-EVENT-CONNECTED"
    deadline = time.monotonic() + timeout
    client = CtrlClient(path, client_dir=client_dir)
    last_status: dict[str, str] = {}
    try:
        while True:
            if alive is not None and not alive():
                raise CtrlError(f"{kind} exited before it was ready (see its log)")
            now = time.monotonic()
            if now >= deadline:
                state = last_status.get("state") or last_status.get("wpa_state") or "no control socket"
                raise CtrlTimeout(f"{kind} not ready after {timeout:g}s (state: {state})")
            if client._sock is None:
                try:
                    client.open()
                    client.attach()
                except CtrlError:
                    client.close_socket()
                    _wait_for_path(Path(path), min(deadline, now + 0.05))
                    continue
            last_status = client.status()
            if _is_ready(kind, last_status):
                return client
            failing = set(fail_events)
            ev = client.wait_event({ready_event, *failing}, timeout=min(0.5, max(0.0, deadline - now)),
                                   raise_timeout=False)
            if ev is not None and ev.name in failing:
                raise CtrlError(f"{kind} failed: {ev.text.strip()}")
            if ev is not None:
                return client
    except BaseException:
        client.close()
        raise


def _wait_for_path(path: Path, until: float) -> None:
    """Poll for a socket file to appear (it is created by the daemon 20-40 ms after start)."""
    while time.monotonic() < until:
        if path.exists():
            return
        time.sleep(0.01)
