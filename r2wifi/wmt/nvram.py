"""The wlan_gen2 NVRAM file (``/etc/firmware/nvram/WIFI``): the WiFi MAC address.

Theory: the file is the 512-byte ``CFG_Wifi_File`` struct (514 bytes as shipped): version words
at offsets 0 and 2, ``aucMacAddress[6]`` at offset 4 (all zeros as shipped, so the driver makes
up ``00:08:22:xx:xx:xx`` from a time tick at every boot) and the country code at 10. Writing a
stable MAC at offset 4 keeps the AP's BSSID constant across reboots.

Rules: the file is replaced atomically with a backup of the old one first; the rest of the file
is kept byte for byte. A stable MAC is derived from a machine seed (or a given one) as a locally
administered unicast address with the vendor's ``02:08:22`` prefix. The seed is the first that exists of
:data:`SEED_FILES` (``/etc/machine-id``; OpenWrt has none, so D-Bus's copy, then the board's device-tree
serial number), else a random seed r2wifi stores once in :data:`STORED_SEED` and reuses.
"""

from __future__ import annotations

import hashlib
import re
import secrets
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


SEED_FILES = (
    "etc/machine-id",
    "var/lib/dbus/machine-id",
    "proc/device-tree/serial-number",
    "sys/firmware/devicetree/base/serial-number",
)
STORED_SEED = "etc/r2wifi/mac-seed"


def _read_small(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(256).strip(b"\0 \t\r\n")
    except OSError:
        return b""


def machine_seed(root: str | Path = "/") -> tuple[bytes, str]:
    """The machine's stable seed and where it came from (created in :data:`STORED_SEED` if none exists)."""
    for rel in SEED_FILES:
        data = _read_small(Path(root) / rel)
        if data.strip(b"0"):  # all zeros is an unset serial number
            return data, "/" + rel
    stored = Path(root) / STORED_SEED
    data = _read_small(stored)
    if not data:
        data = secrets.token_hex(16).encode()
        try:
            atomic_write(stored, data + b"\n", mode=0o644)
        except OSError as err:
            raise UserError(f"no machine id, board serial or stored seed, and {stored} cannot be written "
                            f"({err.strerror}); give the MAC with --set") from err
    return data, "/" + STORED_SEED


def stable_mac(seed: bytes | None = None, root: str | Path = "/") -> str:
    """A locally administered MAC ``02:08:22:xx:xx:xx`` derived from ``seed`` or :func:`machine_seed`."""
    if seed is None:
        seed, _where = machine_seed(root)
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
