"""uEnv.txt: only the kernel= line changes, in both styles found on real cards."""

from __future__ import annotations

import pytest

from r2wifi.board import uenv
from r2wifi.errors import UserError
from tests.board.boardkit import PLAIN_UENV

# The older frank-w style: per-version variables, a commented kernel=, boot menu entries.
PER_VERSION = (
    b"#\n## uEnv.txt\n#\nbpi=bananapi\nboard=bpi-r2\n#kernel=uImage\n\n"
    b"kernel44=uImage_4.4.155\nkernel414=uImage_4.14.69-main\n"
    b"boot419=run newloadenv; setenv kernel ${kernel419}; printenv; run newboot\n"
    b"bootmenu_7=8. Boot kernel 4.19.=run boot419\n"
    b"bootmenu_default=7\n"
    b"kernel419=uImage_4.19.0-rc1-hdmi_new\n\n#default entry\nkernel=uImage_4.14.66-main\n"
)


def _diff_lines(a: bytes, b: bytes) -> list[tuple[bytes, bytes]]:
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    assert len(la) == len(lb)
    return [(x, y) for x, y in zip(la, lb, strict=True) if x != y]


def test_plain_style_changes_one_line() -> None:
    """Plain uEnv.txt: the kernel= line changes, the commented one and all others stay."""
    new = uenv.set_kernel(PLAIN_UENV, "uImage_5.15.80-main")
    assert _diff_lines(PLAIN_UENV, new) == [(b"kernel=uImage\n", b"kernel=uImage_5.15.80-main\n")]
    assert uenv.effective_kernel(new) == "uImage_5.15.80-main"


def test_per_version_style_keeps_variables() -> None:
    """Older per-version style: only the last kernel= (the default entry) changes."""
    new = uenv.set_kernel(PER_VERSION, "uImage_5.15.80-main")
    assert _diff_lines(PER_VERSION, new) == [(b"kernel=uImage_4.14.66-main\n", b"kernel=uImage_5.15.80-main\n")]
    assert uenv.style(PER_VERSION) == "per-version"
    assert uenv.menu_override(new) == "uImage_4.19.0-rc1-hdmi_new"


def test_crlf_and_missing_final_newline_kept() -> None:
    """CRLF line ends survive; a file without kernel= and final newline gets one line appended."""
    crlf = b"bpi=bananapi\r\nkernel=uImage\r\nroot=/dev/mmcblk0p2"
    assert uenv.set_kernel(crlf, "uImage_x") == b"bpi=bananapi\r\nkernel=uImage_x\r\nroot=/dev/mmcblk0p2"
    bare = b"bpi=bananapi\r\nroot=/dev/mmcblk0p2"
    assert uenv.set_kernel(bare, "uImage_x") == bare + b"\r\nkernel=uImage_x\r\n"


def test_later_lines_win_and_default_is_uimage() -> None:
    """env import -t semantics: the last assignment wins; no kernel= means uImage."""
    assert uenv.effective_kernel(b"kernel=a\nkernel=b\n") == "b"
    assert uenv.effective_kernel(b"kernel414=x\nkernel=${kernel414}\n") == "x"
    assert uenv.effective_kernel(b"bpi=bananapi\n") == "uImage"
    assert uenv.effective_kernel(None) == "uImage"


@pytest.mark.parametrize("bad", ["../uImage", "uImage x", "a=b", "${evil}", ""])
def test_unsafe_kernel_names_refused(bad: str) -> None:
    """A kernel value that is not a plain file name is refused."""
    with pytest.raises(UserError):
        uenv.set_kernel(PLAIN_UENV, bad)
