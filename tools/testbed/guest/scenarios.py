"""Fault scenarios run INSIDE the hwsim guest: real hostapd + wpa_supplicant on mac80211_hwsim.

Theory of operation: each scenario is a function ``(bed) -> None`` in :data:`SCENARIOS`. The
:class:`Bed` gives it a fresh world: the AP radio (phy0/wlan0) in the initial netns with
192.168.77.1/24, the station radio (phy1/wlan1) moved into its own netns ``sta``, and helpers to
start hostapd / wpa_supplicant at ``-dd -t`` with logs written (absolute paths) under the output
directory, which is the 9p work share, so the host reads them directly. A scenario drives the fault
with the deterministic knobs of shared/spec/testbed.md §5.4 (tc u32 drop of 0x888e with
``control_port=0``, hwsim debugfs ``group``, ``ip link set down``, ``iw station del``, SIGKILL)
and waits for *events in the logs* with generous timeouts (TCG time is slow and jittery); it never
asserts durations. Teardown always runs: processes stopped, tc/debugfs restored, netns deleted (the
phy goes back to the initial netns), kernel log slice saved.

The outcome is one JSON object printed as the last stdout line::

    {"scenario", "ok", "error", "steps": [{"what", "ok", "secs"}], "data": {...}, "logs": {name: path}}

``ok`` is false when a wait timed out or a command failed; the host-side tests assert on the logs
themselves, the steps only say how far the scenario got. :data:`LABELS` holds, per fault scenario,
the finding kinds (shared/spec/finding-kinds.md) that are true *by construction*; tools/gen_corpus.py
writes them to labels.toml. ``r2wifi_ap`` and the ``sv_<fault>`` scenarios run the AP side under r2wifi
itself (``up --ap`` + the ``run`` supervisor, :class:`SupervisedAp`) and record the supervisor's
reaction (its log, hostapd pids before/after); their labels are :data:`SUPERVISED_LABELS`. Rules: stdlib only (imports over 9p are slow); no ``shell=True``; the
passphrase is written only to the 0600 config files, never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

AP_IF, STA_IF, AP_PHY, STA_PHY = "wlan0", "wlan1", "phy0", "phy1"
AP_MAC, STA_MAC = "02:00:00:00:00:00", "02:00:00:00:01:00"
SSID = "tb-hwsim"
PASSPHRASE = "correct-horse-77"  # test-only secret; never printed
NETNS = "sta"
AP_IP, STA_IP = "192.168.77.1", "192.168.77.10"

#: scenario -> (expected kinds, not expected kinds), true by construction of the fault.
LABELS: dict[str, tuple[list[str], list[str]]] = {
    "baseline": (["handshake_completed", "clean_shutdown", "station_initiated_disconnect"],
                 ["wrong_passphrase", "handshake_timeout", "missing_eapol_rx", "station_inactivity",
                  "startup_failure", "assoc_disassoc_loop"]),
    "wrong_psk": (["wrong_passphrase"],
                  ["handshake_completed", "station_inactivity", "startup_failure"]),
    "eapol_drop": (["handshake_timeout", "missing_eapol_rx", "deauth_reason=15"],
                   ["handshake_completed", "wrong_passphrase", "station_inactivity", "startup_failure"]),
    "out_of_range": (["handshake_completed", "station_inactivity"],
                     ["wrong_passphrase", "handshake_timeout", "startup_failure"]),
    "radio_down": (["handshake_completed", "station_initiated_disconnect", "deauth_reason=3"],
                   ["wrong_passphrase", "handshake_timeout", "station_inactivity", "startup_failure"]),
    # the kernel forgets the station; hostapd's inactivity timer then disassociates it (reason 4)
    "station_del": (["handshake_completed", "deauth_reason=4"],
                    ["wrong_passphrase", "handshake_timeout", "startup_failure"]),
    "kill_hostapd": (["handshake_completed"],
                     ["clean_shutdown", "wrong_passphrase", "handshake_timeout", "startup_failure"]),
}


def sh(argv: list[str], *, check: bool = True, timeout: float = 60, ns: str | None = None,
       merge: bool = False) -> str:
    """Run argv (in netns ``ns``); stdout (+ stderr with ``merge``). RuntimeError on failure if ``check``."""
    if ns:
        argv = ["ip", "netns", "exec", ns, *argv]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} -> rc {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return proc.stdout + (proc.stderr if merge else "")


def reset_world() -> None:
    """Whatever a scenario (or r2wifi) left behind, remove it: this VM is ours alone.

    Daemons are killed by pid (pgrep -x inside the guest), the AP's root qdisc and addresses go,
    the station netns is deleted (its phy returns), the hwsim medium group is back to 1.
    """
    for prog in ("wpa_supplicant", "hostapd", "dnsmasq"):
        for pid in sh(["pgrep", "-x", prog], check=False).split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
    sh(["tc", "qdisc", "del", "dev", AP_IF, "root"], check=False)
    sh(["ip", "addr", "flush", "dev", AP_IF], check=False)
    if Path(f"/run/netns/{NETNS}").exists():
        sh(["ip", "netns", "del", NETNS], check=False)
        for _ in range(50):
            if Path(f"/sys/class/ieee80211/{STA_PHY}").exists():
                break
            time.sleep(0.1)
    group = Path(f"/sys/kernel/debug/ieee80211/{STA_PHY}/hwsim/group")
    if group.exists():
        group.write_text("1\n")


class StepFailed(RuntimeError):
    pass


#: every wait's timeout is multiplied by this (env TB_SLACK, default 4): with both cores busy, TCG guest
#: time runs several times slower and the scenario must still wait for what really happens
SLACK = max(1.0, float(os.environ.get("TB_SLACK", "4") or 4))


def wait_phy_home() -> bool:
    """Wait until the station phy is back in the initial netns: cfg80211 moves it there when its netns
    is destroyed, from a kernel work queue (seconds later when both cores are busy)."""
    deadline = time.monotonic() + 10 * SLACK
    while not Path(f"/sys/class/ieee80211/{STA_PHY}").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class Bed:
    """The world of one scenario (see the module docstring)."""

    def __init__(self, out: Path, name: str) -> None:
        self.out = out
        self.name = name
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.steps: list[dict[str, Any]] = []
        self.data: dict[str, Any] = {}
        self.logs: dict[str, str] = {}
        self.cleanups: list[Callable[[], object]] = []
        self.t0 = time.monotonic()
        self.conf = Path("/tmp/tb") / name
        self.conf.mkdir(parents=True, exist_ok=True)
        self._dmesg_start = len(sh(["dmesg"], check=False).splitlines())

    # -- world -------------------------------------------------------------------------------
    def setup(self, ap_address: bool = True) -> None:
        wait_phy_home()  # the last scenario's netns may still be being destroyed (slow under load)
        reset_world()
        sh(["ip", "netns", "add", NETNS])
        self.cleanups.append(lambda: sh(["ip", "netns", "del", NETNS], check=False))
        sh(["iw", "phy", STA_PHY, "set", "netns", "name", NETNS])
        sh(["ip", "link", "set", "lo", "up"], ns=NETNS)
        sh(["ip", "addr", "flush", "dev", AP_IF], check=False)
        if ap_address:
            sh(["ip", "addr", "add", f"{AP_IP}/24", "dev", AP_IF])

    def teardown(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - keep tearing down
                self.data.setdefault("teardown_errors", []).append(str(exc))
        wait_phy_home()
        reset_world()
        kernel = "\n".join(sh(["dmesg"], check=False).splitlines()[self._dmesg_start:])
        self.write_log("kernel.log", kernel + "\n")

    def write_log(self, name: str, text: str) -> None:
        p = self.out / name
        p.write_text(text)
        self.logs[name] = str(p)

    # -- processes ---------------------------------------------------------------------------
    def spawn(self, name: str, argv: list[str], ns: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        if ns:
            argv = ["ip", "netns", "exec", ns, *argv]
        err = open(self.out / f"{name}.stderr", "wb")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT, env=env)
        self.procs[name] = proc
        return proc

    def stop(self, name: str, sig: int = signal.SIGTERM) -> int | None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        errf = self.out / f"{name}.stderr"
        if errf.exists() and errf.stat().st_size == 0:
            errf.unlink()
        return proc.returncode

    def hostapd(self, *, extra: str = "", passphrase: str = PASSPHRASE) -> None:
        conf = self.conf / "hostapd.conf"
        text = (f"interface={AP_IF}\ndriver=nl80211\nctrl_interface=/run/hostapd\nssid={SSID}\n"
                "hw_mode=g\nchannel=1\nwpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\n"
                f"wpa_passphrase={passphrase}\nap_max_inactivity=5\n{extra}")
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        log = self.out / "hostapd.log"
        self.logs["hostapd.log"] = str(log)
        self.spawn("hostapd", ["hostapd", "-dd", "-t", "-f", str(log), str(conf)])
        self.wait_for(lambda: "state=ENABLED" in self.hostapd_cli("status"), "hostapd ENABLED", 30)

    def hostapd_cli(self, *cmd: str) -> str:
        return sh(["hostapd_cli", "-p", "/run/hostapd", "-i", AP_IF, *cmd], check=False, timeout=10)

    def wpa_supplicant(self, *, psk: str = PASSPHRASE, driver_param: str = "") -> None:
        conf = self.conf / "wpa_supplicant.conf"
        text = (f"ctrl_interface=/run/wpa_supplicant\nnetwork={{\n ssid=\"{SSID}\"\n key_mgmt=WPA-PSK\n"
                f" psk=\"{psk}\"\n scan_freq=2412\n}}\n")
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        log = self.out / "wpa_supplicant.log"
        self.logs["wpa_supplicant.log"] = str(log)
        extra = ["-p", driver_param] if driver_param else []
        self.spawn("wpa_supplicant", ["wpa_supplicant", "-dd", "-t", "-D", "nl80211", "-i", STA_IF, *extra,
                                      "-c", str(conf), "-f", str(log)], ns=NETNS)

    def dnsmasq(self) -> None:
        log = self.out / "dnsmasq.log"
        self.logs["dnsmasq.log"] = str(log)
        self.spawn("dnsmasq", ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", f"--interface={AP_IF}",
                               "--bind-interfaces", "--except-interface=lo", "--port=0", "--no-ping",
                               "--dhcp-range=192.168.77.50,192.168.77.99,255.255.255.0,1h",
                               f"--dhcp-leasefile={self.conf / 'leases'}", "--log-dhcp",
                               f"--log-facility={log}"])

    # -- waiting -----------------------------------------------------------------------------
    def wait_for(self, pred: Callable[[], bool], what: str, timeout: float) -> float:
        timeout *= SLACK  # a wait ends on its event: the slack only costs time when the event never comes
        t0 = time.monotonic()
        while True:
            try:
                if pred():
                    secs = round(time.monotonic() - t0, 2)
                    self.steps.append({"what": what, "ok": True, "secs": secs})
                    return secs
            except OSError:
                pass
            if time.monotonic() - t0 > timeout:
                self.steps.append({"what": what, "ok": False, "secs": round(time.monotonic() - t0, 2)})
                raise StepFailed(f"timed out after {timeout}s waiting for: {what}")
            time.sleep(0.2)

    def log_has(self, name: str, pattern: str) -> bool:
        p = Path(self.logs.get(name, self.out / name))
        return p.exists() and re.search(pattern, p.read_text(errors="replace")) is not None

    def wait_log(self, name: str, pattern: str, timeout: float = 30) -> float:
        return self.wait_for(lambda: self.log_has(name, pattern), f"{name}: /{pattern}/", timeout)

    def connect(self) -> None:
        self.wpa_supplicant()
        self.wait_log("wpa_supplicant.log", r"CTRL-EVENT-CONNECTED", 40)
        self.wait_log("hostapd.log", r"AP-STA-CONNECTED " + STA_MAC, 20)

    def dhcp_lease(self) -> None:
        """The station asks for a DHCP lease over the air (busybox udhcpc); records it as data["lease"]."""
        script = self.conf / "udhcpc.sh"
        script.write_text('#!/bin/sh\n[ "$1" = bound ] && ip addr add "$ip/${mask:-24}" dev "$interface"\nexit 0\n')
        script.chmod(0o755)
        out = self.step("dhcp lease", lambda: sh(["busybox", "udhcpc", "-i", STA_IF, "-n", "-q", "-f", "-t", "10",
                                                  "-s", str(script)], ns=NETNS, timeout=90, merge=True))
        m = re.search(r"lease of (\S+) obtained", str(out))
        self.data["lease"] = m.group(1) if m else None

    def step(self, what: str, fn: Callable[[], object]) -> object:
        t0 = time.monotonic()
        try:
            res = fn()
        except Exception:
            self.steps.append({"what": what, "ok": False, "secs": round(time.monotonic() - t0, 2)})
            raise
        self.steps.append({"what": what, "ok": True, "secs": round(time.monotonic() - t0, 2)})
        return res


# -- scenarios ---------------------------------------------------------------------------------
def s_baseline(bed: Bed) -> None:
    """Healthy: connect, DHCP lease over the air, ping, station leaves, AP shut down cleanly."""
    bed.hostapd()
    bed.dnsmasq()
    bed.connect()
    bed.dhcp_lease()
    ping = bed.step("ping", lambda: sh(["busybox", "ping", "-c", "3", "-W", "5", AP_IP], ns=NETNS, timeout=60))
    bed.data["ping_ok"] = " 0% packet loss" in str(ping)
    sig = bed.hostapd_cli("sta", STA_MAC)
    m = re.search(r"^signal=(-?\d+)", sig, re.M)
    bed.data["sta_signal"] = int(m.group(1)) if m else None
    bed.stop("wpa_supplicant")
    bed.wait_log("hostapd.log", r"AP-STA-DISCONNECTED " + STA_MAC, 20)
    bed.stop("dnsmasq")
    bed.stop("hostapd")


def s_wrong_psk(bed: Bed) -> None:
    """The station uses a wrong passphrase: MIC failure on 2/4, PSK mismatch, client gives up."""
    bed.hostapd()
    bed.wpa_supplicant(psk="wrong-passphrase-9")
    bed.wait_log("hostapd.log", r"AP-STA-POSSIBLE-PSK-MISMATCH " + STA_MAC, 40)
    bed.wait_log("wpa_supplicant.log", r"CTRL-EVENT-SSID-TEMP-DISABLED .*reason=WRONG_KEY", 60)
    bed.stop("wpa_supplicant")
    bed.stop("hostapd")


def s_eapol_drop(bed: Bed) -> None:
    """Every EAPOL frame the AP sends is dropped on wlan0 egress: handshake times out, deauth 15."""
    sh(["tc", "qdisc", "add", "dev", AP_IF, "root", "handle", "1:", "prio"])
    bed.cleanups.append(lambda: sh(["tc", "qdisc", "del", "dev", AP_IF, "root"], check=False))
    sh(["tc", "filter", "add", "dev", AP_IF, "parent", "1:", "protocol", "0x888e", "prio", "1",
        "u32", "match", "u32", "0", "0", "action", "drop"])
    bed.hostapd(extra="driver_params=control_port=0\n")
    bed.wpa_supplicant()
    bed.wait_log("hostapd.log", r"PTKSTART: Retry limit \d+ reached", 60)
    bed.wait_log("wpa_supplicant.log", r"CTRL-EVENT-DISCONNECTED .*reason=15", 30)
    bed.stop("wpa_supplicant")
    bed.stop("hostapd")


def s_out_of_range(bed: Bed) -> None:
    """The station goes silent (hwsim group): beacon loss on the client, AP drops it for inactivity."""
    bed.hostapd()
    bed.connect()
    group = Path(f"/sys/kernel/debug/ieee80211/{STA_PHY}/hwsim/group")
    group.write_text("2\n")
    bed.cleanups.append(lambda: group.write_text("1\n"))
    bed.wait_log("hostapd.log", r"AP-STA-DISCONNECTED " + STA_MAC, 90)
    bed.data["inactivity_logged"] = bed.log_has("hostapd.log", r"inactiv")
    bed.stop("wpa_supplicant")
    bed.stop("hostapd")


def s_radio_down(bed: Bed) -> None:
    """The client's radio is switched off: it deauthenticates (reason 3) on its way down."""
    bed.hostapd()
    bed.connect()
    sh(["ip", "link", "set", STA_IF, "down"], ns=NETNS)
    bed.wait_log("hostapd.log", r"AP-STA-DISCONNECTED " + STA_MAC, 30)
    bed.stop("wpa_supplicant")
    bed.stop("hostapd")


