"""Shared fixtures.

* ``run_cli``: runs ``r2wifi`` as a real process (``python -m r2wifi``), the way a user does.
* ``shared_dir`` / ``corpus_dev``: the team's ``../shared`` (spec and corpus), beside the repo.
* Tests marked ``root`` skip with a reason when not run as root; CI runs as root.
* ``special_file``: makes a path that is not a regular file (a FIFO, a directory, a device or a link to
  one), for the tests that r2wifi refuses such paths by name and never blocks on them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The suite tests the pure-Python reference path; tests/diagnose/test_accel.py switches the optional
# compiled modules on in child processes and checks they change nothing.
os.environ.setdefault("R2WIFI_ACCEL", "0")
# Logs stay in each test's state dir (as root, "auto" would mean /var/log/r2wifi); tests/test_logdir.py
# and the log tests in tests/ap clear it to check the other places.
os.environ.setdefault("R2WIFI_LOG_DIR", "state")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("R2WIFI_SHARED", REPO.parent / "shared"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="needs root (network namespaces / devices); CI runs as root")
        for item in items:
            if "root" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "spec").is_dir():
        pytest.fail(f"../shared not found at {SHARED} (set R2WIFI_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def corpus_dev(shared_dir: Path) -> Path:
    return shared_dir / "corpus" / "dev"


CliRunner = Callable[..., "subprocess.CompletedProcess[str]"]

#: what ``special_file(tmp, kind)`` makes at ``tmp / "x"`` (``device`` is /dev/zero itself)
SPECIAL_KINDS = ("fifo", "dir", "device", "link-to-zero", "link-to-null")


@pytest.fixture
def special_file() -> Callable[[Path, str], Path]:
    def make(tmp: Path, kind: str) -> Path:
        p = tmp / "x"
        if kind == "fifo":
            os.mkfifo(p)
        elif kind == "dir":
            p.mkdir()
        elif kind == "device":
            return Path("/dev/zero")
        elif kind in ("link-to-zero", "link-to-null"):
            p.symlink_to(f"/dev/{kind.rsplit('-', 1)[1]}")
        else:
            raise ValueError(f"special_file: unknown kind {kind!r} (one of {SPECIAL_KINDS})")
        return p

    return make


@pytest.fixture
def run_cli(tmp_path: Path) -> Iterator[CliRunner]:
    """Run `r2wifi ARGS...` as a subprocess; returns the CompletedProcess (text)."""

    def _run(
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 120,
        cwd: str | Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.pop("R2WIFI_DEBUG", None)
        full_env.setdefault("R2WIFI_STATE_DIR", str(tmp_path / "state"))
        if env:
            full_env.update(env)
        return subprocess.run(
            [sys.executable, "-m", "r2wifi", *args],
            capture_output=True,
            text=True,
            env=full_env,
            input=input,
            timeout=timeout,
            cwd=cwd or tmp_path,
        )

    yield _run


def need_binary(name: str) -> str:
    """Return the path of ``name`` or skip the test (scripts/setup-test-deps installs it)."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if not path:
        pytest.skip(f"{name} is not installed (scripts/setup-test-deps installs it as root)")
    return path
