"""The command registry: name -> (module, one-line help).

Kept as plain data so that ``r2wifi --help`` lists every command without importing any of them
(start-up time on a 1.3 GHz ARM core matters). Each module named here defines::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

and imports heavy libraries (pyroute2, rich) only inside the code paths that use them.
"""

from __future__ import annotations

# Order is the order shown by `r2wifi --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("r2wifi.cli.demo", "start the simulator and bring the chip up to AP mode, step by step"),
    "chip": ("r2wifi.cli.chip", "chip bring-up: init (loader), launch (resident launcher), status, ioctls"),
    "firmware": ("r2wifi.cli.firmware", "check or install the firmware set, patch headers, WMT_SOC.cfg and the NVRAM MAC"),
    "wifi": ("r2wifi.cli.wifi", "WiFi mode through /dev/wmtWifi: off | sta | ap | status"),
    "sim": ("r2wifi.cli.sim", "the simulated driver: start | stop | status | inject"),
    "up": ("r2wifi.cli.up", "bring the access point (or station) up: chip, interface, hostapd, DHCP"),
    "down": ("r2wifi.cli.down", "take down what r2wifi started, leaving nothing behind"),
    "status": ("r2wifi.cli.status", "chip, mode, interface, hostapd/wpa_supplicant and clients (--watch: live)"),
    "metrics": ("r2wifi.cli.metrics", "the AP's metrics in the Prometheus text format (node_exporter textfile)"),
    "run": ("r2wifi.cli.run", "supervise the launcher and the AP, recovering from known failures"),
    "reload": ("r2wifi.cli.reload", "make the running supervisor re-read its configuration (SIGHUP)"),
    "ap": ("r2wifi.cli.ap", "access point helpers: qr (join QR code)"),
    "config": ("r2wifi.cli.config", "check or show the r2wifi configuration (secrets masked)"),
    "service": ("r2wifi.cli.service", "install or print systemd / OpenWrt procd / SysV service files"),
    "diagnose": ("r2wifi.cli.diagnose", "rebuild every client's story from hostapd, wpa_supplicant and kernel logs"),
    "doctor": ("r2wifi.cli.doctor", "check the live system: kernel, device tree, nodes, firmware, managers"),
    "bundle": ("r2wifi.cli.bundle", "make one redacted support archive for a forum post"),
    "kernel": ("r2wifi.cli.kernel", "install, list and roll back kernels on the SD card safely"),
    "accel": ("r2wifi.cli.accel", "build, check or remove the optional compiled accelerator of diagnose"),
    "bt": ("r2wifi.cli.bt", "Bluetooth on the internal combo chip: up | status"),
}