def s_station_del(bed: Bed) -> None:
    """The AP operator removes the station with `iw dev wlan0 station del`."""
    bed.hostapd()
    bed.connect()
    sh(["iw", "dev", AP_IF, "station", "del", STA_MAC])
    bed.wait_log("wpa_supplicant.log", r"CTRL-EVENT-DISCONNECTED", 30)
    bed.wait_log("hostapd.log", r"AP-STA-DISCONNECTED " + STA_MAC, 30)
    # the station comes straight back; stopping it in the middle of that 4-way handshake would make
    # wpa_supplicant log "pre-shared key may be incorrect" (reason=WRONG_KEY): wait until it is back
    bed.wait_for(lambda: len(re.findall(r"CTRL-EVENT-CONNECTED",
                                        (bed.out / "wpa_supplicant.log").read_text(errors="replace"))) >= 2,
                 "wpa_supplicant.log: reconnected", 60)
    bed.stop("wpa_supplicant")
    bed.stop("hostapd")


def s_kill_hostapd(bed: Bed) -> None:
    """hostapd dies with SIGKILL: its log ends abruptly; the client loses the AP."""
    bed.hostapd()
    bed.connect()
    rc = bed.stop("hostapd", signal.SIGKILL)
    bed.data["hostapd_rc"] = rc
    bed.wait_log("wpa_supplicant.log", r"CTRL-EVENT-DISCONNECTED", 60)
    bed.stop("wpa_supplicant")


