"""Where r2wifi keeps its runtime state.

* ``state_dir()``: pid files, locks, control sockets, captured logs. ``R2WIFI_STATE_DIR`` overrides;
  otherwise ``/run/r2wifi`` as root, else ``$XDG_RUNTIME_DIR/r2wifi`` or ``/tmp/r2wifi-<uid>``.
* ``sim_dir()``: the simulator's socket, state and kernel log. ``R2WIFI_SIM_DIR`` overrides;
  otherwise ``<state_dir>/sim``.
* ``config_path()``: ``/etc/r2wifi/r2wifi.toml`` unless ``R2WIFI_CONFIG`` or ``--config`` says otherwise.

Tests point ``R2WIFI_STATE_DIR`` at a temporary directory so that runs never collide.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONFIG = Path("/etc/r2wifi/r2wifi.toml")


def state_dir() -> Path:
    env = os.environ.get("R2WIFI_STATE_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/run/r2wifi")
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "r2wifi"
    return Path(f"/tmp/r2wifi-{os.geteuid()}")


def sim_dir() -> Path:
    env = os.environ.get("R2WIFI_SIM_DIR")
    return Path(env) if env else state_dir() / "sim"


def config_path(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override)
    env = os.environ.get("R2WIFI_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def ensure_dir(path: Path, mode: int = 0o700) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    return path
