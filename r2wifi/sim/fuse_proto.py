"""The FUSE/CUSE wire protocol as far as a character-device server needs it (sans-IO).

Theory of operation: a CUSE server reads one request per ``read()`` of its ``/dev/cuse`` fd and
answers with one ``write()`` per reply. This module turns request bytes into request objects
(:func:`parse_request`) and reply objects into bytes (``encode_*``); it never touches a file
descriptor, so every byte is tested on any host (tests/sim/test_cuse_proto.py). The I/O loop is
:mod:`r2wifi.sim.cuse`.

:class:`Session` is the per-device state machine. States and the requests each accepts
(:data:`TRANSITIONS`, anything else is a protocol error answered with ``-EIO`` or, for an opcode
CUSE never serves, ``-ENOSYS``):

=========  =================================================  ==========
state      accepted                                           next
=========  =================================================  ==========
new        CUSE_INIT                                          init_sent
init_sent  (the init reply is written)                        ready
ready      OPEN READ WRITE IOCTL POLL RELEASE INTERRUPT       ready
any        (the fd is closed / the kernel says ENODEV)        closed
=========  =================================================  ==========

It also tracks the requests in flight: every request but INTERRUPT is answered exactly once
(:meth:`Session.reply` refuses a second answer and answers for unknown ids), and an INTERRUPT
names its target so the caller can decide (see :mod:`r2wifi.sim.cuse` for the policy).

Facts (from ``include/uapi/linux/fuse.h``, protocol 7.x; CUSE needs minor >= 11, iovec replies
need >= 16): little-endian on every Linux target we serve (x86_64, armhf, arm64). An error reply
is the 16-byte ``fuse_out_header`` alone. A notification is an out header with ``unique = 0`` and
``error = <notify code>``. An INTERRUPT for request ``u`` arrives with its own id ``u | 1``
(``FUSE_INT_REQ_BIT``) and needs no answer.
"""

from __future__ import annotations

import errno
import struct
import threading
from dataclasses import dataclass, field

# ---- constants (include/uapi/linux/fuse.h) --------------------------------------------------------

KERNEL_VERSION = 7
MIN_MINOR = 16  # fuse_ioctl_iovec replies (FUSE_IOCTL_RETRY) need 7.16
FUSE_OPEN = 14
FUSE_READ = 15
FUSE_WRITE = 16
FUSE_RELEASE = 18
FUSE_FLUSH = 25
FUSE_INTERRUPT = 36
FUSE_IOCTL = 39
FUSE_POLL = 40
CUSE_INIT = 4096
FUSE_INT_REQ_BIT = 1

CUSE_UNRESTRICTED_IOCTL = 1 << 0

FUSE_IOCTL_COMPAT = 1 << 0
FUSE_IOCTL_UNRESTRICTED = 1 << 1
FUSE_IOCTL_RETRY = 1 << 2
FUSE_IOCTL_32BIT = 1 << 3
FUSE_IOCTL_DIR = 1 << 4
FUSE_IOCTL_MAX_IOV = 256

FUSE_POLL_SCHEDULE_NOTIFY = 1 << 0
FUSE_NOTIFY_POLL = 1

FOPEN_DIRECT_IO = 1 << 0
FOPEN_NONSEEKABLE = 1 << 2

POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM = 0x001, 0x004, 0x040, 0x100

IN_HEADER = struct.Struct("<IIQQIIIHH")  # len opcode unique nodeid uid gid pid total_extlen padding
OUT_HEADER = struct.Struct("<IiQ")  # len error unique
CUSE_INIT_IN = struct.Struct("<IIII")  # major minor unused flags
CUSE_INIT_OUT = struct.Struct("<IIIIIIII40x")  # major minor unused flags max_read max_write dev_major dev_minor
OPEN_IN = struct.Struct("<II")  # flags open_flags
OPEN_OUT = struct.Struct("<QII")  # fh open_flags padding
RELEASE_IN = struct.Struct("<QIIQ")  # fh flags release_flags lock_owner
READ_IN = struct.Struct("<QQIIQII")  # fh offset size read_flags lock_owner flags padding
WRITE_IN = struct.Struct("<QQIIQII")  # fh offset size write_flags lock_owner flags padding
WRITE_OUT = struct.Struct("<II")  # size padding
INTERRUPT_IN = struct.Struct("<Q")
IOCTL_IN = struct.Struct("<QIIQII")  # fh flags cmd arg in_size out_size
IOCTL_OUT = struct.Struct("<iIII")  # result flags in_iovs out_iovs
IOCTL_IOVEC = struct.Struct("<QQ")  # base len
POLL_IN = struct.Struct("<QQII")  # fh kh flags events
POLL_OUT = struct.Struct("<II")  # revents padding
NOTIFY_POLL = struct.Struct("<Q")  # kh
CUSE_INIT_INFO_MAX = 4096

