"""Fixtures that make backends and close them at teardown, whatever the test did, and a
temporary job history for the whole run."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jobwidgets import LocalBackend, SimulatedBackend


@pytest.fixture(autouse=True, scope="session")
def _history_in_a_temporary_folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Kernels and processes that tests start record their jobs in a temporary file, never
    in the user's Jupyter data folder (tests of the history set their own path)."""
    old = os.environ.get("JOBWIDGETS_HISTORY")
    folder = tmp_path_factory.mktemp("history")
    os.environ["JOBWIDGETS_HISTORY"] = str(folder / "history.sqlite3")
    yield
    if old is None:
        os.environ.pop("JOBWIDGETS_HISTORY", None)
    else:
        os.environ["JOBWIDGETS_HISTORY"] = old


@pytest.fixture
def local_backend() -> Iterator[Callable[..., LocalBackend]]:
    """``local_backend(max_workers=..., kind=...)`` makes a LocalBackend closed at teardown."""
    made: list[LocalBackend] = []

    def make(*args: Any, **kwargs: Any) -> LocalBackend:
        backend = LocalBackend(*args, **kwargs)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def simulated_backend() -> Iterator[Callable[..., SimulatedBackend]]:
    """``simulated_backend(**options)`` makes a fast SimulatedBackend closed at teardown."""
    made: list[SimulatedBackend] = []

    def make(**kwargs: Any) -> SimulatedBackend:
        kwargs.setdefault("time_scale", 0.01)
        backend = SimulatedBackend(**kwargs)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()
