"""uEnv.txt: read it the way U-Boot does, change only the ``kernel=`` line.

Theory (platform.md A.3): U-Boot loads ``bananapi/bpi-r2/linux/uEnv.txt`` from the FAT partition
and runs ``env import -t``: every ``name=value`` line sets a variable, later lines win, ``#`` lines
are comments (newer U-Boot; older ones import them as odd variables nobody reads). The kernel file
loaded is ``${bpi}/${board}/${service}/${kernel}``; ``kernel`` defaults to ``uImage`` when unset.
Two styles exist in the wild: the plain one (one ``kernel=`` line) and the older frank-w one with
per-version variables (``kernel414=``, ``kernel419=``) plus a ``kernel=`` default entry and boot
menu entries doing ``setenv kernel ${kernel419}``.

Rules:
* :func:`set_kernel` returns the new file content with exactly one change: the value of the *last*
  ``kernel=`` line (the effective one) is replaced; every other byte (comments, CRLF line ends,
  missing final newline, per-version variables) is kept. With no ``kernel=`` line, one is
  appended. Values are plain file names: no ``/``, ``$``, whitespace or ``=``.
* The file is bytes, decoded as latin-1 so any byte round-trips.
"""

from __future__ import annotations

import re

from r2wifi.errors import UserError

DEFAULT_KERNEL = "uImage"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._+\-]+$")


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def parse(data: bytes) -> dict[str, str]:
    """The environment after ``env import -t`` of ``data`` (later lines win, comments skipped)."""
    env: dict[str, str] = {}
    for raw in _lines(data.decode("latin-1")):
        line = raw.rstrip("\r\n")
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        if _NAME.match(name):
            env[name] = value
    return env


def expand(value: str, env: dict[str, str], depth: int = 0) -> str:
    """Expand ``${var}`` references the way the boot script sees them."""
    if depth > 8:
        return value
    return _VAR.sub(lambda m: expand(env.get(m.group(1) or m.group(2), ""), env, depth + 1), value)


def effective_kernel(data: bytes | None) -> str:
    """The kernel file name U-Boot loads with this uEnv.txt (``uImage`` if none is set)."""
    if data is None:
        return DEFAULT_KERNEL
    env = parse(data)
    value = expand(env.get("kernel", DEFAULT_KERNEL), env).strip()
    return value or DEFAULT_KERNEL


def style(data: bytes) -> str:
    """``per-version`` when ``kernelNN=`` variables exist, else ``plain``."""
    env = parse(data)
    return "per-version" if any(re.fullmatch(r"kernel\d+", k) for k in env) else "plain"


def menu_override(data: bytes) -> str | None:
    """If the default boot-menu entry does ``setenv kernel ...``, the kernel it picks (else None)."""
    env = parse(data)
    default = env.get("bootmenu_default")
    if default is None:
        return None
    entry = env.get(f"bootmenu_{default.strip()}", "")
    if "=" not in entry:
        return None
    command = entry.split("=", 1)[1]
    seen = 0
    while seen < 8:
        seen += 1
        m = re.search(r"setenv\s+kernel\s+(\S+?)\s*(?:;|$)", command)
        if m:
            return expand(m.group(1), env)
        r = re.search(r"run\s+(\w+)", command)
        if not r or r.group(1) not in env:
            return None
        command = env[r.group(1)]
    return None


def set_kernel(data: bytes, kernel: str) -> bytes:
    """``data`` with the effective ``kernel=`` line set to ``kernel``; nothing else changes."""
    if not _SAFE_VALUE.match(kernel):
        raise UserError(f"kernel file name {kernel!r} is not a plain file name")
    lines = _lines(data.decode("latin-1"))
    last = -1
    for i, raw in enumerate(lines):
        if raw.startswith("kernel="):
            last = i
    if last >= 0:
        raw = lines[last]
        body = raw.rstrip("\r\n")
        ending = raw[len(body):]
        lines[last] = f"kernel={kernel}{ending}"
    else:
        ending = "\r\n" if any(raw.endswith("\r\n") for raw in lines) else "\n"
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += ending
        lines.append(f"kernel={kernel}{ending}")
    return "".join(lines).encode("latin-1")
