#!/usr/bin/env python3
"""Validate the committed message catalogues and regenerate what is derived from them.

How the tables were made: each entry of ``r2wifi/logs/catalog/{hostap,kernel,wmt,supervisor}.py`` is a
format string read from the program's own source - hostapd / wpa_supplicant 2.6-2.11 (``wpa_printf`` and
``hostapd_logger`` calls at levels a default log shows: ``hostapd/main.c``, ``hostapd/config_file.c``,
``src/ap/{hostapd,hw_features,dfs,acs,beacon,wpa_auth}.c``, ``src/drivers/driver_nl80211.c``), the Linux
``drivers/net/wireless`` drivers (``dev_err`` / ``ath*_err`` / ``brcmf_err`` / ``IWL_ERR`` calls of mt76,
ath9k/10k/11k/12k, brcmfmac, iwlwifi, rtw88/89, rtl8xxxu, rt2x00, mwifiex, mwlwifi, mac80211),
driver-interface.md §7/§11 for the MediaTek WMT lines, and ``r2wifi/service/supervisor.py`` - with
``%d``/``%s`` written as ``{name}`` fields, then checked against the corpus logs. Only the facts are kept
(format, meaning, severity, where it comes from), never code.

Usage (offline, from the committed tables)::

    tools/gen_catalog.py            # validate; print per-family sizes; exit 1 on a problem
    tools/gen_catalog.py --write    # also regenerate docs/findings (messages.md and the findings docs)
    tools/gen_catalog.py --check    # exit 1 when the generated docs are stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from r2wifi.diagnose import catalogue  # noqa: E402
from r2wifi.logs.catalog import listing  # noqa: E402
from r2wifi.logs.events import KEYWORDS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tools/gen_catalog.py", description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true", help="regenerate docs/findings from the tables")
    g.add_argument("--check", action="store_true", help="fail when docs/findings is stale")
    g.add_argument("--common", metavar="CORPUS", help="recompute prefilter.COMMON from a corpus directory")
    ns = ap.parse_args(argv)
    if ns.common:
        return _common(Path(ns.common))
    bad = listing.problems()
    for p in bad:
        print(f"problem: {p}", file=sys.stderr)
    sizes = listing.sizes()
    print("catalogue entries: " + ", ".join(f"{k} {v}" for k, v in sizes.items()) + f" (total {sum(sizes.values())})")
    print(f"prefilter keywords (derived from the tables and the event rules): {len(KEYWORDS)}")
    docs = REPO / "docs" / "findings"
    if ns.write:
        catalogue.write(docs)
        print(f"wrote {docs}")
    elif ns.check:
        stale = catalogue.stale(docs)
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        bad = bad + stale
    return 1 if bad else 0


def _common(corpus: Path) -> int:
    """Print the tokens too common in the corpus' uncatalogued lines to be prefilter keywords."""
    from r2wifi.logs.catalog import hostap, kernel, prefilter, supervisor, wmt
    from r2wifi.logs.events import RULES, parse_line

    lines = [ln.rstrip("\n") for p in sorted(corpus.glob("*/*")) if p.suffix not in (".toml",) and p.is_file()
             for ln in p.read_text(errors="replace").splitlines()]
    fmts = ([n for n, _r, _b in RULES] + [m.fmt for m in wmt.MESSAGES]
            + [m.fmt for t in (hostap.TABLE, kernel.TABLE, supervisor.TABLE) for m in t.messages])
    common = prefilter.common_tokens(fmts, lines, lambda ln: bool(parse_line(ln)))
    print(f"{len(lines)} corpus lines; COMMON = {sorted(common)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
