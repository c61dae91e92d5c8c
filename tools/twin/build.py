"""Build the board twin (test bed D of shared/spec/testbed.md §8): a 32-bit ARM guest, cached.

Theory of operation: the twin is four artefacts under ``<cache>`` (``<repo>/.cache/twin`` or
``$R2WIFI_TWIN_CACHE``), each rebuilt only when its inputs change.

1. **Private apt** (``apt/``): ``APT::Architecture "armhf"``, own sources/lists/cache and an **empty
   dpkg status file**, so nothing on the host's dpkg is read or touched. ``apt-get update`` runs when
   the lists are missing or older than a day; a failed index (the armhf security index is sometimes
   stale, "Mirror sync in progress?") is tolerated and noted in ``image.json``.
2. **Kernel** (``kernel/<abi>/``): ``apt-cache depends linux-image-armmp`` names the ABI package (it
   drifts, never hard-coded); ``apt-get download`` + ``dpkg -x`` + ``depmod -b``. Booted as the zImage.
3. **Root squashfs** (``rootfs-<key>.sqfs``): ``apt-get -s install`` of :data:`PACKAGES` against the
   empty status gives the closure (name, version, arch); every .deb is fetched once into ``debs/``
   and ``dpkg -x``-ed (packages only maintainer scripts need, :data:`SKIP`, are left out); fix-ups
   replace what maintainer scripts would have done (``/bin/sh`` -> dash, passwd/group, the regdb
   alternative, ``.pyc`` compiled on the host: the same 3.11 magic on every architecture). Keyed by
   the closure + this file.
4. **r2wifi layer** (``r2wifi-<key>.sqfs``): the project's own wheel (``pip wheel --no-deps .``), its
   files unpacked into ``/usr/lib/python3/dist-packages`` + a ``/usr/bin/r2wifi`` entry script;
   Debian's python3-pyroute2/-rich/-segno are the dependencies (no pip in the guest). Keyed by the
   r2wifi sources + pyproject.toml. A source edit rebuilds only this small layer.
5. **Initramfs** (``initrd-<key>.cpio.gz``): armhf busybox-static (from the closure), the module
   closure of :data:`MODULES`, the regulatory database and ``init`` (tools/twin/init).

The guest mounts the root squashfs under the r2wifi layer with a tmpfs upper (overlayfs).
Rules: no ``shell=True``; artefacts are written to a temporary name and renamed; nothing is
installed on the host.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

from testbed.build import _add_cpio_tree, _run, _sha  # noqa: E402  (one copy of the shared helpers)

INIT = HERE / "init"
ARCH = "armhf"
KERNEL_META = "linux-image-armmp"
MIRRORS = [
    ("http://deb.debian.org/debian", "bookworm"),
    ("http://deb.debian.org/debian", "bookworm-updates"),
    ("http://deb.debian.org/debian-security", "bookworm-security"),
]
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

#: what the guest userland needs (the closure is resolved by apt).
PACKAGES = [
    "python3", "python3-pyroute2", "python3-rich", "python3-segno",
    "hostapd", "wpasupplicant", "iw", "iproute2", "dnsmasq-base", "kmod", "busybox-static", "dash",
    "procps", "wireless-regdb", "nftables", "iputils-ping", "coreutils", "util-linux", "grep", "sed",
]
#: packages only maintainer scripts need: never unpacked.
SKIP = {
    "perl", "perl-base", "perl-modules-5.36", "libperl5.36", "dpkg", "debconf", "adduser", "passwd",
    "libpam0g", "libpam-modules", "libpam-modules-bin", "usrmerge", "init-system-helpers",
    "libfile-find-rule-perl", "libnumber-compare-perl", "libtext-glob-perl", "libsemanage2",
    "libsemanage-common", "libsepol2", "libdb5.3", "libgdbm6", "libgdbm-compat4",
}
#: kernel modules the twin needs; their dependency closure goes into the initramfs.
MODULES = [
    "mac80211_hwsim", "cuse", "fuse",
    "ccm", "gcm", "cmac", "ctr", "aes_generic", "aes_arm", "ghash_generic", "gf128mul", "sha256_generic",
    "cbc", "ecb", "arc4", "libarc4", "michael_mic",
    "sch_htb", "sch_netem", "sch_prio", "sch_tbf", "sch_ingress", "cls_u32", "cls_basic", "act_gact",
    "act_mirred", "ifb", "veth",
    "9p", "9pnet_virtio", "virtio_mmio", "virtio_blk", "virtio_console", "virtio_rng",
    "squashfs", "overlay", "af_packet",
]
#: loaded by init before anything else (the rest on demand via /sbin/modprobe).
PRELOAD = [
    "virtio_mmio", "virtio_blk", "virtio_console", "virtio_rng", "9pnet_virtio", "9p", "squashfs", "overlay",
    "ccm", "gcm", "cmac", "ctr", "aes_generic", "aes_arm", "arc4", "michael_mic",
    "sch_htb", "sch_netem", "sch_prio", "sch_tbf", "sch_ingress", "cls_u32", "cls_basic", "act_gact",
    "act_mirred", "af_packet", "fuse", "cuse",
]


@dataclass
class TwinImage:
    """Paths and facts of a built twin (all paths inside the cache dir)."""

    kver: str
    kernel_package: str
    kernel: str
    initrd: str
    rootfs: str
    r2wifi: str
    packages: int
    index_warnings: list[str]
    build_secs: float
    rebuilt: list[str] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    env = os.environ.get("R2WIFI_TWIN_CACHE")
    return Path(override or env or REPO / ".cache" / "twin")


# -- private apt ------------------------------------------------------------------------------------
class Apt:
    """apt-get / apt-cache with a private armhf configuration (the host's dpkg is never read)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for d in ("lists/partial", "cache/archives/partial", "etc/parts", "etc/prefs"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "status").touch()
        lines = [f"deb [arch={ARCH} signed-by={KEYRING}] {url} {suite} main" for url, suite in MIRRORS]
        src = root / "etc" / "sources.list"
        if not src.exists() or src.read_text() != "\n".join(lines) + "\n":
            src.write_text("\n".join(lines) + "\n")
        self.opts = [
            "-o", f"APT::Architecture={ARCH}", "-o", f"APT::Architectures::={ARCH}",
            "-o", f"Dir::Etc::SourceList={src}", "-o", f"Dir::Etc::SourceParts={root / 'etc' / 'parts'}",
            "-o", f"Dir::Etc::Preferences={root / 'etc' / 'preferences'}",
            "-o", f"Dir::Etc::PreferencesParts={root / 'etc' / 'prefs'}",
            "-o", f"Dir::State::Lists={root / 'lists'}", "-o", f"Dir::State::status={root / 'status'}",
            "-o", f"Dir::Cache={root / 'cache'}", "-o", "Debug::NoLocking=1", "-o", "Acquire::Languages=none",
            "-o", "APT::Install-Recommends=false",
        ]
        self.warnings: list[str] = []

    def update(self, max_age_s: float = 86400) -> None:
        stamp = self.root / "lists" / ".updated"
        if stamp.exists() and time.time() - stamp.stat().st_mtime < max_age_s:
            return
        proc = subprocess.run(["apt-get", *self.opts, "-q", "update"], capture_output=True, text=True, check=False)
        # a stale index (mirror sync) is an error line but the other indexes are usable: note it, go on
        self.warnings = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines()
                         if ln.startswith(("E:", "W:", "Err:")) and "DirectoryExists" not in ln][:6]
        if not any((self.root / "lists").glob("*_Packages*")):
            raise RuntimeError(f"apt-get update ({ARCH}) gave no package index: {' | '.join(self.warnings)}")
        stamp.touch()
        (self.root / "warnings.json").write_text(json.dumps(self.warnings) + "\n")

    def last_warnings(self) -> list[str]:
        p = self.root / "warnings.json"
        return list(json.loads(p.read_text())) if p.exists() else []

    def depends(self, pkg: str) -> list[str]:
        out = _run(["apt-cache", *self.opts, "depends", pkg])
        return [ln.split(":", 1)[1].strip().strip("<>") for ln in out.splitlines() if ln.strip().startswith("Depends:")]

    def closure(self, pkgs: list[str]) -> list[tuple[str, str, str]]:
        """(name, version, arch) of everything ``apt-get install pkgs`` would unpack on an empty system."""
        out = _run(["apt-get", *self.opts, "-s", "-q", "install", *pkgs])
        found = []
        for line in out.splitlines():
            m = re.match(r"Inst (\S+) \((\S+) .*\[(\S+)\]\)", line)
            if m:
                found.append((m.group(1), m.group(2), m.group(3)))
        if not found:
            raise RuntimeError(f"apt-get -s install found no packages:\n{out[-800:]}")
        return found

    def download(self, specs: list[str], dest: Path) -> None:
        if specs:
            _run(["apt-get", *self.opts, "-q", "download", *specs], cwd=dest)


