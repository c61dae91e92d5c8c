"""The CUSE front end against a fake kernel (r2wifi.sim.cuse; no /dev/cuse needed).

Each "/dev/cuse" fd the front end opens is one end of a SOCK_SEQPACKET pair (one message per
read/write, like the real device); the test is the kernel on the other end and speaks the FUSE
bytes of include/uapi/linux/fuse.h to a real DriverModel (fast timing).
"""

from __future__ import annotations

import errno
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from r2wifi.sim import fuse_proto as fp
from r2wifi.sim.cuse import CuseFrontend
from r2wifi.sim.model import DriverModel
from r2wifi.sim.timing import Timing
from r2wifi.wmt import ioctls
from r2wifi.wmt.fwgen import write_firmware_set

UNRESTRICTED = 2
COMPAT32 = 8
X64 = "x86_64"
ARM = "armhf"
WAIT = 20.0  # generous: the machine may be busy


def n(name: str, abi: str) -> int:
    return ioctls.number(name, abi)


class FakeKernel:
    """The kernel side of every /dev/cuse fd the front end opens."""

    def __init__(self) -> None:
        self.ends: list[socket.socket] = []
        self.inits: list[tuple[int, ...]] = []  # cuse_init_out fields per device
        self.names: list[str] = []
        self.unique = 100
        self.stash: dict[int, list[bytes]] = {}
        self.lock = threading.Lock()

    def opener(self) -> int:
        kern, server = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        server.setblocking(False)
        kern.settimeout(WAIT)
        kern.send(fp.request_bytes(fp.CUSE_INIT, 1, struct.pack("<IIII", 7, 38, 0, 0)))
        with self.lock:
            self.ends.append(kern)
        return server.detach()

    def index(self, devname: str) -> int:
        for i in range(len(self.ends)):
            if i >= len(self.names):
                self._read_init(i)
        return self.names.index(devname)

    def _read_init(self, i: int) -> None:
        data = self.ends[i].recv(1 << 17)
        length, error, unique = struct.unpack_from("<IiQ", data)
        assert (length, error, unique) == (len(data), 0, 1)
        self.inits.append(struct.unpack_from("<IIIIIIII", data, 16))
        info = data[16 + 72:]
        assert info.startswith(b"DEVNAME=") and info.endswith(b"\0")
        self.names.append(info[8:-1].decode())

    def send(self, dev: str, opcode: int, body: bytes, pid: int = 4242) -> int:
        with self.lock:
            self.unique += 2
            u = self.unique
        self.ends[self.index(dev)].send(fp.request_bytes(opcode, u, body, pid=pid))
        return u

    def recv(self, dev: str, unique: int) -> tuple[int, bytes]:
        """(error, payload) of the reply to ``unique``; other messages are kept for later."""
        i = self.index(dev)
        while True:
            box = self.stash.setdefault(i, [])
            for msg in box:
                if struct.unpack_from("<Q", msg, 8)[0] == unique:
                    box.remove(msg)
                    return struct.unpack_from("<i", msg, 4)[0], msg[16:]
            msg = self.ends[i].recv(1 << 17)
            assert struct.unpack_from("<I", msg)[0] == len(msg)
            box.append(msg)

    def call(self, dev: str, opcode: int, body: bytes) -> tuple[int, bytes]:
        return self.recv(dev, self.send(dev, opcode, body))

    # -- operations
    def open(self, dev: str) -> int:
        err, payload = self.call(dev, fp.FUSE_OPEN, struct.pack("<II", 2, 0))
        assert err == 0, err
        return int(struct.unpack_from("<Q", payload)[0])

    def ioctl_send(self, dev: str, fh: int, cmd: int, arg: int = 0, *, flags: int = UNRESTRICTED,
                   data: bytes = b"") -> int:
        body = struct.pack("<QIIQII", fh, flags, cmd, arg, len(data), 0) + data
        return self.send(dev, fp.FUSE_IOCTL, body)

    def ioctl(self, dev: str, fh: int, cmd: int, arg: int = 0, **kw: object) -> tuple[int, bytes]:
        return self.recv(dev, self.ioctl_send(dev, fh, cmd, arg, **kw))  # type: ignore[arg-type]

    def pointer_ioctl(self, dev: str, fh: int, cmd: int, payload: bytes, *, flags: int) -> int:
        """The kernel's two rounds: no data -> RETRY with an iovec -> the caller's bytes -> result."""
        addr = 0x10000
        err, out = self.ioctl(dev, fh, cmd, addr, flags=flags)
        assert err == 0, err
        result, oflags, in_iovs, out_iovs = struct.unpack_from("<iIII", out)
        assert oflags & fp.FUSE_IOCTL_RETRY and (in_iovs, out_iovs) == (1, 0)
        base, length = struct.unpack_from("<QQ", out, 16)
        assert base == addr
        err, out = self.ioctl(dev, fh, cmd, addr, flags=flags, data=payload[:length].ljust(length, b"\0"))
        return -err if err else struct.unpack_from("<i", out)[0]

    def close(self) -> None:
        for e in self.ends:
            e.close()


