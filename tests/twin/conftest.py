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
SPAN: list[float] = []  # monotonic times every boot began and every power-off ended: the share is their span


def _booted(tag: str, prefix: str, **kw: Any) -> Iterator[Twin]:
    """Boot a twin for a fixture (``boot(tag=tag, **kw)``), record its share under ``prefix``, power it off."""
    reason = can_run_twin()
    if reason:
        pytest.skip(f"board twin unavailable: {reason}")
    mode = prefix.rstrip(": ")
    what = f"the board twin ({mode} mode)" if mode else "the board twin"
    t0 = time.monotonic()
    SPAN.append(t0)
    try:
        tw = boot(tag=tag, **kw)
    except Exception as exc:  # noqa: BLE001 - the twin is the test subject here
        pytest.fail(f"{what} did not come up: {exc}")
    inst = getattr(tw, "deb_install", None)
    SHARE[f"{prefix}build" + (" (rootfs-deb, .deb)" if inst else "")] = tw.build_secs
    SHARE[f"{prefix}boot"] = tw.boot_secs
    if inst:
        SHARE[f"{prefix}apt install in the guest"] = inst.secs
    SHARE[f"{prefix}chip start"] = tw.chip_secs
    sys.stderr.write(f"\n{what}: kernel {tw.image.kernel_package}, build {tw.build_secs:.1f}s "
                     f"(rebuilt {tw.image.rebuilt or 'nothing'}), boot {tw.boot_secs:.1f}s"
                     + (f", apt install {inst.secs:.1f}s" if inst else "")
                     + f", chip: {tw.chip}, artefacts {tw.workdir}\n")
    yield tw
    t1 = time.monotonic()
    tw.vm.stop()
    SHARE[f"{prefix}power off"] = time.monotonic() - t1
    SHARE[f"{prefix}session"] = time.monotonic() - t0
    SPAN.append(time.monotonic())


@pytest.fixture(scope="session")
def twin() -> Iterator[Twin]:
    yield from _booted("pytest", "")


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
    yield from _booted("pytest-deb", "deb: ", r2wifi="deb")


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
    # the twins' wall time: the session-scoped twin stays up while the deb module runs, so sessions overlap
    total = max(SPAN) - min(SPAN) if len(SPAN) >= 2 else sum(SHARE.values())
    deb = SHARE.get("deb: session")
    terminalreporter.write_sep("-", f"board twin share: {total:.0f}s" + (f" (deb mode {deb:.0f}s)" if deb else ""))
    for k, v in SHARE.items():
        if k not in ("session", "deb: session"):
            terminalreporter.write_line(f"  {v:7.1f}s  {k}")
