"""Command-line interface. See :mod:`r2wifi.cli.main` for the rules every command follows."""

from __future__ import annotations

from pathlib import Path


def sysroot(text: str) -> Path:
    """The ``--root SYSROOT`` of doctor, bundle and firmware check: an existing directory, else a UserError."""
    from r2wifi.errors import UserError

    root = Path(text)
    if not root.is_dir():
        raise UserError(f"--root {text}: not a directory")
    return root
