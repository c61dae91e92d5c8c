"""The top-level CLI: help, version, unknown commands and options."""

from __future__ import annotations

import subprocess
import sys

from r2wifi.cli.commands import COMMANDS


def test_help_lists_every_command(run_cli):
    """`r2wifi --help` lists every registered command and exits 0."""
    p = run_cli("--help")
    assert p.returncode == 0
    for name in COMMANDS:
        assert f"  {name} " in p.stdout


def test_version(run_cli):
    """`r2wifi --version` prints the version."""
    p = run_cli("--version")
    assert p.returncode == 0 and p.stdout.startswith("r2wifi ")


def test_unknown_command_is_one_line_exit_2(run_cli):
    """An unknown command is a one-line error with exit code 2."""
    p = run_cli("frobnicate")
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "frobnicate" in p.stderr
    assert "Traceback" not in p.stderr


def test_bad_backend_is_rejected(run_cli):
    """--backend with an unknown name names the option and exits 2."""
    p = run_cli("--backend", "magic", "chip", "ioctls")
    assert p.returncode == 2 and "--backend" in p.stderr


def test_every_registered_module_imports_without_heavy_deps():
    """Command modules exist and do not import pyroute2 or rich at import time."""
    import importlib
    import subprocess
    import sys

    for name, (mod, _help) in COMMANDS.items():
        code = (
            f"import sys, importlib; importlib.import_module({mod!r}); "
            "bad=[m for m in ('pyroute2','rich','click','typer') if m in sys.modules]; "
            "print(','.join(bad))"
        )
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert p.returncode == 0, f"{name}: {p.stderr}"
        assert p.stdout.strip() == "", f"{name} imports {p.stdout.strip()} at import time"
    assert importlib.import_module("r2wifi.cli.main")


def _leave(prelude: str, *argv: str) -> subprocess.CompletedProcess[str]:
    code = (f"{prelude}\nimport sys\nsys.argv = ['r2wifi', *{list(argv)!r}]\n"
            "class Teardown:\n    def __del__(self):\n        print('teardown', flush=True)\n"
            "keep = Teardown()\nfrom r2wifi.cli.main import run\nrun()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_leave_skips_the_interpreter_teardown_with_nothing_pending():
    """With one thread and no atexit handler, `r2wifi` flushes its output and exits without the teardown."""
    p = _leave("", "--version")
    assert p.returncode == 0 and p.stdout.startswith("r2wifi ") and "teardown" not in p.stdout
    bad = _leave("", "no-such-command")
    assert bad.returncode == 2 and "unknown command" in bad.stderr and "teardown" not in bad.stdout


def test_leave_keeps_the_normal_exit_for_atexit_handlers_and_threads():
    """An atexit handler still runs and a running thread is still waited for (then the teardown runs too)."""
    p = _leave("import atexit\natexit.register(lambda: print('handler', flush=True))", "--version")
    assert p.returncode == 0 and "handler" in p.stdout and "teardown" in p.stdout
    p = _leave("import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.3), print('thread done', "
               "flush=True))).start()", "no-such-command")
    assert p.returncode == 2 and "thread done" in p.stdout and "teardown" in p.stdout


def test_help_width_is_the_one_shutil_finds(monkeypatch):
    """The help formatter's width (found without importing shutil) agrees with shutil.get_terminal_size."""
    import shutil

    from r2wifi.cli.main import _columns

    for value in ("0", "-3", "abc", "40", "132", None):
        if value is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", value)
        assert _columns() == shutil.get_terminal_size().columns, value