@pytest.fixture
def fw(tmp_path: Path) -> Path:
    return write_firmware_set(tmp_path / "root", "/etc/firmware")


class Recorder:
    """The model, with every ioctl's (request, arg, abi) as the model received it."""

    def __init__(self, model: DriverModel) -> None:
        self.model = model
        self.ioctls: list[tuple[int, int | bytes, str | None]] = []

    def ioctl(self, hid: int, request: int, arg: int | bytes = 0, abi: str | None = None) -> int:
        self.ioctls.append((request, arg, abi))
        return self.model.ioctl(hid, request, arg, abi)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


@pytest.fixture
def rig(fw: Path) -> Iterator[tuple[FakeKernel, CuseFrontend, Recorder]]:
    model = Recorder(DriverModel(timing=Timing.named("fast"), firmware_dir=str(fw)))
    kern = FakeKernel()
    front = CuseFrontend(model, opener=kern.opener, dev_dir=None, say=lambda s: None)
    front.start()
    yield kern, front, model
    front.stop()
    kern.close()


def module_init(kern: FakeKernel) -> None:
    fh = kern.open("wmtdetect")
    assert kern.ioctl("wmtdetect", fh, n("COMBO_IOCTL_SET_CHIP_ID", X64), 0x7623)[0] == 0
    err, _ = kern.ioctl("wmtdetect", fh, n("COMBO_IOCTL_DO_MODULE_INIT", X64), 0x7623)
    assert err == -errno.EPERM  # the disabled BT part's -1, as on the board


def test_only_wmtdetect_at_start_with_its_fixed_numbers(rig):
    """CUSE_INIT is answered with UNRESTRICTED_IOCTL, major 154 minor 0, DEVNAME=wmtdetect; nothing else yet."""
    kern, front, _model = rig
    assert front.nodes() == ["/dev/wmtdetect"]
    assert kern.index("wmtdetect") == 0 and len(kern.ends) == 1
    major, minor, _unused, flags, max_read, max_write, dev_major, dev_minor = kern.inits[0]
    assert (major, minor, flags & 1, dev_major, dev_minor) == (7, 38, 1, 154, 0)
    assert max_read >= 4096 and max_write >= 4096


def test_soc_chip_id_is_the_ioctl_return_value(rig):
    """GET_SOC_CHIP_ID answers result 0x7623 (positive) in fuse_ioctl_out, no retry."""
    kern, _front, _model = rig
    fh = kern.open("wmtdetect")
    err, out = kern.ioctl("wmtdetect", fh, n("COMBO_IOCTL_GET_SOC_CHIP_ID", X64))
    assert err == 0 and struct.unpack_from("<iIII", out) == (0x7623, 0, 0, 0)


