"""The launcher's command channel (sans-IO): one scenario per protocol step of driver-interface.md 2.3-2.4."""

from __future__ import annotations

import pytest

from r2wifi.wmt import protocol as p
from r2wifi.wmt.firmware import build_header

HDR_1_0 = build_header(total=2, seq=2, address=0x000600)
HDR_1_1 = build_header(total=2, seq=1, address=0x000EF0)


def start_srh(ch: p.CommandChannel) -> list[p.Action]:
    return ch.receive(p.CommandRead(b"srh_patch"))


def drive(ch: p.CommandChannel, files: dict[str, bytes | None], chip: int = 0x7623, rom: int = 0x8A00,
          listing: list[str] | None = None) -> list[p.Action]:
    """Run a whole srh_patch exchange, answering the machine's requests from ``files``."""
    out: list[p.Action] = []
    actions = start_srh(ch)
    while actions:
        out += actions
        last = actions[-1]
        if isinstance(last, p.GetChipInfo):
            actions = ch.receive(p.ChipInfo(chip if last.which == 0 else rom))
        elif isinstance(last, p.ListDir):
            actions = ch.receive(p.Listing(list(files) if listing is None else listing))
        elif isinstance(last, p.ReadHeader):
            name = last.path.rsplit("/", 1)[1]
            data = files.get(name)
            actions = ch.receive(p.Header(data, "" if data is not None else "No such file"))
        else:
            actions = []
    return out


def replies(actions: list[p.Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, p.Reply)]


def ioctls_of(actions: list[p.Action]) -> list[p.Ioctl]:
    return [a for a in actions if isinstance(a, p.Ioctl)]


def test_srh_patch_first_asks_chip_id_then_rom_version():
    """srh_patch starts with GET_CHIP_INFO(0), then GET_CHIP_INFO(2) once the prefix is known."""
    ch = p.CommandChannel("/etc/firmware")
    assert start_srh(ch) == [p.GetChipInfo(0)]
    assert ch.state is p.State.WAIT_CHIP_ID
    acts = ch.receive(p.ChipInfo(0x7623))
    assert p.Log("patch name pre-fix:ROMv2_lm_patch") in acts
    assert acts[-1] == p.GetChipInfo(2)


def test_full_exchange_announces_count_then_each_patch_in_sorted_order():
    """Two vendor patch files: SET_PATCH_NUM(2) once, then SET_PATCH_INFO per file in name order, reply ok."""
    ch = p.CommandChannel("/etc/firmware/")
    acts = drive(ch, {"ROMv2_lm_patch_1_1_hdr.bin": HDR_1_1, "ROMv2_lm_patch_1_0_hdr.bin": HDR_1_0})
    ios = ioctls_of(acts)
    assert [i.name for i in ios] == ["WMT_IOCTL_SET_PATCH_NUM", "WMT_IOCTL_SET_PATCH_INFO", "WMT_IOCTL_SET_PATCH_INFO"]
    assert ios[0].arg == 2
    infos = [p.unpack_patch_info(i.arg) for i in ios[1:] if isinstance(i.arg, bytes)]
    assert infos == [
        (2, b"\x00\x00\x06\x00", "/etc/firmware/ROMv2_lm_patch_1_0_hdr.bin"),
        (1, b"\x00\x00\x0e\xf0", "/etc/firmware/ROMv2_lm_patch_1_1_hdr.bin"),
    ]
    assert replies(acts) == ["ok"]
    assert acts[-1] == p.Log("cmd(srh_patch) resp(ok)")
    assert ch.state is p.State.IDLE


def test_patch_info_struct_is_264_bytes_little_endian():
    """SET_PATCH_INFO carries u32 LE seq, 4 address bytes and a NUL-padded 256-byte path."""
    raw = p.pack_patch_info(2, b"\x00\x00\x06\x00", "/etc/firmware/x")
    assert len(raw) == 264
    assert raw[:4] == b"\x02\x00\x00\x00"
    assert raw[4:8] == b"\x00\x00\x06\x00"
    assert raw[8:23] == b"/etc/firmware/x" and raw[23:] == b"\0" * 241
    with pytest.raises(ValueError):
        p.pack_patch_info(1, b"\0\0\0\0", "/" + "a" * 300)


