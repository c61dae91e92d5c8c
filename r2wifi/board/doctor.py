"""``r2wifi doctor``: check the live system for everything the internal WiFi needs.

Theory of operation: every check is a small function ``(SysView) -> list[Check]`` registered in
:data:`CHECKS` (table-driven, in the order a bring-up needs things: kernel, device tree, nodes,
files, processes, radio). A :class:`SysView` reads *only* through a configurable system root
(``--root``, default ``/``), so tests build fake ``/proc``, ``/sys`` and ``/dev`` trees.

Rules:
* Each :class:`Check` is ``pass``, ``warn``, ``fail`` or ``info`` with a one-line detail and, for
  warn/fail, the fix. Kernel messages are judged by the one WMT table (:mod:`r2wifi.logs.catalog.wmt`,
  with its context rule of driver-interface.md 7.3/11.2): known-harmless ones are reported as ``info``
  and named harmless, so nobody chases them. A failure logged before the last successful WiFi power-on
  was overcome and is ``info``; checks judge the driver by what it registered (/dev nodes) before packaging.
* Character devices in a fake tree: a real ``os.mknod`` node works (as root); otherwise a
  ``dev-nodes.json`` file at the top of the fake root, ``{"/dev/wmtWifi": {"type": "char",
  "major": 155}}``, overrides what ``lstat`` says. The override is ignored when the root is ``/``.
* Processes come from ``<root>/proc/<pid>/cmdline``; the kernel log from ``<root>/dev/kmsg`` is
  never read: live systems use ``dmesg``, fake roots ``var/log/dmesg`` or ``var/log/kern.log``.
* Exit status of the command: 0 when nothing fails (warnings allowed), 1 when a check fails.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from r2wifi.wmt.driver import KNOWN_FILES, MAJORS, NODES, REQUIRED_FOR_WIFI, known_file_path

Status = str  # "pass" | "warn" | "fail" | "info"

# platform.md B: compiled-in path -> (size, sha256 prefix of the vendor blob, hash checked?); the facts live in
# r2wifi.wmt.driver (nvram/WIFI is not hash-checked: the driver writes it back, the MAC differs)
FIRMWARE: dict[str, tuple[int, str, bool]] = {
    known_file_path(kf): (kf.size, kf.sha256_prefix, kf.hash_checked) for kf in KNOWN_FILES}
DEV_NODES = [(path, MAJORS[path], REQUIRED_FOR_WIFI[path]) for path in NODES]  # path, major, required-for-wifi
KCONFIG = ["CONFIG_MTK_COMBO_CHIP_CONSYS_7623", "CONFIG_MTK_COMBO_WIFI", "CONFIG_MTK_COMBO_BT",
           "CONFIG_MTK_COMBO_BT_HCI"]

@dataclass
class Check:
    id: str
    title: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Node:
    kind: str  # char | block | file | dir | link | other
    major: int = -1


class SysView:
    """Read-only access to a system below ``root`` (``/`` on the live board)."""

    def __init__(self, root: Path = Path("/"), state_dir: Path | None = None,
                 run: Callable[[list[str]], str | None] | None = None) -> None:
        self.root = root
        self.live = root.resolve() == Path("/")
        self.state_dir = state_dir
        self._run = run or (_run_live if self.live else (lambda cmd: None))
        self._nodes: dict[str, dict[str, object]] = {}
        if not self.live:
            try:
                self._nodes = json.loads((root / "dev-nodes.json").read_text())
            except (OSError, ValueError):
                self._nodes = {}

    def path(self, p: str) -> Path:
        return self.root / p.lstrip("/")

    def read_text(self, p: str) -> str | None:
        try:
            return self.path(p).read_text(errors="replace")
        except OSError:
            return None

    def read_bytes(self, p: str) -> bytes | None:
        try:
            return self.path(p).read_bytes()
        except OSError:
            return None

    def node(self, p: str) -> Node | None:
        if p in self._nodes:
            entry = self._nodes[p]
            major = entry.get("major", -1)
            return Node(str(entry.get("type", "other")), int(major) if isinstance(major, int) else -1)
        try:
            st = self.path(p).lstat()
        except OSError:
            return None
        m = st.st_mode
        if stat.S_ISCHR(m):
            return Node("char", os.major(st.st_rdev))
        if stat.S_ISBLK(m):
            return Node("block", os.major(st.st_rdev))
        if stat.S_ISREG(m):
            return Node("file")
        if stat.S_ISDIR(m):
            return Node("dir")
        if stat.S_ISLNK(m):
            return Node("link")
        return Node("other")

    def processes(self) -> list[tuple[int, list[str]]]:
        out: list[tuple[int, list[str]]] = []
        proc = self.path("/proc")
        try:
            entries = list(proc.iterdir())
        except OSError:
            return out
        for e in entries:
            if not e.name.isdigit():
                continue
            try:
                raw = (e / "cmdline").read_bytes()
            except OSError:
                continue
            args = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
            if args:
                out.append((int(e.name), args))
        return sorted(out)

    def run(self, cmd: list[str]) -> str | None:
        return self._run(cmd)


def _run_live(cmd: list[str]) -> str | None:
    exe = shutil.which(cmd[0]) or (f"/usr/sbin/{cmd[0]}" if os.path.exists(f"/usr/sbin/{cmd[0]}") else None)
    if exe is None:
        return None
    try:
        proc = subprocess.run([exe, *cmd[1:]], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout + proc.stderr


def _release(sv: SysView) -> str | None:
    text = sv.read_text("/proc/sys/kernel/osrelease")
    if text:
        return text.strip()
    if sv.live:
        return os.uname().release
    return None


def _kconfig(sv: SysView) -> tuple[str | None, dict[str, str]]:
    """(where it came from, CONFIG_X -> value) from /proc/config.gz or /boot/config-<release>."""
    raw = sv.read_bytes("/proc/config.gz")
    text: str | None = None
    where = None
    if raw is not None:
        try:
            text = gzip.decompress(raw).decode(errors="replace")
            where = "/proc/config.gz"
        except (OSError, EOFError):
            text = None
    rel = _release(sv)
    if text is None and rel:
        text = sv.read_text(f"/boot/config-{rel}")
        where = f"/boot/config-{rel}" if text is not None else None
    values: dict[str, str] = {}
    for line in (text or "").splitlines():
        m = re.match(r"(CONFIG_\w+)=(.*)", line)
        if m:
            values[m.group(1)] = m.group(2).strip('"')
    return where, values


def _ver(rel: str) -> tuple[int, int] | None:
    m = re.match(r"(\d+)\.(\d+)", rel)
    return (int(m.group(1)), int(m.group(2))) if m else None


# ---------------------------------------------------------------------------------------------
# checks


def _has_node(sv: SysView, path: str) -> bool:
    """``path`` is the driver's character device with its own major (what the driver registered)."""
    n = sv.node(path)
    return n is not None and n.kind == "char" and n.major == MAJORS[path]


