"""Read log inputs: files, directories (recursive), ``.gz``/``.xz``, stdin (``-``), in any mix.

Theory of operation: :func:`expand` turns the user's paths into :class:`Source` objects (a
directory becomes its files, sorted, recursively). Every source is read as bytes in large chunks
(never a whole file at once) and split into lines; lines are decoded as UTF-8 with replacement
only when needed. Two ways to consume a source:

* :func:`iter_lines` yields every ``(line_number, text)``: simple, for small inputs and stdin.
* :func:`iter_hits` runs one compiled ``bytes`` regex over each chunk (C speed) and yields only
  the lines containing a match, with the following line (to rejoin e-mail hard wraps). This is
  what makes a 1 GB ``hostapd -dd`` log fast: most lines are never looked at from Python.

Rules: a missing or unreadable input raises :class:`~r2wifi.errors.UserError` naming it; a
corrupt compressed stream too. Line numbers are 1-based and count every line of the source.
"""

from __future__ import annotations

import functools
import gzip
import lzma
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO, TextIO

from r2wifi.errors import UserError

CHUNK = 4 << 20
SKIP_NAMES = frozenset({"case.toml", "labels.toml"})


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # what evidence points at (path as given, or "-")
    path: str | None  # None for stdin
    stdin: TextIO | BinaryIO | None = None

    def size(self) -> int | None:
        if self.path is None or self.path.endswith((".gz", ".xz")):
            return None
        try:
            return os.path.getsize(self.path)
        except OSError:
            return None


def expand(paths: list[str], *, stdin: TextIO | BinaryIO | None = None) -> list[Source]:
    """Turn user paths into sources; directories are walked recursively (sorted)."""
    out: list[Source] = []
    for p in paths:
        if p == "-":
            out.append(Source("-", None, stdin if stdin is not None else sys.stdin))
            continue
        if os.path.isdir(p):
            found: list[str] = []
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if f in SKIP_NAMES or f.startswith("."):
                        continue
                    found.append(os.path.join(root, f))
            if not found:
                raise UserError(f"{p}: directory contains no log files")
            out.extend(Source(f, f) for f in found)
            continue
        if not os.path.exists(p):
            raise UserError(f"{p}: no such file or directory")
        if not os.access(p, os.R_OK) or not os.path.isfile(p):
            raise UserError(f"{p}: cannot read (not a readable regular file)")
        out.append(Source(p, p))
    return out


