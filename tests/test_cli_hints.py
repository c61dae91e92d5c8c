"""Every hint in r2wifi/ that names a command ('r2wifi CMD OPTS' or `r2wifi CMD OPTS` in a string) names
a command that exists and options its real parser accepts."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from r2wifi.cli.commands import COMMANDS
from r2wifi.cli.main import _take_backend, build_parser

ROOT = Path(__file__).resolve().parent.parent / "r2wifi"
HINT = re.compile(r"['`]r2wifi ([a-z][a-z-]*)((?: [^'`\n]*)?)['`]")
FIELD = "\0"  # stands for an f-string's {value}


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str)
                                             else FIELD for v in node.values)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
    return out


def _hints() -> list[tuple[str, str, list[str]]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for line, text in _strings(ast.parse(path.read_text(), str(path))):
            for m in HINT.finditer(text):
                rest = m.group(2).strip()
                if m.group(1) + ":" in text[m.start():m.end()] or any(c in rest for c in "|[]<>"):
                    continue  # a log prefix (`r2wifi run: ...`) or a usage synopsis, not a command to type
                if "..." in rest:
                    continue
                args = [("x" if tok == FIELD or re.fullmatch(r"[A-Z][A-Z_]*", tok) else tok.replace(FIELD, "x"))
                        for tok in rest.split()]
                found.append((f"{path.relative_to(ROOT.parent)}:{line}", m.group(1), args))
    return found


HINTS = _hints()


def test_hints_are_found():
    names = {cmd for _w, cmd, _a in HINTS}
    assert {"down", "chip", "firmware", "run", "status"} <= names  # the walker sees the hints it should


@pytest.mark.parametrize(("where", "cmd", "args"), HINTS, ids=[f"{w} r2wifi {c} {' '.join(a)}" for w, c, a in HINTS])
def test_hint_names_a_real_command_and_options(where: str, cmd: str, args: list[str]):
    assert cmd in COMMANDS, f"{where}: 'r2wifi {cmd}' is not a command"
    _backend, args = _take_backend(args)
    parser, _module = build_parser(cmd)
    if not args:
        return  # a command named on its own (some need a sub-command: the hint names the command)
    try:
        parser.parse_args(args)
    except SystemExit as err:
        pytest.fail(f"{where}: 'r2wifi {cmd} {' '.join(args)}' does not parse (exit {err.code})")