def test_do_module_init_registers_stpwmt_and_wmtwifi_before_it_answers(rig):
    """By the time DO_MODULE_INIT is answered, the two new devices have had their CUSE_INIT."""
    kern, front, _model = rig
    module_init(kern)
    assert front.nodes() == ["/dev/stpwmt", "/dev/wmtWifi", "/dev/wmtdetect"]
    assert len(kern.ends) == 3
    inits = {name: kern.inits[kern.index(name)] for name in ("stpwmt", "wmtWifi")}
    assert (inits["stpwmt"][6], inits["stpwmt"][7]) == (190, 0)
    assert (inits["wmtWifi"][6], inits["wmtWifi"][7]) == (155, 0)


def test_value_ioctl_carries_arg_itself(rig):
    kern, _front, model = rig
    fh = kern.open("wmtdetect")
    assert kern.ioctl("wmtdetect", fh, n("COMBO_IOCTL_SET_CHIP_ID", X64), 0x6580)[0] == 0
    err, out = kern.ioctl("wmtdetect", fh, n("COMBO_IOCTL_GET_CHIP_ID", X64))
    assert err == 0 and struct.unpack_from("<i", out)[0] == 0x6580
    assert (n("COMBO_IOCTL_SET_CHIP_ID", X64), 0x6580, X64) in model.ioctls


@pytest.mark.parametrize(("abi", "flags"), [(ARM, UNRESTRICTED | COMPAT32), (X64, UNRESTRICTED)])
def test_pointer_ioctls_arrive_intact_through_retry(rig, abi, flags):
    """SET_PATCH_NAME (255 bytes) and SET_PATCH_INFO (264 bytes) via FUSE_IOCTL_RETRY, per caller ABI."""
    kern, _front, model = rig
    module_init(kern)
    fh = kern.open("stpwmt")
    name = b"mt7623_patch\0".ljust(255, b"\xaa")
    assert kern.pointer_ioctl("stpwmt", fh, n("WMT_IOCTL_SET_PATCH_NAME", abi), name, flags=flags) == 0
    assert kern.ioctl("stpwmt", fh, n("WMT_IOCTL_SET_PATCH_NUM", abi), 1, flags=flags)[0] == 0
    info = struct.pack("<I", 1) + b"\x00\x00\x0e\xf0" + b"/fw/ROMv2_lm_patch_1_1_hdr.bin".ljust(256, b"\0")
    assert kern.pointer_ioctl("stpwmt", fh, n("WMT_IOCTL_SET_PATCH_INFO", abi), info, flags=flags) == 0
    got = {req: (arg, a) for req, arg, a in model.ioctls}
    assert got[n("WMT_IOCTL_SET_PATCH_NAME", abi)] == (name, abi)
    assert got[n("WMT_IOCTL_SET_PATCH_INFO", abi)] == (info, abi)
    assert got[n("WMT_IOCTL_SET_PATCH_NUM", abi)] == (1, abi)


def test_the_caller_abi_decides_the_number(rig):
    """The armhf SET_PATCH_NAME number from a 64-bit caller is an unknown command: EINVAL, no retry."""
    kern, _front, _model = rig
    module_init(kern)
    fh = kern.open("stpwmt")
    err, _ = kern.ioctl("stpwmt", fh, n("WMT_IOCTL_SET_PATCH_NAME", ARM), 0x10000, flags=UNRESTRICTED)
    assert err == -errno.EINVAL


