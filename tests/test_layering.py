"""The core imports nothing of IPython, ipywidgets, anywidget or ipykernel."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("IPython", "ipywidgets", "anywidget", "ipykernel")

# A meta path finder that notes every attempt to import a forbidden package (even one
# that fails because it is not installed) and then lets the import go on as usual.
CHECK = f"""
import sys

FORBIDDEN = {FORBIDDEN!r}
attempts = []

class Spy:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            attempts.append(name)
        return None

sys.meta_path.insert(0, Spy)

import jobwidgets
from jobwidgets import backends, errors, job, monitor, poller, registry, status
jobwidgets.LocalBackend(max_workers=1).close()
jobwidgets.SimulatedBackend().close()
loaded = sorted(name for name in sys.modules if name.split(".")[0] in FORBIDDEN)
assert not loaded, f"the core imported {{loaded}}"
assert not attempts, f"the core tried to import {{attempts}}"
print("clean")
"""


def test_importing_the_core_loads_no_ui_package() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"


@pytest.mark.parametrize("package", ["ipywidgets", "surely_not_installed_ui"])
def test_the_check_itself_catches_a_forbidden_import(package: str) -> None:
    """Whether or not the package is installed, trying to import it fails the check."""
    tainted = CHECK.replace(
        f"FORBIDDEN = {FORBIDDEN!r}", f"FORBIDDEN = {(*FORBIDDEN, 'surely_not_installed_ui')!r}"
    ).replace(
        "import jobwidgets\n",
        f"import jobwidgets\ntry:\n    import {package}\nexcept ImportError:\n    pass\n",
        1,
    )
    done = subprocess.run(
        [sys.executable, "-c", tainted], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert package in done.stderr
