"""The station's DHCP client: busybox ``udhcpc`` as a managed daemon, and the hook that applies leases.

Theory of operation. In station mode (``r2wifi up --sta``, ``[sta] dhcp = true``) r2wifi runs
``udhcpc -f -R -i IFACE -s HOOK`` under the shared daemon runner (pid file, time-stamped log, polite
stop; ``-R`` releases the lease when it is stopped). udhcpc runs its script for every event; ours,
written next to the other generated files, only calls :func:`hook_main`, which

* on ``bound`` / ``renew``: sets the leased address (replacing a previous one of ours), a default
  route via the first router (metric :data:`ROUTE_METRIC`, so a wired default route keeps
  precedence), and with ``[sta] set_dns`` writes the DNS servers to ``/etc/resolv.conf`` after
  keeping the original (a resolv.conf that is a symlink belongs to systemd-resolved or resolvconf
  and is left alone);
* on ``deconfig`` / ``leasefail`` / ``nak``: removes what it set and puts the original resolv.conf back;
* records the lease as JSON (address, router, DNS, lease time) for ``r2wifi status`` and ``down``.

It runs in the network namespace udhcpc runs in (the simulator's, in tests). Files: the lease
record and the resolv.conf backup live in ``<state>/ap/``; ``R2WIFI_RESOLV_CONF`` names another
resolv.conf (tests). No shell anywhere: the hook is a Python script.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from r2wifi.fsutil import atomic_write

ROUTE_METRIC = 600  # like NetworkManager's WiFi default routes: below (after) wired ones
RESOLV_CONF = "/etc/resolv.conf"


def udhcpc_argv() -> list[str] | None:
    """``udhcpc`` or ``busybox udhcpc``, whichever this system has (None: neither)."""
    if shutil.which("udhcpc"):
        return ["udhcpc"]
    for bb in ("busybox", "busybox.static"):
        if shutil.which(bb):
            return [bb, "udhcpc"]
    return None


def client_argv(iface: str, hook: Path) -> list[str] | None:
    base = udhcpc_argv()
    if base is None:
        return None
    # -f foreground (the runner supervises it), -R release on exit, -t/-T/-A: 3 discovers 2 s apart,
    # then retry every 10 s while the upstream network is away (never give up)
    return [*base, "-f", "-R", "-i", iface, "-s", str(hook), "-t", "3", "-T", "2", "-A", "10"]


def write_hook(path: Path) -> Path:
    """The executable udhcpc script: this interpreter running :func:`hook_main` (no shell)."""
    pkg_root = str(Path(__file__).resolve().parent.parent.parent)
    text = (f"#!{sys.executable}\n"
            "# written by r2wifi: udhcpc's event script (see r2wifi/net/dhcpc.py)\n"
            "import sys\n"
            f"sys.path.insert(0, {pkg_root!r})\n"
            "from r2wifi.net.dhcpc import hook_main\n"
            "raise SystemExit(hook_main(sys.argv[1:]))\n")
    atomic_write(path, text, mode=0o755)
    return path


def lease_file(state: Path, iface: str) -> Path:
    return state / f"lease-{iface}.json"


def read_lease(state: Path, iface: str) -> dict[str, Any] | None:
    try:
        data = json.loads(lease_file(state, iface).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# ------------------------------------------------------------------------------- the hook
def _prefixlen(mask: str) -> int:
    if mask.isdigit():
        return int(mask)
    return ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen


def lease_from_env(env: dict[str, str]) -> dict[str, Any]:
    """The lease udhcpc hands its script (``ip``, ``subnet``/``mask``, ``router``, ``dns``, ``lease``)."""
    ip = ipaddress.IPv4Address(env["ip"])
    plen = _prefixlen(env.get("mask") or env.get("subnet") or "24")
    routers = [str(ipaddress.IPv4Address(r)) for r in env.get("router", "").split()]
    dns = [str(ipaddress.ip_address(d)) for d in env.get("dns", "").split()]
    lease = env.get("lease", "")
    return {"address": f"{ip}/{plen}", "router": routers[0] if routers else None, "dns": dns,
            "lease_seconds": int(lease) if lease.isdigit() else None, "server": env.get("serverid")}


def _resolv_path() -> Path:
    return Path(os.environ.get("R2WIFI_RESOLV_CONF", RESOLV_CONF))


def set_dns(state: Path, iface: str, servers: list[str]) -> str:
    """Write ``servers`` to resolv.conf, keeping the original once. Returns what was done."""
    path = _resolv_path()
    if not servers:
        return "no DNS servers in the lease"
    if path.is_symlink():
        return f"{path} is a symlink (managed by systemd-resolved or resolvconf): left alone"
    backup, absent = _backups(state, iface)
    if not backup.exists() and not absent.exists():
        try:
            shutil.copy2(path, backup)
        except FileNotFoundError:
            atomic_write(absent, "", mode=0o644)  # there was none: restoring removes ours
    text = f"# written by r2wifi for the DHCP lease on {iface}; restored by 'r2wifi down'\n"
    text += "".join(f"nameserver {s}\n" for s in servers)
    atomic_write(path, text, mode=0o644)
    return f"{path}: {', '.join(servers)}"


def _backups(state: Path, iface: str) -> tuple[Path, Path]:
    """The kept resolv.conf, and the marker saying there was none."""
    return state / f"resolv.conf.before-{iface}", state / f"resolv.conf.before-{iface}.absent"


def restore_dns(state: Path, iface: str) -> bool:
    """Put back the resolv.conf from before our lease (True if there was something to restore)."""
    backup, absent = _backups(state, iface)
    path = _resolv_path()
    if absent.exists():
        path.unlink(missing_ok=True)
        absent.unlink()
        return True
    if not backup.exists():
        return False
    atomic_write(path, backup.read_bytes(), mode=0o644)
    backup.unlink()
    return True


def apply(iface: str, lease: dict[str, Any], old: dict[str, Any] | None, netns: str | None = None) -> None:
    """Set the leased address and default route on ``iface``, dropping an older lease's address."""
    from r2wifi.net.link import Link

    with Link(netns) as link:
        link.require(iface)
        if old and old.get("address") and old["address"] != lease["address"]:
            link.remove_address(iface, str(old["address"]))
        link.ensure_address(iface, lease["address"])
        if lease.get("router"):
            link.replace_default_route(iface, lease["router"], ROUTE_METRIC)