def test_only_files_starting_with_the_prefix_are_read():
    """Other files in the directory (WIFI_RAM_CODE, a ROMv1 patch, a name merely containing the prefix) are never opened."""
    ch = p.CommandChannel("/fw")
    files: dict[str, bytes | None] = {"WIFI_RAM_CODE_7623": b"x" * 40, "ROMv1_patch_1.bin": HDR_1_1,
                                      "old_ROMv2_lm_patch.bin": HDR_1_1, "ROMv2_lm_patch_1_1_hdr.bin": HDR_1_1}
    acts = drive(ch, files)
    reads = [a.path for a in acts if isinstance(a, p.ReadHeader)]
    assert reads == ["/fw/ROMv2_lm_patch_1_1_hdr.bin"]


def test_fw_version_low_byte_must_match_the_rom():
    """A patch whose fw version low byte differs from the ROM's is skipped (its set is then incomplete)."""
    bad = build_header(total=2, seq=2, address=0x600, fw_version=0x8A01)
    ch = p.CommandChannel("/fw")
    acts = drive(ch, {"ROMv2_lm_patch_1_0_hdr.bin": bad, "ROMv2_lm_patch_1_1_hdr.bin": HDR_1_1})
    assert ioctls_of(acts) == [] and replies(acts) == ["resp_-1"]
    assert any(isinstance(a, p.Log) and "low byte 0x01" in a.text for a in acts)
    assert any(isinstance(a, p.Log) and "seq 2 of 2 missing" in a.text for a in acts)
    # the high byte does not matter (0x9900 matches 0x8A00 on the low byte)
    ch2 = p.CommandChannel("/fw")
    acts2 = drive(ch2, {"ROMv2_lm_patch_x": build_header(total=1, seq=1, address=1, fw_version=0x9900)})
    assert len(ioctls_of(acts2)) == 2


def test_short_or_unreadable_header_is_skipped_not_fatal():
    """A truncated file and an unreadable one are logged and skipped; the exchange still ends with ok."""
    ch = p.CommandChannel("/fw")
    one = build_header(total=1, seq=1, address=0x000EF0)
    acts = drive(ch, {"ROMv2_lm_patch_a": one[:20], "ROMv2_lm_patch_b": None, "ROMv2_lm_patch_c": one})
    assert [p.unpack_patch_info(i.arg)[2] for i in ioctls_of(acts) if isinstance(i.arg, bytes)] == ["/fw/ROMv2_lm_patch_c"]
    logs = [a.text for a in acts if isinstance(a, p.Log)]
    assert "skip /fw/ROMv2_lm_patch_a: 20 of 28 header bytes" in logs
    assert "skip /fw/ROMv2_lm_patch_b: No such file" in logs
    assert replies(acts) == ["ok"]


def test_s11_no_usable_patch_answers_resp_minus_one_not_ok():
    """§11.2: an ok without SET_PATCH_NUM powers the chip unpatched, so unlike the vendor's handler an
    empty directory answers resp_-1 (the power-on fails, with the cause logged)."""
    ch = p.CommandChannel("/fw")
    acts = drive(ch, {}, listing=["README"])
    assert ioctls_of(acts) == []
    assert replies(acts) == ["resp_-1"]
    assert ch.last_patches == []
    assert any(isinstance(a, p.Log) and "would power the chip unpatched" in a.text for a in acts)


@pytest.mark.parametrize("files,why", [
    ({"ROMv2_lm_patch_a": build_header(total=2, seq=3, address=1)}, "seq 3 outside 1..2"),
    ({"ROMv2_lm_patch_a": build_header(total=1, seq=0, address=1)}, "seq 0 outside 1..1"),
    ({"ROMv2_lm_patch_a": build_header(total=0, seq=0, address=1)}, "seq 0 outside 1..0"),
    ({"ROMv2_lm_patch_a": build_header(total=2, seq=1, address=1),
      "ROMv2_lm_patch_b": build_header(total=3, seq=2, address=2)}, "says 3 patches"),
    ({"ROMv2_lm_patch_a": build_header(total=2, seq=1, address=1),
      "ROMv2_lm_patch_b": build_header(total=2, seq=1, address=2)}, "seq 1 repeats"),
])
def test_s11_launcher_validates_seq_before_set_patch_info(files: dict[str, bytes | None], why: str):
    """§11.2: SET_PATCH_INFO has no bounds check in the kernel: a bad seq/total never reaches it."""
    ch = p.CommandChannel("/fw")
    acts = drive(ch, files)
    assert ioctls_of(acts) == [] and replies(acts) == ["resp_-1"]
    assert any(isinstance(a, p.Log) and why in a.text for a in acts)


