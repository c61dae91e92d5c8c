"""One twin session: build (cached), boot, start the simulated chip when the tree has it, power off.

Theory of operation: :func:`boot` builds the image (tools/twin/build.py), boots a :class:`TwinVM`
with three hwsim radios (phy0: the chip's radio, phy1: the other side: a station or an upstream AP;
phy2: a plain interface for tests without the chip)
in a fresh work dir ``<cache>/runs/<stamp>`` (kept for the last three sessions; the guest writes its
logs there over 9p), then :func:`start_chip` starts the CUSE simulator (``r2wifi sim start --cuse``:
/dev/wmtdetect, /dev/stpwmt, /dev/wmtWifi as real character devices) **if** this r2wifi has it.
Until it does, :attr:`Twin.chip` says why not and the scenarios that need the chip fail with that
reason. Used by tests/twin/conftest.py, scripts/twin (tools/twin/run.py) and bench/twin.py.
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
from twin.vm import TwinVM  # noqa: E402

#: the board's firmware set, generated where the board keeps it (the launcher reads /etc/firmware)
FIRMWARE = ["r2wifi", "firmware", "generate", "/"]
#: how the fixture starts the simulated chip in the guest: the CUSE server (nodes 154:0, 190:0, 155:0)
#: with hwsim as its radio; kernel lines of the simulated driver go to the guest's real /dev/kmsg
SIM_START = ["r2wifi", "sim", "start", "--cuse", "--kmsg", "--timing", "fast", "--firmware-dir", "/etc/firmware"]
#: the node that exists before DO_MODULE_INIT (/dev/stpwmt and /dev/wmtWifi come with it)
DETECT_NODE = "/dev/wmtdetect"


@dataclass
class Twin:
    vm: TwinVM
    image: TwinImage
    build_secs: float
    boot_secs: float
    chip: str = "not started"  # "ok" or why the simulated chip is not there
    chip_secs: float = 0.0
    notes: list[str] = field(default_factory=list)

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


def boot(*, chip: bool = True, radios: int = 3, tag: str = "", boot_timeout: float = 600) -> Twin:
    """Build if needed, boot, and (``chip``) start the simulated chip. The caller stops ``twin.vm``."""
    t0 = time.monotonic()
    image = build()
    build_secs = time.monotonic() - t0
    vm = TwinVM(image, new_workdir(tag), radios=radios)
    try:
        vm.start(boot_timeout=boot_timeout)
    except Exception:
        vm.stop()
        raise
    twin = Twin(vm, image, build_secs, vm.boot_secs)
    if chip:
        twin.chip, twin.chip_secs = start_chip(vm)
    return twin
