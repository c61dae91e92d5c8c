"""The launcher's user-land command channel as a sans-IO state machine (driver-interface.md 2.3-2.4).

Theory of operation (in the style of h11): the kernel asks the launcher for help by queueing a
short ASCII command on ``/dev/stpwmt``; the launcher answers with a write. This module holds no
file descriptors and never sleeps. The runner (:mod:`r2wifi.wmt.launcher`) feeds it *events*
and performs the *actions* it returns, in order:

    events in                               actions out
    ---------                               -----------
    CommandRead(bytes read after poll)      GetChipInfo(which)   -> feed ChipInfo(value | None)
    ChipInfo(value)                         ListDir(path)        -> feed Listing(names | None)
    Listing(names)                          ReadHeader(path)     -> feed Header(bytes | None)
    Header(data)                            Ioctl(name, arg)        (fire and forget; runner logs errors)
                                            Reply(cmd, text)        (write ``text`` to /dev/stpwmt)
                                            Log(text)

An action that needs a result is always the *last* action of a batch, and the machine then
waits in a state that accepts only that result (anything else is a :class:`ProtocolError`).

Rules (matching stp_uart_launcher):
* An empty read (poll woke but nothing pending) is ignored: no reply at all.
* Dispatch is by prefix: a handler runs when the command starts with its name; every matching
  handler runs in table order. No match -> reply ``cmd not found``. All handlers returned 0 ->
  ``ok`` (exactly two bytes, no newline); otherwise ``resp_<first non-zero code>``.
* ``srh_patch``: GET_CHIP_INFO(0) -> "mt%04x" -> patch prefix (:data:`~r2wifi.wmt.firmware.PATCH_PREFIX`);
  GET_CHIP_INFO(2) -> ROM version; list the patch directory (unreadable -> -1); for every name
  starting with the prefix, in sorted order: read its 28-byte header, accept it when the low
  byte of bytes 22-23 equals the ROM version's low byte; then SET_PATCH_NUM(high nibble of byte 24)
  and for each accepted file SET_PATCH_INFO with the packed 264-byte struct (u32 LE seq = low
  nibble of byte 24, address 00 b25 b26 b27, full path NUL-padded to 256).
* Deliberately stricter than the vendor's handler (driver-interface.md §11.2: the kernel stores
  SET_PATCH_INFO at ``seq-1`` without a bounds check, downloads whatever a header names, and powers the
  chip *unpatched* when ``srh_patch`` is answered ok without a complete set): a file whose seq is not in
  1..total, whose total differs from the first accepted file's, or whose seq repeats is skipped;
  the ioctls are issued only once the accepted files form the whole set 1..total; no usable file or an
  incomplete set answers ``resp_-1`` (the power-on fails with the cause in the launcher's log) instead
  of ``ok``.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable

from r2wifi.records import field, record
from r2wifi.wmt.firmware import HEADER_SIZE, prefix_for_chip

PATCH_INFO_SIZE = 264
PATH_MAX_BYTES = 256


class ProtocolError(Exception):
    """An event arrived that the current state does not accept (a runner bug)."""


# ---- events ---------------------------------------------------------------------------------

@record(frozen=True)
class CommandRead:
    data: bytes


@record(frozen=True)
class ChipInfo:
    value: int | None  # None: the ioctl failed


@record(frozen=True)
class Listing:
    names: list[str] | None  # None: opendir failed
    error: str = ""


@record(frozen=True)
class Header:
    data: bytes | None  # None: open/read failed
    error: str = ""


Event = CommandRead | ChipInfo | Listing | Header

# ---- actions --------------------------------------------------------------------------------


@record(frozen=True)
class GetChipInfo:
    which: int  # 0 chip id, 1 hw version, 2 fw (ROM) version


@record(frozen=True)
class ListDir:
    path: str


@record(frozen=True)
class ReadHeader:
    path: str
    size: int = HEADER_SIZE


@record(frozen=True)
class Ioctl:
    name: str
    arg: int | bytes


@record(frozen=True)
class Reply:
    command: str
    text: str

    @property
    def data(self) -> bytes:
        return self.text.encode("ascii")


@record(frozen=True)
class Log:
    text: str


Action = GetChipInfo | ListDir | ReadHeader | Ioctl | Reply | Log


class State(enum.Enum):
    IDLE = "idle"
    WAIT_CHIP_ID = "wait-chip-id"
    WAIT_FW_VERSION = "wait-fw-version"
    WAIT_LISTING = "wait-listing"
    WAIT_HEADER = "wait-header"


def pack_patch_info(seq: int, address: bytes, path: str) -> bytes:
    """``struct {int seq; char addr[4]; char name[256];}`` (264 bytes, little endian)."""
    raw = path.encode()
    if len(raw) >= PATH_MAX_BYTES:
        raise ValueError(f"patch path longer than {PATH_MAX_BYTES - 1} bytes: {path}")
    if len(address) != 4:
        raise ValueError("the patch address is 4 bytes")
    return struct.pack("<i4s256s", seq, address, raw)


def unpack_patch_info(data: bytes) -> tuple[int, bytes, str]:
    seq, addr, name = struct.unpack("<i4s256s", data)
    return seq, addr, name.split(b"\0", 1)[0].decode()


@record
class _SrhPatch:
    """Working memory of one srh_patch handler run."""

    prefix: str = ""
    fw_version: int = 0
    pending: list[str] = field(default_factory=list)
    current: str = ""
    total: int | None = None  # patch count of the first accepted file
    accepted: list[tuple[int, str]] = field(default_factory=list)
    addresses: dict[int, bytes] = field(default_factory=dict)


class CommandChannel:
    """One launcher's view of the command channel. Feed events with :meth:`receive`."""

    def __init__(self, patch_dir: str = "/etc/firmware") -> None:
        self.patch_dir = patch_dir.rstrip("/") or "/"
        self.state = State.IDLE
        self.command = ""
        self._queue: list[str] = []  # handler names still to run for the current command
        self._codes: list[int] = []
        self._srh = _SrhPatch()
        self.last_patches: list[tuple[int, str]] = []  # (seq, path) announced by the last srh_patch
        # command table: name -> starter (returns actions; may leave the machine waiting)
        self.handlers: dict[str, Callable[[], list[Action]]] = {"srh_patch": self._srh_start}
        self._table: dict[tuple[State, type], Callable[[Event], list[Action]]] = {
            (State.IDLE, CommandRead): self._on_command,
            (State.WAIT_CHIP_ID, ChipInfo): self._on_chip_id,
            (State.WAIT_FW_VERSION, ChipInfo): self._on_fw_version,
            (State.WAIT_LISTING, Listing): self._on_listing,
            (State.WAIT_HEADER, Header): self._on_header,
        }

    # -- public ----------------------------------------------------------------------------

    def receive(self, event: Event) -> list[Action]:
        handler = self._table.get((self.state, type(event)))
        if handler is None:
            raise ProtocolError(f"{type(event).__name__} not accepted in state {self.state.value}")
        return handler(event)

    @property
    def busy(self) -> bool:
        return self.state is not State.IDLE

    # -- dispatch --------------------------------------------------------------------------

    def _on_command(self, ev: Event) -> list[Action]:
        assert isinstance(ev, CommandRead)
        text = ev.data.split(b"\0", 1)[0].decode("ascii", "replace").strip()
        if not text:
            return []  # empty read after poll: never answered
        self.command = text
        self._queue = [name for name in self.handlers if text.startswith(name)]
        self._codes = []
        if not self._queue:
            return self._finish_command("cmd not found")
        return self._run_next([])

    def _run_next(self, out: list[Action]) -> list[Action]:
        if not self._queue:
            bad = [c for c in self._codes if c != 0]
            return out + self._finish_command("ok" if not bad else f"resp_{bad[0]}")
        name = self._queue.pop(0)
        return out + self.handlers[name]()

    def _handler_done(self, code: int, out: list[Action]) -> list[Action]:
        self._codes.append(code)
        self.state = State.IDLE
        return self._run_next(out)

    def _finish_command(self, resp: str) -> list[Action]:
        cmd, self.command = self.command, ""
        self.state = State.IDLE
        return [Reply(cmd, resp), Log(f"cmd({cmd}) resp({resp})")]

    # -- srh_patch -------------------------------------------------------------------------

    def _srh_start(self) -> list[Action]:
        self._srh = _SrhPatch()
        self.state = State.WAIT_CHIP_ID
        return [GetChipInfo(0)]

    def _on_chip_id(self, ev: Event) -> list[Action]:
        assert isinstance(ev, ChipInfo)
        if ev.value is None or ev.value < 0:
            return self._handler_done(-1, [Log("GET_CHIP_INFO(0) failed: cannot name the patch family")])
        prefix = prefix_for_chip(ev.value)
        if prefix is None:
            return self._handler_done(-1, [Log(f"chip mt{ev.value:04x} has no known patch family")])
        self._srh.prefix = prefix
        self.state = State.WAIT_FW_VERSION
        return [Log(f"patch name pre-fix:{prefix}"), GetChipInfo(2)]

    def _on_fw_version(self, ev: Event) -> list[Action]:
        assert isinstance(ev, ChipInfo)
        self._srh.fw_version = ev.value if ev.value is not None and ev.value >= 0 else 0
        self.state = State.WAIT_LISTING
        return [Log(f"fwVersion:0x{self._srh.fw_version:04x}"), ListDir(self.patch_dir)]

    def _on_listing(self, ev: Event) -> list[Action]:
        assert isinstance(ev, Listing)
        if ev.names is None:
            return self._handler_done(-1, [Log(f"open patch dir {self.patch_dir} failed: {ev.error or 'error'}")])
        self._srh.pending = sorted(n for n in ev.names if n.startswith(self._srh.prefix))
        out: list[Action] = []
        if not self._srh.pending:
            out.append(Log(f"no {self._srh.prefix}* file in {self.patch_dir}"))
        return self._next_header(out)

    def _path(self, name: str) -> str:
        return f"{self.patch_dir.rstrip('/')}/{name}"

    def _next_header(self, out: list[Action]) -> list[Action]:
        if not self._srh.pending:
            return self._announce(out)
        self._srh.current = self._srh.pending.pop(0)
        self.state = State.WAIT_HEADER
        return out + [ReadHeader(self._path(self._srh.current))]

    def _on_header(self, ev: Event) -> list[Action]:
        assert isinstance(ev, Header)
        path = self._path(self._srh.current)
        out: list[Action] = []
        if ev.data is None or len(ev.data) < HEADER_SIZE:
            why = ev.error or f"{0 if ev.data is None else len(ev.data)} of {HEADER_SIZE} header bytes"
            out.append(Log(f"skip {path}: {why}"))
            return self._next_header(out)
        fw = (ev.data[22] << 8) | ev.data[23]
        out.append(Log(f"fw Ver in patch: 0x{fw:04x}"))
        if (fw & 0xFF) != (self._srh.fw_version & 0xFF):
            out.append(Log(f"skip {path}: fw version low byte 0x{fw & 0xFF:02x} != chip 0x{self._srh.fw_version & 0xFF:02x}"))
            return self._next_header(out)
        b24, b25, b26, b27 = ev.data[24:28]
        out.append(Log(f"read patch info:0x{b24:02x},0x{b25:02x},0x{b26:02x},0x{b27:02x}"))
        total, seq = b24 >> 4, b24 & 0x0F
        srh = self._srh
        why = ""
        if not 1 <= seq <= total:
            why = f"seq {seq} outside 1..{total} (the kernel stores it without a bounds check)"
        elif srh.total is not None and total != srh.total:
            why = f"says {total} patches, {srh.accepted[0][1]} says {srh.total}"
        elif any(s == seq for s, _p in srh.accepted):
            why = f"seq {seq} repeats {next(p for s, p in srh.accepted if s == seq)}"
        if why:
            out.append(Log(f"skip {path}: {why}"))
            return self._next_header(out)
        srh.total = total
        srh.accepted.append((seq, path))
        srh.addresses[seq] = bytes([0, b25, b26, b27])
        return self._next_header(out)

    def _announce(self, out: list[Action]) -> list[Action]:
        """SET_PATCH_NUM and the SET_PATCH_INFOs, once the accepted files are the whole set 1..total."""
        srh = self._srh
        self.last_patches = list(srh.accepted)
        if srh.total is None:
            return self._handler_done(-1, out + [Log(f"no usable {srh.prefix}* patch in {self.patch_dir}: the "
                                                     "kernel would power the chip unpatched")])
        missing = sorted(set(range(1, srh.total + 1)) - {s for s, _p in srh.accepted})
        if missing:
            return self._handler_done(-1, out + [Log(
                f"incomplete patch set in {self.patch_dir}: seq {', '.join(map(str, missing))} of {srh.total} "
                "missing (the kernel would not commit it and power the chip unpatched)")])
        out += [Log(f"gpatchnum = [{srh.total}]"), Ioctl("WMT_IOCTL_SET_PATCH_NUM", srh.total)]
        for seq, path in srh.accepted:
            out += [Log(f"gdwonseq = [{seq}]"),
                    Ioctl("WMT_IOCTL_SET_PATCH_INFO", pack_patch_info(seq, srh.addresses[seq], path))]
        return self._handler_done(0, out)
