"""AP bring-up and recovery figures on the simulator, side by side with wifi.sh (run as root).

    .venv/bin/python bench/ap.py [--timing realistic|fast] [--stall-seconds 5] [--cycles 0]

Prints, in one run:
* time from starting ``r2wifi up`` to AP-ENABLED (``up`` returns after STATUS state=ENABLED and
  dnsmasq), next to the sum of the fixed sleeps in frank-w's wifi.sh (3 + 5 + 5 + 2 = 15 s) and
  the simulated driver's own inherent delay (goal: up < 2 s + that delay);
* for an injected TX-queue stall under ``r2wifi run``: detection time (inject -> the ladder's
  decision; = stall_seconds by design), recovery time (decision -> AP ENABLED again), and the
  total (goal: recovery < 10 s);
* for ``r2wifi reload`` under ``r2wifi run``, one change at a time (passphrase, channel, shaping rate, a
  DHCP reservation): the AP's downtime, sampled every 20 ms on hostapd's control socket (STATUS not
  answering or state not ENABLED), and whether hostapd / dnsmasq kept their pids (goal: no downtime
  for shaping and reservations, under 2 s for passphrase and channel);
* with ``--cycles N``: N up/down cycles, seconds per cycle, and leaked processes / simulator fds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WIFI_SH_SLEEPS = 3 + 5 + 5 + 2


class Bed:
    def __init__(self, root: Path, timing: str, stall_seconds: int) -> None:
        sys.path.insert(0, str(REPO))
        from r2wifi.wmt.fwgen import write_firmware_set

        self.root = root
        self.state = root / "state"
        write_firmware_set(root / "fw")
        self.env = dict(os.environ, R2WIFI_STATE_DIR=str(self.state), R2WIFI_BACKEND="sim",
                        PYTHONPATH=str(REPO))
        self.config = root / "r2wifi.toml"
        self.config.write_text(
            f'[chip]\nbackend = "sim"\nfirmware_dir = "{root}/fw/etc/firmware"\n'
            '[ap]\npassphrase = "correct horse battery"\n'
            '[shaping]\nenabled = true\nrate = "8mbit"\n[dhcp]\ndns_port = 0\n'
            f"[supervisor]\nstall_seconds = {stall_seconds}\n")
        self.cli("--backend", "sim", "sim", "start", "--timing", timing, "--firmware-dir",
                 f"{root}/fw/etc/firmware", check=True)

    def cli(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "r2wifi", *args], capture_output=True, text=True,
                              env=self.env, cwd=self.root)
        if check and proc.returncode != 0:
            raise SystemExit(f"r2wifi {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def status(self) -> dict[str, object]:
        out = self.cli("status", "--json", "--config", str(self.config))
        return json.loads(out.stdout) if out.returncode == 0 else {}

    def enabled(self) -> bool:
        hp = self.status().get("hostapd")
        return isinstance(hp, dict) and hp.get("state") == "ENABLED"

    def close(self) -> None:
        self.cli("down", "-q", "--config", str(self.config))
        self.cli("--backend", "sim", "sim", "stop")


def wait(pred, timeout: float) -> float:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise SystemExit("timed out")
        time.sleep(0.02)
    return time.monotonic()


def bench_up(bed: Bed) -> None:
    t0 = time.monotonic()
    bed.cli("up", "-q", "--config", str(bed.config), check=True)
    took = time.monotonic() - t0
    sim = json.loads(bed.cli("--backend", "sim", "sim", "status", "--json").stdout)
    inherent = float(sim.get("inherent_delay_s", 0.0))
    print(f"up -> AP-ENABLED      r2wifi up {took:6.2f} s   wifi.sh sleeps {WIFI_SH_SLEEPS:5.1f} s   "
          f"ratio {WIFI_SH_SLEEPS / took:5.1f}x faster")
    print(f"  driver inherent delay {inherent:6.2f} s   r2wifi's own cost {took - inherent:5.2f} s "
          f"(goal < 2 s + inherent: {'met' if took < 2 + inherent else 'MISSED'})")


def bench_stall(bed: Bed, stall_seconds: int) -> None:
    bed.cli("down", "-q", "--config", str(bed.config))
    log = bed.state / "ap" / "supervisor.log"
    proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(bed.config)],
                            env=bed.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: log.exists() and "supervising" in log.read_text(), 120)
        t_inject = time.monotonic()
        bed.cli("--backend", "sim", "sim", "inject", "txq-stall", check=True)
        t_decided = wait(lambda: "recovery: reset-wifi (reason" in log.read_text(), 120)
        wait(lambda: "reset-wifi done" in log.read_text(), 120)
        t_back = wait(bed.enabled, 60)
        m = re.search(r"reset-wifi done in ([\d.]+) s", log.read_text())
        print(f"stall -> recovered     detection {t_decided - t_inject:5.2f} s (stall_seconds {stall_seconds})   "
              f"recovery {t_back - t_decided:5.2f} s (rung itself {m.group(1) if m else '?'} s)   "
              f"total {t_back - t_inject:5.2f} s (goal recovery < 10 s: "
              f"{'met' if t_back - t_decided < 10 else 'MISSED'})")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


class Sampler:
    """Polls hostapd's STATUS every ``every`` s in a thread; sums the time it was not ENABLED/answering."""

    def __init__(self, ctrl: Path, every: float = 0.02) -> None:
        import threading

        self.ctrl, self.every = ctrl, every
        self.down = 0.0
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _up(self, client: object) -> bool:
        from r2wifi.hostap.ctrl import CtrlClient, CtrlError

        assert isinstance(client, CtrlClient)
        try:
            return client.status().get("state") == "ENABLED"
        except CtrlError:
            client.close_socket()
            return False

    def _run(self) -> None:
        from r2wifi.hostap.ctrl import CtrlClient

        client = CtrlClient(self.ctrl, timeout=0.5)
        since: float | None = None
        while not self.stop.is_set():
            now = time.monotonic()
            up = self._up(client)
            self.samples += 1
            if not up and since is None:
                since = now
            elif up and since is not None:
                self.down += now - since
                since = None
            self.stop.wait(self.every)
        if since is not None:
            self.down += time.monotonic() - since
        client.close()

    def finish(self) -> float:
        self.stop.set()
        self.thread.join()
        return self.down


