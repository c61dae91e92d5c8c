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
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
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
#: what r2wifi's .deb depends on (debian/control): in deb mode apt installs them in the guest
R2WIFI_DEPS = ["python3-pyroute2", "python3-rich", "python3-segno", "hostapd", "dnsmasq-base", "iw", "iproute2"]
#: Debian's Essential set (dpkg runs diff, ldconfig ... from them; every Debian system has them)
ESSENTIAL = ["base-files", "base-passwd", "bash", "bsdutils", "coreutils", "dash", "debianutils", "diffutils",
             "dpkg", "findutils", "grep", "gzip", "hostname", "init-system-helpers", "libc-bin", "login", "mawk",
             "ncurses-bin", "perl-base", "sed", "sysvinit-utils", "tar", "util-linux"]
#: deb mode's base set: the guest userland without r2wifi's dependencies, plus apt and the Essential set
DEB_BASE = [p for p in PACKAGES if p not in R2WIFI_DEPS] + ["apt"] + [p for p in ESSENTIAL if p not in PACKAGES]
#: where the deb-mode guest's local apt repository lies (``deb [trusted=yes] file:DEB_REPO ./``)
DEB_REPO = "/srv/twin-repo"
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
    #: "layer": r2wifi from the wheel layer (``r2wifi``); "deb": no layer, ``rootfs`` is the deb-mode root
    #: and ``deb`` the r2wifi .deb the guest installs with apt
    mode: str = "layer"
    deb: str = ""


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
def _fixups(root: Path, *, deb: bool = False) -> None:
    """What the skipped maintainer scripts would have done (``deb``: only for the base set, whose status
    says installed; the dnsmasq user is left to dnsmasq-base's own postinst, apt's ``_apt`` is added)."""
    for d in ("bin", "sbin", "etc", "tmp", "run", "proc", "sys", "dev", "root", "var/lib/misc", "var/run",
              "lib/modules", "lib/firmware", "mnt"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    sh = root / "bin" / "sh"
    if sh.is_symlink() or sh.exists():
        sh.unlink()
    sh.symlink_to("dash")  # busybox's shell would run its own `ip`
    users = ("root:x:0:0:root:/root:/bin/sh\n"
             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    if deb:  # apt's postinst adds _apt; useradd (dnsmasq-base's postinst) wants the shadow files
        users += "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n"
        (root / "etc" / "shadow").write_text("root:*:20000:0:99999:7:::\nnobody:*:20000:0:99999:7:::\n"
                                             "_apt:*:20000:0:99999:7:::\n")
        (root / "etc" / "gshadow").write_text("root:*::\nnogroup:*::\n")
        (root / "etc" / "shadow").chmod(0o640)
        (root / "etc" / "gshadow").chmod(0o640)
    else:
        users += "dnsmasq:x:100:65534:dnsmasq:/var/lib/misc:/usr/sbin/nologin\n"
    (root / "etc" / "passwd").write_text(users)
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
    _prune(cache, "rootfs-" + "?" * len(key) + ".sqfs", out)  # not the rootfs-deb-* image
    return out


# -- deb mode: apt + dpkg in the guest, a truthful status of the base set, a local repository ------
def _control_members(deb: Path) -> dict[str, bytes]:
    """The control members of ``deb`` (``control``, ``md5sums``, ``conffiles``, maintainer scripts ...)."""
    raw = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=True).stdout
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
        for m in tf.getmembers():
            name = m.name.removeprefix("./")
            f = tf.extractfile(m) if m.isfile() else None
            if name and f is not None:
                out[name] = f.read()
    return out


def _unpack_merged(deb: Path, stage: Path) -> list[str]:
    """Unpack ``deb`` into the merged-/usr ``stage`` (directory symlinks kept, unlike ``dpkg -x``);
    returns its file list as dpkg's ``info/<pkg>.list`` has it."""
    raw = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
    proc = subprocess.run(["tar", "-x", "--keep-directory-symlink", "--no-same-owner", "-C", str(stage)],
                          input=raw, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"unpacking {deb.name}: {proc.stderr.decode(errors='replace')[-400:]}")
    paths = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
        for name in tf.getnames():
            rel = name.removeprefix(".").rstrip("/")
            paths.append(rel if rel else "/.")
    return paths


def _status_paragraph(control: bytes, conffiles: bytes, stage: Path) -> str:
    """The control paragraph with ``Status: install ok installed`` (after ``Package:``) and its conffiles' md5s."""
    lines = control.decode().rstrip("\n").splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("Package:")) + 1
    lines.insert(at, "Status: install ok installed")
    conf = [c for c in conffiles.decode().split("\n") if c.startswith("/")]
    if conf:
        lines.append("Conffiles:")
        for c in conf:
            f = stage / c.lstrip("/")
            md5 = hashlib.md5(f.read_bytes()).hexdigest() if f.is_file() else "newconffile"
            lines.append(f" {c} {md5}")
    return "\n".join(lines) + "\n"


