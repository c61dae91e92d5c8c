"""Benchmark: `r2wifi kernel install` of a 20 MB kernel + 60 MB modules release tarball vs `tar -x`.

Prints wall time of both, the ratio, and the peak RSS of each (child processes, so the numbers are
the command's own). depmod is skipped in the r2wifi run (--no-depmod) so both do the same work:
unpack, plus r2wifi's checks, fsyncs, read-back verification and atomic renames.

Then the memory bound: the peak RSS of an install whose tarball carries large uImage members
(a 40 MB kernel, a 40 MB uImage_nodt and --extra-images more uImage_* members of 120 MB each, a
few MB compressed), and of one whose kernel is over the image limit (refused, exit 2). The goal
is a peak RSS under 150 MiB whatever the input.

    .venv/bin/python bench/install.py [--kernel-mb 20] [--modules-mb 60] [--extra-images 6]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from r2wifi.board.uimage import make_uimage  # noqa: E402

RELEASE = "5.15.80-bpi-r2-main"


def _blob(rng: random.Random, size: int) -> bytes:
    """Half random, half repetitive: compresses roughly like kernel modules (~2:1)."""
    half = size // 2
    return rng.randbytes(half) + (b"module-text-" * (size // 12 + 1))[: size - half]


def make_release(path: Path, kernel_mb: int, modules_mb: int) -> None:
    rng = random.Random(1)
    kernel = make_uimage(b"Linux version " + RELEASE.encode() + b" (bench)\0" + _blob(rng, kernel_mb << 20),
                         name=f"Linux-{RELEASE}", timestamp=1_600_000_000)
    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        def add(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1_600_000_000
            tf.addfile(ti, io.BytesIO(data))

        add("BPI-BOOT/bananapi/bpi-r2/linux/uImage", kernel)
        mod = f"BPI-ROOT/lib/modules/{RELEASE}"
        n, left = 0, modules_mb << 20
        while left > 0:
            size = min(left, rng.randint(4 << 10, 400 << 10))
            add(f"{mod}/kernel/drivers/d{n // 50}/m{n}.ko", _blob(rng, size))
            left -= size
            n += 1
        add(f"{mod}/kernel/drivers/misc/mediatek/connectivity/wlan_gen2.ko", b"wlan")
        add(f"{mod}/modules.builtin", b"kernel/drivers/misc/mediatek/connectivity/common.ko\n")


def make_big_images(path: Path, kernel_mb: int, extra: int, extra_mb: int) -> None:
    """A release whose BPI-BOOT holds large image members (zeros: tiny when compressed)."""
    def image(mb: int, name: str) -> bytes:
        return make_uimage(b"Linux version " + RELEASE.encode() + b" (bench)\0" + bytes(mb << 20),
                           name=name, timestamp=1_600_000_000)

    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        def add(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1_600_000_000
            tf.addfile(ti, io.BytesIO(data))

        linux = "BPI-BOOT/bananapi/bpi-r2/linux"
        add(f"{linux}/uImage", image(kernel_mb, f"Linux-{RELEASE}"))
        add(f"{linux}/uImage_nodt", image(kernel_mb, f"Linux-{RELEASE}"))
        for k in range(extra):
            add(f"{linux}/uImage_extra{k}", image(extra_mb, f"extra-{k}"))
        mod = f"BPI-ROOT/lib/modules/{RELEASE}"
        add(f"{mod}/kernel/drivers/misc/mediatek/connectivity/wlan_gen2.ko", b"wlan")
        add(f"{mod}/modules.builtin", b"kernel/drivers/misc/mediatek/connectivity/common.ko\n")


def fresh_card(base: Path) -> tuple[Path, Path]:
    if base.exists():
        shutil.rmtree(base)
    boot, root = base / "BPI-BOOT", base / "BPI-ROOT"
    (boot / "bananapi/bpi-r2/linux").mkdir(parents=True)
    (boot / "bananapi/bpi-r2/linux/uEnv.txt").write_text("kernel=uImage\n")
    (root / "etc").mkdir(parents=True)
    return boot, root


def rss_of(cmd: list[str], env: dict[str, str] | None = None, ok: tuple[str, ...] = ("0",)) -> tuple[float, int]:
    """Run under /usr/bin/time-like accounting: a fresh Python parent per measurement."""
    code = ("import resource,subprocess,sys,time;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],capture_output=True);"
            "d=time.perf_counter()-t;"
            "print(p.returncode, d, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
            "sys.stderr.write(p.stderr.decode()[-500:])")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, env=env)
    rc, dt, rss = out.stdout.split()
    if rc not in ok:
        raise SystemExit(f"{cmd[:4]} failed: {out.stderr}")
    return float(dt), int(rss)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel-mb", type=int, default=20)
    ap.add_argument("--modules-mb", type=int, default=60)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--extra-images", type=int, default=6, help="uImage_* members of 120 MB in the memory case")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="r2wifi-bench-") as tmp:
        t = Path(tmp)
        src = t / "bpi-r2_release.tar.gz"
        t0 = time.perf_counter()
        make_release(src, a.kernel_mb, a.modules_mb)
        print(f"release tarball: {src.stat().st_size / 2**20:.1f} MiB compressed "
              f"({a.kernel_mb} MB kernel + {a.modules_mb} MB modules), built in {time.perf_counter() - t0:.1f} s")
        env = dict(os.environ, R2WIFI_STATE_DIR=str(t / "state"), PYTHONPATH=str(REPO))
        best_r2, best_tar, rss_r2, rss_tar = 1e9, 1e9, 0, 0
        for _ in range(a.runs):
            boot, root = fresh_card(t / "card")
            dt, rss = rss_of([sys.executable, "-m", "r2wifi", "kernel", "install", str(src), "--boot", str(boot),
                              "--root", str(root), "--yes", "--no-depmod"], env)
            best_r2, rss_r2 = min(best_r2, dt), max(rss_r2, rss)
            out = t / "tar-out"
            if out.exists():
                shutil.rmtree(out)
            out.mkdir()
            dt, rss = rss_of(["tar", "-xzf", str(src), "-C", str(out)])
            best_tar, rss_tar = min(best_tar, dt), max(rss_tar, rss)
        print(f"r2wifi kernel install: {best_r2:6.2f} s   peak RSS {rss_r2 / 1024:6.1f} MiB")
        print(f"tar -xzf:              {best_tar:6.2f} s   peak RSS {rss_tar / 1024:6.1f} MiB")
        print(f"ratio install / tar:   {best_r2 / best_tar:6.2f}x  (best of {a.runs})")

        big = t / "big-images.tar.gz"
        make_big_images(big, 40, a.extra_images, 120)
        boot, root = fresh_card(t / "card")
        dt, rss = rss_of([sys.executable, "-m", "r2wifi", "kernel", "install", str(big), "--boot", str(boot),
                          "--root", str(root), "--yes", "--no-depmod"], env)
        print(f"large uImage members ({big.stat().st_size / 2**20:.1f} MiB compressed: 40 MB kernel + 40 MB _nodt + "
              f"{a.extra_images} x 120 MB): {dt:6.2f} s   peak RSS {rss / 1024:6.1f} MiB")
        over = t / "over-limit.tar.gz"
        make_big_images(over, 100, 0, 0)
        boot, root = fresh_card(t / "card")
        dt, rss = rss_of([sys.executable, "-m", "r2wifi", "kernel", "install", str(over), "--boot", str(boot),
                          "--root", str(root), "--yes", "--no-depmod"], env, ok=("2",))
        print(f"kernel over the image limit (100 MB, refused): {dt:6.2f} s   peak RSS {rss / 1024:6.1f} MiB "
              "(goal: under 150 MiB whatever the input)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
