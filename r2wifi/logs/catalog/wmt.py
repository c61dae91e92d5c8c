"""The MediaTek connectivity driver's log lines (WMT / STP / BTIF / wlan_gen2) and their verdicts.

The one home of every WMT message r2wifi knows (driver-interface.md §7, corrected by §11): the simulator
renders the lines it prints from this table (:func:`render`), ``diagnose``, ``doctor`` and the supervisor
classify kernel lines with :func:`classify`. Adding a message means adding one :class:`WmtMessage` here.

Fields of an entry:

* ``key``: stable identifier (used by the simulator, the rules and the tests).
* ``fmt``: the message as the driver prints it after the kernel's own prefix, with ``{name}`` fields
  (``str.format`` syntax) for the variable parts. :func:`classify` turns it into a pattern where each
  field matches a run of non-blank characters (``{name:d}`` style is not used: fields are text).
* ``prio``: the printk level the driver uses (3 err, 4 warning, 6 info, 7 debug); the ``[E]/[W]/[I]/[D]``
  tag inside the line is part of ``fmt``.
* ``meaning``: the marker / event name diagnosis keys on (e.g. ``"launcher_missing"``,
  ``"benign:wmt_pinctrl"``, ``"stp_mode_set"``).
* ``verdict``: ``"success"`` (a bring-up milestone), ``"benign"`` (never a problem alone), ``"failure"``,
  ``"info"``, or ``"context"`` (benign or failure depending on the lines around it: the rule that decides
  names the key).
* ``source``: vendor source file and function, and the spec section that states the fact.
* ``sim``: True when only the simulator prints it (marked as the simulator's own line).
* ``hint``: for a line that explains an EIO of a WiFi mode write (``r2wifi wifi``), the cause and the fix
  told to the user (one of :data:`HINTS`, ``{name}`` is the station interface); None for the other lines.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from typing import Literal

from r2wifi.logs.catalog.base import body_regex
from r2wifi.logs.catalog.prefilter import any_of

Verdict = Literal["success", "benign", "failure", "info", "context"]

KERN_ERR, KERN_WARNING, KERN_INFO, KERN_DEBUG = 3, 4, 6, 7


@dataclass(frozen=True)
class WmtMessage:
    key: str
    fmt: str
    prio: int
    meaning: str
    verdict: Verdict
    source: str
    sim: bool = False
    hint: str | None = None

    def render(self, **fields: object) -> str:
        return self.fmt.format(**fields)

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.fmt)


_S = "driver-interface.md"
_CORE = "frank-w BPI-R2 4.14/5.x drivers/misc/mediatek/connectivity/common"
_WLAN = "wlan_gen2 (frank-w tree, abbradar/mt6625l-wlan-gen2)"
_USER = "vendor userspace (BPI-R2 wmt_loader.c / stp_uart_launcher.c)"
E, W, I, D = KERN_ERR, KERN_WARNING, KERN_INFO, KERN_DEBUG  # noqa: E741  (the printk level letters)


# Causes of an EIO from a WiFi mode write, most specific first (wmt/wifi.py explains an EIO with the first
# of these that a kernel line since the write carries as its ``hint``).
HINT_NO_HIF = ("the launcher never set the STP mode ('no hif info!' in the kernel log): start it with "
               "'r2wifi chip launch --daemon'")
HINT_P2P_NULL = ("wlan_gen2 is not loaded ('Set p2p mode handler is NULL'): run 'modprobe wlan_gen2' "
                 "(CONFIG_MTK_COMBO_WIFI=m)")
HINT_RENAMED = ("the driver looks up its station interface by the hard-coded name {name} and it is gone: "
                "udev/systemd renamed it (add net.ifnames=0 or a .link file keeping the name)")
HINT_RAM_CODE = ("wlan_gen2 cannot load its firmware: /etc/firmware/WIFI_RAM_CODE_7623 is missing or unreadable "
                 "(see 'r2wifi firmware check')")
HINT_BTIF = ("the chip does not answer over BTIF (STP/WMT timeouts): wrong BTIF node, IRQ or clock in the "
             "device tree")
HINT_UNPOWERED = "the chip is not powered: is the launcher running ('r2wifi chip status')?"
HINTS: tuple[str, ...] = (HINT_NO_HIF, HINT_P2P_NULL, HINT_RENAMED, HINT_RAM_CODE, HINT_BTIF, HINT_UNPOWERED)


def _m(key: str, fmt: str, prio: int, meaning: str, verdict: Verdict, source: str, sim: bool = False,
       hint: str | None = None) -> WmtMessage:
    return WmtMessage(key, fmt, prio, meaning, verdict, source, sim, hint)


MESSAGES: tuple[WmtMessage, ...] = (
    # ---- DO_MODULE_INIT (wmt_loader) -- section 7.2, 7.3, 11.2
    WmtMessage(
        "common_init_failed",
        "[WCN-MOD-INIT][E]do_connectivity_driver_init({line}):do common driver init failed, ret:{ret}",
        KERN_ERR, "wmt_common_init_failed", "context",
        "common/conn_drv_init.c:do_connectivity_driver_init; driver-interface.md §7.3, §11.2 "
        "(ret:-1 from the compiled-out BT part is benign; another code with 'abort connectivity' is a failure)",
    ),
    _m("abort_connectivity_init",
       "[WCN-MOD-INIT][E]do_connectivity_driver_init({line}):abort connectivity driver init, because common part "
       "is not ready", E, "init_failed", "failure", f"{_CORE}/conn_drv_init.c; {_S} §11.2"),
    _m("detect_installed", "[WMT-DETECT][I]wmt_detect_driver_init:driver(major {major}) installed success", I,
       "detect_ready", "success", f"{_CORE}/wmt_detect.c; {_S} §7.2"),
    _m("detect_no_node", "[WMT-DETECT][E]wmt_detect_driver_init({line}):Unable to find node: {compat}", E,
       "init_failed", "failure", "r2wifi simulator (device tree without the wcn detect node)", sim=True),
    _m("detect_open", "[WMT-DETECT][I]wmt_detect_open:open major {major} minor {minor} (pid {pid})", I, "detect_open",
       "info", f"{_CORE}/wmt_detect.c; {_S} §7.2"),
    _m("detect_close", "[WMT-DETECT][I]wmt_detect_close:close major {major} minor {minor} (pid {pid})", I,
       "detect_close", "info", f"{_CORE}/wmt_detect.c; {_S} §7.2"),
    _m("detect_ioctl", "[WMT-DETECT][I]wmt_detect_unlocked_ioctl:cmd ({cmd}),arg({arg})", I, "detect_ioctl", "info",
       f"{_CORE}/wmt_detect.c; {_S} §7.2"),
    _m("detect_unknown_cmd", "[WMT-DETECT][W]wmt_detect_unlocked_ioctl:unknown cmd ({cmd})", W,
       "benign:wmt_unknown_cmd", "benign", f"{_CORE}/wmt_detect.c; {_S} §7.3"),
    _m("detect_soc_chip", "[WMT-DETECT][I]wmt_detect_unlocked_ioctl:current SOC chip:0x{chip}", I, "chip_id", "info",
       f"{_CORE}/wmt_detect.c; {_S} §7.2"),
    _m("set_consys_chipid", "set current consys chipid (0x{chip})", I, "chip_id", "info",
       f"{_CORE}/wmt_detect.c; {_S} §7.2"),
    _m("common_init_start",
       "[WMT-MOD-INIT][I]do_common_drv_init:start to do common driver init, chipid:0x{chip}", I,
       "module_init_start", "info", f"{_CORE}/conn_drv_init.c; {_S} §7.2"),
    _m("wmt_version", "[WMT-DEV][I]WMT_init:WMT Version= {version_text} DATE={date}", I, "module_init", "info",
       f"{_CORE}/wmt_dev.c:WMT_init; {_S} §7.2"),
    _m("stpwmt_installed", "[WMT-DEV][I]WMT_init:driver(major {major}) installed", I, "stpwmt_ready", "success",
       f"{_CORE}/wmt_dev.c:WMT_init; {_S} §7.2"),
    _m("stpwmt_chrdev_busy", "[WMT-DEV][E]WMT_init({line}):fail to register chrdev({major}), ret {ret} (busy major)",
       E, "init_failed", "failure", f"{_CORE}/wmt_dev.c:WMT_init (wording of r2wifi's simulator); {_S} §11.2",
       sim=True),
    _m("conf_unknown_field", "[WMT-CONF][E]wmt_conf_parse_pair({line}):unknown field '{field}'.", E,
       "benign:wmt_conf_unknown_field", "benign", f"{_CORE}/wmt_conf.c; {_S} §7.3"),
    _m("common_init_done", "[WMT-MOD-INIT][I]do_common_drv_init:finish common driver init", I, "module_init_done",
       "success", f"{_CORE}/conn_drv_init.c; {_S} §7.2"),
    _m("wlan_init_start", "[WLAN-MOD-INIT][I]do_wlan_drv_init:start to do wlan module init 0x{chip}", I,
       "wlan_init_start", "info", f"{_CORE}/drv_init/wlan_drv_init.c; {_S} §7.2"),
    _m("wifi_chrdev_init", "[WLAN-MOD-INIT][I]do_wlan_drv_init:WMT-WIFI char dev init, ret:{ret}", I,
       "wifi_chrdev_init", "info", f"{_CORE}/drv_init/wlan_drv_init.c; {_S} §7.2"),
    _m("wlan_gen2_init", "[WLAN-MOD-INIT][I]do_wlan_drv_init:WLAN-GEN2 driver init, ret:{ret}", I, "wlan_gen2_init",
       "info", f"{_CORE}/drv_init/wlan_drv_init.c; {_S} §7.2"),
    _m("wlan_init_done", "[WLAN-MOD-INIT][I]do_wlan_drv_init:finish wlan module init", I, "wlan_init_done",
       "success", f"{_CORE}/drv_init/wlan_drv_init.c; {_S} §7.2"),
    _m("combo_wifi_not_built", "[WLAN-MOD-INIT][I]do_wlan_drv_init:CONFIG_MTK_COMBO_WIFI is not defined", I,
       "wifi_not_built", "failure", f"{_CORE}/drv_init/wlan_drv_init.c; {_S} §7.3"),
    _m("combo_gps_not_built", "[GPS-MOD-INIT][I]do_gps_drv_init:CONFIG_MTK_COMBO_GPS is not defined", I,
       "benign:wmt_gps_not_built", "benign", f"{_CORE}/drv_init/gps_drv_init.c (the R2 has no GPS)"),
    _m("wifi_chrdev_installed", "[MTK-WIFI] WIFI_init: mtk_wmt_WIFI_chrdev driver(major {major}) installed.", I,
       "wifi_dev_ready", "success", f"{_CORE}/wmt_chrdev_wifi.c:WIFI_init; {_S} §7.2"),
    _m("wifi_chrdev_busy", "[MTK-WIFI] WIFI_init: register_chrdev_region fail, major {major}, ret {ret}", E,
       "init_failed", "failure", f"{_CORE}/wmt_chrdev_wifi.c (wording of r2wifi's simulator); {_S} §11.2", sim=True),
    _m("bt_installed", "[MTK-BT] BT_init: mtk_stp_BT_chrdev driver(major {major}) installed", I, "bt_ready",
       "success", f"{_CORE}/stp_chrdev_bt.c:BT_init; {_S} §7.2"),
    # ---- /dev/stpwmt and the launcher's user command channel -- 7.2, 7.4, 11.2
    _m("stpwmt_open_first", "[WMT-DEV][I]WMT_open:major {major} minor {minor} (pid {pid}), 1st call", I,
       "stpwmt_open", "success", f"{_CORE}/wmt_dev.c:WMT_open; {_S} §7.2, §11.2"),
    _m("stpwmt_open", "[WMT-DEV][I]WMT_open:major {major} minor {minor} (pid {pid})", I, "stpwmt_open", "info",
       f"{_CORE}/wmt_dev.c:WMT_open; {_S} §11.2"),
    _m("stpwmt_close", "[WMT-DEV][I]WMT_close:major {major} minor {minor} (pid {pid}), last call", I,
       "stpwmt_close", "info", f"{_CORE}/wmt_dev.c:WMT_close"),
    _m("stpwmt_open_eio",
       "[WMT-DEV][E]WMT_open({line}):wait_event_timeout ({ms})ms,({jiffies})jiffies,return -EIO", E,
       "launcher_missing", "failure", f"{_CORE}/wmt_dev.c:WMT_open; {_S} §7.4, §11.2"),
    _m("stpwmt_unknown_cmd", "[WMT-DEV][W]WMT_unlocked_ioctl:unknown cmd ({cmd})", W, "benign:wmt_unknown_cmd",
       "benign", f"{_CORE}/wmt_dev.c; {_S} §7.3"),
    _m("stpwmt_unknown_cmd_bare", "[WMT-DEV][W]WMT_unlocked_ioctl:unknown cmd", W, "benign:wmt_unknown_cmd",
       "benign", f"{_CORE}/wmt_dev.c; {_S} §7.3, §11.2"),
    _m("stp_mode_set", "[WMT-DEV][W]WMT_unlocked_ioctl:new hifType: {hif}, fm:{fm}", W, "stp_mode", "success",
       f"{_CORE}/wmt_dev.c; {_S} §7.2, §11.2"),
    _m("hif_added", "[WMT-CORE][E]opfunc_hif_conf({line}):WMT-CORE: WMT HIF info added", E, "stp_mode_set",
       "success", f"{_CORE}/core/wmt_core.c:opfunc_hif_conf; {_S} §7.2, §11.2 (visible at the default level)"),
    _m("hif_overwrite", "[WMT-CORE][E]opfunc_hif_conf({line}):WMT-CORE: WMT HIF already exist. overwrite!", E,
       "stp_mode_again", "info", f"{_CORE}/core/wmt_core.c:opfunc_hif_conf; {_S} §11.2"),
    _m("launcher_killed", "[WMT-DEV][I]WMT_unlocked_ioctl:launcher may be killed,block abnormal stp tx.", I,
       "launcher_kill", "info", f"{_CORE}/wmt_dev.c (SET_LAUNCHER_KILL)"),
    _m("stpwmt_chipid", "[WMT-DEV][I]WMT_unlocked_ioctl:chipid = 0x{chip}", I, "chip_id", "success",
       f"{_CORE}/wmt_dev.c; {_S} §7.2"),
    _m("ul_cmd_occupied", "[WMT-CTRL][W]wmt_ctrl_ul_cmd:cmd buf is occupied by ({cmd})", W, "launcher_missing",
       "failure", f"{_CORE}/core/wmt_ctrl.c:wmt_ctrl_ul_cmd; {_S} §7.4, §11.2"),
    _m("ul_cmd_timeout", "[WMT-CTRL][E]wmt_ctrl_ul_cmd({line}):wait signal timeout", E, "launcher_missing",
       "failure", f"{_CORE}/core/wmt_ctrl.c:wmt_ctrl_ul_cmd; {_S} §7.4, §11.2"),
    _m("ul_cmd_fail", "[WMT-CTRL][W]wmt_ctrl_ul_cmd:wmt_ctrl_ul_cmd fail({ret})", W, "launcher_missing",
       "failure", f"{_CORE}/core/wmt_ctrl.c:wmt_ctrl_ul_cmd; {_S} §7.4"),
    _m("ul_cmd_bad_resp", "[WMT-CTRL][W]wmt_ctrl_ul_cmd:warning resp str ({resp})", W, "launcher_missing",
       "failure", f"{_CORE}/core/wmt_ctrl.c:wmt_ctrl_ul_cmd; {_S} §7.4"),
    # ---- power on / functions -- 7.2, 7.4, 11.2
    _m("opid_start", "[WMT-EXP][I]mtk_wcn_wmt_func_ctrl:OPID({op}) type({drv}) start", I, "op_start", "info",
       f"{_CORE}/linux/pri/wmt_exp.c:mtk_wcn_wmt_func_ctrl; {_S} §7.2, §11.2"),
    _m("opid_ok", "[WMT-EXP][I]mtk_wcn_wmt_func_ctrl:OPID({op}) type({drv}) ok", I, "op_ok", "success",
       f"{_CORE}/linux/pri/wmt_exp.c:mtk_wcn_wmt_func_ctrl; {_S} §7.2, §11.2"),
    _m("opid_fail", "[WMT-EXP][W]mtk_wcn_wmt_func_ctrl:OPID({op}) type({drv}) fail", W, "wifi_on_failed", "failure",
       f"{_CORE}/core/wmt_lib.c:wmtd_thread; {_S} §7.4, §11.2 (op 3/4 = on/off, type 3/4 = WiFi/LPBK)"),
    _m("already_powered", "[WMT-CORE][W]opfunc_pwr_on:WMT-CORE: already powered on...", W, "benign:wmt_already",
       "benign", f"{_CORE}/core/wmt_core.c; {_S} §7.4 (informational)"),
    _m("func_already_on", "[WMT-CORE][W]opfunc_func_on:func({func}) already on", W, "benign:wmt_already", "benign",
       f"{_CORE}/core/wmt_core.c; {_S} §7.4, §11.2"),
    _m("no_hif_info", "[WMT-CORE][E]wmt_core_stp_init({line}):WMT-CORE: no hif info!", E, "launcher_missing",
       "failure", f"{_CORE}/core/wmt_core.c:wmt_core_stp_init; {_S} §7.4",
       hint=HINT_NO_HIF),
    _m("stp_init_fail", "[WMT-CORE][E]opfunc_pwr_on({line}):WMT-CORE: wmt_core_stp_init fail ({ret})", E,
       "launcher_missing", "failure", f"{_CORE}/core/wmt_core.c:opfunc_pwr_on; {_S} §7.4"),
    _m("pwr_on_start", "[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_reg_ctrl:CONSYS-HW-PWR-ON, start", I, "power_on",
       "info", f"{_CORE}/mt7623/wmt_consys_hw.c; {_S} §7.2"),
    _m("pinctrl_default", "[WMT-CONSYS-HW][E]mtk_wmt_probe({line}):Wmt Cannot find pinctrl default!", E,
       "benign:wmt_pinctrl", "benign", f"{_CORE}/mt7623/wmt_consys_hw.c:mtk_wmt_probe; {_S} §7.3"),
    _m("pinctrl_none", "[WMT-CONSYS-HW][E]mtk_wmt_probe({line}):Wmt cannot find pinctrl!", E, "benign:wmt_pinctrl",
       "benign", f"{_CORE}/mt7623/wmt_consys_hw.c:mtk_wmt_probe; {_S} §7.3"),
    _m("vcn18_mode", "[WMT-CONSYS-HW][W]mtk_wcn_consys_hw_reg_ctrl:vcn18: mode operation not allowed", W,
       "benign:wmt_regulator_mode", "benign", f"{_CORE}/mt7623/wmt_consys_hw.c; {_S} §7.3"),
    _m("regulator_mode", "{regulator}: mode operation not allowed", W, "benign:wmt_regulator_mode", "benign",
       f"drivers/regulator/core.c (untagged, for the consys regulator); {_S} §7.3"),
    _m("read_chipid", "[WMT-CONSYS-HW][E]mtk_wcn_consys_hw_reg_ctrl({line}):Read CONSYS chipId(0x{chip})", E,
       "chip_id_read", "info",
       f"{_CORE}/mt7623/wmt_consys_hw.c; {_S} §7.3 (non-0x7623 values on the first reads are normal)"),
    _m("retry_chipid", "[WMT-CONSYS-HW][E]mtk_wcn_consys_hw_reg_ctrl({line}):retry({n})consys chipId(0x{chip})", E,
       "init_failed", "failure", f"{_CORE}/mt7623/wmt_consys_hw.c; {_S} §7.4"),
    _m("consys_power_issue",
       "[WMT-CONSYS-HW][E]mtk_wcn_consys_hw_reg_ctrl({line}):Maybe has a consys power on issue,(0x{chip})", E,
       "init_failed", "failure", f"{_CORE}/mt7623/wmt_consys_hw.c; {_S} §7.4"),
    _m("pwr_on_finish", "[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_reg_ctrl:CONSYS-HW-PWR-ON, finish({ret})", I,
       "power_on_done", "success", f"{_CORE}/mt7623/wmt_consys_hw.c; {_S} §7.2"),
    _m("pwr_off_finish", "[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_reg_ctrl:CONSYS-HW-PWR-OFF, finish({ret})", I,
       "power_off", "info", f"{_CORE}/mt7623/wmt_consys_hw.c"),
    _m("emi_ok", "[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_init:EMI mapping OK(0x{addr})", I, "emi_ok", "success",
       f"{_CORE}/mt7623/wmt_consys_hw.c; {_S} §7.2"),
    _m("emi_invalid", "[WMT-CONSYS-HW][E]mtk_wmt_probe({line}):consys emi memory address gConEmiPhyBase invalid", E,
       "init_failed", "failure", f"{_CORE}/mt7623/wmt_consys_hw.c:mtk_wmt_probe; {_S} §7.4"),
    _m("regulator_get_fail", "[WMT-CONSYS-HW][E]mtk_wmt_probe({line}):Regulator_get VCN_1V8 fail, ret={ret}", E,
       "init_failed", "failure", f"{_CORE}/mt7623/wmt_consys_hw.c:mtk_wmt_probe; {_S} §7.4"),
    _m("reset_get_fail", "[WMT-CONSYS-HW][E]mtk_wmt_probe({line}):CanNot get consys reset. ret={ret}", E,
       "init_failed", "failure", f"{_CORE}/mt7623/wmt_consys_hw.c:mtk_wmt_probe; {_S} §7.4"),
    _m("hw_check_fail", "[WMT-CORE][E]opfunc_pwr_on({line}):hw_check fail:{ret}", E, "init_failed", "failure",
       f"{_CORE}/core/wmt_core.c; {_S} §7.4"),
    _m("unsupported_chip", "[WMT-CORE][E]wmt_core_hw_check({line}):unsupported chip id (hw_code): 0x{chip}", E,
       "init_failed", "failure", f"{_CORE}/core/wmt_core.c; {_S} §7.4"),
    _m("btif_clk_info", "MTK-BTIF[E]hal_btif_clk_get_and_prepare({line}):[CCF]clk_btif={clk}", E,
       "benign:btif_clk_info", "benign", f"{_CORE}/../btif/hal_btif.c; {_S} §7.3 (info printed at error level)"),
    _m("hw_ver", "[WMT-IC][I]mt6625_ver_check:0x{chip}: read hw_ver (hw version) (0x{ver})", I, "hw_version",
       "info", f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.2"),
    _m("fw_ver", "[WMT-IC][I]mt6625_ver_check:0x{chip}: read fw_ver (rom version) (0x{ver})", I, "fw_version",
       "info", f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.2"),
    _m("ic_info", "[WMT-IC][I]mt6625_ver_check:0x{chip}: ic info: {info} (0x{hw}/0x{fw}, WMTHWVER:{hwver}, "
       "patch_ext:{ext})", I, "ic_info", "info",
       f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.2"),
    _m("coclock_disabled", "[WMT-CORE][I]opfunc_pwr_on:co-clock disabled.", I, "benign:wmt_coclock", "benign",
       f"{_CORE}/core/wmt_core.c; {_S} §7.3"),
    _m("pmic_on_off", "[WMT-CONSYS-HW][I]mtk_wcn_consys_hw_wifi_paldo_ctrl:WMT do WIFI PMIC on/off", I, "wifi_pmic",
       "info", f"{_CORE}/mt7623/wmt_consys_hw.c; {_S} §7.2"),
    _m("status_dump",
       "[WMT-CORE][I]wmt_core_dump_func_state:[{where}]status(b:{b} f:{f} g:{g} w:{w} lpbk:{lpbk} "
       "coredump:{coredump} wmt:{wmt} stp:{stp})", I, "status", "info", f"{_CORE}/core/wmt_core.c; {_S} §7.2"),
    _m("hw_pwr_off", "[WMT-CORE][I]opfunc_pwr_off:HW_PWR_OFF ok", I, "power_off", "info",
       f"{_CORE}/core/wmt_core.c; {_S} §7.2"),
    # ---- ROM patch -- 7.2, 7.4, 11.2
    _m("patch_built_time", "[WMT-IC][I]mtk_wcn_soc_patch_dwn:[Patch]BuiltTime = {built}, HVer = 0x{hver}, "
       "SVer = 0x{sver}, PhVer = 0x{phver},Platform = {platform}", I, "patch_header",
       "success", f"{_CORE}/core/wmt_ic_soc.c:mtk_wcn_soc_patch_dwn; {_S} §11.2"),
    _m("patch_dwn_ok", "[WMT-IC][W]mtk_wcn_soc_patch_dwn:wmt_core: patch dwn:{ret} frag({frags}, {last}) ok", W,
       "patch_ok", "success", f"{_CORE}/core/wmt_ic_soc.c:mtk_wcn_soc_patch_dwn; {_S} §11.2"),
    _m("patch_prepare_fail", "[WMT-CORE][E]wmt_core_patch_dwn({line}):patch info perpare fail({ret})", E,
       "patch_failed", "failure", f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.4, §11.2"),
    _m("patch_dwn_fail", "[WMT-CORE][E]wmt_core_patch_dwn({line}):patch dwn fail ({ret}),patch_index({index})", E,
       "patch_failed", "failure", f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.4"),
    _m("get_patch_fail", "[WMT-CORE][E]wmt_core_patch_dwn({line}):wmt_core: WMT_CTRL_GET_PATCH fail:{ret}", E,
       "patch_failed", "failure", f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.4"),
    _m("load_file_fail", "[WMT-CTRL][E]wmt_ctrl_get_patch({line}):load file ({name}) fail, iRet({ret})", E,
       "patch_failed", "failure", f"{_CORE}/core/wmt_ctrl.c; {_S} §7.4, §11.2"),
    _m("patch_error_code", "[WMT-CORE][E]wmt_core_patch_dwn({line}):error code:{code}", E, "patch_failed",
       "failure", f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.4"),
    # ---- BTIF / STP transport, WMT RX -- 7.4
    _m("stp_open_btif_fail", "[STP-BTIF][E]stp_btif_open({line}):STP open btif fail({ret})", E, "btif_failure",
       "failure", f"{_CORE}/linux/stp_btif.c; {_S} §7.4",
       hint=HINT_BTIF),
    _m("btif_write_err", "[STP-BTIF][E]stp_btif_tx({line}):mtk_wcn_btif_write err({ret})", E, "btif_failure",
       "failure", f"{_CORE}/linux/stp_btif.c; {_S} §7.4"),
    _m("btif_write_fail",
       "[STP-BTIF][E]stp_btif_tx({line}):stp btif write fail,len({len}),written({written}),retry_left({left}),"
       "pid[{pid}/{comm}]", E, "btif_failure", "failure", f"{_CORE}/linux/stp_btif.c; {_S} §7.4",
       hint=HINT_BTIF),
    _m("stp_crc_fail", "CRC fail, length = {len}, rx = {rx}, calc = {calc}", E, "btif_failure", "failure",
       f"{_CORE}/core/stp_core.c; {_S} §7.4"),
    _m("stp_tx_timeout", "mtkstp_tx_timeout_handler, retry = {n}", E, "btif_failure", "failure",
       f"{_CORE}/core/stp_core.c; {_S} §7.4",
       hint=HINT_BTIF),
    _m("stp_tx_retry_limit", "TX retry limit = {n}", E, "btif_failure", "failure", f"{_CORE}/core/stp_core.c; {_S} §7.4",
       hint=HINT_BTIF),
    _m("stp_noack_assert", "[STP] mtk_wcn_stp_assert: STP NoAck trigger firmware assert", E, "btif_failure",
       "failure", f"{_CORE}/core/stp_core.c; {_S} §7.4, §11.2",
       hint=HINT_BTIF),
    _m("stp_not_ready_psm", "[STP] mtk_wcn_stp_psm_enable:[W] STP Not Ready, Dont do Sleep/Wakeup", W,
       "stp_not_ready", "info", f"{_CORE}/core/stp_core.c (a consequence of a failed power-on)"),
    _m("wmt_rx_timeout",
       "[WMT-LIB][E]wmt_dev_rx_timeout({line}):wmt_dev_rx_timeout: timeout,jiffies({jiffies}),timeoutvalue({ms})", E,
       "btif_failure", "failure", f"{_CORE}/linux/wmt_dev.c; {_S} §7.4",
       hint=HINT_BTIF),
    _m("wmt_evt_len_err", "WMT-CORE: read ({what}) iRet({ret}) evt len err(rx:{rx}, exp:{exp})", E, "btif_failure",
       "failure", f"{_CORE}/core/wmt_core.c; {_S} §7.4"),
    _m("wmt_compare_err", "WMT-CORE:compare {what} result error", E, "btif_failure", "failure",
       f"{_CORE}/core/wmt_core.c; {_S} §7.4"),
    _m("init_table_fail", "init_table_1_2 fail({ret})", E, "btif_failure", "failure",
       f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.4"),
    _m("calibration_fail", "calibration_table fail({ret})", E, "btif_failure", "failure",
       f"{_CORE}/core/wmt_ic_soc.c; {_S} §7.4"),
    _m("chip_reset_start", "[WMT-LIB][W]wmt_lib_trigger_reset:Whole chip reset start!", W, "chip_reset", "info",
       f"{_CORE}/core/wmt_lib.c; {_S} §11.2"),
    _m("chip_reset_fail", "[WMT-LIB][E]wmt_lib_reset_thread({line}):chip reset fail", E, "btif_failure", "failure",
       f"{_CORE}/core/wmt_lib.c; {_S} §11.2"),
    _m("chip_reset_ok", "[WMT-LIB][I]wmt_lib_reset_thread:chip reset ok", I, "chip_reset_ok", "success",
       f"{_CORE}/core/wmt_lib.c; {_S} §11.2"),
    # ---- function on / WiFi char device -- 7.2, 7.4, 11.2
    _m("op_wait_timeout", "wait completion timeout, opId({op}), show wmtd_thread stack!", E, "wifi_on_failed",
       "failure", f"{_CORE}/core/wmt_lib.c; {_S} §7.4, §11.2",
       hint=HINT_BTIF),
    _m("opid_failed", "opid ({op}) failed, iRet({ret})", E, "wifi_on_failed", "failure",
       f"{_CORE}/core/wmt_lib.c; {_S} §7.4"),
    _m("func_pwr_on_fail", "[WMT-CORE][E]opfunc_func_on({line}):func({func}) pwr_on fail({ret})", E,
       "wifi_on_failed", "failure", f"{_CORE}/core/wmt_core.c:opfunc_func_on; {_S} §7.4",
       hint=HINT_UNPOWERED),
    _m("function_on_failed", "WMT-CORE:type(0x{type}) function on failed, ret({ret})", E, "wifi_on_failed",
       "failure", f"{_CORE}/core/wmt_core.c; {_S} §7.4"),
    _m("core_ctrl_failed",
       "WMT-CORE: wmt_core_ctrl failed: id({id}), type({type}), value({value}) iRet:({ret})", E, "wifi_on_failed",
       "failure", f"{_CORE}/core/wmt_core.c; {_S} §7.4"),
    _m("wifi_open", "[MTK-WIFI] WIFI_open: WIFI_open: major {major} minor {minor} (pid {pid})", I, "wifi_dev_open",
       "info", f"{_CORE}/wmt_chrdev_wifi.c"),
    _m("wifi_close", "[MTK-WIFI] WIFI_close: WIFI_close: major {major} minor {minor} (pid {pid})", I,
       "wifi_dev_close", "info", f"{_CORE}/wmt_chrdev_wifi.c"),
    _m("wifi_write", "[MTK-WIFI] WIFI_write: WIFI_write {cmd}", I, "wifi_write", "info",
       f"{_CORE}/wmt_chrdev_wifi.c:WIFI_write; {_S} §7.2, §11.2"),
    _m("wifi_on_fail", "[MTK-WIFI] WIFI_write: WMT turn on WIFI fail!", E, "wifi_on_failed", "failure",
       f"{_CORE}/wmt_chrdev_wifi.c:WIFI_write; {_S} §7.4"),
    _m("wifi_on_ok", "[MTK-WIFI] WIFI_write: WMT turn on WIFI success!", I, "wifi_on", "success",
       f"{_CORE}/wmt_chrdev_wifi.c:WIFI_write; {_S} §7.2"),
    _m("wifi_off_ok", "[MTK-WIFI] WIFI_write: WMT turn off WIFI OK!", I, "wifi_off", "success",
       f"{_CORE}/wmt_chrdev_wifi.c:WIFI_write; {_S} §7.2"),
    _m("p2p_handler_null", "[MTK-WIFI] WIFI_write: Set p2p mode handler is NULL", E, "wifi_on_failed", "failure",
       f"{_CORE}/wmt_chrdev_wifi.c:WIFI_write; {_S} §7.4",
       hint=HINT_P2P_NULL),
    _m("netdev_wait", "[MTK-WIFI] WIFI_write: Fail to get {dev} net device, sleep 300ms", E, "wifi_on_failed",
       "failure", f"{_CORE}/wmt_chrdev_wifi.c:WIFI_write; {_S} §7.4",
       hint=HINT_RENAMED),
    _m("netdev_timeout", "[MTK-WIFI] WIFI_write: Get {dev} net device timeout", E, "wifi_on_failed", "failure",
       f"{_CORE}/wmt_chrdev_wifi.c:WIFI_write; {_S} §7.4",
       hint=HINT_RENAMED),
    _m("wifi_already_on", "[MTK-WIFI] WIFI_write: WIFI is already power on!", I, "benign:wmt_already", "benign",
       f"{_CORE}/wmt_chrdev_wifi.c; {_S} §7.4 (informational)"),
    _m("wifi_already_off", "[MTK-WIFI] WIFI_write: WIFI is already power off!", I, "benign:wmt_already", "benign",
       f"{_CORE}/wmt_chrdev_wifi.c; {_S} §7.4 (informational)"),
    _m("wifi_already_mode", "[MTK-WIFI] WIFI_write: WIFI is already in mode {mode}!", I, "benign:wmt_already",
       "benign", f"{_CORE}/wmt_chrdev_wifi.c; {_S} §7.4 (informational)"),
    _m("wlan_mode_switch", "[MTK-WIFI] WIFI_write: Set wlan mode {old} --> {new}", I, "wlan_mode", "info",
       f"{_CORE}/wmt_chrdev_wifi.c; {_S} §7.2, §11.2"),
    _m("wlan_mode_reset", "[MTK-WIFI] WIFI_write: Set wlan mode {mode}", I, "wlan_mode", "info",
       f"{_CORE}/wmt_chrdev_wifi.c; {_S} §11.2 (reset recovery)"),
    _m("p2p_off", "[MTK-WIFI] WIFI_write: Turn off p2p/ap mode", I, "wlan_mode", "info",
       f"{_CORE}/wmt_chrdev_wifi.c; {_S} §7.2, §11.2"),
    # ---- wlan_gen2 probe -- 7.2, 7.4
    _m("fw_image_size", "kalFirmwareImageMapping firmware size {size}", I, "fw_image", "success", f"{_WLAN}; {_S} §7.2"),
    _m("glbusinit_fail", "wlanProbe: glBusInit() fail", E, "wifi_on_failed", "failure", f"{_WLAN}; {_S} §7.4"),
    _m("fw_image_map_fail", "kalFirmwareImageMapping fail!", E, "wifi_on_failed", "failure", f"{_WLAN}; {_S} §7.4",
       hint=HINT_RAM_CODE),
    _m("fw_image_open_fail", "Open FW image: {name} failed", E, "wifi_on_failed", "failure", f"{_WLAN}; {_S} §7.4",
       hint=HINT_RAM_CODE),
    _m("netdev_register_fail", "wlanProbe: Cannot register the net_device context to the kernel", E,
       "wifi_on_failed", "failure", f"{_WLAN}; {_S} §7.4"),
    _m("wlan_probe_failed", "wlanProbe failed", E, "wifi_on_failed", "failure", f"{_WLAN}; {_S} §7.4"),
    # ---- Bluetooth -- 7.2, 7.4
    _m("bt_on_ok", "[MTK-BT] BT_open: WMT turn on BT OK!", I, "bt_on", "success", f"{_CORE}/stp_chrdev_bt.c; {_S} §7.2"),
    _m("bt_on_fail", "[MTK-BT] BT_open: WMT turn on BT fail!", E, "bt_failed", "failure",
       f"{_CORE}/stp_chrdev_bt.c; {_S} §7.4"),
    _m("bt_stp_not_ready", "[MTK-BT] BT_open: STP is not ready", E, "bt_failed", "failure",
       f"{_CORE}/stp_chrdev_bt.c; {_S} §7.4",
       hint=HINT_UNPOWERED),
    _m("hci_init_fail", "Can't init device hci0: Invalid request code (56)", E, "bt_failed", "failure",
       f"bluez hciconfig (userspace, kernel 5.15); {_S} §7.4"),
    # ---- wlan_gen2 DBGLOG (traffic / deauth) -- 7.5
    _m("txq_stop_p2p", "p2pHardStartXmit:(TX INFO)netif_stop_subqueue for {dev}, Queue len: {qlen}", D, "txq_stop",
       "info", f"{_WLAN} p2pHardStartXmit; {_S} §7.5"),
    _m("txq_stop_wlan", "wlanHardStartXmit:(TX INFO)netif_stop_subqueue for {dev}, Queue len: {qlen}", D,
       "txq_stop", "info", f"{_WLAN} wlanHardStartXmit; {_S} §7.5"),
    _m("txq_wake", "kalSendCompleteAndAwakeQueue:(TX INFO)netif_wake_subqueue for bss: {bss}. Queue len: {qlen}", D,
       "txq_wake", "info", f"{_WLAN} kalSendCompleteAndAwakeQueue; {_S} §7.5"),
    _m("saa_rx_deauth_from", "saaFsmRunEventRxDeauth:(SAA INFO)Rx Deauth frame from BSSID=[ {bssid} ].", D,
       "client_deauth_from", "info", f"{_WLAN} saa_fsm.c; {_S} §7.5"),
    _m("saa_deauth_reason", "saaFsmRunEventRxDeauth:(SAA INFO)Deauth reason = {reason}", D, "client_deauth", "info",
       f"{_WLAN} saa_fsm.c; {_S} §7.5"),
    _m("saa_disassoc_reason", "saaFsmRunEventRxDisassoc:(SAA INFO)Disassoc reason = {reason}", D, "client_disassoc",
       "info", f"{_WLAN} saa_fsm.c; {_S} §7.5 (analogous disassoc variant)"),
    _m("go_rx_deauth", "p2pFsmRunEventRxDeauthentication:(P2P INFO)GO RX Deauth Reason: {reason}", D, "sta_deauth",
       "info", f"{_WLAN} p2p_fsm.c; {_S} §7.5"),
    _m("gc_rx_deauth", "p2pFsmRunEventRxDeauthentication:(P2P INFO)GC RX Deauth Reason: {reason}", D,
       "client_deauth", "info", f"{_WLAN} p2p_fsm.c; {_S} §7.5"),
    _m("go_rx_disassoc", "p2pFsmRunEventRxDisassociation:(P2P INFO)GO RX Disassoc Reason {reason}", D,
       "sta_disassoc", "info", f"{_WLAN} p2p_fsm.c; {_S} §7.5"),
    _m("gc_rx_disassoc", "p2pFsmRunEventRxDisassociation:(P2P INFO)GC RX Disassoc Reason {reason}", D,
       "client_disassoc", "info", f"{_WLAN} p2p_fsm.c; {_S} §7.5"),
    # ---- userspace wmt_loader / stp_uart_launcher -- 7.6, 7.3
    _m("loader_no_node", "Can't open device node({node}) count({count})", E, "launcher_no_device", "failure",
       f"{_USER} wmt_loader; {_S} §7.6"),
    _m("launcher_no_node", "Can't open device node({node}) error:{err}", E, "launcher_no_device", "failure",
       f"{_USER} stp_uart_launcher; {_S} §7.3, §7.6"),
    _m("loader_init_failed", "failed to init module", E, "loader_init_failed", "context",
       f"{_USER} wmt_loader (the BT part's -1 of DO_MODULE_INIT); {_S} §7.3, §11.2"),
    _m("loader_module_init", "do module init: {ret}", I, "loader_module_init", "info", f"{_USER} wmt_loader; {_S} §7.6"),
    _m("launcher_open_ok", "open device node succeed.(Node:{node}, fd:{fd})", I, "launcher_open", "success",
       f"{_USER} stp_uart_launcher; {_S} §7.6"),
    _m("launcher_power_retry", "power on {what} failed, retrying, retry counter:{n}", E, "launcher_power_retry",
       "info", f"{_USER} stp_uart_launcher; {_S} §7.6 (retried up to 20 times)"),
    _m("launcher_cmd", "cmd({cmd}) resp({resp})", I, "launcher_cmd", "info", f"{_USER} stp_uart_launcher; {_S} §7.6"),
    # ---- simulator block (r2wifi/sim, H4): lines the simulated driver prints that the entries above lack ----
    _m("stpwmt_first_call", "[WMT-DEV][I]WMT_open:1st call", I, "stpwmt_open", "info",
       f"{_CORE}/wmt_dev.c:WMT_open (a line of its own besides 'major 190 minor 0 (pid N)'); {_S} §11.2"),
    _m("stpwmt_release", "[WMT-DEV][I]WMT_close:major {major} minor {minor} (pid {pid})", I, "stpwmt_close", "info",
       f"{_CORE}/wmt_dev.c:WMT_close"),
    _m("stpwmt_last_call", "[WMT-DEV][I]WMT_close:last call", I, "stpwmt_close", "info",
       f"{_CORE}/wmt_dev.c:WMT_close; {_S} §2.1"),
    _m("patch_num_set", "[WMT-DEV][I]WMT_unlocked_ioctl:get patch num from launcher = {num}", I, "patch_num", "info",
       "r2wifi simulator (SET_PATCH_NUM)", sim=True),
    _m("patch_info_set", "[WMT-DEV][I]WMT_unlocked_ioctl:get patch info: seq({seq}), addr(0x{addr}), path({path})",
       I, "patch_info", "info", "r2wifi simulator (SET_PATCH_INFO)", sim=True),
    _m("patch_seq_unchecked", "[WMT-DEV][E]WMT_unlocked_ioctl({line}):patch seq({seq}) outside 1..{num}: the kernel "
       "stores it without a bounds check", E, "patch_seq_corrupt", "failure",
       f"r2wifi simulator (SET_PATCH_INFO has no bounds check); {_S} §11.2", sim=True),
    _m("resp_unasked", "[WMT-DEV][W]WMT_write:no pending command, resp ({resp}) dropped", W, "launcher_cmd", "info",
       "r2wifi simulator (a reply without a pending command)", sim=True),
    _m("wlan_gen2_module_init", "[wlan]initWlan: WLAN-GEN2 driver init, ret:{ret}", I, "wlan_gen2_init", "info",
       "r2wifi simulator (wlan_gen2.ko module init)", sim=True),
    _m("wlan_gen2_too_early", "[wlan]initWlan: WMT exports not initialised (load after wmt_loader)", E,
       "wlan_gen2_too_early", "failure", "r2wifi simulator (wlan_gen2.ko before DO_MODULE_INIT)", sim=True),
    _m("fw_open_file", "open file: {path}", E, "fw_image_missing", "failure", f"{_WLAN}; {_S} §7.4",
       hint=HINT_RAM_CODE),
    _m("bt_off_ok", "[MTK-BT] BT_close: WMT turn off BT OK!", I, "bt_off", "info", f"{_CORE}/stp_chrdev_bt.c"),
    _m("bt_hci_workaround", "Bluetooth: {hci}: this workaround is applied for mediatek BT", I, "bt_ready", "info",
       f"{_CORE}/stp_chrdev_bt.c; {_S} §5"),
    _m("bt_fw_assert", "[MTK-BT] BT_unlocked_ioctl: BT Set fw assert......", I, "bt_assert", "info",
       f"{_CORE}/stp_chrdev_bt.c"),
    # ---- end of the simulator block
)

# What a marker (``WmtMessage.meaning``) means for a user: the finding kind it raises (None: none by itself)
# and a one-line explanation (``doctor`` shows it; the findings' own texts live in diagnose/rules.py).
MARKERS: dict[str, tuple[str | None, str]] = {
    "init_failed": ("wmt_init_failed", "WMT/consys initialisation failed: device tree (consys node, clocks, "
                                       "regulators, reserved memory) or a second DO_MODULE_INIT"),
    "launcher_missing": ("wmt_launcher_missing", "the launcher never set the STP mode or does not answer: "
                                                 "start it (r2wifi chip launch / r2wifi run)"),
    "patch_failed": ("wmt_patch_failed", "ROM patches missing or unreadable: check /etc/firmware "
                                         "(r2wifi firmware check)"),
    "btif_failure": ("wmt_btif_failure", "BTIF/STP transport broken (BTIF node / IRQ / clock in the device tree)"),
    "wifi_on_failed": ("wmt_wifi_on_failed", "turning WiFi on failed: WIFI_RAM_CODE_7623, wlan_gen2, wlan0 name, "
                                             "launcher"),
    "wifi_not_built": ("driver_not_loaded", "the kernel lacks the WiFi part (CONFIG_MTK_COMBO_WIFI)"),
    "bt_failed": (None, "Bluetooth could not be turned on"),
    "patch_seq_corrupt": ("wmt_patch_failed", "a patch header names a sequence number outside the patch count: "
                                              "corrupt or wrong patch files"),
    "wlan_gen2_too_early": ("wmt_wifi_on_failed", "wlan_gen2 was loaded before the WMT driver initialised: "
                                                  "load it after wmt_loader"),
    "fw_image_missing": ("wmt_wifi_on_failed", "WIFI_RAM_CODE_7623 missing: it must be in /etc/firmware"),
    "launcher_no_device": ("startup_failure", "the launcher/loader cannot open its device node: the WMT driver "
                                              "did not initialise"),
    "wmt_common_init_failed": (None, "harmless from the BT part (ret:-1) when /dev/stpwmt and /dev/wmtWifi "
                                     "appear; a failure with another code or when they do not"),
    "loader_init_failed": (None, "harmless from the BT part when the WiFi device nodes appear"),
}
BENIGN_TEXT = "harmless (driver-interface.md 7.3)"


def kind_of(meaning: str) -> str | None:
    """The finding kind a marker raises by itself (None for success/info/benign/context markers)."""
    entry = MARKERS.get(meaning)
    return entry[0] if entry else None


BY_KEY: dict[str, WmtMessage] = {m.key: m for m in MESSAGES}


def render(key: str, **fields: object) -> str:
    """The line the driver prints for message ``key`` with ``fields`` filled in."""
    return BY_KEY[key].render(**fields)


_HEADER = re.compile(r"^(\[?)([A-Z0-9-]+)(\]?)\[[EWIDL]\]\w+(\(\{line\}\))?:")


def _regex(fmt: str, prefix: str = "") -> str:
    """The pattern of a whole line: a ``[TAG][L]func(line):`` header matches any level, function and line
    number (they differ between kernel versions and debug levels, section 7.1), and level and function
    may be missing (plain-printk builds and retyped forum pastes)."""
    head = _HEADER.match(fmt)
    if head is None:
        return body_regex(fmt, prefix) + r"\s*$"
    lead, tag, close = head.group(1), head.group(2), head.group(3)
    hdr = re.escape(lead + tag + close) + r"\s*(?:\[[EWIDL]\]\s*)?(?:\w+(?:\(\d+\))?:\s*)?"
    return hdr + body_regex(fmt[head.end():], prefix) + r"\s*$"


@cache
def _compile(fmt: str) -> re.Pattern[str]:
    return re.compile(_regex(fmt))


def keyword(m: WmtMessage) -> str:
    """The longest literal piece of an entry's message (after its header): the prefilter keyword."""
    head = _HEADER.match(m.fmt)
    body = m.fmt[head.end():] if head else m.fmt
    pieces = [lit for lit, _f, _s, _c in string.Formatter().parse(body)]
    return max((p.strip() for p in pieces), key=len)


