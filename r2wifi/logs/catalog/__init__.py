"""Message catalogues: what a program's log line means, as data (one module per source family).

* :mod:`~r2wifi.logs.catalog.wmt`: the MediaTek WMT / STP / wlan_gen2 kernel lines and userspace launcher
  lines (driver-interface.md §7 and §11). The one home of those lines: the simulator prints them from
  here, ``diagnose``, ``doctor`` and the supervisor classify them from here.

Rule: a catalogue holds facts (the format as the program prints it, what it means, its severity, where it
comes from), never code copied from the program. Lines not in a catalogue stay unknown.
"""
