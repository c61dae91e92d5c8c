"""The prefilter keywords: a small set of literal substrings that every catalogued line contains.

``diagnose`` hands only the lines holding one of :func:`cover`'s keywords to Python (external ``grep -E``
or a compiled regex): the fewer and the rarer the keywords, the faster. The keywords are *derived* from
the one home of each message (the catalogues' formats and the event rules' needles), never listed by
hand: :func:`cover` picks, greedily, the literal token shared by the most not-yet-covered messages,
skipping tokens so common in real logs that they would let most debug lines through (:data:`COMMON`,
measured on the corpus with ``tools/gen_catalog.py --common``). A message without an allowed token keeps
its longest literal piece. Every message contains one of the keywords (checked by the tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_TOKEN = 5  # shorter tokens match too much (and grep gains nothing from them)
MIN_WORD = 9  # a plain lowercase word ("current", "queue", "after") must be this long: shorter ones are prose

# Tokens of catalogued messages found in more than 0.1% of the corpus lines that are NOT catalogued (noise a
# keyword would let through); tools/gen_catalog.py --common recomputes this list from shared/corpus.
COMMON: frozenset[str] = frozenset({
    "AP-STA-CONNECTED", "Channel", "Deauth", "Driver", "EAPOL-Key", "Register", "Timeout", "already",
    "authenticate", "authenticated", "available", "beacon", "change", "channel", "command", "common", "config",
    "connect", "control", "counter", "current", "deauth", "deinit", "device", "disabled", "disconnect", "driver",
    "entering", "entropy", "error", "failed", "file:", "firmware", "flags", "found", "frame", "group", "hardware",
    "hostapd", "ifname=", "inactivity", "init:", "interface", "kernel", "length", "machine", "message", "nl80211:",
    "operation", "pairwise", "passphrase", "power", "process", "queue", "random", "ready", "reason", "receive",
    "received", "register", "remove", "replay", "request", "retry", "rfkill:", "set_key", "setting", "setup",
    "start", "state", "support", "supported", "timeout", "version",
})


def literals(fmt: str) -> list[str]:
    """The literal pieces of a ``{field}`` format (a plain string is one piece)."""
    return [p for p in re.split(r"\{[^{}]*\}", fmt) if p.strip()]


# a MediaTek ``[TAG][L]func(line):`` header: level, function and line vary (r2wifi.logs.catalog.wmt), so
# only the tag and the text after the header can be keywords
_HEADER = re.compile(r"^(\[?[A-Z0-9-]+\]?)\[[EWIDL]\]\w+(?:\(\{line\}\))?:")


def tokens(fmt: str) -> set[str]:
    head = _HEADER.match(fmt)
    extra: set[str] = set()
    if head is not None:
        extra.add(head.group(1))
        fmt = fmt[head.end():]
    return extra | {t for piece in literals(fmt) for t in piece.split() if _keyword_like(t)}


def _keyword_like(t: str) -> bool:
    if len(t) < MIN_TOKEN or t in COMMON:
        return False
    return len(t) >= MIN_WORD or not (t.isalpha() and t.islower())


def cover(formats: Iterable[str]) -> tuple[str, ...]:
    """Keywords such that every format's literal text contains at least one (greedy set cover)."""
    todo: dict[str, set[str]] = {}
    out: list[str] = []
    for fmt in formats:
        toks = tokens(fmt)
        if toks:
            todo[fmt] = toks
        else:
            head = _HEADER.match(fmt)
            pieces = [p.strip() for p in literals(fmt[head.end():] if head else fmt)] or [fmt]
            out.append(max(pieces, key=len))
    while todo:
        counts: dict[str, int] = {}
        for toks in todo.values():
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
        best = max(counts, key=lambda t: (counts[t], len(t), t))
        out.append(best)
        todo = {f: t for f, t in todo.items() if best not in t}
    # a keyword that contains another one is redundant
    uniq = sorted(set(out), key=len)
    kept: list[str] = []
    for k in uniq:
        if not any(s in k for s in kept):
            kept.append(k)
    return tuple(sorted(kept))


def covered(keywords: Iterable[str], text: str) -> bool:
    return any(k in text for k in keywords)


def common_tokens(formats: Iterable[str], lines: list[str], is_known: object, share: float = 0.001) -> list[str]:
    """Tokens of ``formats`` found in more than ``share`` of the ``lines`` that ``is_known(line)`` says are not
    catalogued: the noise each would let through the prefilter (how :data:`COMMON` is measured)."""
    cand = {t for f in formats for piece in literals(f) for t in piece.split() if len(t) >= MIN_TOKEN}
    noise = dict.fromkeys(cand, 0)
    for line in lines:
        if is_known(line):  # type: ignore[operator]
            continue
        for t in cand:
            if t in line:
                noise[t] += 1
    return sorted(t for t, n in noise.items() if n > share * len(lines))


def any_of(words: Iterable[str]) -> re.Pattern[str]:
    """One regex whose ``search`` finds whether any of ``words`` occurs (the same answer as the plain
    alternation), built as a prefix trie: ``re`` then checks one set of first characters per position and
    follows one branch per character instead of trying every word in turn (a plain alternation of a few
    hundred keywords costs tens of microseconds per message)."""
    def build(ws: list[str], i: int) -> str:
        if any(len(w) == i for w in ws):
            return ""  # a word ends here: any longer one sharing this prefix matches too late to matter
        nxt: dict[str, list[str]] = {}
        for w in ws:
            nxt.setdefault(w[i], []).append(w)
        alts = [re.escape(c) + build(sub, i + 1) for c, sub in sorted(nxt.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    uniq = sorted({w for w in words if w})
    return re.compile(build(uniq, 0) if uniq else r"(?!)")