def check_kernel(sv: SysView) -> list[Check]:
    """The release is judged by what it implies: the frank-w kernels that carry the vendor driver end at
    5.15 (platform.md E.1), so a newer release is an error only when this kernel shows no connectivity
    driver either (no /dev/wmtdetect, no MTK_COMBO_WIFI in its config). A kernel that registered
    /dev/wmtdetect has the driver, whatever its release says."""
    rel = _release(sv)
    out: list[Check] = []
    where, cfg = _kconfig(sv)
    detect = _has_node(sv, "/dev/wmtdetect")
    if rel is None:
        out.append(Check("kernel.release", "kernel release", "warn", "cannot read /proc/sys/kernel/osrelease"))
    else:
        v = _ver(rel)
        if v is not None and v > (5, 15):
            if detect or cfg.get("CONFIG_MTK_COMBO_WIFI") in ("y", "m"):
                why = "/dev/wmtdetect registered" if detect else f"MTK_COMBO_WIFI in {where}"
                out.append(Check("kernel.release", "kernel release", "pass",
                                 f"{rel}: newer than 5.15, but this kernel has the connectivity driver ({why})"))
            else:
                out.append(Check("kernel.release", "kernel release", "fail",
                                 f"{rel}: no kernel newer than 5.15 carries the internal WiFi driver, "
                                 "and this one has none (no /dev/wmtdetect, no MTK_COMBO_WIFI)",
                                 "install a 5.15 (or older) frank-w kernel: r2wifi kernel install"))
        else:
            out.append(Check("kernel.release", "kernel release", "pass", rel))
    if where is None:
        out.append(Check("kernel.config", "kernel config", "warn", "no /proc/config.gz or /boot/config-<release>",
                         "build with CONFIG_IKCONFIG_PROC=y or ship /boot/config-<release> to let doctor check"))
        return out
    wifi = cfg.get("CONFIG_MTK_COMBO_WIFI")
    chip = cfg.get("CONFIG_MTK_COMBO_CHIP_CONSYS_7623")
    shown = ", ".join(f"{k[len('CONFIG_'):]}={cfg[k]}" for k in KCONFIG if k in cfg) or "no MTK_COMBO options"
    if wifi in ("y", "m") and chip == "y":
        out.append(Check("kernel.config", "kernel config", "pass", f"{where}: {shown}"))
    elif detect:  # the driver is there (built out of tree, or under other option names): the config is moot
        out.append(Check("kernel.config", "kernel config", "info",
                         f"{where}: {shown}; the connectivity driver is present anyway (/dev/wmtdetect registered)"))
    else:
        out.append(Check("kernel.config", "kernel config", "fail", f"{where}: {shown}",
                         "use a kernel with CONFIG_MTK_COMBO_CHIP_CONSYS_7623=y and CONFIG_MTK_COMBO_WIFI=y|m"))
    return out