def test_unreadable_directory_answers_resp_minus_one():
    """opendir failing makes the handler return -1, so the reply is resp_-1."""
    ch = p.CommandChannel("/missing")
    start_srh(ch)
    ch.receive(p.ChipInfo(0x7623))
    acts = ch.receive(p.ChipInfo(0x8A00))
    assert acts[-1] == p.ListDir("/missing")
    acts = ch.receive(p.Listing(None, "No such file or directory"))
    assert replies(acts) == ["resp_-1"]
    assert ch.state is p.State.IDLE


def test_unknown_chip_has_no_patch_family():
    """A chip id outside the prefix table fails the handler with resp_-1."""
    ch = p.CommandChannel("/fw")
    start_srh(ch)
    acts = ch.receive(p.ChipInfo(0x1234))
    assert replies(acts) == ["resp_-1"]


def test_prefix_table_maps_chip_families():
    """Chip names map to their ROM patch family, mt7623 to ROMv2_lm_patch."""
    from r2wifi.wmt.firmware import prefix_for_chip

    assert prefix_for_chip(0x7623) == "ROMv2_lm_patch"
    assert prefix_for_chip(0x6582) == "ROMv1_patch"
    assert prefix_for_chip(0x8127) == "ROMv2_patch"
    assert prefix_for_chip(0x6797) == "ROMv3_patch"


def test_unknown_command_gets_cmd_not_found():
    """A command no handler's name prefixes (e.g. srh_rom) is answered 'cmd not found'."""
    ch = p.CommandChannel()
    acts = ch.receive(p.CommandRead(b"srh_rom"))
    assert replies(acts) == ["cmd not found"]
    assert acts[-1] == p.Log("cmd(srh_rom) resp(cmd not found)")


def test_dispatch_is_by_prefix_and_every_matching_handler_runs():
    """With two handlers whose names prefix the command, both run in table order before the single reply."""
    ch = p.CommandChannel()
    ran: list[str] = []

    def h1() -> list[p.Action]:
        ran.append("baud_")
        return ch._handler_done(0, [])

    def h2() -> list[p.Action]:
        ran.append("baud_4")
        return ch._handler_done(-3, [])

    ch.handlers = {"baud_": h1, "baud_4": h2, "open_stp": h1}
    acts = ch.receive(p.CommandRead(b"baud_4000000_0"))
    assert ran == ["baud_", "baud_4"]
    assert replies(acts) == ["resp_-3"]


def test_empty_read_after_poll_is_never_answered():
    """Zero bytes (poll woke, nothing pending) produce no action at all."""
    ch = p.CommandChannel()
    assert ch.receive(p.CommandRead(b"")) == []
    assert ch.receive(p.CommandRead(b"\0")) == []
    assert ch.state is p.State.IDLE


def test_reply_is_exactly_two_bytes():
    """The success reply is the two bytes 'ok' (no newline, no NUL)."""
    assert p.Reply("srh_patch", "ok").data == b"ok"


def test_events_out_of_order_are_protocol_errors():
    """A result the machine did not ask for is rejected, not silently absorbed."""
    ch = p.CommandChannel()
    with pytest.raises(p.ProtocolError):
        ch.receive(p.ChipInfo(0x7623))
    start_srh(ch)
    with pytest.raises(p.ProtocolError):
        ch.receive(p.CommandRead(b"srh_patch"))


def test_second_srh_patch_after_reset_is_served_again():
    """After a chip reset the kernel asks again; the same channel announces the set again from scratch."""
    ch = p.CommandChannel("/fw")
    files: dict[str, bytes | None] = {"ROMv2_lm_patch_1_0_hdr.bin": HDR_1_0, "ROMv2_lm_patch_1_1_hdr.bin": HDR_1_1}
    first = drive(ch, files)
    second = drive(ch, files)
    assert [i.name for i in ioctls_of(first)] == [i.name for i in ioctls_of(second)]
    assert replies(second) == ["ok"]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(cmd=st.binary(max_size=64))
def test_any_command_bytes_get_at_most_one_reply(cmd):
    """Whatever the kernel queues, the channel answers once (or not at all for empty) and returns to idle."""
    ch = p.CommandChannel("/fw")
    acts = ch.receive(p.CommandRead(cmd))
    text = cmd.split(b"\0", 1)[0].decode("ascii", "replace").strip()
    if text.startswith("srh_patch"):
        assert acts == [p.GetChipInfo(0)]
        return
    assert len(replies(acts)) == (1 if text else 0)
    assert ch.state is p.State.IDLE
