"""Patch headers, the synthetic firmware set and `r2wifi firmware check|header|generate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from r2wifi.wmt import firmware as fw
from r2wifi.wmt.fwgen import PATCHES, SHIPPED_WMT_SOC_CFG, write_firmware_set


def test_vendor_header_bytes_parse_to_the_documented_fields():
    """The 1_0 header bytes of the spec decode to count 2, seq 2, address 00 00 06 00, fw 0x8A00."""
    raw = b"20151206145017a\0" + b"ALPS" + b"\x8a\x00" + b"\x8a\x00" + b"\x22\x00\x06\x00" + b"payload"
    h = fw.parse_header(raw, "ROMv2_lm_patch_1_0_hdr.bin")
    assert (h.build_time, h.platform, h.hw_version, h.fw_version) == ("20151206145017a", "ALPS", 0x8A00, 0x8A00)
    assert (h.total, h.seq, h.address) == (2, 2, b"\x00\x00\x06\x00")
    assert h.to_json()["address"] == "0x00000600"


def test_build_header_round_trips():
    """build_header is the inverse of parse_header for the 1_1 patch (seq 1 at 0x0EF0)."""
    h = fw.parse_header(fw.build_header(total=2, seq=1, address=0xEF0))
    assert (h.total, h.seq, h.address_int) == (2, 1, 0xEF0)


def test_short_header_is_a_clear_error():
    """A file shorter than 28 bytes is reported with its name and byte count."""
    with pytest.raises(fw.FirmwareError, match=r"x\.bin: too short for a patch header \(10 of 28 bytes\)"):
        fw.parse_header(b"0123456789", "x.bin")


def test_synthetic_set_validates_with_vendor_sizes(tmp_path):
    """fwgen writes header-valid patches of the vendor sizes; the checker accepts both patches."""
    pdir = write_firmware_set(tmp_path)
    for name, (size, *_rest) in PATCHES.items():
        assert (pdir / name).stat().st_size == size
    ps = fw.check_patches(pdir)
    assert [n for n, _h in ps.accepted] == ["ROMv2_lm_patch_1_0_hdr.bin", "ROMv2_lm_patch_1_1_hdr.bin"]
    assert [f for f in ps.findings if f.level == "error"] == []


def test_shipped_wmt_soc_cfg_is_reproduced_byte_for_byte(tmp_path):
    """The regenerated WMT_SOC.cfg has the vendor size and sha256 prefix (it is plain text)."""
    write_firmware_set(tmp_path)
    cfg = tmp_path / "system/etc/firmware/WMT_SOC.cfg"
    assert cfg.read_bytes() == SHIPPED_WMT_SOC_CFG
    assert len(SHIPPED_WMT_SOC_CFG) == 95
    assert fw.sha256_file(cfg).startswith("6da55395")


def corrupt(path: Path, offset: int, value: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[offset:offset + len(value)] = value
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: corrupt(p / "ROMv2_lm_patch_1_0_hdr.bin", 23, b"\x01"), "does not match the chip ROM"),
        (lambda p: corrupt(p / "ROMv2_lm_patch_1_0_hdr.bin", 24, b"\x32"), "disagree on the patch count"),
        (lambda p: corrupt(p / "ROMv2_lm_patch_1_0_hdr.bin", 24, b"\x21"), "duplicate sequence numbers"),
        (lambda p: corrupt(p / "ROMv2_lm_patch_1_0_hdr.bin", 24, b"\x20"), "out of range"),
        (lambda p: (p / "ROMv2_lm_patch_1_1_hdr.bin").unlink(), "announce 2 patches but 1 match"),
        (lambda p: (p / "ROMv2_lm_patch_1_1_hdr.bin").write_bytes(b"short"), "too short"),
    ],
)
def test_corrupt_patch_sets_are_named(tmp_path, mutate, message):
    """Each kind of broken patch set yields an error finding that says what is wrong."""
    pdir = write_firmware_set(tmp_path)
    mutate(pdir)
    errors = [f.message for f in fw.check_patches(pdir).findings if f.level == "error"]
    assert any(message in e for e in errors), errors


def test_firmware_check_on_synthetic_set_warns_but_passes(tmp_path, run_cli):
    """`firmware check --root` on the synthetic set: unknown hashes are warnings, exit 0."""
    write_firmware_set(tmp_path / "root")
    r = run_cli("firmware", "check", "--root", str(tmp_path / "root"), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    levels = {f["path"]: f["level"] for f in data["findings"]}
    assert levels["/etc/firmware/WIFI_RAM_CODE_7623"] == "warn"
    assert levels["/system/etc/firmware/WMT_SOC.cfg"] == "ok"
    assert data["ok"] is True


def test_firmware_check_names_missing_cfg_at_its_compiled_in_path(tmp_path, run_cli):
    """WMT_SOC.cfg put in /etc/firmware instead of /system/etc/firmware is reported as missing, exit 1."""
    root = tmp_path / "root"
    write_firmware_set(root, with_cfg=False)
    (root / "etc/firmware/WMT_SOC.cfg").write_bytes(SHIPPED_WMT_SOC_CFG)
    r = run_cli("firmware", "check", "--root", str(root))
    assert r.returncode == 1
    assert "FAIL  /system/etc/firmware/WMT_SOC.cfg: missing" in r.stdout
    assert "compiled into the kernel" in r.stdout


@pytest.mark.root
def test_firmware_check_flags_nvram_on_read_only_mount(tmp_path, run_cli):
    """An NVRAM file on a read-only mount is an error (the driver writes calibration back)."""
    import subprocess

    root = tmp_path / "root"
    write_firmware_set(root)
    nv = root / "etc/firmware/nvram"
    data = (nv / "WIFI").read_bytes()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(nv)], check=True)
    try:
        (nv / "WIFI").write_bytes(data)
        subprocess.run(["mount", "-o", "remount,ro", str(nv)], check=True)
        r = run_cli("firmware", "check", "--root", str(root))
        assert r.returncode == 1
        assert "FAIL  /etc/firmware/nvram/WIFI: not writable" in r.stdout
    finally:
        subprocess.run(["umount", str(nv)], check=False)


def test_firmware_check_empty_dir_says_what_to_install(tmp_path, run_cli):
    """An empty root: the patch family is named and each file's fix is printed."""
    r = run_cli("firmware", "check", "--root", str(tmp_path))
    assert r.returncode == 1
    assert "/etc/firmware: patch directory unreadable" in r.stdout
    assert "WIFI_RAM_CODE_7623: missing" in r.stdout