def open_binary(src: Source) -> BinaryIO:
    """Open a source for binary reading, decompressing .gz/.xz (also detected by magic bytes)."""
    if src.path is None:
        s = src.stdin
        buf = getattr(s, "buffer", None)
        if buf is not None:
            return buf
        return _TextAsBinary(s)  # type: ignore[arg-type,return-value]
    try:
        fh = open(src.path, "rb")  # noqa: SIM115 - returned to the caller
    except OSError as err:
        raise UserError(f"{src.path}: cannot read ({err.strerror})") from None
    magic = fh.peek(6)[:6] if hasattr(fh, "peek") else b""
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    if magic[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(fh, mode="rb")  # type: ignore[return-value]
    return fh


class _TextAsBinary:
    """Adapter: a text stream (e.g. io.StringIO given as stdin) read as UTF-8 bytes."""

    def __init__(self, s: TextIO) -> None:
        self._s = s

    def read(self, n: int = -1) -> bytes:
        return self._s.read(n if n > 0 else -1).encode("utf-8", "replace")

    def close(self) -> None:
        pass


def _chunks(fh: BinaryIO, name: str) -> Iterator[bytes]:
    """Yield chunks that end on a line boundary (the last one may not)."""
    rest = b""
    while True:
        try:
            data = fh.read(CHUNK)
        except (OSError, EOFError, lzma.LZMAError, gzip.BadGzipFile) as err:
            raise UserError(f"{name}: cannot read ({err})") from None
        if not data:
            break
        data = rest + data
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            if len(rest) > 64 * CHUNK:  # a single absurd line: hand it over in pieces
                yield rest
                rest = b""
            continue
        yield data[: cut + 1]
        rest = data[cut + 1:]
    if rest:
        yield rest + b"\n"


def decode(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("utf-8", "replace")


def iter_lines(src: Source) -> Iterator[tuple[int, str]]:
    """Every line of a source, streaming: (1-based line number, text without newline)."""
    fh = open_binary(src)
    try:
        n = 0
        for chunk in _chunks(fh, src.name):
            for b in chunk.split(b"\n")[:-1]:
                n += 1
                yield n, decode(b.rstrip(b"\r"))
    finally:
        if src.path is not None:
            fh.close()


@dataclass(slots=True)
class Hit:
    line: int
    text: str
    next_text: str | None


def iter_hits(src: Source, rx: re.Pattern[bytes], counter: list[int] | None = None) -> Iterator[Hit]:
    """Lines matching ``rx`` (with the line after each, for hard-wrap rejoining), streaming.

    ``counter[0]`` is set to the total number of lines and ``counter[1]`` to bytes once done.
    """
    fh = open_binary(src)
    base = 0  # lines before this chunk
    nbytes = 0
    try:
        for chunk in _chunks(fh, src.name):
            nbytes += len(chunk)
            pos_line_start = 0
            counted_to = 0
            lines_before = base
            last_line_start = -1
            for m in rx.finditer(chunk):
                s = chunk.rfind(b"\n", 0, m.start()) + 1
                if s == last_line_start:
                    continue
                last_line_start = s
                e = chunk.find(b"\n", m.end())
                lines_before += chunk.count(b"\n", counted_to, s)
                counted_to = s
                e2 = chunk.find(b"\n", e + 1) if e + 1 < len(chunk) else -1
                nxt = decode(chunk[e + 1: e2].rstrip(b"\r")) if e2 > 0 else None
                yield Hit(lines_before + 1, decode(chunk[s:e].rstrip(b"\r")), nxt)
                pos_line_start = e + 1
            del pos_line_start
            base += chunk.count(b"\n")
    finally:
        if src.path is not None:
            fh.close()
    if counter is not None:
        counter[:] = [base, nbytes]


def grep_binary() -> str | None:
    """A grep that can serve as the prefilter (GNU or BusyBox with -F -n -b -a), or None.

    Checked once per process by running it on an empty input; ``R2WIFI_NO_GREP=1`` disables it.
    """
    if os.environ.get("R2WIFI_NO_GREP"):
        return None
    return _probe_grep()


@functools.lru_cache(maxsize=1)
def _probe_grep() -> str | None:
    grep = shutil.which("grep")
    if grep is None:
        return None
    try:
        p = subprocess.run([grep, "-n", "-b", "-a", "-F", "-e", "x", "--", os.devnull],  # noqa: S603
                           capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return grep if p.returncode in (0, 1) else None


def _split_lines(fh: IO[bytes]) -> Iterator[bytes]:
    """Lines of a pipe without the newline, read in big chunks."""
    rest = b""
    while True:
        data = fh.read(1 << 20)
        if not data:
            break
        parts = (rest + data).split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


_GREP_LINE = re.compile(rb"(\d+):(\d+):")


def iter_hits_grep(src: Source, keywords: list[str] | tuple[str, ...], grep: str,
                   counter: list[int] | None = None) -> Iterator[Hit]:
    """Like :func:`iter_hits`, with an external ``grep -F`` doing the scan (much faster than ``re``).

    Only for plain regular files. grep prints ``N:OFFSET:text`` for each matching line; the line
    after a hit is read back with ``pread`` only when the hit could have been hard-wrapped (see
    :func:`r2wifi.logs.wrappers.is_continuation`). Raises UserError if grep fails.
    """
    assert src.path is not None
    args = [grep, "-n", "-b", "-a", "-F"]
    for k in sorted(set(keywords)):
        args += ["-e", k]
    args += ["--", src.path]
    env = dict(os.environ, LC_ALL="C")
    try:
        fd = os.open(src.path, os.O_RDONLY)
    except OSError as oserr:
        raise UserError(f"{src.name}: cannot read ({oserr.strerror})") from None
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # noqa: S603
    assert proc.stdout is not None
    try:
        rx = _GREP_LINE
        for raw in _split_lines(proc.stdout):
            m = rx.match(raw)
            if m is None:
                continue
            body = raw[m.end():]
            text = body.rstrip(b"\r")
            nxt = None
            n = len(text.strip())
            if 38 <= n <= 90 and (text[-1:] not in (b".", b":", b")") or text.endswith(b"due to")):
                tail = os.pread(fd, 256, int(m.group(2)) + len(body) + 1)
                cut = tail.find(b"\n")
                if cut >= 0 or len(tail) < 256:
                    nxt = decode((tail[:cut] if cut >= 0 else tail).rstrip(b"\r"))
            yield Hit(int(m.group(1)), decode(text), nxt)
    finally:
        os.close(fd)
        proc.stdout.close()
        err = proc.stderr.read() if proc.stderr is not None else b""
        rc = proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    if rc > 1:
        raise UserError(f"{src.name}: cannot read ({decode(err).strip() or 'grep failed'})")
    if counter is not None:
        counter[:] = list(count_lines(src))


def count_lines(src: Source) -> tuple[int, int]:
    """(lines, bytes) of a plain file, counted in big chunks."""
    assert src.path is not None
    lines = nbytes = 0
    last = b"\n"
    with open(src.path, "rb") as fh:
        while True:
            b = fh.read(CHUNK)
            if not b:
                break
            lines += b.count(b"\n")
            nbytes += len(b)
            last = b[-1:]
    if last != b"\n":
        lines += 1
    return lines, nbytes


def prefilter_regex(keywords: tuple[str, ...] | list[str]) -> re.Pattern[bytes]:
    """One compiled alternation of literal keywords (longest first) over bytes."""
    words = sorted({k.encode("utf-8") for k in keywords if k}, key=len, reverse=True)
    return re.compile(b"|".join(re.escape(w) for w in words))
