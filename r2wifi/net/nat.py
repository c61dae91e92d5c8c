"""NAT from the AP subnet to an uplink with nftables, in a table of our own.

Rules: r2wifi only ever touches the table ``inet r2wifi`` (``ip`` family ``r2wifi_nat``). ``enable``
replaces it atomically with one ``nft -f -`` transaction (delete-if-exists + add in the same
batch), so re-running is idempotent; ``disable`` deletes it and leaves every other ruleset alone.
IPv4 forwarding is switched on through /proc (in the namespace ``nft`` runs in). Never a shell.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from r2wifi.errors import UserError

TABLE = "r2wifi_nat"


def nft_path() -> str | None:
    return shutil.which("nft") or next((p for p in ("/usr/sbin/nft", "/sbin/nft") if os.path.exists(p)), None)


def _cmd(netns: str | None, argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv] if netns else argv


def ruleset(subnet: str, uplink: str) -> str:
    return (
        f"table ip {TABLE} {{}}\n"
        f"delete table ip {TABLE}\n"
        f"table ip {TABLE} {{\n"
        f"  chain postrouting {{\n"
        f"    type nat hook postrouting priority srcnat; policy accept;\n"
        f'    ip saddr {subnet} oifname "{uplink}" masquerade\n'
        f"  }}\n"
        f"}}\n"
    )


def enable(subnet: str, uplink: str, netns: str | None = None) -> None:
    nft = nft_path()
    if not nft:
        raise UserError("nat.uplink is set but the nft command is not installed (apt-get install nftables)")
    proc = subprocess.run(_cmd(netns, [nft, "-f", "-"]), input=ruleset(subnet, uplink), text=True,
                          capture_output=True)
    if proc.returncode != 0:
        raise UserError(f"nft: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'failed'}")
    if netns:
        subprocess.run(_cmd(netns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]), capture_output=True)
    else:
        with open("/proc/sys/net/ipv4/ip_forward", "w") as fh:
            fh.write("1\n")


def present(netns: str | None = None) -> bool:
    nft = nft_path()
    if not nft:
        return False
    proc = subprocess.run(_cmd(netns, [nft, "list", "table", "ip", TABLE]), capture_output=True, text=True)
    return proc.returncode == 0


def disable(netns: str | None = None) -> bool:
    """Delete our table if it exists. Returns True if it was there."""
    nft = nft_path()
    if not nft or not present(netns):
        return False
    subprocess.run(_cmd(netns, [nft, "delete", "table", "ip", TABLE]), capture_output=True, text=True)
    return True
