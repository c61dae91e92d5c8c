"""The WiFi join QR code payload (``WIFI:T:WPA;S:<ssid>;P:<pass>;;``), ZXing / Android / iOS format.

API: ``wifi_qr_payload(ssid, security, secret, hidden=False, raw_psk=False) -> str`` (pure) and
``payload_for(cfg) -> str`` for the ``[ap]`` section (``ap.hidden`` -> ``H:true``; ``ap.psk`` is a raw PSK).

Rules: the characters ``\\ ; , : "`` in the SSID and the password are escaped with a backslash;
an SSID or passphrase that consists only of hex digits is quoted so that readers do not take it
for hex. A raw PSK (64 hex digits, ``ap.psk``) is written bare: readers (ZXing, Android) take an
unquoted 64-hex-digit password for the PSK itself, a quoted one for a passphrase. ``T`` is ``WPA`` for wpa2 and wpa2-wpa3, ``SAE`` for wpa3 and ``nopass`` (no ``P``) for
an open network. The payload holds the passphrase by design: callers must never print it as text.
"""

from __future__ import annotations

import re

from r2wifi.config import Config

_SPECIAL = re.compile(r'([\\;,:"])')
_HEXISH = re.compile(r"^[0-9A-Fa-f]+$")
_PSK = re.compile(r"^[0-9A-Fa-f]{64}$")


def escape(value: str) -> str:
    escaped = _SPECIAL.sub(r"\\\1", value)
    if _HEXISH.match(value) and len(value) % 2 == 0:
        return f'"{escaped}"'
    return escaped


def wifi_qr_payload(ssid: str, security: str, secret: str, *, hidden: bool = False, raw_psk: bool = False) -> str:
    kind = {"open": "nopass", "wpa3": "SAE"}.get(security, "WPA")
    parts = [f"T:{kind}", f"S:{escape(ssid)}"]
    if kind != "nopass":
        if raw_psk and not _PSK.match(secret):
            raise ValueError("a raw PSK is 64 hexadecimal digits")
        parts.append(f"P:{secret.lower() if raw_psk else escape(secret)}")
    if hidden:
        parts.append("H:true")
    return "WIFI:" + ";".join(parts) + ";;"


def payload_for(cfg: Config) -> str:
    ap = cfg.ap
    raw = bool(ap.psk) and not ap.passphrase
    return wifi_qr_payload(ap.ssid, ap.security, ap.key_material, hidden=ap.hidden, raw_psk=raw)
