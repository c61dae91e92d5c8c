"""A real 802.11 radio behind the simulated /dev/wmtWifi: mac80211_hwsim (``--radio hwsim``).

Theory of operation: where ``mac80211_hwsim`` exists (test bed C, the armhf twin), the simulator's
WiFi netdevs become real nl80211 interfaces, so hostapd runs with ``driver=nl80211`` on the
chip's ``ap0``. :class:`HwsimRadio` is the model's :class:`~r2wifi.sim.model.NetHook`:

* :meth:`HwsimRadio.start` loads ``mac80211_hwsim radios=2`` when it is not loaded, picks the
  lowest-numbered hwsim phy as the chip's radio and the next one as the station peer's, and deletes
  every netdev on the chip's phy (hwsim's default ``wlan0``) so the driver owns the names.
* ``sync`` (mode changes of the model): a new AP/P2P interface is
  ``iw phy <phy> interface add <name> type __ap addr <mac>``, a station interface ``type managed``;
  an interface the model dropped is ``iw dev <name> del``. The netdevs are created down, as
  wlan_gen2 registers them; hostapd / r2wifi bring them up.
* ``set_stall`` (fault ``txq-stall``): the chip's radio leaves the peers' hwsim group (debugfs
  ``group`` = 2), so nothing it sends is heard; cleared by writing 1 back. Without debugfs it is a
  no-op (reported once).
* :meth:`HwsimRadio.destroy` deletes what it created and gives hwsim back the netdevs it removed
  (same names and addresses), so a shared test guest is left as it was; the module stays.

Rules: ``modprobe`` runs as an argv list (never a shell); the two ``iw`` commands used (interface
add, interface del) are sent over nl80211 by :func:`_run` (:mod:`r2wifi.net.nl80211`: no process per
mode change; a real ``iw`` process took about 0.1 s in the armhf twin, time charged to r2wifi's
``up``); any other command runs as a process. Tests pass their own runner. Everything else is read from
/sys. Root only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence

from r2wifi.net.nl80211 import Nl80211

SYS_NET = "/sys/class/net"
SYS_PHY = "/sys/class/ieee80211"
DEBUGFS_PHY = "/sys/kernel/debug/ieee80211"
IW_TYPE = {"ap": "__ap", "p2p": "__ap", "sta": "managed"}
STALL_GROUP, NORMAL_GROUP = "2", "1"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class RadioError(RuntimeError):
    """The radio cannot be used (no hwsim, fewer than two phys, iw failed): one line for the user."""


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    args = list(argv)
    try:
        if args[:2] == ["iw", "phy"] and args[3:5] == ["interface", "add"] and args[6:7] == ["type"]:
            mac = args[9] if args[8:9] == ["addr"] else None
            with open(f"{SYS_PHY}/{args[2]}/index") as fh:
                wiphy = int(fh.read())
            with Nl80211() as nl:
                nl.new_interface(wiphy, args[5], args[7], mac)
            return subprocess.CompletedProcess(args, 0, "", "")
        if args[:2] == ["iw", "dev"] and args[3:] == ["del"]:
            with open(f"{SYS_NET}/{args[2]}/ifindex") as fh:
                index = int(fh.read())
            with Nl80211() as nl:
                nl.del_interface(index)
            return subprocess.CompletedProcess(args, 0, "", "")
    except (OSError, ValueError, KeyError) as err:
        return subprocess.CompletedProcess(args, 1, "", str(err))
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=30)


def _phy_index(name: str) -> int:
    m = re.fullmatch(r"phy(\d+)", name)
    return int(m.group(1)) if m else 1 << 30


class HwsimRadio:
    """mac80211_hwsim as the chip's radio (a NetHook of the model)."""

    def __init__(self, *, run: Runner = _run, sys_root: str = "/", say: Callable[[str], None] | None = None) -> None:
        self.run = run
        self.root = sys_root
        self.say = say or (lambda s: sys.stderr.write(s + "\n"))
        self.phy = ""
        self.peer_phy: str | None = None
        self.current: dict[str, str] = {}  # name -> role, created by us
        self.removed: list[tuple[str, str]] = []  # hwsim's own netdevs on our phy: (name, address)
        self._stall_warned = False

    def _p(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    # -- discovery
    def hwsim_phys(self) -> list[str]:
        """Names of the wiphys that belong to mac80211_hwsim, lowest index first."""
        try:
            names = os.listdir(self._p(SYS_PHY))
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            dev = os.path.realpath(self._p(f"{SYS_PHY}/{name}/device"))  # .../virtual/mac80211_hwsim/hwsimN
            if "mac80211_hwsim" in dev.split(os.sep):
                out.append(name)
        return sorted(out, key=_phy_index)

    def netdevs_of(self, phy: str) -> list[str]:
        """Netdevs on ``phy`` (from /sys/class/net/*/phy80211)."""
        out = []
        try:
            names = os.listdir(self._p(SYS_NET))
        except FileNotFoundError:
            return []
        for name in names:
            link = self._p(f"{SYS_NET}/{name}/phy80211")
            if os.path.exists(link) and os.path.basename(os.path.realpath(link)) == phy:
                out.append(name)
        return sorted(out)

    def _address(self, dev: str) -> str:
        try:
            with open(self._p(f"{SYS_NET}/{dev}/address")) as fh:
                return fh.read().strip()
        except OSError:
            return ""

    def _iw(self, *args: str) -> None:
        proc = self.run(["iw", *args])
        if proc.returncode != 0:
            raise RadioError(f"iw {' '.join(args)}: {(proc.stderr or proc.stdout).strip() or 'failed'}")

    # -- lifecycle
    def start(self, radios: int = 2) -> HwsimRadio:
        if not self.hwsim_phys():
            proc = self.run(["modprobe", "mac80211_hwsim", f"radios={radios}"])
            if proc.returncode != 0:
                raise RadioError(f"modprobe mac80211_hwsim: {proc.stderr.strip() or 'failed'}")
        phys = self.hwsim_phys()
        if not phys:
            raise RadioError("mac80211_hwsim is loaded but has no radio in /sys/class/ieee80211")
        self.phy = phys[0]
        self.peer_phy = phys[1] if len(phys) > 1 else None
        for dev in self.netdevs_of(self.phy):
            self.removed.append((dev, self._address(dev)))
            self._iw("dev", dev, "del")
        self.say(f"radio: {self.phy} is the chip's radio, peer {self.peer_phy or '-'}")
        return self

    def info(self) -> dict[str, object]:
        return {"kind": "hwsim", "phy": self.phy, "peer_phy": self.peer_phy}

    # -- NetHook
    def sync(self, interfaces: dict[str, str], macs: dict[str, str]) -> None:
        for name in [n for n in self.current if n not in interfaces]:
            self._del(name)
        for name, role in interfaces.items():
            if name in self.current:
                continue
            argv = ["phy", self.phy, "interface", "add", name, "type", IW_TYPE.get(role, "managed")]
            if macs.get(name):
                argv += ["addr", macs[name]]
            try:
                self._iw(*argv)
            except RadioError as e:
                self.say(f"radio: {e}")
                continue
            self.current[name] = role

    def _del(self, name: str) -> None:
        self.current.pop(name, None)
        if os.path.exists(self._p(f"{SYS_NET}/{name}")):
            try:
                self._iw("dev", name, "del")
            except RadioError as e:
                self.say(f"radio: {e}")

    def set_stall(self, ifname: str, stalled: bool) -> None:
        path = self._p(f"{DEBUGFS_PHY}/{self.phy}/hwsim/group")
        try:
            with open(path, "w") as fh:
                fh.write(STALL_GROUP if stalled else NORMAL_GROUP)
        except OSError as e:
            if not self._stall_warned:
                self.say(f"radio: cannot {'stall' if stalled else 'unstall'} {ifname}: {path}: {e.strerror}")
                self._stall_warned = True

    def destroy(self) -> None:
        for name in list(self.current):
            self._del(name)
        if self.phy and os.path.exists(self._p(f"{DEBUGFS_PHY}/{self.phy}/hwsim/group")):
            self.set_stall("", False)
        for name, addr in self.removed:  # give hwsim its default netdevs back
            if os.path.exists(self._p(f"{SYS_NET}/{name}")):
                continue
            try:
                self._iw("phy", self.phy, "interface", "add", name, "type", "managed", *(["addr", addr] if addr else []))
            except RadioError as e:
                self.say(f"radio: {e}")
        self.removed.clear()


def hwsim_available(sys_root: str = "/") -> bool:
    """mac80211_hwsim is loaded or can be loaded here (its module file exists)."""
    if os.path.isdir(os.path.join(sys_root, "sys/module/mac80211_hwsim")):
        return True
    proc = _run(["modprobe", "-n", "mac80211_hwsim"])
    return proc.returncode == 0