#: read() buffer for /dev/cuse: the kernel refuses reads shorter than max_write + headers (and 8 KiB)
READ_BUFFER = 132 * 1024
MAX_IO = 64 * 1024  # max_read / max_write announced in CUSE_INIT


class ProtocolError(Exception):
    """Bytes that are not a well-formed request, or a reply the state does not allow."""


# ---- requests -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    opcode: int
    unique: int
    nodeid: int
    uid: int
    gid: int
    pid: int


@dataclass(frozen=True)
class InitRequest:
    hdr: Header
    major: int
    minor: int
    flags: int


@dataclass(frozen=True)
class OpenRequest:
    hdr: Header
    flags: int


@dataclass(frozen=True)
class ReleaseRequest:
    hdr: Header
    fh: int


@dataclass(frozen=True)
class ReadRequest:
    hdr: Header
    fh: int
    offset: int
    size: int


@dataclass(frozen=True)
class WriteRequest:
    hdr: Header
    fh: int
    offset: int
    data: bytes


@dataclass(frozen=True)
class IoctlRequest:
    hdr: Header
    fh: int
    flags: int
    cmd: int
    arg: int
    in_size: int
    out_size: int
    in_data: bytes

    @property
    def compat32(self) -> bool:
        """The caller is a 32-bit process (or the kernel is 32-bit): pointers are 4 bytes."""
        return bool(self.flags & FUSE_IOCTL_32BIT)


@dataclass(frozen=True)
class PollRequest:
    hdr: Header
    fh: int
    kh: int
    flags: int
    events: int

    @property
    def wants_notify(self) -> bool:
        return bool(self.flags & FUSE_POLL_SCHEDULE_NOTIFY)


@dataclass(frozen=True)
class InterruptRequest:
    hdr: Header
    target: int  # the unique of the interrupted request


@dataclass(frozen=True)
class OtherRequest:
    hdr: Header
    body: bytes


Request = (InitRequest | OpenRequest | ReleaseRequest | ReadRequest | WriteRequest | IoctlRequest | PollRequest
           | InterruptRequest | OtherRequest)


def _body(buf: bytes, st: struct.Struct, what: str) -> tuple[int, ...]:
    if len(buf) < IN_HEADER.size + st.size:
        raise ProtocolError(f"{what}: {len(buf)} bytes, need {IN_HEADER.size + st.size}")
    return st.unpack_from(buf, IN_HEADER.size)


