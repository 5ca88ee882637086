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


class TwoArgError(Exception):
    """Pickles in the worker, fails to unpickle: ``__init__`` wants two arguments."""

    def __init__(self, a: object, b: object) -> None:
        super().__init__(f"{a} and {b}")


def raise_two_arg_error() -> None:
    raise TwoArgError(1, 2)


def _refuse_to_load() -> None:
    raise RuntimeError("this value can't be loaded here")


class Unloadable:
    """Pickles in the worker; loading it raises."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_refuse_to_load, ())


def return_unloadable() -> Unloadable:
    return Unloadable()


def ok() -> int:
    return 1


def sleep(seconds: float) -> None:
    time.sleep(seconds)