def remove(iface: str, lease: dict[str, Any], netns: str | None = None) -> None:
    """Remove the lease's default route and address from ``iface`` (missing ones are fine)."""
    from r2wifi.net.link import Link

    with Link(netns) as link:
        if not link.exists(iface):
            return
        if lease.get("router"):
            link.remove_default_route(iface, lease["router"], ROUTE_METRIC)
        if lease.get("address"):
            link.remove_address(iface, str(lease["address"]))


def hook_main(argv: list[str], env: dict[str, str] | None = None) -> int:
    """udhcpc's script: ``EVENT`` in argv, the lease in the environment."""
    from r2wifi.paths import state_dir

    env = dict(os.environ) if env is None else env
    event = argv[0] if argv else ""
    iface = env.get("interface", "")
    if not iface:
        print("r2wifi dhcpc: no interface in the environment", file=sys.stderr)
        return 1
    state = state_dir() / "ap"
    state.mkdir(parents=True, exist_ok=True)
    old = read_lease(state, iface)
    try:
        if event in ("bound", "renew"):
            lease = lease_from_env(env)
            apply(iface, lease, old)
            if env.get("R2WIFI_SET_DNS", "1") == "1":
                lease["dns_applied"] = set_dns(state, iface, lease["dns"])
            atomic_write(lease_file(state, iface), json.dumps(lease, indent=2) + "\n", mode=0o644)
            print(f"r2wifi dhcpc: {event}: {lease['address']} via {lease['router'] or 'no router'}"
                  f", DNS {' '.join(lease['dns']) or 'none'}", file=sys.stderr)
        elif event in ("deconfig", "leasefail", "nak"):
            if old:
                remove(iface, old)
            restore_dns(state, iface)
            lease_file(state, iface).unlink(missing_ok=True)
            print(f"r2wifi dhcpc: {event}: lease removed", file=sys.stderr)
    except Exception as err:  # noqa: BLE001 - udhcpc only sees our exit status; the log gets the reason
        print(f"r2wifi dhcpc: {event}: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


def release_leftovers(state: Path, iface: str, netns: str | None = None) -> bool:
    """After the client is stopped: remove a lease it did not clean up itself. True if one was."""
    from r2wifi.errors import UserError

    old = read_lease(state, iface)
    restored = restore_dns(state, iface)
    if old is None:
        return restored
    try:
        remove(iface, old, netns)
    except (OSError, UserError):
        pass  # the interface or namespace is gone with the mode change: nothing left to remove
    lease_file(state, iface).unlink(missing_ok=True)
    return True