def deb_name(name: str, version: str, arch: str) -> str:
    return f"{name}_{version.replace(':', '%3a')}_{arch}.deb"


def fetch_debs(apt: Apt, cache: Path, closure: list[tuple[str, str, str]]) -> dict[str, Path]:
    debs = cache / "debs"
    debs.mkdir(exist_ok=True)
    missing = [f"{n}={v}" for n, v, a in closure if not (debs / deb_name(n, v, a)).exists()]
    apt.download(missing, debs)
    paths = {n: debs / deb_name(n, v, a) for n, v, a in closure}
    absent = [str(p.name) for p in paths.values() if not p.exists()]
    if absent:
        raise RuntimeError(f"apt-get download left out: {absent[:5]}")
    return paths


# -- kernel -----------------------------------------------------------------------------------------
def build_kernel(apt: Apt, cache: Path, rebuilt: list[str]) -> tuple[str, str, Path]:
    deps = [d for d in apt.depends(KERNEL_META) if d.startswith("linux-image-")]
    if not deps:
        raise RuntimeError(f"apt-cache depends {KERNEL_META} names no linux-image-* package")
    pkg = deps[0]
    kver = pkg.removeprefix("linux-image-")
    kdir = cache / "kernel" / kver
    if not (kdir / ".done").exists():
        rebuilt.append("kernel")
        shutil.rmtree(kdir, ignore_errors=True)
        (kdir / "dl").mkdir(parents=True)
        apt.download([pkg], kdir / "dl")
        debs = sorted((kdir / "dl").glob("*.deb"))
        if not debs:
            raise RuntimeError(f"apt-get download {pkg} produced no .deb")
        _run(["dpkg", "-x", str(debs[0]), str(kdir / "root")])
        _run(["depmod", "-b", str(kdir / "root"), kver])
        shutil.rmtree(kdir / "dl")
        (kdir / ".done").write_text(pkg + "\n")
    return pkg, kver, kdir


