"""``r2wifi firmware install SRC``: the MT6625L firmware set to the driver's compiled-in paths, atomically.

Theory of operation:

* **Reading** goes through :func:`r2wifi.board.archive.open_package`, the same code that reads
  kernel sources: a directory, a tarball (frank-w ``BPI-ROOT/`` layout, abbradar/wmt layout or a
  flat one), a .deb, or an OpenWrt .ipk (ar or tar.gz). Hostile archives are refused there, before
  anything is written; links in a package are never followed nor created.
* **Selection**: the file set and the paths the kernel and launcher open are
  :data:`r2wifi.wmt.firmware.KNOWN_FILES` (the one home of that list). Each file is looked for at
  its compiled-in path inside the source, then at any ``.../<that path>``, then by base name
  (``nvram/WIFI`` by its last two components); two different candidates at the same level are
  refused as ambiguous. All files but the NVRAM are required.
* **Checks**: the vendor size is required (WMT_SOC.cfg, a text file users edit, at most 64 KiB);
  a sha256 that does not start with the known vendor prefix is refused unless ``allow_unknown``;
  in every case the patch headers are checked as a set with
  :func:`r2wifi.wmt.firmware.check_patches` (platform, ROM version, count and sequence) and
  WMT_SOC.cfg with :func:`r2wifi.wmt.wmtcfg.check_file`. The prefixes are 32 bits: they tell a
  corrupt or different build from the vendor's, they are not a signature.
* **NVRAM**: ``/etc/firmware/nvram/WIFI`` holds the board's MAC and calibration, and the driver
  writes it: it is installed only where none exists, never replaced.
* **Atomic switch** (a redo journal): every new file is written to ``.<name>.r2wifi-new`` beside
  its target and fsync'd; each replaced file is copied (fsync'd) into
  ``/etc/firmware/.r2wifi-backup/<stamp>/<its path>``; then the journal
  ``/etc/firmware/.r2wifi-fwinstall.journal`` listing the renames is written atomically: that is
  the commit point. The renames follow, the directories are fsync'd, the journal is removed.
  A failure before the commit point removes the new files (old set untouched); a failure during
  the renames puts the old files back from the backup (old set); after a crash, :func:`recover`
  (run first by every ``firmware install``) redoes the journal's renames (new set). Backups and
  staged names start with a dot, so the launcher's ``ROMv2_lm_patch*`` scan never sees them.

Every file operation goes through :class:`r2wifi.board.fileops.FileOps`, so tests cut the power
at each one. Refusals are :class:`r2wifi.errors.UserError`, one line, with nothing written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from r2wifi.board.archive import Limits, Member, Part, Payload, open_package, skip_links
from r2wifi.board.fileops import FileOps, RealFileOps, check_inside, makedirs, replace_file, write_file
from r2wifi.errors import UserError
from r2wifi.wmt import firmware as fw

JOURNAL = ".r2wifi-fwinstall.journal"
BACKUP_DIR = ".r2wifi-backup"
STAGED = ".{name}.r2wifi-new"
CFG_MAX = 64 * 1024
NVRAM_NAME = "nvram/WIFI"


@dataclass
class FwFile:
    """One file of the set: where it comes from, where it goes, what was found out."""

    name: str  # KnownFile.name
    dest: str  # path under the root, no leading slash
    source: str  # member path in the source
    data: bytes
    vendor: bool  # sha256 matches the vendor prefix
    action: str = "install"  # install | unchanged | kept


@dataclass
class FwPlan:
    root: Path
    source: str
    files: list[FwFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = [f"source:   {self.source}"]
        for f in self.files:
            origin = "vendor file" if f.vendor else "NOT the vendor file (allowed by --allow-unknown)"
            if f.action == "kept":
                lines.append(f"kept      /{f.dest} (this board's own: MAC and calibration; never replaced)")
                continue
            lines.append(f"{f.action:<10}/{f.dest}  <- {f.source} ({len(f.data)} bytes, {origin})")
        lines += [f"note:     {n}" for n in self.notes]
        return lines


@dataclass
class FwResult:
    installed: list[str] = field(default_factory=list)
    backup_dir: Path | None = None


def _mapper(name: str) -> tuple[Part, str] | None:
    top, _, rest = name.partition("/")
    if top == "BPI-BOOT":
        return None
    if top == "BPI-ROOT":
        return ("root", rest)
    return ("root", name)


def _dest(kf: fw.KnownFile) -> str:
    return fw.install_path(kf).lstrip("/")


def _candidates(payload: Payload, kf: fw.KnownFile) -> list[Member]:
    rel = _dest(kf)
    files = list(payload.files())
    for level in (
        [m for m in files if m.path == rel],
        [m for m in files if m.path.endswith("/" + rel)],
        [m for m in files if m.path == kf.name or m.path.endswith("/" + kf.name)],
    ):
        if level:
            return level
    return []


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pick(payload: Payload, kf: fw.KnownFile, limit: int) -> tuple[Member, bytes] | None:
    cands = _candidates(payload, kf)
    if not cands:
        return None
    src = payload.source
    if kf.name != "WMT_SOC.cfg" and any(m.size != kf.size for m in cands):
        bad = next(m for m in cands if m.size != kf.size)
        raise UserError(f"{src}: {bad.path} is {bad.size} bytes, the vendor {kf.name} is {kf.size} bytes; refused")
    read = [(m, bytes(m.read(limit))) for m in cands]
    if len({_sha(d) for _m, d in read}) > 1:
        raise UserError(f"{src}: several different {kf.name} ({', '.join(m.path for m in cands)}); refused as ambiguous")
    return read[0]


def _check_headers(files: list[FwFile], source: str) -> None:
    """The existing firmware module's checks, run on a private copy of the candidate files."""
    from r2wifi.wmt.wmtcfg import check_file

    with tempfile.TemporaryDirectory(prefix="r2wifi-fw-") as tmp:
        pdir = Path(tmp) / "patches"
        pdir.mkdir()
        for f in files:
            if f.name.endswith("_hdr.bin"):
                (pdir / f.name).write_bytes(f.data)
            elif f.name == "WMT_SOC.cfg":
                (Path(tmp) / f.name).write_bytes(f.data)
        problems = [p for p in fw.check_patches(pdir, display_dir="patches").findings if p.level == "error"]
        cfg = Path(tmp) / "WMT_SOC.cfg"
        if cfg.exists():
            problems += [p for p in check_file(cfg, "WMT_SOC.cfg") if p.level == "error"]
    if problems:
        p = problems[0]
        raise UserError(f"{source}: {p.path.removeprefix('patches/')}: {p.message}; refused")