KEYWORDS: tuple[str, ...] = tuple(dict.fromkeys(keyword(m) for m in MESSAGES))


def _combined() -> tuple[re.Pattern[str], list[tuple[int, WmtMessage, str]]]:
    parts: list[str] = []
    index: list[tuple[int, WmtMessage, str]] = []
    group = 0
    for i, m in enumerate(MESSAGES):
        rx = _regex(m.fmt, prefix=f"m{i}_")
        group += 1
        index.append((group, m, f"m{i}_"))
        parts.append(f"({rx})")
        group += re.compile(rx).groups
    return re.compile("|".join(parts)), index


_ALL, _INDEX = _combined()
PREFILTER = any_of(KEYWORDS)


def classify(msg: str) -> tuple[WmtMessage, dict[str, str]] | None:
    """The catalogue entry a kernel message (prefix stripped) is, with its fields; None when unknown.

    One combined regex over every entry; when several entries match at the same place the first in
    :data:`MESSAGES` wins.
    """
    if PREFILTER.search(msg) is None:
        return None
    hit = _ALL.search(msg)
    if hit is None:
        return None
    for group, m, prefix in _INDEX:
        if hit.start(group) >= 0:
            func = _LINE_FUNC.search(msg, hit.start(group))
            if func is not None and func.start() == hit.start(group) and func.group(1) != _func_of(m):
                # same text, another function (WMT_open / WMT_close): an entry naming this function wins
                for other in MESSAGES:
                    if other is not m and _func_of(other) == func.group(1):
                        exact = other.pattern.search(msg)
                        if exact is not None:
                            return other, {k: v for k, v in exact.groupdict().items() if v is not None}
            n = len(prefix)
            return m, {k[n:]: v for k, v in hit.groupdict().items() if k.startswith(prefix) and v is not None}
    return None  # pragma: no cover - a match always has one entry group


