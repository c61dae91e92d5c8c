"""`r2wifi kernel install | list | rollback` on SD card trees built in tmp dirs."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from r2wifi.board.uimage import make_fit, verify_image
from tests.board.boardkit import LINUX, kernel_bytes, make_card, make_deb, make_tarball, snapshot, uimage


@pytest.fixture
def card(tmp_path: Path) -> tuple[Path, Path]:
    return make_card(tmp_path / "sd")


def _install(run_cli, card: tuple[Path, Path], source: Path, *extra: str):  # type: ignore[no-untyped-def]
    boot, root = card
    return run_cli("kernel", "install", str(source), "--boot", str(boot), "--root", str(root), *extra)


def test_tarball_install_list_rollback(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A frank-w release tarball installs beside uImage, boots next, lists, and rolls back."""
    boot, root = card
    old_uimage = (boot / LINUX / "uImage").read_bytes()
    src = make_tarball(tmp_path / "bpi-r2_5.15.80_main.tar.gz", "5.15.80-main")
    r = _install(run_cli, card, src, "--yes")
    assert r.returncode == 0, r.stderr
    linux = boot / LINUX
    assert verify_image((linux / "uImage_5.15.80-main").read_bytes()).ok
    assert (linux / "uImage").read_bytes() == old_uimage  # never overwritten
    assert b"kernel=uImage_5.15.80-main\n" in (linux / "uEnv.txt").read_bytes()
    assert (linux / "uEnv.txt.bak").read_bytes().count(b"\nkernel=uImage\n") == 1
    moddir = root / "lib/modules/5.15.80-main"
    assert (moddir / "kernel/drivers/net/dummy.ko").is_file()
    assert (moddir / "modules.dep").is_file(), "depmod -b ran"
    assert not (moddir / "build").exists(), "build-tree link skipped"
    assert (root / "system/etc/firmware/WMT_SOC.cfg").read_bytes().startswith(b"mt6620.defAnt")

    listed = json.loads(run_cli("kernel", "list", "--boot", str(boot), "--root", str(root), "--json").stdout)
    by_name = {k["name"]: k for k in listed["kernels"]}
    assert listed["booted"] == "uImage_5.15.80-main"
    assert by_name["uImage_5.15.80-main"]["verified"] and by_name["uImage_5.15.80-main"]["modules"]
    assert by_name["uImage"]["release"] == "4.14.1-main"

    r = run_cli("kernel", "rollback", "--boot", str(boot))
    assert r.returncode == 0, r.stderr
    assert "kernel=uImage_5.15.80-main -> kernel=uImage" in r.stdout
    assert (linux / "uEnv.txt").read_bytes() == (linux / "uEnv.txt.bak").read_bytes()