def module_closure(kroot: Path, kver: str, names: list[str]) -> list[Path]:
    """The .ko files ``names`` need (modprobe --show-depends; built-ins and unknown names give none)."""
    paths: list[Path] = []
    for name in names:
        proc = subprocess.run(["modprobe", "-d", str(kroot), "-S", kver, "--show-depends", name],
                              capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "insmod" and Path(parts[1]) not in paths:
                paths.append(Path(parts[1]))
    return paths


# -- root filesystem --------------------------------------------------------------------------------
def _fixups(root: Path) -> None:
    """What the skipped maintainer scripts would have done."""
    for d in ("bin", "sbin", "etc", "tmp", "run", "proc", "sys", "dev", "root", "var/lib/misc", "var/run",
              "lib/modules", "lib/firmware", "mnt"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    sh = root / "bin" / "sh"
    if sh.is_symlink() or sh.exists():
        sh.unlink()
    sh.symlink_to("dash")  # busybox's shell would run its own `ip`
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                         "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                                         "dnsmasq:x:100:65534:dnsmasq:/var/lib/misc:/usr/sbin/nologin\n")
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (root / "etc" / "hostname").write_text("r2twin\n")
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost r2twin\n")
    fw = root / "lib" / "firmware"
    for name in ("regulatory.db", "regulatory.db.p7s"):
        if (fw / f"{name}-debian").exists() and not (fw / name).exists():
            (fw / name).symlink_to(f"{name}-debian")
    # busybox applets the tools expect (udhcpc for station mode) where nothing else provides them
    bb = root / "bin" / "busybox"
    for applet in ("udhcpc", "ping6", "nc", "vi", "less", "ps", "killall", "pidof"):
        for d in ("bin", "usr/bin", "sbin", "usr/sbin"):
            if (root / d / applet).exists():
                break
        else:
            if bb.exists():
                (root / "bin" / applet).symlink_to("busybox")
    (root / ".twin-rootfs").write_text("rootfs\n")


def _compile(tree: Path) -> None:
    """Precompile .py on the host when its Python has the guest's bytecode magic (3.11)."""
    if sys.version_info[:2] != (3, 11):
        return
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "2", "--invalidation-mode", "unchecked-hash",
                    str(tree)], check=False, capture_output=True)


