#!/usr/bin/env python3
"""Generate a labelled log corpus from real faults on mac80211_hwsim (the QEMU test bed).

Theory of operation: boot the hwsim guest once (tools/testbed), run every fault scenario of
tools/testbed/guest/scenarios.py, and save each scenario's logs (hostapd and wpa_supplicant at
``-dd -t``, dnsmasq, the kernel log slice) under ``tests/data/generated_corpus/<scenario>/`` with

* ``labels.toml``: ``expected`` / ``not_expected`` finding kinds (shared/spec/finding-kinds.md),
  true *by construction* of the fault (``LABELS`` in the scenario runner), in the format of
  shared/corpus/dev/*/labels.toml;
* ``case.toml``: where the logs come from (generator, kernel, hostapd version), the files and
  their formats, and what the scenario did.

A scenario that did not reach its fault (its outcome is not ok) is NOT written: a label must never
describe logs that do not show it. Logs are trimmed to stay commit-sized (< 200 KB per case): the
MSG_MSGDUMP hexdump payloads are cut to their first bytes, and if a file is still too large its
middle is elided with a marker line. Passphrases never appear (hostapd prints [REMOVED]); the
generator checks that and refuses to write a case that contains one.

Usage: ``tools/gen_corpus.py [--out DIR] [SCENARIO ...]`` (as root; needs qemu-system-x86_64).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tools" / "testbed" / "guest"))

import scenarios as guest  # noqa: E402  (stdlib-only guest runner: LABELS, SCENARIOS, secrets)

DEFAULT_OUT = REPO / "tests" / "data" / "generated_corpus"
CASE_BUDGET = 190_000
FILE_FORMATS = {
    "hostapd.log": "hostapd-dd with -t (epoch.usec prefix), written with -f",
    "wpa_supplicant.log": "wpa_supplicant -dd with -t (epoch.usec prefix), written with -f",
    "dnsmasq.log": "dnsmasq --log-dhcp to a file (syslog-like prefix)",
    "kernel.log": "dmesg raw ([uptime] prefix), slice of the scenario",
}
_HEXDUMP = re.compile(r"^(.*? - hexdump(?:_ascii)?\(len=\d+\):)( [0-9a-f]{2}){17,}.*$")


def trim(text: str, budget: int) -> str:
    """Shorten hexdump payloads; elide the middle if still over ``budget`` characters."""
    lines = []
    for line in text.splitlines():
        m = _HEXDUMP.match(line)
        lines.append(m.group(1) + line[len(m.group(1)):len(m.group(1)) + 48] + " ..." if m else line)
    out = "\n".join(lines) + "\n"
    if len(out) <= budget:
        return out
    head = out[: budget // 3].rsplit("\n", 1)[0]
    tail = out[-(budget * 2 // 3):].split("\n", 1)[1]
    return f"{head}\n[... {len(out) - len(head) - len(tail)} characters elided by tools/gen_corpus.py ...]\n{tail}"


def q(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(q(i) for i in items) + "]"


def hostapd_version() -> str:
    proc = subprocess.run(["hostapd", "-v"], capture_output=True, text=True, check=False)
    m = re.search(r"hostapd (v\S+)", proc.stderr + proc.stdout)
    return m.group(1) if m else "unknown"


def write_case(src: Path, dest: Path, name: str, kver: str, when: str) -> int:
    """Copy one scenario's logs (trimmed) + labels.toml + case.toml to ``dest``; returns bytes."""
    from testbed.scenario import labels_for_logs

    files = [f for f in ("hostapd.log", "wpa_supplicant.log", "dnsmasq.log", "kernel.log") if (src / f).exists()]
    texts = {f: (src / f).read_text(errors="replace") for f in files}
    expected, not_expected, dropped = labels_for_logs(name, texts)
    note = (f"# not_expected {dropped} dropped: this run's logs show it anyway (TCG load)\n" if dropped else "")
    for f, t in texts.items():
        for secret in (guest.PASSPHRASE, "wrong-passphrase-9"):
            if secret in t:
                raise SystemExit(f"refusing to write {name}: the passphrase appears in {f}")
    per_file = CASE_BUDGET // max(1, len(files))
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=dest.parent))
    total = 0
    for f in files:
        data = trim(texts[f], per_file)
        (tmp / f).write_text(data)
        total += len(data.encode())
    doc = (guest.SCENARIOS[name].__doc__ or name).strip()
    (tmp / "labels.toml").write_text(
        "# finding kinds of shared/spec/finding-kinds.md, true by construction of the scenario "
        "(tools/testbed/guest/scenarios.py LABELS)\n" + note +
        f"expected = {toml_list(expected)}\nnot_expected = {toml_list(not_expected)}\n")
    (tmp / "case.toml").write_text(
        f'id = "gen-{name}"\nslug = "hwsim-{name.replace("_", "-")}"\ntitle = {q("mac80211_hwsim (QEMU guest): " + doc)}\n\n'
        "[source]\nkind = \"generated\"\ngenerator = \"tools/gen_corpus.py\"\n"
        f'scenario = "{name}"\nguest_kernel = "{kver}"\nhostapd = "{hostapd_version()}"\ngenerated = "{when}"\n\n'
        f"[logs]\nfiles = {toml_list(files)}\nkinds = {toml_list([FILE_FORMATS[f] for f in files])}\n"
        'timestamps = "epoch.usec (-t) for hostapd/wpa_supplicant; kernel uptime"\n'
        'excerpt = "whole scenario; MSG_MSGDUMP hexdumps cut to their first bytes"\n\n'
        f'[diagnosis]\nstatus = "{"healthy" if name == "baseline" else "fault injected"}"\n'
        f'summary = {q(doc)}\nexpected = {toml_list(expected)}\nnot_expected = {toml_list(not_expected)}\n\n'
        f'[stations]\nmacs = ["{guest.STA_MAC}"]\nap_bssid = "{guest.AP_MAC}"\n')
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="generate the labelled hwsim log corpus")
    ap.add_argument("scenarios", nargs="*", help=f"default: all ({', '.join(guest.LABELS)})")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ns = ap.parse_args(argv)
    names = ns.scenarios or list(guest.LABELS)
    unknown = [n for n in names if n not in guest.LABELS]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")

    from testbed.build import build, cache_dir
    from testbed.scenario import run_scenario
    from testbed.vm import VM, can_run_qemu

    reason = can_run_qemu()
    if reason:
        print(f"gen_corpus: cannot run the test bed: {reason}", file=sys.stderr)
        return 2
    img = build()
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    failed = []
    with VM(img, cache_dir() / "runs" / f"gen-{time.strftime('%Y%m%d-%H%M%S')}") as vm:
        for name in names:
            sc = run_scenario(vm, name)
            if not sc.ok:
                print(f"gen_corpus: {name}: NOT written, the scenario failed:\n{sc.explain()}", file=sys.stderr)
                failed.append(name)
                continue
            size = write_case(sc.outdir, out / name, name, img.kver, when)
            print(f"gen_corpus: {name}: {size / 1000:.0f} kB in {sc.result.get('secs')} s -> {out / name}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