def parse_request(buf: bytes) -> Request:
    """One request as read from /dev/cuse (exactly one ``read()``)."""
    if len(buf) < IN_HEADER.size:
        raise ProtocolError(f"short request: {len(buf)} bytes")
    length, opcode, unique, nodeid, uid, gid, pid, _ext, _pad = IN_HEADER.unpack_from(buf, 0)
    if length != len(buf):
        raise ProtocolError(f"length field {length} != {len(buf)} bytes read")
    hdr = Header(opcode, unique, nodeid, uid, gid, pid)
    if opcode == CUSE_INIT:
        major, minor, _unused, flags = _body(buf, CUSE_INIT_IN, "CUSE_INIT")
        return InitRequest(hdr, major, minor, flags)
    if opcode == FUSE_OPEN:
        flags, _open_flags = _body(buf, OPEN_IN, "OPEN")
        return OpenRequest(hdr, flags)
    if opcode == FUSE_RELEASE:
        fh, _flags, _rflags, _owner = _body(buf, RELEASE_IN, "RELEASE")
        return ReleaseRequest(hdr, fh)
    if opcode == FUSE_READ:
        fh, offset, size, *_rest = _body(buf, READ_IN, "READ")
        return ReadRequest(hdr, fh, offset, size)
    if opcode == FUSE_WRITE:
        fh, offset, size, *_rest = _body(buf, WRITE_IN, "WRITE")
        start = IN_HEADER.size + WRITE_IN.size
        data = bytes(buf[start:start + size])
        if len(data) != size:
            raise ProtocolError(f"WRITE: size {size} but {len(data)} data bytes")
        return WriteRequest(hdr, fh, offset, data)
    if opcode == FUSE_IOCTL:
        fh, flags, cmd, arg, in_size, out_size = _body(buf, IOCTL_IN, "IOCTL")
        start = IN_HEADER.size + IOCTL_IN.size
        data = bytes(buf[start:start + in_size])
        if len(data) != in_size:
            raise ProtocolError(f"IOCTL: in_size {in_size} but {len(data)} data bytes")
        return IoctlRequest(hdr, fh, flags, cmd, arg, in_size, out_size, data)
    if opcode == FUSE_POLL:
        fh, kh, flags, events = _body(buf, POLL_IN, "POLL")
        return PollRequest(hdr, fh, kh, flags, events)
    if opcode == FUSE_INTERRUPT:
        (target,) = _body(buf, INTERRUPT_IN, "INTERRUPT")
        return InterruptRequest(hdr, target)
    return OtherRequest(hdr, bytes(buf[IN_HEADER.size:]))


# ---- replies --------------------------------------------------------------------------------------


def _out(unique: int, payload: bytes = b"", error: int = 0) -> bytes:
    return OUT_HEADER.pack(OUT_HEADER.size + len(payload), error, unique) + payload


def encode_error(unique: int, err: int) -> bytes:
    """``err`` is a positive errno; the header carries it negated, with no payload."""
    if err <= 0:
        raise ValueError(f"errno must be positive, got {err}")
    return _out(unique, error=-err)


def encode_init(unique: int, *, minor: int, devname: str, dev_major: int, dev_minor: int,
                flags: int = CUSE_UNRESTRICTED_IOCTL, max_read: int = MAX_IO, max_write: int = MAX_IO) -> bytes:
    info = f"DEVNAME={devname}".encode() + b"\0"
    if len(info) > CUSE_INIT_INFO_MAX or "\0" in devname or not devname:
        raise ValueError(f"bad device name {devname!r}")
    body = CUSE_INIT_OUT.pack(KERNEL_VERSION, minor, 0, flags, max_read, max_write, dev_major, dev_minor)
    return _out(unique, body + info)


def encode_open(unique: int, fh: int, open_flags: int = FOPEN_DIRECT_IO | FOPEN_NONSEEKABLE) -> bytes:
    return _out(unique, OPEN_OUT.pack(fh, open_flags, 0))


def encode_empty(unique: int) -> bytes:
    """Success without a payload (RELEASE)."""
    return _out(unique)


def encode_data(unique: int, data: bytes) -> bytes:
    """A READ answer (``data`` may be shorter than asked, or empty: end of data)."""
    return _out(unique, bytes(data))


def encode_write(unique: int, size: int) -> bytes:
    return _out(unique, WRITE_OUT.pack(size, 0))


def encode_ioctl(unique: int, result: int, out_data: bytes = b"") -> bytes:
    """The ioctl's return value (may be positive: the chip id) and the bytes for the out iovecs."""
    if not -(1 << 31) <= result < (1 << 31):
        raise ValueError(f"ioctl result {result} does not fit in an int")
    return _out(unique, IOCTL_OUT.pack(result, 0, 0, 0) + bytes(out_data))


def encode_ioctl_retry(unique: int, in_iovs: list[tuple[int, int]], out_iovs: list[tuple[int, int]]) -> bytes:
    """Ask the kernel to call again with the caller's memory at ``(address, length)`` copied in/out."""
    if len(in_iovs) + len(out_iovs) > FUSE_IOCTL_MAX_IOV:
        raise ValueError("too many iovecs")
    iovs = b"".join(IOCTL_IOVEC.pack(base, length) for base, length in [*in_iovs, *out_iovs])
    return _out(unique, IOCTL_OUT.pack(0, FUSE_IOCTL_RETRY, len(in_iovs), len(out_iovs)) + iovs)