def _dt_base(sv: SysView) -> str | None:
    # /proc/device-tree is usually an absolute symlink to /sys/firmware/devicetree/base: in a
    # fake root it would lead out of the tree, so the sysfs path is tried first.
    for base in ("/sys/firmware/devicetree/base", "/proc/device-tree"):
        p = sv.path(base)
        if p.is_symlink() and not sv.live:
            continue
        if p.is_dir():
            return base
    return None


def _find_nodes(sv: SysView, base: str, prefix: str, depth: int = 2) -> list[str]:
    found: list[str] = []
    todo = [(base, 0)]
    while todo:
        d, lvl = todo.pop()
        try:
            children = sorted(sv.path(d).iterdir())
        except OSError:
            continue
        for c in children:
            if c.is_dir() and not c.is_symlink():
                rel = f"{d}/{c.name}"
                if c.name.startswith(prefix):
                    found.append(rel)
                if lvl + 1 < depth:
                    todo.append((rel, lvl + 1))
    return sorted(found)


def check_devicetree(sv: SysView) -> list[Check]:
    base = _dt_base(sv)
    if base is None:
        return [Check("dt.consys", "device tree consys node", "warn", "no /proc/device-tree on this system")]
    out: list[Check] = []
    nodes = _find_nodes(sv, base, "consys")
    consys = [n for n in nodes if "reserved-memory" not in n]
    # /dev/stpwmt is registered only when the consys platform driver probed, i.e. the device tree it needs
    # is there (under a name doctor does not know): then a node doctor cannot find is no error.
    probed = _has_node(sv, "/dev/stpwmt")
    probed_note = "the consys driver probed anyway (/dev/stpwmt registered)"
    if not consys and probed:
        out.append(Check("dt.consys", "device tree consys node", "info", f"no consys@ node found; {probed_note}"))
    elif not consys:
        out.append(Check("dt.consys", "device tree consys node", "fail", "no consys@18070000 node",
                         "boot a BPI-R2 device tree with the consys node (frank-w WiFi kernels)"))
    else:
        node = consys[0]
        status = (sv.read_text(f"{node}/status") or "okay").strip("\0\n ")
        if status in ("okay", "ok"):
            out.append(Check("dt.consys", "device tree consys node", "pass", f"{node.rsplit('/', 1)[-1]} status {status}"))
        else:
            out.append(Check("dt.consys", "device tree consys node", "fail",
                             f"{node.rsplit('/', 1)[-1]} status {status!r}",
                             "enable consys in the board DTS (status = \"okay\"); the dtsi has it disabled"))
    reserved = [n for n in _find_nodes(sv, f"{base}/reserved-memory", "", depth=1)
                if "consys" in n.rsplit("/", 1)[-1] or "wifi" in n.rsplit("/", 1)[-1]]
    if reserved:
        nomap = sv.path(f"{reserved[0]}/no-map").exists()
        out.append(Check("dt.reserved", "consys reserved memory", "pass" if nomap else "warn",
                         f"{reserved[0].rsplit('/', 1)[-1]}{'' if nomap else ' without no-map'}",
                         "" if nomap else "the consys reserved-memory node needs no-map"))
    elif probed:
        out.append(Check("dt.reserved", "consys reserved memory", "info",
                         f"no consys reserved-memory node found; {probed_note}"))
    else:
        out.append(Check("dt.reserved", "consys reserved memory", "fail", "no consys reserved-memory node",
                         "the DTS must reserve 1 MiB no-map memory for consys"))
    return out


