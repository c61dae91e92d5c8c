"""Kernel install, list and rollback on a BPI-R2 SD card, safe against bad input and power loss.

Theory of operation: :func:`prepare` reads and checks everything (archive safety is done by
:mod:`r2wifi.board.archive`, the kernel image by :mod:`r2wifi.board.uimage`) and returns a
:class:`Plan` without writing a byte. :func:`execute` then carries the plan out through a
:class:`r2wifi.board.fileops.FileOps`, in an order chosen so that at every instant the card boots
a verified kernel:

1. BPI-ROOT first: modules go to a staging directory ``lib/modules/.r2wifi-<rel>.new`` (files
   fsync'd, directories fsync'd), the old ``lib/modules/<rel>`` is renamed aside to a backup,
   the staging directory renamed in, ``lib/modules`` fsync'd, then ``depmod -b``. Firmware and
   other root files: temp name, fsync, rename, fsync dir (a changed file is backed up first).
2. BPI-BOOT: the new kernel is written as ``.uImage_<rel>.r2wifi.tmp``, fsync'd, read back and
   verified, then renamed to ``uImage_<rel>`` (an existing different one is backed up first);
   the directory is fsync'd. ``uImage`` itself is never touched.
3. The install history (``.r2wifi-kernels``) is rewritten atomically (used by rollback).
4. Last: ``uEnv.txt`` is backed up, the new content (only the ``kernel=`` line changed) is written
   to a temp name, fsync'd and renamed over ``uEnv.txt``; the directory is fsync'd. Until this
   rename U-Boot boots the old kernel, after it the new one, which is already durable.

Rules: a kernel with problems (bad CRC, wrong arch, FIT structure) is refused; warnings (newer
than 5.15, no ``CONFIG_MTK_COMBO_WIFI``, release unknown) need ``--yes``. Refusals raise
:class:`UserError` before anything is written.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from r2wifi.board import uenv
from r2wifi.board.archive import Member, Payload
from r2wifi.board.fileops import FileOps, RealFileOps, check_inside, makedirs, replace_file, write_file
from r2wifi.board.uimage import FDT_MAGIC, UIMAGE_MAGIC, ImageInfo, verify_file, verify_image
from r2wifi.errors import UserError
from r2wifi.wmt.firmware import KNOWN_FILES, install_path
from r2wifi.wmt.firmware import NVRAM_PATH as _NVRAM_ABS

LINUX_DIR = "bananapi/bpi-r2/linux"
HISTORY = ".r2wifi-kernels"
CHUNK = 1024 * 1024
WIFI_MAX = (5, 15)

# Files the vendor driver opens by compiled-in path (platform.md B, home: r2wifi.wmt.firmware):
# basename -> path in BPI-ROOT. The NVRAM is apart: it is never replaced once the board has one.
NVRAM_PATH = _NVRAM_ABS.lstrip("/")
FIRMWARE_PATHS = {install_path(kf).rsplit("/", 1)[-1]: install_path(kf).lstrip("/")
                  for kf in KNOWN_FILES if install_path(kf) != _NVRAM_ABS}
MODULES_TEXT_MAX = 4 * 1024 * 1024  # modules.builtin / kernel config: only the first 4 MiB are looked at


@dataclass(frozen=True)
class Card:
    """The two partitions, as mount points (or plain directories in tests)."""

    boot: Path
    root: Path | None

    @property
    def linux_dir(self) -> Path:
        return self.boot / LINUX_DIR


@dataclass
class Step:
    """One file to put on the card."""

    part: str  # "boot" or "root"
    dest: Path
    member: Member | None = None
    data: bytes | None = None
    kind: str = "file"  # file | dir | symlink
    mode: int = 0o644
    linkname: str = ""
    replaces: bool = False  # an existing, different file is backed up then replaced

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        return self.member.size if self.member else 0


@dataclass
class Plan:
    payload: Payload
    card: Card
    release: str
    image: ImageInfo
    kernel_name: str
    kernel_data: bytes | bytearray
    wifi: str  # "yes (built-in)", "yes (module)", "no", "unknown"
    modules_steps: list[Step] = field(default_factory=list)
    root_steps: list[Step] = field(default_factory=list)
    boot_steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    uenv_old: bytes | None = None
    uenv_new: bytes = b""
    previous_kernel: str = "uImage"

    @property
    def total_bytes(self) -> int:
        steps = self.modules_steps + self.root_steps + self.boot_steps
        return sum(s.size for s in steps) + len(self.kernel_data)

    def describe(self) -> list[str]:
        lines = [
            f"source:   {self.payload.source} ({self.payload.kind})",
            f"kernel:   {self.image.summary()}",
            f"release:  {self.release}   internal WiFi driver: {self.wifi}",
            f"install:  {self.card.linux_dir / self.kernel_name}",
            f"boot:     kernel={self.previous_kernel} -> kernel={self.kernel_name} in uEnv.txt",
        ]
        nmods = sum(1 for s in self.modules_steps if s.kind == "file")
        if self.card.root is not None and nmods:
            lines.append(f"modules:  {nmods} files -> {self.card.root / 'lib/modules' / self.release}")
        for s in self.root_steps + self.boot_steps:
            lines.append(f"file:     {s.dest}{' (replaces, backup kept)' if s.replaces else ''}")
        lines += [f"note:     {n}" for n in self.notes + self.payload.notes]
        lines += [f"WARNING:  {w}" for w in self.warnings]
        return lines


@dataclass
class Result:
    kernel_path: Path
    backups: list[Path] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# partitions


def mounts(sysroot: Path = Path("/")) -> list[tuple[str, Path, str]]:
    """(device, mount point, fs type) from ``/proc/mounts`` under ``sysroot``."""
    out: list[tuple[str, Path, str]] = []
    try:
        text = (sysroot / "proc/mounts").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 3:
            out.append((f[0], Path(f[1].replace("\\040", " ")), f[2]))
    return out


def device_for_label(label: str, sysroot: Path = Path("/")) -> str | None:
    link = sysroot / "dev/disk/by-label" / label
    if link.is_symlink() or link.exists():
        real = os.path.realpath(link)
        if sysroot != Path("/"):
            real = "/" + os.path.relpath(real, os.path.realpath(sysroot))
        return real
    if sysroot == Path("/") and shutil.which("blkid"):
        proc = subprocess.run(["blkid", "-L", label], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    return None


def find_partition(label: str, fstypes: Sequence[str], sysroot: Path = Path("/")) -> Path:
    dev = device_for_label(label, sysroot)
    if dev is None:
        raise UserError(f"no partition labelled {label} found; mount the SD card or give --boot/--root DIR")
    for mdev, point, fstype in mounts(sysroot):
        if mdev == dev or (sysroot == Path("/") and os.path.realpath(mdev) == dev):
            if fstype not in fstypes:
                raise UserError(f"{label} ({dev}) is {fstype}, expected {' or '.join(fstypes)}")
            return point
    raise UserError(f"{label} ({dev}) is not mounted; mount it or give its mount point")


def locate_card(boot: str | None, root: str | None, sysroot: Path = Path("/"), need_root: bool = True) -> Card:
    boot_p = Path(boot) if boot else find_partition("BPI-BOOT", ("vfat", "msdos"), sysroot)
    if not (boot_p / "bananapi").is_dir() and not (boot_p / LINUX_DIR).is_dir():
        raise UserError(f"{boot_p}: no bananapi/bpi-r2/linux directory (is it the BPI-BOOT partition?)")
    root_p: Path | None = None
    if root:
        root_p = Path(root)
    elif need_root:
        root_p = find_partition("BPI-ROOT", ("ext4", "ext3", "ext2"), sysroot)
    if root_p is not None and not root_p.is_dir():
        raise UserError(f"{root_p}: not a directory")
    return Card(boot_p, root_p)


# ---------------------------------------------------------------------------------------------
# checks


def parse_release(release: str) -> tuple[int, int] | None:
    m = re.match(r"(\d+)\.(\d+)", release)
    return (int(m.group(1)), int(m.group(2))) if m else None


def wifi_support(payload: Payload, release: str) -> tuple[str, str]:
    """Whether the kernel carries the internal WiFi driver: (verdict, why)."""
    configs = [m for m in payload.files() if re.search(r"(^|/)(config-[^/]+|\.config)$", m.path)
               and m.size < 2 * 1024 * 1024]
    configs.sort(key=lambda m: release not in m.path)
    for m in configs:
        with m.open() as fh:
            text = fh.read(MODULES_TEXT_MAX).decode("utf-8", "replace")
        hit = re.search(r"^CONFIG_MTK_COMBO_WIFI=([ym])", text, re.M)
        if hit:
            return ("yes (built-in)" if hit.group(1) == "y" else "yes (module)", f"{m.path}")
        if "CONFIG_MTK_COMBO" in text or "CONFIG_" in text:
            return ("no", f"{m.path} has no CONFIG_MTK_COMBO_WIFI")
    prefix = f"lib/modules/{release}/"
    for m in payload.files("root"):
        if m.path.startswith(prefix) and re.search(r"/wlan_gen2\.ko(\.\w+)?$", m.path):
            return ("yes (module)", m.path)
    for m in payload.files("root"):
        if m.path == prefix + "modules.builtin":
            with m.open() as fh:
                text = fh.read(MODULES_TEXT_MAX).decode("utf-8", "replace")
            if "wlan_gen2" in text or "mediatek/connectivity" in text:
                return ("yes (built-in)", m.path)
            return ("no", f"{m.path} lists no wlan_gen2 / connectivity driver and no wlan_gen2.ko is shipped")
    if any(m.path.startswith(prefix) for m in payload.files("root")):
        return ("no", f"no wlan_gen2.ko and no modules.builtin in lib/modules/{release}")
    return ("unknown", "no kernel config and no modules shipped")


def _kernel_members(payload: Payload) -> list[Member]:
    out = []
    for m in payload.files("boot"):
        if m.path.startswith(LINUX_DIR + "/") and "/" not in m.path[len(LINUX_DIR) + 1:]:
            out.append(m)
    return out


def _read_image(payload: Payload, m: Member) -> bytearray:
    """A kernel image member, read with the size bound of :attr:`Limits.max_image`."""
    try:
        return m.read(payload.limits.max_image)
    except UserError as err:
        raise UserError(f"{payload.source}: kernel image {err.message}") from None


def _is_image(m: Member) -> bool:
    if m.path.rsplit("/", 1)[-1].startswith("uImage"):
        return True
    with m.open() as fh:
        head = fh.read(4)
    return len(head) == 4 and int.from_bytes(head, "big") in (UIMAGE_MAGIC, FDT_MAGIC)


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _same_content(path: Path, member: Member | None, data: bytes | bytearray | None) -> bool:
    try:
        if path.stat().st_size != (len(data) if data is not None else (member.size if member else -1)):
            return False
    except OSError:
        return False
    if data is None:
        assert member is not None
        h = hashlib.sha256()
        with member.open() as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                h.update(chunk)
        return h.hexdigest() == _sha(path)
    return hashlib.sha256(data).hexdigest() == _sha(path)


def prepare(payload: Payload, card: Card) -> Plan:
    """Check the source against the card and decide every step; writes nothing."""
    # Only the image that boots and one _nodt variant are read (each bounded by max_image) and
    # verified; the _nodt one is dropped from memory again and streamed from the source later.
    images = [m for m in _kernel_members(payload) if _is_image(m)]
    main = [m for m in images if not m.path.endswith("_nodt")]
    nodt = [m for m in images if m.path.endswith("_nodt")]
    if not main:
        raise UserError(f"{payload.source}: no kernel image under {LINUX_DIR}/")
    for m in nodt[:1]:
        problems = verify_image(_read_image(payload, m)).problems
        if problems:
            raise UserError(f"{payload.source}: {m.path} refused: {'; '.join(problems)}")
    member = main[0]
    data = _read_image(payload, member)
    info = verify_image(data)
    if not info.ok:
        raise UserError(f"{payload.source}: kernel {member.path.rsplit('/', 1)[-1]} refused: {'; '.join(info.problems)}")

    notes: list[str] = []
    warnings: list[str] = []
    mod_releases = sorted({m.path.split("/")[2] for m in payload.members
                           if m.part == "root" and m.path.startswith("lib/modules/") and m.path.count("/") >= 3})
    name_rel = None
    base = member.path.rsplit("/", 1)[-1]
    if base.startswith("uImage_"):
        name_rel = base[len("uImage_"):]
    release: str | None = None
    if len(mod_releases) == 1:
        release = mod_releases[0]
    elif len(mod_releases) > 1:
        matching = [r for r in mod_releases if r in (info.release, name_rel)]
        if len(matching) != 1:
            raise UserError(f"{payload.source}: modules for several releases ({', '.join(mod_releases)})")
        release = matching[0]
    release = release or info.release or name_rel
    if not release or not re.fullmatch(r"[A-Za-z0-9._+\-]+", release):
        raise UserError(f"{payload.source}: cannot tell the kernel release (name the image uImage_<release>)")
    if info.release and release != info.release and not release.startswith(info.release):
        warnings.append(f"the image says release {info.release} but the modules are for {release}")
    if card.root is None and mod_releases:
        raise UserError("the source ships modules but no BPI-ROOT was found; give --root DIR")

    ver = parse_release(release)
    if ver is None:
        warnings.append(f"release {release!r} does not look like a kernel version")
    elif ver > WIFI_MAX:
        warnings.append(f"kernel {release} is newer than 5.15: no kernel after 5.15 carries the internal WiFi driver")
    wifi, why = wifi_support(payload, release)
    if wifi == "no":
        warnings.append(f"kernel {release} was built without CONFIG_MTK_COMBO_WIFI ({why}): internal WiFi cannot run")
    elif wifi == "unknown":
        warnings.append(f"cannot tell whether {release} has CONFIG_MTK_COMBO_WIFI ({why})")

    kernel_name = f"uImage_{release}"
    plan = Plan(payload, card, release, info, kernel_name, data, wifi, warnings=warnings, notes=notes)

    # BPI-BOOT: the _nodt variant and device trees; uImage itself is never overwritten.
    for m in nodt[:1]:
        plan.boot_steps.append(_file_step("boot", card.linux_dir / f"{kernel_name}_nodt", m, None, 0o755))
    for m in main[1:] + nodt[1:]:
        notes.append(f"extra image {m.path} not installed")
    image_ids = {id(m) for m in images}
    for m in payload.files("boot"):
        if id(m) in image_ids:
            continue
        rel = m.path
        if rel.startswith(LINUX_DIR + "/dtb/") and rel.endswith((".dtb", ".dtbo")):
            dest = card.boot / rel
            if dest.exists() and not _same_content(dest, m, None):
                stem, ext = os.path.splitext(dest.name)
                dest = dest.with_name(f"{stem}-{release}{ext}")
                notes.append(f"{rel} differs from the one on the card; installed as {dest.name}")
            plan.boot_steps.append(_file_step("boot", dest, m, None, 0o644))
        else:
            notes.append(f"{rel} on BPI-BOOT not installed (only kernels and device trees are)")
    plan.boot_steps = [s for s in plan.boot_steps if not _same_content(s.dest, s.member, s.data)]

    # BPI-ROOT
    if card.root is not None:
        mod_prefix = f"lib/modules/{release}"
        for m in payload.members:
            if m.part != "root":
                continue
            if m.path == mod_prefix or m.path.startswith(mod_prefix + "/"):
                plan.modules_steps.append(Step("root", card.root / m.path, m, kind=m.kind, mode=m.mode,
                                               linkname=m.linkname))
                continue
            if m.path.startswith("lib/modules/"):
                notes.append(f"{m.path} skipped (not release {release})")
                continue
            if m.kind != "file":
                if m.kind == "symlink":
                    notes.append(f"link {m.path} skipped")
                continue
            rel = m.path
            if rel.endswith("nvram/WIFI"):
                dest = card.root / NVRAM_PATH
                if dest.exists():
                    notes.append(f"{NVRAM_PATH} kept (it holds this board's MAC and the driver writes it)")
                    continue
            elif rel.rsplit("/", 1)[-1] in FIRMWARE_PATHS and rel.startswith(("etc/", "system/", "lib/firmware/")):
                target = FIRMWARE_PATHS[rel.rsplit("/", 1)[-1]]
                if target != rel:
                    notes.append(f"{rel} installed at its compiled-in path /{target}")
                dest = card.root / target
            else:
                dest = card.root / rel
            if _same_content(dest, m, None):
                continue
            plan.root_steps.append(_file_step("root", dest, m, None, m.mode))
        if not plan.modules_steps:
            notes.append(f"no modules for {release} in the source")

    # Writes must stay on the card: an absolute symlink in the card's rootfs (etc/firmware ->
    # /etc/firmware) would otherwise lead them into the machine doing the install.
    for step in plan.root_steps + plan.boot_steps + plan.modules_steps[:1]:
        part_base = card.root if step.part == "root" else card.boot
        assert part_base is not None
        check_inside(part_base, step.dest)

    # uEnv.txt
    uenv_path = card.linux_dir / "uEnv.txt"
    plan.uenv_old = uenv_path.read_bytes() if uenv_path.exists() else None
    plan.previous_kernel = uenv.effective_kernel(plan.uenv_old)
    plan.uenv_new = uenv.set_kernel(plan.uenv_old or b"", kernel_name)
    if plan.uenv_old is None:
        notes.append("no uEnv.txt on the card: one with only kernel= is created")
    else:
        override = uenv.menu_override(plan.uenv_old)
        if override and override != kernel_name:
            warnings.append(f"the default boot-menu entry in uEnv.txt sets kernel={override}, overriding kernel=")
    return plan


def _file_step(part: str, dest: Path, member: Member | None, data: bytes | None, mode: int) -> Step:
    return Step(part, dest, member, data, "file", mode, replaces=dest.exists())


# ---------------------------------------------------------------------------------------------
# execution


Progress = Callable[[int], None]
Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _default_runner(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True)


def _unique_backup(path: Path) -> Path:
    cand = path.with_name(path.name + ".bak")
    if not cand.exists():
        return cand
    stamp = time.strftime("%Y%m%d-%H%M%S")
    n = 0
    while True:
        cand = path.with_name(f"{path.name}.bak.{stamp}" + (f".{n}" if n else ""))
        if not cand.exists():
            return cand
        n += 1


def _copy_backup(ops: FileOps, path: Path) -> Path:
    dest = _unique_backup(path)
    tmp = dest.with_name(f".{dest.name}.r2wifi.tmp")
    write_file(ops, tmp, path.read_bytes(), path.stat().st_mode & 0o777)
    ops.rename(tmp, dest)
    ops.fsync_dir(dest.parent)
    return dest


def _chunks(step: Step, progress: Progress | None) -> Iterator[bytes]:
    """The step's data, one CHUNK at a time (never the whole file in memory)."""
    if step.data is not None:
        view = memoryview(step.data)
        for i in range(0, len(view), CHUNK):
            if progress:
                progress(min(CHUNK, len(view) - i))
            yield bytes(view[i:i + CHUNK])
        return
    assert step.member is not None
    with step.member.open() as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            if progress:
                progress(len(chunk))
            yield chunk


