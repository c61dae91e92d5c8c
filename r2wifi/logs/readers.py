"""Read log inputs: files, directories (recursive), ``.gz``/``.bz2``/``.xz``/``.zst``, stdin (``-``).

Theory of operation: :func:`expand` turns the user's paths into :class:`Source` objects (a
directory becomes its regular files, sorted, recursively). Every source is read as bytes in large
chunks (never a whole file at once) and split into lines; lines are decoded as UTF-8 with
replacement only when needed. Ways to consume a source:

* :func:`iter_lines` yields every ``(line_number, text)``: simple, for small inputs and stdin.
* :class:`Scan` (what ``diagnose`` uses on big files) yields *batches* of the lines containing a
  keyword, as raw bytes with their line number, so most lines are never looked at from Python
  and hits cost one tuple each. On plain files an external ``grep -E`` (one alternation of the
  keywords, GNU grep's DFA) does the scan in a child process on the other core while Python
  classifies; the pipe is widened so grep runs ahead. Elsewhere (compressed, stdin,
  ``R2WIFI_NO_GREP=1``, no grep) :func:`anchored_regex` scans each chunk in ``re``. The line
  after a hit (hard-wrap rejoining) is fetched only on demand (:meth:`Scan.line_at`) from the
  chunk or a small read-ahead window.
* :class:`ReverseLines` reads a newest-first source last line first: plain files backwards in
  chunks, anything else (compressed) spilled to a temporary file first.

Limits (the same on every path, so grep, pure Python and reverse reading agree):

* A line longer than :data:`MAX_LINE` (64 KiB) is cut to its first ``MAX_LINE`` bytes; the rest
  of it is skipped, and it still counts as one line. Keywords are matched in the kept part only.
* Decompressed output is capped per input (:func:`set_decompress_cap`; default
  :data:`DECOMPRESS_RATIO` times the compressed size, at least :data:`DECOMPRESS_FLOOR`) and so
  is the time spent decompressing (:data:`DECOMPRESS_SECONDS`); a cut input gets a note.
* Memory is bounded: one chunk (4 MiB plus one line), one 1 MiB pipe read, one 64 KiB window.

Rules: a missing input, or a FIFO, device or socket named directly, raises
:class:`~r2wifi.errors.UserError` naming it (exit 2). Inside a directory such special files,
dangling symlinks and unreadable files are skipped with a note. A corrupt or truncated compressed
stream, an unsupported compression or a read error is never an exception: what was read before is
kept and the source gets a one-line note in :attr:`Source.notes` naming the file. Line numbers are
1-based and count every line of the source.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

from r2wifi.errors import UserError
from r2wifi.fsutil import file_kind

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None  # type: ignore[assignment]

CHUNK = 4 << 20
WINDOW = 64 << 10  # read-ahead for the line after a hit (Scan.line_at)
MAX_LINE = 64 << 10  # longer lines are cut to this many bytes, on every path
DECOMPRESS_RATIO = 100  # default cap of a compressed input's output: this times its size ...
DECOMPRESS_FLOOR = 64 << 20  # ... but never below this
DECOMPRESS_SECONDS = 600.0  # decompressor time per input before it is cut
SKIP_NAMES = frozenset({"case.toml", "labels.toml"})
COMPRESSED_SUFFIXES = (".gz", ".xz", ".bz2", ".zst")
_decompress_cap: int | None = None  # None: DECOMPRESS_RATIO x size (see set_decompress_cap)


def set_decompress_cap(nbytes: int | None) -> None:
    """Cap every compressed input's output at ``nbytes`` (None: the ratio default)."""
    global _decompress_cap
    _decompress_cap = nbytes


