"""Where the built front end lives, with a clear error when it was never built."""

from __future__ import annotations

from pathlib import Path

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
