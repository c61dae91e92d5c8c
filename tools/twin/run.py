"""``scripts/twin CMD [ARGS...]``: boot the board twin (building it if needed), run CMD as root inside,
exit with CMD's status.

CMD runs with cwd = the checkout (visible at the same path in the guest over 9p); its stdout and
stderr are printed when it ends. ``--no-chip`` skips starting the simulated chip, ``--timeout S``
bounds CMD (default 1800 s), ``--sh`` runs one /bin/sh command line. The boot/build figures go to
stderr with ``-v``. Exit 2 on bad arguments; 125 when the twin cannot be built or booted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/twin", description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--no-chip", action="store_true", help="do not start the simulated chip (CUSE server)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds CMD may run (default 1800)")
    ap.add_argument("--sh", action="store_true", help="CMD is one /bin/sh command line")
    ap.add_argument("-v", "--verbose", action="store_true", help="print build/boot figures to stderr")
    ap.add_argument("cmd", nargs=argparse.REMAINDER, help="command to run in the guest")
    ns = ap.parse_args(argv)
    if not ns.cmd:
        ap.error("CMD is missing")
    if ns.timeout <= 0:
        ap.error("--timeout must be positive")

    from twin.session import boot
    from twin.vm import can_run_twin

    reason = can_run_twin()
    if reason:
        print(f"scripts/twin: {reason}", file=sys.stderr)
        return 125
    try:
        twin = boot(chip=not ns.no_chip, tag="cli")
    except Exception as exc:  # noqa: BLE001 - one line, the console tail is in the artefact dir
        print(f"scripts/twin: the twin did not come up: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 125
    try:
        if ns.verbose:
            print(f"twin: kernel {twin.image.kver}, build {twin.build_secs:.1f}s, boot {twin.boot_secs:.1f}s, "
                  f"chip: {twin.chip}, artefacts {twin.workdir}", file=sys.stderr)
        elif twin.chip != "ok" and not ns.no_chip:
            print(f"twin: simulated chip not started: {twin.chip}", file=sys.stderr)
        cmd: list[str] | str = " ".join(ns.cmd) if ns.sh else list(ns.cmd)
        res = twin.vm.run(["sh", "-c", 'cd "$0" && exec "$@"', str(REPO), *cmd] if isinstance(cmd, list)
                          else f"cd {REPO} && {cmd}", timeout=ns.timeout)
        sys.stdout.write(res.out)
        sys.stderr.write(res.err)
        return res.rc if 0 <= res.rc < 256 else 1
    finally:
        twin.vm.stop()


if __name__ == "__main__":
    raise SystemExit(main())
