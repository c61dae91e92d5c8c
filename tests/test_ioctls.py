"""ioctl numbers: computed per ABI, pinned against every row of the driver spec."""

from __future__ import annotations

import re

import pytest

from r2wifi.wmt import ioctls

ROW = re.compile(r"^\|\s*`(?P<name>[A-Z_]+)`\s*\|\s*(?P<dir>_IO\w*)\s*\|\s*(?P<nr>\d+)\s*\|\s*(?P<num>0x[0-9A-Fa-f]+)\s*\|\s*(?P<signed>-?\d+)")


def spec_rows(shared_dir):
    text = (shared_dir / "spec" / "driver-interface.md").read_text()
    rows = [m.groupdict() for line in text.splitlines() if (m := ROW.match(line))]
    assert len(rows) >= 28, "the spec tables were not found"
    return rows


def test_every_spec_row_matches_armhf(shared_dir):
    """Every ioctl row of the spec (ARM32 numbers and signed values) is what we compute for armhf."""
    for row in spec_rows(shared_dir):
        io = ioctls.BY_NAME[row["name"]]
        assert io.nr == int(row["nr"])
        assert io.number("armhf") == int(row["num"], 16), row["name"]
        assert ioctls.as_signed(io.number("armhf")) == int(row["signed"]), row["name"]


def test_arm64_pointer_typed_numbers(shared_dir):
    """The spec's arm64 list: pointer-typed commands have size 8, int-typed ones keep size 4."""
    text = (shared_dir / "spec" / "driver-interface.md").read_text()
    listed = re.search(r"different numbers \(([^)]*)\)", text)
    assert listed
    expected = {int(x, 16) for x in re.findall(r"0x[0-9A-F]+", listed.group(1))}
    ptr = {io.number("arm64") for io in ioctls.TABLE if io.argtype == "ptr"}
    assert ptr == expected
    for io in ioctls.TABLE:
        if io.argtype != "ptr":
            assert io.number("arm64") == io.number("armhf"), io.name


def test_stpbt_and_platform_values():
    """The stpbt ioctls and the platform doc's armhf values."""
    assert ioctls.number("COMBO_IOC_BT_FW_ASSERT", "armhf") == 0xC004B000
    assert ioctls.number("COMBO_IOC_BT_HWVER", "armhf") == 0xC004B003
    assert ioctls.number("WMT_IOCTL_SET_PATCH_NAME", "arm64") == 0x4008A004
    assert ioctls.number("WMT_IOCTL_SET_PATCH_INFO", "x86_64") == 0x4008A00F


def test_encoding_rejects_oversized_arguments():
    """_IOC refuses a size that does not fit in 14 bits."""
    with pytest.raises(ValueError):
        ioctls.ioc(ioctls.IOC_READ, 0x77, 0, 1 << 14)


def test_lookup_accepts_signed_numbers():
    """lookup() finds a command from the signed value the kernel logs."""
    io = ioctls.lookup(-2147191037, "armhf")
    assert io is not None and io.name == "COMBO_IOCTL_GET_SOC_CHIP_ID"
    assert ioctls.lookup(0x12345678, "armhf") is None
