"""One poller for every job that can only be polled.

A job whose backend doesn't push its changes (``pushes_status`` is False) learns its
status only from ``status()`` queries. While anything watches such a job (a badge, a
table, ``wait_async``), the shared poller queries it every ``interval`` seconds, from a
single thread for all jobs. The thread starts with the first watch and ends when nothing
is left to poll. Jobs that push are never polled.

The thread survives what it can: a ``status()`` that raises is logged (once per job),
and an error of a whole round is logged and the next round runs. Should the thread die
anyway (a ``status()`` raising ``SystemExit``), the next ``watch`` starts a new one.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._seconds import check_seconds, waitable
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
        # id(job) -> (a weak reference to the job, how many watch it). Keyed by id, not
        # by the job: a job need not be hashable (a SimpleNamespace subclass isn't).
        self._watched: dict[int, tuple[weakref.ref[BaseJob], int]] = {}
        self._failing: set[int] = set()  # ids of live jobs whose status() raised
        self._thread: threading.Thread | None = None
        self._interval = 1.0
        self.interval = interval

    @property
    def interval(self) -> float:
        """Seconds between two rounds of queries: a finite number > 0."""
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        checked = check_seconds(seconds, "interval", positive=True, finite=True)
        with self._cond:
            self._interval = checked
            self._cond.notify_all()

    def watch(self, job: BaseJob) -> Callable[[], None]:
        """Poll ``job`` until it is final or the returned function is called."""
        from .job import BaseJob  # job.py imports this module

        if not isinstance(job, BaseJob):
            msg = f"job must be a jobwidgets job (a BaseJob), got {type(job).__name__}"
            raise TypeError(msg)
        if job.pushes_status:
            return _nothing
        key = id(job)
        with self._cond:
            entry = self._watched.get(key)
            if entry is None or entry[0]() is not job:
                entry = (weakref.ref(job, functools.partial(self._forget, key)), 0)
            self._watched[key] = (entry[0], entry[1] + 1)
            thread = self._thread
            if thread is None or not thread.is_alive():  # none yet, or it died
                self._thread = threading.Thread(
                    target=self._run, name="jobwidgets-poller", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
        ref = entry[0]
        released = False

        def unwatch() -> None:
            nonlocal released
            with self._cond:
                current = self._watched.get(key)
                if released or current is None or current[0] is not ref:
                    return
                released = True
                if current[1] > 1:
                    self._watched[key] = (ref, current[1] - 1)
                else:
                    self._watched.pop(key, None)

        return unwatch

    def _forget(self, key: int, _ref: weakref.ref[BaseJob]) -> None:
        """A watched job was collected: drop its entry. No lock in a GC callback; the
        dict and set operations are atomic, and no other job can have this id yet."""
        self._watched.pop(key, None)
        self._failing.discard(key)

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
        me = threading.current_thread()
        try:
            while True:
                with self._cond:
                    if not self._watched:
                        self._thread = None  # under the lock: a new watch starts a thread
                        return
                try:
                    self._round()
                except Exception:
                    log.exception("jobwidgets: the poller's round failed; polling goes on")
                with self._cond:
                    if self._watched:
                        self._cond.wait(waitable(self._interval))
        finally:  # also when it dies: the next watch() starts a new thread
            with self._cond:
                if self._thread is me:
                    self._thread = None

    def _round(self) -> None:
        """Query every watched job once."""
        with self._cond:
            entries = list(self._watched.values())  # one C call: atomic
        for ref, _count in entries:
            job = ref()
            if job is not None:
                self._poll(job)
            del job  # hold no job between rounds, so dropped jobs can be collected

    def _poll(self, job: BaseJob) -> None:
        try:
            status = job.status()
        except Exception:
            with self._cond:
                first = id(job) not in self._failing
                self._failing.add(id(job))
            if first:
                log.exception("jobwidgets: status() of job %r raised", job.job_id())
            return
        if status in JOB_FINAL_STATES:
            with self._cond:
                entry = self._watched.get(id(job))
                if entry is not None and entry[0]() is job:
                    self._watched.pop(id(job), None)


default_poller = SharedPoller()
"""The poller shared by every widget and waiter in this process."""
