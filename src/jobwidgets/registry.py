"""The jobs of this process, held weakly, and the code that wants to hear of new ones.

Every ``BaseJob`` joins ``default_registry`` as soon as it is constructed, unless its
class (or the instance, in ``__init__``) sets ``BaseJob.job_registry`` to another
registry, or to None. The registry holds jobs weakly: a job that nothing else
references is garbage-collected and leaves the registry by itself. ``subscribe(fn)``
calls ``fn(job)`` for each new job from then on, on the thread that created the job,
with no polling.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._jobcore import _JobCore
from ._shown import shown

if TYPE_CHECKING:
    from .job import BaseJob

__all__ = ["JobRegistry", "default_registry", "jobs", "subscribe"]

log = logging.getLogger("jobwidgets")


class JobRegistry:
    """A weak, ordered, observable collection of jobs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: dict[int, weakref.ref[BaseJob]] = {}
        self._keys = itertools.count()
        self._subscribers: dict[int, Callable[[BaseJob], Any]] = {}

    def add(self, job: BaseJob) -> None:
        """Add a job and tell every subscriber about it."""
        # every BaseJob carries a _JobCore (job.py imports this module, so the check
        # reads the core rather than importing BaseJob on each call)
        if not isinstance(getattr(job, "_jobwidgets", None), _JobCore):
            msg = f"job must be a jobwidgets job (a BaseJob), got {type(job).__name__}"
            raise TypeError(msg)
        key = next(self._keys)
        refs = self._refs

        def forget(_ref: weakref.ref[BaseJob], key: int = key) -> None:
            refs.pop(key, None)  # dict.pop is atomic; no lock in a GC callback

        with self._lock:
            refs[key] = weakref.ref(job, forget)
            subscribers = list(self._subscribers.values())
        for fn in subscribers:
            try:
                fn(job)
            except Exception:
                log.exception("jobwidgets: registry subscriber %r raised", fn)

    def subscribe(self, fn: Callable[[BaseJob], Any]) -> Callable[[], None]:
        """Call ``fn(job)`` for every job created from now on; return an unsubscribe."""
        if not callable(fn):
            msg = f"fn must be a callable taking a job (subscribe), got {shown(fn)}"
            raise TypeError(msg)
        key = next(self._keys)
        with self._lock:
            self._subscribers[key] = fn

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe

    def jobs(self) -> list[BaseJob]:
        """The live jobs, oldest first."""
        with self._lock:
            refs = list(self._refs.values())
        return [job for job in (ref() for ref in refs) if job is not None]

    @property
    def subscriber_count(self) -> int:
        """How many subscribers are listening."""
        return len(self._subscribers)

    def __iter__(self) -> Iterator[BaseJob]:
        return iter(self.jobs())

    def __len__(self) -> int:
        return len(self.jobs())

    def __contains__(self, job: object) -> bool:
        return any(j is job for j in self.jobs())


default_registry = JobRegistry()
"""The registry every job joins."""


def jobs() -> list[BaseJob]:
    """The live jobs of this process, oldest first."""
    return default_registry.jobs()


def subscribe(fn: Callable[[BaseJob], Any]) -> Callable[[], None]:
    """Call ``fn(job)`` for each job created from now on; return a function that stops it."""
    return default_registry.subscribe(fn)
