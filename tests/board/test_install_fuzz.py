"""Fuzzing the kernel installer with generated and mutated archives (fixed budgets, no deadline).

Property for every input: the install either finishes or raises UserError with a one-line message
(the CLI turns that into exit 2); on a refusal neither the card nor anything else changed; in no
case did a file appear outside the card. Run in-process (``open_source`` -> ``prepare`` ->
``execute``) so the budget buys many examples; the CLI path is covered by test_hostile.py.
"""

from __future__ import annotations

import io
import random
import tarfile
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r2wifi.board.archive import open_source
from r2wifi.board.install import Card, execute, prepare
from r2wifi.errors import UserError
from tests.board import hostile as h
from tests.board.boardkit import LINUX, make_card, release_members, snapshot

# Names carry no '..' and rarely odd types (the explicit tests cover those): the budget goes to link
# chains, links over directories and name reuse inside the release directory, where links are allowed.
COMPONENTS = ["a", "b", "a", "b", "kernel", "x.ko", h.EVIL, ".", "build", "lib", h.REL]
TARGETS = ["a", "b", "..", "..", ".", "kernel", "x.ko", "/etc", "drivers/net/dummy.ko", "", h.EVIL]
KINDS = [tarfile.REGTYPE] * 3 + [tarfile.DIRTYPE] * 2 + [tarfile.SYMTYPE] * 5 + [tarfile.LNKTYPE, tarfile.FIFOTYPE]

name_st = st.builds(
    lambda prefix, comps: "/".join([prefix, *comps]) if prefix else "/".join(comps),
    st.sampled_from([h.MOD] * 8 + ["BPI-ROOT", "BPI-BOOT"]),
    st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=6),
)
target_st = st.lists(st.sampled_from(TARGETS), min_size=1, max_size=6).map("/".join)
member_st = st.tuples(name_st, st.sampled_from(KINDS), target_st, st.binary(max_size=64))


def _tarball(path: Path, extra: list[tuple[str, bytes, str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        base = [(n, k, link, d) for n, d, k, link in release_members(h.REL)]
        for name, kind, link, data in base + [(n, k, t, d) for n, k, t, d in extra]:
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime = kind, 0o755 if kind == tarfile.DIRTYPE else 0o644, 1_600_000_000
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                ti.linkname = link
            if kind == tarfile.REGTYPE:
                payload = data or b""
                ti.size = len(payload)
                tf.addfile(ti, io.BytesIO(payload))
            else:
                tf.addfile(ti)
    return path


def _install_once(work: Path, src: Path) -> None:
    """Install ``src`` on a fresh card under ``work``; assert the property."""
    boot, root = make_card(work / "sd")
    canary = work / "canary"
    canary.mkdir()
    (canary / "keep").write_text("keep\n")
    before_card = snapshot(boot, root)
    before_canary = snapshot(canary)
    refused: UserError | None = None
    try:
        payload = open_source(src)
        try:
            execute(prepare(payload, Card(boot, root)), depmod=False)
        finally:
            payload.close()
    except UserError as err:
        refused = err
    if refused is not None:
        assert "\n" not in str(refused) and str(refused)
        assert snapshot(boot, root) == before_card, f"refused ({refused}) but the card changed"
    assert snapshot(canary) == before_canary
    assert h.evil_written(root) == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(st.lists(member_st, max_size=8))
def test_generated_archives_never_escape(extra: list[tuple[str, bytes, str, bytes]]) -> None:
    with tempfile.TemporaryDirectory(prefix="r2wifi-fuzz-") as tmp:
        work = Path(tmp)
        _install_once(work, _tarball(work / "k.tar.gz", extra))


def _mutate(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        at = rng.randrange(len(data))
        if op < 0.6:
            data[at] ^= 1 << rng.randrange(8)
        elif op < 0.8:
            del data[at:at + rng.randint(1, 64)]
        else:
            data[at:at] = rng.randbytes(rng.randint(1, 32))
    return bytes(data)


def test_mutated_archives_are_installed_intact_or_refused(tmp_path: Path) -> None:
    """100 seeded byte-level mutations of a good tarball holding a link chain candidate: never a traceback."""
    good = h.with_extra(tmp_path, [(f"{h.MOD}/kernel/alias.ko", None, tarfile.SYMTYPE, "drivers/net/dummy.ko")])
    raw = good.read_bytes()
    outcomes = {"installed": 0, "refused": 0}
    for seed in range(100):
        work = tmp_path / f"m{seed}"
        work.mkdir()
        src = work / "k.tar.gz"
        src.write_bytes(_mutate(raw, random.Random(seed)))
        _install_once(work, src)
        installed = (work / "sd/BPI-BOOT" / LINUX / f"uImage_{h.REL}").exists()
        outcomes["installed" if installed else "refused"] += 1
    assert outcomes["refused"] > 50, outcomes  # almost every mutation breaks a CRC: refused, not installed
