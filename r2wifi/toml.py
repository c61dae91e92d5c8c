"""The TOML reader for every part of r2wifi: ``tomllib`` (Python >= 3.11) or ``tomli`` (3.10).

Use ``from r2wifi.toml import tomllib``; nothing else in the project imports either module directly.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib  # novermin (guarded by the version check)
else:  # pragma: no cover - exercised on Python 3.10 (Ubuntu 22.04)
    import tomli as tomllib

__all__ = ["tomllib"]