def check_cmdline(sv: SysView) -> list[Check]:
    text = sv.read_text("/proc/cmdline")
    if text is None:
        return [Check("cmdline.vmalloc", "vmalloc= on the kernel command line", "warn", "no /proc/cmdline")]
    m = re.search(r"\bvmalloc=(\S+)", text)
    if m:
        return [Check("cmdline.vmalloc", "vmalloc= on the kernel command line", "pass", f"vmalloc={m.group(1)}")]
    return [Check("cmdline.vmalloc", "vmalloc= on the kernel command line", "warn", "no vmalloc= option",
                  "add vmalloc=496M to bootopts= in uEnv.txt (the consys driver needs the address space)")]


def check_devnodes(sv: SysView) -> list[Check]:
    out: list[Check] = []
    for path, major, required in DEV_NODES:
        cid = f"dev.{path.rsplit('/', 1)[-1]}"
        n = sv.node(path)
        title = f"{path} (char {major})"
        if n is None:
            if path == "/dev/wmtdetect":
                out.append(Check(cid, title, "fail", "missing: the connectivity driver is not in this kernel",
                                 "boot a kernel with CONFIG_MTK_COMBO (r2wifi kernel install)"))
            elif required:
                out.append(Check(cid, title, "warn", "missing: the chip has not been initialised yet",
                                 "run the loader: r2wifi chip init (or r2wifi up)"))
            else:
                out.append(Check(cid, title, "info", "missing (Bluetooth: modprobe stp_chrdev_bt after bring-up)"))
        elif n.kind == "file":
            out.append(Check(cid, title, "fail",
                             "a REGULAR FILE: something wrote to it before the driver created the node",
                             f"rm {path} and re-run the bring-up (never echo into it before it exists)"))
        elif n.kind != "char":
            out.append(Check(cid, title, "fail", f"is a {n.kind}, not a character device", f"rm {path}; reboot"))
        elif n.major != major:
            out.append(Check(cid, title, "fail", f"character device with major {n.major}, expected {major}",
                             f"rm {path}; the driver creates it with major {major}"))
        else:
            out.append(Check(cid, title, "pass", "character device, major ok"))
    return out


