"""Build the mac80211_hwsim guest image (test bed C of shared/spec/testbed.md), cached.

Theory of operation: the guest is three artefacts, each rebuilt only when its inputs change.

1. **Kernel** (``kernel/<abi>/``): ``apt-cache depends linux-image-amd64`` names the current ABI
   package (it drifts with Debian security updates, never hard-coded); ``apt-get download`` + ``dpkg -x``
   unpack it into the cache (never installed on the host), ``depmod -b`` indexes it. The bzImage's
   xz payload is unpacked to ``vmlinux`` for a direct PVH boot (skips decompression under TCG).
2. **Thin initramfs** (``initrd-<key>.cpio.gz``): busybox-static, the module closure the scenarios
   need (hwsim, CCMP crypto, qdiscs/classifiers/actions, 9p, virtio-console), ``/sbin/modprobe``,
   and ``init`` (tools/testbed/init). Keyed by kernel ABI + this file + init + module list.
3. **Python squashfs** (``pyrt-<key>.sqfs``): the Python runtime, the project venv and the project's
   ``r2wifi`` package; the guest bind-mounts it over the original paths (imports over 9p are slow).
   Keyed by interpreter path/version + ``pip freeze`` + this file + the r2wifi sources.

Everything else (hostapd, wpa_supplicant, iw, ip, tc, the tools/ and tests/ trees) comes from the
host's root, shared read-only over virtio-9p. Rules: no ``shell=True``; every artefact is written to
a temporary name and renamed, so an interrupted build never leaves a half file under a final name.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import lzma
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
INIT = HERE / "init"

#: modules the scenarios need; their dependency closure is resolved with modprobe --show-depends.
MODULES = [
    "mac80211_hwsim",
    "ccm", "gcm", "cmac", "ctr", "aesni_intel", "aes_generic", "ghash_generic", "gf128mul",
    "sha256_generic", "sha512_generic", "cbc", "ecb", "arc4", "michael_mic", "crypto_user",
    "sch_htb", "sch_netem", "sch_prio", "sch_tbf", "sch_ingress", "cls_u32", "cls_basic", "act_gact",
    "act_mirred", "ifb", "veth",
    "9p", "9pnet_virtio", "virtio_pci", "virtio_blk", "virtio_console", "virtio_rng",
    "squashfs", "loop", "af_packet",
    "cuse",  # /dev/cuse: `r2wifi sim start --cuse` serves the simulated driver as real /dev nodes
]
#: modules loaded at boot before anything else (the rest load on demand via /sbin/modprobe).
PRELOAD = [
    "virtio_pci", "virtio_blk", "virtio_console", "virtio_rng", "9pnet_virtio", "9p", "squashfs",
    "ccm", "gcm", "cmac", "ctr", "aesni_intel", "aes_generic", "arc4", "michael_mic",
    "sch_htb", "sch_netem", "sch_prio", "sch_tbf", "sch_ingress", "cls_u32", "cls_basic", "act_gact",
    "act_mirred", "af_packet", "cuse",
]

PY_EXCLUDE_DIRS = {"test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
                   "mypy", "mypyc", "ruff", "hypothesis", "_hypothesis_ftz_detector", "include", "share",
                   "pip", "setuptools", "pkg_resources", "pkgconfig", "config-3.11-x86_64-linux-gnu"}


@dataclass
class Image:
    """Paths of a built guest (all inside the cache dir)."""

    kver: str
    kernel: str  # vmlinux (PVH) or vmlinuz
    initrd: str
    pyrt: str
    pyroot: str  # the interpreter prefix (bind target in the guest)
    venv: str
    project: str
    build_secs: float
    rebuilt: list[str]


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    env = os.environ.get("R2WIFI_TESTBED_CACHE")
    return Path(override or env or REPO / ".cache" / "testbed")


def _run(argv: list[str], **kw: object) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return str(proc.stdout)


def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def resolve_kernel_package() -> str:
    """The ABI package that ``linux-image-amd64`` currently depends on (e.g. linux-image-6.1.0-56-amd64)."""
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            return line.split(":", 1)[1].strip().strip("<>")
    # the package lists may be missing on a fresh machine
    _run(["apt-get", "update"])
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            return line.split(":", 1)[1].strip().strip("<>")
    raise RuntimeError("apt-cache depends linux-image-amd64 names no linux-image-* package")


def extract_vmlinux(bzimage: Path, dest: Path) -> bool:
    """Unpack the xz payload of a bzImage into an ELF vmlinux (PVH-bootable). False if not xz."""
    data = bzimage.read_bytes()
    pos = data.find(b"\xfd7zXZ\x00")
    while pos >= 0:
        try:
            dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
            out = dec.decompress(data[pos:])
            if out[:4] == b"\x7fELF":
                tmp = dest.with_suffix(".tmp")
                tmp.write_bytes(out)
                tmp.replace(dest)
                return True
        except lzma.LZMAError:
            pass
        pos = data.find(b"\xfd7zXZ\x00", pos + 1)
    return False


def build_kernel(cache: Path, rebuilt: list[str]) -> tuple[str, Path]:
    pkg = resolve_kernel_package()
    kver = pkg.removeprefix("linux-image-")
    kdir = cache / "kernel" / kver
    done = kdir / ".done"
    if not done.exists():
        rebuilt.append("kernel")
        if kdir.exists():
            shutil.rmtree(kdir)
        kdir.mkdir(parents=True)
        dl = kdir / "dl"
        dl.mkdir()
        try:
            _run(["apt-get", "download", pkg], cwd=dl)
        except RuntimeError:
            _run(["apt-get", "update"])
            _run(["apt-get", "download", pkg], cwd=dl)
        debs = sorted(dl.glob("*.deb"))
        if not debs:
            raise RuntimeError(f"apt-get download {pkg} produced no .deb")
        _run(["dpkg", "-x", str(debs[0]), str(kdir / "root")])
        _run(["depmod", "-b", str(kdir / "root"), kver])
        vmlinuz = kdir / "root" / "boot" / f"vmlinuz-{kver}"
        if not extract_vmlinux(vmlinuz, kdir / "vmlinux"):
            shutil.copy2(vmlinuz, kdir / "vmlinuz")
        for deb in debs:
            deb.unlink()
        done.write_text(pkg + "\n")
    return kver, kdir


def fetch_regdb(cache: Path, rebuilt: list[str]) -> Path | None:
    """regulatory.db + .p7s from Debian's wireless-regdb (so ``country_code`` works in the guest)."""
    rdir = cache / "regdb"
    if (rdir / "regulatory.db").exists():
        return rdir
    rebuilt.append("regdb")
    tmp = cache / "regdb.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        _run(["apt-get", "download", "wireless-regdb"], cwd=tmp)
        debs = sorted(tmp.glob("*.deb"))
        _run(["dpkg", "-x", str(debs[0]), str(tmp / "x")])
    except (RuntimeError, IndexError):
        shutil.rmtree(tmp)
        return None  # the guest then runs with the world regulatory domain only
    fw = tmp / "x" / "lib" / "firmware"
    for name in ("regulatory.db", "regulatory.db.p7s"):
        src = fw / f"{name}-debian" if (fw / f"{name}-debian").exists() else fw / name
        shutil.copy2(src, tmp / name)
    for junk in [*tmp.glob("*.deb"), tmp / "x"]:
        shutil.rmtree(junk) if junk.is_dir() else junk.unlink()
    if rdir.exists():
        shutil.rmtree(rdir)
    tmp.rename(rdir)
    return rdir


