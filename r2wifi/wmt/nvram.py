"""The wlan_gen2 NVRAM file (``/etc/firmware/nvram/WIFI``): the WiFi MAC address.

Theory: the file is the 512-byte ``CFG_Wifi_File`` struct (514 bytes as shipped): version words
at offsets 0 and 2, ``aucMacAddress[6]`` at offset 4 (all zeros as shipped, so the driver makes
up ``00:08:22:xx:xx:xx`` from a time tick at every boot) and the country code at 10. Writing a
stable MAC at offset 4 keeps the AP's BSSID constant across reboots.

Rules: the file is replaced atomically with a backup of the old one first; the rest of the file
is kept byte for byte. A stable MAC is derived from ``/etc/machine-id`` (or a given seed) as a
locally administered unicast address with the vendor's ``02:08:22`` prefix.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from r2wifi.errors import UserError
from r2wifi.fsutil import atomic_write

MAC_OFFSET = 4
MIN_SIZE = 12
_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")


def format_mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def parse_mac(text: str) -> bytes:
    if not _MAC.match(text.strip()):
        raise UserError(f"{text!r} is not a MAC address (expected six hex bytes like 02:08:22:12:34:56)")
    raw = bytes(int(p, 16) for p in re.split("[:-]", text.strip()))
    if raw[0] & 1:
        raise UserError(f"{text} is a multicast address; an interface needs a unicast MAC")
    if raw == b"\0" * 6:
        raise UserError("00:00:00:00:00:00 means 'made up at every boot'; give a real MAC")
    return raw


def _load(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: NVRAM file missing (install nvram/WIFI from the firmware set)") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None
    if len(data) < MIN_SIZE:
        raise UserError(f"{path}: {len(data)} bytes is too short for the WiFi NVRAM (514 expected)")
    return data


def read_mac(path: Path) -> str | None:
    """The MAC stored at offset 4, or None when it is all zeros (the driver makes one up)."""
    raw = _load(path)[MAC_OFFSET:MAC_OFFSET + 6]
    return None if raw == b"\0" * 6 else format_mac(raw)


def stable_mac(seed: bytes | None = None) -> str:
    """A locally administered MAC ``02:08:22:xx:xx:xx`` derived from the machine id."""
    if seed is None:
        try:
            seed = Path("/etc/machine-id").read_bytes().strip()
        except OSError:
            seed = b""
        if not seed:
            raise UserError("/etc/machine-id is missing or empty; give the MAC with --set")
    digest = hashlib.sha256(b"r2wifi-wlan-mac:" + seed).digest()
    return format_mac(bytes([0x02, 0x08, 0x22]) + digest[:3])


def write_mac(path: Path, mac: str) -> Path | None:
    """Store ``mac`` at offset 4 (atomic, backup of the old file first). Returns the backup path."""
    raw = parse_mac(mac)
    data = bytearray(_load(path))
    if bytes(data[MAC_OFFSET:MAC_OFFSET + 6]) == raw:
        return None
    data[MAC_OFFSET:MAC_OFFSET + 6] = raw
    return atomic_write(path, bytes(data), backup=True)
