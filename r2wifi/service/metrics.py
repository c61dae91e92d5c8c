"""Prometheus metrics of the AP: ``r2wifi metrics`` (text, node_exporter's textfile collector) and
``r2wifi run --metrics-listen ADDR:PORT`` (HTTP from the supervisor).

Public API::

    collect(status, agg) -> list[Family]          # pure: a status dict + a diagnose Aggregate -> families
    render(families) -> str                        # Prometheus text exposition format 0.0.4
    sample(cfg, backend, extra_logs=()) -> str     # the live look: status + r2wifi's own logs, rendered
    serve(address, produce) -> MetricsServer       # http.server in a daemon thread; GET /metrics
    parse_listen("127.0.0.1:9477") -> (host, port) # UserError naming what is wrong

One home per fact. Live state (AP state, uptime, clients and their signal / bytes) comes from
``status`` (:meth:`r2wifi.service.ap.ApController.status`, stations from :mod:`r2wifi.service.clients`).
Everything counted over time comes from r2wifi's diagnose pipeline
(:func:`r2wifi.diagnose.analyze.analyze`) run over r2wifi's own captured logs (hostapd, dnsmasq,
wpa_supplicant, the DHCP client, each with its rotated backups, and the supervisor's log), plus any
``--log`` the user adds (e.g. the kernel log, where TX-queue stops are written): connects, failed
connects, time to connect, disconnect reasons, TX-queue stops, recoveries (step and cause from
the supervisor's own lines) and chip resets (``reset-chip`` recoveries). Counters therefore count
what the kept logs hold: they drop when logs rotate away, which Prometheus treats as a counter reset.
The analysis is cached per set of (path, size, mtime), so a scrape without new log lines is cheap.

Metric names (``r2wifi_`` prefix, base units, ``_total`` counters, a ``_seconds`` histogram)::

    r2wifi_ap_up                               gauge    1 when status says up
    r2wifi_ap_state{state}                     gauge    1 for the current one of up / degraded / down
    r2wifi_ap_uptime_seconds                   gauge    since the bring-up finished (0 when not up)
    r2wifi_supervisor_running                  gauge    1 while `r2wifi run` holds the supervisor lock
    r2wifi_supervisor_degraded                 gauge    1 when past the recovery budget
    r2wifi_clients                             gauge    stations hostapd lists now
    r2wifi_client_info{mac,ip,hostname}        gauge    1 per client (address and name from the lease)
    r2wifi_client_signal_dbm{mac}              gauge    (absent where the driver reports no signal)
    r2wifi_client_connected_seconds{mac}       gauge
    r2wifi_client_receive_bytes_total{mac}     counter  bytes hostapd received from the client
    r2wifi_client_transmit_bytes_total{mac}    counter  bytes hostapd sent to the client
    r2wifi_connects_total                      counter  successful connects (diagnose)
    r2wifi_connect_failures_total              counter  failed connects (diagnose)
    r2wifi_time_to_connect_seconds             histogram  first frame to connected, ended and open sessions
    r2wifi_disconnects_total{reason}           counter  by IEEE 802.11 reason code
    r2wifi_recoveries_total{step,cause}        counter  supervisor recoveries started
    r2wifi_recovery_failures_total{step}       counter  recoveries that did not verify
    r2wifi_tx_queue_stops_total                counter  driver TX-queue stops in the logs read
    r2wifi_chip_resets_total                   counter  reset-chip recoveries

``cause`` is one of :data:`CAUSES` (the ladder's reason text, classified by :func:`cause_of`), so
label values stay few. Rules: the runtime needs no Prometheus library; the HTTP server answers
only ``GET /metrics`` (and ``/`` with a link), binds where it is told (the docs say 127.0.0.1),
and a failure to collect is a 500 with one line, never a dead server.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from r2wifi import records
from r2wifi.errors import UserError

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

    from r2wifi.config import Config
    from r2wifi.diagnose.aggregate import Aggregate

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TTC_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)  # seconds; +Inf is added
DEFAULT_PORT = 9477

# The supervisor's recovery reasons (r2wifi.service.ladder: each _Fault's reason) -> a bounded label.
_CAUSE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"TX queue"), "tx_stall"),
    (re.compile(r"launcher exited"), "launcher_exited"),
    (re.compile(r"AP-DISABLED"), "ap_disabled"),
    (re.compile(r"EAPOL handshake timeouts"), "handshake_storm"),
    (re.compile(r"station \S+ connected \d+ times"), "association_loop"),
    (re.compile(r"^(?:restart-hostapd|reset-wifi|reset-chip) failed"), "escalation"),
    (re.compile(r"^(?:hostapd|dnsmasq|wpa_supplicant|dhcpc) exited"), "daemon_exited"),
    (re.compile(r"\b(?:is missing|was re-created|is down|lacks|no shaping qdisc|NAT table|namespace)"),
     "interface"),
)
CAUSES = tuple(dict.fromkeys(c for _p, c in _CAUSE_RULES)) + ("other",)


def cause_of(reason: str | None) -> str:
    for pattern, cause in _CAUSE_RULES:
        if reason and pattern.search(reason):
            return cause
    return "other"


@records.record
class Family:
    name: str  # as exposed: counters end in _total
    kind: str  # gauge | counter | histogram
    help: str
    samples: list[tuple[str, dict[str, str], float]] = records.field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((self.name + suffix, labels, value))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(families: Iterable[Family]) -> str:
    out: list[str] = []
    for fam in families:
        out.append(f"# HELP {fam.name} {fam.help.replace(chr(92), chr(92) * 2).replace(chr(10), ' ')}")
        out.append(f"# TYPE {fam.name} {fam.kind}")
        for name, labels, value in fam.samples:
            lab = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())
            out.append(f"{name}{{{lab}}} {_num(value)}" if lab else f"{name} {_num(value)}")
    return "\n".join(out) + "\n"


def _histogram(fam: Family, values: Sequence[float], buckets: Sequence[float]) -> None:
    for le in [*buckets, float("inf")]:
        fam.add(sum(1 for v in values if v <= le), "_bucket", le="+Inf" if le == float("inf") else repr(float(le)))
    fam.add(sum(values), "_sum")
    fam.add(len(values), "_count")


def collect(status: Mapping[str, Any], agg: Aggregate | None, now: float | None = None) -> list[Family]:
    """The families from a ``status`` dict and a finished diagnose :class:`Aggregate` (None: no logs)."""
    now = time.time() if now is None else now
    fams: list[Family] = []

    def fam(name: str, kind: str, text: str) -> Family:
        f = Family(name, kind, text)
        fams.append(f)
        return f

    state = str(status.get("state") or "down")
    fam("r2wifi_ap_up", "gauge", "1 when the AP is up and healthy (r2wifi status: state up)").add(
        1 if state == "up" else 0)
    f = fam("r2wifi_ap_state", "gauge", "1 for the AP's current state")
    for name in ("up", "degraded", "down"):
        f.add(1 if state == name else 0, state=name)
    since = status.get("up_since")
    fam("r2wifi_ap_uptime_seconds", "gauge", "seconds since the AP's bring-up finished (0 when not up)").add(
        round(max(0.0, now - float(since)), 3) if state != "down" and isinstance(since, (int, float)) else 0)
    sup = status.get("supervisor") or {}
    fam("r2wifi_supervisor_running", "gauge", "1 while r2wifi run supervises the AP").add(1 if sup else 0)
    fam("r2wifi_supervisor_degraded", "gauge", "1 when the supervisor is past its recovery budget").add(
        1 if sup.get("degraded") else 0)
    stations = [s for s in status.get("stations") or [] if isinstance(s, dict) and s.get("mac")]
    fam("r2wifi_clients", "gauge", "stations associated with the AP now").add(len(stations))
    info = fam("r2wifi_client_info", "gauge", "1 per client; ip and hostname from the DHCP lease")
    sig = fam("r2wifi_client_signal_dbm", "gauge", "signal of the client's last frames in dBm")
    conn = fam("r2wifi_client_connected_seconds", "gauge", "seconds the client has been associated")
    rx = fam("r2wifi_client_receive_bytes_total", "counter", "bytes the AP received from the client")
    tx = fam("r2wifi_client_transmit_bytes_total", "counter", "bytes the AP sent to the client")
    for sta in stations:
        mac = str(sta["mac"])
        info.add(1, mac=mac, ip=str(sta.get("ip") or ""), hostname=str(sta.get("hostname") or ""))
        for target, field in ((sig, "signal_dbm"), (conn, "connected_seconds"), (rx, "rx_bytes"), (tx, "tx_bytes")):
            value = sta.get(field)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                target.add(value, mac=mac)

    connects = failed = 0
    ttc: list[float] = []
    reasons: dict[int, int] = {}
    recovery_counts: Mapping[tuple[str, str], int] = {}
    recovery_failures: Mapping[str, int] = {}
    txq_stops = 0
    if agg is not None:
        connects = sum(st.connects for st in agg.tracker.stations.values())
        failed = sum(st.failed for st in agg.tracker.stations.values())
        # ended sessions (the aggregate's values) and the sessions still open (clients connected now)
        open_ms = [st.current.connect_ms() for st in agg.tracker.stations.values() if st.current is not None]
        ttc = [ms / 1000.0 for ms in [*agg.connect_ms, *open_ms] if ms is not None]
        reasons = dict(agg.reasons)
        recovery_counts, recovery_failures = agg.recovery_counts, agg.recovery_failures
        txq_stops = agg.txq_stops
    fam("r2wifi_connects_total", "counter", "successful client connects in r2wifi's logs").add(connects)
    fam("r2wifi_connect_failures_total", "counter", "failed client connect attempts in r2wifi's logs").add(failed)
    _histogram(fam("r2wifi_time_to_connect_seconds", "histogram",
                   "time from a client's first frame to its authorised connect"), ttc, TTC_BUCKETS)
    f = fam("r2wifi_disconnects_total", "counter", "client disconnects by IEEE 802.11 reason code")
    for code, n in sorted(reasons.items()):
        f.add(n, reason=str(code))
    by: dict[tuple[str, str], int] = {}
    for (step, reason), n in recovery_counts.items():
        pair = (step, cause_of(reason))
        by[pair] = by.get(pair, 0) + n
    failures = dict(recovery_failures)
    f = fam("r2wifi_recoveries_total", "counter", "supervisor recoveries started, by ladder step and cause")
    for (step, cause), n in sorted(by.items()):
        f.add(n, step=step, cause=cause)
    f = fam("r2wifi_recovery_failures_total", "counter", "supervisor recoveries whose result did not verify")
    for step, n in sorted(failures.items()):
        f.add(n, step=step)
    fam("r2wifi_tx_queue_stops_total", "counter", "driver TX-queue stops in the logs read").add(txq_stops)
    fam("r2wifi_chip_resets_total", "counter", "chip resets (reset-chip recoveries) by the supervisor").add(
        sum(n for (step, _c), n in by.items() if step == "reset-chip"))
    return fams


# -- the live look ----------------------------------------------------------------------------------
def own_logs(cfg: Config, ap_dir: Path) -> list[Path]:
    """r2wifi's captured logs that exist: each daemon's log with its rotated backups, the supervisor's."""
    from r2wifi.service.daemons import KINDS, Daemons

    daemons = Daemons(cfg)
    out: list[Path] = []
    for kind in KINDS:
        log = daemons.logfile(kind)
        backups = sorted(log.parent.glob(log.name + ".*"), key=lambda p: p.name, reverse=True)
        out += [p for p in [*backups, log] if p.is_file()]
    from r2wifi.logdir import log_files, supervisor_log

    out += reversed(log_files(supervisor_log(ap_dir)))  # oldest first, like the daemons' logs
    return out


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[tuple[str, int, int], ...] | None = None
        self.agg: Aggregate | None = None

    def analysis(self, paths: Sequence[Path]) -> Aggregate | None:
        from r2wifi.diagnose.analyze import analyze

        key = []
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue
            key.append((str(p), st.st_size, st.st_mtime_ns))
        with self.lock:
            if self.key != tuple(key):
                self.agg = analyze([k[0] for k in key])[0] if key else None
                self.key = tuple(key)
            return self.agg