def _put_file(ops: FileOps, step: Step, result: Result, progress: Progress | None) -> None:
    makedirs(ops, step.dest.parent)
    if step.dest.exists():
        result.backups.append(_copy_backup(ops, step.dest))
    replace_file(ops, step.dest, _chunks(step, progress), step.mode)
    result.written.append(step.dest)


def _install_modules(ops: FileOps, plan: Plan, result: Result, progress: Progress | None) -> Path | None:
    assert plan.card.root is not None
    if not plan.modules_steps:
        return None
    moddir = plan.card.root / "lib/modules"
    final = moddir / plan.release
    staging = moddir / f".r2wifi-{plan.release}.new"
    makedirs(ops, moddir)
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted run; never booted from
    ops.mkdir(staging)
    dirs = [staging]
    for step in plan.modules_steps:
        rel = step.dest.relative_to(final) if step.dest != final else Path(".")
        target = staging / rel
        _only_real_dirs(staging, target if step.kind == "dir" else target.parent)
        if step.kind == "dir":
            if not target.exists():
                dirs.extend(makedirs(ops, target))
        elif step.kind == "symlink":
            dirs.extend(makedirs(ops, target.parent))
            ops.symlink(step.linkname, target)
        else:
            dirs.extend(makedirs(ops, target.parent))
            write_file(ops, target, _chunks(step, progress), step.mode)
    for d in sorted(set(dirs), key=lambda p: len(p.parts), reverse=True):
        ops.fsync_dir(d)
    if final.exists():
        aside = _unique_backup(final)
        ops.rename(final, aside)
        result.backups.append(aside)
    ops.rename(staging, final)
    ops.fsync_dir(moddir)
    result.written.append(final)
    return final