def _dpkg_database(stage: Path, installed: list[tuple[str, dict[str, bytes], list[str]]]) -> None:
    """/var/lib/dpkg as dpkg leaves it after unpacking and configuring ``installed`` (name, control, files)."""
    db = stage / "var" / "lib" / "dpkg"
    for d in ("info", "updates", "triggers", "alternatives", "parts"):
        (db / d).mkdir(parents=True, exist_ok=True)
    paragraphs = []
    for name, members, files in sorted(installed):
        control = members["control"]
        paragraphs.append(_status_paragraph(control, members.get("conffiles", b""), stage))
        multi_same = re.search(rb"^Multi-Arch: same$", control, re.M) is not None
        info = f"{name}:{ARCH}" if multi_same else name
        (db / "info" / f"{info}.list").write_text("\n".join(files) + "\n")
        for member, body in members.items():
            if member != "control":
                dst = db / "info" / f"{info}.{member}"
                dst.write_bytes(body)
                if member in ("preinst", "postinst", "prerm", "postrm", "config"):
                    dst.chmod(0o755)
    (db / "status").write_text("\n".join(paragraphs))
    # trigger interests (libc-bin's ldconfig ...), as dpkg records them when it configures the packages
    named: dict[str, list[str]] = {}
    file_triggers: list[str] = []
    for name, members, _files in sorted(installed):
        for line in members.get("triggers", b"").decode().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("interest", "interest-await", "interest-noawait"):
                who = name + ("/noawait" if parts[0] == "interest-noawait" else "")
                if parts[1].startswith("/"):
                    file_triggers.append(f"{parts[1]} {who}")
                else:
                    named.setdefault(parts[1], []).append(who)
    for trig, who_list in named.items():
        (db / "triggers" / trig).write_text("\n".join(who_list) + "\n")
    (db / "triggers" / "File").write_text("".join(f"{ln}\n" for ln in file_triggers))
    (db / "triggers" / "Unincorp").touch()
    for empty in ("available", "diversions", "statoverride"):
        (db / empty).touch()
    (db / "arch").write_text(f"{ARCH}\n")


def _local_repo(repo: Path, debs: list[Path]) -> None:
    """A flat apt repository (``deb [trusted=yes] file:REPO ./``): the .debs, Packages, Release."""
    repo.mkdir(parents=True)
    for deb in debs:
        shutil.copy2(deb, repo / deb.name)
    packages = _run(["dpkg-scanpackages", "--multiversion", "."], cwd=repo)
    (repo / "Packages").write_text(packages)
    body = (repo / "Packages").read_bytes()
    (repo / "Release").write_text(
        f"Origin: r2wifi-twin\nLabel: r2wifi-twin\nArchitectures: {ARCH}\n"
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())}\n"
        f"SHA256:\n {hashlib.sha256(body).hexdigest()} {len(body)} Packages\n")


def build_deb_rootfs(apt: Apt, cache: Path, rebuilt: list[str]) -> tuple[Path, int]:
    """The deb-mode root squashfs: merged /usr, the closure of :data:`DEB_BASE` unpacked with a truthful
    dpkg database (their maintainer scripts did not run: :func:`_fixups` does their work), and a local
    repository at :data:`DEB_REPO` of the closure with r2wifi's dependencies. Returns (path, repo size)."""
    base = apt.closure(DEB_BASE)
    full = apt.closure(DEB_BASE + R2WIFI_DEPS)
    debs = fetch_debs(apt, cache, full)
    key = _sha(Path(__file__).read_bytes(), json.dumps(sorted(base)), json.dumps(sorted(full)),
               str(sys.version_info[:2]))
    out = cache / f"rootfs-deb-{key}.sqfs"
    if out.exists():
        return out, len(full)
    rebuilt.append("rootfs-deb")
    stage = cache / f"stage-rootfs-deb-{key}"
    shutil.rmtree(stage, ignore_errors=True)
    for d in ("usr/bin", "usr/sbin", "usr/lib"):
        (stage / d).mkdir(parents=True)
    for link in ("bin", "sbin", "lib"):
        (stage / link).symlink_to(f"usr/{link}")
    installed = []
    for name, _v, _a in base:
        files = _unpack_merged(debs[name], stage)
        installed.append((name, _control_members(debs[name]), files))
    _dpkg_database(stage, installed)
    _fixups(stage, deb=True)
    (stage / "etc" / "apt" / "sources.list").write_text(f"deb [trusted=yes] file:{DEB_REPO} ./\n")
    _local_repo(stage / DEB_REPO.lstrip("/"), [debs[n] for n, _v, _a in full])
    (stage / ".twin-deb").write_text("apt + dpkg, local repository\n")
    _compile(stage / "usr" / "lib" / "python3.11")
    _mksquashfs(stage, out)
    shutil.rmtree(stage)
    _prune(cache, "rootfs-deb-*.sqfs", out)
    return out, len(full)


# -- r2wifi layer -----------------------------------------------------------------------------------
def _console_script(site: Path) -> str:
    """/usr/bin/r2wifi as pip and dh-python write it: the wheel's ``r2wifi`` console-script entry point."""
    import configparser

    ep = configparser.ConfigParser()
    ep.read(next(site.glob("r2wifi-*.dist-info/entry_points.txt")))
    module, func = ep["console_scripts"]["r2wifi"].strip().split(":")
    return f"#!/usr/bin/python3\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n"


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
    entry.write_text(_console_script(site))
    entry.chmod(0o755)
    (stage / "root" / ".twin-r2wifi").write_text(wheel.name + "\n")
    _compile(site)
    _mksquashfs(stage / "root", out)
    shutil.rmtree(stage)
    _prune(cache, "r2wifi-*.sqfs", out)
    return out