def module_closure(kroot: Path, kver: str) -> list[Path]:
    """Absolute paths of the .ko files MODULES needs (skipping built-ins and unknown names)."""
    paths: list[Path] = []
    for name in MODULES:
        proc = subprocess.run(
            ["modprobe", "-d", str(kroot), "-S", kver, "--show-depends", name],
            capture_output=True, text=True, check=False,
        )
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "insmod":
                p = Path(parts[1])
                if p not in paths:
                    paths.append(p)
    return paths


def _add_cpio_tree(root: Path) -> bytes:
    """A newc cpio archive of ``root`` (via the cpio tool: it keeps modes and symlinks)."""
    files = [".", *sorted(str(p.relative_to(root)) for p in root.rglob("*"))]
    proc = subprocess.run(
        ["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"],
        input="\n".join(files).encode(), capture_output=True, cwd=root, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cpio failed: {proc.stderr.decode()[-400:]}")
    return proc.stdout


def build_initrd(cache: Path, kver: str, kdir: Path, rebuilt: list[str]) -> Path:
    regdb = fetch_regdb(cache, rebuilt)
    key = _sha(kver, Path(__file__).read_bytes(), INIT.read_bytes(), " ".join(MODULES), " ".join(PRELOAD),
               (regdb / "regulatory.db").read_bytes() if regdb else b"")
    out = cache / f"initrd-{key}.cpio.gz"
    if out.exists():
        return out
    rebuilt.append("initrd")
    stage = cache / f"stage-initrd-{key}"
    if stage.exists():
        shutil.rmtree(stage)
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "mnt/host", "mnt/pyrt", "etc"):
        (stage / d).mkdir(parents=True, exist_ok=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy2(busybox, stage / "bin" / "busybox")
    for applet in ("sh", "mount", "umount", "mkdir", "modprobe", "insmod", "cat", "echo", "ls", "chroot",
                   "poweroff", "sleep", "ln", "mknod", "switch_root", "grep", "sed", "dmesg", "tr"):
        (stage / "bin" / applet).symlink_to("busybox")
    (stage / "sbin" / "modprobe").symlink_to("/bin/busybox")
    kroot = kdir / "root"
    mods = module_closure(kroot, kver)
    if not any(p.name.startswith("mac80211_hwsim") for p in mods):
        raise RuntimeError("module closure lacks mac80211_hwsim (modprobe --show-depends failed)")
    for p in mods:
        rel = p.relative_to(kroot)
        dst = stage / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, dst)
    for f in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        src = kroot / "lib" / "modules" / kver / f
        if src.exists():
            shutil.copy2(src, stage / "lib" / "modules" / kver / f)
    _run(["depmod", "-b", str(stage), kver])
    if regdb:
        (stage / "lib" / "firmware").mkdir(parents=True, exist_ok=True)
        for name in ("regulatory.db", "regulatory.db.p7s"):
            shutil.copy2(regdb / name, stage / "lib" / "firmware" / name)
    shutil.copy2(INIT, stage / "init")
    (stage / "init").chmod(0o755)
    (stage / "etc" / "tb-preload").write_text("\n".join(PRELOAD) + "\n")
    data = gzip.compress(_add_cpio_tree(stage), compresslevel=6)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    shutil.rmtree(stage)
    for old in cache.glob("initrd-*.cpio.gz"):
        if old != out:
            old.unlink()
    return out