def _mksquashfs(stage: Path, out: Path) -> None:
    tmp = out.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    _run(["mksquashfs", str(stage), str(tmp), "-comp", "lz4", "-noappend", "-quiet", "-no-progress",
          "-processors", "2", "-all-root"])
    tmp.replace(out)


def _prune(cache: Path, pattern: str, keep: Path) -> None:
    for old in cache.glob(pattern):
        if old != keep:
            old.unlink()


def build_rootfs(cache: Path, closure: list[tuple[str, str, str]], debs: dict[str, Path],
                 rebuilt: list[str]) -> Path:
    key = _sha(Path(__file__).read_bytes(), json.dumps(sorted(closure)), str(sys.version_info[:2]))
    out = cache / f"rootfs-{key}.sqfs"
    if out.exists():
        return out
    rebuilt.append("rootfs")
    stage = cache / f"stage-rootfs-{key}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    for name, _v, _a in closure:
        if name not in SKIP:
            _run(["dpkg", "-x", str(debs[name]), str(stage)])
    for junk in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian",
                 "usr/lib/python3.11/test", "usr/lib/python3.11/idlelib", "usr/lib/python3.11/ensurepip"):
        shutil.rmtree(stage / junk, ignore_errors=True)
    _fixups(stage)
    _compile(stage / "usr" / "lib" / "python3.11")
    _compile(stage / "usr" / "lib" / "python3" / "dist-packages")
    _mksquashfs(stage, out)
    shutil.rmtree(stage)
    _prune(cache, "rootfs-*.sqfs", out)
    return out


