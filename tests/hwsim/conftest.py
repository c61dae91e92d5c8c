"""Fixtures of the hwsim tier (test bed C): one QEMU guest per pytest session.

* ``hwsim_image``: builds (or reuses from the cache) the guest image with tools/testbed/build.py.
* ``hwsim_vm``: boots the guest once per session (QEMU TCG, virtio-serial agent) and powers it off
  at the end; the work dir (9p-shared, logs land there) is ``<cache>/runs/<stamp>`` and is kept as
  the artefact, with the console log.
* ``scenario``: runs one fault scenario of tools/testbed/guest/scenarios.py in the guest and returns
  a :class:`Scenario` (its JSON outcome + the logs, read on the host).

Every failing hwsim test gets the guest console tail and the tails of the scenario logs in its
report (``pytest_runtest_makereport``). The tier skips (never fails) only when QEMU or the build
tools cannot run here (reason from :func:`testbed.vm.can_run_qemu`).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

from testbed.build import Image, build, cache_dir  # noqa: E402
from testbed.scenario import Scenario, run_scenario  # noqa: E402
from testbed.vm import VM, can_run_qemu  # noqa: E402


@pytest.fixture(scope="session")
def hwsim_image() -> Image:
    reason = can_run_qemu()
    if reason:
        pytest.skip(f"hwsim test bed unavailable: {reason}")
    try:
        return build()
    except RuntimeError as exc:
        pytest.fail(f"building the hwsim guest failed: {exc}")


@pytest.fixture(scope="session")
def hwsim_vm(hwsim_image: Image) -> Iterator[VM]:
    runs = cache_dir() / "runs"
    old = sorted(runs.glob("2*")) if runs.exists() else []
    for stale in old[:-3]:  # keep the artefacts of the last three sessions
        shutil.rmtree(stale, ignore_errors=True)
    work = runs / time.strftime("%Y%m%d-%H%M%S")
    vm = VM(hwsim_image, work)
    try:
        vm.start()
    except Exception:
        vm.stop()
        raise
    sys.stderr.write(f"\nhwsim guest: kernel {hwsim_image.kver}, boot {vm.boot_secs:.1f}s, artefacts {work}\n")
    yield vm
    vm.stop()


@pytest.fixture(scope="session")
def _scenario_cache() -> dict[str, Scenario]:
    return {}


@pytest.fixture
def scenario(hwsim_vm: VM, _scenario_cache: dict[str, Scenario],
             request: pytest.FixtureRequest) -> Callable[..., Scenario]:
    """``scenario(name)``: run it in the guest once per session (later calls reuse the outcome)."""

    def _run(name: str, timeout: float = 1200) -> Scenario:  # generous: the guest waits with TB_SLACK
        request.node._tb_logs = hwsim_vm.workdir / name  # for the failure report
        if name not in _scenario_cache:
            _scenario_cache[name] = run_scenario(hwsim_vm, name, timeout=timeout)
        return _scenario_cache[name]

    return _run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed or "hwsim" not in item.keywords:
        return
    vm = getattr(item, "funcargs", {}).get("hwsim_vm")
    if vm is None:
        fixture_vm = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, VM)]
        vm = fixture_vm[0] if fixture_vm else None
    if vm is not None:
        rep.sections.append(("guest console tail", vm.console_tail(60)))
    d = getattr(item, "_tb_logs", None)
    if d is not None and d.exists():
        for p in sorted(d.glob("*.log")) + sorted(d.glob("*.stderr")):
            tail = "\n".join(p.read_text(errors="replace").splitlines()[-40:])
            rep.sections.append((f"guest log {p.name}", tail))