def parse_size(text: str) -> int:
    """``"512M"``, ``"4G"``, ``"100000"`` -> bytes (K/M/G/T are binary); ValueError when not a size."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if m is None:
        raise ValueError(f"{text!r} is not a size (e.g. 512M, 4G)")
    return int(m.group(1)) << (10 * " KMGT".index(m.group(2).upper() or " "))


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # what evidence points at (path as given, or "-")
    path: str | None  # None for stdin
    stdin: TextIO | BinaryIO | None = None
    notes: list[str] = field(default_factory=list, compare=False)  # one-line problems met reading it

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def size(self) -> int | None:
        if self.path is None or self.path.endswith(COMPRESSED_SUFFIXES):
            return None
        try:
            return os.path.getsize(self.path)
        except OSError:
            return None


def _special(mode: int) -> str | None:
    """What a non-regular, non-directory file is ("a FIFO" ...), or None for a regular file/directory."""
    return None if stat.S_ISDIR(mode) else file_kind(mode)


def expand(paths: list[str], *, stdin: TextIO | BinaryIO | None = None,
           notes: list[str] | None = None) -> list[Source]:
    """Turn user paths into sources; directories are walked recursively (sorted).

    Special files (FIFOs, devices, sockets, symlinks to them), dangling symlinks and unreadable
    files found in a directory are skipped with a line appended to ``notes``.
    """
    out: list[Source] = []
    skipped = notes if notes is not None else []
    for p in paths:
        if p == "-":
            out.append(Source("-", None, stdin if stdin is not None else sys.stdin))
            continue
        try:
            st = os.stat(p)
        except FileNotFoundError:
            what = "dangling symlink" if os.path.islink(p) else "no such file or directory"
            raise UserError(f"{p}: {what}") from None
        except OSError as err:
            raise UserError(f"{p}: cannot read ({err.strerror})") from None
        if stat.S_ISDIR(st.st_mode):
            found: list[str] = []
            skipped_before = len(skipped)
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if f in SKIP_NAMES or f.startswith("."):
                        continue
                    full = os.path.join(root, f)
                    why = _skip_reason(full)
                    if why is not None:
                        skipped.append(f"{full}: skipped ({why})")
                        continue
                    found.append(full)
            if not found:
                mine = skipped[skipped_before:]
                extra = f" ({len(mine)} skipped; first: {mine[0]})" if mine else ""
                raise UserError(f"{p}: directory contains no log files{extra}")
            out.extend(Source(f, f) for f in found)
            continue
        special = _special(st.st_mode)
        if special is not None:
            raise UserError(f"{p}: is {special}, not a log file")
        if not os.access(p, os.R_OK):
            raise UserError(f"{p}: cannot read (permission denied)")
        out.append(Source(p, p))
    return out


def _skip_reason(path: str) -> str | None:
    """Why a file met inside a directory is not read, or None to read it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "dangling symlink" if os.path.islink(path) else "vanished"
    except OSError as err:
        return err.strerror or "cannot stat"
    special = _special(st.st_mode)
    if special is not None:
        return special + (" behind a symlink" if os.path.islink(path) else "")
    if stat.S_ISDIR(st.st_mode):
        return "directory"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return None