# -- r2wifi itself as the AP (chip disabled, interface wlan0) -------------------------------------
R2WIFI = [sys.executable, "-m", "r2wifi"]
SHAPING_RATE_BPS = 2_000_000


def r2wifi_config(path: Path) -> None:
    text = ("[chip]\nenabled = false\n\n[ap]\ninterface = \"wlan0\"\n"
            f"ssid = \"{SSID}\"\npassphrase = \"{PASSPHRASE}\"\nchannel = 1\n"
            f"address4 = \"{AP_IP}/24\"\naddress6 = \"\"\n\n[dhcp]\ndns_port = 0\n\n"
            f"[shaping]\nenabled = true\nrate = \"{SHAPING_RATE_BPS // 1_000_000}mbit\"\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def tput_recv(port: int, secs: float) -> dict[str, float]:
    """Accept one TCP stream, count bytes for ``secs`` after the first byte (skipping the first second)."""
    import socket

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    srv.settimeout(60)
    conn, _ = srv.accept()
    conn.settimeout(10)
    first = None
    counted = 0
    t_start = 0.0
    while True:
        try:
            chunk = conn.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        now = time.monotonic()
        if first is None:
            first = now
        if now - first >= 1.0:
            if not t_start:
                t_start = now
            counted += len(chunk)
        if first is not None and now - first >= secs + 1.0:
            break
    conn.close()
    span = (time.monotonic() - t_start) if t_start else 0.0
    return {"bytes": counted, "secs": round(span, 3), "mbit": round(counted * 8 / span / 1e6, 3) if span else 0.0}


def tput_send(host: str, port: int, secs: float) -> None:
    import socket

    # the receiver is a fresh python in the station's netns: under load its start-up takes many seconds
    deadline = time.monotonic() + 10 * SLACK
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"cannot connect to {host}:{port} within {10 * SLACK:.0f}s") from None
            time.sleep(0.2)
    data = b"x" * 65536
    end = time.monotonic() + secs
    try:
        while time.monotonic() < end:
            sock.sendall(data)
    except OSError:
        pass
    sock.close()