def test_firmware_header_cli_decodes_and_rejects(tmp_path, run_cli):
    """`firmware header` prints seq/count/address; a short file is a one-line error with exit 2."""
    pdir = write_firmware_set(tmp_path / "root")
    r = run_cli("firmware", "header", str(pdir / "ROMv2_lm_patch_1_1_hdr.bin"))
    assert r.returncode == 0 and "patch 1/2 at 0x00000EF0" in r.stdout
    (tmp_path / "bad.bin").write_bytes(b"abc")
    r = run_cli("firmware", "header", str(tmp_path / "bad.bin"))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "too short" in r.stderr


def test_firmware_generate_cli(tmp_path, run_cli):
    """`firmware generate ROOT` writes a set that `firmware check` accepts."""
    r = run_cli("firmware", "generate", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr
    assert run_cli("firmware", "check", "--root", str(tmp_path / "r")).returncode == 0


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 15), seq=st.integers(0, 15), address=st.integers(0, (1 << 24) - 1),
       fwv=st.integers(0, 0xFFFF))
def test_header_round_trip_any_values(total, seq, address, fwv):
    """Any 4-bit count/seq, 24-bit address and 16-bit version survives build -> parse."""
    h = fw.parse_header(fw.build_header(total=total, seq=seq, address=address, fw_version=fwv))
    assert (h.total, h.seq, h.address_int, h.fw_version) == (total, seq, address, fwv)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=0, max_size=64))
def test_arbitrary_bytes_parse_or_fail_cleanly(data):
    """Random bytes either parse (28+ bytes) or raise FirmwareError; never anything else."""
    try:
        fw.parse_header(data)
    except fw.FirmwareError:
        assert len(data) < 28
