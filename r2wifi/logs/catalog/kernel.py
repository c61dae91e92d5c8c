"""In-kernel WiFi drivers' error / timeout / crash / firmware / queue messages, as data.

Formats as the drivers print them (``dev_err`` / ``ath*_err`` / ``brcmf_err`` / ``wiphy_err`` ...; the
kernel's ``<driver> <device>: `` prefix comes before the message and is not part of the format), read
from Linux ``drivers/net/wireless`` (4.14-6.x) and checked against the corpus logs. Version differences
are separate entries. See :mod:`r2wifi.logs.catalog.base` for the fields and ``means`` classes;
``tools/gen_catalog.py`` validates the table and prints its summary.

Rules: one entry per format; an error code field is named ``err`` so that -110 (ETIMEDOUT) / -62 (ETIME)
turn a failed firmware command (``fwcmd``) into a command timeout. Lines not in the table stay unknown
(a generic driver-error fallback in :mod:`r2wifi.logs.events` still counts them, when :data:`WIFI_DRIVERS`
printed them, as driver errors). An entry printed by a layer every driver shares (the driver core's probe
report, listed in :data:`ANY_DRIVER`) names the driver in a ``driver`` field and is a WiFi line only when
that driver is one of :data:`WIFI_DRIVERS`: a PCIe host, USB, MMC or I2C driver failing to probe is not a
WiFi finding.
"""

from __future__ import annotations

import re

from r2wifi.logs.catalog.base import Message, Table

# The WiFi drivers this catalogue knows, as the kernel names them before a message (``<driver> <device>: ``
# or ``<driver>: ``), a regex alternation matched case-blind from the start of the name up to a word end;
# the one home of "this kernel line comes from a WiFi driver" (r2wifi.logs.events builds its generic
# driver-error fallback from it).
WIFI_DRIVERS = (r"brcmfmac|brcmf|ath\d+k\w*|rt2x00\w*|rt2800\w*|mwlwifi|mt76\w*|mt7\w+|rtw\w*|rtl\w+|iwlwifi|"
                r"wlan_gen2|mwifiex\w*|wil6210")
_WIFI_DRIVER = re.compile(rf"(?i)(?:{WIFI_DRIVERS})\b")

_MT76 = "drivers/net/wireless/mediatek/mt76"
_ATH10K = "drivers/net/wireless/ath/ath10k"
_ATH11K = "drivers/net/wireless/ath/ath11k"
_ATH12K = "drivers/net/wireless/ath/ath12k"
_ATH9K = "drivers/net/wireless/ath/ath9k"
_BRCMF = "drivers/net/wireless/broadcom/brcm80211/brcmfmac"
_IWL = "drivers/net/wireless/intel/iwlwifi"
_RTW88 = "drivers/net/wireless/realtek/rtw88"
_RTW89 = "drivers/net/wireless/realtek/rtw89"
_RTL8XXXU = "drivers/net/wireless/realtek/rtl8xxxu"
_RT2X00 = "drivers/net/wireless/ralink/rt2x00"
_MWIFIEX = "drivers/net/wireless/marvell/mwifiex"
_MWLWIFI = "kvalo/mwlwifi (out of tree, OpenWrt)"
_MAC80211 = "net/mac80211"


def _m(key: str, fmt: str, means: str, severity: str, source: str) -> Message:
    return Message(key, fmt, means, severity, source)