RELOAD_CASES = (  # (key, what it changes in the configuration file, goal for the downtime in s)
    ("ap.passphrase", lambda t: t.replace("correct horse battery", "another passphrase here"), 2.0),
    ("ap.channel", lambda t: t.replace("[ap]\n", "[ap]\nchannel = 11\n", 1), 2.0),
    ("shaping.rate", lambda t: t.replace('rate = "8mbit"', 'rate = "4mbit"'), 0.0),
    ("dhcp.reservation", lambda t: t + '[[dhcp.reservation]]\nmac = "02:0a:0b:0c:0d:0e"\nip = "192.168.10.50"\n', 0.0),
)


def bench_reload(bed: Bed) -> None:
    bed.cli("down", "-q", "--config", str(bed.config))
    log = bed.state / "ap" / "supervisor.log"
    original = bed.config.read_text()
    runs = log.read_text().count("supervising ") if log.exists() else 0  # the stall bench's run said it too
    proc = subprocess.Popen([sys.executable, "-m", "r2wifi", "run", "--config", str(bed.config)],
                            env=bed.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["R2WIFI_STATE_DIR"] = str(bed.state)  # this process's control client sockets
    ctrl = bed.state / "ctrl" / "hostapd-ap0" / "ap0"

    def pid(name: str) -> int | None:
        try:
            return int((bed.state / "run" / f"{name}-ap0.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    try:
        wait(lambda: log.exists() and log.read_text().count("supervising ") > runs, 120)
        for key, edit, goal in RELOAD_CASES:
            before = (pid("hostapd"), pid("dnsmasq"))
            seen = log.read_text().count(f"reload: {key} ")
            bed.config.write_text(edit(bed.config.read_text()))
            sampler = Sampler(ctrl)
            time.sleep(0.2)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGHUP)
            wait(lambda k=key, n=seen: log.read_text().count(f"reload: {k} ") > n, 120)
            took = time.monotonic() - t0
            time.sleep(0.5)  # keep sampling a little after the supervisor says it is done
            down = sampler.finish()
            line = [ln for ln in log.read_text().splitlines() if f"reload: {key} " in ln][-1]
            after = (pid("hostapd"), pid("dnsmasq"))
            same = ", ".join(f"{n} {'same pid' if a == b else 'new pid'}" for n, a, b in
                             zip(("hostapd", "dnsmasq"), before, after, strict=True))
            met = down <= goal if goal else down == 0.0
            print(f"reload {key:<17} downtime {down:5.2f} s ({sampler.samples} samples, goal "
                  f"{'none' if not goal else f'< {goal:g} s'}: {'met' if met else 'MISSED'})   "
                  f"applied in {took:5.2f} s   {same}")
            print(f"  {line.split(' ', 1)[1]}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        bed.config.write_text(original)


def bench_cycles(bed: Bed, cycles: int) -> None:
    sim_pid = int((bed.state / "sim" / "sim.pid").read_text().split()[0])
    bed.cli("down", "-q", "--config", str(bed.config))
    fds0 = len(os.listdir(f"/proc/{sim_pid}/fd"))
    t0 = time.monotonic()
    for _ in range(cycles):
        bed.cli("up", "-q", "--config", str(bed.config), check=True)
        bed.cli("down", "-q", "--config", str(bed.config), check=True)
    took = time.monotonic() - t0
    fds1 = len(os.listdir(f"/proc/{sim_pid}/fd"))
    marker = str(bed.root).encode()
    leaked = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes() and int(pid) != sim_pid:
                leaked.append(pid)
        except OSError:
            pass
    print(f"up/down cycles        {cycles} cycles in {took:6.1f} s = {took / cycles:5.2f} s/cycle   "
          f"simulator fds {fds0} -> {fds1}   leaked processes {len(leaked)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timing", default="realistic", choices=("realistic", "fast"))
    ap.add_argument("--stall-seconds", type=int, default=5)
    ap.add_argument("--cycles", type=int, default=0, help="also run N up/down cycles (fast timing advised)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/ap.py needs root (network namespaces)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="r2wifi-bench-") as tmp:
        bed = Bed(Path(tmp), args.timing, args.stall_seconds)
        try:
            print(f"simulator timing: {args.timing}")
            bench_up(bed)
            bench_stall(bed, args.stall_seconds)
            bench_reload(bed)
            if args.cycles:
                bench_cycles(bed, args.cycles)
        finally:
            bed.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
