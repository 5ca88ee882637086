"""Fixtures that make backends and close them at teardown, whatever the test did."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jobwidgets import LocalBackend, SimulatedBackend


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
