"""The packages an owner installs: wheel, sdist, the Debian package (lintian-clean) and the OpenWrt files.

One ``scripts/package`` run (about a minute) serves every test here. The packaged code is then run the way
an owner's board runs it: unpacked from the .deb, on the system's ``/usr/bin/python3`` with Debian's own
python3-rich / python3-segno / python3-pyroute2 (scripts/apt-packages.txt installs them), not the venv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from r2wifi import __version__

REPO = Path(__file__).resolve().parents[2]
DEB_TOOLS = ("dpkg-buildpackage", "dpkg-deb", "lintian", "dh_python3")

# What the two floor distributions ship (packages.debian.org bookworm, packages.ubuntu.com jammy).
DISTRO_VERSIONS = {
    "pyroute2": {"debian-12": "0.7.2", "ubuntu-22.04": "0.6.4"},
    "rich": {"debian-12": "13.3.1", "ubuntu-22.04": "11.2.0"},
    "segno": {"debian-12": "1.4.1", "ubuntu-22.04": "1.4.1"},
    "tomli": {"debian-12": "2.0.1", "ubuntu-22.04": "1.2.2"},
}


def _vtuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = [t for t in DEB_TOOLS if not shutil.which(t, path="/usr/bin:/bin:/usr/sbin:/sbin")]
    if missing:
        pytest.skip(f"Debian build tools missing ({', '.join(missing)}); scripts/setup-test-deps installs them as root")
    proc = subprocess.run(["scripts/package"], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "\nE: " not in "\n" + proc.stdout, proc.stdout  # lintian errors
    return REPO / "dist"


@pytest.fixture(scope="module")
def deb(dist: Path) -> Path:
    return dist / f"r2wifi_{__version__}_all.deb"


@pytest.fixture(scope="module")
def unpacked(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def _field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True).stdout


def test_packaging_writes_wheel_sdist_and_deb(dist: Path) -> None:
    """scripts/package writes the wheel, the sdist and the .deb of this version to dist/."""
    wheel = dist / f"r2wifi-{__version__}-py3-none-any.whl"
    assert (dist / f"r2wifi-{__version__}.tar.gz").is_file()
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry = zf.read(f"r2wifi-{__version__}.dist-info/entry_points.txt").decode()
    assert "r2wifi/cli/main.py" in names and "r2wifi/service/templates/systemd.service.txt" in names
    assert "r2wifi = r2wifi.cli.main:run" in entry


def test_deb_depends_on_debian_packages(deb: Path) -> None:
    """The .deb is arch all and depends on Debian's own packages (no pip)."""
    assert _field(deb, "Architecture").strip() == "all"
    depends = _field(deb, "Depends")
    for pkg in ("python3-pyroute2", "python3-rich", "python3-segno", "hostapd", "dnsmasq-base", "iw", "iproute2"):
        assert re.search(rf"(^|[ ,]){re.escape(pkg)}([ ,(]|$)", depends), (pkg, depends)
    assert "python3-tomli | python3 (>> 3.11)" in depends
    recommends = _field(deb, "Recommends")
    assert "wpasupplicant" in recommends and "busybox" in recommends


def test_deb_ships_unit_docs_man_and_completion(unpacked: Path, deb: Path) -> None:
    """Unit (not enabled), example config, finding docs, man page and bash completion are in the .deb."""
    unit = unpacked / "lib/systemd/system/r2wifi.service"
    assert "ExecStart=/usr/bin/r2wifi run" in unit.read_text()
    assert not list(unpacked.glob("etc/systemd/system/*.wants/r2wifi.service"))
    ctrl = Path(str(unpacked) + "-ctrl")
    subprocess.run(["dpkg-deb", "-e", str(deb), str(ctrl)], check=True)
    postinst = (ctrl / "postinst").read_text() if (ctrl / "postinst").exists() else ""
    # --no-enable --no-start: the unit is enabled again on upgrade only where the admin had enabled it
    assert "deb-systemd-invoke start" not in postinst
    lines = postinst.splitlines()
    for line_no, line in enumerate(lines):
        if "deb-systemd-helper enable" in line:
            assert any("was-enabled" in before for before in lines[max(0, line_no - 3):line_no]), postinst
    example = unpacked / "usr/share/doc/r2wifi/examples/r2wifi.toml"
    assert "[ap]" in example.read_text()
    docs = unpacked / "usr/share/doc/r2wifi/findings"
    assert {p.name for p in docs.glob("*.md")} >= {p.name for p in (REPO / "docs/findings").glob("R2W*.md")}
    assert (unpacked / "usr/share/man/man1/r2wifi.1.gz").is_file()
    assert "complete -o filenames -F _r2wifi r2wifi" in (
        unpacked / "usr/share/bash-completion/completions/r2wifi").read_text()


