"""Chip bring-up for the MT7623 CONSYS + MT6625L combo: the vendor WMT driver's userspace, in Python.

Modules (all device access goes through :mod:`r2wifi.wmt.backend`; which backend is chosen above this
package, in :mod:`r2wifi.backends`: nothing here imports the simulator):

* :mod:`~r2wifi.wmt.driver`: the driver's facts (device nodes and majors, chip ids, firmware set,
  timeouts, interface names): their one home, read by the simulator, doctor, install and firmware tools.
* :mod:`~r2wifi.wmt.ioctls`: ioctl numbers computed per ABI.
* :mod:`~r2wifi.wmt.loader`: ``Loader(backend).run()`` -- replaces ``wmt_loader`` (once per boot).
* :mod:`~r2wifi.wmt.protocol`: the launcher's command channel as a sans-IO state machine.
* :mod:`~r2wifi.wmt.launcher`: the resident launcher (``run_resident``) -- replaces ``stp_uart_launcher``.
* :mod:`~r2wifi.wmt.resident`: ``start_resident()`` starts it detached (fork, or one spawn when threads
  run) and returns once the chip is powered.
* :mod:`~r2wifi.wmt.state`: launcher pid/lock/log/``launcher.json``; ``read_state()``,
  ``chip_ready()``, ``launcher_pid()``, ``vendor_launchers()`` for doctor / supervisor / status.
* :mod:`~r2wifi.wmt.wifi`: ``WifiControl(backend).set_mode("off"|"sta"|"ap"|"p2p")`` and EIO explanations.
* :mod:`~r2wifi.wmt.bt`: ``bt_up(backend)`` / ``status(backend)`` for stp_chrdev_bt and hci0.
* :mod:`~r2wifi.wmt.firmware`: patch headers, ``check_firmware_set(dir, root)``; :mod:`~r2wifi.wmt.wmtcfg`
  (WMT_SOC.cfg), :mod:`~r2wifi.wmt.nvram` (MAC at offset 4), :mod:`~r2wifi.wmt.fwgen` (synthetic set).
"""
