"""Kernel image verification: legacy uImage and FIT, cross-checked with mkimage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from r2wifi.board.uimage import (
    IH_ARCH_ARM,
    FdtError,
    make_fit,
    make_uimage,
    parse_fdt,
    verify_image,
)
from tests.board.boardkit import kernel_bytes, uimage
from tests.conftest import need_binary


def test_writer_matches_mkimage_byte_for_byte(tmp_path: Path) -> None:
    """Our uImage writer produces exactly what mkimage produces for the same payload and fields."""
    mkimage = need_binary("mkimage")
    payload = tmp_path / "zImage"
    payload.write_bytes(kernel_bytes("5.15.80-main"))
    out = tmp_path / "uImage"
    subprocess.run([mkimage, "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none", "-a", "0x80008000",
                    "-e", "0x80008000", "-n", "Linux-5.15.80-main", "-d", str(payload), str(out)],
                   check=True, capture_output=True, env={"SOURCE_DATE_EPOCH": "1600000000", "PATH": "/usr/bin"})
    assert out.read_bytes() == make_uimage(payload.read_bytes(), name="Linux-5.15.80-main", timestamp=1_600_000_000)


def test_mkimage_lists_our_image(tmp_path: Path) -> None:
    """mkimage -l reads our header as an ARM Linux kernel with our name."""
    mkimage = need_binary("mkimage")
    img = tmp_path / "uImage"
    img.write_bytes(uimage("4.19.99-wifi"))
    out = subprocess.run([mkimage, "-l", str(img)], capture_output=True, text=True, check=True).stdout
    assert "ARM Linux Kernel Image" in out and "Linux-4.19.99-wifi" in out


def test_good_image_verifies_and_yields_release() -> None:
    """A well-formed uImage passes and its release comes from the Linux version banner."""
    info = verify_image(uimage("5.15.80-bpi-r2-main"))
    assert info.ok, info.problems
    assert (info.kind, info.arch, info.os, info.type) == ("uimage", "arm", "linux", "kernel")
    assert info.release == "5.15.80-bpi-r2-main"


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda b: b"\x00" + b[1:], "not a U-Boot image"),
        (lambda b: b[:40] + b"X" + b[41:], "header CRC"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "data CRC"),
        (lambda b: b[:-100], "truncated"),
    ],
)
def test_corruptions_are_caught(mutate, problem: str) -> None:  # type: ignore[no-untyped-def]
    """A flipped bit or a cut-off file in the header or payload is detected."""
    info = verify_image(mutate(uimage("5.15.80-main")))
    assert not info.ok
    assert any(problem in p for p in info.problems), info.problems


def test_wrong_arch_and_type_refused() -> None:
    """An arm64 kernel or a ramdisk image is not a bootable R2 kernel."""
    arm64 = verify_image(make_uimage(b"x" * 100, arch=22))
    ramdisk = verify_image(make_uimage(b"x" * 100, arch=IH_ARCH_ARM, type_=3))
    assert any("not arm" in p for p in arm64.problems)
    assert any("not kernel" in p for p in ramdisk.problems)


def test_fit_image_verifies_with_hash(tmp_path: Path) -> None:
    """A FIT with a kernel and sha256 hash verifies; mkimage -l accepts its structure."""
    blob = make_fit(kernel_bytes("5.10.160-main"), hash_algo="sha256")
    info = verify_image(blob)
    assert info.ok, info.problems
    assert info.kind == "fit" and info.release == "5.10.160-main"
    mkimage = need_binary("mkimage")
    (tmp_path / "k.itb").write_bytes(blob)
    out = subprocess.run([mkimage, "-l", "-T", "flat_dt", str(tmp_path / "k.itb")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ARM" in out.stdout and "Kernel Image" in out.stdout


def test_fit_payload_corruption_caught() -> None:
    """Changing one kernel byte inside a FIT breaks its crc32 hash."""
    blob = bytearray(make_fit(kernel_bytes("5.10.160-main")))
    i = blob.find(b"Linux version")
    blob[i] ^= 0x20
    info = verify_image(bytes(blob))
    assert any("hash mismatch" in p for p in info.problems)


def test_fit_structure_damage_caught() -> None:
    """A FIT whose structure block is cut short is rejected with a structural reason."""
    blob = make_fit(kernel_bytes("5.10.160-main"))
    with pytest.raises(FdtError):
        parse_fdt(blob[: len(blob) // 2])
    assert not verify_image(blob[: len(blob) // 2]).ok


def test_garbage_is_not_an_image() -> None:
    """A zImage without a U-Boot header is reported as not an image."""
    assert verify_image(b"\x00" * 64 + b"zImage").kind == "unknown"