def _only_real_dirs(base: Path, path: Path) -> None:
    """Second guard behind :func:`r2wifi.board.archive.validate_tree`: every existing component of
    ``path`` below ``base`` is a real directory (never a link), so a write cannot leave ``base``."""
    probe = base
    for comp in path.relative_to(base).parts:
        probe = probe / comp
        try:
            st = probe.lstat()
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(st.st_mode):
            raise UserError(f"{probe} is not a directory (a link or file in the way); refusing to write below it")


def _depmod(ops: FileOps, plan: Plan, final: Path, run: Runner, result: Result) -> None:
    assert plan.card.root is not None
    depmod = shutil.which("depmod") or ("/sbin/depmod" if os.path.exists("/sbin/depmod") else None)
    if depmod is None:
        result.notes.append("depmod not found: run 'depmod -a' on the board after the first boot")
        return
    proc = run([depmod, "-b", str(plan.card.root), plan.release])
    if proc.returncode != 0:
        result.notes.append(f"depmod failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
        return
    for p in sorted(final.glob("modules.*")):
        fd = os.open(p, os.O_RDONLY)
        try:
            ops.fsync(fd)
        finally:
            os.close(fd)
    ops.fsync_dir(final)


def read_history(linux_dir: Path) -> list[tuple[str, str, str]]:
    """(timestamp, previous kernel, new kernel) entries, oldest first."""
    try:
        text = (linux_dir / HISTORY).read_text()
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) == 3:
            out.append((f[0], f[1], f[2]))
    return out