def s_r2wifi_ap(bed: Bed) -> None:
    """r2wifi itself runs the AP on wlan0 (chip disabled): up, status, shaping, supervisor, down."""
    home = bed.conf
    cfg = home / "r2wifi.toml"
    r2wifi_config(cfg)
    state = home / "state"
    env = dict(os.environ, R2WIFI_STATE_DIR=str(state), R2WIFI_CONFIG=str(cfg))

    def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*R2WIFI, *args], capture_output=True, text=True, env=env, timeout=timeout,
                              check=False, cwd="/tmp")
        bed.data.setdefault("cli", []).append({"args": list(args), "rc": proc.returncode,
                                               "err": proc.stderr[-800:], "out": proc.stdout[-800:]})
        return proc

    log_paths: dict[str, Path] = {}  # daemon -> its log, as `r2wifi status --json` names it

    def status() -> dict[str, Any]:
        proc = cli("status", "--json", "--config", str(cfg))
        st = dict(json.loads(proc.stdout)) if proc.returncode == 0 else {}
        for daemon, info in (st.get("daemons") or {}).items():
            if isinstance(info, dict) and info.get("log"):
                log_paths[daemon] = Path(info["log"])
        return st

    up = bed.step("r2wifi up --ap", lambda: cli("up", "--ap", "--config", str(cfg)))
    assert isinstance(up, subprocess.CompletedProcess)
    bed.cleanups.append(lambda: cli("down", "--config", str(cfg)) and None)

    def collect() -> None:
        for name in ("hostapd.log", "dnsmasq.log"):
            src = log_paths.get(name.removesuffix(".log"), state / "ap" / name)
            if src.exists():
                (bed.out / name).write_bytes(src.read_bytes())
                bed.logs[name] = str(bed.out / name)

    bed.cleanups.append(collect)  # runs before the down above (cleanups run in reverse)
    if up.returncode != 0:
        raise StepFailed(f"r2wifi up failed rc={up.returncode}: {up.stderr.strip()[-300:]}")
    st = status()
    hlog = Path(st.get("daemons", {}).get("hostapd", {}).get("log") or state / "ap" / "hostapd.log")
    bed.logs["hostapd.log"] = str(hlog)
    bed.data["status_up"] = st
    bed.connect()
    bed.dhcp_lease()
    bed.data["status_connected"] = status()
    # shaping: TCP from the AP to the station through wlan0's egress qdisc
    me = str(Path(__file__).resolve())
    recv = subprocess.Popen(["ip", "netns", "exec", NETNS, sys.executable, me, "--recv", "5001", "--secs", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if bed.data["lease"]:
        bed.step("throughput", lambda: tput_send(bed.data["lease"], 5001, 7))
    try:
        rout, rerr = recv.communicate(timeout=60 * SLACK)
        bed.data["throughput"] = json.loads(rout.strip().splitlines()[-1]) if rout.strip() else {"err": rerr[-300:]}
    except (subprocess.TimeoutExpired, ValueError) as exc:
        recv.kill()
        bed.data["throughput"] = {"err": str(exc)}
    bed.data["shaping_rate_bps"] = SHAPING_RATE_BPS
    # down: nothing of ours is left (the station is still running and will see the AP go)
    bed.cleanups.pop()
    collect()
    bed.cleanups.pop()
    down = cli("down", "--config", str(cfg))
    bed.data["down_rc"] = down.returncode
    bed.data["after_down"] = leftovers()
    # supervisor: `r2wifi run` brings the AP up again, the station comes back; kill -9 hostapd,
    # the supervisor restarts it and the station reconnects once more
    for name in ("hostapd.log", "dnsmasq.log"):
        p = bed.out / name
        if p.exists():
            p.rename(bed.out / f"up-{name}")
            bed.logs[f"up-{name}"] = str(bed.out / f"up-{name}")
    bed.cleanups.append(lambda: cli("down", "--config", str(cfg)) and None)
    bed.cleanups.append(collect)
    connects = lambda: len(re.findall(r"CTRL-EVENT-CONNECTED", (bed.out / "wpa_supplicant.log").read_text()))  # noqa: E731
    n0 = connects()
    bed.spawn("r2wifi-run", [*R2WIFI, "run", "--config", str(cfg)], env=env)
    bed.wait_log("r2wifi-run.stderr", r"supervising", 60)
    bed.wait_for(lambda: connects() > n0, "station back after r2wifi run", 90)
    bed.data["status_pid_under_run"] = (status().get("daemons", {}).get("hostapd") or {}).get("pid")

    def hostapd_pids() -> list[str]:
        return sh(["sh", "-c", "pgrep -x hostapd || true"], check=False).split()

    before = hostapd_pids()
    bed.data["hostapd_pids_before"] = before
    if len(before) != 1:
        raise StepFailed(f"expected one hostapd under the supervisor, found {before}")
    n1 = connects()
    bed.data["kill_time"] = time.time()  # the guest's wall clock, as in the logs' -t stamps
    os.kill(int(before[0]), signal.SIGKILL)
    bed.wait_for(lambda: len(hostapd_pids()) == 1 and hostapd_pids() != before, "supervisor restarted hostapd", 60)
    bed.data["hostapd_pids_after"] = hostapd_pids()
    bed.wait_for(lambda: connects() > n1, "station reconnected after kill -9", 90)
    bed.stop("r2wifi-run")
    bed.stop("wpa_supplicant")
    bed.cleanups.pop()
    collect()
    bed.cleanups.pop()
    bed.data["run_down_rc"] = cli("down", "--config", str(cfg)).returncode
    bed.data["after_run_down"] = leftovers()



# -- the fault scenarios again, with the AP under r2wifi (`up --ap` + the `run` supervisor) --------
#: sv_<fault> -> labels: the AP's log is r2wifi's captured hostapd log, the fault is the same.
SUPERVISED_LABELS: dict[str, tuple[list[str], list[str]]] = {
    f"sv_{n}": LABELS[n] for n in ("wrong_psk", "eapol_drop", "out_of_range", "radio_down")}
SETTLE = 6.0  # seconds given to the supervisor to (not) react after the fault has fully happened


class SupervisedAp:
    """r2wifi as the AP of a fault scenario: ``up --ap``, then ``run`` (the supervisor) in the background.

    The supervisor's stderr goes to ``r2wifi-run.stderr``; :meth:`finish` stops it (SIGTERM), copies
    its ``supervisor.log`` and the hostapd log that ``status --json`` names to the output
    directory, and runs ``down``. While it runs, ``bed.logs["hostapd.log"]`` is r2wifi's live log.
    """

    def __init__(self, bed: Bed, *, extra: tuple[str, ...] = (), max_inactivity: int = 300) -> None:
        self.bed = bed
        self.cfg = bed.conf / "r2wifi.toml"
        self.state = bed.conf / "state"
        lines = ", ".join(json.dumps(x) for x in extra)
        text = ("[chip]\nenabled = false\n\n[ap]\ninterface = \"wlan0\"\n"
                f"ssid = \"{SSID}\"\npassphrase = \"{PASSPHRASE}\"\nchannel = 1\n"
                f"address4 = \"{AP_IP}/24\"\naddress6 = \"\"\nmax_inactivity = {max_inactivity}\n"
                f"extra = [{lines}]\n\n[dhcp]\nenabled = false\n\n[shaping]\nenabled = false\n\n"
                # no give-up and no backoff within a scenario: the first reaction is what is checked
                "[supervisor]\nmax_restarts = 10\nrestart_window = 600\nbackoff_initial = 1.0\n")
        fd = os.open(self.cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        self.env = dict(os.environ, R2WIFI_STATE_DIR=str(self.state), R2WIFI_CONFIG=str(self.cfg))
        self.live: dict[str, Path] = {}
        bed.cleanups.append(self._cleanup)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*R2WIFI, *args, "--config", str(self.cfg)], capture_output=True, text=True,
                              env=self.env, timeout=timeout, check=False, cwd="/tmp")
        self.bed.data.setdefault("cli", []).append({"args": list(args), "rc": proc.returncode,
                                                    "err": proc.stderr[-800:], "out": proc.stdout[-800:]})
        return proc

    def start(self) -> None:
        up = self.bed.step("r2wifi up --ap", lambda: self.cli("up", "--ap"))
        assert isinstance(up, subprocess.CompletedProcess)
        if up.returncode != 0:
            raise StepFailed(f"r2wifi up failed rc={up.returncode}: {up.stderr.strip()[-300:]}")
        self.bed.spawn("r2wifi-run", [*R2WIFI, "run", "--config", str(self.cfg)], env=self.env)
        self.bed.wait_log("r2wifi-run.stderr", r"supervising", 90)
        st = self.cli("status", "--json")
        status = dict(json.loads(st.stdout)) if st.returncode == 0 else {}
        for daemon, info in (status.get("daemons") or {}).items():
            if isinstance(info, dict) and info.get("log"):
                self.live[daemon] = Path(info["log"])
        self.live.setdefault("supervisor", self.state / "ap" / "supervisor.log")
        self.bed.data["status_daemons"] = status.get("daemons")
        self.bed.logs["hostapd.log"] = str(self.live.get("hostapd", self.state / "logs" / "hostapd-wlan0.log"))
        self.bed.data["hostapd_pids_before"] = self.hostapd_pids()

    @staticmethod
    def hostapd_pids() -> list[str]:
        return sh(["pgrep", "-x", "hostapd"], check=False).split()

    def recoveries(self) -> list[str]:
        p = self.live.get("supervisor")
        text = p.read_text(errors="replace") if p and p.exists() else ""
        return [ln for ln in text.splitlines() if "recovery:" in ln or "giving up" in ln]

    def settle(self) -> None:
        """Give the supervisor time to react to what just happened (it reacts within a second)."""
        time.sleep(SETTLE)

    def finish(self) -> None:
        self.bed.data["hostapd_pids_after"] = self.hostapd_pids()
        self.bed.data["recoveries"] = self.recoveries()
        self.bed.stop("r2wifi-run")
        self.bed.stop("wpa_supplicant")
        self._collect()
        self.bed.data["down_rc"] = self.cli("down").returncode

    def _collect(self) -> None:
        for daemon, name in (("hostapd", "hostapd.log"), ("supervisor", "supervisor.log")):
            src = self.live.get(daemon)
            if src is not None and src.exists():
                (self.bed.out / name).write_bytes(src.read_bytes())
                self.bed.logs[name] = str(self.bed.out / name)

    def _cleanup(self) -> None:
        if "down_rc" not in self.bed.data:  # the scenario failed half-way: keep its logs, undo the AP
            self.bed.stop("r2wifi-run")
            self._collect()
            self.cli("down")


def sv_wrong_psk(bed: Bed) -> None:
    """r2wifi's AP, a station with the wrong passphrase retrying: no AP recovery is warranted."""
    ap = SupervisedAp(bed)
    ap.start()
    bed.wpa_supplicant(psk="wrong-passphrase-9")
    bed.wait_log("hostapd.log", r"AP-STA-POSSIBLE-PSK-MISMATCH " + STA_MAC, 40)
    # the client retries after its 10 s temp-disable: a second failed attempt, as real clients do
    bed.wait_for(lambda: len(re.findall(r"CTRL-EVENT-SSID-TEMP-DISABLED .*reason=WRONG_KEY",
                                        (bed.out / "wpa_supplicant.log").read_text(errors="replace"))) >= 2,
                 "wpa_supplicant.log: 2 x TEMP-DISABLED reason=WRONG_KEY", 90)
    ap.settle()
    ap.finish()


def sv_eapol_drop(bed: Bed) -> None:
    """r2wifi's AP, its EAPOL frames dropped on wlan0 egress: handshake-timeout storm, hostapd restarted."""
    ap = SupervisedAp(bed, extra=("driver_params=control_port=0",))
    ap.start()
    sh(["tc", "qdisc", "add", "dev", AP_IF, "root", "handle", "1:", "prio"])
    bed.cleanups.append(lambda: sh(["tc", "qdisc", "del", "dev", AP_IF, "root"], check=False))
    sh(["tc", "filter", "add", "dev", AP_IF, "parent", "1:", "protocol", "0x888e", "prio", "1",
        "u32", "match", "u32", "0", "0", "action", "drop"])
    bed.wpa_supplicant()
    bed.wait_log("hostapd.log", r"PTKSTART: Retry limit \d+ reached", 60)
    bed.wait_log("wpa_supplicant.log", r"CTRL-EVENT-DISCONNECTED .*reason=15", 30)
    # the station keeps trying: the storm detector should fire within its window
    bed.wait_for(lambda: any(re.search(r"recovery: \S+ (done|FAILED)", ln) for ln in ap.recoveries()),
                 "supervisor: a recovery done", 90)
    bed.stop("wpa_supplicant")  # no second storm
    ap.settle()
    ap.finish()


def sv_out_of_range(bed: Bed) -> None:
    """r2wifi's AP, a connected station goes silent (hwsim group): dropped for inactivity, no AP recovery."""
    ap = SupervisedAp(bed, max_inactivity=5)
    ap.start()
    bed.connect()
    group = Path(f"/sys/kernel/debug/ieee80211/{STA_PHY}/hwsim/group")
    group.write_text("2\n")
    bed.cleanups.append(lambda: group.write_text("1\n"))
    bed.wait_log("hostapd.log", r"AP-STA-DISCONNECTED " + STA_MAC, 90)
    ap.settle()
    ap.finish()


def sv_radio_down(bed: Bed) -> None:
    """r2wifi's AP, the connected client switches its radio off (deauth 3): no AP recovery."""
    ap = SupervisedAp(bed)
    ap.start()
    bed.connect()
    sh(["ip", "link", "set", STA_IF, "down"], ns=NETNS)
    bed.wait_log("hostapd.log", r"AP-STA-DISCONNECTED " + STA_MAC, 30)
    ap.settle()
    ap.finish()


def leftovers() -> dict[str, Any]:
    return {
        "hostapd_procs": sh(["sh", "-c", "pgrep -x hostapd || true"], check=False).split(),
        "dnsmasq_procs": sh(["sh", "-c", "pgrep -x dnsmasq || true"], check=False).split(),
        "addresses": sh(["ip", "-o", "-4", "addr", "show", "dev", AP_IF], check=False).strip(),
        "qdisc": sh(["tc", "qdisc", "show", "dev", AP_IF], check=False).strip(),
    }


SCENARIOS: dict[str, Callable[[Bed], None]] = {
    "baseline": s_baseline,
    "wrong_psk": s_wrong_psk,
    "eapol_drop": s_eapol_drop,
    "out_of_range": s_out_of_range,
    "radio_down": s_radio_down,
    "station_del": s_station_del,
    "kill_hostapd": s_kill_hostapd,
    "r2wifi_ap": s_r2wifi_ap,
    "sv_wrong_psk": sv_wrong_psk,
    "sv_eapol_drop": sv_eapol_drop,
    "sv_out_of_range": sv_out_of_range,
    "sv_radio_down": sv_radio_down,
}


def run(name: str, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.log"):
        old.unlink()
    bed = Bed(out, name)
    error = None
    try:
        bed.setup(ap_address=not name.startswith(("r2wifi", "sv_")))  # r2wifi adds (and removes) its own
        SCENARIOS[name](bed)
    except Exception as exc:  # noqa: BLE001 - reported to the host
        error = f"{type(exc).__name__}: {exc}"
        bed.data["traceback"] = traceback.format_exc()[-2000:]
    finally:
        bed.teardown()
    return {"scenario": name, "ok": error is None, "error": error, "steps": bed.steps, "data": bed.data,
            "logs": bed.logs, "secs": round(time.monotonic() - bed.t0, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="run one hwsim fault scenario in the guest")
    ap.add_argument("scenario", nargs="?", choices=sorted(SCENARIOS))
    ap.add_argument("--out", help="directory for the logs (the 9p work share)")
    ap.add_argument("--recv", type=int, metavar="PORT", help="(internal) throughput receiver")
    ap.add_argument("--secs", type=float, default=5)
    ns = ap.parse_args(argv)
    if ns.recv:
        sys.stdout.write(json.dumps(tput_recv(ns.recv, ns.secs)) + "\n")
        return 0
    if not ns.scenario or not ns.out:
        ap.error("a scenario and --out are needed")
    res = run(ns.scenario, Path(ns.out))
    sys.stdout.write(json.dumps(res) + "\n")
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
