"""The control-interface client: sans-IO protocol, parsing, and the client against a scripted daemon."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from r2wifi.hostap.ctrl import (
    CtrlClient,
    CtrlError,
    CtrlProtocol,
    CtrlTimeout,
    parse_event,
    parse_kv,
    parse_sta,
    wait_ready,
)

from .fakectrl import FakeDaemon

STA1, STA2 = "02:00:00:00:01:00", "02:00:00:00:02:00"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short directory (UNIX socket paths are limited to 107 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="r2c", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


# -- sans-IO ---------------------------------------------------------------------------------


def test_protocol_sorts_events_from_the_reply():
    """Events that arrive while a request is pending are queued; the first plain datagram is the reply."""
    p = CtrlProtocol()
    assert p.send("STATUS") == b"STATUS"
    p.feed(b"<3>AP-STA-CONNECTED " + STA1.encode())
    assert p.take_reply() is None and p.pending == "STATUS"
    p.feed(b"state=ENABLED\n")
    assert p.take_reply() == "state=ENABLED\n" and p.pending is None
    ev = p.pop_event()
    assert ev is not None and ev.name == "AP-STA-CONNECTED" and ev.mac == STA1


def test_protocol_drops_a_late_reply_after_timeout():
    """After a request is abandoned (timed out), its late reply is dropped, not given to the next request."""
    p = CtrlProtocol()
    p.send("PING")
    p.abandon()
    p.feed(b"PONG\n")
    assert p.dropped == 1 and p.take_reply() is None
    p.send("STATUS")
    p.feed(b"state=ENABLED\n")
    assert p.take_reply() == "state=ENABLED\n"


def test_protocol_refuses_two_requests_at_once():
    """A second request while one is pending is a programming error."""
    p = CtrlProtocol()
    p.send("PING")
    with pytest.raises(RuntimeError):
        p.send("STATUS")


def test_pop_event_by_name_keeps_the_others_in_order():
    """pop_event(names) takes the oldest matching event and leaves the rest queued in order."""
    p = CtrlProtocol()
    for text in (b"<3>CTRL-EVENT-EAP-STARTED " + STA1.encode(), b"<3>AP-STA-CONNECTED " + STA1.encode(),
                 b"<2>AP-STA-DISCONNECTED " + STA2.encode()):
        p.feed(text)
    ev = p.pop_event({"AP-STA-CONNECTED"})
    assert ev is not None and ev.name == "AP-STA-CONNECTED"
    assert [e.name for e in p.events] == ["CTRL-EVENT-EAP-STARTED", "AP-STA-DISCONNECTED"]
    assert p.events[1].level == 2 and p.events[1].mac == STA2


def test_parse_event_fields():
    """An event gives its level, name, args, key=value params and the station MAC."""
    ev = parse_event(b"<3>AP-STA-CONNECTED 02:00:00:00:01:00 auth_alg=sae\n")
    assert ev is not None
    assert (ev.level, ev.name, ev.args) == (3, "AP-STA-CONNECTED", ("02:00:00:00:01:00", "auth_alg=sae"))
    assert ev.params == {"auth_alg": "sae"} and ev.mac == STA1
    assert parse_event(b"OK\n") is None
    ev = parse_event(b"<3>AP-ENABLED ")
    assert ev is not None and ev.name == "AP-ENABLED" and ev.mac is None


def test_parse_sta_and_kv():
    """A STA reply is the MAC then key=value lines; FAIL or empty means no station."""
    got = parse_sta(f"{STA1}\nflags=[AUTH][ASSOC][AUTHORIZED]\naid=1\n")
    assert got == (STA1, {"flags": "[AUTH][ASSOC][AUTHORIZED]", "aid": "1"})
    assert parse_sta("FAIL\n") is None and parse_sta("") is None
    assert parse_kv("state=ENABLED\nbss[0]=ap0\nnoise\n") == {"state": "ENABLED", "bss[0]": "ap0"}


# -- the client against a scripted daemon ----------------------------------------------------


def _hostapd_like(stas: dict[str, str], state: list[str]):
    """A handler answering like hostapd: PING, STATUS, STA-FIRST/STA-NEXT/STA, no ALL_STA."""
    order = sorted(stas)

    def handle(cmd: str) -> str | None:
        if cmd == "PING":
            return "PONG\n"
        if cmd == "STATUS":
            return f"state={state[0]}\nchannel=6\n"
        if cmd == "STA-FIRST":
            return f"{order[0]}\n{stas[order[0]]}\n" if order else ""
        if cmd.startswith("STA-NEXT "):
            i = order.index(cmd.split()[1]) + 1
            return f"{order[i]}\n{stas[order[i]]}\n" if i < len(order) else ""
        if cmd.startswith("STA "):
            mac = cmd.split()[1]
            return f"{mac}\n{stas[mac]}\n" if mac in stas else "FAIL\n"
        if cmd == "SLOW":
            return None
        return "UNKNOWN COMMAND\n"

    return handle


def test_client_requests_and_lists_all_stations(short_dir: Path):
    """PING, STATUS and all_sta() (walked with STA-FIRST/STA-NEXT) work against a hostapd-like socket."""
    fake = FakeDaemon(short_dir / "ap0", _hostapd_like({STA1: "aid=1", STA2: "aid=2"}, ["ENABLED"]))
    try:
        with CtrlClient(short_dir / "ap0", client_dir=short_dir) as c:
            assert c.ping()
            assert c.status()["state"] == "ENABLED"
            assert c.all_sta() == {STA1: {"aid": "1"}, STA2: {"aid": "2"}}
            assert c.sta(STA2) == {"aid": "2"} and c.sta("02:00:00:00:09:09") is None
        assert "ALL_STA" not in fake.received
        assert fake.received.count("STA-NEXT " + STA2) == 1
    finally:
        fake.close()
    assert [p.name for p in short_dir.iterdir()] == []  # client socket removed too


def test_events_arriving_during_a_request_are_kept(short_dir: Path):
    """An event sent just before the reply is delivered later by wait_event, in order."""
    fake: FakeDaemon

    def handle(cmd: str) -> str | None:
        if cmd == "STATUS":
            fake.emit("AP-STA-CONNECTED " + STA1)
            return "state=ENABLED\n"
        return "OK\n"

    fake = FakeDaemon(short_dir / "ap0", handle)
    try:
        with CtrlClient(short_dir / "ap0", client_dir=short_dir) as c:
            c.attach()
            assert c.status() == {"state": "ENABLED"}
            ev = c.wait_event({"AP-STA-CONNECTED"}, timeout=5)
            assert ev is not None and ev.mac == STA1
            assert c.next_event(timeout=0.05) is None
    finally:
        fake.close()


def test_request_timeout_raises_and_the_client_recovers(short_dir: Path):
    """A command that gets no reply raises CtrlTimeout; the next request works normally."""
    fake = FakeDaemon(short_dir / "ap0", _hostapd_like({}, ["ENABLED"]))
    try:
        with CtrlClient(short_dir / "ap0", client_dir=short_dir) as c:
            with pytest.raises(CtrlTimeout, match="no reply to SLOW"):
                c.request("SLOW", timeout=0.1)
            assert c.ping()
    finally:
        fake.close()


def test_reconnects_and_reattaches_after_daemon_restart(short_dir: Path):
    """When the daemon restarts (new socket), the next request reconnects and re-ATTACHes."""
    path = short_dir / "ap0"
    fake = FakeDaemon(path, _hostapd_like({}, ["ENABLED"]))
    c = CtrlClient(path, client_dir=short_dir).open()
    try:
        c.attach()
        fake.close()
        fake = FakeDaemon(path, _hostapd_like({}, ["ENABLED"]))
        assert c.ping() is True
        assert fake.received[:2] == ["ATTACH", "PING"]
        fake.emit("AP-STA-CONNECTED " + STA2)
        ev = c.wait_event({"AP-STA-CONNECTED"}, timeout=5)
        assert ev is not None and ev.mac == STA2
    finally:
        c.close()
        fake.close()


def test_unreachable_socket_is_a_one_line_error(short_dir: Path):
    """Connecting to a socket nobody serves is a CtrlError naming the path."""
    with pytest.raises(CtrlError, match="cannot connect to control socket .*nosuch"):
        CtrlClient(short_dir / "nosuch", client_dir=short_dir).open()


def test_too_long_socket_path_is_refused():
    """A socket path over 107 bytes is refused up front with a clear message."""
    with pytest.raises(CtrlError, match="longer than 107"):
        CtrlClient("/tmp/" + "x" * 120)


def test_ready_when_ap_enabled_fired_before_attach(short_dir: Path):
    """AP-ENABLED before ATTACH is never seen, so readiness comes from STATUS state=ENABLED."""
    fake = FakeDaemon(short_dir / "ap0", _hostapd_like({}, ["ENABLED"]))
    try:
        c = wait_ready(short_dir / "ap0", timeout=5, client_dir=short_dir)
        assert c.attached
        c.close()
    finally:
        fake.close()


def test_ready_on_the_ap_enabled_event(short_dir: Path):
    """While STATUS says COUNTRY_UPDATE, the AP-ENABLED event makes the AP ready."""
    state = ["COUNTRY_UPDATE"]
    fake: FakeDaemon
    statuses = threading.Semaphore(0)

    def handle(cmd: str) -> str | None:
        if cmd == "STATUS":
            statuses.release()
            return f"state={state[0]}\n"
        return "PONG\n"

    fake = FakeDaemon(short_dir / "ap0", handle)
    emitter = threading.Thread(target=lambda: (statuses.acquire(), fake.emit("AP-ENABLED ")))
    emitter.start()
    try:
        c = wait_ready(short_dir / "ap0", timeout=10, client_dir=short_dir)
        c.close()
        assert state == ["COUNTRY_UPDATE"]  # never ENABLED by STATUS: the event did it
    finally:
        emitter.join()
        fake.close()


def test_ready_waits_for_the_socket_to_appear(short_dir: Path):
    """wait_ready polls for a socket that the daemon creates a little later."""
    holder: list[FakeDaemon] = []
    t = threading.Timer(0.1, lambda: holder.append(FakeDaemon(short_dir / "ap0", _hostapd_like({}, ["ENABLED"]))))
    t.start()
    try:
        c = wait_ready(short_dir / "ap0", timeout=10, client_dir=short_dir)
        c.close()
    finally:
        t.join()
        for f in holder:
            f.close()


def test_ready_gives_up_at_once_when_the_daemon_died(short_dir: Path):
    """If the daemon is no longer alive, wait_ready stops with an error instead of waiting out the timeout."""
    with pytest.raises(CtrlError, match="exited before it was ready"):
        wait_ready(short_dir / "ap0", timeout=60, alive=lambda: False, client_dir=short_dir)


def test_ready_stops_on_a_failure_event(short_dir: Path):
    """A station-side failure event named in fail_events ends the wait with that event's text."""
    fake: FakeDaemon
    statuses = threading.Semaphore(0)

    def handle(cmd: str) -> str | None:
        if cmd == "STATUS":
            statuses.release()
            return "wpa_state=SCANNING\n"
        return "PONG\n"

    fake = FakeDaemon(short_dir / "wlan0", handle)
    emitter = threading.Thread(target=lambda: (statuses.acquire(), fake.emit(
        'CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Home" auth_failures=1 duration=10 reason=WRONG_KEY')))
    emitter.start()
    try:
        with pytest.raises(CtrlError, match="wpa_supplicant failed: CTRL-EVENT-SSID-TEMP-DISABLED .*WRONG_KEY"):
            wait_ready(short_dir / "wlan0", kind="wpa_supplicant", timeout=30, client_dir=short_dir,
                       fail_events={"CTRL-EVENT-SSID-TEMP-DISABLED"})
    finally:
        emitter.join()
        fake.close()


def test_ready_times_out_naming_the_state(short_dir: Path):
    """A daemon stuck in a state times out with that state in the message."""
    fake = FakeDaemon(short_dir / "ap0", _hostapd_like({}, ["DFS"]))
    try:
        with pytest.raises(CtrlTimeout, match=r"state: DFS"):
            wait_ready(short_dir / "ap0", timeout=0.3, client_dir=short_dir)
    finally:
        fake.close()


def test_client_socket_is_bound_to_a_path(short_dir: Path):
    """The client binds a filesystem path (unbound sockets get no reply; abstract names are per-netns)."""
    seen: list[object] = []
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(str(short_dir / "s"))
    c = CtrlClient(short_dir / "s", client_dir=short_dir).open()
    try:
        c._sock.send(b"PING")  # type: ignore[union-attr]
        _, addr = srv.recvfrom(100)
        seen.append(addr)
    finally:
        c.close()
        srv.close()
    assert isinstance(seen[0], str) and seen[0].startswith(str(short_dir) + "/r2w_")