MESSAGES: tuple[Message, ...] = (
    # ---- MediaTek mt76 (mt7603, mt7615, mt76x02, mt7915/mt7986, mt7921/mt7922, mt7996)
    _m("mt76_mcu_timeout", "Message {cmd} (seq {seq}) timeout", "fwtimeout:mcu", "error",
       f"{_MT76}/mt7615, mt7915, mt7921, mt7996, mt792x mcu.c (mt76_connac 5.x-6.x)"),
    _m("mt76_mcu_timeout_old", "MCU message {cmd} (seq {seq}) timed out", "fwtimeout:mcu", "error",
       f"{_MT76}/mt76x02_mcu.c, mt7603/mcu.c"),
    _m("mt76_mcu_retry", "Retry message {cmd} (seq {seq})", "fwtimeout:mcu_retry", "warning",
       f"{_MT76} mcu.c (a message without answer, sent again)"),
    _m("mt76_fw_start_failed", "Failed to start {which} firmware", "driver:fw_start", "error",
       f"{_MT76}/mt7915/mcu.c, mt7996/mcu.c (WM / WA firmware)"),
    _m("mt76_fw_not_ready", "Firmware is not ready for download", "driver:fw_start", "error", f"{_MT76} mcu.c"),
    _m("mt76_patch_sem", "Failed to get patch semaphore", "driver:fw_start", "error", f"{_MT76} mcu.c"),
    _m("mt76_driver_own_timeout", "Timeout for driver own", "fwtimeout:driver_own", "error",
       f"{_MT76}/mt7615/mcu.c, mt7921 (the firmware did not hand the device over)"),
    _m("mt76_tx_hang", "{queue} queue hang detected", "txstall:queue_hang", "warning", f"{_MT76} (dma watchdog)"),
    # ---- kernel driver core
    _m("probe_failed", "{driver}: probe of {device} failed with error {err}", "driver:probe", "error",
       "drivers/base/dd.c:really_probe (any driver: see ANY_DRIVER)"),
    # ---- Qualcomm ath10k / ath11k / ath12k / ath9k
    _m("ath10k_fake_crash", "Cannot communicate with firmware, attempting to fake crash and restart firmware.",
       "fwtimeout:ath10k_no_response", "error", f"{_ATH10K}/wmi.c (ath10k_wmi_cmd_send timeout path)"),
    _m("ath10k_fw_crashed", "firmware crashed! (guid {guid})", "crash:ath10k", "error", f"{_ATH10K}/coredump, pci.c"),
    _m("ath10k_fw_crashed_old", "firmware crashed! (uuid {uuid})", "crash:ath10k", "error", f"{_ATH10K} (4.x)"),
    _m("ath10k_wmi_timeout", "wmi command {id} timeout, restarting hardware", "fwtimeout:wmi", "error",
       f"{_ATH10K}/wmi.c"),
    _m("ath10k_ctl_resp", "ctl_resp never came in ({err})", "fwtimeout:htc", "error", f"{_ATH10K}/htc.c"),
    _m("ath10k_ctl_resp_poll", "failed to receive control response completion, polling..", "fwtimeout:htc",
       "warning", f"{_ATH10K}/htc.c"),
    _m("ath10k_flush_skip", "failed to flush transmit queue (skip {skip} ar-state {state}): {err}",
       "txstall:flush", "warning", f"{_ATH10K}/mac.c"),
    _m("ath10k_wake_target", "failed to wake target for {op} of 0x{addr} at 0x{at}: {err}", "driver:pci", "error",
       f"{_ATH10K}/pci.c"),
    _m("ath10k_sdio_write", "failed to write to address 0x{addr}: {err}", "sdio:write", "error",
       f"{_ATH10K}/sdio.c"),
    _m("ath11k_wmi_timeout", "wmi command {id} timeout", "fwtimeout:wmi", "error",
       f"{_ATH11K}/wmi.c, {_ATH12K}/wmi.c"),
    _m("ath11k_fw_crashed", "firmware crashed: {reason}", "crash:ath11k", "error",
       f"{_ATH11K}/mhi.c, {_ATH12K}/mhi.c (MHI_CB_EE_RDDM)"),
    _m("ath11k_qmi_timeout", "qmi failed {what_text} request, err = {err}", "fwcmd:qmi", "error",
       f"{_ATH11K}/qmi.c"),
    _m("ath9k_tx_dma", "Failed to stop TX DMA, queues=0x{queues}!", "txstall:tx_dma", "warning",
       f"{_ATH9K}/mac.c"),
    _m("ath9k_rx_stop", "Could not stop RX, we could be confusing the DMA engine when we start RX up",
       "driver:rx_dma", "warning", f"{_ATH9K}/recv.c"),
    _m("ath9k_chip_reset", "Chip reset failed", "driver:reset", "error", f"{_ATH9K}/main.c"),
    _m("ath9k_htc_unresponsive", "Target is unresponsive", "fwtimeout:htc", "error", f"{_ATH9K}/htc_drv_main.c"),
    # ---- Broadcom brcmfmac
    _m("brcmf_fw_crashed", "Firmware has halted or crashed", "crash:brcmfmac", "error", f"{_BRCMF}/core.c"),
    _m("brcmf_psm_watchdog", "PSM's watchdog has fired!", "crash:psm_watchdog", "error", f"{_BRCMF}/core.c"),
    _m("brcmf_trap", "firmware trap in dongle", "crash:trap", "error", f"{_BRCMF}/sdio.c:brcmf_sdio_checkdied"),
    _m("brcmf_mailbox_halted", "mailbox indicates firmware halted", "crash:halted", "error",
       f"{_BRCMF}/sdio.c:brcmf_sdio_hostmail"),
    _m("brcmf_bcdc_msg", "brcmf_proto_bcdc_msg failed w/status {err}", "fwcmd:bcdc", "error", f"{_BRCMF}/bcdc.c"),
    _m("brcmf_set_ssid", "SET SSID error ({err})", "fwcmd:ssid", "error", f"{_BRCMF}/cfg80211.c:brcmf_cfg80211_stop_ap"),
    _m("brcmf_c_down", "BRCMF_C_DOWN error {err}", "fwcmd:down", "error", f"{_BRCMF}/cfg80211.c"),
    _m("brcmf_c_up", "BRCMF_C_UP error {err}", "fwcmd:up", "error", f"{_BRCMF}/cfg80211.c"),
    _m("brcmf_ap_mode", "setting AP mode failed {err}", "fwcmd:ap_mode", "error", f"{_BRCMF}/cfg80211.c"),
    _m("brcmf_vndr_ie", "vndr ie set error : {err}", "fwcmd:vndr_ie", "error", f"{_BRCMF}/cfg80211.c"),
    _m("brcmf_mpc", "fail to set mpc", "driver:mpc", "warning", f"{_BRCMF}/cfg80211.c:brcmf_set_mpc"),
    _m("brcmf_chanspec", "set chanspec 0x{chanspec} fail, reason {err}", "channel:chanspec", "error",
       f"{_BRCMF}/cfg80211.c:brcmf_cfg80211_start_ap"),
    _m("brcmf_netdev_exists", "ERROR: netdev:{name} already exists", "driver:netdev_exists", "warning",
       f"{_BRCMF}/core.c:brcmf_add_if"),
    _m("brcmf_bus_down", "bus is down. we have nothing to do", "driver:bus_down", "error", f"{_BRCMF}/core.c"),
    _m("brcmf_rxctl_timeout", "resumed on timeout", "fwtimeout:rxctl", "error", f"{_BRCMF}/sdio.c:brcmf_sdio_bus_rxctl"),
    _m("brcmf_cmd53", "CMD53 sg block {op} failed {err}", "sdio:cmd53", "error", f"{_BRCMF}/bcmsdh.c"),
    _m("brcmf_console", "CONSOLE: {detail_text}", "benign:brcmfmac_console", "info",
       f"{_BRCMF}/sdio.c (firmware console echo)"),
    # ---- Intel iwlwifi
    _m("iwl_sw_error", "Microcode SW error detected. Restarting 0x{code}.", "crash:iwlwifi", "error",
       f"{_IWL}/mvm/ops.c"),
    _m("iwl_hw_error", "Microcode HW error detected. Restarting.", "crash:iwlwifi", "error", f"{_IWL}/mvm/ops.c"),
    _m("iwl_cmd_timeout", "Error sending {cmd}: time out after {ms}ms.", "fwtimeout:hcmd", "error",
       f"{_IWL}/pcie/tx.c:iwl_trans_pcie_send_hcmd_sync"),
    _m("iwl_queue_stuck", "Queue {q} is stuck {a} {b}", "txstall:queue_stuck", "warning", f"{_IWL}/pcie/tx.c (3.x-4.x)"),
    _m("iwl_queue_stuck_ms", "Queue {q} stuck for {ms} ms.", "txstall:queue_stuck", "warning",
       f"{_IWL}/pcie/tx.c:iwl_txq_stuck_timer"),
    _m("iwl_fw_not_alive", "Failed to start RT ucode: {err}", "driver:fw_start", "error", f"{_IWL}/mvm/fw.c"),
    # ---- Realtek rtw88 / rtw89 / rtl8xxxu
    _m("rtw_h2c_failed", "failed to send h2c command", "fwcmd:h2c", "error", f"{_RTW88}/fw.c"),
    _m("rtw_flush_queue", "timed out to flush queue {q}", "txstall:flush", "warning", f"{_RTW88}/mac.c, pci.c"),
    _m("rtw_lps_leave", "firmware failed to leave lps state", "fwtimeout:lps", "error", f"{_RTW88}/ps.c"),
    _m("rtw_fw_download", "failed to download firmware", "driver:fw_start", "error", f"{_RTW88}/mac.c"),
    _m("rtw89_h2c_reg", "FW does not process h2c registers", "fwtimeout:h2c", "error", f"{_RTW89}/fw.c"),
    _m("rtw89_c2h_timeout", "c2h reg timeout", "fwtimeout:c2h", "error", f"{_RTW89}/fw.c"),
    _m("rtw89_h2c_failed", "failed to send h2c", "fwcmd:h2c", "error", f"{_RTW89}/fw.c"),
    _m("rtl8xxxu_fw_start", "Firmware failed to start", "driver:fw_start", "error", f"{_RTL8XXXU}/core.c"),
    _m("rtl8xxxu_fw_ready", "Firmware not ready", "driver:fw_start", "error", f"{_RTL8XXXU}/core.c"),
    # ---- Ralink rt2x00
    _m("rt2x00_full_queue", "Error - Dropping frame due to full tx queue {q}", "txstall:full", "warning",
       f"{_RT2X00}/rt2x00queue.c:rt2x00queue_write_tx_frame"),
    _m("rt2x00_vendor_request",
       "Error - Vendor Request 0x{req} failed for offset 0x{offset} with error {err}", "driver:usb", "error",
       f"{_RT2X00}/rt2x00usb.c"),
    _m("rt2x00_flush", "Warning - Queue {q} failed to flush", "txstall:flush", "warning", f"{_RT2X00}/rt2x00mac.c"),
    _m("rt2x00_nonfree", "Error - Arrived at non-free entry in the non-full queue {q}", "txstall:queue", "warning",
       f"{_RT2X00}/rt2x00queue.c"),
    # ---- Marvell mwifiex / mwlwifi
    _m("mwifiex_cmd_timeout", "mwifiex_cmd_timeout_func: Timeout cmd id = {id}, act = {act}", "fwtimeout:cmd",
       "error", f"{_MWIFIEX}/cmdevt.c"),
    _m("mwifiex_cmd_timeout_plain", "Timeout cmd id = {id}, act = {act}", "fwtimeout:cmd", "error",
       f"{_MWIFIEX}/cmdevt.c (newer kernels print without the function)"),
    _m("mwlwifi_cmd_timeout", "cmd 0x{cmd}={name} timed out", "fwtimeout:cmd", "error", f"{_MWLWIFI} fwcmd.c"),
    _m("mwlwifi_staid_deleted", "staid {id} deleted", "benign:staid_deleted", "info", f"{_MWLWIFI} (debug noise)"),
    # ---- mac80211 / cfg80211
    _m("mac80211_hw_restart", "Hardware restart was requested", "crash:hw_restart", "error", f"{_MAC80211}/util.c"),
    _m("mac80211_set_key", "failed to set key ({idx}, {mac}) to hardware ({err})", "driver:set_key", "warning",
       f"{_MAC80211}/key.c"),
    _m("mac80211_remove_key", "failed to remove key ({idx}, {mac}) from hardware ({err})", "driver:remove_key",
       "warning", f"{_MAC80211}/key.c"),
    _m("brcmf_htclk_timeout", "HT Avail timeout ({us}): clkctl 0x{clkctl}", "sdio:timeout", "error",
       f"{_BRCMF}/sdio.c:brcmf_sdio_htclk (the chip's clock on the SDIO bus)"),
    _m("brcmf_bus_sleep", "error while changing bus sleep state {err}", "sdio:timeout", "error",
       f"{_BRCMF}/sdio.c:brcmf_sdio_bus_sleep"),
    _m("iwl_wake_nic", "Failed to wake NIC for hcmd", "fwtimeout:wake", "error", f"{_IWL}/pcie/tx.c"),
    _m("iwl_hw_access", "Timeout waiting for hardware access (CSR_GP_CNTRL 0x{value})", "fwtimeout:hw_access",
       "error", f"{_IWL}/pcie/trans.c"),
    _m("ath9k_dma_stop", "DMA failed to stop in {ms} ms {regs_text}", "driver:rx_dma", "warning",
       f"{_ATH9K}/mac.c:ath9k_hw_stopdmarecv"),
    _m("apparmor_denied", 'apparmor="DENIED" operation="{op}" {detail_text}', "startup:apparmor", "error",
       "security/apparmor (audit record; counts for the AP when the profile is hostapd / wpa_supplicant / "
       "dnsmasq)"),
    # ---- SDIO host
    _m("mmc_sdio_init", "error {err} whilst initialising SDIO card", "sdio:timeout", "error",
       "drivers/mmc/core/core.c"),
    _m("mmc_hw_irq_timeout", "Timeout waiting for hardware interrupt.", "sdio:timeout", "error",
       "drivers/mmc/host/sdhci.c"),
    _m("mmc_card_removed", "card {rca} removed", "sdio:card_removed", "error", "drivers/mmc/core/bus.c"),
)

TABLE = Table(MESSAGES)
BY_KEY = TABLE.by_key
KEYWORDS = TABLE.keywords
# entries printed for every driver (the kernel's driver core): WiFi lines only when their ``driver`` field is
# one of WIFI_DRIVERS
ANY_DRIVER = frozenset({"probe_failed"})


def is_wifi_driver(name: str) -> bool:
    """Whether a kernel driver name (``ath10k_pci``, ``mt7986-wmac``, ``brcmfmac``) is a WiFi driver."""
    return _WIFI_DRIVER.match(name) is not None


def classify(msg: str) -> tuple[Message, dict[str, str]] | None:
    """The driver entry a kernel message is (the kernel's ``[uptime]`` already removed); None when the
    catalogue does not know it, or it is a shared layer's line (:data:`ANY_DRIVER`) about a non-WiFi driver."""
    hit = TABLE.classify(msg)
    if hit is not None and hit[0].key in ANY_DRIVER and not is_wifi_driver(hit[1].get("driver", "")):
        return None
    return hit
