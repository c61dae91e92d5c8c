"""Service files that start ``r2wifi run`` at boot: systemd unit, OpenWrt procd script, LSB SysV script.

API::

    render_service(kind, exec_path, config, watchdog=60) -> str    # kind: systemd | openwrt | sysv
    install_path(kind, prefix="/") -> Path
    install_service(kind, exec_path, config, prefix="/", watchdog=60) -> (Path, backup Path | None)
    default_exec() -> str            # the r2wifi executable to put in ExecStart

Rules: the templates live in ``r2wifi/service/templates/*.txt`` and have ``@EXEC@``,
``@CONFIG@`` and ``@WATCHDOG@`` placeholders. Paths go into shell scripts and unit files, so
they must be absolute and free of whitespace, quotes and shell metacharacters (UserError
otherwise). Files are written atomically, the user's old file is backed up, scripts are 0755
and the unit 0644.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from importlib import resources
from pathlib import Path

from r2wifi.errors import UserError
from r2wifi.fsutil import atomic_write

KINDS = ("systemd", "openwrt", "sysv")
_TEMPLATE = {"systemd": "systemd.service.txt", "openwrt": "openwrt-init.txt", "sysv": "sysv-init.txt"}
_DEST = {
    "systemd": ("etc/systemd/system/r2wifi.service", 0o644),
    "openwrt": ("etc/init.d/r2wifi", 0o755),
    "sysv": ("etc/init.d/r2wifi", 0o755),
}
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._+/@%=,-]*$")


def default_exec() -> str:
    """The installed ``r2wifi`` script: next to this Python, else on PATH, else /usr/bin/r2wifi."""
    beside = Path(sys.executable).parent / "r2wifi"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("r2wifi")
    return found if found else "/usr/bin/r2wifi"


def _check_path(what: str, value: str) -> str:
    if not _SAFE_PATH.match(value):
        raise UserError(f"{what}: {value!r} must be an absolute path without spaces, quotes or shell characters")
    return value


def render_service(kind: str, exec_path: str, config: str | os.PathLike[str], watchdog: int = 60) -> str:
    if kind not in KINDS:
        raise UserError(f"unknown service kind {kind!r} (use systemd, openwrt or sysv)")
    if not 1 <= watchdog <= 3600:
        raise UserError(f"watchdog: {watchdog} must be 1-3600 seconds")
    text = resources.files("r2wifi.service").joinpath("templates").joinpath(_TEMPLATE[kind]).read_text(encoding="utf-8")
    return (
        text.replace("@EXEC@", _check_path("--exec", exec_path))
        .replace("@CONFIG@", _check_path("--config", os.fspath(config)))
        .replace("@WATCHDOG@", str(watchdog))
    )


def install_path(kind: str, prefix: str | os.PathLike[str] = "/") -> Path:
    return Path(prefix) / _DEST[kind][0]


def install_service(
    kind: str,
    exec_path: str,
    config: str | os.PathLike[str],
    *,
    prefix: str | os.PathLike[str] = "/",
    watchdog: int = 60,
) -> tuple[Path, Path | None]:
    """Write the service file atomically (backup of a different existing file); returns (path, backup)."""
    text = render_service(kind, exec_path, config, watchdog)
    dest = install_path(kind, prefix)
    try:
        if dest.read_text(encoding="utf-8") == text:
            return dest, None
    except (OSError, UnicodeDecodeError):
        pass
    backup = atomic_write(dest, text, mode=_DEST[kind][1], backup=dest.exists())
    return dest, backup