# -- the r2wifi .deb (deb mode) --------------------------------------------------------------------
def source_sha(root: Path = REPO) -> str:
    """sha256 over the files ``scripts/package`` packages (git's tracked and new, not ignored files): the
    sha256 of the ``sha256sum`` lines of those files in byte order. scripts/package writes the same value
    next to the .deb (``<deb>.src-sha256``), so a .deb built from this very tree is recognised."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         capture_output=True, check=True).stdout
    names = sorted(n for n in out.decode().split("\0") if n and (root / n).exists())
    h = hashlib.sha256()
    for name in names:
        h.update(f"{hashlib.sha256((root / name).read_bytes()).hexdigest()}  {name}\n".encode())
    return h.hexdigest()


def _version() -> str:
    m = re.search(r'__version__ = "([^"]+)"', (REPO / "r2wifi" / "__init__.py").read_text())
    if not m:
        raise RuntimeError("r2wifi/__init__.py has no __version__")
    return m.group(1)


def build_r2wifi_deb(cache: Path, rebuilt: list[str]) -> Path:
    """The .deb ``scripts/package`` builds from this tree: dist/'s when its stamp says it was built from
    the current sources (tests/packaging builds it first in a full run), else one ``scripts/package
    --outdir <cache>/deb --no-lintian`` (lintian is tests/packaging's job). Kept in ``<cache>/deb``."""
    name = f"r2wifi_{_version()}_all.deb"
    key = source_sha()
    outdir = cache / "deb"
    target = outdir / name

    def fresh(deb: Path) -> bool:
        stamp = deb.with_name(deb.name + ".src-sha256")
        return deb.is_file() and stamp.is_file() and stamp.read_text().strip() == key

    if fresh(target):
        return target
    outdir.mkdir(parents=True, exist_ok=True)
    dist = REPO / "dist" / name
    if fresh(dist):
        tmp = target.with_suffix(".tmp")
        shutil.copy2(dist, tmp)
        tmp.replace(target)
        target.with_name(name + ".src-sha256").write_text(key + "\n")
        return target
    rebuilt.append("deb")
    proc = subprocess.run([str(REPO / "scripts" / "package"), "--outdir", str(outdir), "--no-lintian"], cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=1800)
    if proc.returncode != 0 or not target.is_file():
        raise RuntimeError(f"scripts/package failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-800:]}")
    if not fresh(target):  # a source edited while it built: use it, the next session rebuilds
        print(f"twin build: {name} was built while the tree changed", file=sys.stderr)
    return target


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


def build(cache: str | os.PathLike[str] | None = None, *, mode: str = "layer") -> TwinImage:
    """Build (or reuse) every artefact; returns their paths. Raises RuntimeError on failure.

    ``mode="deb"``: instead of the root squashfs and the r2wifi layer, the deb-mode root
    (:func:`build_deb_rootfs`) and the r2wifi .deb (:func:`build_r2wifi_deb`)."""
    if mode not in ("layer", "deb"):
        raise ValueError(f"unknown twin mode {mode!r}")
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
    deb = ""
    if mode == "deb":
        rootfs, npkgs = build_deb_rootfs(apt, c, rebuilt)
        t = step("rootfs-deb", t)
        r2 = ""
        deb = str(build_r2wifi_deb(c, rebuilt))
        t = step("deb", t)
    else:
        rootfs, npkgs = build_rootfs(c, closure, debs, rebuilt), len(closure)
        t = step("rootfs", t)
        r2 = str(build_r2wifi(c, rebuilt))
        t = step("r2wifi", t)
    initrd = build_initrd(c, kver, kdir, debs, rebuilt)
    step("initrd", t)
    vmlinuz = kdir / "root" / "boot" / f"vmlinuz-{kver}"
    img = TwinImage(kver=kver, kernel_package=kpkg, kernel=str(vmlinuz), initrd=str(initrd), rootfs=str(rootfs),
                    r2wifi=r2, packages=npkgs, index_warnings=apt.last_warnings(),
                    build_secs=round(time.monotonic() - t0, 2), rebuilt=rebuilt, steps=steps, mode=mode, deb=deb)
    (c / ("image.json" if mode == "layer" else f"image-{mode}.json")).write_text(json.dumps(asdict(img), indent=1) + "\n")
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--cache", help="cache directory (default $R2WIFI_TWIN_CACHE or <repo>/.cache/twin)")
    ap.add_argument("--mode", choices=("layer", "deb"), default="layer",
                    help="layer: r2wifi from the wheel layer (default); deb: apt + dpkg, repository, the .deb")
    ns = ap.parse_args(argv)
    try:
        img = build(ns.cache, mode=ns.mode)
    except RuntimeError as exc:
        print(f"twin build: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(img), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
