"""Status queries that a deadline must bound: at most one in flight per job.

``wait_for_final_state`` with a timeout must not run past it, even when a poll-only
job's ``status()`` is slow, so it runs the query on another thread and waits for the
answer until its deadline. ``Queries`` runs those calls:

- One query in flight per job. Every waiter of a job shares it: 50 threads waiting on
  one slow job cause one ``status()`` call, not 50 queued ones.
- No fixed pool. A query never waits for a thread that another job's slow ``status()``
  holds: a new thread starts when no idle one is free. A job whose ``status()`` hangs
  holds one thread, however many wait on it. A thread left idle for ``idle`` seconds
  ends, so bursts leave nothing behind.

Who owns what: ``lock`` guards the map of queries in flight, the queue of queries not
yet picked up and the count of idle threads. The worker thread that picks up a query
owns its call: it removes the query from the map *before* it sets the future's result,
so a waiter woken by that result starts a fresh query rather than rejoin a finished one.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .job import BaseJob

__all__ = ["Queries", "queries"]

_names = itertools.count(1)


class Queries:
    """Runs ``job.status()`` for waiters, one call in flight per job (see the module)."""

    def __init__(self, idle: float = 10.0) -> None:
        self.idle = idle
        self.lock = threading.Condition()
        # id(job) -> its query in flight. Keyed by id: a job need not be hashable. A
        # query holds its job until it ends, so no other job can take that id meanwhile.
        self._inflight: dict[int, concurrent.futures.Future[Any]] = {}
        self._todo: deque[tuple[BaseJob, concurrent.futures.Future[Any]]] = deque()
        self._idle_threads = 0
        self._threads = 0

    def query(self, job: BaseJob) -> concurrent.futures.Future[Any]:
        """The job's query in flight, or a new one; its result is what ``status()`` gave."""
        key = id(job)
        with self.lock:
            future = self._inflight.get(key)
            if future is not None:
                return future
            future = concurrent.futures.Future()
            self._inflight[key] = future
            self._todo.append((job, future))
            if self._idle_threads >= len(self._todo):
                self.lock.notify()
                return future
            self._threads += 1
        thread = threading.Thread(
            target=self._work, name=f"jobwidgets-query-{next(_names)}", daemon=True
        )
        thread.start()
        return future

    @property
    def in_flight(self) -> int:
        """How many jobs have a query in flight."""
        return len(self._inflight)

    @property
    def threads(self) -> int:
        """How many query threads exist (busy or idle)."""
        return self._threads

    def _work(self) -> None:
        while True:
            with self.lock:
                self._idle_threads += 1
                try:
                    while not self._todo:
                        if not self.lock.wait(self.idle) and not self._todo:
                            self._threads -= 1
                            return
                    job, future = self._todo.popleft()
                finally:
                    self._idle_threads -= 1
            self._run(job, future)
            del job, future  # hold no job while idle

    def _run(self, job: BaseJob, future: concurrent.futures.Future[Any]) -> None:
        try:
            answer = job.status()
        except BaseException as exc:  # the waiters raise it, as a direct call would
            with self.lock:
                self._inflight.pop(id(job), None)
            future.set_exception(exc)
            return
        with self.lock:
            self._inflight.pop(id(job), None)
        future.set_result(answer)


queries = Queries()
"""The queries of every ``wait_for_final_state`` in this process."""