def _write_history(ops: FileOps, linux_dir: Path, previous: str, new: str) -> None:
    entries = read_history(linux_dir)[-50:]
    entries.append((time.strftime("%Y-%m-%dT%H:%M:%S"), previous, new))
    text = "".join(f"{t} {p} {n}\n" for t, p, n in entries)
    replace_file(ops, linux_dir / HISTORY, text.encode())


def switch_uenv(ops: FileOps, linux_dir: Path, old: bytes | None, new: bytes, result: Result) -> None:
    """Back up uEnv.txt and atomically replace it (the step that changes what boots)."""
    path = linux_dir / "uEnv.txt"
    if old is not None:
        result.backups.append(_copy_backup(ops, path))
    replace_file(ops, path, new)
    result.written.append(path)


def execute(
    plan: Plan,
    ops: FileOps | None = None,
    *,
    progress: Progress | None = None,
    run: Runner | None = None,
    depmod: bool = True,
) -> Result:
    """Carry out ``plan`` in the power-loss-safe order described in the module docstring."""
    ops = ops or RealFileOps()
    linux_dir = plan.card.linux_dir
    kernel_path = linux_dir / plan.kernel_name
    result = Result(kernel_path)
    result.notes.extend(plan.notes)

    if plan.card.root is not None:
        final = _install_modules(ops, plan, result, progress)
        if final is not None and depmod:
            _depmod(ops, plan, final, run or _default_runner, result)
        for step in plan.root_steps:
            _put_file(ops, step, result, progress)

    makedirs(ops, linux_dir)
    for step in plan.boot_steps:
        _put_file(ops, step, result, progress)

    if _same_content(kernel_path, None, plan.kernel_data):
        result.notes.append(f"{kernel_path.name} already on the card, identical")
        if progress:
            progress(len(plan.kernel_data))
    else:
        tmp = linux_dir / f".{plan.kernel_name}.r2wifi.tmp"
        data = memoryview(plan.kernel_data)
        fd = ops.create(tmp, 0o755)
        try:
            for i in range(0, len(data), CHUNK):
                ops.write(fd, bytes(data[i:i + CHUNK]))
                if progress:
                    progress(min(CHUNK, len(data) - i))
            ops.fsync(fd)
        finally:
            ops.close(fd)
        back = verify_file(tmp)
        if not back.ok or tmp.stat().st_size != len(data):
            ops.unlink(tmp)
            raise UserError(f"{tmp}: the image read back from the card does not verify ({'; '.join(back.problems)})")
        if kernel_path.exists():
            result.backups.append(_copy_backup(ops, kernel_path))
        ops.rename(tmp, kernel_path)
        ops.fsync_dir(linux_dir)
        result.written.append(kernel_path)

    if plan.previous_kernel != plan.kernel_name or plan.uenv_old is None:
        _write_history(ops, linux_dir, plan.previous_kernel, plan.kernel_name)
        switch_uenv(ops, linux_dir, plan.uenv_old, plan.uenv_new, result)
    else:
        result.notes.append(f"uEnv.txt already boots {plan.kernel_name}")
    return result


