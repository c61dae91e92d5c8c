"""Test-bed helpers for tests/hostap: network namespaces joined by a veth pair, 802.1X configs.

A :class:`WiredBed` is two namespaces (``<tag>-ap`` and ``<tag>-sta``) and a veth pair (``<tag>a`` in
the AP namespace, ``<tag>s`` in the station namespace). Names are unique per test (pid + counter),
the station end gets a fresh locally administered MAC every time (hostapd stalls ~30 s on a MAC
that just sent EAPOL-Logoff), and :meth:`close` removes everything (namespaces take their links).
Daemon state lives in a short /tmp directory because UNIX socket paths are limited to 107 bytes.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from r2wifi.hostap.daemon import Daemon

_seq = itertools.count()


def ip(*args: str, netns: str | None = None) -> None:
    argv = ["ip", "netns", "exec", netns, "ip", *args] if netns else ["ip", *args]
    subprocess.run(argv, check=True, capture_output=True, text=True)


def fresh_mac() -> str:
    b = bytearray(secrets.token_bytes(6))
    b[0] = (b[0] & 0xFC) | 0x02  # locally administered, unicast
    return ":".join(f"{x:02x}" for x in b)


class WiredBed:
    def __init__(self) -> None:
        tag = f"r2h{os.getpid() % 100000}x{next(_seq)}"
        self.ns_ap, self.ns_sta = f"{tag}-ap", f"{tag}-sta"
        self.if_ap, self.if_sta = f"{tag}a"[-15:], f"{tag}s"[-15:]
        self.root = Path(tempfile.mkdtemp(prefix="r2h", dir="/tmp"))
        self.daemons: list[Daemon] = []
        self.sta_mac = fresh_mac()
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self) -> None:
        ip("netns", "add", self.ns_ap)
        ip("netns", "add", self.ns_sta)
        ip("link", "add", self.if_ap, "type", "veth", "peer", "name", self.if_sta)
        ip("link", "set", self.if_ap, "netns", self.ns_ap)
        ip("link", "set", self.if_sta, "netns", self.ns_sta)
        ip("link", "set", self.if_sta, "address", self.sta_mac, netns=self.ns_sta)
        ip("link", "set", self.if_ap, "up", netns=self.ns_ap)
        ip("link", "set", self.if_sta, "up", netns=self.ns_sta)
        ip("link", "set", "lo", "up", netns=self.ns_ap)
        ip("link", "set", "lo", "up", netns=self.ns_sta)

    def track(self, d: Daemon) -> Daemon:
        self.daemons.append(d)
        return d

    def close(self) -> None:
        for d in reversed(self.daemons):
            d.stop(timeout=3)
        for ns in (self.ns_ap, self.ns_sta):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.if_ap], capture_output=True)  # if never moved
        shutil.rmtree(self.root, ignore_errors=True)


EAP_USERS = """\
"md5-user" MD5 "md5-secret"
"psk-user" PSK 0123456789abcdef0123456789abcdef
"""


def hostapd_8021x_conf(bed: WiredBed, ctrl_dir: Path) -> str:
    users = bed.root / "eap_users"
    users.write_text(EAP_USERS)
    return (
        f"interface={bed.if_ap}\ndriver=wired\nctrl_interface={ctrl_dir}\n"
        "logger_stdout=-1\nlogger_stdout_level=0\n"
        "ieee8021x=1\neapol_version=2\nuse_pae_group_addr=1\n"
        f"eap_server=1\neap_user_file={users}\n"
    )


def wpas_8021x_conf(ctrl_dir: Path, eap: str, identity: str, password: str) -> str:
    """EAP-PSK takes its 16-octet key as 32 hex digits (unquoted); MD5 a quoted password."""
    pw = password if eap == "PSK" else f'"{password}"'
    return (
        f"ctrl_interface={ctrl_dir}\nap_scan=0\nnetwork={{\n\tkey_mgmt=IEEE8021X\n\teap={eap}\n"
        f'\tidentity="{identity}"\n\tpassword={pw}\n\teapol_flags=0\n}}\n'
    )
