"""What ``r2wifi reload`` (SIGHUP to ``r2wifi run``) does for each changed key: a table, no I/O.

Theory of operation. :func:`plan` maps every changed ``section.key`` (from
:func:`r2wifi.service.supervisor.config_changes`) to the least disruptive :class:`Act` that applies it,
through the table :data:`ACTIONS` (exact key first, then ``section.*``; a key in no row gets
:data:`DEFAULT`, a restart of the mode's daemons, which applies anything). Keys of the other mode's
sections change nothing that runs (:data:`MODE_SECTIONS`). The supervisor then runs each distinct act
once, in :data:`ORDER`, and logs one line per key (``reload: shaping.rate applied in place``,
``reload: ap.channel -> hostapd restarted``). An act that fails falls back to :data:`FALLBACK` (a
reload that hostapd refuses becomes a restart), and an act that another one already covers is
skipped (:data:`COVERS`: a hostapd restart also re-reads what a RELOAD would).

Facts behind the table:
* hostapd re-reads its configuration file on SIGHUP (its control interface's ``RELOAD`` only re-applies
  the configuration in memory, and hostapd 2.10 takes ``RELOAD_CONFIG`` for ``RELOAD``): per-BSS
  settings (SSID, passphrase/PSK, hidden, isolation, the MAC list file, inactivity) take effect in the
  running process, but the reload keeps the old channel, HT settings and hw mode of the radio, so those
  (and the country) need a restart (``CHAN_SWITCH`` needs driver CSA support the MT6625L driver is not
  known to have, and does not persist into the file's other radio settings).
* dnsmasq re-reads ``dhcp-hostsfile`` on SIGHUP but not its main file: reservations are rendered into
  that file (:func:`r2wifi.hostap.render.render_dnsmasq_hosts`); any other ``[dhcp]`` key needs a restart.
* shaping changes classes in place (``tc class change``), NAT replaces its own nft table in one
  transaction: neither bounces the interface.
* the chip, the interface names and the bridge cannot change under a running AP: the reload is refused.
"""

from __future__ import annotations

import enum

from r2wifi.records import field, record


class Act(enum.Enum):
    """One way of applying a change; the value is what the log says was done."""

    REFUSE = "cannot change while running"
    NOTHING = "not used in this mode; nothing to do"
    LADDER = "applied in place, the ladder keeps its history"
    SHAPING = "applied in place"
    NAT = "applied in place, one nft transaction"
    HOSTAPD_RELOAD = "-> hostapd reloaded in the same process"
    DNSMASQ_HUP = "-> dnsmasq re-read its hosts file in the same process"
    HOSTAPD_RESTART = "-> hostapd restarted"
    DNSMASQ_RESTART = "-> dnsmasq restarted"
    STA_RESTART = "-> wpa_supplicant restarted"
    RESTART_ALL = "-> interface re-applied and every daemon restarted"


# change class -> action. Exact keys win over ``section.*``.
ACTIONS: dict[str, Act] = {
    "chip.*": Act.REFUSE,
    "ap.interface": Act.REFUSE,
    "sta.interface": Act.REFUSE,
    "nat.bridge": Act.REFUSE,
    "supervisor.*": Act.LADDER,
    "ap.ssid": Act.HOSTAPD_RELOAD,
    "ap.passphrase": Act.HOSTAPD_RELOAD,
    "ap.psk": Act.HOSTAPD_RELOAD,
    "ap.hidden": Act.HOSTAPD_RELOAD,
    "ap.isolate_clients": Act.HOSTAPD_RELOAD,
    "ap.mac_filter": Act.HOSTAPD_RELOAD,
    "ap.max_inactivity": Act.HOSTAPD_RELOAD,
    "ap.channel": Act.HOSTAPD_RESTART,
    "ap.country": Act.HOSTAPD_RESTART,
    "ap.hw_mode": Act.HOSTAPD_RESTART,
    "ap.ieee80211n": Act.HOSTAPD_RESTART,
    "ap.ht_capab": Act.HOSTAPD_RESTART,
    "ap.security": Act.HOSTAPD_RESTART,
    "ap.driver": Act.HOSTAPD_RESTART,
    "ap.extra": Act.HOSTAPD_RESTART,
    "ap.*": Act.RESTART_ALL,  # enabled, mac, address4/6: the interface itself
    "dhcp.reservation": Act.DNSMASQ_HUP,
    "dhcp.*": Act.DNSMASQ_RESTART,
    "shaping.*": Act.SHAPING,
    "nat.uplink": Act.NAT,
    "sta.*": Act.STA_RESTART,
}
DEFAULT = Act.RESTART_ALL