# -- r2wifi layer -----------------------------------------------------------------------------------
def _project_key() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update((REPO / "pyproject.toml").read_bytes())
    for p in sorted((REPO / "r2wifi").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith((".so", ".pyc")):
            h.update(str(p.relative_to(REPO)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def build_wheel(dest: Path) -> Path:
    """``pip wheel --no-deps .`` with the project venv (its setuptools; no build isolation download)."""
    py = REPO / ".venv" / "bin" / "python"
    py_s = str(py) if py.exists() else sys.executable
    dest.mkdir(parents=True, exist_ok=True)
    base = [py_s, "-m", "pip", "wheel", "--no-deps", "-q", "--disable-pip-version-check", "-w", str(dest)]
    proc = subprocess.run([*base, "--no-build-isolation", str(REPO)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        _run([*base, str(REPO)])
    wheels = sorted(dest.glob("r2wifi-*.whl"))
    if not wheels:
        raise RuntimeError("pip wheel produced no r2wifi wheel")
    return wheels[-1]


def build_r2wifi(cache: Path, rebuilt: list[str]) -> Path:
    key = _project_key()
    out = cache / f"r2wifi-{key}.sqfs"
    if out.exists():
        return out
    rebuilt.append("r2wifi")
    stage = cache / f"stage-r2wifi-{key}"
    shutil.rmtree(stage, ignore_errors=True)
    wheel = build_wheel(stage / "wheel")
    site = stage / "root" / "usr" / "lib" / "python3" / "dist-packages"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    bindir = stage / "root" / "usr" / "bin"
    bindir.mkdir(parents=True)
    entry = bindir / "r2wifi"
    entry.write_text("#!/usr/bin/python3\nimport sys\nfrom r2wifi.cli.main import main\nsys.exit(main())\n")
    entry.chmod(0o755)
    (stage / "root" / ".twin-r2wifi").write_text(wheel.name + "\n")
    _compile(site)
    _mksquashfs(stage / "root", out)
    shutil.rmtree(stage)
    _prune(cache, "r2wifi-*.sqfs", out)
    return out


# -- initramfs --------------------------------------------------------------------------------------
def build_initrd(cache: Path, kver: str, kdir: Path, debs: dict[str, Path], rebuilt: list[str]) -> Path:
    key = _sha(kver, Path(__file__).read_bytes(), INIT.read_bytes(), debs["busybox-static"].name,
               debs["wireless-regdb"].name)
    out = cache / f"initrd-{key}.cpio.gz"
    if out.exists():
        return out
    rebuilt.append("initrd")
    stage = cache / f"stage-initrd-{key}"
    shutil.rmtree(stage, ignore_errors=True)
    x = cache / f"stage-x-{key}"
    shutil.rmtree(x, ignore_errors=True)
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "etc", "newroot", "ro", "r2", "rw", "lib/firmware"):
        (stage / d).mkdir(parents=True, exist_ok=True)
    _run(["dpkg", "-x", str(debs["busybox-static"]), str(x)])
    _run(["dpkg", "-x", str(debs["wireless-regdb"]), str(x)])
    shutil.copy2(x / "bin" / "busybox", stage / "bin" / "busybox")
    for applet in ("sh", "mount", "umount", "mkdir", "modprobe", "insmod", "cat", "echo", "ls", "chroot", "poweroff",
                   "sleep", "ln", "mknod", "grep", "sed", "tr", "head", "tail", "cut", "dmesg"):
        (stage / "bin" / applet).symlink_to("busybox")
    (stage / "sbin" / "modprobe").symlink_to("/bin/busybox")
    for name in ("regulatory.db", "regulatory.db.p7s"):
        src = x / "lib" / "firmware" / f"{name}-debian"
        if src.exists():
            shutil.copy2(src, stage / "lib" / "firmware" / name)
    shutil.rmtree(x)
    kroot = kdir / "root"
    mods = module_closure(kroot, kver, MODULES)
    if not any(p.name.startswith("mac80211_hwsim") for p in mods):
        raise RuntimeError("module closure lacks mac80211_hwsim (modprobe --show-depends failed)")
    for p in mods:
        dst = stage / p.relative_to(kroot)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, dst)
    for f in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        src = kroot / "lib" / "modules" / kver / f
        if src.exists():
            shutil.copy2(src, stage / "lib" / "modules" / kver / f)
    _run(["depmod", "-b", str(stage), kver])
    shutil.copy2(INIT, stage / "init")
    (stage / "init").chmod(0o755)
    (stage / "etc" / "twin-preload").write_text("\n".join(PRELOAD) + "\n")
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(_add_cpio_tree(stage), compresslevel=6))
    tmp.replace(out)
    shutil.rmtree(stage)
    _prune(cache, "initrd-*.cpio.gz", out)
    return out


def build(cache: str | os.PathLike[str] | None = None) -> TwinImage:
    """Build (or reuse) every artefact; returns their paths. Raises RuntimeError on failure."""
    t0 = time.monotonic()
    c = cache_dir(cache)
    c.mkdir(parents=True, exist_ok=True)
    rebuilt: list[str] = []
    steps: dict[str, float] = {}

    def step(name: str, t: float) -> float:
        now = time.monotonic()
        steps[name] = round(now - t, 2)
        return now

    apt = Apt(c / "apt")
    apt.update()
    t = step("apt", t0)
    kpkg, kver, kdir = build_kernel(apt, c, rebuilt)
    t = step("kernel", t)
    closure = apt.closure(PACKAGES)
    debs = fetch_debs(apt, c, closure)
    t = step("debs", t)
    rootfs = build_rootfs(c, closure, debs, rebuilt)
    t = step("rootfs", t)
    r2 = build_r2wifi(c, rebuilt)
    t = step("r2wifi", t)
    initrd = build_initrd(c, kver, kdir, debs, rebuilt)
    step("initrd", t)
    vmlinuz = kdir / "root" / "boot" / f"vmlinuz-{kver}"
    img = TwinImage(kver=kver, kernel_package=kpkg, kernel=str(vmlinuz), initrd=str(initrd), rootfs=str(rootfs),
                    r2wifi=str(r2), packages=len(closure), index_warnings=apt.last_warnings(),
                    build_secs=round(time.monotonic() - t0, 2), rebuilt=rebuilt, steps=steps)
    (c / "image.json").write_text(json.dumps(asdict(img), indent=1) + "\n")
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--cache", help="cache directory (default $R2WIFI_TWIN_CACHE or <repo>/.cache/twin)")
    ns = ap.parse_args(argv)
    try:
        img = build(ns.cache)
    except RuntimeError as exc:
        print(f"twin build: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(img), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