def test_blocked_power_ioctl_while_poll_notify_read_write_serve_srh_patch(rig, fw):
    """The launcher's flow on one node: LPBK(1) blocks; NOTIFY_POLL wakes the poller; read/write answer."""
    kern, _front, model = rig
    module_init(kern)
    fh = kern.open("stpwmt")
    assert kern.ioctl("stpwmt", fh, n("WMT_IOCTL_SET_STP_MODE", X64), 0x23)[0] == 0
    err, out = kern.call("stpwmt", fp.FUSE_POLL, struct.pack("<QQII", fh, 77, 1, 0x45))
    revents = struct.unpack_from("<I", out)[0]
    assert err == 0 and revents & 0x4 and not revents & 0x1  # POLLOUT, no command yet
    lpbk = kern.ioctl_send("stpwmt", fh, n("WMT_IOCTL_LPBK_POWER_CTRL", X64), 1)
    i = kern.index("stpwmt")
    msg = kern.ends[i].recv(1 << 17)  # the first thing the kernel hears: the poll notification
    assert struct.unpack_from("<IiQQ", msg) == (24, fp.FUSE_NOTIFY_POLL, 0, 77)
    err, out = kern.call("stpwmt", fp.FUSE_POLL, struct.pack("<QQII", fh, 77, 1, 0x45))
    assert struct.unpack_from("<I", out)[0] & 0x41 == 0x41  # POLLIN | POLLRDNORM
    err, data = kern.call("stpwmt", fp.FUSE_READ, struct.pack("<QQIIQII", fh, 0, 255, 0, 0, 2, 0))
    assert (err, data) == (0, b"srh_patch")
    # answer like the launcher: the two patches, then "ok"
    assert kern.ioctl("stpwmt", fh, n("WMT_IOCTL_SET_PATCH_NUM", X64), 2)[0] == 0
    for seq, name, addr in ((1, "ROMv2_lm_patch_1_1_hdr.bin", b"\0\0\x0e\xf0"), (2, "ROMv2_lm_patch_1_0_hdr.bin",
                                                                                  b"\0\0\x06\x00")):
        info = struct.pack("<I", seq) + addr + str(fw / name).encode().ljust(256, b"\0")
        assert kern.pointer_ioctl("stpwmt", fh, n("WMT_IOCTL_SET_PATCH_INFO", X64), info, flags=UNRESTRICTED) == 0
    err, out = kern.call("stpwmt", fp.FUSE_WRITE, struct.pack("<QQIIQII", fh, 0, 2, 0, 0, 0, 0) + b"ok")
    assert err == 0 and struct.unpack_from("<I", out)[0] == 2
    err, out = kern.recv("stpwmt", lpbk)  # the deferred answer of the blocked ioctl
    assert err == 0 and struct.unpack_from("<i", out)[0] == 0
    assert model.status()["chip_powered"] is True


def test_nodes_without_poll_answer_enosys(rig):
    """/dev/wmtdetect has no .poll in the driver: ENOSYS makes the kernel report its default mask."""
    kern, _front, _model = rig
    fh = kern.open("wmtdetect")
    err, _ = kern.call("wmtdetect", fp.FUSE_POLL, struct.pack("<QQII", fh, 5, 1, 0x45))
    assert err == -errno.ENOSYS


def test_wifi_write_and_release(rig):
    """A write to /dev/wmtWifi before the chip is powered is EIO (as the driver); RELEASE answers empty."""
    kern, _front, _model = rig
    module_init(kern)
    fh = kern.open("wmtWifi")
    err, _ = kern.call("wmtWifi", fp.FUSE_WRITE, struct.pack("<QQIIQII", fh, 0, 2, 0, 0, 0, 0) + b"A\n")
    assert err == -errno.EIO
    err, out = kern.call("wmtWifi", fp.FUSE_RELEASE, struct.pack("<QIIQ", fh, 2, 0, 0))
    assert (err, out) == (0, b"")


def interrupt_rig(fw: Path, policy: str) -> tuple[FakeKernel, CuseFrontend, int, int]:
    model = DriverModel(timing=Timing.named("fast"), firmware_dir=str(fw))
    kern = FakeKernel()
    front = CuseFrontend(model, opener=kern.opener, dev_dir=None, interrupts=policy, say=lambda s: None)
    front.start()
    module_init(kern)
    fh = kern.open("stpwmt")
    assert kern.ioctl("stpwmt", fh, n("WMT_IOCTL_SET_STP_MODE", X64), 0x23)[0] == 0
    # LPBK(1) with nobody answering srh_patch: the model waits (2 s reply timeouts) before it fails
    lpbk = kern.ioctl_send("stpwmt", fh, n("WMT_IOCTL_LPBK_POWER_CTRL", X64), 1)
    kern.send("stpwmt", fp.FUSE_INTERRUPT, struct.pack("<Q", lpbk))
    return kern, front, fh, lpbk


