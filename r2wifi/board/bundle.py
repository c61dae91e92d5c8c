"""``r2wifi bundle``: one redacted support archive (tar.gz, mode 0600) for a forum post.

Theory of operation: :func:`collect` gathers raw texts (doctor report, kernel log, hostapd /
launcher / user-given logs, the r2wifi config with secrets masked, versions, the diagnosis);
:func:`redact_all` runs them through one :class:`r2wifi.diagnose.redact.Redactor` in two passes
(learn every raw line first, so pseudonyms are consistent across files, then redact every text);
:func:`write_bundle` packs the result atomically with mode 0600.

Rules:
* Nothing leaves unredacted: every member, including the doctor report and the file names of
  given logs, goes through the redactor; the config is taken only in its masked form.
* If redaction is unavailable (``r2wifi.diagnose.redact`` missing) no bundle is written at all.
* Logs are capped (the last :data:`MAX_LOG` bytes of each) so a bundle stays postable; compressed
  logs are decompressed first, within the caps of :mod:`r2wifi.logs.readers`.
* The diagnosis (``r2wifi.diagnose.analyze.diagnose``) is optional: when it is missing or fails,
  the bundle says so in ``diagnosis.txt`` and is still written.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import socket
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r2wifi.board.doctor import SysView, render_text, run_doctor
from r2wifi.errors import UserError
from r2wifi.fsutil import atomic_write

MAX_LOG = 4 * 1024 * 1024


@dataclass
class Collected:
    texts: dict[str, str] = field(default_factory=dict)  # archive name -> text
    log_paths: list[Path] = field(default_factory=list)  # raw logs for the diagnosis
    ssids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)
    diagnosis: dict[str, object] | None = None


def _tail(path: Path) -> str:
    """The last :data:`MAX_LOG` bytes of a log as text; a compressed log is decompressed (bounded) first."""
    from r2wifi.logs import readers

    with readers.open_regular(str(path)) as fh:
        compressed = readers.compression_of(fh.read(6)) is not None
        if not compressed:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - MAX_LOG))
            data = fh.read()
    notes: list[str] = []
    if compressed:
        src = readers.Source(str(path), str(path))
        keep: list[bytes] = []
        kept = size = 0
        stream = readers.open_binary(src)
        try:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                keep.append(chunk)
                kept += len(chunk)
                while kept - len(keep[0]) >= MAX_LOG:
                    kept -= len(keep.pop(0))
        finally:
            stream.close()
        data = b"".join(keep)[-MAX_LOG:]
        notes = src.notes
    text = data.decode("utf-8", "replace")
    if size > MAX_LOG:
        text = text.split("\n", 1)[-1]
        text = f"[... first {size - MAX_LOG} bytes left out ...]\n" + text
    return "".join(f"[{n}]\n" for n in notes) + text


def _kernel_log(sv: SysView) -> tuple[str | None, Path | None]:
    if sv.live:
        text = sv.run(["dmesg"]) or sv.run(["journalctl", "-k", "-b", "--no-pager"])
        return text, None
    for p in ("/var/log/dmesg", "/var/log/kern.log"):
        path = sv.path(p)
        if path.is_file():
            return _tail(path), path
    return None, None


def _versions(sv: SysView) -> str:
    from r2wifi import __version__

    lines = [f"r2wifi {__version__}", f"python {platform.python_version()} ({platform.machine()})"]
    rel = sv.read_text("/proc/sys/kernel/osrelease")
    lines.append(f"kernel {rel.strip() if rel else (os.uname().release if sv.live else '?')}")
    osr = sv.read_text("/etc/os-release") or ""
    for line in osr.splitlines():
        if line.startswith("PRETTY_NAME="):
            lines.append("os " + line.split("=", 1)[1].strip('"'))
    hv = sv.run(["hostapd", "-v"])
    if hv:
        lines.append(next((ln for ln in hv.splitlines() if ln.startswith("hostapd")), hv.strip()[:80]))
    return "\n".join(lines) + "\n"


def _config(path: Path | None, col: Collected) -> None:
    try:
        from r2wifi import config as C
    except ImportError:
        col.notes.append("config: r2wifi.config unavailable")
        return
    try:
        cfg = C.load_config(path)
    except UserError as err:
        col.texts["config.txt"] = f"config could not be loaded: {err}\n"
        return
    except OSError as err:
        col.texts["config.txt"] = f"config could not be read: {err.strerror}\n"
        return
    masked: Any = C.config_as_dict(cfg, masked=True)
    col.texts["config.json"] = json.dumps(masked, indent=2) + "\n"
    for section in ("ap", "sta"):
        ssid = getattr(getattr(cfg, section, None), "ssid", None)
        if isinstance(ssid, str) and ssid:
            col.ssids.append(ssid)


def _diagnosis(col: Collected, learn: Callable[[str], None] | None) -> None:
    """Run the diagnosis over the collected logs; the redactor learns every line it reads."""
    try:
        from r2wifi.diagnose.analyze import diagnose
    except ImportError:
        col.texts["diagnosis.txt"] = "diagnosis not available in this r2wifi build\n"
        return
    if not col.log_paths:
        col.texts["diagnosis.txt"] = "no logs to diagnose\n"
        return
    try:
        col.diagnosis = diagnose([str(p) for p in col.log_paths], learn=learn)
    except UserError as err:
        col.texts["diagnosis.txt"] = f"diagnosis failed: {err}\n"
    except Exception as err:  # noqa: BLE001 - the bundle must still be written
        col.texts["diagnosis.txt"] = f"diagnosis failed: {type(err).__name__}: {err}\n"


def collect(sv: SysView, logs: list[Path], config: Path | None,
            learn: Callable[[str], None] | None = None) -> Collected:
    """Gather every raw text (nothing redacted yet); ``learn`` sees each line the diagnosis reads."""
    col = Collected()
    results = run_doctor(sv)
    col.texts["doctor.txt"] = render_text(results)
    col.texts["doctor.json"] = json.dumps([c.as_dict() for c in results], indent=2) + "\n"
    klog, kpath = _kernel_log(sv)
    if klog is not None:
        col.texts["kernel.log"] = klog
        if kpath is None:  # live dmesg: the diagnosis reads files
            fd, name = tempfile.mkstemp(prefix="r2wifi-dmesg-", suffix=".log")
            with os.fdopen(fd, "w") as fh:
                fh.write(klog)
            kpath = Path(name)
            col.temp_files.append(kpath)
        col.log_paths.append(kpath)
    else:
        col.notes.append("kernel log: not available")
    found: list[Path] = list(logs)
    for d in _r2wifi_log_dirs(sv):  # r2wifi's own logs with their rotated backups (.1, .2 ...)
        found += sorted((p for p in d.rglob("*.log*") if p.is_file() and _LOG_NAME.search(p.name)),
                        key=lambda p: (p.parent, p.name))
    for pattern in ("/var/log/hostapd*.log", "/var/log/wpa_supplicant*.log", "/var/log/stp_launcher.log",
                    "/var/log/wmtloader.log"):
        parent = sv.path(pattern.rsplit("/", 1)[0])
        if parent.is_dir():
            found += sorted(p for p in parent.glob(pattern.rsplit("/", 1)[1]) if p.is_file())
    seen: set[Path] = set()
    for n, p in enumerate(found):
        rp = p.resolve()
        if rp in seen:
            continue
        seen.add(rp)
        if not p.is_file():
            raise UserError(f"--log {p}: no such file" if not p.exists() else f"--log {p}: not a regular file")
        col.texts[f"logs/{n:02d}-{p.name}"] = _tail(p)
        col.log_paths.append(p)
    _config(config, col)
    col.texts["versions.txt"] = _versions(sv)
    _diagnosis(col, learn)
    return col


_LOG_NAME = re.compile(r"\.log(?:\.\d{1,3})?$")


def _r2wifi_log_dirs(sv: SysView) -> list[Path]:
    """The log dir ``[log] dir`` names (``/var/log/r2wifi`` by default, below ``sv``'s root) and the state dir."""
    from r2wifi import logdir

    t = logdir.target()
    dirs = [sv.path(str(d)) for d in (t.dir, logdir.DEFAULT_DIR) if d is not None]
    if sv.state_dir is not None:
        dirs.append(sv.state_dir)
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d not in out:
            out.append(d)
    return out


def _redactor() -> Any:
    try:
        from r2wifi.diagnose.redact import Redactor
    except ImportError as err:
        raise UserError("redaction is not available in this r2wifi build; no bundle written") from err
    return Redactor()


def redact_all(col: Collected, red: Any, *, live: bool) -> dict[str, str]:
    """Every text through one Redactor: learn all lines first, then redact (names included).

    The diagnosis is redacted as an object and rendered afterwards, so its pseudonyms match the
    logs' (a pseudonym is never redacted twice).
    """
    for ssid in col.ssids:
        red.add_ssid(ssid)
    if live:
        red.add_host(socket.gethostname())
    for text in col.texts.values():
        for line in text.splitlines():
            red.learn_line(line)
    out: dict[str, str] = {}
    for name, text in col.texts.items():
        if name.endswith(".json"):
            try:
                obj = json.loads(text)
            except ValueError:
                out[red.redact_text(name)] = red.redact_text(text)
                continue
            out[red.redact_text(name)] = json.dumps(red.redact_obj(obj), indent=2) + "\n"
        else:
            out[red.redact_text(name)] = "\n".join(red.redact_text(ln) for ln in text.split("\n"))
    if col.diagnosis is not None:
        result = red.redact_obj(col.diagnosis)
        out["diagnosis.json"] = json.dumps(result, indent=1, default=str) + "\n"
        try:
            from r2wifi.diagnose.report_term import render

            buf = io.StringIO()
            render(result, buf, color=False, width=100)
            out["diagnosis.txt"] = buf.getvalue()
        except ImportError:
            pass
        except Exception as err:  # noqa: BLE001 - a rendering bug must not lose the bundle
            out["diagnosis.txt"] = f"rendering failed ({type(err).__name__}); see diagnosis.json\n"
    return out


def write_bundle(out: Path, members: dict[str, str], notes: list[str]) -> list[tuple[str, int]]:
    """Pack ``members`` (plus MANIFEST.txt) into ``out`` atomically, mode 0600."""
    listing = [(name, len(text.encode())) for name, text in members.items()]
    manifest = "r2wifi support bundle (redacted: MACs, IPs, SSIDs, host names pseudonymised; secrets removed)\n"
    manifest += "".join(f"{size:>10}  {name}\n" for name, size in listing)
    manifest += "".join(f"note: {n}\n" for n in notes)
    members = {"MANIFEST.txt": manifest, **members}
    buf = io.BytesIO()
    now = int(time.time())
    top = out.name.removesuffix(".tar.gz").removesuffix(".tgz") or "r2wifi-bundle"
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            ti = tarfile.TarInfo(f"{top}/{name}")
            ti.size, ti.mode, ti.mtime = len(data), 0o600, now
            tf.addfile(ti, io.BytesIO(data))
    atomic_write(out, buf.getvalue(), mode=0o600)
    return [("MANIFEST.txt", len(manifest.encode())), *listing]


def make_bundle(out: Path, sv: SysView, logs: list[Path], config: Path | None) -> list[tuple[str, int]]:
    red = _redactor()
    col = collect(sv, logs, config, learn=red.learn_line)
    try:
        members = redact_all(col, red, live=sv.live)
    finally:
        for p in col.temp_files:
            p.unlink(missing_ok=True)
    return write_bundle(out, members, col.notes)
