"""The optional compiled accelerator: used only when built from the exact source, and it changes nothing.

The suite runs on the pure-Python reference path (``tests/conftest.py`` sets ``R2WIFI_ACCEL=0``);
these tests switch the compiled modules on in child processes and compare.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from r2wifi import accel
from r2wifi.diagnose.analyze import diagnose

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("R2WIFI_SHARED", REPO.parent / "shared"))
CASES = sorted([p for p in (SHARED / "corpus" / "dev").glob("*") if (p / "labels.toml").is_file()]
               + [p for p in (REPO / "tests" / "data" / "generated_corpus").glob("*") if p.is_dir()])


def _env(**extra: str) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), **extra)


def _built_or_skip() -> None:
    out = subprocess.run([sys.executable, "-m", "r2wifi", "accel", "status"], env=_env(R2WIFI_ACCEL="1"),
                         capture_output=True, text=True, check=True).stdout
    if not out.startswith("compiled"):
        if os.environ.get("R2WIFI_REQUIRE_ACCEL") == "1":
            pytest.fail(f"the accelerator should be built here (scripts/test built it): {out.strip()}")
        pytest.skip(f"accelerator not built ({out.strip()}); scripts/test builds it with 'r2wifi accel build'")


def test_switched_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """R2WIFI_ACCEL=0 means pure Python whatever is built."""
    monkeypatch.setenv("R2WIFI_ACCEL", "0")
    files, why = accel.check()
    assert files is None and "R2WIFI_ACCEL=0" in why


def _fake_build(d: Path, *, sha: str | None = None, soabi: str | None = None) -> None:
    d.mkdir(parents=True)
    mods = {}
    for name in accel.HOT:
        rel = Path(*name.split(".")).with_suffix(".so")
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(b"")
        mods[name] = {"file": str(rel), "sha256": sha or accel._sha256(accel.source_of(name))}
    (d / "x__mypyc.so").write_bytes(b"")
    (d / "manifest.json").write_text(json.dumps({"soabi": soabi or accel.soabi(), "modules": mods,
                                                  "shared": {"x__mypyc": "x__mypyc.so"}}))


def test_a_build_of_the_current_source_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manifest naming this ABI and the SHA-256 of every hot module's source is used."""
    monkeypatch.setenv("R2WIFI_ACCEL", "1")
    _fake_build(tmp_path / "b")
    files, why = accel.check(tmp_path / "b")
    assert files is not None and set(accel.HOT) <= set(files) and "x__mypyc" in files, why


def test_stale_source_falls_back_to_pure_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited .py after the build (hash differs) is never served from the old compiled module."""
    monkeypatch.setenv("R2WIFI_ACCEL", "1")
    _fake_build(tmp_path / "b", sha="0" * 64)
    files, why = accel.check(tmp_path / "b")
    assert files is None and why.startswith("stale")


def test_other_interpreter_or_missing_files_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another ABI, an incomplete or malformed build, or none at all: pure Python, with the reason."""
    monkeypatch.setenv("R2WIFI_ACCEL", "1")
    _fake_build(tmp_path / "abi", soabi="cpython-399-armhf")
    assert accel.check(tmp_path / "abi")[1].startswith("built for another interpreter")
    _fake_build(tmp_path / "part")
    (tmp_path / "part" / "x__mypyc.so").unlink()
    assert accel.check(tmp_path / "part")[1].startswith("incomplete build")
    assert accel.check(tmp_path / "none")[1].startswith("not built")
    _fake_build(tmp_path / "bad")
    man = json.loads((tmp_path / "bad" / "manifest.json").read_text())
    man["modules"][accel.HOT[0]] = "not a table"
    (tmp_path / "bad" / "manifest.json").write_text(json.dumps(man))
    assert accel.check(tmp_path / "bad")[1].startswith("malformed manifest entry")
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    assert accel.check(tmp_path / "bad")[1].startswith("unreadable manifest")


def test_status_command_names_the_path(run_cli) -> None:  # type: ignore[no-untyped-def]
    """`r2wifi accel status` says pure Python or compiled, and why."""
    res = run_cli("accel", "status", env={"R2WIFI_ACCEL": "0"})
    assert res.returncode == 0 and res.stdout.startswith("pure Python: switched off")


def test_remove_command_and_a_bad_action(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`r2wifi accel remove --dir D` deletes the build; an unknown action is one line and exit 2."""
    _fake_build(tmp_path / "b")
    res = run_cli("accel", "remove", "--dir", str(tmp_path / "b"))
    assert res.returncode == 0 and not (tmp_path / "b").exists()
    res = run_cli("accel", "compile")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "invalid choice" in res.stderr


_CHILD = """
import json, sys
from r2wifi import accel
from r2wifi.diagnose.analyze import diagnose
out = {p: diagnose([p]) for p in sys.argv[1:]}
print(json.dumps({"active": accel.active(), "results": out}, sort_keys=True, default=str))
"""


def test_compiled_diagnosis_equals_pure_python_on_every_case(tmp_path: Path) -> None:
    """Every corpus case (published and generated) and hostile input: the compiled path gives identical JSON."""
    _built_or_skip()
    hostile = tmp_path / "hostile.log"
    hostile.write_bytes(b"\xff\xfe\x00garbage\n" + b"x" * (1 << 20) + b"\n6,1,2,-;\xc3(invalid utf8 EAPOL-Key timeout\n"
                        b"Nov 31 25:61:61 h kernel: [ 1.0] netif_stop_subqueue for ap0\n1,2\n[\n")
    inputs = [str(c) for c in CASES] + [str(hostile)]
    proc = subprocess.run([sys.executable, "-c", _CHILD, *inputs], env=_env(R2WIFI_ACCEL="1"),
                          capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout)
    assert got["active"], "the child did not load the compiled modules"
    want = json.loads(json.dumps({p: diagnose([p]) for p in inputs}, sort_keys=True, default=str))
    for p in inputs:
        assert got["results"][p] == want[p], p


@pytest.mark.timeout(600)
def test_the_diagnose_test_suite_passes_on_the_compiled_modules() -> None:
    """tests/diagnose and tests/diagnose_out, run again in a child pytest with the compiled modules loaded."""
    if os.environ.get("R2WIFI_ACCEL") == "1":
        pytest.skip("already the compiled run")
    _built_or_skip()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                           "tests/diagnose", "tests/diagnose_out"],
                          cwd=REPO, env=_env(R2WIFI_ACCEL="1"), capture_output=True, text=True, check=False)
    tail = "\n".join(proc.stdout.splitlines()[-25:])
    assert proc.returncode == 0, tail


def test_this_process_runs_the_path_the_switch_and_the_build_choose() -> None:
    """Compiled modules are loaded exactly when switched on and a matching build exists (pure otherwise)."""
    files, why = accel.check()
    assert accel.active() == (files is not None), why


def test_a_build_that_cannot_load_falls_back_to_pure_python(tmp_path: Path) -> None:
    """A verified manifest whose extension files do not load (damaged, other libc): diagnose still runs, pure."""
    _fake_build(tmp_path / accel.soabi())  # current hashes, but the .so files are empty
    code = ("from r2wifi import accel\nfrom r2wifi.diagnose.analyze import diagnose\n"
            "print(accel.active(), accel._FINDER.why)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_env(R2WIFI_ACCEL="1", R2WIFI_ACCEL_DIR=str(tmp_path))).stdout
    assert out.startswith("False cannot load the build"), out
