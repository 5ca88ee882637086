"""Where the built front end lives, with a clear error when it was never built.

A widget class declares its front end with ``_esm = front_end("badge.js")``, a synced
trait whose default is the file's text, rather than anywidget's ``_esm = Path(...)``.
For a path, anywidget makes a class-level ``FileContents`` whose ``changed`` signal
keeps, for good, a closure over every instance ever made (its hot-reload hook), so no
widget, and no job it refers to, could ever be collected. A trait is per instance and
goes with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import traitlets

STATIC = Path(__file__).resolve().parent.parent / "static"


def asset(name: str) -> Path:
    """The path of a built front-end file."""
    path = STATIC / name
    if not path.exists():
        msg = (
            f"jobwidgets' front end is not built ({path} is missing). Install the package "
            "with pip (it builds js/), or run `make` in a source checkout."
        )
        raise FileNotFoundError(msg)
    return path


def front_end(name: str) -> Any:
    """A synced ``Unicode`` trait holding the text of the built front-end file ``name``,
    for a widget's ``_esm`` or ``_css``."""
    text = asset(name).read_text(encoding="utf-8")
    return traitlets.Unicode(text, help=f"The built front end, static/{name}.").tag(sync=True)
