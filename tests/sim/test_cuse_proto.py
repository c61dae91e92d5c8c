"""The FUSE/CUSE wire protocol, byte by byte (r2wifi.sim.fuse_proto; no /dev/cuse needed).

The expected bytes are built here from the layouts of include/uapi/linux/fuse.h, independently of
the module's own Struct definitions, so a wrong field order or size in the module fails a test.
"""

from __future__ import annotations

import errno
import struct

import pytest

from r2wifi.sim import fuse_proto as fp


def hdr(opcode: int, unique: int, body: bytes, pid: int = 0) -> bytes:
    # u32 len, u32 opcode, u64 unique, u64 nodeid, u32 uid, u32 gid, u32 pid, u16 extlen, u16 pad = 40 bytes
    return struct.pack("<IIQQIIIHH", 40 + len(body), opcode, unique, 0, 0, 0, pid, 0, 0) + body


def out(unique: int, error: int, payload: bytes = b"") -> bytes:
    return struct.pack("<IiQ", 16 + len(payload), error, unique) + payload


def test_header_sizes_match_the_kernel_abi():
    """in header 40 bytes, out header 16, cuse_init_out 72 (8 u32 + spare[10]), ioctl in 32, ioctl out 16, iovec 16."""
    assert fp.IN_HEADER.size == 40 and fp.OUT_HEADER.size == 16
    assert fp.CUSE_INIT_OUT.size == 72 and fp.CUSE_INIT_IN.size == 16
    assert fp.IOCTL_IN.size == 32 and fp.IOCTL_OUT.size == 16 and fp.IOCTL_IOVEC.size == 16
    assert fp.READ_IN.size == 40 and fp.WRITE_IN.size == 40 and fp.POLL_IN.size == 24
    assert fp.RELEASE_IN.size == 24 and fp.OPEN_IN.size == 8 and fp.OPEN_OUT.size == 16


def test_parse_cuse_init():
    req = fp.parse_request(hdr(4096, 2, struct.pack("<IIII", 7, 38, 0, 0x1234), pid=0))
    assert isinstance(req, fp.InitRequest)
    assert (req.major, req.minor, req.flags, req.hdr.unique) == (7, 38, 0x1234, 2)


def test_init_reply_bytes():
    """cuse_init_out: 7.minor, UNRESTRICTED_IOCTL, max_read/write, dev major/minor, spare zeros, DEVNAME."""
    data = fp.encode_init(2, minor=38, devname="wmtdetect", dev_major=154, dev_minor=0)
    body = struct.pack("<IIIIIIII", 7, 38, 0, 1, 65536, 65536, 154, 0) + b"\0" * 40 + b"DEVNAME=wmtdetect\0"
    assert data == out(2, 0, body)


def test_parse_open_read_write_release():
    o = fp.parse_request(hdr(14, 4, struct.pack("<II", 0o2, 0), pid=321))
    assert isinstance(o, fp.OpenRequest) and o.flags == 2 and o.hdr.pid == 321
    r = fp.parse_request(hdr(15, 6, struct.pack("<QQIIQII", 9, 0, 255, 0, 0, 0o2, 0)))
    assert isinstance(r, fp.ReadRequest) and (r.fh, r.size) == (9, 255)
    w = fp.parse_request(hdr(16, 8, struct.pack("<QQIIQII", 9, 0, 2, 0, 0, 0, 0) + b"ok"))
    assert isinstance(w, fp.WriteRequest) and (w.fh, w.data) == (9, b"ok")
    rel = fp.parse_request(hdr(18, 10, struct.pack("<QIIQ", 9, 2, 0, 0)))
    assert isinstance(rel, fp.ReleaseRequest) and rel.fh == 9


def test_parse_ioctl_with_and_without_data():
    first = fp.parse_request(hdr(39, 12, struct.pack("<QIIQII", 3, 2 | 8, 0x4004A004, 0xBEEF000, 0, 0)))
    assert isinstance(first, fp.IoctlRequest)
    assert first.compat32 and first.cmd == 0x4004A004 and first.arg == 0xBEEF000 and first.in_data == b""
    name = b"patch".ljust(255, b"\0")
    again = fp.parse_request(hdr(39, 14, struct.pack("<QIIQII", 3, 2, 0x4008A004, 0x7000, 255, 0) + name))
    assert isinstance(again, fp.IoctlRequest) and not again.compat32 and again.in_data == name


def test_parse_poll_and_interrupt():
    p = fp.parse_request(hdr(40, 16, struct.pack("<QQII", 5, 77, 1, 0x41)))
    assert isinstance(p, fp.PollRequest) and p.wants_notify and (p.fh, p.kh, p.events) == (5, 77, 0x41)
    i = fp.parse_request(hdr(36, 19, struct.pack("<Q", 18)))
    assert isinstance(i, fp.InterruptRequest) and i.target == 18


