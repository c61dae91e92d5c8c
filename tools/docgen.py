#!/usr/bin/env python3
"""Generate the man page r2wifi(1) and the bash completion script from the argparse definitions.

Theory of operation: ``r2wifi`` builds one parser per command on demand (r2wifi/cli/main.py); this
script builds every one of them the same way (:data:`r2wifi.cli.commands.COMMANDS`, each module's
``add_arguments``) and walks the tree: commands, their sub-actions (sub-parsers), options with their
help text and choices, positionals. Both outputs are a pure function of that tree, so they can never
disagree with ``--help``; the Debian package builds them at build time (debian/rules) and a test
checks that every option appears in both.

Usage::

    python3 tools/docgen.py --man build/r2wifi.1 --bash build/r2wifi.bash-completion
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from r2wifi import __version__  # noqa: E402
from r2wifi.cli.commands import COMMANDS  # noqa: E402
from r2wifi.cli.main import BACKENDS, ArgParser  # noqa: E402


@dataclass
class Option:
    flags: list[str]
    metavar: str | None
    help: str
    choices: list[str] | None


@dataclass
class Node:
    """One parser: a command (``up``) or a sub-action (``kernel install``)."""

    path: list[str]
    help: str
    options: list[Option] = field(default_factory=list)
    positionals: list[Option] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)


def _help_text(action: argparse.Action) -> str:
    text = action.help or ""
    if text == argparse.SUPPRESS:
        return ""
    if "%(" in text:
        try:
            text = text % {"default": action.default, "prog": "r2wifi", "choices": action.choices}
        except (KeyError, TypeError, ValueError):
            pass
    return " ".join(text.split())


def walk(parser: argparse.ArgumentParser, path: list[str], help_text: str) -> Node:
    node = Node(path, help_text)
    for action in parser._actions:  # argparse has no public walk of its actions
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: (a.help or "") for a in action._choices_actions}
            for name, sub in action.choices.items():
                node.children.append(walk(sub, [*path, name], helps.get(name, "")))
            continue
        choices = [str(c) for c in action.choices] if action.choices else None
        takes_value = action.nargs != 0
        metavar = (str(action.metavar) if action.metavar else action.dest.upper()) if takes_value else None
        opt = Option(list(action.option_strings) or [action.dest], metavar, _help_text(action), choices)
        (node.options if action.option_strings else node.positionals).append(opt)
    return node


def command_tree() -> list[Node]:
    nodes = []
    for name, (module_name, text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        parser = ArgParser(prog=f"r2wifi {name}", description=text)
        module.add_arguments(parser)
        nodes.append(walk(parser, [name], text))
    return nodes


# --- man page (roff) ---------------------------------------------------------------------------

def _roff(text: str) -> str:
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line[:1] in ".'" else line for line in text.splitlines())


def _opt_label(opt: Option) -> str:
    flags = ", ".join(f"\\fB{_roff(f)}\\fR" for f in opt.flags)
    if opt.choices and opt.flags[0].startswith("-"):
        return f"{flags} {{{_roff(','.join(opt.choices))}}}"
    if opt.metavar and opt.flags[0].startswith("-"):
        return f"{flags} \\fI{_roff(opt.metavar)}\\fR"
    return flags


def _man_node(node: Node, out: list[str]) -> None:
    out.append(f".SS {_roff(' '.join(['r2wifi', *node.path]))}")
    if node.help:
        out.append(_roff(node.help[:1].upper() + node.help[1:]) + ("" if node.help.endswith(".") else "."))
    for opt in [*node.positionals, *node.options]:
        out.append(".TP")
        out.append(_opt_label(opt) if opt.flags[0].startswith("-") else f"\\fI{_roff(opt.metavar or opt.flags[0])}\\fR")
        text = opt.help or "(no description)"
        if opt.choices and not opt.flags[0].startswith("-"):
            text += f" One of: {', '.join(opt.choices)}."
        out.append(_roff(text))
    for child in node.children:
        _man_node(child, out)


def render_man(nodes: list[Node], date: str | None = None) -> str:
    if date is None:  # reproducible builds: dpkg-buildpackage sets SOURCE_DATE_EPOCH from the changelog
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        when = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc) if epoch else _dt.datetime.now()
        date = when.date().isoformat()
    out = [
        f'.TH R2WIFI 1 "{date}" "r2wifi {__version__}" "User Commands"',
        ".SH NAME",
        "r2wifi \\- bring up, supervise and diagnose the BPI\\-R2 internal WiFi (MT7623 / MT6625L)",
        ".SH SYNOPSIS",
        f".B r2wifi\n[\\fB\\-\\-backend\\fR {{{','.join(BACKENDS)}}}] \\fICOMMAND\\fR [\\fIARGS\\fR...]",
        ".SH DESCRIPTION",
        _roff("r2wifi replaces the vendor wmt_loader and stp_uart_launcher of the Banana Pi BPI-R2 with a pure "
              "Python chip bring-up, runs an access point (hostapd, dnsmasq) or a station (wpa_supplicant) that "
              "a supervisor keeps up, and diagnoses the logs of any hostapd access point."),
        ".SH GLOBAL OPTIONS",
        ".TP\n\\fB\\-\\-backend\\fR \\fINAME\\fR",
        _roff("Device backend: auto (default: the board's /dev nodes when /dev/wmtdetect exists, else the "
              "simulator), real or sim. Also R2WIFI_BACKEND."),
        ".TP\n\\fB\\-\\-version\\fR",
        "Print the version and exit.",
        ".SH COMMANDS",
    ]
    for node in nodes:
        _man_node(node, out)
    out += [
        ".SH EXIT STATUS",
        _roff("0 success; 1 the command ran and found problems; 2 bad input or usage (a one-line message "
              "names what is wrong); 130 interrupted."),
        ".SH FILES",
        ".TP\n/etc/r2wifi/r2wifi.toml",
        _roff("The configuration (0600: it holds the WiFi passphrase). An example is in "
              "/usr/share/doc/r2wifi/examples/r2wifi.toml."),
        ".TP\n/usr/share/doc/r2wifi/findings/",
        _roff("One page per diagnose finding code."),
        ".SH ENVIRONMENT",
        ".TP\nR2WIFI_BACKEND",
        "Default for \\fB\\-\\-backend\\fR.",
        ".TP\nR2WIFI_DEBUG",
        "Show a traceback instead of the one-line error.",
        ".SH SEE ALSO",
        "hostapd(8), wpa_supplicant(8), dnsmasq(8), iw(8)",
    ]
    return "\n".join(out) + "\n"


# --- bash completion ---------------------------------------------------------------------------

def _words(node: Node) -> str:
    words = [f for o in node.options for f in o.flags] + [c.path[-1] for c in node.children]
    words += [c for o in node.positionals for c in (o.choices or [])]
    return " ".join(sorted(dict.fromkeys([*words, "--help"])))


def render_bash(nodes: list[Node]) -> str:
    cases: list[str] = []
    choices: list[str] = []

    def visit(node: Node) -> None:
        cases.append(f'        "{" ".join(node.path)}") words="{_words(node)}" ;;')
        for opt in node.options:
            if opt.choices:
                for flag in opt.flags:
                    choices.append(f'        "{" ".join(node.path)}|{flag}") words="{" ".join(opt.choices)}" ;;')
        for child in node.children:
            visit(child)

    for node in nodes:
        visit(node)
    top = " ".join([*COMMANDS, "--backend", "--help", "--version"])
    return f"""# bash completion for r2wifi {__version__}; generated by tools/docgen.py from the argparse tree
