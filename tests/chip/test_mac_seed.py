"""`firmware mac --stable` on systems without /etc/machine-id (OpenWrt): the seed's fallbacks."""

from __future__ import annotations

from pathlib import Path

from r2wifi.wmt import nvram


def test_machine_id_is_the_first_seed(tmp_path: Path) -> None:
    """With /etc/machine-id present, it is the seed."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    seed, where = nvram.machine_seed(tmp_path)
    assert (seed, where) == (b"0123456789abcdef0123456789abcdef", "/etc/machine-id")
    assert nvram.stable_mac(root=tmp_path) == nvram.stable_mac(seed)


def test_board_serial_when_there_is_no_machine_id(tmp_path: Path) -> None:
    """OpenWrt: no machine-id, the device tree's serial number (NUL-terminated) is the seed."""
    dt = tmp_path / "proc/device-tree"
    dt.mkdir(parents=True)
    (dt / "serial-number").write_bytes(b"BPIR2-00042\0")
    assert nvram.machine_seed(tmp_path) == (b"BPIR2-00042", "/proc/device-tree/serial-number")


def test_stored_seed_is_created_once_and_reused(tmp_path: Path) -> None:
    """Nothing to derive from: a random seed is stored under /etc/r2wifi and gives the same MAC every time."""
    dt = tmp_path / "proc/device-tree"
    dt.mkdir(parents=True)
    (dt / "serial-number").write_bytes(b"0000000000000000\0")  # an unset serial is not a seed
    first = nvram.stable_mac(root=tmp_path)
    stored = tmp_path / nvram.STORED_SEED
    assert stored.is_file() and len(stored.read_text().strip()) == 32
    assert nvram.stable_mac(root=tmp_path) == first
    other = tmp_path / "other"
    other.mkdir()
    assert nvram.stable_mac(root=other) != first  # another machine, another random seed


def test_firmware_mac_stable_works_without_machine_id(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`r2wifi firmware mac --stable --root R` on an OpenWrt-like root writes a 02:08:22 MAC."""
    root = tmp_path / "root"
    nv = root / "etc/firmware/nvram"
    nv.mkdir(parents=True)
    (nv / "WIFI").write_bytes(b"\x04\x01\x00\x00" + b"\0" * 510)
    out = run_cli("firmware", "mac", "--stable", "--root", str(root))
    assert out.returncode == 0, out.stderr
    mac = nvram.read_mac(nv / "WIFI")
    assert mac is not None and mac.startswith("02:08:22:")
    assert (root / nvram.STORED_SEED).is_file()