def check_firmware(sv: SysView, table: dict[str, tuple[int, str, bool]] | None = None) -> list[Check]:
    out: list[Check] = []
    for path, (size, prefix, hashed) in (table or FIRMWARE).items():
        name = path.rsplit("/", 1)[-1] if not path.endswith("nvram/WIFI") else "nvram/WIFI"
        cid = f"firmware.{name}"
        data = sv.read_bytes(path)
        if data is None:
            fix = f"install it at {path} (compiled-in path; no search path)"
            elsewhere = [p for p in (f"/etc/firmware/{name}", f"/system/etc/firmware/{name}",
                                     f"/lib/firmware/{name}") if p != path and sv.path(p).is_file()]
            if elsewhere:
                fix = f"found at {elsewhere[0]} but the driver opens only {path}: mkdir -p {path.rsplit('/', 1)[0]}" \
                      f" && cp {elsewhere[0]} {path}"
            elif path.startswith("/system/") and not sv.path("/system/etc/firmware").is_dir():
                fix = f"/system/etc/firmware does not exist: mkdir -p /system/etc/firmware and put {name} there"
            out.append(Check(cid, path, "fail", "missing", fix))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if len(data) != size:
            out.append(Check(cid, path, "fail", f"{len(data)} bytes, expected {size} (sha256 {digest[:8]})",
                             "reinstall the vendor file (truncated or wrong file)"))
        elif hashed and not digest.startswith(prefix):
            out.append(Check(cid, path, "warn", f"size ok but sha256 {digest[:8]} is not the known {prefix}",
                             "use the vendor blob from the frank-w/BSP tree if the chip misbehaves"))
        else:
            out.append(Check(cid, path, "pass", f"{len(data)} bytes, sha256 {digest[:8]}"))
    return out


def check_nvram(sv: SysView) -> list[Check]:
    data = sv.read_bytes("/etc/firmware/nvram/WIFI")
    if data is None or len(data) < 10:
        return []  # reported by the firmware check
    mac = data[4:10]
    out: list[Check] = []
    if mac == b"\0" * 6:
        out.append(Check("nvram.mac", "NVRAM MAC address", "warn",
                         "all zero: the driver makes up a random 00:08:22:xx MAC at every boot",
                         "write a stable MAC: r2wifi firmware mac --stable"))
    else:
        out.append(Check("nvram.mac", "NVRAM MAC address", "pass", "set (" + ":".join(f"{b:02x}" for b in mac[:3])
                         + ":xx:xx:xx)"))
    if sv.live and not os.access(sv.path("/etc/firmware/nvram/WIFI"), os.W_OK):
        out.append(Check("nvram.writable", "NVRAM writable", "warn", "read-only: the driver writes it back",
                         "chmod u+w /etc/firmware/nvram/WIFI"))
    return out


def check_wmtcfg(sv: SysView) -> list[Check]:
    text = sv.read_text("/system/etc/firmware/WMT_SOC.cfg")
    if text is None:
        return []
    keys = [ln.split("=", 1)[0].strip() for ln in text.splitlines() if "=" in ln]
    unknown = [k for k in keys if re.fullmatch(r"mt\d+\.defAnt", k)]
    known = [k for k in keys if k not in unknown]
    detail = f"{len(known)} SoC keys"
    if unknown:
        detail += f"; {len(unknown)} mtXXXX.defAnt lines (the kernel logs 'unknown field' for each: harmless)"
    return [Check("firmware.wmtcfg", "WMT_SOC.cfg content", "pass", detail)]


def check_wlan_gen2(sv: SysView) -> list[Check]:
    """The WiFi part of the driver is judged by its effect first: /dev/wmtWifi (char 155) exists only once
    the WiFi driver registered it after DO_MODULE_INIT, however it is packaged (built in, wlan_gen2.ko, a
    module of another name). Only without that node do the packaging clues decide."""
    rel = _release(sv)
    _where, cfg = _kconfig(sv)
    loaded = "wlan_gen2" in (sv.read_text("/proc/modules") or "")
    title = "wlan_gen2 WiFi driver"
    if _has_node(sv, "/dev/wmtWifi"):
        return [Check("wlan_gen2", title, "pass", "present: /dev/wmtWifi registered")]
    if cfg.get("CONFIG_MTK_COMBO_WIFI") == "y":
        return [Check("wlan_gen2", title, "pass", "built into the kernel")]
    kos: list[Path] = []
    builtin = ""
    if rel:
        moddir = sv.path(f"/lib/modules/{rel}")
        if moddir.is_dir():
            kos = sorted(moddir.rglob("wlan_gen2.ko*"))
            builtin = sv.read_text(f"/lib/modules/{rel}/modules.builtin") or ""
    if "wlan_gen2" in builtin:
        return [Check("wlan_gen2", title, "pass", "built into the kernel (modules.builtin)")]
    if kos:
        state = "loaded" if loaded else "module present, not loaded yet (r2wifi loads it after the loader)"
        return [Check("wlan_gen2", title, "pass", state)]
    if loaded:
        return [Check("wlan_gen2", title, "pass", "loaded")]
    return [Check("wlan_gen2", title, "fail", f"neither built in nor wlan_gen2.ko in /lib/modules/{rel}",
                  "install the kernel's modules (r2wifi kernel install) or use a kernel with CONFIG_MTK_COMBO_WIFI")]