_LINE_FUNC = re.compile(r"\[?[A-Z0-9-]+\]?\[[EWIDL]\](\w+)")


@cache
def _func_of(m: WmtMessage) -> str | None:
    head = _LINE_FUNC.match(m.fmt)
    return head.group(1) if head else None


def ret_of(fields: dict[str, str]) -> int | None:
    try:
        return int(fields.get("ret", ""))
    except ValueError:
        return None


class WmtContext:
    """Sans-IO verdict of the context-dependent lines (section 7.3 / 11.2), fed in log order.

    ``do common driver init failed, ret:-1`` (and wmt_loader's ``failed to init module``) come from the
    compiled-out Bluetooth part on every healthy boot: benign. They are part of a real WMT init failure
    when the code is another one, when ``abort connectivity driver init`` follows, when a launcher cannot
    open /dev/stpwmt, or when the WiFi part is not built. Only lines visible at the default (error) log
    level and userspace lines decide: no verdict depends on [W]/[I] lines.
    """

    def __init__(self) -> None:
        self.context_refs: list[object] = []  # the context lines (whatever reference the caller keeps)
        self.failure_refs: list[object] = []  # the lines that make them a failure
        self.reasons: list[str] = []

    def feed(self, m: WmtMessage, fields: dict[str, str], ref: object) -> None:
        if m.verdict == "context":
            if len(self.context_refs) < 12:
                self.context_refs.append(ref)
            ret = ret_of(fields)
            if m.key == "common_init_failed" and ret is not None and ret != -1:
                self._fail(f"common driver init failed with {ret}", ref)
        elif m.key == "abort_connectivity_init":
            self._fail("connectivity driver init aborted", ref)
        elif m.meaning == "launcher_no_device" and "stpwmt" in fields.get("node", ""):
            self._fail("/dev/stpwmt cannot be opened", ref)
        elif m.meaning == "wifi_not_built":
            self._fail("CONFIG_MTK_COMBO_WIFI is not defined", ref)

    def _fail(self, why: str, ref: object) -> None:
        if why not in self.reasons:
            self.reasons.append(why)
        if len(self.failure_refs) < 12:
            self.failure_refs.append(ref)

    @property
    def seen(self) -> bool:
        return bool(self.context_refs)

    @property
    def failed(self) -> bool:
        """The context lines are part of a real init failure (else, when seen, they are benign)."""
        return bool(self.context_refs) and bool(self.failure_refs)


def assess(messages: list[str]) -> list[tuple[WmtMessage, str, str, str]]:
    """Classify a kernel/launcher log for ``doctor``: ``(entry, status, text, last line)`` per entry seen,
    with status ``fail``/``info`` from the verdicts and the context rule (success/info lines left out)."""
    ctx = WmtContext()
    last: dict[str, tuple[WmtMessage, str]] = {}
    for line in messages:
        hit = classify(line)
        if hit is None:
            continue
        m, fields = hit
        ctx.feed(m, fields, line)
        if m.verdict in ("failure", "benign", "context"):
            last[m.key] = (m, line)
    out: list[tuple[WmtMessage, str, str, str]] = []
    for m, line in last.values():
        if m.verdict == "failure":
            out.append((m, "fail", MARKERS.get(m.meaning, (None, m.meaning))[1], line))
        elif m.verdict == "context":
            status = "fail" if ctx.failed else "info"
            text = MARKERS[m.meaning][1] if not ctx.failed else "part of a WMT init failure: " + ", ".join(ctx.reasons)
            out.append((m, status, text, line))
        else:
            out.append((m, "info", BENIGN_TEXT, line))
    return out
