"""Property tests: whatever valid SSID / passphrase a user picks survives TOML, rendering and the QR code;
whatever text or values a config file holds, loading it gives a Config or a one-line UserError."""

from __future__ import annotations

import math
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r2wifi import records
from r2wifi.config import _SECTIONS, Config, dump_toml, parse_config, toml_value
from r2wifi.errors import UserError
from r2wifi.hostap.qr import wifi_qr_payload
from r2wifi.hostap.render import render_dnsmasq, render_hostapd, render_mac_file, render_wpa_supplicant

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


# -- the loader never fails with anything but a UserError (issue 9 item 4) --------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = [(name, f.name) for name, cls in _SECTIONS.items() for f in records.fields(cls)]
KEYS += [("ap.mac_filter", "mode"), ("ap.mac_filter", "macs")]

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "ap0", "wpa2", "open", "a", "g", "192.168.10.1/24", "fe80::1%eth0/64", "8mbit",
                     "9" * 40 + "gbit", "[HT40+]", "x=1\ny=2", "02:08:22:00:00:10", "..", "infinite", "1s"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.sampled_from(["mac", "ip", "name", "mode",
                                                                                        "macs", "x"]), inner,
                                                                       max_size=3)),
                      max_leaves=8)


def toml_any(value: object) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_any(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_any(v) for v in value) + "]"
    return toml_value(value)


def assert_loads_or_user_error(text: str) -> Config | None:
    try:
        cfg = parse_config(text)
    except UserError as err:
        assert "\n" not in str(err)
        return None
    # a config that loads renders files in which every line is a comment or one key=value
    for rendered in (render_hostapd(cfg, "/c"), render_dnsmasq(cfg, "/l"), render_wpa_supplicant(cfg, "/c"),
                     render_mac_file(cfg)):
        for line in rendered.splitlines():
            assert not re.search(r"[\x00-\x1f\x7f]", line.replace("\t", "")), line
    return cfg


@FUZZ
@given(st.text(max_size=300))
def test_random_text_loads_or_is_a_user_error(text: str):
    """Any text at all: a Config or a one-line UserError, never another exception."""
    assert_loads_or_user_error(text)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(KEYS), values), min_size=1, max_size=6))
def test_random_values_per_key_load_or_are_a_user_error(pairs: list[tuple[tuple[str, str], object]]):
    """Random values of every type for every key (sub-tables included): a Config or a UserError."""
    by_section: dict[str, dict[str, object]] = {}
    for (section, key), value in pairs:
        by_section.setdefault(section, {})[key] = value
    lines = ['[ap]', 'passphrase = "correct horse battery"'] if "ap" not in by_section else []
    for section, body in by_section.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {toml_any(v)}" for k, v in body.items()]
    assert_loads_or_user_error("\n".join(lines) + "\n")


toml_fragments = st.sampled_from([
    "[ap]", "[dhcp]", "[supervisor]", "[ap.mac_filter]", "[[dhcp.reservation]]", "[[ap]]", "[ap.x.y]", "[nope]",
    "a = [[[[[[[[1]]]]]]]]", "x = {a = {b = {c = 1}}}", 'ssid = "a\\u0000b"', "channel = 1e400",
    "channel = 99999999999999999999", "backoff_max = inf", "backoff_initial = nan", 'rate = "1e999mbit"',
    'interface = "ap0\\nwpa=0"', 'extra = ["a=b", "c"]', 'mac = "02:00:00:00:00:01"', "reservation = 5",
    'mode = "allow"', "macs = []", 'ip = "192.168.10.5"', "hidden = 1", '"quoted key" = 1', "= 1", "[",
])


@FUZZ
@given(st.lists(st.one_of(toml_fragments, st.text(max_size=20)), max_size=12))
def test_toml_ish_text_loads_or_is_a_user_error(lines: list[str]):
    """Line soup of sections, keys and hostile values: a Config or a UserError."""
    assert_loads_or_user_error("\n".join(lines) + "\n")


reservations = st.lists(
    st.tuples(st.integers(min_value=2, max_value=254), st.binary(min_size=5, max_size=5),
              st.from_regex(r"\A([A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?)?\Z")),
    max_size=8, unique_by=(lambda r: r[0], lambda r: r[1]),
)


@SETTINGS
@given(reservations)
def test_valid_reservations_become_one_dhcp_host_line_each(res: list[tuple[int, bytes, str]]):
    """Reservations with unique MACs and addresses inside the subnet load, and each is exactly one
    dhcp-host line (mac,ip[,name]) in dnsmasq's file."""
    text = '[ap]\npassphrase = "correct horse battery"\n'
    expected = []
    for last, tail, name in res:
        mac = "02:" + ":".join(f"{b:02x}" for b in tail)
        text += f'[[dhcp.reservation]]\nmac = "{mac.upper()}"\nip = "192.168.10.{last}"\nname = "{name}"\n'
        expected.append("dhcp-host=" + ",".join(v for v in (mac, f"192.168.10.{last}", name) if v))
    lines = [ln for ln in render_dnsmasq(parse_config(text), "/l").splitlines() if ln.startswith("dhcp-host=")]
    assert lines == expected
