"""The core imports nothing of IPython, ipywidgets, anywidget or ipykernel."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = ("IPython", "ipywidgets", "anywidget", "ipykernel")

# A meta path finder that notes every attempt to import a forbidden package (even one
# that fails because it is not installed) and then lets the import go on as usual.
CHECK = f"""
import sys
from pathlib import Path

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


HISTORY = Path(__file__).resolve().parents[1] / "src" / "jobwidgets" / "history"
ABOVE_HISTORY = ("bridge", "feed", "panel", "widgets", "ipython", "monitor")


def imported_modules(path: Path) -> set[str]:
    """The ``jobwidgets`` modules a file imports, as dotted names relative to the package."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            module = ("." * node.level) + node.module
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update("." * node.level + alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def layer_of(name: str) -> str:
    """``..bridge`` / ``jobwidgets.bridge.x`` -> ``bridge``."""
    return name.lstrip(".").removeprefix("jobwidgets.").split(".")[0]


def test_the_history_imports_nothing_above_it() -> None:
    for path in sorted(HISTORY.glob("*.py")):
        above = sorted(n for n in imported_modules(path) if n.startswith("..") and
                       layer_of(n) in ABOVE_HISTORY)  # fmt: skip
        assert not above, f"{path.name} imports {above}, above the history's layer"


def test_the_core_imports_nothing_of_the_history() -> None:
    src = HISTORY.parent
    core = [p for p in src.glob("*.py") if p.stem not in ABOVE_HISTORY and p.stem != "__main__"]
    core += list((src / "backends").glob("*.py"))
    for path in core:
        found = sorted(n for n in imported_modules(path) if "history" in n)
        assert not found, f"{path.relative_to(src)} imports {found}"


def test_the_import_check_sees_an_import_from_above(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from ..bridge import get_bridge\nfrom .. import history\n")
    names = imported_modules(module)
    assert any(layer_of(n) == "bridge" for n in names)
    assert any("history" in n for n in names)
