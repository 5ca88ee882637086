"""Functions for process jobs: the spawned workers import them from this module."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from jobwidgets import current_job
from jobwidgets.progress import track
from jobwidgets.tqdm import tqdm


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


# ---------------------------------------------- jobs that report from inside
def report_and_print(count: int) -> str:
    """Print, report progress, complain on stderr, log a record; say what the job was."""
    job = current_job()
    assert job is not None
    for i in range(count):
        print("line", i)
        job.set_progress((i + 1) / count, f"{i + 1}/{count}")
        time.sleep(0.005)
    print("a complaint", file=sys.stderr)
    logger = logging.getLogger("jobwidgets.tests.work")
    logger.setLevel(logging.INFO)
    logger.info("an info record")
    return type(job).__name__


def progress_many(count: int) -> int:
    job = current_job()
    assert job is not None
    for i in range(count):
        job.set_progress(i / count)
    return count


def tracked(count: int, files: int) -> int:
    """Sum ``range(count)`` through ``track``, then loop ``files`` times through tqdm."""
    total = 0
    for item in track(range(count), description="items"):
        total += item
        time.sleep(0.0005)
    for _ in tqdm(range(files), desc="files"):
        time.sleep(0.005)
    return total