# the sections only one mode uses; a change there does nothing in the other
MODE_SECTIONS: dict[str, str] = {"ap": "ap", "dhcp": "ap", "shaping": "ap", "nat": "ap", "sta": "sta"}

# an act that failed -> what to do instead
FALLBACK: dict[Act, Act] = {
    Act.HOSTAPD_RELOAD: Act.HOSTAPD_RESTART,
    Act.DNSMASQ_HUP: Act.DNSMASQ_RESTART,
    Act.SHAPING: Act.RESTART_ALL,
    Act.NAT: Act.RESTART_ALL,
}

# an act -> the acts it makes unnecessary when both are planned
COVERS: dict[Act, frozenset[Act]] = {
    Act.HOSTAPD_RESTART: frozenset({Act.HOSTAPD_RELOAD}),
    Act.DNSMASQ_RESTART: frozenset({Act.DNSMASQ_HUP}),
    Act.RESTART_ALL: frozenset({Act.HOSTAPD_RELOAD, Act.HOSTAPD_RESTART, Act.DNSMASQ_HUP, Act.DNSMASQ_RESTART,
                                Act.STA_RESTART, Act.SHAPING, Act.NAT}),
}

# the order acts run in: in-place first, then the cheap signals, the restarts last
ORDER: tuple[Act, ...] = (Act.LADDER, Act.SHAPING, Act.NAT, Act.HOSTAPD_RELOAD, Act.DNSMASQ_HUP,
                          Act.HOSTAPD_RESTART, Act.DNSMASQ_RESTART, Act.STA_RESTART, Act.RESTART_ALL)

# the daemons each restart act restarts (by mode for RESTART_ALL: the supervisor passes them in)
RESTARTS: dict[Act, tuple[str, ...]] = {
    Act.HOSTAPD_RESTART: ("hostapd",),
    Act.DNSMASQ_RESTART: ("dnsmasq",),
    Act.STA_RESTART: ("wpa_supplicant",),
}


def action_of(key: str, mode: str) -> Act:
    """The act that applies a change of ``key`` (``section.name``) while running in ``mode``."""
    section = key.partition(".")[0]
    act = ACTIONS.get(key) or ACTIONS.get(f"{section}.*") or DEFAULT
    if act is not Act.REFUSE and MODE_SECTIONS.get(section, mode) != mode:
        return Act.NOTHING
    return act


@record
class Plan:
    keys: dict[str, Act] = field(default_factory=dict)  # changed key -> its act

    @property
    def refused(self) -> list[str]:
        return [k for k, a in self.keys.items() if a is Act.REFUSE]

    def acts(self) -> list[Act]:
        """The distinct acts to run, in :data:`ORDER`, without those another planned act covers."""
        wanted = set(self.keys.values()) - {Act.REFUSE, Act.NOTHING}
        covered = set().union(*(COVERS.get(a, frozenset()) for a in wanted))
        return [a for a in ORDER if a in wanted and a not in covered]

    def keys_of(self, act: Act) -> list[str]:
        """The changed keys ``act`` applies (its own and those of the acts it covers)."""
        mine = {act} | COVERS.get(act, frozenset())
        return [k for k, a in self.keys.items() if a in mine]


def plan(changed: list[str], mode: str) -> Plan:
    return Plan({key: action_of(key, mode) for key in changed})
