"""Fixtures of the board-twin tier (test bed D): one armhf QEMU guest per pytest session.

* ``twin``: builds (cached in .cache/twin), boots once per session, starts the simulated chip
  (``r2wifi sim start --cuse``) when this r2wifi has it; powers off at the end.
* ``guest``: per test, a :class:`Guest` helper (r2wifi commands, config, the peer radio) whose
  finalizer runs ``r2wifi down`` and stops the peer, so every test starts from a cold chip.
* ``twin_deb`` / ``guest_deb``: the same for tests/twin/test_twin_deb.py, with the twin booted in deb mode
  (r2wifi installed by apt from scripts/package's .deb; one boot for that module).

Tests needing the simulated chip call ``guest.need_chip()``: without the CUSE simulator they FAIL
with the reason (never a silent skip). The tier skips only when QEMU or the build tools are missing.
At the end of the session the twin's share (build, boot, each test) is printed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

from twin.guestops import Guest  # noqa: E402
from twin.session import Twin, boot  # noqa: E402
from twin.vm import can_run_twin  # noqa: E402

SHARE: dict[str, float] = {}


@pytest.fixture(scope="session")
def twin() -> Iterator[Twin]:
    reason = can_run_twin()
    if reason:
        pytest.skip(f"board twin unavailable: {reason}")
    t0 = time.monotonic()
    try:
        tw = boot(tag="pytest")
    except Exception as exc:  # noqa: BLE001 - the twin is the test subject here
        pytest.fail(f"the board twin did not come up: {exc}")
    SHARE["build"] = tw.build_secs
    SHARE["boot"] = tw.boot_secs
    SHARE["chip start"] = tw.chip_secs
    sys.stderr.write(f"\nboard twin: kernel {tw.image.kernel_package}, build {tw.build_secs:.1f}s "
                     f"(rebuilt {tw.image.rebuilt or 'nothing'}), boot {tw.boot_secs:.1f}s, chip: {tw.chip}, "
                     f"artefacts {tw.workdir}\n")
    yield tw
    t1 = time.monotonic()
    tw.vm.stop()
    SHARE["power off"] = time.monotonic() - t1
    SHARE["session"] = time.monotonic() - t0


@pytest.fixture
def guest(twin: Twin, request: pytest.FixtureRequest) -> Iterator[Guest]:
    yield from _guest(twin, request)


def _guest(tw: Twin, request: pytest.FixtureRequest) -> Iterator[Guest]:
    t0 = time.monotonic()
    g = Guest(tw, request.node.name.replace("/", "_").replace("[", "-").rstrip("]"))
    yield g
    try:
        g.cleanup()
    finally:
        SHARE[f"test {request.node.name}"] = time.monotonic() - t0


@pytest.fixture(scope="module")
def twin_deb() -> Iterator[Twin]:
    """The twin in deb mode (tests/twin/test_twin_deb.py): r2wifi installed from scripts/package's .deb
    by apt in the guest, then the simulated chip started with it. One boot for the module."""
    reason = can_run_twin()
    if reason:
        pytest.skip(f"board twin unavailable: {reason}")
    t0 = time.monotonic()
    try:
        tw = boot(tag="pytest-deb", r2wifi="deb")
    except Exception as exc:  # noqa: BLE001 - the twin is the test subject here
        pytest.fail(f"the board twin (deb mode) did not come up: {exc}")
    inst = tw.deb_install
    SHARE["deb: build (rootfs-deb, .deb)"] = tw.build_secs
    SHARE["deb: boot"] = tw.boot_secs
    SHARE["deb: apt install in the guest"] = inst.secs if inst else 0.0
    SHARE["deb: chip start"] = tw.chip_secs
    sys.stderr.write(f"\nboard twin (deb): build {tw.build_secs:.1f}s (rebuilt {tw.image.rebuilt or 'nothing'}), "
                     f"boot {tw.boot_secs:.1f}s, apt install {inst.secs if inst else 0:.1f}s, chip: {tw.chip}, "
                     f"artefacts {tw.workdir}\n")
    yield tw
    t1 = time.monotonic()
    tw.vm.stop()
    SHARE["deb: power off"] = time.monotonic() - t1
    SHARE["deb: session"] = time.monotonic() - t0


@pytest.fixture
def guest_deb(twin_deb: Twin, request: pytest.FixtureRequest) -> Iterator[Guest]:
    """Per test in the deb-mode twin: like ``guest``."""
    yield from _guest(twin_deb, request)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    g = funcargs.get("guest") or funcargs.get("guest_deb")
    if isinstance(g, Guest):
        rep.sections.append(("twin console tail", g.vm.console_tail(40)))
        for p in sorted(g.out.glob("*.log")):
            rep.sections.append((f"twin log {p.name}", "\n".join(p.read_text(errors="replace").splitlines()[-30:])))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SHARE:
        return
    sessions = [v for k, v in SHARE.items() if k in ("session", "deb: session")]
    total = sum(sessions) or sum(SHARE.values())
    deb = SHARE.get("deb: session")
    terminalreporter.write_sep("-", f"board twin share: {total:.0f}s" + (f" (deb mode {deb:.0f}s)" if deb else ""))
    for k, v in SHARE.items():
        if k not in ("session", "deb: session"):
            terminalreporter.write_line(f"  {v:7.1f}s  {k}")
