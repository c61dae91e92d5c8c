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