def _launcher_pid(sv: SysView) -> int | None:
    if sv.state_dir is None:
        return None
    try:
        from r2wifi.wmt.state import launcher_pid
    except ImportError:  # pragma: no cover - the wmt package is part of r2wifi
        return None
    try:
        return launcher_pid(sv.state_dir)
    except OSError:
        return None


def check_launcher(sv: SysView) -> list[Check]:
    title = "resident launcher"
    procs = [(pid, args) for pid, args in sv.processes()
             if any(a.rsplit("/", 1)[-1] == "stp_uart_launcher" for a in args[:1])]
    ours = _launcher_pid(sv)
    count = len(procs) + (1 if ours else 0)
    if count > 1:
        pids = [str(p) for p, _ in procs] + ([str(ours)] if ours else [])
        return [Check("launcher", title, "fail", f"{count} launchers running (pids {', '.join(pids)})",
                      "stop all but one: a second launcher confuses the kernel's patch counter")]
    if ours:
        return [Check("launcher", title, "pass", f"r2wifi launcher running (pid {ours})")]
    if procs:
        return [Check("launcher", title, "pass", f"stp_uart_launcher running (pid {procs[0][0]})")]
    return [Check("launcher", title, "warn", "no launcher running: WiFi cannot power on",
                  "start it: r2wifi chip launch (or r2wifi run)")]


def check_interface(sv: SysView) -> list[Check]:
    title = "wlan0 name (the driver looks it up by name)"
    net = sv.path("/sys/class/net")
    if (net / "wlan0").exists():
        return [Check("iface.wlan0", title, "pass", "wlan0 present")]
    renamed = []
    try:
        ifaces = sorted(net.iterdir())
    except OSError:
        ifaces = []
    for i in ifaces:
        drv = i / "device" / "driver"
        target = os.readlink(drv) if drv.is_symlink() else ""
        uevent = sv.read_text(f"/sys/class/net/{i.name}/uevent") or ""
        if re.search(r"wlan|mtk|consys|wmt", target.rsplit("/", 1)[-1]) or "DRIVER=wlan_gen2" in uevent:
            if i.name not in ("p2p0", "ap0") and not i.name.startswith(("mtkp2p", "mtkap")):
                renamed.append(i.name)
    if renamed:
        return [Check("iface.wlan0", title, "fail", f"the internal WiFi interface is called {renamed[0]}",
                      "stop udev/systemd renaming it (net.ifnames=0 or a .link file with Name=wlan0): "
                      "echo A|S|P fails with 'Get wlan0 net device timeout'")]
    return [Check("iface.wlan0", title, "info", "no WiFi interface yet (WiFi off)")]


_MANAGED = re.compile(r"^-i(wlan0|ap0|p2p0|mtk\w+)$")


