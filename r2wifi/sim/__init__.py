"""The simulated MT7623/MT6625L connectivity driver.

Pieces:

* :mod:`r2wifi.sim.model`: the driver as a state machine (``DriverModel``, the facade with the stable
  API), injectable clock. One module per device node, each with its ioctl/command table beside its
  handlers: :mod:`r2wifi.sim.wmtdetect`, :mod:`r2wifi.sim.stpwmt`, :mod:`r2wifi.sim.wmtwifi`,
  :mod:`r2wifi.sim.stpbt`; :mod:`r2wifi.sim.kernel`: shared state and the WMT core (power states, op
  waits, the user command channel, patch download; driver-interface.md §11). Lines come from
  :mod:`r2wifi.logs.catalog.wmt`, driver facts from :mod:`r2wifi.wmt.driver`.
* :mod:`r2wifi.sim.timing`: the delay table (``--timing realistic|fast``), ``RealClock``/``FakeClock``.
* :mod:`r2wifi.sim.daemon`: the daemon behind ``<r2wifi.paths.sim_dir()>/sim.sock`` (JSON lines).
* :mod:`r2wifi.sim.client`: ``SimBackend``, the ``r2wifi.wmt.backend.Backend`` of the simulator;
  extras ``status()``, ``inject(fault)``, ``air_netns()``, ``ping()``, ``stop()``.
* :mod:`r2wifi.sim.net`: real interfaces in network namespaces (root).
* :mod:`r2wifi.sim.cuse` (I/O loop) and :mod:`r2wifi.sim.fuse_proto` (sans-IO wire protocol): with
  ``sim start --cuse`` the same model is also served as real character devices over CUSE.
* :mod:`r2wifi.sim.radio`: mac80211_hwsim as the radio behind /dev/wmtWifi (``--radio hwsim``).

Files in the sim dir: ``sim.sock``, ``sim.pid``, ``kmsg`` (``prio,seq,usec,-;message`` records,
usec = simulated uptime), ``daemon.log``. ``r2wifi sim stop`` (or SIGTERM) removes them and the
namespaces; a daemon whose ``sim.sock`` disappears (its test's tmp dir was deleted) stops itself.

``r2wifi sim status --json`` fields:

=====================  ====================================================================
nodes                  list of {path, kind (char|file), major, minor} of the /dev nodes
chip_powered           the chip is powered (a full power-on completed; by LPBK or a function on)
patched                the last power-on downloaded patches (false: srh_patch ok without SET_PATCH_NUM)
functions              {bt, wifi, lpbk}: the WMT core's function bits (the last one off powers down)
cmd_pending            the posted, unread user command (``srh_patch``) or null
stpwmt_locked_out      a second DO_MODULE_INIT ran: every /dev/stpwmt open waits 2 s, EIO
power_on_count         full chip power-ons; wmt_debug: the WMT core log level (err | all)
launcher_connected     a /dev/stpwmt handle is open and SET_LAUNCHER_KILL(1) was not sent
wifi_mode              off | sta | ap | p2p
interfaces             WiFi netdevs that exist (model; also real ones in ``netns`` as root)
netns, air_netns       namespace names, or null without ``--netns``
inherent_delay_s       sum of the driver delays and expired timeouts the simulator spent
do_module_init_count   DO_MODULE_INIT calls (a second one fails with EBUSY, see stpwmt_locked_out)
lpbk_power_on_count    LPBK function ons; srh_patch_count: srh_patch requests posted
chip_reset_count       whole-chip resets (``inject chip-reset``)
faults                 active faults; modules: loaded modules (wlan_gen2 when built in)
hci, bd_address        ``["hci0"]`` and its address once ``stp_chrdev_bt`` is loaded
tx_stalled             the AP TX queue is stopped (``txq-stall``)
mac, names, timing     chip MAC (00:08:22:xx:xx:xx; AP/P2P use 02:08:22:xx:xx:xx), name set, timing
pid, sim_dir, kmsg     daemon pid, its directory and kernel log file
cuse                   the nodes are also real character devices (``--cuse``)
radio                  null, or {kind: hwsim, phy, peer_phy} (``--radio hwsim``)
=====================  ====================================================================

Faults (``sim start --fault NAME`` or ``sim inject NAME``):

* ``no-detect``: no /dev/wmtdetect. ``detect-regular-file``: /dev/wmtdetect is a regular file
  (ioctls fail with ENOTTY).
* ``combo-wifi-not-built``: CONFIG_MTK_COMBO_WIFI not defined: no /dev/wmtWifi, the real log line.
* ``wlan-gen2-module``: wlan_gen2 is =m: ``load_module("wlan_gen2")`` needed (after
  DO_MODULE_INIT) before A/S/P work ("Set p2p mode handler is NULL" otherwise) and before WiFi on
  creates wlan0.
* ``btif-dead``: WiFi function on times out (BTIF/STP RX timeouts, 4 s op wait, EIO); BT on fails.
* ``wlan0-renamed``: the station netdev appears as ``wlx<mac>`` so A/S/P fail after 10 x 300 ms.
* ``wifi-ram-code-missing``: wlanProbe cannot open WIFI_RAM_CODE_7623 -> WiFi on EIO (also
  happens without the fault when ``--firmware-dir`` lacks the file).
* run time only: ``chip-reset`` (the kernel's whole-chip reset: up to 10 tries, each posting srh_patch;
  without a launcher answering: "wait signal timeout" / "cmd buf is occupied", reset fails, WiFi off; on
  success LPBK is marked off and the previous WiFi mode is restored, "Set wlan mode N"), ``txq-stall``
  (netif_stop_subqueue lines, no wake; as root the air peer of the AP interface goes down),
  ``clear-stall`` (wake line, peer up; also cleared when WiFi goes off and on).
* Missing patch files need no fault: the model opens what the launcher names ("load file (...) fail");
  like the kernel it does not validate headers (whatever follows the 28 bytes is downloaded).

Network layout (root, ``--netns``, the default as root): namespace ``r2sim-<8 hex of the sim
dir>`` (``--netns-name``) holds the WiFi netdevs; ``<netns>-air`` holds their veth peers:
AP interface (ap0 / mtkap0) <-> ``air0``, P2P (p2p0 / mtkp2p0) <-> ``airp0``, station (wlan0 /
mtkwlan0) <-> ``airw0``. Mode ``1`` -> wlan0; ``A`` -> wlan0 + ap0; ``S``/``P`` -> wlan0 + p2p0.
"""

from r2wifi.sim.model import FAULTS, RUNTIME_FAULTS, START_FAULTS

__all__ = ["FAULTS", "RUNTIME_FAULTS", "START_FAULTS"]