def _pyroot() -> Path:
    """The interpreter prefix the venv is based on."""
    return Path(sys.base_prefix).resolve()


def _venv() -> Path:
    return REPO / ".venv"


def _project_hash() -> str:
    h = hashlib.sha256()
    for p in sorted((REPO / "r2wifi").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(REPO)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _copy_tree(src: Path, dst: Path, skip: tuple[Path, ...] = ()) -> None:
    def ignore(d: str, names: list[str]) -> set[str]:
        return {n for n in names if n in PY_EXCLUDE_DIRS or n.endswith(".a")
                or (n.endswith(".so") and "mypyc" in n) or Path(d, n) in skip}

    def link_or_copy(s: str, d: str) -> object:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
        return d

    shutil.copytree(src, dst, symlinks=True, ignore=ignore, copy_function=link_or_copy)


def build_pyrt(cache: Path, rebuilt: list[str]) -> Path:
    venv = _venv()
    py = venv / "bin" / "python"
    freeze = _run([str(py), "-m", "pip", "freeze", "--exclude-editable"]) if py.exists() else ""
    key = _sha(str(_pyroot()), sys.version, freeze, Path(__file__).read_bytes(), _project_hash())
    out = cache / f"pyrt-{key}.sqfs"
    if out.exists():
        return out
    rebuilt.append("pyrt")
    stage = cache / f"stage-pyrt-{key}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    # the venv does not see the interpreter's own site-packages (include-system-site-packages = false)
    _copy_tree(_pyroot(), stage / "pyroot", skip=(_pyroot() / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages",))
    _copy_tree(venv, stage / "venv")
    # compile the project so the guest never writes .pyc (the squashfs is read-only)
    _copy_tree(REPO / "r2wifi", stage / "r2wifi")
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "2", str(stage / "r2wifi")],
                   check=False, capture_output=True)
    tmp = out.with_suffix(".tmp")
    if tmp.exists():
        tmp.unlink()
    _run(["mksquashfs", str(stage), str(tmp), "-comp", "lz4", "-noappend", "-quiet", "-no-progress",
          "-processors", "2"])
    tmp.replace(out)
    shutil.rmtree(stage)
    for old in cache.glob("pyrt-*.sqfs"):
        if old != out:
            old.unlink()
    return out


def build(cache: str | os.PathLike[str] | None = None) -> Image:
    """Build (or reuse) every artefact; returns their paths. Raises RuntimeError on failure."""
    t0 = time.monotonic()
    c = cache_dir(cache)
    c.mkdir(parents=True, exist_ok=True)
    rebuilt: list[str] = []
    kver, kdir = build_kernel(c, rebuilt)
    initrd = build_initrd(c, kver, kdir, rebuilt)
    pyrt = build_pyrt(c, rebuilt)
    kernel = kdir / "vmlinux" if (kdir / "vmlinux").exists() else kdir / "vmlinuz"
    img = Image(kver=kver, kernel=str(kernel), initrd=str(initrd), pyrt=str(pyrt), pyroot=str(_pyroot()),
                venv=str(_venv()), project=str(REPO / "r2wifi"), build_secs=time.monotonic() - t0,
                rebuilt=rebuilt)
    (c / "image.json").write_text(json.dumps(asdict(img), indent=1) + "\n")
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--cache", help="cache directory (default $R2WIFI_TESTBED_CACHE or <repo>/.cache/testbed)")
    ns = ap.parse_args(argv)
    img = build(ns.cache)
    print(json.dumps(asdict(img), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