def _debian_python(unpacked: Path, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(unpacked / "usr/lib/python3/dist-packages"),
           "HOME": str(unpacked), "R2WIFI_STATE_DIR": str(unpacked / "state")}
    return subprocess.run(["/usr/bin/python3", str(unpacked / "usr/bin/r2wifi"), *args], capture_output=True,
                          text=True, env=env, timeout=300, **kw)  # type: ignore[call-overload]


def test_packaged_code_runs_on_debian_python_and_libraries(unpacked: Path, corpus_dev: Path, tmp_path: Path) -> None:
    """The unpacked .deb runs on /usr/bin/python3 with Debian's rich, segno and pyroute2."""
    probe = subprocess.run(["/usr/bin/python3", "-c", "import pyroute2, rich, segno"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("Debian's python3-pyroute2/-rich/-segno are not installed (scripts/setup-test-deps does it as root)")
    out = _debian_python(unpacked, "--version")
    assert out.returncode == 0 and out.stdout.strip() == f"r2wifi {__version__}", out.stderr
    case = sorted(corpus_dev.glob("0*"))[0]
    diag = _debian_python(unpacked, "diagnose", str(case))
    assert diag.returncode in (0, 1), diag.stderr
    assert "Traceback" not in diag.stderr and diag.stdout.strip()
    cfg = tmp_path / "r2wifi.toml"
    init = _debian_python(unpacked, "config", "init", str(cfg), "--ssid", "PackTest", "--passphrase-stdin",
                          input="packaged passphrase\n")
    assert init.returncode == 0, init.stderr
    qr = _debian_python(unpacked, "ap", "qr", "--config", str(cfg))
    assert qr.returncode == 0 and "SSID: PackTest" in qr.stdout, qr.stderr
    net = subprocess.run(["/usr/bin/python3", "-c", "from pyroute2 import IPRoute; IPRoute().close()"],
                         capture_output=True, text=True, env={"PYTHONPATH": str(unpacked / "usr/lib/python3/dist-packages")})
    assert net.returncode == 0, net.stderr


def test_man_page_and_completion_cover_every_option() -> None:
    """Every command, sub-action and option of the argparse tree is in the man page and the completion."""
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import docgen
    finally:
        sys.path.remove(str(REPO / "tools"))
    nodes = docgen.command_tree()
    man, bash = docgen.render_man(nodes, date="2026-01-01"), docgen.render_bash(nodes)
    seen = 0

    def visit(node: docgen.Node) -> None:
        nonlocal seen
        assert f".SS r2wifi {' '.join(node.path)}".replace("-", "\\-") in man
        assert f'"{" ".join(node.path)}")' in bash
        for opt in node.options:
            for flag in opt.flags:
                seen += 1
                assert flag.replace("-", "\\-") in man, flag
                assert re.search(rf'"{" ".join(node.path)}"\) words="[^"]*(?<![\w-]){re.escape(flag)}(?![\w-])', bash), flag
        for child in node.children:
            visit(child)

    for node in nodes:
        visit(node)
    assert seen > 50


def test_openwrt_init_script_is_the_tools_own_template() -> None:
    """packaging/openwrt's init script is what `service install --openwrt` writes (one template)."""
    from r2wifi.service.files import render_service

    shipped = REPO / "packaging/openwrt/r2wifi/files/r2wifi.init"
    assert shipped.read_text() == render_service("openwrt", "/usr/bin/r2wifi", "/etc/r2wifi/r2wifi.toml")
    assert os.stat(shipped).st_mode & 0o111
    text = shipped.read_text()
    assert "procd_set_param respawn" in text and "reload_service()" in text


def test_versions_agree_everywhere() -> None:
    """r2wifi.__version__ is the version of the Debian changelog and the OpenWrt Makefile."""
    changelog = (REPO / "debian/changelog").read_text().splitlines()[0]
    assert changelog.startswith(f"r2wifi ({__version__})"), changelog
    makefile = (REPO / "packaging/openwrt/r2wifi/Makefile").read_text()
    assert f"PKG_VERSION:={__version__}\n" in makefile


def test_dependency_floors_are_what_debian_12_and_ubuntu_2204_ship() -> None:
    """Every runtime floor in pyproject.toml is met by both distributions' packages."""
    from r2wifi.toml import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"] == ">=3.10"
    checked = set()
    for dep in deps:
        m = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", dep)
        assert m, f"{dep}: every runtime dependency needs a floor"
        name, floor = m[1].lower(), m[2]
        assert name in DISTRO_VERSIONS, f"{name}: add what Debian 12 and Ubuntu 22.04 ship"
        for distro, shipped in DISTRO_VERSIONS[name].items():
            assert _vtuple(floor) <= _vtuple(shipped), f"{name}>={floor} is newer than {distro}'s {shipped}"
        checked.add(name)
    assert checked >= {"pyroute2", "rich", "segno"}
