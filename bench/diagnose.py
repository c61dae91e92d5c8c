"""Benchmark ``r2wifi diagnose`` on a big hostapd ``-dd`` + kernel log built from the corpus.

Builds ~``--size-mb`` MB (default 1024) in a temp dir by repeating the corpus' debug hostapd log
and kernel excerpts (with fresh MACs per block so stations stay distinct but bounded), then runs
the analysis in a child process per path - the mypyc-compiled modules with the external-grep fast
path (when ``r2wifi accel build`` was run), pure Python with grep, and pure Python with its own
scanner (``R2WIFI_NO_GREP=1``) - and ``grep -cE`` over exactly the keyword pattern the analyzer
prefilters with, and prints per path: MB/s, peak RSS, and the ratio to grep.
Goals: >= 150 MB/s, peak RSS < 150 MB, within 5x of grep.

Hostile inputs (``--hostile``, also run by default): a 1 MB gzip bomb (1 GiB of zeros, no newline),
the same log newest-first (a GUI paste, read backwards), and redaction of 64 KiB and 1 MiB of
backtracking bait; each prints its time and peak RSS (goal < 150 MB whatever the input).

    .venv/bin/python bench/diagnose.py --size-mb 200
    .venv/bin/python bench/diagnose.py --size-mb 200 --only hostile
    .venv/bin/python bench/diagnose.py --size-mb 300 --only grep --baseline /tmp/old   # side by side
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from r2wifi.diagnose.analyze import diagnose  # noqa: E402
from r2wifi.logs.events import KEYWORDS  # noqa: E402
from r2wifi.logs.readers import grep_binary, grep_pattern  # noqa: E402

CORPUS = Path(os.environ.get("R2WIFI_SHARED", REPO.parent / "shared")) / "corpus" / "dev"


def build(path: Path, size_mb: int) -> int:
    hostapd = (CORPUS / "001-rpi4-brcmfmac-dd-psk-mismatch-disassoc-loop" / "hostapd.log").read_text()
    extra = (CORPUS / "002-iwlwifi-d-sta-deauth-reason3-after-handshake" / "hostapd.log").read_text()
    kernel = (CORPUS / "033-rpi4-ap-sdio-cmd53-timeouts-too-many-stas" / "syslog.log").read_text()
    kmsg = "".join(
        f"6,{i},{i * 1000},-;p2pHardStartXmit:(TX INFO)netif_stop_subqueue for ap0, Queue len: 512\n"
        f"6,{i},{i * 1000 + 500},-;kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: 1. Queue len: 0\n"
        for i in range(5)
    )
    target = size_mb << 20
    written = 0
    block = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            mac = f"02:00:00:{(block >> 8) & 0xff:02x}:{block & 0xff:02x}:{block % 7:02x}"
            text = hostapd.replace("XX:XX:XX:XX:XX:XX", mac) + extra + kernel + kmsg
            out.write(text)
            written += len(text.encode("utf-8"))
            block = (block + 1) % 300
    return written


def grep_seconds(path: Path) -> float:
    """``grep -cE`` over exactly the keyword set the analyzer prefilters with (same pattern, same locale)."""
    t0 = time.perf_counter()
    p = subprocess.run(["grep", "-cE", grep_pattern(KEYWORDS), str(path)], capture_output=True, text=True,
                       check=False, env=dict(os.environ, LC_ALL="C"))
    dt = time.perf_counter() - t0
    if p.returncode > 1:
        raise SystemExit(f"grep failed: {p.stderr.strip()}")
    return dt


def run_child(log: Path, no_grep: bool, compiled: bool = False, tree: Path | None = None) -> dict[str, float]:
    """One diagnosis in a fresh process (so each path gets its own peak RSS); ``tree``: another checkout's
    own ``bench/diagnose.py --child`` and package (a baseline on the same input)."""
    env = dict(os.environ)
    env.pop("R2WIFI_NO_GREP", None)
    if no_grep:
        env["R2WIFI_NO_GREP"] = "1"
    env["R2WIFI_ACCEL"] = "1" if compiled else "0"
    script = Path(__file__) if tree is None else tree / "bench" / "diagnose.py"
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([sys.executable, str(script), "--child", str(log)], capture_output=True, text=True,
                       check=True, env=env, cwd=tree)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out: dict[str, float] = json.loads(p.stdout)
    # CPU seconds of the child and its grep, start-up and input included (steadier than wall time under load)
    out["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return out


def compare(log: Path, mb: float, baseline: Path, rounds: int) -> None:
    """Python+grep of this tree and of ``baseline`` on the same input, alternating (same load for both)."""
    here: list[dict[str, float]] = []
    there: list[dict[str, float]] = []
    for _ in range(rounds):
        here.append(run_child(log, False))
        there.append(run_child(log, False, tree=baseline))
    for label, rs in (("this tree:", here), (f"baseline {baseline}:", there)):
        speeds = " ".join(f"{mb / r['dt']:.0f}" for r in rs)
        cpus = " ".join(f"{r['cpu']:.2f}" for r in rs)
        print(f"{label} Python+grep {speeds} MB/s (best {mb / min(r['dt'] for r in rs):.0f}); "
              f"CPU (child + grep) {cpus} s")
    a, b = min(r["dt"] for r in here), min(r["dt"] for r in there)
    ca, cb = min(r["cpu"] for r in here), min(r["cpu"] for r in there)
    print(f"speed ratio:  this / baseline = {b / a:.2f} wall, {cb / ca:.2f} CPU (best of {rounds} each)")


def build_bomb(path: Path, gib: int = 1) -> int:
    """A gzip stream of ``gib`` GiB of zeros (about 1 MB per GiB)."""
    import zlib

    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    with open(path, "wb") as fh:
        for _ in range(gib << 10):
            fh.write(z.compress(block))
        fh.write(z.flush())
    return path.stat().st_size


def build_newest_first(src: Path, path: Path) -> None:
    """``src`` with its lines in reverse order and syslog stamps counting down (a GUI log view)."""
    n = 0
    with open(src, "rb") as fh:
        for _ in fh:
            n += 1
    lines: list[bytes] = []
    # written in blocks from the end of src backwards, without holding src in memory
    size = src.stat().st_size
    with open(src, "rb") as fh, open(path, "wb") as out:
        pos = size
        tail = b""
        i = 0
        while pos > 0:
            start = max(0, pos - (4 << 20))
            fh.seek(start)
            buf = fh.read(pos - start) + tail
            pos = start
            parts = buf.split(b"\n")
            tail = parts[0] if pos > 0 else b""
            body = parts[1:] if pos > 0 else parts
            lines = [ln for ln in reversed(body) if ln]
            for ln in lines:
                t = 86399 - (i * 86399 // max(n, 1))
                out.write(b"Aug  4 %02d:%02d:%02d | hostapd | 1 | " % (t // 3600, t // 60 % 60, t % 60) + ln + b"\n")
                i += 1


def run_hostile(log: Path, tmp: Path) -> None:
    bomb = tmp / "bomb.log.gz"
    size = build_bomb(bomb)
    r = run_child(bomb, False)
    print(f"gzip bomb:    {size / 1e6:.1f} MB -> 1 GiB of zeros: {r['dt']:.2f} s, peak RSS {r['rss']:.0f} MB "
          f"(goal < 150); notes: {r['notes']}")
    rev = tmp / "newest-first.log"
    build_newest_first(log, rev)
    mb = rev.stat().st_size / (1 << 20)
    r = run_child(rev, False)
    print(f"newest-first: {mb:.0f} MB read backwards: {r['dt']:.2f} s = {mb / r['dt']:.0f} MB/s, "
          f"peak RSS {r['rss']:.0f} MB (goal < 150), newest_first={r['newest_first']}")
    rev.unlink()
    p = subprocess.run([sys.executable, __file__, "--redact-child"], capture_output=True, text=True, check=True)
    print(p.stdout, end="")


def redact_child() -> int:
    """Time learning + redacting backtracking bait of 64 KiB and 1 MiB (linear: ratio about 16)."""
    from r2wifi.diagnose.redact import Redactor

    bait = {
        "ssid= then blanks": lambda n: "ssid=x" + " " * n + "y",
        "unclosed quotes": lambda n: 'ssid "' * (n // 6),
        "hyphen run after @": lambda n: "@ " + "a-" * (n // 2),
        "DHCPACK( run": lambda n: "DHCPACK(" * (n // 8),
    }
    for name, make in bait.items():
        dts = []
        for n in (64 << 10, 1 << 20):
            text = make(n)
            t0 = time.perf_counter()
            r = Redactor()
            r.learn_line(text)
            r.redact_text(text)
            dts.append(time.perf_counter() - t0)
        print(f"redact {name + ':':20} 64 KiB {dts[0]:.3f} s, 1 MiB {dts[1]:.3f} s "
              f"(ratio {dts[1] / max(dts[0], 1e-9):.0f}; linear ~16, quadratic ~256)")
    return 0


def child(log: str) -> int:
    from r2wifi import accel

    want = os.environ.get("R2WIFI_ACCEL") == "1"
    if want != accel.active():
        raise SystemExit(f"child: compiled modules {'not ' if want else ''}loaded as asked")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    result = diagnose([log])
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"dt": dt, "rss": rss, "rss0": rss0, "findings": len(result["findings"]),  # type: ignore[arg-type]
                      "stations": result["metrics"]["stations"],  # type: ignore[index]
                      "notes": result.get("notes"),
                      "newest_first": result["inputs"][0]["newest_first"]}))  # type: ignore[index]
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--child", metavar="LOG", help=argparse.SUPPRESS)
    ap.add_argument("--only", choices=("compiled", "grep", "python", "hostile"),
                    help="measure only this path, or only the hostile inputs (default: all)")
    ap.add_argument("--redact-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", metavar="TREE", type=Path,
                    help="also time another checkout (e.g. a git worktree of an older commit) on the same input, "
                         "alternating with this tree, and print both figures and their ratio")
    ap.add_argument("--rounds", type=int, default=3, help="runs per tree with --baseline (default 3)")
    ns = ap.parse_args()
    if ns.child:
        return child(ns.child)
    if ns.redact_child:
        return redact_child()
    with tempfile.TemporaryDirectory(prefix="r2wifi-bench-") as tmp:
        log = Path(tmp) / "hostapd-dd-and-kernel.log"
        n = build(log, ns.size_mb)
        mb = n / (1 << 20)
        g = grep_seconds(log)
        runs = []
        from r2wifi import accel

        built, why = accel.check()
        if grep_binary() is not None and ns.only in (None, "compiled"):
            if built is not None:
                runs.append(("compiled+grep", run_child(log, False, compiled=True)))
            else:
                print(f"compiled:     skipped: {why}")
        if grep_binary() is not None and ns.only in (None, "grep"):
            runs.append(("Python+grep", run_child(log, False)))
        if ns.only in (None, "python"):
            runs.append(("pure Python", run_child(log, True)))
        g = min(g, grep_seconds(log))
        if ns.baseline is not None:
            compare(log, mb, ns.baseline.resolve(), max(1, ns.rounds))
        if ns.only in (None, "hostile"):
            run_hostile(log, Path(tmp))
    if not runs:
        return 0
    first = runs[0][1]
    print(f"input:        {mb:.0f} MB, {first['findings']:.0f} findings, {first['stations']:.0f} stations")
    print(f"grep -cE:     {g:.2f} s = {mb / g:.0f} MB/s over the analyzer's {len(set(KEYWORDS))} keywords")
    for label, r in runs:
        dt = r["dt"]
        print(f"{label + ':':14} {dt:.2f} s = {mb / dt:.0f} MB/s (goal >= 150), peak RSS {r['rss']:.0f} MB "
              f"(at start {r['rss0']:.0f}; goal < 150), diagnose/grep = {dt / g:.2f}x (goal <= 5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
