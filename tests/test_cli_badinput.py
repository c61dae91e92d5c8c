"""Bad command lines: generated hostile argument vectors for every command and option.

Every vector goes through the real argument parser in-process (cheap): it either parses or ends
with exit code 0 (help) / 2 and one line on stderr, never another exception. A deterministic sample
is then run as real ``r2wifi`` processes: exit 0 or 2, no traceback, a one-line error, and it
returns within the subprocess timeout (a hang fails the test). Only vectors that are safe to run
are sampled: those the parser rejects (nothing runs) and those of read-only commands whose files
all live in the test's temporary directory; commands that change the system (up, down, run, sim
start, kernel install, service install without --print, ...) are only parsed.

``R2WIFI_BADINPUT_ALL=1`` runs every safe vector as a process instead of the sample (minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from r2wifi.cli.commands import COMMANDS
from r2wifi.cli.main import ArgParser, build_parser

# Commands that only read (or write inside paths the vector names, which live under the tmp dir).
SAFE_TO_RUN = {
    ("config", "check"), ("config", "show"), ("ap", "qr"), ("status",), ("diagnose",), ("doctor",),
    ("firmware", "check"), ("firmware", "header"), ("kernel", "list"), ("chip", "ioctls"), ("chip", "status"),
    ("sim", "status"), ("bundle",), ("accel", "status"), ("bt", "status"),
}
NEVER_RUN_FLAGS = {"--follow", "-f"}  # sim dmesg --follow waits by design


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, (*path, name))
        else:
            yield path, action


def command_tree() -> dict[tuple[str, ...], list[argparse.Action]]:
    tree: dict[tuple[str, ...], list[argparse.Action]] = {}
    for name in COMMANDS:
        parser, _module = build_parser(name)
        for path, action in walk(parser, (name,)):
            tree.setdefault(path, []).append(action)
    return tree


def hostile_values(tmp: Path) -> list[str]:
    fifo = tmp / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    (tmp / "empty").write_text("")
    return ["", "\x00", "a\nb", "\x1b[2J", "x" * 5000, "-", "--", "-1", "nan", "inf", "1e999", "9" * 400,
            "/dev/zero", str(fifo), str(tmp), str(tmp / "empty"), str(tmp / "missing" / "x"), "ä" * 20]


def minimal_args(actions: list[argparse.Action], tmp: Path) -> list[str]:
    """The positionals a path needs, filled with a harmless value (an empty file)."""
    out = []
    for a in actions:
        if not a.option_strings and a.nargs not in ("?", "*") and not isinstance(a, argparse._SubParsersAction):
            out.append(a.choices[0] if a.choices else str(tmp / "empty"))  # type: ignore[index]
    return out


def vectors(tmp: Path) -> list[list[str]]:
    """Hostile argument vectors for every command path (deterministic)."""
    bad = hostile_values(tmp)
    out: list[list[str]] = []
    for path, actions in command_tree().items():
        base = [*path, *minimal_args(actions, tmp)]
        out += [[*base, "--no-such-option"], [*base, "extra", "positional", "words"], [*path, "-x"]]
        for a in actions:
            if isinstance(a, argparse._HelpAction) or not a.option_strings:
                if not a.option_strings and a.choices:
                    out += [[*path, v] for v in ("bogus", "", "\x00")]
                continue
            flag = a.option_strings[-1]
            if a.nargs == 0:
                out.append([*base, f"{flag}=1"])
                continue
            out.append([*base, flag])  # value missing
            values = list(bad)
            if a.choices:
                values = ["bogus", "AP", "", "\n"]
            for v in values:
                out.append([*base, flag, v] if not v.startswith("-") else [*base, f"{flag}={v}"])
    # the global --backend, before and after the command
    out += [["--backend", "x", "status"], ["status", "--backend"], ["status", "--backend", "\x00"],
            ["--backend"], ["--bogus"], ["\x00"], ["x" * 5000], ["config", "--backend=nope", "check"]]
    return out


def parse_in_process(argv: list[str]) -> tuple[int | None, str]:
    """(exit code or None when it parsed, stderr) of the real parser for ``argv``."""
    from r2wifi.cli.main import _split_globals, _take_backend
    from r2wifi.errors import UserError

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            _opts, rest = _split_globals(argv)
            if not rest or rest[0] not in COMMANDS:
                return 2, "unknown command\n"
            _late, cmd = _take_backend(rest[1:])
            parser, _ = build_parser(rest[0])
            parser.parse_args(cmd)
    except SystemExit as exc:
        return int(exc.code or 0), err.getvalue()
    except UserError as exc:
        return 2, f"{exc}\n"
    return None, err.getvalue()


def is_safe(argv: list[str]) -> bool:
    words = [a for a in argv if not a.startswith("-")]
    return any(tuple(words[: len(p)]) == p for p in SAFE_TO_RUN) and not NEVER_RUN_FLAGS & set(argv)


def test_every_option_has_help():
    """Every option and positional of every command (and sub-command) has help text."""
    missing = [f"{' '.join(p)} {a.option_strings or a.dest}" for p, acts in command_tree().items() for a in acts
               if not a.help and not isinstance(a, argparse._SubParsersAction)]
    assert missing == []


def test_backend_is_accepted_after_the_command(run_cli):
    """`--backend` works after the command word as well as before it, and a bad one names the option."""
    for argv in (["chip", "ioctls", "--json", "--backend", "sim"], ["--backend", "sim", "chip", "ioctls", "--json"],
                 ["chip", "--backend=sim", "ioctls", "--json"]):
        p = run_cli(*argv)
        assert p.returncode == 0 and p.stdout.lstrip().startswith("{"), (argv, p.stderr)
    p = run_cli("chip", "ioctls", "--backend", "magic")
    assert p.returncode == 2 and "--backend" in p.stderr and p.stderr.count("\n") == 1
    p = run_cli("up", "--backend")
    assert p.returncode == 2 and "--backend needs a value" in p.stderr
    p = run_cli("chip", "ioctls", "--backend", "")  # empty is not "unset"
    assert p.returncode == 2 and "--backend: '' is not one of" in p.stderr
    p = run_cli("chip", "ioctls", "--abi=--")  # argparse would hand the command a list
    assert p.returncode == 2 and "expected one value" in p.stderr and "Traceback" not in p.stderr
    from r2wifi.cli.main import _take_backend

    assert _take_backend(["up", "--backend", "sim", "--ap"]) == ("sim", ["up", "--ap"])
    assert _take_backend(["diagnose", "--", "--backend"]) == (None, ["diagnose", "--", "--backend"])


def test_generated_bad_vectors_parse_cleanly(tmp_path: Path):
    """A few hundred hostile vectors through the parser: parsed, or exit 0/2 with one line; nothing else."""
    vecs = vectors(tmp_path)
    assert len(vecs) > 300
    rejected = 0
    for argv in vecs:
        code, err = parse_in_process(argv)
        if code is None:
            continue
        rejected += 1
        assert code in (0, 2), (argv, code, err)
        if code == 2:
            assert err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    assert rejected > 100  # the generator does produce bad input


def _sample(tmp: Path) -> list[list[str]]:
    vecs = vectors(tmp)
    rejected = [v for v in vecs if parse_in_process(v)[0] == 2]
    runnable = [v for v in vecs if parse_in_process(v)[0] is None and is_safe(v)]
    if os.environ.get("R2WIFI_BADINPUT_ALL"):
        return rejected + runnable
    rng = random.Random(20261205)
    return rng.sample(rejected, min(15, len(rejected))) + rng.sample(runnable, min(45, len(runnable)))


def run_one(argv: list[str], tmp: Path, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env.pop("R2WIFI_DEBUG", None)
    env.update(R2WIFI_STATE_DIR=str(tmp / "state"), R2WIFI_CONFIG=str(tmp / "missing.toml"), R2WIFI_BACKEND="sim",
               HOME=str(tmp))
    clean = [a.replace("\x00", "") for a in argv]  # a NUL cannot pass exec(); its parse is tested above
    return subprocess.run([sys.executable, "-m", "r2wifi", *clean], capture_output=True, env=env, cwd=tmp,
                          stdin=subprocess.DEVNULL, timeout=timeout)


# Commands whose documented exit status 1 means "the check found a problem" (not bad input).
EXIT_1_DOCUMENTED = {"doctor", "diagnose", "firmware"}


def judge(argv: list[str], p: subprocess.CompletedProcess[bytes]) -> str:
    """What is wrong with how a process ended ("" when nothing): the exit code is 0 or 2 (or a
    documented 1), no traceback, at most one error line, and an exit 2 says why (one error line or a
    report on stdout, as `firmware check` gives)."""
    err = p.stderr.decode("utf-8", "replace")
    errors = [ln for ln in err.splitlines() if "error:" in ln[:60]]
    command = next((a for a in argv if a in COMMANDS), "")
    allowed = {0, 2} | ({1} if command in EXIT_1_DOCUMENTED else set())
    if p.returncode not in allowed:
        return f"exit {p.returncode}: {err[-300:]}"
    if "Traceback" in err:
        return f"traceback: {err[-300:]}"
    if len(errors) > 1:
        return f"{len(errors)} error lines: {err[-300:]}"
    if p.returncode == 2 and not errors and not p.stdout.strip():
        return "exit 2 without a reason"
    return ""


@pytest.mark.slow
def test_sample_of_bad_vectors_as_real_processes(tmp_path: Path):
    """A sample of the vectors as real processes: exit 0 or 2, no traceback, one-line error, bounded time."""
    failures = []
    for argv in _sample(tmp_path):
        try:
            p = run_one(argv, tmp_path)
        except subprocess.TimeoutExpired:
            failures.append((argv[:4], "hang"))
            continue
        verdict = judge(argv, p)
        if verdict:
            failures.append(([a[:40] for a in argv], p.returncode, verdict))
    assert failures == []


def test_top_level_parser_class_keeps_one_line_errors():
    """The ArgParser used for every command prints one line and exits 2."""
    parser = ArgParser(prog="r2wifi x")
    parser.add_argument("--n", type=int, help="a number")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as info:
        parser.parse_args(["--n", "many"])
    assert info.value.code == 2 and err.getvalue().count("\n") == 1