def check_managers(sv: SysView) -> list[Check]:
    out: list[Check] = []
    hostapds = []
    for pid, args in sv.processes():
        exe = args[0].rsplit("/", 1)[-1]
        joined = " ".join(args)
        if exe.startswith("wpa_supplicant"):
            ifaces = re.findall(r"-i\s*(\S+)", joined)
            ours = [i for i in ifaces if _MANAGED.match(f"-i{i}")]
            if ours:
                out.append(Check("managers.wpa_supplicant", "other managers on the interface", "fail",
                                 f"wpa_supplicant (pid {pid}) holds {ours[0]}",
                                 f"stop it (systemctl stop wpa_supplicant@{ours[0]}) or exclude {ours[0]}"))
            elif not ifaces:
                out.append(Check("managers.wpa_supplicant", "other managers on the interface", "warn",
                                 f"wpa_supplicant (pid {pid}) runs without -i (D-Bus): it may grab wlan0",
                                 "disable wpa_supplicant.service or make wlan0/ap0 unmanaged"))
        elif exe in ("NetworkManager", "nm-daemon"):
            out.append(Check("managers.networkmanager", "other managers on the interface", "warn",
                             f"NetworkManager running (pid {pid})",
                             "mark ap0/wlan0 unmanaged: [keyfile] unmanaged-devices=interface-name:ap0;interface-name:wlan0"))
        elif exe == "hostapd":
            hostapds.append((pid, joined))
    if len(hostapds) > 1:
        out.append(Check("managers.hostapd", "other managers on the interface", "warn",
                         f"{len(hostapds)} hostapd processes (pids {', '.join(str(p) for p, _ in hostapds)})",
                         "make sure only one serves ap0 (r2wifi up starts its own)"))
    elif hostapds:
        out.append(Check("managers.hostapd", "other managers on the interface", "info",
                         f"hostapd running (pid {hostapds[0][0]})"))
    if not out:
        out.append(Check("managers", "other managers on the interface", "pass", "none found"))
    return out


def check_rfkill(sv: SysView) -> list[Check]:
    base = sv.path("/sys/class/rfkill")
    try:
        entries = sorted(base.iterdir())
    except OSError:
        return [Check("rfkill", "rfkill", "info", "no rfkill switches")]
    out: list[Check] = []
    for e in entries:
        kind = (sv.read_text(f"/sys/class/rfkill/{e.name}/type") or "").strip()
        if kind not in ("wlan", "bluetooth", "all"):
            continue
        hard = (sv.read_text(f"/sys/class/rfkill/{e.name}/hard") or "0").strip() == "1"
        soft = (sv.read_text(f"/sys/class/rfkill/{e.name}/soft") or "0").strip() == "1"
        name = (sv.read_text(f"/sys/class/rfkill/{e.name}/name") or e.name).strip()
        if hard:
            out.append(Check(f"rfkill.{e.name}", "rfkill", "fail", f"{name} ({kind}) hard-blocked",
                             "a hardware switch or the driver blocks it"))
        elif soft:
            out.append(Check(f"rfkill.{e.name}", "rfkill", "fail", f"{name} ({kind}) soft-blocked",
                             f"rfkill unblock {'wifi' if kind == 'wlan' else kind}"))
    return out or [Check("rfkill", "rfkill", "pass", "nothing blocked")]


def check_entropy(sv: SysView) -> list[Check]:
    text = sv.read_text("/proc/sys/kernel/random/entropy_avail")
    if text is None or not text.strip().isdigit():
        return [Check("entropy", "kernel entropy", "info", "unknown")]
    n = int(text.strip())
    if n < 128:
        return [Check("entropy", "kernel entropy", "warn", f"{n} bits: hostapd may refuse WPA keys at start "
                      "('Not enough entropy')", "install haveged or rng-tools (the R2 has no hwrng by default)")]
    return [Check("entropy", "kernel entropy", "pass", f"{n} bits")]


def check_regdom(sv: SysView) -> list[Check]:
    text = sv.run(["iw", "reg", "get"]) if sv.live else None
    dom = None
    if text:
        m = re.search(r"country (\w\w):", text)
        dom = m.group(1) if m else None
    if dom is None:
        param = sv.read_text("/sys/module/cfg80211/parameters/ieee80211_regdom")
        dom = param.strip() if param else None
    if dom is None:
        return [Check("regdom", "regulatory domain", "info", "unknown (cfg80211 not loaded?)")]
    if dom == "00":
        return [Check("regdom", "regulatory domain", "warn", "world domain 00: fewer channels, low power",
                      "set country_code in the r2wifi config (hostapd country_code=XX)")]
    return [Check("regdom", "regulatory domain", "pass", dom)]