# ---------------------------------------------------------------------------------------------
# list and rollback


@dataclass
class InstalledKernel:
    name: str
    info: ImageInfo
    booted: bool
    modules: bool | None  # lib/modules/<release> present on BPI-ROOT (None: root unknown)

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "booted": self.booted, "release": self.info.release, "kind": self.info.kind,
                "size": self.info.size, "verified": self.info.ok, "problems": self.info.problems,
                "modules": self.modules}


def list_kernels(card: Card) -> tuple[list[InstalledKernel], str, list[str]]:
    """Kernels in the linux dir, which one uEnv.txt boots, and remarks."""
    linux_dir = card.linux_dir
    path = linux_dir / "uEnv.txt"
    data = path.read_bytes() if path.exists() else None
    booted = uenv.effective_kernel(data)
    remarks: list[str] = []
    if data is not None:
        override = uenv.menu_override(data)
        if override and override != booted:
            remarks.append(f"the default boot-menu entry sets kernel={override}")
    out: list[InstalledKernel] = []
    names = sorted(p.name for p in linux_dir.iterdir() if p.is_file() and p.name.startswith("uImage")
                   and ".r2wifi.tmp" not in p.name) if linux_dir.is_dir() else []
    for name in names:
        info = verify_file(linux_dir / name)
        if info.release is None and name.startswith("uImage_"):
            info.release = name[len("uImage_"):].removesuffix("_nodt")
        mods: bool | None = None
        if card.root is not None and info.release:
            mods = (card.root / "lib/modules" / info.release).is_dir()
        out.append(InstalledKernel(name, info, name == booted, mods))
    if booted not in names:
        remarks.append(f"uEnv.txt boots {booted}, which is NOT on the card: the board will not boot")
    return out, booted, remarks