def open_regular(path: str) -> BinaryIO:
    """Open a regular file for reading without ever blocking on a FIFO or device put in its place."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        special = _special(os.fstat(fd).st_mode)
        if special is not None:
            raise UserError(f"{path}: is {special}, not a log file")
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def compression_of(magic: bytes) -> str | None:
    """``"gz"``/``"bz2"``/``"xz"``/``"zst"`` from a file's first bytes, else None."""
    if magic[:2] == b"\x1f\x8b":
        return "gz"
    if magic[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if magic[:3] == b"BZh" and magic[3:4].isdigit():
        return "bz2"
    if magic[:4] == b"\x28\xb5\x2f\xfd":
        return "zst"
    return None


_FORMAT_NAME = {"gz": "gzip", "xz": "xz", "bz2": "bzip2", "zst": "zstd"}


def open_binary(src: Source) -> BinaryIO:
    """Open a source for binary reading, decompressing gzip/bzip2/xz/zstd (detected by magic bytes).

    A compressed source comes back bounded (:class:`_Bounded`); a problem opening it is a note on
    ``src`` and an empty stream. A plain file that cannot be opened raises UserError.
    """
    if src.path is None:
        s = src.stdin
        buf = getattr(s, "buffer", None)
        if buf is not None:
            return buf
        return _TextAsBinary(s)  # type: ignore[arg-type,return-value]
    try:
        fh = open_regular(src.path)
    except OSError as err:
        raise UserError(f"{src.path}: cannot read ({err.strerror})") from None
    try:
        magic = fh.peek(6)[:6] if hasattr(fh, "peek") else b""
    except OSError as err:
        fh.close()
        raise UserError(f"{src.path}: cannot read ({err.strerror})") from None
    kind = compression_of(magic)
    if kind is None:
        return fh
    size = os.fstat(fh.fileno()).st_size
    cap = _decompress_cap if _decompress_cap is not None else max(DECOMPRESS_FLOOR, DECOMPRESS_RATIO * size)
    try:
        inner: Any
        if kind == "gz":
            inner = gzip.GzipFile(fileobj=fh, mode="rb")
        elif kind == "xz":
            inner = lzma.LZMAFile(fh, mode="rb")
        elif kind == "bz2":
            inner = bz2.BZ2File(fh, mode="rb")
        else:
            inner = _zstd_reader(fh)
    except _ZstdMissing:
        fh.close()
        src.note(f"{src.name}: zstd-compressed, and the zstandard module is missing "
                 "(install python3-zstandard, or pip install zstandard); not read")
        return _Empty()  # type: ignore[return-value]
    except Exception as err:  # noqa: BLE001 - any decompressor failure is a note, never a traceback
        fh.close()
        src.note(f"{src.name}: cannot open {_FORMAT_NAME[kind]} data ({_one_line(err)}); not read")
        return _Empty()  # type: ignore[return-value]
    return _Bounded(inner, fh, src, _FORMAT_NAME[kind], cap)  # type: ignore[return-value]


class _ZstdMissing(Exception):
    pass


def _zstd_reader(fh: BinaryIO) -> Any:
    try:
        import zstandard  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise _ZstdMissing() from None
    dctx = zstandard.ZstdDecompressor()
    try:
        return dctx.stream_reader(fh, read_across_frames=True)
    except TypeError:  # zstandard < 0.14: one frame per read
        return dctx.stream_reader(fh)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:200]


