"""Checks and a Markdown listing of every message catalogue (``docs/findings/messages.md``).

Used by ``tools/gen_catalog.py`` (validation, sizes) and by ``python -m r2wifi.diagnose.catalogue``
(the listing is generated with the findings docs). Offline, no I/O: a pure function of the tables.
"""

from __future__ import annotations

import string

from r2wifi.logs.catalog import base, hostap, kernel, supervisor, wmt

FAMILIES: dict[str, str] = {
    "hostap": "hostapd / wpa_supplicant (start-up, configuration, channel / DFS / ACS, driver errors)",
    "kernel": "in-kernel WiFi drivers (mt76, ath9k/10k/11k/12k, brcmfmac, iwlwifi, rtw88/89, rtl8xxxu, rt2x00, "
              "mwifiex, mwlwifi, mac80211, SDIO)",
    "wmt": "MediaTek WMT / STP / wlan_gen2 and the vendor launcher (driver-interface.md §7, §11)",
    "supervisor": "r2wifi's own supervisor (recoveries)",
}


def _sample(fmt: str) -> str:
    fields = [f for _l, f, _s, _c in string.Formatter().parse(fmt) if f]
    return fmt.format(**{f: ("-16" if f == "ret" else "some text" if f.endswith("text") else "7") for f in fields})


def rows() -> dict[str, list[tuple[str, str, str, str, str]]]:
    """Per family: (key, format, meaning, severity or verdict, source) of every entry, in table order."""
    out: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for name, table in (("hostap", hostap.TABLE), ("kernel", kernel.TABLE), ("supervisor", supervisor.TABLE)):
        out[name] = [(m.key, m.fmt, m.means, m.severity, m.source) for m in table.messages]
    out["wmt"] = [(m.key, m.fmt, m.meaning, m.verdict, m.source) for m in wmt.MESSAGES]
    return {k: out[k] for k in FAMILIES}


def problems() -> list[str]:
    """Everything wrong with the tables: invalid entries, formats whose rendered line is not their own entry,
    the same format twice, WMT failures without a finding kind."""
    out: list[str] = []
    for name, table in (("hostap", hostap.TABLE), ("kernel", kernel.TABLE), ("supervisor", supervisor.TABLE)):
        out += [f"{name}: {p}" for p in table.check()]
        out += _roundtrip(name, [(m.key, m.fmt) for m in table.messages], lambda s, t=table: t.classify(s))
    out += _roundtrip("wmt", [(m.key, m.fmt) for m in wmt.MESSAGES], wmt.classify)
    for m in wmt.MESSAGES:
        if m.verdict == "failure" and m.meaning != "bt_failed" and not wmt.kind_of(m.meaning):
            out.append(f"wmt: {m.key}: failure marker {m.meaning!r} raises no finding kind")
    from r2wifi.logs.events import KEYWORDS, RULES  # the prefilter derived from these tables

    fmts = [m.fmt for m in wmt.MESSAGES] + [m.fmt for t in (hostap.TABLE, kernel.TABLE, supervisor.TABLE)
                                            for m in t.messages]
    out += [f"prefilter: no keyword in {f!r}" for f in fmts if not any(k in _sample(f) for k in KEYWORDS)]
    out += [f"prefilter: no keyword in rule needle {n!r}" for n, _r, _b in RULES if not any(k in n for k in KEYWORDS)]
    return out


def _roundtrip(name: str, entries: list[tuple[str, str]], classify: object) -> list[str]:
    out: list[str] = []
    seen: dict[str, str] = {}
    for key, fmt in entries:
        if fmt in seen:
            out.append(f"{name}: {key}: same format as {seen[fmt]}")
        seen[fmt] = key
        hit = classify(_sample(fmt))  # type: ignore[operator]
        if hit is None or hit[0].key != key:
            out.append(f"{name}: {key}: its rendered line is {'unknown' if hit is None else hit[0].key}")
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(header: str = "") -> str:
    lines = [header, "# Message catalogues", "",
             "What r2wifi knows about each program's log lines (the one home of those facts; "
             "`tools/gen_catalog.py` validates the tables). Fields are `{name}`; lines not listed stay unknown.",
             ""]
    table_rows = rows()
    lines += ["| family | entries |", "|---|---|"]
    lines += [f"| {FAMILIES[f]} | {len(r)} |" for f, r in table_rows.items()]
    for fam, entries in table_rows.items():
        lines += ["", f"## {fam}: {FAMILIES[fam]}", "", "| key | format | means | severity | source |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{k}` | `{_cell(fmt)}` | {_cell(means)} | {sev} | {_cell(src)} |"
                  for k, fmt, means, sev, src in entries]
    return "\n".join(lines) + "\n"


def sizes() -> dict[str, int]:
    return {f: len(r) for f, r in rows().items()}


__all__ = ["FAMILIES", "base", "problems", "render_markdown", "rows", "sizes"]
