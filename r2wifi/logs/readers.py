"""Read log inputs: files, directories (recursive), ``.gz``/``.xz``, stdin (``-``), in any mix.

Theory of operation: :func:`expand` turns the user's paths into :class:`Source` objects (a
directory becomes its files, sorted, recursively). Every source is read as bytes in large chunks
(never a whole file at once) and split into lines; lines are decoded as UTF-8 with replacement
only when needed. Ways to consume a source:

* :func:`iter_lines` yields every ``(line_number, text)``: simple, for small inputs and stdin.
* :class:`Scan` (what ``diagnose`` uses on big files) yields *batches* of the lines containing a
  keyword, as raw bytes with their line number, so most lines are never looked at from Python
  and hits cost one tuple each. On plain files an external ``grep -E`` (one alternation of the
  keywords, GNU grep's DFA) does the scan in a child process on the other core while Python
  classifies; the pipe is widened so grep runs ahead. Elsewhere (compressed, stdin,
  ``R2WIFI_NO_GREP=1``, no grep) :func:`anchored_regex` scans each chunk in ``re``. The line
  after a hit (hard-wrap rejoining) is fetched only on demand (:meth:`Scan.line_at`) from the
  chunk or a small read-ahead window.

Memory is bounded: one chunk (4 MiB, plus one line), one 1 MiB pipe read and one 64 KiB window.

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
from typing import BinaryIO, TextIO

from r2wifi.errors import UserError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None  # type: ignore[assignment]

CHUNK = 4 << 20
WINDOW = 64 << 10  # read-ahead for the line after a hit (Scan.line_at)
MAX_GREP_LINE = 16 << 20  # a longer matching line is skipped on the grep path (no log has one)
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


def count_lines(src: Source, known: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    """(lines, bytes) of a plain file, counted in big chunks.

    ``known`` = (lines, offset): the first ``offset`` bytes are known to hold ``lines`` complete
    lines (e.g. up to grep's last hit), so counting starts there.
    """
    assert src.path is not None
    lines, nbytes = known
    last = b"\n"
    with open(src.path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if nbytes > size:  # the known part ended with the unterminated last line
            return lines, size
        fh.seek(nbytes)
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


# --------------------------------------------------------------------------- batch scanning
# The hot path of ``diagnose`` on big files. Both scanners yield *batches* (one per chunk) of hits
# ``(line_number, start_offset, raw_line_bytes)`` so that the caller pays no generator or object
# cost per hit beyond one tuple, and decodes only lines it has not seen before. On the grep path the
# two numbers are the bytes grep printed (``-n -b``), converted by the caller only when it needs them
# (most hits of a debug log are repeated noise that needs neither); :func:`hit_fields` converts.
# The line after a hit (to rejoin e-mail hard wraps) is fetched on demand with :meth:`Scan.line_at`.

Hit = tuple["int | bytes", "int | bytes", bytes]
HitBatch = list[Hit]


def hit_fields(hit: Hit) -> tuple[int, bytes, int]:
    """``(line number, raw line, offset just after the line)`` of a hit."""
    n, o, raw = hit
    return int(n), raw, int(o) + len(raw) + 1


# Printable ASCII from most to least frequent in real wireless logs, with occurrences per 100k
# bytes (measured once over the corpus). Only used to pick rare "anchor" bytes for
# :func:`anchored_regex`: any table gives the same matches, a good one a faster scan.
_COMMON_FIRST = (" 0e:an1tdiorXl2scf8_mA=Ep534h97wxuT6-bSPyIgN.Dv)k(CWLOMRK][BqUH/zFG>|VY'jZ,+;\"J@*#Q~<!`^&$}{\\?%")
_PER_100K = (
    12286, 6182, 5446, 5019, 4361, 3503, 3325, 3073, 2680, 2455, 2335, 2270, 2262, 2202, 2120, 2081, 1981,
    1632, 1461, 1390, 1346, 1309, 1233, 1192, 1174, 1118, 1114, 1101, 1035, 1012, 1003, 998, 987, 951, 935,
    928, 806, 796, 779, 730, 662, 651, 636, 563, 534, 507, 493, 470, 454, 449, 408, 400, 398, 381, 317, 313,
    271, 213, 213, 183, 176, 161, 146, 126, 108, 90, 75, 70, 59, 51, 49, 44, 40, 37, 37, 27, 21, 20, 19, 11,
    11, 7, 6, 4, 3, 3, 2, 2, 2, 2, 0, 0, 0, 0, 0,
)
_FREQ = dict(zip(_COMMON_FIRST.encode(), _PER_100K, strict=True))


def _cost(c: int) -> int:
    """How often byte ``c`` occurs (bytes outside the table: rarely)."""
    return _FREQ.get(c, 0) + 1


@functools.lru_cache(maxsize=4)
def anchored_regex(keywords: tuple[str, ...]) -> re.Pattern[bytes]:
    """The keyword set as a regex that ``re`` can scan fast: same lines match as with the plain alternation.

    ``re`` tries a match at every byte whose value may start the pattern. A plain alternation
    starts with nearly every letter, so almost every byte is a candidate. Here each keyword is
    instead entered at one *anchor* byte, a rare one (``Queue`` at ``Q``: ``Q(?<=Q)(?=ueue)``,
    with the part before the anchor as a lookbehind), and the anchors are a small set of rare
    bytes covering every keyword (greedy weighted set cover), so ~90% of positions are
    rejected by one bitmap test in C. A match's span lies inside the keyword's line, which is
    all the scanners use.
    """
    words = sorted({k.encode("utf-8") for k in keywords if k})
    uncovered = set(words)
    anchors: set[int] = set()
    while uncovered:
        cands = {c for w in uncovered for c in w}
        best = min(cands, key=lambda c: _cost(c) / sum(1 for w in uncovered if c in w))
        anchors.add(best)
        uncovered = {w for w in uncovered if best not in w}
    for c in sorted(anchors, key=_cost, reverse=True):  # drop anchors the others make redundant (commonest first)
        if all(any(d in w for d in anchors - {c}) for w in words):
            anchors.discard(c)
    groups: dict[int, list[bytes]] = {}
    for w in words:
        i = min((i for i in range(len(w)) if w[i] in anchors), key=lambda i: (_cost(w[i]), i))
        groups.setdefault(w[i], []).append(w)
    branches = [_suffix_trie(c, [(w, w.index(bytes([c])) + 1) for w in ws]) for c, ws in sorted(groups.items())]
    return re.compile(b"|".join(branches))


def _suffix_trie(c: int, entries: list[tuple[bytes, int]]) -> bytes:
    """``c`` then the keywords' parts after their anchor as a trie; each leaf checks its whole word behind."""
    def build(items: list[tuple[bytes, int]]) -> bytes:
        alts: list[bytes] = []
        done = [w for w, i in items if i == len(w)]
        nxt: dict[int, list[tuple[bytes, int]]] = {}
        for w, i in items:
            if i < len(w):
                nxt.setdefault(w[i], []).append((w, i + 1))
        for ch, sub in sorted(nxt.items()):
            alts.append(re.escape(bytes([ch])) + build(sub))
        # a whole keyword ends here: its head before the anchor must be right behind us
        alts.extend(b"(?<=" + re.escape(w) + b")" if len(w) > 1 else b"" for w in done)
        if len(alts) == 1:
            return alts[0]
        return b"(?:" + b"|".join(alts) + b")"

    return re.escape(bytes([c])) + build(entries)


def grep_pattern(keywords: tuple[str, ...] | list[str]) -> str:
    """The keyword set as one ``grep -E`` alternation (GNU grep's DFA beats ``-F`` with many words)."""
    words = sorted({k for k in keywords if k}, key=len, reverse=True)
    return "|".join(re.sub(r"([][.()*+?{}|^$\\])", r"\\\1", w) for w in words)


class Scan:
    """Matching lines of one source, in batches; ``lines``/``nbytes`` are totals once exhausted."""

    def __init__(self, src: Source, keywords: tuple[str, ...] | list[str], *, grep: str | None = None,
                 rx: re.Pattern[bytes] | None = None) -> None:
        self.src = src
        self.keywords = keywords
        self.grep = grep
        self.rx = rx if rx is not None else anchored_regex(tuple(keywords))
        self.lines = 0
        self.nbytes = 0
        self._fd: int | None = None
        self._win = b""
        self._win_off = 0
        self._last = (0, 0)  # (line number, offset after it) of the last grep hit
        self._chunk = b""
        self._chunk_off = 0

    def line_at(self, off: int) -> bytes | None:
        """The raw line starting at byte ``off`` (without newline), or None past the end / unknown."""
        rel = off - self._chunk_off
        if 0 <= rel < len(self._chunk):
            e = self._chunk.find(b"\n", rel)
            return self._chunk[rel:e] if e >= 0 else self._chunk[rel:]
        if self._fd is None:
            return None
        rel = off - self._win_off
        win = self._win
        if not (0 <= rel and (e := win.find(b"\n", rel, rel + 512)) >= 0):
            # a read-ahead window: hits are dense, so one pread serves many of them
            win = self._win = os.pread(self._fd, max(WINDOW, 1024), off)
            self._win_off = off
            rel = 0
            e = win.find(b"\n", 0, 512)
            if e < 0:
                if len(win) >= 512 or not win:
                    return None  # past the end, or longer than any hard-wrapped tail
                return win  # a short read: the unterminated last line
        return win[rel:e]

    def batches(self) -> Iterator[HitBatch]:
        plain = (self.src.path is not None and not self.src.path.endswith((".gz", ".xz"))
                 and open_binary_magic(self.src.path) is None)
        if plain:
            assert self.src.path is not None
            try:
                self._fd = os.open(self.src.path, os.O_RDONLY)
            except OSError as oserr:
                raise UserError(f"{self.src.name}: cannot read ({oserr.strerror})") from None
        try:
            if self.grep is not None and plain:
                yield from self._grep_batches()
                self.lines, self.nbytes = count_lines(self.src, self._last)
            else:
                yield from self._re_batches()
        finally:
            self._win = b""
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _re_batches(self) -> Iterator[HitBatch]:
        fh = open_binary(self.src)
        rx = self.rx
        base = 0
        off = 0
        try:
            for chunk in _chunks(fh, self.src.name):
                self._chunk, self._chunk_off = chunk, off
                out: HitBatch = []
                counted_to = 0
                lines_before = base
                search = rx.search
                find = chunk.find
                m = search(chunk)
                while m is not None:
                    s = chunk.rfind(b"\n", 0, m.start()) + 1
                    e = find(b"\n", m.end())
                    if e < 0:
                        e = len(chunk)
                    lines_before += chunk.count(b"\n", counted_to, s)
                    counted_to = s
                    out.append((lines_before + 1, off + s, chunk[s:e]))
                    m = search(chunk, e + 1)
                if out:
                    yield out
                base += chunk.count(b"\n")
                off += len(chunk)
        finally:
            if self.src.path is not None:
                fh.close()
            self._chunk = b""
        self.lines, self.nbytes = base, off

    def _grep_batches(self) -> Iterator[HitBatch]:
        assert self.src.path is not None and self.grep is not None
        args = [self.grep, "-n", "-b", "-a", "-E", "-e", grep_pattern(self.keywords), "--", self.src.path]
        env = dict(os.environ, LC_ALL="C")
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # noqa: S603
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        _widen_pipe(fd)
        rx = _GREP_OUT
        try:
            rest = b""
            skipping = False
            while True:
                data = os.read(fd, 1 << 20)  # what is there: grep keeps scanning while we classify
                if not data:
                    break
                if skipping:  # still inside an absurdly long hit line: drop it up to its end
                    nl = data.find(b"\n")
                    if nl < 0:
                        continue
                    data = data[nl + 1:]
                    skipping = False
                buf = rest + data if rest else data
                cut = buf.rfind(b"\n") + 1
                rest = buf[cut:]
                if len(rest) > MAX_GREP_LINE:  # memory stays bounded whatever the input
                    rest = b""
                    skipping = True
                batch: HitBatch = rx.findall(buf, 0, cut)
                if batch:
                    last = hit_fields(batch[-1])
                    self._last = last[0], last[2]
                    yield batch
            if rest:
                batch = rx.findall(rest + b"\n")
                if batch:
                    last = hit_fields(batch[-1])
                    self._last = last[0], last[2]
                    yield batch
        finally:
            proc.stdout.close()
            err = proc.stderr.read() if proc.stderr is not None else b""
            rc = proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
        if rc > 1:
            raise UserError(f"{self.src.name}: cannot read ({decode(err).strip() or 'grep failed'})")


_GREP_OUT = re.compile(rb"(\d+):(\d+):([^\n]*)\n")


def _widen_pipe(fd: int) -> None:
    """Let the producer run ahead of us by up to 1 MiB (Linux; elsewhere a no-op)."""
    setsz = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setsz is None:
        return
    for size in (1 << 20, 256 << 10):
        try:
            fcntl.fcntl(fd, setsz, size)
            return
        except OSError:
            continue


def open_binary_magic(path: str) -> str | None:
    """``"gz"``/``"xz"`` when the file is compressed (by magic bytes), else None (also if unreadable)."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except OSError:
        return None
    if magic[:2] == b"\x1f\x8b":
        return "gz"
    if magic == b"\xfd7zXZ\x00":
        return "xz"
    return None