_r2wifi() {{
    local cur prev path="" w i words
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case "$w" in
            --backend) i=$((i + 1)) ;;
            -*) ;;
            *) if [[ -n "$(_r2wifi_words "${{path:+$path }}$w")" ]]; then path="${{path:+$path }}$w"; fi ;;
        esac
    done
    if [[ "$prev" == --backend ]]; then
        COMPREPLY=($(compgen -W "{' '.join(BACKENDS)}" -- "$cur")); return
    fi
    words="$(_r2wifi_choices "$path|$prev")"
    if [[ -z "$words" ]]; then
        if [[ -z "$path" ]]; then words="{top}"; else words="$(_r2wifi_words "$path")"; fi
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    [[ ${{#COMPREPLY[@]}} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
}}
_r2wifi_words() {{
    local words=""
    case "$1" in
{chr(10).join(cases)}
    esac
    printf '%s' "$words"
}}
_r2wifi_choices() {{
    local words=""
    case "$1" in
{chr(10).join(choices)}
    esac
    printf '%s' "$words"
}}
complete -o filenames -F _r2wifi r2wifi
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--man", metavar="FILE", help="write the man page r2wifi(1) here")
    p.add_argument("--bash", metavar="FILE", help="write the bash completion script here")
    args = p.parse_args(argv)
    nodes = command_tree()
    for path, text in ((args.man, render_man(nodes) if args.man else ""),
                       (args.bash, render_bash(nodes) if args.bash else "")):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
