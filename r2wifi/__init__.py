"""r2wifi: the BPI-R2 (MT7623 / MT6625L) WiFi userspace, AP supervisor and hostapd log doctor."""

__version__ = "0.1.0"