def check_hostapd(sv: SysView) -> list[Check]:
    text = sv.run(["hostapd", "-v"])
    if text is None:
        if sv.live:
            return [Check("hostapd", "hostapd", "warn", "hostapd not installed", "apt install hostapd")]
        return [Check("hostapd", "hostapd", "info", "not checked (not the live system)")]
    m = re.search(r"hostapd v(\S+)", text)
    return [Check("hostapd", "hostapd", "pass" if m else "warn", f"v{m.group(1)}" if m else text.strip()[:60])]


def _kernel_log(sv: SysView) -> list[str] | None:
    if sv.live:
        text = sv.run(["dmesg"])
        return text.splitlines() if text is not None else None
    for p in ("/var/log/dmesg", "/var/log/kern.log"):
        t = sv.read_text(p)
        if t is not None:
            return t.splitlines()
    return None


#: failures a later success does not undo: after a second DO_MODULE_INIT every open of /dev/stpwmt fails until
#: reboot (driver-interface.md §11), whatever the WiFi did afterwards
LOCKOUT = frozenset({"stpwmt_chrdev_busy"})


def check_kernel_log(sv: SysView) -> list[Check]:
    lines = _kernel_log(sv)
    if lines is None:
        return [Check("klog", "kernel log", "info", "not available")]
    from r2wifi.logs.catalog import wmt  # the one table of WMT messages and their verdicts (7.3 / 7.4 / 11.2)

    # A failure the driver logged before its last successful WiFi power-on was overcome (a retry, a recovery,
    # a re-initialised driver): history, reported as info. Only what follows that success can still be wrong.
    cut = 0
    for i, line in enumerate(lines):
        hit = wmt.classify(re.sub(r"^\[\s*\d+\.\d+\]\s*", "", line))
        if hit is not None and hit[0].key == "wifi_on_ok":
            cut = i + 1
    out: list[Check] = []
    for part, superseded in ((lines[:cut], True), (lines[cut:], False)):
        for _m, status, why, sample in wmt.assess(part):
            sample = re.sub(r"^\[\s*\d+\.\d+\]\s*", "", sample).strip()[:100]
            if superseded and status == "fail" and _m.key not in LOCKOUT:
                status, why = "info", f"before the last successful WiFi power-on (kernel log line {cut}), so overcome: {why}"
            out.append(Check("klog", "kernel log", status, f"'{sample}': {why}", why if status == "fail" else ""))
    return out or [Check("klog", "kernel log", "pass", "no known WMT/consys failure messages")]


CHECKS: list[Callable[[SysView], list[Check]]] = [
    check_kernel, check_devicetree, check_cmdline, check_devnodes, check_firmware, check_nvram, check_wmtcfg,
    check_wlan_gen2, check_launcher, check_interface, check_managers, check_rfkill, check_entropy,
    check_regdom, check_hostapd, check_kernel_log,
]


def run_doctor(sv: SysView) -> list[Check]:
    results: list[Check] = []
    for fn in CHECKS:
        try:
            results.extend(fn(sv))
        except OSError as err:  # one unreadable file must not hide the other checks
            results.append(Check(fn.__name__.removeprefix("check_"), fn.__name__, "warn", f"could not check: {err}"))
    return results


def exit_code(results: list[Check]) -> int:
    return 1 if any(c.status == "fail" for c in results) else 0


SYMBOL = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL", "info": "info"}


def render_text(results: list[Check]) -> str:
    lines = []
    for c in results:
        lines.append(f"[{SYMBOL.get(c.status, c.status)}] {c.title}: {c.detail}")
        if c.fix and c.status in ("warn", "fail"):
            lines.append(f"       fix: {c.fix}")
    counts = {s: sum(1 for c in results if c.status == s) for s in ("pass", "warn", "fail", "info")}
    lines.append(f"{counts['pass']} ok, {counts['warn']} warnings, {counts['fail']} failures")
    return "\n".join(lines) + "\n"
