"""Functions for process jobs: the spawned workers import them from this module."""

from __future__ import annotations

import os
import time
from pathlib import Path


def add(a: int, b: int) -> int:
    return a + b


def pid() -> int:
    return os.getpid()


def touch_forever(path: str, interval: float = 0.05, limit: float = 30) -> None:
    """Append a line to ``path`` every ``interval`` seconds, for up to ``limit`` seconds."""
    end = time.monotonic() + limit
    with Path(path).open("a") as file:
        while time.monotonic() < end:
            file.write(f"{time.monotonic()}\n")
            file.flush()
            time.sleep(interval)


def fail(message: str) -> None:
    raise ValueError(message)


def exit_with(code: int) -> None:
    os._exit(code)
