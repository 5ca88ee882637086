"""One poller for every job that can only be polled.

A job whose backend doesn't push its changes (``pushes_status`` is False) learns its
status only from ``status()`` queries. While anything watches such a job (a badge, a
table, ``wait_async``), the shared poller queries it every ``interval`` seconds, from a
single thread for all jobs. The thread starts with the first watch and ends when nothing
is left to poll. Jobs that push are never polled.
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from .status import JOB_FINAL_STATES

if TYPE_CHECKING:
    from .job import BaseJob

__all__ = ["SharedPoller", "default_poller"]

log = logging.getLogger("jobwidgets")


def _nothing() -> None:
    return None


class SharedPoller:
    """Queries watched poll-only jobs from one thread, every ``interval`` seconds."""

    def __init__(self, interval: float = 1.0) -> None:
        self._cond = threading.Condition()
        self._watched: weakref.WeakKeyDictionary[BaseJob, int] = weakref.WeakKeyDictionary()
        self._failing: weakref.WeakSet[BaseJob] = weakref.WeakSet()
        self._thread: threading.Thread | None = None
        self._interval = 1.0
        self.interval = interval

    @property
    def interval(self) -> float:
        """Seconds between two rounds of queries."""
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            msg = f"interval must be a number of seconds > 0, got {seconds!r}"
            raise TypeError(msg)
        if math.isnan(seconds) or seconds <= 0:
            msg = f"interval must be > 0 seconds, got {seconds!r}"
            raise ValueError(msg)
        with self._cond:
            self._interval = float(seconds)
            self._cond.notify_all()

    def watch(self, job: BaseJob) -> Callable[[], None]:
        """Poll ``job`` until it is final or the returned function is called."""
        if job.pushes_status:
            return _nothing
        with self._cond:
            self._watched[job] = self._watched.get(job, 0) + 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="jobwidgets-poller", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
        ref = weakref.ref(job)
        released = False

        def unwatch() -> None:
            nonlocal released
            target = ref()
            with self._cond:
                if released or target is None:
                    return
                released = True
                count = self._watched.get(target, 0) - 1
                if count > 0:
                    self._watched[target] = count
                else:
                    self._watched.pop(target, None)

        return unwatch

    @property
    def watched(self) -> int:
        """How many jobs are being polled."""
        return len(self._watched)

    @property
    def running(self) -> bool:
        """Whether the polling thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._cond:
                jobs = list(self._watched.keys())
                if not jobs:
                    self._thread = None
                    return
            for job in jobs:
                self._poll(job)
            del jobs, job
            with self._cond:
                if self._watched:
                    self._cond.wait(self._interval)

    def _poll(self, job: BaseJob) -> None:
        try:
            status = job.status()
        except Exception:
            if job not in self._failing:
                self._failing.add(job)
                log.exception("jobwidgets: status() of job %r raised", job.job_id())
            return
        if status in JOB_FINAL_STATES:
            with self._cond:
                self._watched.pop(job, None)


default_poller = SharedPoller()
"""The poller shared by every widget and waiter in this process."""
