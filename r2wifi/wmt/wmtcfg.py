"""WMT_SOC.cfg: the kernel's coexistence/power config (driver-interface.md 4, platform.md B).

Theory: the kernel (``wmt_conf.c``) reads ``/system/etc/firmware/WMT_SOC.cfg`` at every chip
power-on. Lines are separated by CR and/or LF; each is ``key=value`` with spaces/tabs trimmed;
the value is decimal or ``0x`` hex. Unknown keys are logged ("unknown field") and ignored. The
file shipped for the BPI-R2 holds only ``mtXXXX.defAnt=...`` lines (a combo-launcher format),
which the kernel ignores: harmless noise, reported here as such.

Rules: :func:`parse` never raises on content; it returns entries and findings. Range checks
follow the field widths the kernel stores (8/16/32 bits).
"""

from __future__ import annotations

import re
from pathlib import Path

from r2wifi.records import record
from r2wifi.wmt.firmware import Finding

_U8, _U16, _U32 = 0xFF, 0xFFFF, 0xFFFFFFFF

# key -> maximum value (all default 0)
KEYS: dict[str, int] = {
    "coex_wmt_ant_mode": _U8,
    "coex_wmt_ext_component": _U8,
    "coex_wmt_wifi_time_ctl": _U8,
    "coex_wmt_ext_pta_dev_on": _U8,
    "coex_wmt_filter_mode": _U8,
    "coex_bt_rssi_upper_limit": _U8,
    "coex_bt_rssi_mid_limit": _U8,
    "coex_bt_rssi_lower_limit": _U8,
    "coex_bt_pwr_high": _U8,
    "coex_bt_pwr_mid": _U8,
    "coex_bt_pwr_low": _U8,
    "coex_wifi_rssi_upper_limit": _U8,
    "coex_wifi_rssi_mid_limit": _U8,
    "coex_wifi_rssi_lower_limit": _U8,
    "coex_wifi_pwr_high": _U8,
    "coex_wifi_pwr_mid": _U8,
    "coex_wifi_pwr_low": _U8,
    "coex_ext_pta_hi_tx_tag": _U8,
    "coex_ext_pta_hi_rx_tag": _U8,
    "coex_ext_pta_lo_tx_tag": _U8,
    "coex_ext_pta_lo_rx_tag": _U8,
    "coex_ext_pta_sample_t1": _U16,
    "coex_ext_pta_sample_t2": _U16,
    "coex_ext_pta_wifi_bt_con_trx": _U8,
    "coex_misc_ext_pta_on": _U8,
    "coex_misc_ext_feature_set": _U32,
    "wmt_gps_lna_pin": _U8,
    "wmt_gps_lna_enable": _U8,
    "pwr_on_rtc_slot": _U8,
    "pwr_on_ldo_slot": _U8,
    "pwr_on_rst_slot": _U8,
    "pwr_on_off_slot": _U8,
    "pwr_on_on_slot": _U8,
    "co_clock_flag": _U8,
    "sdio_driving_cfg": _U32,
}

_DEFANT = re.compile(r"^mt\d{4}\.defAnt$")
_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)$")


@record(frozen=True)
class Entry:
    line: int
    key: str
    value: int


@record
class WmtConfig:
    entries: list[Entry]
    findings: list[Finding]

    def values(self) -> dict[str, int]:
        out = dict.fromkeys(KEYS, 0)
        out.update({e.key: e.value for e in self.entries})
        return out

    @property
    def co_clock(self) -> bool:
        return bool(self.values()["co_clock_flag"] & 0x0F)


def parse(text: str, where: str = "WMT_SOC.cfg") -> WmtConfig:
    entries: list[Entry] = []
    findings: list[Finding] = []
    defant: list[str] = []
    lines = re.split(r"\r\n|\r|\n", text)
    for no, raw in enumerate(lines, 1):
        line = raw.strip(" \t")
        if not line:
            continue
        if "=" not in line:
            findings.append(Finding("warn", where, f"line {no}: {line[:40]!r} is not key=value; the kernel ignores it"))
            continue
        key, value = (p.strip(" \t") for p in line.split("=", 1))
        if _DEFANT.match(key):
            defant.append(key)
            continue
        if key not in KEYS:
            findings.append(Finding("warn", where, f"line {no}: unknown key {key!r}; the kernel logs 'unknown field' "
                                    "and ignores it", "check the spelling against the known coex_/pwr_on_ keys"))
            continue
        if not _NUMBER.match(value):
            findings.append(Finding("error", where, f"line {no}: {key} = {value!r} is not a decimal or 0x hex number",
                                    "write a number such as 1 or 0x1"))
            continue
        num = int(value, 0) if value.lower().startswith("0x") else int(value, 10)
        if num > KEYS[key]:
            findings.append(Finding("error", where, f"line {no}: {key} = {value} exceeds {KEYS[key]:#x}",
                                    "use a value in range for this field"))
            continue
        entries.append(Entry(no, key, num))
    if defant:
        findings.append(Finding("ok", where, f"{len(defant)} mtXXXX.defAnt line(s) as shipped: the kernel logs "
                                "'unknown field' for each; harmless"))
    return WmtConfig(entries, findings)


def check_file(path: Path, shown: str | None = None) -> list[Finding]:
    where = shown or str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return [Finding("error", where, f"unreadable ({e.strerror})", "fix its permissions (0644)")]
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return [Finding("error", where, "not an ASCII text file", "replace it with the shipped WMT_SOC.cfg")]
    return parse(text, where).findings