def test_reinstall_keeps_backup_of_replaced_modules(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Installing the same release twice backs up the first modules tree instead of mixing them."""
    boot, root = card
    src = make_tarball(tmp_path / "k1.tar.gz", "5.15.80-main")
    assert _install(run_cli, card, src, "--yes").returncode == 0
    src2 = make_tarball(tmp_path / "k2.tar.gz", "5.15.80-main", module_kb=2)
    r = _install(run_cli, card, src2, "--yes")
    assert r.returncode == 0, r.stderr
    assert (root / "lib/modules/5.15.80-main/kernel/drivers/net/dummy.ko").stat().st_size == 2048
    assert (root / "lib/modules/5.15.80-main.bak/kernel/drivers/net/dummy.ko").stat().st_size == 1024


def test_deb_install(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A .deb (ar + data.tar.xz) installs; the WiFi verdict comes from its config file."""
    boot, root = card
    deb = make_deb(tmp_path / "bananapi-r2-image-main.deb", "5.10.160-main")
    r = _install(run_cli, card, deb, "--yes")
    assert r.returncode == 0, r.stderr
    assert "internal WiFi driver: yes (module)" in r.stdout
    assert (boot / LINUX / "uImage_5.10.160-main").is_file()
    assert (root / "lib/modules/5.10.160-main/modules.order").is_file()


def test_bare_uimage_with_modules_dir(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A bare uImage plus --modules (a lib/modules/<rel> dir) installs both."""
    img = tmp_path / "uImage"
    img.write_bytes(uimage("5.4.200-wifi"))
    mods = tmp_path / "mods/lib/modules/5.4.200-wifi/kernel"
    mods.mkdir(parents=True)
    (mods / "wlan_gen2.ko").write_bytes(b"wlan")
    r = _install(run_cli, card, img, "--modules", str(tmp_path / "mods"), "--yes")
    assert r.returncode == 0, r.stderr
    assert (card[1] / "lib/modules/5.4.200-wifi/kernel/wlan_gen2.ko").is_file()
    assert b"kernel=uImage_5.4.200-wifi" in (card[0] / LINUX / "uEnv.txt").read_bytes()


def test_fit_kernel_installs(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A FIT image in a tarball is verified and installed like a legacy uImage."""
    src = make_tarball(tmp_path / "fit.tar.gz", "5.15.80-main", kernel=make_fit(kernel_bytes("5.15.80-main")))
    r = _install(run_cli, card, src, "--yes")
    assert r.returncode == 0, r.stderr
    assert verify_image((card[0] / LINUX / "uImage_5.15.80-main").read_bytes()).kind == "fit"


def test_dry_run_writes_nothing(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--dry-run prints the plan and leaves the card untouched."""
    before = snapshot(*card)
    r = _install(run_cli, card, make_tarball(tmp_path / "k.tar.gz", "5.15.80-main"), "--dry-run")
    assert r.returncode == 0 and "uImage_5.15.80-main" in r.stdout
    assert snapshot(*card) == before


def _bad_tarball(tmp_path: Path, name: str, data: bytes | None, kind: bytes, link: str = "") -> Path:
    return make_tarball(tmp_path / "bad.tar.gz", "5.15.80-main", extra=[(name, data, kind, link)])


REFUSALS = [
    ("dotdot", lambda t: _bad_tarball(t, "BPI-ROOT/../../etc/passwd", b"x", tarfile.REGTYPE), "'..'"),
    ("absolute-symlink", lambda t: _bad_tarball(t, "BPI-ROOT/lib/modules/5.15.80-main/kernel/x.ko", None,
                                                tarfile.SYMTYPE, "/etc/shadow"), "absolute symbolic link"),
    ("escaping-symlink", lambda t: _bad_tarball(t, "BPI-ROOT/lib/modules/5.15.80-main/kernel/y", None,
                                                tarfile.SYMTYPE, "../../../../etc"), "leaves"),
    ("symlink-outside-modules", lambda t: _bad_tarball(t, "BPI-ROOT/etc/evil", None, tarfile.SYMTYPE, "x"),
     "outside lib/modules"),
    ("device", lambda t: _bad_tarball(t, "BPI-ROOT/dev/sda", None, tarfile.BLKTYPE), "device file"),
    ("fifo", lambda t: _bad_tarball(t, "BPI-ROOT/tmp/pipe", None, tarfile.FIFOTYPE), "FIFO"),
    ("hardlink", lambda t: _bad_tarball(t, "BPI-ROOT/etc/shadow2", None, tarfile.LNKTYPE, "etc/shadow"),
     "hard link"),
    ("stray-top", lambda t: _bad_tarball(t, "etc/passwd", b"x", tarfile.REGTYPE), "neither under"),
    ("corrupt-uimage", lambda t: make_tarball(t / "bad.tar.gz", "5.15.80-main",
                                              kernel=uimage("5.15.80-main")[:-1] + b"!"), "data CRC"),
    ("no-wifi", lambda t: make_tarball(t / "bad.tar.gz", "5.15.80-main", wifi=False), "CONFIG_MTK_COMBO_WIFI"),
    ("too-new", lambda t: make_tarball(t / "bad.tar.gz", "6.1.70-main"), "newer than 5.15"),
]


@pytest.mark.parametrize(("label", "build", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_with_nothing_changed(run_cli, card, tmp_path: Path, label, build, reason) -> None:  # type: ignore[no-untyped-def]
    """Unsafe archives and unsuitable kernels exit 2 with a one-line reason; the card is unchanged."""
    src = build(tmp_path)
    before = snapshot(*card)
    r = _install(run_cli, card, src)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert reason in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert snapshot(*card) == before


def test_not_an_archive_is_a_user_error(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A random file as SOURCE is one line on stderr and exit 2."""
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello world" * 10)
    r = _install(run_cli, card, junk)
    assert r.returncode == 2 and "not a readable tar archive" in r.stderr


def test_list_flags_missing_boot_kernel(run_cli, card) -> None:  # type: ignore[no-untyped-def]
    """kernel list warns when uEnv.txt points at a kernel that is not on the card."""
    boot, _root = card
    (boot / LINUX / "uEnv.txt").write_bytes(b"kernel=uImage_gone\n")
    r = run_cli("kernel", "list", "--boot", str(boot))
    assert r.returncode == 0
    assert "NOT on the card" in r.stdout


def test_symlink_on_card_leading_outside_is_refused(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A card whose rootfs has etc/firmware -> /somewhere absolute: the install refuses, writes nothing."""
    boot, root = card
    outside = tmp_path / "host-etc-firmware"
    outside.mkdir()
    (root / "etc/firmware").symlink_to(outside)
    before = snapshot(boot, root, outside)
    r = _install(run_cli, card, make_tarball(tmp_path / "k.tar.gz", "5.15.80-main"), "--yes")
    assert r.returncode == 2 and "outside" in r.stderr
    assert snapshot(boot, root, outside) == before


def test_nodt_kernel_and_conflicting_dtb(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """uImage_nodt goes in as uImage_<rel>_nodt; a dtb that differs from the card's is installed beside it."""
    boot, _root = card
    (boot / LINUX / "dtb").mkdir()
    (boot / LINUX / "dtb/bpi-r2.dtb").write_bytes(b"the dtb the current kernel boots with")
    nodt = make_tarball(tmp_path / "k.tar.gz", "5.15.80-main", extra=[
        (f"BPI-BOOT/{LINUX}/uImage_nodt", uimage("5.15.80-main", 4096), tarfile.REGTYPE, ""),
        (f"BPI-BOOT/{LINUX}/uEnv.txt", b"kernel=uImage\n", tarfile.REGTYPE, "")])
    r = _install(run_cli, card, nodt, "--yes")
    assert r.returncode == 0, r.stderr
    assert verify_image((boot / LINUX / "uImage_5.15.80-main_nodt").read_bytes()).ok
    assert (boot / LINUX / "dtb/bpi-r2.dtb").read_bytes() == b"the dtb the current kernel boots with"
    assert (boot / LINUX / "dtb/bpi-r2-5.15.80-main.dtb").read_bytes().startswith(b"\xd0\x0d\xfe\xed")
    assert "uEnv.txt on BPI-BOOT not installed" in r.stdout
    assert b"kernel=uImage_5.15.80-main\n" in (boot / LINUX / "uEnv.txt").read_bytes()


def test_relative_module_symlink_installed(run_cli, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A relative symlink inside lib/modules/<rel> arrives on the card as the same link."""
    src = make_tarball(tmp_path / "k.tar.gz", "5.15.80-main", extra=[
        ("BPI-ROOT/lib/modules/5.15.80-main/kernel/alias.ko", None, tarfile.SYMTYPE, "drivers/net/dummy.ko")])
    assert _install(run_cli, card, src, "--yes").returncode == 0
    link = card[1] / "lib/modules/5.15.80-main/kernel/alias.ko"
    assert link.is_symlink() and link.read_bytes() == b"m" * 1024


def test_rollback_without_history_uses_backup_and_refuses_when_unknown(run_cli, card) -> None:  # type: ignore[no-untyped-def]
    """No install history: rollback goes to uEnv.txt.bak's kernel; with nothing known it exits 2."""
    boot, _root = card
    linux = boot / LINUX
    r = run_cli("kernel", "rollback", "--boot", str(boot))
    assert r.returncode == 2 and "no previous kernel known" in r.stderr
    (linux / "uImage_4.9.1").write_bytes(uimage("4.9.1"))
    (linux / "uEnv.txt.bak").write_bytes(b"kernel=uImage_4.9.1\n")
    r = run_cli("kernel", "rollback", "--boot", str(boot))
    assert r.returncode == 0, r.stderr
    assert b"\nkernel=uImage_4.9.1\n" in (linux / "uEnv.txt").read_bytes()


def test_rollback_refuses_a_corrupt_target(run_cli, card) -> None:  # type: ignore[no-untyped-def]
    """rollback --to a kernel that fails verification changes nothing."""
    boot, _root = card
    (boot / LINUX / "uImage_bad").write_bytes(uimage("4.9.1")[:-10])
    before = snapshot(boot)
    r = run_cli("kernel", "rollback", "--boot", str(boot), "--to", "uImage_bad")
    assert r.returncode == 2 and "truncated" in r.stderr
    assert snapshot(boot) == before
