"""Optional compiled accelerator for the log-diagnosis hot path; pure Python is always the fallback.

Theory of operation. The modules in :data:`HOT` (readers, wrappers, events, model, sessions,
aggregate, analyze) are compiled *from their own source* by mypyc into C extensions: the same
code, type-checked and compiled, never a second hand-written implementation. ``r2wifi`` installs a
small import finder (:func:`install`) that loads those extensions instead of the ``.py`` files,
but only when all of these hold, checked once on the first import of a hot module:

* the accelerator is not switched off: ``R2WIFI_ACCEL=0`` forces pure Python;
* ``manifest.json`` in :func:`accel_dir` names this interpreter's ABI (``SOABI``);
* every hot module's source on disk has the SHA-256 recorded at build time (an edited or
  updated ``.py`` silently falls back to pure Python: compiled code never runs stale source);
* every extension file is present.

All or nothing: mypyc's native classes are shared across the compiled group, so either every hot
module comes from the build or none does. Installing the finder does no I/O (the CLI's start-up
stays fast); the manifest is read only when a hot module is imported.

Build: ``r2wifi accel build`` (needs mypy's ``mypyc``, a C compiler and the Python
headers: gcc + python3-dev on Debian; several minutes on the board's ARM core) copies the package to
a temporary directory, compiles there (the source tree gets no build products) and installs the
extensions plus the manifest into :func:`accel_dir`, replacing an older build only on success.
``r2wifi accel status`` says which path ``diagnose`` will take and why; ``r2wifi accel remove``
deletes the build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

HOT: tuple[str, ...] = (
    "r2wifi.logs.model",
    "r2wifi.logs.wrappers",
    "r2wifi.logs.readers",
    "r2wifi.logs.events",
    "r2wifi.diagnose.sessions",
    "r2wifi.diagnose.aggregate",
    "r2wifi.diagnose.analyze",
)
MANIFEST = "manifest.json"
PACKAGE_DIR = Path(__file__).resolve().parent


def soabi() -> str:
    import sysconfig

    return str(sysconfig.get_config_var("SOABI") or f"py{sys.version_info[0]}{sys.version_info[1]}")


def accel_dir() -> Path:
    """Where the build lives: ``$R2WIFI_ACCEL_DIR`` or ``<sys.prefix>/lib/r2wifi-accel/<SOABI>``."""
    env = os.environ.get("R2WIFI_ACCEL_DIR")
    base = Path(env) if env else Path(sys.prefix) / "lib" / "r2wifi-accel"
    return base / soabi()


def source_of(module: str) -> Path:
    return PACKAGE_DIR.parent.joinpath(*module.split(".")).with_suffix(".py")


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(directory: Path | None = None) -> tuple[dict[str, Path] | None, str]:
    """``(name -> extension file, why)`` when the build may be used, else ``(None, why not)``."""
    if os.environ.get("R2WIFI_ACCEL", "1") in ("0", "no", "off", "false"):
        return None, "switched off (R2WIFI_ACCEL=0)"
    d = directory or accel_dir()
    import json

    try:
        man = json.loads((d / MANIFEST).read_text())
    except FileNotFoundError:
        return None, f"not built (no {d / MANIFEST}; build it with 'r2wifi accel build')"
    except (OSError, ValueError) as e:
        return None, f"unreadable manifest {d / MANIFEST}: {e}"
    if not isinstance(man, dict) or man.get("soabi") != soabi():
        return None, f"built for another interpreter ({man.get('soabi') if isinstance(man, dict) else '?'})"
    mods = man.get("modules")
    shared = man.get("shared")
    if not isinstance(mods, dict) or not isinstance(shared, dict) or set(mods) != set(HOT):
        return None, "manifest does not list the current set of hot modules: rebuild"
    files: dict[str, Path] = {}
    for name in HOT:
        entry = mods[name]
        want = entry.get("sha256") if isinstance(entry, dict) else None
        rel = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(want, str) or not isinstance(rel, str):
            return None, f"malformed manifest entry for {name}; rebuild"
        try:
            if _sha256(source_of(name)) != want:
                return None, f"stale: {source_of(name).name} changed since the build; rebuild"
        except OSError as e:
            return None, f"cannot read {source_of(name)}: {e.strerror or e}"
        files[name] = d / rel
    for name, rel in shared.items():
        if not isinstance(rel, str):
            return None, f"malformed manifest entry for {name}; rebuild"
        files[name] = d / rel
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        return None, f"incomplete build (missing {missing[0]}); rebuild"
    return files, f"compiled ({d})"


class _Finder:
    """Serves the hot modules (and mypyc's shared runtime module) from a verified build.

    A meta path finder needs only ``find_spec``; not deriving from ``importlib.abc`` keeps
    ``import r2wifi`` from importing it (several milliseconds of start-up).
    """

    def __init__(self) -> None:
        self.files: dict[str, Path] | None = None
        self.why = "not checked yet"
        self.checked = False

    def _ensure(self) -> dict[str, Path] | None:
        if not self.checked:
            self.checked = True
            self.files, self.why = check()
            if self.files is not None:
                # load mypyc's shared runtime first: a build that cannot load here (a different
                # libc, a damaged file) means pure Python, not a failed import of diagnose
                import importlib

                try:
                    for name in [n for n in self.files if n.endswith("__mypyc")]:
                        importlib.import_module(name)
                except ImportError as err:
                    self.files, self.why = None, f"cannot load the build ({err}); rebuild"
        return self.files

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname not in HOT and not fullname.endswith("__mypyc"):
            return None
        files = self._ensure()
        if files is None or fullname not in files:
            return None
        import importlib.util

        return importlib.util.spec_from_file_location(fullname, files[fullname])


_FINDER = _Finder()


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (idempotent; no I/O)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def active() -> bool:
    """True when the hot modules in this process are the compiled ones."""
    mod = sys.modules.get("r2wifi.diagnose.aggregate")
    return bool(mod is not None and str(getattr(mod, "__file__", "")).endswith((".so", ".pyd")))


# ------------------------------------------------------------------------------------------ build
def build(directory: Path | None = None, *, out: Any = sys.stderr) -> Path:
    """Compile the hot modules with mypyc and install them into ``directory`` (atomically)."""
    import json
    import shutil
    import subprocess
    import tempfile

    from r2wifi.errors import UserError

    d = directory or accel_dir()
    try:
        import mypyc  # noqa: F401
    except ImportError:
        raise UserError("mypyc is not installed (pip install mypy)") from None
    d.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="r2wifi-accel-") as tmp:
        work = Path(tmp) / "src"
        shutil.copytree(PACKAGE_DIR, work / "r2wifi",
                        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
        hashes = {name: _sha256(source_of(name)) for name in HOT}
        files = [str(Path(*name.split(".")).with_suffix(".py")) for name in HOT]
        env = dict(os.environ, MYPYC_OPT_LEVEL=os.environ.get("MYPYC_OPT_LEVEL", "3"))
        proc = subprocess.run([sys.executable, "-m", "mypyc", *files], cwd=work, env=env,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()][-1:]
            raise UserError(f"mypyc failed: {tail[0] if tail else f'exit {proc.returncode}'}")
        import importlib.machinery

        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        stage = Path(tempfile.mkdtemp(prefix=".build-", dir=d.parent))
        try:
            mods: dict[str, dict[str, str]] = {}
            for name in HOT:
                rel = Path(*name.split(".")).with_name(name.rsplit(".", 1)[1] + suffix)
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(work / rel, stage / rel)
                mods[name] = {"file": str(rel), "sha256": hashes[name]}
            shared: dict[str, str] = {}
            for lib in work.glob(f"*__mypyc{suffix}"):
                shutil.copy2(lib, stage / lib.name)
                shared[lib.name[: -len(suffix)]] = lib.name
            if not shared:
                raise UserError("mypyc produced no shared runtime module")
            man = {"soabi": soabi(), "python": sys.version.split()[0], "modules": mods, "shared": shared}
            (stage / MANIFEST).write_text(json.dumps(man, indent=2, sort_keys=True) + "\n")
            old = d.with_name(d.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if d.exists():
                d.rename(old)
            stage.rename(d)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    print(f"r2wifi accel: built {len(HOT)} modules into {d}", file=out)
    return d