def test_interrupt_eintr_policy_answers_at_once(fw):
    kern, front, _fh, lpbk = interrupt_rig(fw, "eintr")
    try:
        err, _ = kern.recv("stpwmt", lpbk)
        assert err == -errno.EINTR
        assert lpbk not in front.devices["/dev/stpwmt"].session.in_flight
    finally:
        front.stop()
        kern.close()


def test_interrupt_driver_policy_answers_when_the_model_returns(fw):
    """The driver's waits are uninterruptible: the answer is the model's own result (here the failure)."""
    kern, front, _fh, lpbk = interrupt_rig(fw, "driver")
    try:
        err, _ = kern.recv("stpwmt", lpbk)
        assert err not in (0, -errno.EINTR)  # power-on failed: nobody answered srh_patch
    finally:
        front.stop()
        kern.close()


def test_stop_closes_every_device(rig):
    kern, front, _model = rig
    module_init(kern)
    kern.index("wmtWifi")  # every CUSE_INIT answer read
    front.stop()
    assert len(kern.ends) == 3
    for end in kern.ends:
        end.settimeout(WAIT)
        assert end.recv(100) == b""  # the server closed its /dev/cuse fd: the node goes away
    assert front.nodes() == []


def test_a_refused_registration_fails_start_with_one_clear_error(fw):
    """The kernel drops the connection right after CUSE_INIT (major in use): start() names the node."""

    def refusing_opener() -> int:
        kern, server = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        server.setblocking(False)
        kern.send(fp.request_bytes(fp.CUSE_INIT, 1, struct.pack("<IIII", 7, 38, 0, 0)))
        kern.close()
        return server.detach()

    said: list[str] = []
    front = CuseFrontend(DriverModel(timing=Timing.named("fast"), firmware_dir=str(fw)), opener=refusing_opener,
                         dev_dir=None, say=said.append)
    with pytest.raises(OSError) as exc:
        front.start()
    assert "/dev/wmtdetect (154:0)" in str(exc.value.strerror) and "\n" not in str(exc.value.strerror)
    assert front.nodes() == []


def wait_until(pred: Any, what: str) -> None:
    import time

    end = time.monotonic() + WAIT
    while not pred():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_fault_from_outside_cuse_changes_the_served_nodes(rig):
    """A node change the model makes without a CUSE request (a fault injected over the daemon's socket)
    reaches the front end through the model's node-change callback."""
    kern, front, model = rig
    module_init(kern)
    kern.index("wmtWifi")
    assert "/dev/wmtWifi" in front.nodes()
    model.inject("combo-wifi-not-built")
    wait_until(lambda: "/dev/wmtWifi" not in front.nodes(), "/dev/wmtWifi to go away")
    assert front.nodes() == ["/dev/stpwmt", "/dev/wmtdetect"]
    model.inject("no-detect")
    wait_until(lambda: front.nodes() == ["/dev/stpwmt"], "/dev/wmtdetect to go away")


def test_driver_facts_live_in_wmt_driver():
    """The pointer-ioctl lengths and the pollable nodes are driver facts (r2wifi.wmt.driver), not the front end's."""
    from r2wifi.sim import cuse
    from r2wifi.wmt import driver

    for name in ("POLLABLE", "PATCH_NAME_LEN", "POINTER_IN_LEN"):
        assert not hasattr(cuse, name), name
    assert driver.POINTER_IN_LEN == {"WMT_IOCTL_SET_PATCH_NAME": 255, "WMT_IOCTL_SET_PATCH_INFO": 264}
    assert driver.POLLABLE == {driver.STPWMT, driver.STPBT}
