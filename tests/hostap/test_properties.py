"""Property tests: whatever valid SSID / passphrase a user picks survives TOML, rendering and the QR code."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from r2wifi.config import dump_toml, parse_config, toml_value
from r2wifi.hostap.qr import wifi_qr_payload
from r2wifi.hostap.render import render_hostapd, render_wpa_supplicant

SETTINGS = settings(max_examples=60, deadline=None)

ssids = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=32
).filter(lambda s: 1 <= len(s.encode()) <= 32)
passphrases = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=8, max_size=63)


def cfg_for(ssid: str, passphrase: str):
    text = (f"[ap]\nssid = {toml_value(ssid)}\npassphrase = {toml_value(passphrase)}\n"
            f"[sta]\nssid = {toml_value(ssid)}\npassphrase = {toml_value(passphrase)}\n")
    return parse_config(text)


def conf_values(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.removeprefix("\t")  # network-block indentation; values keep their edge spaces
        if line and not line.startswith("#") and "=" in line:
            k, _, v = line.partition("=")
            out[k] = v
    return out


@SETTINGS
@given(ssids, passphrases)
def test_hostapd_reads_back_the_exact_ssid_and_passphrase(ssid: str, passphrase: str):
    """hostapd's `ssid=`/`ssid2=<hex>` and `wpa_passphrase=` lines decode to exactly what was configured."""
    kv = conf_values(render_hostapd(cfg_for(ssid, passphrase), "/c"))
    got = kv["ssid"] if "ssid" in kv else bytes.fromhex(kv["ssid2"]).decode()
    assert got == ssid
    assert kv["wpa_passphrase"] == passphrase


@SETTINGS
@given(ssids, passphrases)
def test_wpa_supplicant_reads_back_the_exact_ssid_and_passphrase(ssid: str, passphrase: str):
    """wpa_supplicant's quoted-or-hex ssid and quoted psk decode to what was configured (its parser takes
    everything up to the last quote)."""
    kv = conf_values(render_wpa_supplicant(cfg_for(ssid, passphrase), "/c"))
    raw = kv["ssid"]
    got = raw[1:-1] if raw.startswith('"') else bytes.fromhex(raw).decode()
    assert got == ssid
    assert kv["psk"] == f'"{passphrase}"'


@SETTINGS
@given(ssids, passphrases)
def test_toml_dump_round_trips(ssid: str, passphrase: str):
    """An unmasked dump of a config loads back to an equal config."""
    cfg = cfg_for(ssid, passphrase)
    assert parse_config(dump_toml(cfg, masked=False)) == cfg


def parse_wifi_qr(payload: str) -> dict[str, str]:
    """A reader's view of `WIFI:K:v;...;;`: backslash escapes, optional surrounding double quotes."""
    assert payload.startswith("WIFI:") and payload.endswith(";;")
    fields: dict[str, str] = {}
    body, i = payload[5:], 0
    while i < len(body) and body[i] != ";":
        key, i = body[i], i + 2
        value, quoted = [], body[i] == '"'
        if quoted:
            i += 1
        while body[i] != ";":
            if body[i] == "\\":
                value.append(body[i + 1])
                i += 2
                continue
            if quoted and body[i] == '"' and body[i + 1] == ";":
                i += 1
                break
            value.append(body[i])
            i += 1
        fields[key] = "".join(value)
        i += 1
    return fields


@SETTINGS
@given(ssids, passphrases)
def test_qr_payload_decodes_to_ssid_and_passphrase(ssid: str, passphrase: str):
    """A QR reader that honours the escaping recovers the exact SSID and passphrase."""
    fields = parse_wifi_qr(wifi_qr_payload(ssid, "wpa2", passphrase))
    assert fields == {"T": "WPA", "S": ssid, "P": passphrase}