@pytest.mark.parametrize("buf", [
    b"\0" * 10,  # shorter than a header
    struct.pack("<IIQQIIIHH", 99, 14, 1, 0, 0, 0, 0, 0, 0),  # length field != bytes read
    struct.pack("<IIQQIIIHH", 44, 39, 1, 0, 0, 0, 0, 0, 0) + b"\0" * 4,  # ioctl body truncated
    hdr(16, 1, struct.pack("<QQIIQII", 1, 0, 10, 0, 0, 0, 0) + b"abc"),  # write shorter than its size
])
def test_malformed_requests_are_protocol_errors(buf):
    with pytest.raises(fp.ProtocolError):
        fp.parse_request(buf)


def test_reply_encoders():
    assert fp.encode_error(5, errno.EIO) == out(5, -errno.EIO)
    assert fp.encode_open(5, 42) == out(5, 0, struct.pack("<QII", 42, 1 | 4, 0))
    assert fp.encode_data(5, b"srh_patch") == out(5, 0, b"srh_patch")
    assert fp.encode_write(5, 2) == out(5, 0, struct.pack("<II", 2, 0))
    assert fp.encode_ioctl(5, 0x7623) == out(5, 0, struct.pack("<iIII", 0x7623, 0, 0, 0))
    assert fp.encode_poll(5, 0x45) == out(5, 0, struct.pack("<II", 0x45, 0))
    assert fp.encode_empty(5) == out(5, 0)
    with pytest.raises(ValueError):
        fp.encode_error(5, -1)
    with pytest.raises(ValueError):
        fp.encode_ioctl(5, 1 << 31)


def test_ioctl_retry_carries_iovecs():
    """FUSE_IOCTL_RETRY (4) with in/out counts, then the in iovecs and the out iovecs (u64 base, u64 len)."""
    data = fp.encode_ioctl_retry(9, [(0x1000, 264)], [(0x2000, 4)])
    assert data == out(9, 0, struct.pack("<iIII", 0, 4, 1, 1) + struct.pack("<QQQQ", 0x1000, 264, 0x2000, 4))


def test_notify_poll_is_unique_zero_with_the_code_in_error():
    assert fp.encode_notify_poll(0xABC) == struct.pack("<IiQ", 24, 1, 0) + struct.pack("<Q", 0xABC)


# ---- the session state machine


def init_bytes(unique: int = 2, minor: int = 38) -> bytes:
    return hdr(4096, unique, struct.pack("<IIII", 7, minor, 0, 0))


def ready_session() -> fp.Session:
    s = fp.Session("stpwmt", 190, 0)
    rec = s.receive(init_bytes())
    assert rec.answer is None and s.state == "init_sent"
    s.init_reply(2)
    assert s.state == "ready"
    return s


def test_session_refuses_requests_before_init():
    s = fp.Session("stpwmt", 190, 0)
    rec = s.receive(hdr(14, 4, struct.pack("<II", 2, 0)))
    assert rec.answer == out(4, -errno.EIO) and s.state == "new"


def test_session_rejects_an_old_kernel_protocol():
    s = fp.Session("stpwmt", 190, 0)
    rec = s.receive(init_bytes(minor=10))
    assert rec.answer == out(2, -errno.EPROTO) and s.state == "closed"


def test_init_reply_uses_the_kernel_minor_and_the_device():
    s = fp.Session("wmtWifi", 155, 0)
    s.receive(init_bytes(minor=31))
    data = s.init_reply(2)
    assert struct.unpack_from("<IIIIIIII", data, 16) == (7, 31, 0, 1, 65536, 65536, 155, 0)
    assert data.endswith(b"DEVNAME=wmtWifi\0")


def test_second_init_and_unknown_opcodes_are_answered_by_the_session():
    s = ready_session()
    assert s.receive(init_bytes(unique=6)).answer == out(6, -errno.EIO)
    assert s.receive(hdr(25, 8, b"\0" * 24)).answer == out(8, -errno.ENOSYS)  # FLUSH: not served


def test_every_request_is_answered_exactly_once():
    s = ready_session()
    s.receive(hdr(14, 4, struct.pack("<II", 2, 0)))
    assert 4 in s.in_flight
    s.take(4)
    with pytest.raises(fp.ProtocolError):
        s.take(4)
    with pytest.raises(fp.ProtocolError):
        s.take(999)


def test_interrupt_names_a_request_in_flight_and_is_never_answered():
    s = ready_session()
    s.receive(hdr(39, 10, struct.pack("<QIIQII", 1, 2, 0x4004A007, 1, 0, 0)))
    rec = s.receive(hdr(36, 11, struct.pack("<Q", 10)))
    assert rec.answer is None and rec.target_in_flight and s.was_interrupted(10)
    assert 11 not in s.in_flight
    s.take(10)
    late = s.receive(hdr(36, 13, struct.pack("<Q", 10)))
    assert late.answer is None and not late.target_in_flight
