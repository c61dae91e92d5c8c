"""Redaction of logs and diagnosis results before they are shared (forum post, support bundle).

Theory of operation: a :class:`Redactor` is used in two passes.

1. *Learn*: every raw input line goes through :meth:`Redactor.learn_line`. It collects the names
   that only context reveals (SSIDs from ``ssid "..."`` / ``ssid=`` / ``SSID='...'``, host names
   from the syslog host field, ``hostname=``, shell prompts and dnsmasq DHCP lines) and notes
   the MAC and IP addresses in order of first appearance, so that pseudonyms are numbered in
   log order (deterministic across runs over the same input, whatever order the report is
   rendered in later).
2. *Redact*: :meth:`Redactor.redact_text` rewrites one string; :meth:`Redactor.redact_obj`
   deep-copies a JSON-like object with every string (and every dict key) redacted.

Rules:

* Secrets are ALWAYS removed, learned or not: values of ``wpa_passphrase=``, ``psk=``,
  ``sae_password=``, ``password=``, ``wep_key0=``, ``*_secret=``, ``identity=`` ... (``=`` or
  ``:``), and the payload of every ``hexdump(len=N):`` / ``hexdump_ascii`` line (keys, nonces,
  PMKs with ``-K``, and MACs/SSIDs inside frames). Their value becomes ``[REDACTED]``.
* MAC addresses in every notation (``aa:bb:..``, ``aa-bb-..``, ``aabb.ccdd.eeff``, bare 12 hex
  digits, upper or lower case, and inside interface names such as ``wlx00c0ca6ae42e``) become locally administered pseudonyms ``02:00:00:00:00:01``,
  ``02:00:00:00:00:02`` ... (still MAC-shaped, so a redacted log can be diagnosed again; never a
  vendor address; never equal to an input MAC seen while learning). Matching is deliberately
  loose (no word boundaries) so no MAC-shaped substring survives.
* Placeholders carry no information and stay as they are (``XX:XX:XX:XX:XX:XX``,
  ``xx:xx:..``), as do ``00:00:00:00:00:00`` and ``ff:ff:ff:ff:ff:ff`` (they mean something:
  driver-generated / broadcast). Partial placeholders (``1e:e3:0e:49:xx:yy``) keep their
  placeholder octets; the real octets are replaced by a per-shape counter (``02:00:00:01:xx:yy``).
* IPv4 addresses become documentation addresses ``192.0.2.N`` (then ``198.18.x.y``), IPv6 ones
  ``2001:db8::N``; unspecified, loopback, broadcast and netmasks are kept.
* Learned SSIDs become ``ssid-N``, host names ``host-N`` and user names (shell prompts,
  ``/home/<user>``; not generic ones such as root or pi) ``user-N``, matched case-sensitively as
  whole words.
* Pseudonyms depend only on the order in which values are first seen (learn pass first), or,
  when a ``key`` is given, on a keyed hash (stable across different inputs that share the key).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import ipaddress
import itertools
import os
import re

REDACTED = "[REDACTED]"

_HEX = "0-9A-Fa-f"
# --- secrets --------------------------------------------------------------------------------
# The key name must start the word or follow "_" (wpa_passphrase, auth_server_shared_secret);
# that is checked in _secret_sub because a variable-width prefix makes the scan slow.
_SECRET_RE = re.compile(
    r"(passphrase|password|passwd|psk|pmk|secret|wep_key\d?|pin|identity)(\s*[=:]\s*)"
    r"(\"(?:[^\"\\\n]|\\.)*\"?|'[^'\n]*'?|[^\n]*)",
    re.IGNORECASE,
)
_HEXDUMP_RE = re.compile(r"(hexdump(?:_ascii)?\(len=\d+\):)([^\n]*)", re.IGNORECASE)
# continuation line of hexdump_ascii: indented hex bytes, then the ASCII column
_HEXDUMP_CONT_RE = re.compile(rf"^([ \t]+)(?:[{_HEX}]{{2}} ){{1,16}}[ \t]+[^\n]*$", re.MULTILINE)
# --- MAC addresses ----------------------------------------------------------------------------
_OCT = rf"[{_HEX}xXyYzZ*?]{{2}}"  # hex or placeholder octet
_LONG_RUN_RE = re.compile(rf"{_OCT}(?:[:-]{_OCT}){{6,}}")  # more than 6 octets: a byte string
_MAC_SEP_RE = re.compile(rf"{_OCT}[:-]{_OCT}[:-]{_OCT}[:-]{_OCT}[:-]{_OCT}[:-]{_OCT}")
_MAC_DOT_RE = re.compile(rf"(?<![{_HEX}.])[{_HEX}]{{4}}\.[{_HEX}]{{4}}\.[{_HEX}]{{4}}(?![{_HEX}.])")
# bare 12 hex digits, also inside systemd interface names that embed the MAC (wlx00c0ca6ae42e, enx...)
_MAC_BARE_RE = re.compile(r"(?:(?<![0-9A-Za-z])|(?<=\bwlx)|(?<=\benx))[0-9A-Fa-f]{12}(?![0-9A-Za-z])")
_SPECIAL_MACS = frozenset({"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
# --- IP addresses -----------------------------------------------------------------------------
_IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9]|\.[0-9])")
_IPV6_RE = re.compile(
    rf"(?<![{_HEX}:.-])(?:[{_HEX}]{{0,4}}:){{2,7}}(?:[{_HEX}]{{1,4}}|(?:\d{{1,3}}\.){{3}}\d{{1,3}})?"
    rf"(?![{_HEX}:-])"
)
# --- learnable names --------------------------------------------------------------------------
# Linear time whatever the line (no nested or unbounded lazy quantifiers, nothing that rescans the
# rest of the line from every candidate): quoted values are bounded by the longest SSID as printed
# (32 bytes, each escaped as \xNN at most: 128 characters); end-of-line values are taken greedily and
# their trailing blanks stripped in Python (see _ssid_value).
_SSID_MAX = 128
_SSID_PATTERNS = (
    re.compile(rf"\bssid2? \"((?:[^\"\\\n]|\\.){{1,{_SSID_MAX}}})\""),  # hostapd: and ssid "x"
    re.compile(rf"\bssid2? '([^'\n]{{1,{_SSID_MAX}}})'"),  # old hostapd: and ssid 'x'
    re.compile(rf"\b(?:ssid2?|SSID)=\"((?:[^\"\\\n]|\\.){{1,{_SSID_MAX}}})\""),  # ssid="x" (config, ctrl events)
    re.compile(rf"\b(?:ssid2?|SSID)='([^'\n]{{1,{_SSID_MAX}}})'"),  # wpa_supplicant (SSID='x' freq=...)
    re.compile(r"(?:^|(?<=[\s:]))(?:ssid2?|SSID)=(?!\")([^\s\"'][^\n]*)", re.MULTILINE),  # ssid=x (EOL)
    re.compile(rf"\bESSID:\"((?:[^\"\\\n]|\\.){{1,{_SSID_MAX}}})\""),  # iwconfig
    re.compile(r"^[ \t]*SSID: (\S[^\n]*)", re.MULTILINE),  # iw scan / iw dev info
    re.compile(r"^[ \t]+ssid (\S[^\n]*)", re.MULTILINE),  # iw dev: "\tssid MyNet"
)
_CHUNK = 1 << 18  # characters of raw lines scanned together for addresses
_SSID_HINT = re.compile("ssid", re.IGNORECASE)
_MONTHS = (
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|[A-Za-z\u00c0-\u024f]{3,9}\.?)"
)
_HOST_PATTERNS: tuple[tuple[re.Pattern[str], str | None], ...] = (  # (pattern, substring it needs)
    # rsyslog / journald traditional: "May  3 15:57:16 akacja hostapd[12]: ..."
    (re.compile(rf"^\s*{_MONTHS} {{1,2}}\d{{1,2}} \d\d:\d\d:\d\d(?:\.\d+)? ([^\s:|]+) [\w./@()-]+(?:\[\d+\])?:"), None),
    # RFC3339: "2024-02-09T15:55:10.360700+01:00 THE_SYSTEM kernel: ..."
    (re.compile(r"^\s*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)? ([^\s:|]+) [\w./@()-]+(?:\[\d+\])?:"), "T"),
    (re.compile(r"\bhostname[=:][ \t]{0,16}\"?([A-Za-z0-9][A-Za-z0-9._-]{0,252})"), "hostname"),
    (re.compile(r"(?<![a-z0-9_-])[a-z_][a-z0-9_-]{0,31}@([A-Za-z0-9][A-Za-z0-9._-]{0,252})[:~ ]"), "@"),  # user@host:~$
    # dnsmasq: DHCPACK(wlan0) 192.168.4.2 aa:bb:cc:dd:ee:ff phone-name
    (re.compile(rf"\bDHCP(?:ACK|OFFER|REQUEST|INFORM)\([^)\n]{{0,64}}\) [^\s]{{1,64}} [{_HEX}:-]{{17}} "
                r"([A-Za-z0-9][A-Za-z0-9._-]{0,252})"), "DHCP"),
)
_NOT_HOSTS = frozenset({"localhost", "kernel", "hostapd", "wpa_supplicant", "-", "(none)", "none"})
# user names: shell prompts (user@host:~$) and home directories; generic accounts identify nobody
_USER_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:^|\s)([a-z_][a-z0-9_-]{1,31})@[A-Za-z0-9][A-Za-z0-9._-]*[:~ ]"), "@"),
    (re.compile(r"/home/([a-z_][a-z0-9_-]{1,31})(?:/|\b)"), "/home/"),
)
_NOT_USERS = frozenset({"root", "pi", "user", "admin", "ubuntu", "debian", "alarm", "guest", "home"})
_MAC_ANY_RE = re.compile(rf"[{_HEX}]{{2}}(?:[:-][{_HEX}]{{2}}){{5}}")


def _ssid_value(value: str) -> str:
    """A captured SSID without trailing blanks; "" when too long to be one (an end-of-line capture)."""
    value = value.rstrip()
    return value if len(value) <= _SSID_MAX else ""


def _norm_mac(token: str) -> str:
    """Canonical lower-case colon form of a MAC token in any notation (placeholders kept)."""
    t = token.lower()
    if "." in t or (len(t) == 12 and ":" not in t and "-" not in t):
        h = t.replace(".", "")
        return ":".join(h[i : i + 2] for i in range(0, 12, 2))
    return t.replace("-", ":")


def _is_real_octet(o: str) -> bool:
    return all(c in "0123456789abcdef" for c in o)


class Redactor:
    """Consistent pseudonyms for MACs, IPs, SSIDs and host names; secrets always removed."""

    def __init__(self, *, key: bytes | None = None) -> None:
        self._key = key
        self._ssids: dict[str, None] = {}  # ordered sets
        self._hosts: dict[str, None] = {}
        self._users: dict[str, None] = {}
        self._seen_macs: dict[str, None] = {}
        self._seen_ips: dict[str, None] = {}
        self._mac_map: dict[str, str] = {}
        self._ip_map: dict[str, str] = {}
        self._name_map: dict[str, str] = {}
        self._used: set[str] = set()
        self._counters: dict[str, int] = {}
        self._names_re: re.Pattern[str] | None = None
        self._variant_of: dict[str, str] = {}
        self._names_dirty = True
        self._learn_dirty = False
        self._pending: list[str] = []
        self._pending_size = 0

    # ---------------------------------------------------------------- learning
    @property
    def ssids(self) -> list[str]:
        """SSIDs learned so far (in order of first appearance)."""
        return list(self._ssids)

    @property
    def hosts(self) -> list[str]:
        """Host names learned so far (in order of first appearance)."""
        return list(self._hosts)

    @property
    def users(self) -> list[str]:
        """User names learned so far (in order of first appearance)."""
        return list(self._users)

    def add_ssid(self, ssid: str) -> None:
        """Register an SSID known from elsewhere (e.g. the r2wifi config)."""
        ssid = ssid.strip()
        if ssid and ssid not in self._ssids:
            self._ssids[ssid] = None
            self._names_dirty = True

    def add_host(self, host: str) -> None:
        """Register a host name known from elsewhere (e.g. ``socket.gethostname()``)."""
        host = host.strip()
        if host and host.lower() not in _NOT_HOSTS and host not in self._hosts:
            if _MAC_ANY_RE.fullmatch(host) or _IPV4_RE.fullmatch(host):
                return
            self._hosts[host] = None
            self._names_dirty = True

    def add_user(self, user: str) -> None:
        """Register a user name (shell prompt, home directory); replaced like a host name."""
        user = user.strip()
        if user and user not in self._users:
            self._users[user] = None
            self._names_dirty = True

    def learn_path(self, path: str) -> None:
        """Learn the user names in an input path (``/home/<user>/...``), given or made absolute."""
        self.learn_line(path)
        if path != "-":
            self.learn_line(os.path.abspath(path))

    def learn_line(self, raw: str) -> None:
        """Learn SSIDs, host names and the order of MAC/IP addresses from one raw log line."""
        if len(raw) > 65536:
            raw = raw[:65536]
        if _SSID_HINT.search(raw):
            for pat in _SSID_PATTERNS:
                for m in pat.finditer(raw):
                    value = _ssid_value(m.group(1))
                    if value and value not in ("[REMOVED]", "(null)") and not value.startswith("hexdump"):
                        self.add_ssid(value)
        for pat, hint in _HOST_PATTERNS:
            if hint is None or hint in raw:
                hm = pat.search(raw)
                if hm:
                    self.add_host(hm.group(1))
        for pat, hint in _USER_PATTERNS:
            if hint in raw:
                for um in pat.finditer(raw):
                    if um.group(1) not in _NOT_USERS:
                        self.add_user(um.group(1))
        # addresses are scanned in chunks: one regex pass over many lines is far cheaper
        self._pending.append(raw)
        self._pending_size += len(raw)
        if self._pending_size >= _CHUNK:
            self._flush_learned()

    def _flush_learned(self) -> None:
        if not self._pending:
            return
        chunk = "\n".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        for mac_token in _MAC_SEP_RE.findall(chunk):
            mac = _norm_mac(mac_token)
            if mac not in self._seen_macs:
                self._seen_macs[mac] = None
                self._learn_dirty = True
        for ip in _IPV4_RE.findall(chunk):
            if ip not in self._seen_ips:
                self._seen_ips[ip] = None
                self._learn_dirty = True

    # ---------------------------------------------------------------- pseudonyms
    def _number(self, family: str, value: str, attempt: int) -> int:
        """A number for ``value``: first-seen order, or (with a key) a keyed hash of the value.

        ``attempt`` counts retries after a collision with a pseudonym already in use.
        """
        if self._key is None:
            n = self._counters.get(family, 0) + 1
            self._counters[family] = n
            return n
        digest = hmac.new(self._key, f"{family}\0{value}\0{attempt}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:3], "big") % 0xFFFFFE + 1

    def _assign_learned(self) -> None:
        """Give learned values their pseudonyms in log order (before any text is redacted)."""
        self._flush_learned()
        if not self._learn_dirty:
            return
        self._learn_dirty = False
        for mac in self._seen_macs:
            self._mac_pseudonym(mac)
        for ip in self._seen_ips:
            self._ipv4_pseudonym(ip)
        self._names_pattern()

    def _mac_pseudonym(self, mac: str) -> str:
        if mac in _SPECIAL_MACS:
            return mac
        octets = mac.split(":")
        real = [_is_real_octet(o) for o in octets]
        if not any(real):
            return mac  # a pure placeholder: nothing to hide, keep it recognisable
        hit = self._mac_map.get(mac)
        if hit is not None:
            return hit
        shape = "".join("h" if r else "x" for r in real)
        nreal = sum(real)
        for attempt in itertools.count():
            n = self._number("mac" + shape, mac, attempt)
            fill = bytes([0x02, 0, 0]) + n.to_bytes(3, "big")
            it = iter(f"{b:02x}" for b in fill[6 - nreal :])
            out = ":".join(next(it) if r else o for o, r in zip(octets, real, strict=True))
            if out not in self._used and out not in self._seen_macs:
                break
        self._used.add(out)
        self._mac_map[mac] = out
        return out

    def _ipv4_pseudonym(self, ip: str) -> str:
        try:
            addr = ipaddress.IPv4Address(ip)
        except ValueError:
            return ip  # not an address (e.g. 999.1.2.3): leave it
        if addr.is_unspecified or addr.is_loopback or _is_netmask(ip) or ip == "255.255.255.255":
            return ip
        hit = self._ip_map.get(ip)
        if hit is not None:
            return hit
        for attempt in itertools.count():
            n = self._number("ip4", ip, attempt) & 0xFFFF
            out = f"192.0.2.{n}" if 1 <= n <= 254 else f"198.18.{(n >> 8) & 0xFF}.{n & 0xFF}"
            if out not in self._used and out not in self._seen_ips:
                break
        self._used.add(out)
        self._ip_map[ip] = out
        return out

    def _ipv6_pseudonym(self, token: str) -> str:
        try:
            addr = ipaddress.IPv6Address(token)
        except ValueError:
            return token
        if addr.is_unspecified or addr.is_loopback:
            return token
        key = addr.compressed
        hit = self._ip_map.get(key)
        if hit is not None:
            return hit
        for attempt in itertools.count():
            out = f"2001:db8::{self._number('ip6', key, attempt):x}"
            if out not in self._used:
                break
        self._used.add(out)
        self._ip_map[key] = out
        return out

    def _name_pseudonym(self, name: str) -> str:
        hit = self._name_map.get(name)
        if hit is not None:
            return hit
        family = "ssid" if name in self._ssids else "host" if name in self._hosts else "user"
        for attempt in itertools.count():
            out = f"{family}-{self._number(family, name, attempt)}"
            if out not in self._used:
                break
        self._used.add(out)
        self._name_map[name] = out
        return out

    def _names_pattern(self) -> re.Pattern[str] | None:
        """One alternation of every learned name (longest first), raw and address-redacted forms."""
        if not self._names_dirty:
            return self._names_re
        self._names_dirty = False
        names = [*self._ssids, *self._hosts, *self._users]
        for name in names:  # numbered in learn order, not text order
            self._name_pseudonym(name)
        variants: dict[str, str] = {}
        for name in names:
            variants.setdefault(name, name)
            variants.setdefault(self._redact_addresses(name), name)
        self._variant_of = variants
        parts = []
        for form in sorted(variants, key=len, reverse=True):
            left = r"(?<!\w)(?<!-)(?<![0-9A-Fa-f]:)(?<![0-9]\.)" if re.match(r"\w", form) else ""
            right = r"(?!\w)(?!-\w)(?!:[0-9A-Fa-f])(?!\.[0-9])" if re.search(r"\w$", form) else ""
            parts.append(left + re.escape(form) + right)
        self._names_re = re.compile("|".join(parts)) if parts else None
        return self._names_re

    # ---------------------------------------------------------------- redaction
    def _redact_addresses(self, s: str) -> str:
        s = _LONG_RUN_RE.sub(lambda m: f"[{len(m.group(0)) // 3 + 1} bytes {REDACTED}]", s)
        s = _MAC_SEP_RE.sub(self._mac_sub, s)
        s = _MAC_DOT_RE.sub(self._mac_sub, s)
        s = _MAC_BARE_RE.sub(self._mac_sub, s)
        if "." in s:
            s = _IPV4_RE.sub(lambda m: self._ipv4_pseudonym(m.group(0)), s)
        if "::" in s or s.count(":") >= 7:
            s = _IPV6_RE.sub(lambda m: self._ipv6_pseudonym(m.group(0)), s)
        return s

    def _mac_sub(self, m: re.Match[str]) -> str:
        token = m.group(0)
        mac = _norm_mac(token)
        out = self._mac_pseudonym(mac)
        if out == mac:
            return token  # placeholder or 00:../ff:..: keep the user's spelling
        if "." in token:
            h = out.replace(":", "")
            return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"
        if len(token) == 12:
            return out.replace(":", "")
        if "-" in token:
            return out.replace(":", "-")
        return out

    def redact_text(self, s: str) -> str:
        """Return ``s`` with secrets removed and MACs, IPs, SSIDs and host names pseudonymised."""
        if not s:
            return s
        self._assign_learned()
        s = _SECRET_RE.sub(_secret_sub, s)
        if "exdump" in s:
            s = _HEXDUMP_RE.sub(_hexdump_sub, s)
        if "  " in s:
            s = _HEXDUMP_CONT_RE.sub(lambda m: m.group(1) + REDACTED, s)
        s = self._redact_addresses(s)
        names = self._names_pattern()
        if names is not None:
            s = names.sub(lambda m: self._name_pseudonym(self._variant_of[m.group(0)]), s)
        return s

    def redact_obj(self, obj: object) -> object:
        """Deep copy of a JSON-like object with every string, and every string dict key, redacted."""
        if isinstance(obj, str):
            return self.redact_text(obj)
        if isinstance(obj, dict):
            return {
                (self.redact_text(k) if isinstance(k, str) else k): self.redact_obj(v) for k, v in obj.items()
            }
        if isinstance(obj, list | tuple):
            return [self.redact_obj(v) for v in obj]
        return copy.deepcopy(obj)


def _hexdump_sub(m: re.Match[str]) -> str:
    rest = m.group(2)
    if not rest.strip() or "[REMOVED]" in rest:
        return m.group(0)
    return f"{m.group(1)} {REDACTED}"


def _secret_sub(m: re.Match[str]) -> str:
    start = m.start()
    if start and m.string[start - 1] != "_" and (m.string[start - 1].isalnum() or m.string[start - 1] == "-"):
        return m.group(0)  # "mapping:", "WPA-PSK:" ...: not a secret's key
    value = m.group(3)
    if not value.strip() or value.strip() in ("[REMOVED]", REDACTED, "(nil)", "(null)"):
        return m.group(0)
    if value.startswith('"'):
        return f'{m.group(1)}{m.group(2)}"{REDACTED}"'
    if value.startswith("'"):
        return f"{m.group(1)}{m.group(2)}'{REDACTED}'"
    return f"{m.group(1)}{m.group(2)}{REDACTED}"


def _is_netmask(ip: str) -> bool:
    try:
        n = int(ipaddress.IPv4Address(ip))
    except ValueError:
        return False
    if n == 0 or not ip.startswith("255."):
        return False
    inv = (~n) & 0xFFFFFFFF
    return (inv & (inv + 1)) == 0


def redact_lines(lines: list[str], *, key: bytes | None = None) -> list[str]:
    """Convenience: learn from all ``lines`` first, then return them redacted."""
    r = Redactor(key=key)
    for line in lines:
        r.learn_line(line)
    return [r.redact_text(line) for line in lines]