class _Empty:
    def read(self, n: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass


class _Bounded:
    """A decompressor's output, cut at ``cap`` bytes or :data:`DECOMPRESS_SECONDS`; errors become notes."""

    def __init__(self, inner: Any, raw: BinaryIO, src: Source, fmt: str, cap: int) -> None:
        self._inner = inner
        self._raw = raw
        self._src = src
        self._fmt = fmt
        self._cap = cap
        self._out = 0
        self._spent = 0.0
        self._done = False

    def read(self, n: int = -1) -> bytes:
        if self._done:
            return b""
        want = self._cap - self._out
        if n >= 0:
            want = min(want, n)
        if want <= 0:
            self._cut(f"output cut at {_human(self._cap)} (the decompression cap; see --max-decompressed)")
            return b""
        t0 = time.monotonic()
        # read1 in a loop, not read(want): a stream that breaks mid-way still hands over what came before
        read1 = getattr(self._inner, "read1", self._inner.read)
        parts: list[bytes] = []
        got = 0
        while got < want:
            try:
                data: bytes = read1(want - got)
            except Exception as err:  # noqa: BLE001 - zlib.error, EOFError, LZMAError, OSError, ZstdError ...
                self._cut(f"corrupt or truncated {self._fmt} data after {_human(self._out + got)} "
                          f"({_one_line(err)}); the rest is not read")
                break
            if not data:
                self._done = True
                break
            parts.append(data)
            got += len(data)
        self._spent += time.monotonic() - t0
        self._out += got
        if self._spent > DECOMPRESS_SECONDS and not self._done:
            self._cut(f"decompression cut after {DECOMPRESS_SECONDS:.0f} s ({_human(self._out)} read)")
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _cut(self, why: str) -> None:
        self._done = True
        self._src.note(f"{self._src.name}: {why}")

    def close(self) -> None:
        try:
            self._inner.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken stream must not raise
            pass
        self._raw.close()


def _human(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.0f} {unit}"
    return f"{n} bytes"


class _TextAsBinary:
    """Adapter: a text stream (e.g. io.StringIO given as stdin) read as UTF-8 bytes."""

    def __init__(self, s: TextIO) -> None:
        self._s = s

    def read(self, n: int = -1) -> bytes:
        return self._s.read(n if n > 0 else -1).encode("utf-8", "replace")

    def close(self) -> None:
        pass


def _long_lines(buf: bytes, n: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of every line of ``buf[:n]`` longer than :data:`MAX_LINE` (end: its newline or n).

    Cheap: only the lines around every ``MAX_LINE``-th byte are looked at (a longer line
    contains one of those positions), with two C-level searches each.
    """
    m = MAX_LINE
    done = 0  # buf[:done] is handled; a line starts there
    i = m
    while i < n:
        s = buf.rfind(b"\n", done, i)
        s = done if s < 0 else s + 1
        e = buf.find(b"\n", i, n)
        if e < 0:
            e = n
        if e - s > m:
            yield s, e
            done = e + 1
            i = done + m
        else:
            i += m


def has_long_line(buf: bytes, n: int) -> bool:
    """True when ``buf[:n]`` holds a line longer than :data:`MAX_LINE`."""
    return n > MAX_LINE and next(_long_lines(buf, n), None) is not None


def clip_lines(buf: bytes) -> bytes:
    """``buf`` with every line longer than :data:`MAX_LINE` cut to its first ``MAX_LINE`` bytes."""
    if len(buf) <= MAX_LINE:
        return buf
    pieces: list[bytes] = []
    done = 0
    for s, e in _long_lines(buf, len(buf)):
        pieces.append(buf[done:s + MAX_LINE])
        done = e
    if not pieces:
        return buf
    pieces.append(buf[done:])
    return b"".join(pieces)


class _Chunker:
    """Chunks of a stream that end on a line boundary (the last one may not); lines clipped.

    ``consumed`` counts the bytes of the stream read so far (before clipping); ``dropped`` the
    bytes clipped away, so ``consumed - dropped`` is the offset of the next chunk in the stream
    of chunks.
    """

    def __init__(self, fh: BinaryIO, name: str) -> None:
        self.fh = fh
        self.name = name
        self.consumed = 0
        self.dropped = 0
        self.chunk_end = 0  # stream offset just after the last chunk yielded

    def __iter__(self) -> Iterator[bytes]:
        rest = b""
        skipping = False  # inside a line already cut: drop bytes up to its newline
        m = MAX_LINE
        while True:
            try:
                data = self.fh.read(CHUNK)
            except (OSError, ValueError) as err:
                raise UserError(f"{self.name}: cannot read ({_one_line(err)})") from None
            if not data:
                break
            self.consumed += len(data)
            if skipping:
                nl = data.find(b"\n")
                if nl < 0:
                    self.dropped += len(data)
                    continue
                self.dropped += nl
                data = data[nl:]
                skipping = False
            data = rest + data if rest else data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if len(rest) > m:
                self.dropped += len(rest) - m
                rest = rest[:m]
                skipping = True
            if cut:
                body = data[:cut]
                clipped = clip_lines(body)
                self.dropped += len(body) - len(clipped)
                self.chunk_end = self.consumed - (len(data) - cut)
                yield clipped
        if rest:
            self.chunk_end = self.consumed
            yield rest + b"\n"


def _chunks(fh: BinaryIO, name: str) -> Iterator[bytes]:
    """Yield chunks that end on a line boundary (the last one may not), long lines clipped."""
    return iter(_Chunker(fh, name))


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


def lines_at(src: Source, wanted: set[int], *, limit: int = 400) -> dict[int, str]:
    """The text of the ``wanted`` line numbers of a source (cut to ``limit`` characters).

    Streams the source only up to the last wanted line; stdin cannot be read again (empty).
    """
    if src.path is None or not wanted:
        return {}
    out: dict[int, str] = {}
    last = max(wanted)
    it = iter_lines(src)
    try:
        for n, text in it:
            if n in wanted:
                out[n] = text[:limit]
            if n >= last:
                break
    finally:
        it.close()  # type: ignore[attr-defined]
    return out


def looks_binary(src: Source) -> bool:
    """True when the first 4 KiB of a source hold NUL bytes or are mostly not text."""
    if src.path is None:
        return False
    try:
        fh = open_binary(src)
    except UserError:
        return False
    try:
        head = fh.read(4096)
    except Exception:  # noqa: BLE001 - a broken stream is reported elsewhere
        return False
    finally:
        fh.close()
    if not head:
        return False
    if b"\x00" in head:
        return True
    text = sum(1 for c in head if c >= 32 or c in (9, 10, 13))
    return text < 0.7 * len(head)


class ReverseLines:
    """The lines of a source from last to first, ``(line number, text)``, in bounded memory.

    A plain file is read backwards in chunks (after one forward pass that counts its lines, and
    feeds ``learn`` every line in file order when given); anything else (compressed) is first
    spilled, decompressed and clipped, to a temporary file that is then read backwards. Lines
    are clipped at :data:`MAX_LINE` exactly as when reading forwards. With ``keep``, only lines
    it finds something in are decoded and yielded (the others are still counted).
    """

    def __init__(self, src: Source, *, learn: Callable[[str], None] | None = None,
                 keep: re.Pattern[bytes] | None = None) -> None:
        self.src = src
        self.learn = learn
        self.keep = keep
        self.lines = 0
        self.nbytes = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        src = self.src
        assert src.path is not None
        spill: Any = None
        try:
            with open_regular(src.path) as probe:
                plain = compression_of(probe.read(6)) is None
            if not plain or self.learn is not None:
                # one forward pass: learn every line in file order, spill what is not a plain file
                if not plain:
                    spill = tempfile.TemporaryFile(prefix="r2wifi-reverse-")  # noqa: SIM115 - closed below
                n = 0
                fh = open_binary(src)
                try:
                    chunker = _Chunker(fh, src.name)
                    for chunk in chunker:
                        if spill is not None:
                            spill.write(chunk)
                        if self.learn is not None:
                            for b in chunk.split(b"\n")[:-1]:
                                self.learn(decode(b.rstrip(b"\r")))
                        n += chunk.count(b"\n")
                    self.nbytes = chunker.consumed
                finally:
                    fh.close()
                self.lines = n
            else:
                self.lines, self.nbytes = count_lines(src)
            if spill is not None:
                spill.flush()
                fd = os.dup(spill.fileno())
            else:
                fd = os.open(src.path, os.O_RDONLY)
        except OSError as err:
            if spill is not None:
                spill.close()
            raise UserError(f"{src.name}: cannot read ({err.strerror})") from None
        try:
            size = os.fstat(fd).st_size
            yield from self._backwards(fd, size)
        finally:
            os.close(fd)
            if spill is not None:
                spill.close()

    def _backwards(self, fd: int, size: int) -> Iterator[tuple[int, str]]:
        m = MAX_LINE
        keep = self.keep
        end = size
        if end and os.pread(fd, 1, end - 1) == b"\n":
            end -= 1  # the final newline ends the last line; nothing follows it
        elif not end:
            return
        lineno = self.lines
        pos = end
        tail = b""  # the end of the line that continues before pos (when short enough to keep)
        long_line = False  # that line is already longer than MAX_LINE: only its head will be read

        def emit(raw: bytes, n: int) -> tuple[int, str] | None:
            if keep is not None and keep.search(raw) is None:
                return None
            return n, decode(raw.rstrip(b"\r"))

        while pos > 0:
            start = max(0, pos - CHUNK)
            block = os.pread(fd, pos - start, start)
            buf = block if long_line else block + tail
            i = len(buf)
            j = buf.rfind(b"\n", 0, i)
            while j >= 0:
                if long_line:
                    raw = os.pread(fd, m, start + j + 1)
                    long_line = False
                else:
                    raw = buf[j + 1:i]
                    if len(raw) > m:
                        raw = raw[:m]
                got = emit(raw, lineno)
                if got is not None:
                    yield got
                lineno -= 1
                i = j
                j = buf.rfind(b"\n", 0, i)
            if not long_line:
                tail = buf[:i]
                if len(tail) > m:
                    long_line = True
                    tail = b""
            pos = start
        raw = os.pread(fd, m, 0) if long_line else tail[:m]
        got = emit(raw, lineno)
        if got is not None:
            yield got


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
    with open_regular(src.path) as fh:
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
        self._delta = 0  # real file offset minus chunk-stream offset after the current chunk (clipped lines)

    def line_at(self, off: int) -> bytes | None:
        """The raw line starting at byte ``off`` (without newline), or None past the end / unknown."""
        rel = off - self._chunk_off
        if 0 <= rel < len(self._chunk):
            e = self._chunk.find(b"\n", rel)
            return self._chunk[rel:e] if e >= 0 else self._chunk[rel:]
        if self._fd is None:
            return None
        off += self._delta
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
        plain = (self.src.path is not None and not self.src.path.endswith(COMPRESSED_SUFFIXES)
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
        chunker = _Chunker(fh, self.src.name)
        try:
            for chunk in chunker:
                self._chunk, self._chunk_off = chunk, off
                self._delta = chunker.chunk_end - (off + len(chunk))
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
            self._delta = 0
        self.lines, self.nbytes = base, chunker.consumed

    def _grep_batches(self) -> Iterator[HitBatch]:
        assert self.src.path is not None and self.grep is not None
        args = [self.grep, "-n", "-b", "-a", "-E", "-e", grep_pattern(self.keywords), "--", self.src.path]
        env = dict(os.environ, LC_ALL="C")
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # noqa: S603
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        _widen_pipe(fd)
        rx = _GREP_OUT
        keep = MAX_LINE + 64  # "line:offset:" then the first MAX_LINE bytes of the line
        try:
            rest = b""
            skipping = False
            while True:
                data = os.read(fd, 1 << 20)  # what is there: grep keeps scanning while we classify
                if not data:
                    break
                if skipping:  # inside a hit line longer than MAX_LINE: drop it up to its end
                    nl = data.find(b"\n")
                    if nl < 0:
                        continue
                    data = data[nl:]
                    skipping = False
                buf = rest + data if rest else data
                cut = buf.rfind(b"\n") + 1
                rest = buf[cut:]
                if len(rest) > keep:  # memory stays bounded whatever the input
                    rest = rest[:keep]
                    skipping = True
                batch: HitBatch = rx.findall(buf, 0, cut)
                if batch:
                    if cut > MAX_LINE and has_long_line(buf, cut):
                        batch = self._clip_hits(batch)
                    else:
                        last = hit_fields(batch[-1])
                        self._last = last[0], last[2]
                    if batch:
                        yield batch
            if rest:
                batch = self._clip_hits(rx.findall(rest + b"\n"))
                if batch:
                    yield batch
        finally:
            proc.stdout.close()
            err = proc.stderr.read() if proc.stderr is not None else b""
            rc = proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
        if rc > 1:
            raise UserError(f"{self.src.name}: cannot read ({decode(err).strip() or 'grep failed'})")

    def _clip_hits(self, batch: HitBatch) -> HitBatch:
        """Hits with lines over MAX_LINE cut as the Python path cuts them (dropped if no keyword is left).

        Also records where the last hit's line ends (or, for a cut line, where it starts), for
        :func:`count_lines`.
        """
        out: HitBatch = []
        m = MAX_LINE
        for hit in batch:
            raw = hit[2]
            if len(raw) > m:
                raw = raw[:m]
                self._last = int(hit[0]) - 1, int(hit[1])  # the cut line's true end is unknown here
                if self.rx.search(raw) is not None:
                    out.append((hit[0], hit[1], raw))
            else:
                out.append(hit)
                last = hit_fields(hit)
                self._last = last[0], last[2]
        return out


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
    """The compression of a file by its magic bytes (:func:`compression_of`), else None (also if unreadable)."""
    try:
        with open_regular(path) as fh:
            magic = fh.read(6)
    except (OSError, UserError):
        return None
    return compression_of(magic)
