"""The top-level CLI: help, version, unknown commands and options."""

from __future__ import annotations

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
