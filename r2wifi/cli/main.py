"""Entry point of the ``r2wifi`` command.

Theory of operation: the first positional word picks a command from
:data:`r2wifi.cli.commands.COMMANDS`; only that command's module is imported, and it builds its
own argparse parser. ``r2wifi --help`` is answered from the registry alone.

Rules every command follows:
* Bad input (arguments, config, logs, archives) -> :class:`r2wifi.errors.UserError` -> one line
  ``r2wifi: error: ...`` on stderr and exit code 2. Never a traceback (set ``R2WIFI_DEBUG=1`` to
  see one).
* ``--backend`` (or ``R2WIFI_BACKEND``) chooses the device backend: ``real`` (the board's
  /dev nodes), ``sim`` (the simulator over its UNIX socket) or ``auto`` (real when
  /dev/wmtdetect exists, otherwise sim). It may stand before the command or anywhere after it
  (``r2wifi up --backend sim --ap``; not after ``--``). Commands read it as ``args.backend``.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from r2wifi import __version__
from r2wifi.cli.commands import COMMANDS
from r2wifi.errors import UserError

BACKENDS = ("auto", "real", "sim")


class ArgParser(argparse.ArgumentParser):
    """argparse with a one-line error and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # argparse turns `--opt=--` into an empty list for a one-value option; refuse it here
        if action.nargs is None and action.option_strings and arg_strings in (["--"], []):
            self.error(f"argument {'/'.join(action.option_strings)}: expected one value, got '--'")
        return super()._get_values(action, arg_strings)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter with the width found without shutil: argparse makes one on every add_argument (to
    check the metavar) and its own asks shutil, which costs ~35 ms of every command on the board to import."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


def _columns() -> int:
    """The terminal width as shutil.get_terminal_size finds it: $COLUMNS, then stdout's terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _top_help() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = [
        "usage: r2wifi [--backend {auto,real,sim}] [--version] COMMAND [ARGS...]",
        "",
        "Bring up, supervise and diagnose the BPI-R2 internal WiFi (MT7623 / MT6625L).",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {text}" for name, (_mod, text) in COMMANDS.items()]
    lines += [
        "",
        "options:",
        "  -h, --help            show this help and exit",
        "  --version             show the version and exit",
        "  --backend NAME        device backend: auto (default), real or sim; also R2WIFI_BACKEND",
        "",
        "exit codes (every command): 0 ok; 1 problems found (doctor, diagnose, firmware check: a failed",
        "  check or a finding at --fail-on; reload: no supervisor); 2 bad usage or bad input (unknown",
        "  option, a config with errors, an unreadable log: one line on stderr).",
        "",
        "Run 'r2wifi COMMAND --help' for a command's options.",
    ]
    return "\n".join(lines) + "\n"


def _split_globals(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """Take the global options that stand before the command word."""
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            opts["help"] = "1"
        elif a == "--version":
            opts["version"] = "1"
        elif a == "--backend" or a.startswith("--backend="):
            if "=" in a:
                opts["backend"] = a.split("=", 1)[1]
            else:
                if i + 1 >= len(argv):
                    raise UserError("--backend needs a value: auto, real or sim")
                i += 1
                opts["backend"] = argv[i]
        elif a.startswith("-"):
            raise UserError(f"unknown option {a[:40]!r} before the command (see 'r2wifi --help')")
        else:
            return opts, argv[i:]
        i += 1
    return opts, []


def _take_backend(argv: list[str]) -> tuple[str | None, list[str]]:
    """Remove ``--backend NAME`` / ``--backend=NAME`` from a command's arguments (up to ``--``)."""
    value: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i:]
            break
        if a == "--backend":
            if i + 1 >= len(argv):
                raise UserError("--backend needs a value: auto, real or sim")
            value = argv[i + 1]
            i += 2
            continue
        if a.startswith("--backend="):
            value = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    return value, rest


def build_parser(name: str) -> tuple[ArgParser, ModuleType]:
    """The argparse parser of command ``name`` (and its module); ``--backend`` is listed in its help."""
    module = importlib.import_module(COMMANDS[name][0])
    parser = ArgParser(prog=f"r2wifi {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    parser.add_argument(
        "--backend", choices=BACKENDS, help="device backend: auto (default), real or sim; also before the command"
    )
    return parser, module


def run() -> NoReturn:
    """The ``r2wifi`` program (console script and ``python -m r2wifi``): :func:`main`, then :func:`leave`."""
    leave(main())


def leave(code: int) -> NoReturn:
    """Exit with ``code``. When the interpreter's teardown has nothing to do for us (no other thread runs, no
    atexit handler is registered) stdout and stderr are flushed and the process ends at once: that teardown
    clears every imported module, ~0.15 s on the board's core (more than half a ``python3 -c pass``). r2wifi
    closes what it opens (``with``), so no file buffer waits for the teardown; otherwise, ``sys.exit``."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # a closed or broken stream: the normal exit deals with it
    threads = sys.modules.get("threading")
    pending = getattr(atexit, "_ncallbacks", None)  # CPython's count of atexit handlers
    if (threads is None or threads.active_count() == 1) and pending is not None and pending() == 0:
        os._exit(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    try:
        opts, rest = _split_globals(args_in)
        if "version" in opts:
            sys.stdout.write(f"r2wifi {__version__}\n")
            return 0
        if "help" in opts or not rest:
            sys.stdout.write(_top_help())
            return 0 if "help" in opts else 2
        name, cmd_argv = rest[0], rest[1:]
        if name not in COMMANDS:
            raise UserError(f"unknown command {name[:40]!r} (see 'r2wifi --help')")
        late, cmd_argv = _take_backend(cmd_argv)
        backend = next((b for b in (late, opts.get("backend")) if b is not None), None)
        if backend is None:
            backend = os.environ.get("R2WIFI_BACKEND") or "auto"
        if backend not in BACKENDS:
            raise UserError(f"--backend: {backend[:40]!r} is not one of auto, real, sim")
        parser, module = build_parser(name)
        ns = parser.parse_args(cmd_argv)
        ns.backend = backend
        ns.command = name
        rc = module.run(ns)
        return int(rc or 0)
    except UserError as err:
        if os.environ.get("R2WIFI_DEBUG"):
            raise
        sys.stderr.write(f"r2wifi: error: {err}\n")
        return err.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("r2wifi: interrupted\n")
        return 130
    except BrokenPipeError:
        # `r2wifi diagnose ... | head`: not an error.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return 0
    except OSError as err:
        if os.environ.get("R2WIFI_DEBUG"):
            raise
        where = f": {err.filename}" if getattr(err, "filename", None) else ""
        sys.stderr.write(f"r2wifi: error: {err.strerror or err}{where}\n")
        return 2


def fail(message: str) -> NoReturn:
    """Raise a UserError (for use in commands that prefer a call to a raise)."""
    raise UserError(message)