def _existing_regular(root: Path, dest: str) -> bytes | None:
    """The current content at ``dest`` (None if absent); refuses anything but a regular file inside root."""
    path = root / dest
    check_inside(root, path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"/{dest} exists and is not a regular file; refused")
    return path.read_bytes()


def plan_install(src: Path, root: Path, *, allow_unknown: bool = False, limits: Limits | None = None) -> FwPlan:
    """Read and check everything; returns the plan without writing a byte. Raises UserError."""
    payload = open_package(src, limits or Limits(max_file=16 * 1024 * 1024, max_total=512 * 1024 * 1024),
                           _mapper, skip_links)
    try:
        plan = FwPlan(root, str(src))
        missing: list[str] = []
        for kf in fw.KNOWN_FILES:
            picked = _pick(payload, kf, CFG_MAX if kf.name == "WMT_SOC.cfg" else kf.size)
            dest = _dest(kf)
            if picked is None:
                if kf.name == NVRAM_NAME:
                    if not (root / dest).exists():
                        plan.notes.append(f"no {kf.name} in the source and none at /{dest}: the driver needs one "
                                          "(copy the vendor file there)")
                    continue
                missing.append(kf.name)
                continue
            member, data = picked
            vendor = _sha(data).startswith(kf.sha256_prefix) and len(data) == kf.size
            if not vendor and not allow_unknown:
                raise UserError(f"{src}: {member.path} has sha256 {_sha(data)[:8]}..., not the vendor {kf.name} "
                                f"({kf.sha256_prefix}...); refused (--allow-unknown installs it when size and "
                                "headers check out)")
            if member.path != dest:
                plan.notes.append(f"{member.path} goes to its compiled-in path /{dest}")
            plan.files.append(FwFile(kf.name, dest, member.path, data, vendor))
        if missing:
            raise UserError(f"{src}: missing from the source: {', '.join(missing)}")
        plan.notes += [n for n in payload.notes]
    finally:
        payload.close()
    _check_headers(plan.files, str(src))
    for f in plan.files:
        current = _existing_regular(root, f.dest)
        if current is not None and f.name == NVRAM_NAME:
            f.action = "kept"
        elif current is not None and current == f.data:
            f.action = "unchanged"
    return plan


def _journal_path(root: Path) -> Path:
    return root / fw.DEFAULT_PATCH_DIR.lstrip("/") / JOURNAL


def _staged(dest: Path) -> Path:
    return dest.with_name(STAGED.format(name=dest.name))


def _staged_journal(journal: Path) -> Path:
    """The temp name :func:`r2wifi.board.fileops.replace_file` writes the journal under."""
    return journal.with_name(f".{journal.name}.r2wifi.tmp")


def _remove(ops: FileOps, path: Path) -> None:
    """Best-effort removal through ``ops`` (a failing ``ops`` is a power cut: stop there)."""
    if os.path.lexists(path):
        ops.unlink(path)


