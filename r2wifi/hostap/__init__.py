"""hostapd / wpa_supplicant / dnsmasq: configuration rendering, control sockets, daemon runner.

Modules (each documents its API in its docstring):

* :mod:`r2wifi.hostap.render`: ``render_hostapd(cfg, ctrl_dir)``, ``render_wpa_supplicant``,
  ``render_dnsmasq``, ``*_argv`` builders and ``write_*_conf`` (0600 when a secret is inside).
* :mod:`r2wifi.hostap.ctrl`: ``CtrlClient`` (PING, STATUS, STA/all_sta, ATTACH, events,
  reconnect) and ``wait_ready(path, kind=..., alive=...)``; ``CtrlProtocol`` is the sans-IO core.
* :mod:`r2wifi.hostap.daemon`: ``Daemon`` (pid file, pty-captured time-stamped rotating log,
  polite stop, netns) and the factories ``hostapd_daemon`` / ``wpa_supplicant_daemon`` /
  ``dnsmasq_daemon``.
* :mod:`r2wifi.hostap.logpump`: the log-pump process and ``RotatingLog``.
* :mod:`r2wifi.hostap.qr`: the WiFi join QR payload.
"""
