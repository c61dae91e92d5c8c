"""`r2wifi firmware install SRC`: the set from a directory, tarball, .deb or .ipk, checked and switched atomically.

The vendor blobs are not redistributable, so sources carry the synthetic header-valid set of
r2wifi.wmt.fwgen (vendor sizes, unknown hashes: --allow-unknown); the known-hash path is tested
in-process with the vendor prefixes replaced by the synthetic files' own.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from r2wifi import records
from r2wifi.board import fwinstall
from r2wifi.board.fileops import RealFileOps
from r2wifi.errors import UserError
from r2wifi.wmt import firmware as fw
from r2wifi.wmt.fwgen import write_firmware_set
from tests.board import hostile as h
from tests.board.boardkit import snapshot
from tests.board.test_powerloss import CrashingOps, PowerCut

SET = ["etc/firmware/ROMv2_lm_patch_1_0_hdr.bin", "etc/firmware/ROMv2_lm_patch_1_1_hdr.bin",
       "etc/firmware/WIFI_RAM_CODE_7623", "system/etc/firmware/WMT_SOC.cfg"]
NVRAM = "etc/firmware/nvram/WIFI"


def synthetic(base: Path) -> Path:
    write_firmware_set(base)
    return base


def old_system(root: Path) -> Path:
    """A system root with an older, different set (and the board's own NVRAM)."""
    for rel in SET + [NVRAM]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f"old {rel}\n".encode())
    (root / "etc/firmware/other-vendor.bin").write_bytes(b"not ours")
    return root


def _tar_of(src: Path, out: Path, prefix: str = "", mode: str = "w:gz") -> Path:
    with tarfile.open(out, mode) as tf:  # type: ignore[call-overload]
        for rel in sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()):
            tf.add(src / rel, arcname=f"{prefix}{rel}")
    return out


def _ar(out: Path, members: list[tuple[str, bytes]]) -> Path:
    blob = b"!<arch>\n"
    for name, data in members:
        blob += f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode() + data
        blob += b"\n" if len(data) % 2 else b""
    out.write_bytes(blob)
    return out


def _bytes_tar(src: Path, mode: str, prefix: str = "./") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for p in sorted(src.rglob("*")):
            if p.is_file():
                tf.add(p, arcname=prefix + p.relative_to(src).as_posix())
    return buf.getvalue()


def _control() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = b"Package: wmt\nVersion: 1\n"
        ti = tarfile.TarInfo("./control")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def make_source(kind: str, tmp: Path) -> Path:
    src = synthetic(tmp / "fwset")
    if kind == "directory":
        return src
    if kind == "frank-w tarball":
        return _tar_of(src, tmp / "bpi-r2_5.15.tar.gz", "BPI-ROOT/")
    if kind == "flat tarball":  # gerdg-dd layout: everything under system/etc/firmware
        flat = tmp / "flat"
        for p in src.rglob("*"):
            if p.is_file():
                rel = p.relative_to(src).as_posix()
                dest = flat / "system/etc/firmware" / (rel.split("firmware/", 1)[1])
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(p, dest)
        return _tar_of(flat, tmp / "flat.tar.xz", mode="w:xz")
    if kind == "deb":
        return _ar(tmp / "wmt.deb", [("debian-binary", b"2.0\n"), ("control.tar.gz", _control()),
                                    ("data.tar.xz", _bytes_tar(src, "w:xz"))])
    if kind == "ipk (tar)":
        out = tmp / "wmt.ipk"
        with tarfile.open(out, "w:gz") as tf:
            for name, data in [("./debian-binary", b"2.0\n"), ("./control.tar.gz", _control()),
                               ("./data.tar.gz", _bytes_tar(src, "w:gz"))]:
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
        return out
    if kind == "ipk (ar)":
        return _ar(tmp / "wmt_ar.ipk", [("debian-binary", b"2.0\n"), ("control.tar.gz", _control()),
                                       ("data.tar.gz", _bytes_tar(src, "w:gz"))])
    raise AssertionError(kind)