def encode_poll(unique: int, revents: int) -> bytes:
    return _out(unique, POLL_OUT.pack(revents, 0))


def encode_notify_poll(kh: int) -> bytes:
    """FUSE_NOTIFY_POLL: wake the pollers registered under ``kh``."""
    return OUT_HEADER.pack(OUT_HEADER.size + NOTIFY_POLL.size, FUSE_NOTIFY_POLL, 0) + NOTIFY_POLL.pack(kh)


# ---- the per-device state machine -----------------------------------------------------------------

#: state -> request types it accepts -> next state
TRANSITIONS: dict[str, dict[type, str]] = {
    "new": {InitRequest: "init_sent"},
    "init_sent": {},
    "ready": {OpenRequest: "ready", ReadRequest: "ready", WriteRequest: "ready", IoctlRequest: "ready",
              PollRequest: "ready", ReleaseRequest: "ready", InterruptRequest: "ready"},
    "closed": {},
}


@dataclass
class Received:
    """What :meth:`Session.receive` made of one read: the request, or an immediate answer."""

    request: Request
    answer: bytes | None = None  # set when the session answered by itself (protocol error, ENOSYS)
    target_in_flight: bool = False  # for an INTERRUPT: its target is still unanswered


@dataclass
class Session:
    """One CUSE device: init handshake, requests in flight, exactly-once replies. Thread-safe."""

    devname: str
    dev_major: int
    dev_minor: int
    state: str = "new"
    kernel_minor: int = 0
    in_flight: dict[int, Request] = field(default_factory=dict)
    interrupted: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def receive(self, buf: bytes) -> Received:
        req = parse_request(buf)
        with self.lock:
            nxt = TRANSITIONS[self.state].get(type(req))
            if nxt is None:
                if isinstance(req, InterruptRequest):
                    return Received(req)  # never answered
                err = errno.ENOSYS if isinstance(req, OtherRequest) and self.state == "ready" else errno.EIO
                return Received(req, answer=encode_error(req.hdr.unique, err))
            if isinstance(req, InterruptRequest):
                alive = req.target in self.in_flight
                if alive:
                    self.interrupted.add(req.target)
                return Received(req, target_in_flight=alive)
            if isinstance(req, InitRequest):
                if req.major != KERNEL_VERSION or req.minor < MIN_MINOR:
                    self.state = "closed"
                    return Received(req, answer=encode_error(req.hdr.unique, errno.EPROTO))
                self.kernel_minor = req.minor
            self.state = nxt
            self.in_flight[req.hdr.unique] = req
            return Received(req)

    def init_reply(self, unique: int) -> bytes:
        """The CUSE_INIT answer: unrestricted ioctls, fixed major/minor, ``DEVNAME=<devname>``."""
        data = encode_init(unique, minor=self.kernel_minor, devname=self.devname, dev_major=self.dev_major,
                           dev_minor=self.dev_minor)
        self.take(unique)
        with self.lock:
            self.state = "ready"
        return data

    def take(self, unique: int) -> Request:
        """Mark ``unique`` answered (call it with the reply in hand, right before writing it).

        Raises :class:`ProtocolError` for an id that is not in flight (answered twice, or never
        asked): the kernel would reject the reply anyway, and it is always a bug here.
        """
        with self.lock:
            req = self.in_flight.pop(unique, None)
            if req is None:
                raise ProtocolError(f"no request {unique} in flight")
            self.interrupted.discard(unique)
            return req

    def was_interrupted(self, unique: int) -> bool:
        with self.lock:
            return unique in self.interrupted

    def close(self) -> None:
        with self.lock:
            self.state = "closed"
            self.in_flight.clear()
            self.interrupted.clear()


def request_bytes(opcode: int, unique: int, body: bytes = b"", *, nodeid: int = 0, uid: int = 0, gid: int = 0,
                  pid: int = 0) -> bytes:
    """A request as the kernel would send it (for tests and tools; the kernel side of the wire)."""
    return IN_HEADER.pack(IN_HEADER.size + len(body), opcode, unique, nodeid, uid, gid, pid, 0, 0) + body
