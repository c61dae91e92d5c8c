"""One twin session: build (cached), boot, start the simulated chip when the tree has it, power off.

Theory of operation: :func:`boot` builds the image (tools/twin/build.py), boots a :class:`TwinVM`
with three hwsim radios (phy0: the chip's radio, phy1: the other side: a station or an upstream AP;
phy2: a plain interface for tests without the chip)
in a fresh work dir ``<cache>/runs/<stamp>`` (kept for the last three sessions; the guest writes its
logs there over 9p), then :func:`start_chip` starts the CUSE simulator (``r2wifi sim start --cuse``:
/dev/wmtdetect, /dev/stpwmt, /dev/wmtWifi as real character devices) **if** this r2wifi has it.
Until it does, :attr:`Twin.chip` says why not and the scenarios that need the chip fail with that
reason. Used by tests/twin/conftest.py, scripts/twin (tools/twin/run.py) and bench/twin.py.

Deb mode (``boot(r2wifi="deb")``, tests/twin/test_twin_deb.py): the guest boots the deb-mode root (apt,
dpkg, a dpkg status of the base set, a local repository of bookworm armhf .debs; no r2wifi layer), then
:func:`install_deb` installs the .deb ``scripts/package`` builds the way an owner does (``apt-get update``,
``apt-get install -y ./r2wifi_*.deb``: apt resolves the dependencies from the local repository, dpkg runs
every maintainer script), and only then the chip is started with the installed r2wifi.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

from twin.build import TwinImage, build, cache_dir  # noqa: E402
from twin.vm import Result, TwinVM  # noqa: E402

#: the board's firmware set, generated where the board keeps it (the launcher reads /etc/firmware)
FIRMWARE = ["r2wifi", "firmware", "generate", "/"]
#: how the fixture starts the simulated chip in the guest: the CUSE server (nodes 154:0, 190:0, 155:0)
#: with hwsim as its radio; kernel lines of the simulated driver go to the guest's real /dev/kmsg
SIM_START = ["r2wifi", "sim", "start", "--cuse", "--kmsg", "--timing", "fast", "--firmware-dir", "/etc/firmware"]
#: the node that exists before DO_MODULE_INIT (/dev/stpwmt and /dev/wmtWifi come with it)
DETECT_NODE = "/dev/wmtdetect"


#: how the guest installs the .deb: apt's own resolution against the local repository, no prompts
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}


@dataclass
class DebInstall:
    """What ``apt-get update`` and ``apt-get install ./r2wifi_*.deb`` did in the guest."""

    deb: str
    update: Result
    install: Result
    secs: float

    @property
    def ok(self) -> bool:
        return self.update.ok and self.install.ok


@dataclass
class Twin:
    vm: TwinVM
    image: TwinImage
    build_secs: float
    boot_secs: float
    chip: str = "not started"  # "ok" or why the simulated chip is not there
    chip_secs: float = 0.0
    notes: list[str] = field(default_factory=list)
    deb_install: DebInstall | None = None

    @property
    def workdir(self) -> Path:
        return self.vm.workdir


def new_workdir(tag: str = "") -> Path:
    runs = cache_dir() / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    old = sorted(p for p in runs.iterdir() if p.name[:1].isdigit())
    for stale in old[:-3]:
        shutil.rmtree(stale, ignore_errors=True)
    work = runs / (time.strftime("%Y%m%d-%H%M%S") + (f"-{tag}" if tag else ""))
    work.mkdir(parents=True)
    return work


def start_chip(vm: TwinVM, timeout: float = 180) -> tuple[str, float]:
    """Start the CUSE simulator in the guest; ("ok", secs) or (reason, secs)."""
    t0 = time.monotonic()
    helptext = vm.run([*SIM_START[:3], "--help"], timeout=120)
    if "--cuse" not in helptext.out + helptext.err:
        return "this r2wifi has no `sim start --cuse` (the CUSE simulator is not in the tree yet)", 0.0
    fw = vm.run(FIRMWARE, timeout=timeout)
    if not fw.ok:
        return f"`{' '.join(FIRMWARE)}` failed rc={fw.rc}: {(fw.err or fw.out).strip()[-600:]}", \
            time.monotonic() - t0
    res = vm.run(SIM_START, timeout=timeout)
    if not res.ok:
        return f"`{' '.join(SIM_START)}` failed rc={res.rc}: {(res.err or res.out).strip()[-600:]}", \
            time.monotonic() - t0
    check = vm.run(["ls", "-l", DETECT_NODE], timeout=30)
    if not check.ok:
        return f"the simulator started but {DETECT_NODE} does not exist: {check.err.strip()[-400:]}", \
            time.monotonic() - t0
    return "ok", time.monotonic() - t0


def install_deb(vm: TwinVM, deb: str, timeout: float = 1800) -> DebInstall:
    """``apt-get update`` + ``apt-get install -y DEB`` in the guest; the output is kept in the work dir."""
    t0 = time.monotonic()
    update = vm.run(["apt-get", "update"], env=APT_ENV, timeout=600)
    install = vm.run(["apt-get", "install", "-y", deb], env=APT_ENV, timeout=timeout) if update.ok else update
    secs = time.monotonic() - t0
    dpkg_log = vm.run(["cat", "/var/log/dpkg.log"], timeout=60).out  # per-package times (1 s resolution)
    (vm.workdir / "apt-install.log").write_text(
        f"$ apt-get update (rc={update.rc})\n{update.out}{update.err}\n"
        f"$ apt-get install -y {deb} (rc={install.rc}, {secs:.1f}s)\n{install.out}{install.err}\n"
        f"$ cat /var/log/dpkg.log\n{dpkg_log}")
    return DebInstall(deb, update, install, secs)


def boot(*, chip: bool = True, radios: int = 3, tag: str = "", boot_timeout: float = 600,
         r2wifi: str = "layer") -> Twin:
    """Build if needed, boot, and (``chip``) start the simulated chip. The caller stops ``twin.vm``.

    ``r2wifi="deb"``: the deb-mode image; the .deb is installed with apt (:attr:`Twin.deb_install`) before
    the chip starts (not started when the install failed: :attr:`Twin.chip` says so)."""
    t0 = time.monotonic()
    image = build(mode=r2wifi)
    build_secs = time.monotonic() - t0
    vm = TwinVM(image, new_workdir(tag), radios=radios)
    try:
        vm.start(boot_timeout=boot_timeout)
    except Exception:
        vm.stop()
        raise
    twin = Twin(vm, image, build_secs, vm.boot_secs)
    if r2wifi == "deb":
        twin.deb_install = install_deb(vm, image.deb)
        if not twin.deb_install.ok:
            twin.chip = f"the .deb did not install (rc={twin.deb_install.install.rc}): see apt-install.log"
            return twin
    if chip:
        twin.chip, twin.chip_secs = start_chip(vm)
    return twin