_CACHE = _Cache()


def sample(cfg: Config, backend: str, extra_logs: Sequence[str] = ()) -> str:
    """Everything, rendered: ``status`` now and the diagnose counters of r2wifi's (and the extra) logs."""
    from r2wifi.service.ap import ApController, user_errors

    ctl = ApController(cfg, backend)
    with user_errors():
        status = ctl.status()
    logs = own_logs(cfg, ctl.dir) + [Path(p) for p in extra_logs]
    return render(collect(status, _CACHE.analysis(logs)))


# -- HTTP ---------------------------------------------------------------------------------------
def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (all addresses) -> (host, port); UserError otherwise."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]*):(\d{1,5})", text.strip())
    if not m:
        raise UserError(f"--metrics-listen: {text[:60]!r} is not ADDR:PORT (e.g. 127.0.0.1:{DEFAULT_PORT})")
    host = m.group(1) if m.group(1) is not None else m.group(3)
    port = int(m.group(2) or m.group(4))
    if not 0 < port < 65536:
        raise UserError(f"--metrics-listen: port {port} is not 1-65535")
    return host, port


class MetricsServer:
    """A ThreadingHTTPServer in a daemon thread; :meth:`close` stops it and frees the port."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.address = server.server_address[:2]
        self.thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5.0)


def serve(address: tuple[str, int], produce: Callable[[], str]) -> MetricsServer:
    import socket
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._reply(200, "text/html; charset=utf-8", '<a href="/metrics">/metrics</a>\n')
                return
            if path != "/metrics":
                self._reply(404, "text/plain; charset=utf-8", "not found: try /metrics\n")
                return
            try:
                body = produce()
            except Exception as err:  # noqa: BLE001 - the server must outlive a failed collection
                self._reply(500, "text/plain; charset=utf-8",
                            f"collecting failed: {' '.join(str(err).split()) or type(err).__name__}\n")
                return
            self._reply(200, CONTENT_TYPE, body)

        def _reply(self, code: int, ctype: str, body: str) -> None:
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            pass  # scrapes are not news

    host, port = address

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    try:
        return MetricsServer(Server((host or "0.0.0.0", port), Handler))
    except OSError as err:
        raise UserError(f"--metrics-listen {host}:{port}: {err.strerror or err}") from None


def serve_for(listen: str | None, ctl: Any) -> MetricsServer | None:
    """``run --metrics-listen``: serve :func:`sample` of the supervised AP (``ctl``: its ApController;
    its configuration is read at every scrape, so a reload is seen). None without ``listen``."""
    if not listen:
        return None
    return serve(parse_listen(listen), lambda: sample(ctl.cfg, ctl.backend))
