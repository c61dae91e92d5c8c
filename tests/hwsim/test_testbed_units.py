"""Host-side units of the test bed that need no VM: kernel unpacking, the agent, corpus trimming."""

from __future__ import annotations

import lzma
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO))

from testbed import agent  # noqa: E402
from testbed.build import extract_vmlinux  # noqa: E402
from testbed.scenario import label_mismatch  # noqa: E402

from tools import gen_corpus  # noqa: E402


def test_extract_vmlinux_finds_the_xz_elf_payload(tmp_path: Path) -> None:
    """A bzImage-like blob (setup code + an xz stream holding an ELF) unpacks to that ELF."""
    elf = b"\x7fELF" + bytes(range(256)) * 40
    blob = b"MZ setup code \xfd7zXZ\x00 (a false magic)" + lzma.compress(elf, format=lzma.FORMAT_XZ) + b"trailer"
    (tmp_path / "vmlinuz").write_bytes(blob)
    assert extract_vmlinux(tmp_path / "vmlinuz", tmp_path / "vmlinux")
    assert (tmp_path / "vmlinux").read_bytes() == elf


def test_extract_vmlinux_refuses_a_non_xz_kernel(tmp_path: Path) -> None:
    """A kernel without an xz ELF payload is not unpacked (the bzImage is booted instead)."""
    (tmp_path / "vmlinuz").write_bytes(b"MZ" + b"\0" * 4096)
    assert not extract_vmlinux(tmp_path / "vmlinuz", tmp_path / "vmlinux")
    assert not (tmp_path / "vmlinux").exists()


def test_agent_runs_commands_and_reports_failures() -> None:
    """The guest agent answers argv and sh requests, a missing program (127) and a timeout (124)."""
    ok = agent.handle({"id": 1, "argv": ["echo", "hi"]})
    assert (ok["id"], ok["rc"], ok["out"]) == (1, 0, "hi\n")
    shell = agent.handle({"id": 2, "sh": "echo $TBX >&2; exit 3", "env": {"TBX": "v"}})
    assert (shell["rc"], shell["err"]) == (3, "v\n")
    assert agent.handle({"id": 3, "argv": ["/nonexistent/prog"]})["rc"] == 127
    slow = agent.handle({"id": 4, "argv": ["sleep", "5"], "timeout": 0.2})
    assert slow["rc"] == 124 and "timeout" in slow["err"]
    assert agent.handle({"id": 5})["rc"] == -1


def test_trim_cuts_hexdumps_and_elides_the_middle() -> None:
    """Corpus trimming shortens MSG_MSGDUMP payloads and keeps head and tail within the budget."""
    hexline = "1.000001: RX EAPOL - hexdump(len=99): " + " ".join(["ab"] * 99)
    out = gen_corpus.trim(hexline + "\nplain line\n", 10_000)
    assert out.startswith("1.000001: RX EAPOL - hexdump(len=99): ab ab") and out.rstrip().endswith("plain line")
    assert len(out.splitlines()[0]) < 120
    big = "\n".join(f"line {i}" for i in range(10_000)) + "\n"
    cut = gen_corpus.trim(big, 3_000)
    assert len(cut) < 3_200 and cut.startswith("line 0\n") and cut.endswith("line 9999\n") and "elided" in cut


def test_label_matching_with_params() -> None:
    """`deauth_reason=15` matches a deauth_reason finding whose params carry reason 15, not 3."""
    findings: list[dict[str, Any]] = [{"kind": "deauth_reason", "params": {"reason": 15}}, {"kind": "handshake_timeout"}]
    assert label_mismatch(findings, ["deauth_reason=15", "handshake_timeout"], ["wrong_passphrase"]) is None
    assert "deauth_reason=3" in str(label_mismatch(findings, ["deauth_reason=3"], []))
    assert "handshake_timeout" in str(label_mismatch(findings, [], ["handshake_timeout"]))


def test_can_run_qemu_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without qemu-system-x86_64 the tier gets a skip reason naming the package, not a failure."""
    from testbed import vm as tbvm

    monkeypatch.setattr(tbvm.shutil, "which", lambda name: None if name == "qemu-system-x86_64" else "/bin/x")
    reason = tbvm.can_run_qemu()
    assert reason is not None and "qemu-system-x86" in reason


def test_not_expected_kind_dropped_only_when_the_log_proves_it() -> None:
    """A real EAPOL-Key retransmission under load drops handshake_timeout/missing_eapol_rx from the baseline's
    not-expected labels; without that line they stay (the labels describe the log, not the plan)."""
    from testbed.scenario import labels_for_logs

    clean = {"hostapd.log": "1.000000: wlan0: AP-STA-CONNECTED 02:00:00:00:01:00\n"}
    loaded = {"hostapd.log": clean["hostapd.log"] + "1.5: wlan0: STA 02:00:00:00:01:00 WPA: EAPOL-Key timeout\n"}
    _, kept, dropped = labels_for_logs("baseline", clean)
    assert dropped == [] and {"handshake_timeout", "missing_eapol_rx"} <= set(kept)
    _, kept, dropped = labels_for_logs("baseline", loaded)
    assert set(dropped) == {"handshake_timeout", "missing_eapol_rx"}
    assert "handshake_timeout" not in kept and "wrong_passphrase" in kept


def test_guest_waits_get_the_load_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guest runner's waits are stretched by TB_SLACK (default 4): a slow event is waited for, not failed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tb_scen_slack", REPO / "tools" / "testbed" / "guest" / "scenarios.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.SLACK >= 4
    bed = mod.Bed.__new__(mod.Bed)
    bed.steps = []
    clock = iter([0.0, 10.0, 10.0])  # not there at 10 s (past the nominal 5 s), there on the next look
    monkeypatch.setattr(mod.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(mod.time, "sleep", lambda s: None)
    seen = iter([False, True])
    assert bed.wait_for(lambda: next(seen), "event", 5) == 10.0