def rollback_target(card: Card) -> str:
    """The kernel to go back to: the history entry that led to the current one, else uEnv.txt.bak."""
    linux_dir = card.linux_dir
    path = linux_dir / "uEnv.txt"
    current = uenv.effective_kernel(path.read_bytes() if path.exists() else None)
    for _t, prev, new in reversed(read_history(linux_dir)):
        if new == current and prev != current:
            return prev
    backups = sorted(linux_dir.glob("uEnv.txt.bak*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for b in backups:
        k = uenv.effective_kernel(b.read_bytes())
        if k != current:
            return k
    raise UserError(f"no previous kernel known for {linux_dir} (no install history, no uEnv.txt backup)")


def rollback(card: Card, ops: FileOps | None = None, target: str | None = None) -> tuple[str, str, Result]:
    """Switch ``kernel=`` back to the previous (or given) kernel, atomically. Returns (from, to, result)."""
    ops = ops or RealFileOps()
    linux_dir = card.linux_dir
    path = linux_dir / "uEnv.txt"
    old = path.read_bytes() if path.exists() else None
    current = uenv.effective_kernel(old)
    target = target or rollback_target(card)
    kpath = linux_dir / target
    if not kpath.is_file():
        raise UserError(f"cannot roll back to {target}: {kpath} does not exist")
    info = verify_file(kpath)
    if not info.ok:
        raise UserError(f"cannot roll back to {target}: {'; '.join(info.problems)}")
    result = Result(kpath)
    _write_history(ops, linux_dir, current, target)
    switch_uenv(ops, linux_dir, old, uenv.set_kernel(old or b"", target), result)
    return current, target, result