def install(run_cli, src: Path, root: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli("firmware", "install", str(src), "--root", str(root), *extra)


@pytest.mark.parametrize("kind", ["directory", "frank-w tarball", "flat tarball", "deb", "ipk (tar)", "ipk (ar)"])
def test_good_set_installs_at_compiled_in_paths(run_cli, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    """Every source form: the set lands at the driver's paths, old files backed up, NVRAM kept, check passes."""
    root = old_system(tmp_path / "root")
    src = make_source(kind, tmp_path)
    fwset = tmp_path / "fwset"
    r = install(run_cli, src, root, "--allow-unknown")
    assert r.returncode == 0, r.stderr
    for rel in SET:
        assert (root / rel).read_bytes() == (fwset / rel).read_bytes(), rel
    assert (root / NVRAM).read_bytes() == f"old {NVRAM}\n".encode()  # the board's own, never replaced
    assert (root / "etc/firmware/other-vendor.bin").read_bytes() == b"not ours"
    backups = sorted((root / "etc/firmware/.r2wifi-backup").glob("*"))
    assert len(backups) == 1
    for rel in SET:
        assert (backups[0] / rel).read_bytes() == f"old {rel}\n".encode()
    assert not list(root.rglob("*.r2wifi-new")) and not (root / "etc/firmware" / fwinstall.JOURNAL).exists()
    (root / NVRAM).write_bytes((fwset / NVRAM).read_bytes())  # a real NVRAM, for the check below
    check = run_cli("firmware", "check", "--root", str(root))
    assert "0 problem(s)" in check.stdout, check.stdout
    again = install(run_cli, src, root, "--allow-unknown")
    assert again.returncode == 0 and "already installed" in again.stdout


def test_fresh_system_gets_nvram_and_dry_run_writes_nothing(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An empty root receives the NVRAM too; --dry-run before that changes nothing."""
    root = tmp_path / "root"
    root.mkdir()
    src = make_source("directory", tmp_path)
    r = install(run_cli, src, root, "--allow-unknown", "--dry-run")
    assert r.returncode == 0 and "dry run" in r.stdout
    assert list(root.iterdir()) == []
    r = install(run_cli, src, root, "--allow-unknown")
    assert r.returncode == 0, r.stderr
    assert (root / NVRAM).read_bytes() == (tmp_path / "fwset" / NVRAM).read_bytes()
    assert "backup" not in r.stdout


def _refused(run_cli, src: Path, root: Path, reason: str, *extra: str) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(root)
    r = install(run_cli, src, root, *extra)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert reason in r.stderr, r.stderr
    assert snapshot(root) == before


def test_unknown_hash_refused_without_allow_unknown(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _refused(run_cli, make_source("directory", tmp_path), old_system(tmp_path / "root"), "not the vendor")


def test_missing_file_refused(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = make_source("directory", tmp_path)
    (src / "etc/firmware/WIFI_RAM_CODE_7623").unlink()
    _refused(run_cli, src, old_system(tmp_path / "root"), "missing from the source: WIFI_RAM_CODE_7623",
             "--allow-unknown")


def test_wrong_size_refused(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = make_source("directory", tmp_path)
    p = src / "etc/firmware/ROMv2_lm_patch_1_1_hdr.bin"
    p.write_bytes(p.read_bytes()[:-1])
    _refused(run_cli, src, old_system(tmp_path / "root"), "50295 bytes, the vendor ROMv2_lm_patch_1_1_hdr.bin is 50296",
             "--allow-unknown")


def test_bad_patch_header_refused(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Right size, unknown hash allowed, but the header's ROM version is wrong: the header check refuses."""
    src = make_source("directory", tmp_path)
    p = src / "etc/firmware/ROMv2_lm_patch_1_0_hdr.bin"
    data = bytearray(p.read_bytes())
    data[22:24] = (0x8B01).to_bytes(2, "big")
    p.write_bytes(bytes(data))
    _refused(run_cli, src, old_system(tmp_path / "root"), "does not match the chip ROM", "--allow-unknown")


def test_ambiguous_source_refused(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = make_source("directory", tmp_path)
    (src / "copy").mkdir()
    (src / "copy/WIFI_RAM_CODE_7623").write_bytes(b"\x01" * 225840)
    (src / "etc/firmware/WIFI_RAM_CODE_7623").unlink()
    (src / "more").mkdir()
    (src / "more/WIFI_RAM_CODE_7623").write_bytes(b"\x02" * 225840)
    _refused(run_cli, src, old_system(tmp_path / "root"), "ambiguous", "--allow-unknown")


HOSTILE = [
    ("chain", lambda t: _hostile_tar(t, h.chain_under_links(5)), "lies under the symbolic link"),
    ("dotdot", lambda t: _hostile_tar(t, [("BPI-ROOT/../../x", b"x", tarfile.REGTYPE, "")]), "'..'"),
    ("fifo", lambda t: _hostile_tar(t, [("BPI-ROOT/etc/firmware/p", None, tarfile.FIFOTYPE, "")]), "FIFO"),
    ("link-then-file", lambda t: _hostile_tar(t, [
        ("BPI-ROOT/etc/firmware/WIFI_RAM_CODE_7623", None, tarfile.SYMTYPE, "/etc/shadow"),
        ("BPI-ROOT/etc/firmware/WIFI_RAM_CODE_7623", b"\x01" * 225840, tarfile.REGTYPE, "")]), "appears twice"),
    ("corrupt-gzip-crc", lambda t: h.corrupt_trailer(t, "crc"), "corrupt compressed data"),
]


def _hostile_tar(tmp: Path, extra: h.Extra) -> Path:
    src = synthetic(tmp / "fwset")
    out = tmp / "hostile.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                tf.add(p, arcname="BPI-ROOT/" + p.relative_to(src).as_posix())
        for name, data, kind, link in extra:
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname = kind, link
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
    return out


@pytest.mark.parametrize(("label", "build", "reason"), HOSTILE, ids=[x[0] for x in HOSTILE])
def test_hostile_archive_refused_by_the_shared_reader(run_cli, tmp_path: Path, label, build, reason) -> None:  # type: ignore[no-untyped-def]
    """The kernel installer's archive checks refuse the same attacks here; nothing outside changes either."""
    root = old_system(tmp_path / "root")
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "keep").write_text("keep")
    before = snapshot(canary)
    _refused(run_cli, build(tmp_path), root, reason, "--allow-unknown")
    assert snapshot(canary) == before and h.evil_written(root) == []


def test_known_hashes_install_without_allow_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the vendor prefixes equal to the files' own sha256, the set is 'vendor' and needs no flag."""
    src = synthetic(tmp_path / "fwset")
    known = []
    for kf in fw.KNOWN_FILES:
        data = (src / fw.install_path(kf).lstrip("/")).read_bytes()
        known.append(records.replace(kf, sha256_prefix=hashlib.sha256(data).hexdigest()[:8], size=len(data)))
    monkeypatch.setattr(fw, "KNOWN_FILES", tuple(known))
    root = old_system(tmp_path / "root")
    plan = fwinstall.plan_install(src, root)
    assert all(f.vendor for f in plan.files)
    fwinstall.execute_install(plan)
    assert (root / SET[2]).read_bytes() == (src / SET[2]).read_bytes()


class FailOnce(RealFileOps):
    """RealFileOps whose ``fail_at``-th changing operation raises EIO (a disk error, not a crash)."""

    def __init__(self, fail_at: int | None) -> None:
        self.count = 0
        self.fail_at = fail_at

    def _tick(self) -> None:
        self.count += 1
        if self.count == self.fail_at:
            raise OSError(5, "Input/output error (injected)")

    def mkdir(self, path: Path, mode: int = 0o755) -> None:
        self._tick()
        super().mkdir(path, mode)

    def create(self, path: Path, mode: int = 0o644) -> int:
        self._tick()
        return super().create(path, mode)

    def write(self, fd: int, data: bytes) -> None:
        self._tick()
        super().write(fd, data)

    def fsync(self, fd: int) -> None:
        self._tick()
        super().fsync(fd)

    def rename(self, src: Path, dst: Path) -> None:
        self._tick()
        super().rename(src, dst)

    def fsync_dir(self, path: Path) -> None:
        self._tick()
        super().fsync_dir(path)

    def unlink(self, path: Path) -> None:
        self._tick()
        super().unlink(path)


def _state(root: Path) -> dict[str, bytes | None]:
    return {rel: (root / rel).read_bytes() if (root / rel).exists() else None for rel in SET + [NVRAM]}


def test_failure_at_every_step_leaves_the_old_set(tmp_path: Path) -> None:
    """An I/O error at each write, fsync or rename: the install raises and the root is exactly as before
    (no staged file, no journal, no backup left), or - past the commit point - the new set is complete."""
    src = synthetic(tmp_path / "fwset")
    template = old_system(tmp_path / "template")
    probe = FailOnce(None)
    fwinstall.execute_install(fwinstall.plan_install(src, template, allow_unknown=True), probe)
    total = probe.count
    assert total > 15
    shutil.rmtree(template)
    old_system(template)
    new = {rel: (src / rel).read_bytes() for rel in SET}
    outcomes = {"old": 0, "new": 0}
    for n in range(1, total + 1):
        root = tmp_path / "work"
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(template, root)
        before = snapshot(root)
        plan = fwinstall.plan_install(src, root, allow_unknown=True)
        try:
            fwinstall.execute_install(plan, FailOnce(n))
        except OSError:
            assert snapshot(root) == before, f"I/O error at op {n}/{total}: root changed"
            outcomes["old"] += 1
        else:
            assert {rel: _state(root)[rel] for rel in SET} == new, f"op {n}: success but not the new set"
            outcomes["new"] += 1
    assert outcomes["old"] >= total - 2, outcomes


def test_power_cut_at_every_step_gives_old_or_new_set_after_recover(tmp_path: Path) -> None:
    """Cut the power before each operation (unsynced data and undurable renames lost), then run recover():
    the set is wholly the old one or wholly the new one; a re-run then installs the new set."""
    src = synthetic(tmp_path / "fwset")
    template = old_system(tmp_path / "template")
    old = _state(template)
    new = dict(old, **{rel: (src / rel).read_bytes() for rel in SET})
    probe = CrashingOps(None)
    shutil.copytree(template, tmp_path / "probe")
    fwinstall.execute_install(fwinstall.plan_install(src, tmp_path / "probe", allow_unknown=True), probe)
    seen = set()
    for cut in range(1, probe.count + 1):
        root = tmp_path / "work"
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(template, root)
        ops = CrashingOps(cut)
        plan = fwinstall.plan_install(src, root, allow_unknown=True)
        with pytest.raises(PowerCut):
            fwinstall.execute_install(plan, ops)
        ops.crash()
        fwinstall.recover(root)
        state = _state(root)
        assert state in (old, new), f"cut at op {cut}/{probe.count}: a mixed set"
        seen.add("old" if state == old else "new")
        assert not (root / "etc/firmware" / fwinstall.JOURNAL).exists()
        assert not list(root.rglob("*.r2wifi-new"))
        fwinstall.execute_install(fwinstall.plan_install(src, root, allow_unknown=True))
        assert _state(root) == new
    assert seen == {"old", "new"}  # cuts fall on both sides of the commit point


def test_unreadable_journal_is_a_user_error(tmp_path: Path) -> None:
    root = old_system(tmp_path / "root")
    (root / "etc/firmware" / fwinstall.JOURNAL).write_text('{"renames": [["../../x", "/etc/passwd"]]}')
    with pytest.raises(UserError, match="unexpected entry"):
        fwinstall.recover(root)


def test_header_refuses_fifo_and_device_without_hanging(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`firmware header` on a FIFO or a character device: exit 2 with one line, no hang, device not opened."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for arg in (str(fifo), "/dev/zero"):
        r = run_cli("firmware", "header", arg, timeout=60)
        assert r.returncode == 2, (arg, r.stdout, r.stderr)
        assert r.stderr.count("\n") == 1 and "not a regular file" in r.stderr


def test_check_exit_codes_follow_the_convention(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`firmware check`: 0 nothing to fix, 1 problems found (listed on stdout), 2 bad argument (one line)."""
    root = tmp_path / "root"
    root.mkdir()
    install(run_cli, make_source("directory", tmp_path), root, "--allow-unknown")
    assert run_cli("firmware", "check", "--root", str(root)).returncode == 0
    (root / SET[2]).unlink()
    r = run_cli("firmware", "check", "--root", str(root))
    assert r.returncode == 1 and "WIFI_RAM_CODE_7623: missing" in r.stdout and r.stderr == ""
    r = run_cli("firmware", "check", "--root", str(tmp_path / "no-such-dir"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a directory" in r.stderr


def test_check_reports_an_interrupted_install_until_a_rerun_finishes_it(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A crash after the commit point: `firmware check` says so (exit 1); the next install finishes it."""
    src = synthetic(tmp_path / "fwset")
    root = old_system(tmp_path / "root")
    plan = fwinstall.plan_install(src, root, allow_unknown=True)
    commit = next(n for n in range(1, 200) if _journal_written_by(src, tmp_path, n))
    ops = CrashingOps(commit)
    with pytest.raises(PowerCut):
        fwinstall.execute_install(plan, ops)
    assert fwinstall.pending_journal(root) is not None
    r = run_cli("firmware", "check", "--root", str(root))
    assert r.returncode == 1 and "a firmware install was interrupted" in r.stdout
    r = install(run_cli, src, root, "--allow-unknown")
    assert r.returncode == 0 and "finished an interrupted firmware install" in r.stdout, r.stdout
    assert fwinstall.pending_journal(root) is None
    assert {rel: _state(root)[rel] for rel in SET} == {rel: (src / rel).read_bytes() for rel in SET}


def _journal_written_by(src: Path, tmp: Path, cut: int) -> bool:
    """True when a power cut before op ``cut`` leaves a durable journal (the first op after the commit point)."""
    root = tmp / f"probe{cut}"
    old_system(root)
    ops = CrashingOps(cut)
    try:
        fwinstall.execute_install(fwinstall.plan_install(src, root, allow_unknown=True), ops)
    except PowerCut:
        pass
    ops.crash()
    return fwinstall.pending_journal(root) is not None
