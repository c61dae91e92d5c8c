"""The AP's daemons (hostapd, dnsmasq; wpa_supplicant and the DHCP client) through the shared runner.

Rules: processes are started, found and stopped only by :class:`r2wifi.hostap.daemon.Daemon`
(pid file + recorded argv checked against /proc, time-stamped rotating log under
``<state>/logs/``, which ``r2wifi diagnose`` reads). This module only maps the AP's roles to the
runner's names (``hostapd-<ap iface>``, ``dnsmasq-<ap iface>``, ``wpa_supplicant-<sta iface>``,
``dhcpc-<sta iface>``)
so every command (up, down, status, run) looks at the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from r2wifi.config import Config
    from r2wifi.hostap.daemon import Daemon

KINDS = ("hostapd", "dnsmasq", "dhcpc", "wpa_supplicant")  # stop order: the DHCP client before its link
STA_KINDS = frozenset({"wpa_supplicant", "dhcpc"})


class Daemons:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    def name(self, kind: str) -> str:
        iface = self.cfg.sta.interface if kind in STA_KINDS else self.cfg.ap.interface
        return f"{kind}-{iface}"

    def handle(self, kind: str) -> Daemon:
        """A runner handle for checks and stop (not for start: the factories render the config)."""
        from r2wifi.hostap.daemon import Daemon

        return Daemon(self.name(kind), [])

    def pid(self, kind: str) -> int | None:
        return self.handle(kind).pid()

    def alive(self, kind: str) -> bool:
        return self.pid(kind) is not None

    def stop(self, kind: str, timeout: float = 5.0) -> bool:
        return self.handle(kind).stop(timeout=timeout)

    def logfile(self, kind: str) -> Path:
        return self.handle(kind).log_file

    def ctrl_path(self, kind: str) -> Path:
        iface = self.cfg.sta.interface if kind in STA_KINDS else self.cfg.ap.interface
        return self.handle(kind).ctrl_dir / iface

    def forget(self, kind: str) -> None:
        """Remove a stopped daemon's generated files (config with secrets, ctrl dir, leases); keep logs."""
        from r2wifi.hostap.render import dnsmasq_hosts_path

        d = self.handle(kind)
        for path in (d.conf_file, d.conf_file.with_suffix(".hook"), dnsmasq_hosts_path(d.conf_file), d.pid_file,
                     d.root / "dhcp" / f"{d.name}.leases", d.root / "run" / f"{d.name}.dnsmasq.pid"):
            path.unlink(missing_ok=True)
        import shutil

        shutil.rmtree(d.ctrl_dir, ignore_errors=True)
