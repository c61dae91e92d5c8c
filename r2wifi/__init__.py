"""r2wifi: the BPI-R2 (MT7623 / MT6625L) WiFi userspace, AP supervisor and hostapd log doctor."""

from r2wifi import accel as _accel

__version__ = "0.1.0"

_accel.install()  # the optional compiled diagnose modules (no I/O here; see r2wifi/accel.py)
