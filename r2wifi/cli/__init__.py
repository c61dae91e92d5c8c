"""Command-line interface. See :mod:`r2wifi.cli.main` for the rules every command follows."""