def execute_install(plan: FwPlan, ops: FileOps | None = None, *, stamp: str | None = None) -> FwResult:
    """Carry out ``plan`` as the module docstring says: old set or new set, whatever happens."""
    ops = ops or RealFileOps()
    root = plan.root
    todo = [f for f in plan.files if f.action == "install"]
    result = FwResult()
    if not todo:
        return result
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    journal = _journal_path(root)
    backup_root = journal.parent / BACKUP_DIR / stamp
    n = 0
    while backup_root.exists():
        n += 1
        backup_root = journal.parent / BACKUP_DIR / f"{stamp}.{n}"
    renames: list[tuple[Path, Path, Path | None]] = []  # staged, dest, backup
    dirs: set[Path] = set()
    try:
        makedirs(ops, journal.parent)
        for f in todo:
            dest = root / f.dest
            makedirs(ops, dest.parent)
            dirs.add(dest.parent)
            tmp = _staged(dest)
            _remove(ops, tmp)
            renames.append((tmp, dest, None))
            write_file(ops, tmp, f.data, 0o644)
        for i, (tmp, dest, _b) in enumerate(renames):
            if dest.exists():
                backup = backup_root / dest.relative_to(root)
                makedirs(ops, backup.parent)
                write_file(ops, backup, dest.read_bytes(), dest.stat().st_mode & 0o777)
                renames[i] = (tmp, dest, backup)
                dirs.add(backup.parent)
        for d in sorted(dirs):
            ops.fsync_dir(d)
        record = {"version": 1, "backup": str(backup_root.relative_to(root)),
                  "renames": [[str(t.relative_to(root)), str(d.relative_to(root))] for t, d, _b in renames]}
        replace_file(ops, journal, json.dumps(record, indent=1).encode())  # the commit point
    except BaseException:
        # Before (or at) the commit point: the old set was never touched; drop what was made.
        for tmp in [t for t, _d, _b in renames] + [_staged_journal(journal), journal]:
            _remove(ops, tmp)
        _drop_backup(backup_root)
        raise
    done: list[tuple[Path, Path, Path | None]] = []
    try:
        for entry in renames:
            ops.rename(entry[0], entry[1])
            done.append(entry)
        for d in sorted({d.parent for _t, d, _b in renames}):
            ops.fsync_dir(d)
    except BaseException:
        _roll_back(ops, root, renames, done, journal, backup_root)
        raise
    try:
        ops.unlink(journal)
        ops.fsync_dir(journal.parent)
    except OSError:
        pass  # the new set is in place; the next install's recover() removes the journal
    result.installed = [f.dest for f in todo]
    result.backup_dir = backup_root if any(b for _t, _d, b in renames) else None
    if result.backup_dir is None:
        _drop_backup(backup_root)
    return result


def _roll_back(ops: FileOps, root: Path, renames: list[tuple[Path, Path, Path | None]],
               done: list[tuple[Path, Path, Path | None]], journal: Path, backup_root: Path) -> None:
    """A failure during the renames (not a crash): put every old file back, drop the journal."""
    for _tmp, dest, backup in reversed(done):
        if backup is not None:
            replace_file(ops, dest, backup.read_bytes(), backup.stat().st_mode & 0o777)
        else:
            ops.unlink(dest)
            ops.fsync_dir(dest.parent)
    for tmp, _dest, _b in renames:
        _remove(ops, tmp)
    ops.unlink(journal)
    ops.fsync_dir(journal.parent)
    _drop_backup(backup_root)


def _drop_backup(backup_root: Path) -> None:
    """Remove this run's backup directory (and the backup area if that leaves it empty)."""
    shutil.rmtree(backup_root, ignore_errors=True)
    try:
        backup_root.parent.rmdir()
    except OSError:
        pass


def pending_journal(root: Path) -> Path | None:
    """The journal of an install a crash interrupted after its commit point (None when there is none)."""
    journal = _journal_path(root)
    return journal if os.path.lexists(journal) else None


def recover(root: Path, ops: FileOps | None = None) -> list[str]:
    """Finish an install a crash interrupted after its commit point (redo the journal). Returns what was done."""
    ops = ops or RealFileOps()
    journal = _journal_path(root)
    if not journal.exists():
        for kf in fw.KNOWN_FILES:  # debris of an install interrupted before its commit point
            debris = _staged(root / _dest(kf))
            if debris.is_file() and not debris.is_symlink():
                ops.unlink(debris)
        _remove(ops, _staged_journal(journal))
        return []
    try:
        record = json.loads(journal.read_bytes()[:65536])
        pairs = [(str(t), str(d)) for t, d in record["renames"]]
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"{journal}: unreadable install journal ({err}); move it away to continue") from None
    allowed = {_dest(kf) for kf in fw.KNOWN_FILES}
    done = []
    for t, d in pairs:
        if d not in allowed or t != str(Path(d).with_name(STAGED.format(name=Path(d).name))):
            raise UserError(f"{journal}: unexpected entry {d!r}; move it away to continue")
        tmp, dest = root / t, root / d
        check_inside(root, dest)
        if tmp.is_file() and not tmp.is_symlink():
            ops.rename(tmp, dest)
            done.append(d)
    for parent in sorted({(root / d).parent for _t, d in pairs}):
        ops.fsync_dir(parent)
    ops.unlink(journal)
    ops.fsync_dir(journal.parent)
    return [f"finished an interrupted firmware install: /{d}" for d in done] or [
        "removed the journal of an interrupted firmware install (its files were already in place)"]
