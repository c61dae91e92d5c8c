"""``r2wifi config check|show|init``: validate, print (secrets masked) or create the config file.

* ``check [--config F]``: exit 0 and ``ok: F`` or exit 2 with one line per problem, every bad key
  of the file in one run (``r2wifi: error: ap.channel: ...``, unknown keys with a "did you mean");
  warns on stderr when a file holding a passphrase is readable by other users. The AP's channel is
  checked against its country's rules in the system's regulatory.db (``--regdb FILE`` for another;
  skipped with a note when there is none), and a DFS channel gets a note on its start-up delay.
* ``show [--config F] [--json]``: the effective configuration (defaults filled in), secrets as ``********``.
* ``init [PATH] [--force] [--ssid S] [--country CC] [--passphrase-stdin]``: write the commented
  default file (0600) with a fresh random passphrase (or one read from stdin) and the system's
  country (``--country``, else the kernel's regulatory domain as ``iw reg get`` shows it, else the locale's territory, else ``"auto"`` with a
  note: the world domain 00 until the system names one or the file does);
  never overwrites without ``--force``, and keeps a backup when it does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("check", help="validate the configuration file")
    p.add_argument("--config", metavar="FILE", help="config file (default /etc/r2wifi/r2wifi.toml)")
    p.add_argument("--regdb", metavar="FILE",
                   help="regulatory.db to check the channel against (default: the system's wireless-regdb)")
    p = sub.add_parser("show", help="print the effective configuration (secrets masked)")
    p.add_argument("--config", metavar="FILE", help="config file (default /etc/r2wifi/r2wifi.toml)")
    p.add_argument("--json", action="store_true", help="JSON instead of TOML")
    p = sub.add_parser("init", help="write a commented default configuration file")
    p.add_argument("path", nargs="?", metavar="PATH", help="where (default /etc/r2wifi/r2wifi.toml)")
    p.add_argument("--config", metavar="FILE", help=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true", help="replace an existing file (a backup is kept)")
    p.add_argument("--ssid", help="network name to put in the file (1-32 bytes; default BPI-R2)")
    p.add_argument("--country", metavar="CC",
                   help="ISO 3166-1 country code (default: the kernel's regulatory domain, as `iw reg get` shows it, else the locale, else \"auto\")")
    p.add_argument(
        "--passphrase-stdin", action="store_true", help="read the passphrase from stdin instead of generating one"
    )


def run(args: argparse.Namespace) -> int:
    from r2wifi import config as C
    from r2wifi.errors import UserError
    from r2wifi.paths import config_path

    if args.action == "check":
        from r2wifi.errors import ConfigErrors

        try:
            cfg = C.load_config(args.config)
        except ConfigErrors as err:
            for problem in err.problems:
                sys.stderr.write(f"r2wifi: error: {problem}\n")
            return 2
        from r2wifi.net import regdb

        try:
            problems, notes = regdb.check_config(cfg, regdb.load(args.regdb))
        except regdb.RegDbError as err:
            if args.regdb:
                raise
            problems, notes = [], [f"channel not checked against {cfg.ap.country}'s rules: {err}"]
        for problem in problems:
            sys.stderr.write(f"r2wifi: error: {problem}\n")
        if problems:
            return 2
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
        secret = any(v for v in (cfg.ap.passphrase, cfg.ap.psk, cfg.sta.passphrase, cfg.sta.psk))
        mode = os.stat(cfg.source).st_mode & 0o777
        if secret and mode & 0o077:
            sys.stderr.write(
                f"warning: {cfg.source} (mode {mode:o}) is readable by other users but holds a WiFi secret; "
                f"run: chmod 600 {cfg.source}\n"
            )
        sys.stdout.write(f"ok: {cfg.source}\n")
        return 0
    if args.action == "show":
        cfg = C.load_config(args.config)
        if args.json:
            sys.stdout.write(json.dumps(C.config_as_dict(cfg, masked=True), indent=2) + "\n")
        else:
            sys.stdout.write(f"# {cfg.source}\n" + C.dump_toml(cfg, masked=True))
        return 0
    # init
    import secrets

    from r2wifi.fsutil import SECRET_MODE, atomic_write

    path = config_path(args.path or args.config)
    if path.exists() and not args.force:
        raise UserError(f"{path} already exists", hint="use --force to replace it; a backup is kept")
    if args.passphrase_stdin:
        passphrase = sys.stdin.readline(1024).rstrip("\n")
    else:
        alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        passphrase = "".join(secrets.choice(alphabet) for _ in range(16))
    country = args.country
    if country is None:
        from r2wifi.net.regdb import system_country

        country = system_country()
    guessed = country is None or country not in C.iso_countries() and args.country is None
    if guessed:
        country = "auto"
    text = C.render_default_toml(passphrase, country)
    if args.ssid is not None:
        text = text.replace('ssid = "BPI-R2"', f"ssid = {C.toml_value(args.ssid)}", 1)
    C.parse_config(text, source=str(path))  # never write a file that would not load
    saved = atomic_write(path, text, mode=SECRET_MODE, backup=path.exists())
    sys.stdout.write(f"wrote {path}\n")
    if guessed:
        sys.stderr.write("note: the system's country is unknown (no regulatory domain from the kernel, no locale territory); wrote "
                         "ap.country = \"auto\": the world domain 00 (channels 1-11, no 5 GHz) until it knows one; "
                         "set yours\n")
    if saved:
        sys.stdout.write(f"previous file kept as {saved}\n")
    if not args.passphrase_stdin:
        sys.stderr.write("a random WiFi passphrase was generated; see it with 'r2wifi ap qr' or in the file\n")
    return 0
