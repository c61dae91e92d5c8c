"""Backend selection: the composition seam between r2wifi's chip logic and its two device backends.

Theory of operation: :mod:`r2wifi.wmt` talks to the driver only through the
:class:`~r2wifi.wmt.backend.Backend` protocol and never imports the simulator; :mod:`r2wifi.sim` is a
client of :mod:`r2wifi.wmt` (its ``SimBackend`` implements the protocol). This module is the one place
that knows both and picks one for ``--backend`` / ``chip.backend``: the CLI and the service layer (the
composition layers above both) call :func:`get_backend` or pass :func:`backend_factory` down to code
that needs fresh connections (the resident launcher after a fork, the in-process chip steps).

Rules: ``auto`` means ``real`` when ``/dev/wmtdetect`` or ``/dev/stpwmt`` exists, else ``sim``; the
simulator client is imported only when it is chosen (CLI start-up stays fast).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from r2wifi.errors import UserError
from r2wifi.wmt import driver
from r2wifi.wmt.backend import Backend, RealBackend

NAMES = ("auto", "real", "sim")


def resolve(name: str = "auto") -> str:
    """``real`` or ``sim`` for ``name`` (``auto`` looks for the driver's nodes)."""
    if name not in NAMES:
        raise UserError(f"--backend: {name!r} is not one of {', '.join(NAMES)}")
    if name == "auto":
        return "real" if os.path.exists(driver.WMTDETECT) or os.path.exists(driver.STPWMT) else "sim"
    return name


def get_backend(name: str = "auto") -> Backend:
    """The backend for ``--backend``: real, sim or auto."""
    if resolve(name) == "real":
        return RealBackend()
    from r2wifi.sim.client import SimBackend  # imported only when used

    return SimBackend()


def backend_factory(name: str = "auto") -> Callable[[], Backend]:
    """A callable making a fresh backend connection of ``name`` (resolved now)."""
    resolved = resolve(name)
    return lambda: get_backend(resolved)
