"""The bridge: moves job changes from any thread onto the kernel's event loop, coalesced.

Jobs change on worker threads, engine threads, the poller's thread. Widgets must only be
touched on the kernel's event loop (ipykernel 7 drops widget updates sent from other
threads), and a flood of one message per change makes Jupyter Server drop messages.
So the bridge observes each watched job once, whatever number of views show it, marks it
dirty from whichever thread changed it, and flushes the dirty jobs to their views on the
event loop, at most ``1 / interval`` times a second. No thread per job, no polling of
jobs that push; jobs that can only be polled are handed to the shared poller while a
view shows them.

Without a kernel (plain Python, tests), give it any loop with ``call_soon_threadsafe``
and ``call_later`` (an ``asyncio`` loop, or a fake) and a clock.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .job import BaseJob
from .poller import SharedPoller, default_poller

__all__ = ["Bridge", "JobView", "get_bridge"]

log = logging.getLogger("jobwidgets")


class JobView(Protocol):
    """What the bridge needs of a view: a method that takes the jobs that changed."""

    def _jobs_changed(self, jobs: list[BaseJob]) -> None: ...


class Loop(Protocol):
    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> Any: ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Any: ...


class Bridge:
    """Collects job changes from any thread and flushes them on one event loop.

    Args:
        loop: the loop that owns the views; default: the running loop of the thread
            that makes the bridge (in a kernel, the kernel's loop), or else a loop
            on one thread of the bridge's own.
        interval: the least time between two flushes, in seconds (default 0.1).
        clock: a monotonic clock, for tests.
        poller: the shared poller for jobs that don't push.
    """

    def __init__(
        self,
        loop: Loop | None = None,
        *,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        poller: SharedPoller | None = None,
    ) -> None:
        owner = threading.get_ident()
        if loop is None:
            loop, owner = _current_or_own_loop()
        self.loop = loop
        self.interval = interval
        self.clock = clock
        self.poller = poller or default_poller
        self.owner_thread = owner
        """The thread of the loop: views are only touched from it."""
        self._lock = threading.Lock()
        self._dirty: dict[int, BaseJob] = {}
        self._poked: dict[int, Any] = {}
        self._scheduled = False
        self._last_flush = -float("inf")
        # job -> the views that show it (views held weakly, so a dropped view leaves)
        self._views: dict[int, tuple[BaseJob, weakref.WeakSet[Any], Callable[[], None]]] = {}
        self.flushes = 0
        """How many flushes sent something; for tests and benchmarks."""

    # ------------------------------------------------------------------ for views
    def watch(self, job: BaseJob, view: JobView) -> None:
        """Tell ``view`` about every change of ``job`` from now on (on the loop)."""
        with self._lock:
            entry = self._views.get(id(job))
            if entry is None:
                entry = (job, weakref.WeakSet(), self.poller.watch(job))
                self._views[id(job)] = entry
                new = True
            else:
                new = False
            entry[1].add(view)
        if new:
            job.observe(self._changed)

    def unwatch(self, job: BaseJob, view: JobView) -> None:
        """Stop telling ``view`` about ``job``; the last view releases the job."""
        with self._lock:
            entry = self._views.get(id(job))
            if entry is None:
                return
            entry[1].discard(view)
            if entry[1]:
                return
            del self._views[id(job)]
            self._dirty.pop(id(job), None)
        job.unobserve(self._changed)
        entry[2]()

    def unwatch_all(self, view: JobView, jobs: Iterable[BaseJob]) -> None:
        """``unwatch`` many jobs at once."""
        for job in jobs:
            self.unwatch(job, view)

    @property
    def watched(self) -> int:
        """How many jobs the bridge observes."""
        return len(self._views)

    def flush(self) -> None:
        """Send the pending changes now. Only on the loop's own thread.

        A callback that runs on that thread while a cell blocks it (such as
        ``JobMonitor`` during ``wait_for_final_state``) calls this, so that views stay
        live while the loop can't run.
        """
        if threading.get_ident() != self.owner_thread:
            msg = "Bridge.flush() must run on the thread of the bridge's event loop"
            raise RuntimeError(msg)
        with self._lock:
            dirty, self._dirty = self._dirty, {}
            poked, self._poked = self._poked, {}
            self._scheduled = False
            if not dirty and not poked:
                return
            self._last_flush = self.clock()
            targets: dict[int, tuple[Any, list[BaseJob]]] = {
                key: (view, []) for key, view in poked.items()
            }
            for key, job in dirty.items():
                entry = self._views.get(key)
                if entry is None:
                    continue
                for view in list(entry[1]):
                    targets.setdefault(id(view), (view, []))[1].append(job)
        self.flushes += 1
        for view, jobs in targets.values():
            try:
                view._jobs_changed(jobs)
            except Exception:
                log.exception("jobwidgets: view %r failed to update", view)

    def poke(self, view: JobView) -> None:
        """Ask for ``view._jobs_changed([])`` at the next flush, from any thread.

        A view uses it for changes of its own (a removed row, a cancel outcome)."""
        with self._lock:
            self._poked[id(view)] = view
        self._request()

    def mark(self, job: BaseJob) -> None:
        """Treat ``job`` as changed (its views get it at the next flush), from any thread."""
        with self._lock:
            self._dirty[id(job)] = job
        self._request()

    # ------------------------------------------------------------------ internals
    def _changed(self, change: Any) -> None:
        self.mark(change.owner)

    def _request(self) -> None:
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._schedule)
        except RuntimeError:  # the loop is closed: nothing can show the change
            with self._lock:
                self._scheduled = False

    def _schedule(self) -> None:
        delay = self._last_flush + self.interval - self.clock()
        if delay > 0:
            self.loop.call_later(delay, self._flush_scheduled)
        else:
            self._flush_scheduled()

    def _flush_scheduled(self) -> None:
        with self._lock:
            if not self._scheduled:
                return  # an explicit flush() already sent these changes
        self.flush()


def _current_or_own_loop() -> tuple[asyncio.AbstractEventLoop, int]:
    """The running loop of this thread (a kernel's), or else a loop on a thread of its own.

    Outside a kernel nothing renders widgets, but views still get their updates, in
    order, from that one thread.
    """
    try:
        return asyncio.get_running_loop(), threading.get_ident()
    except RuntimeError:
        pass
    loop = asyncio.new_event_loop()
    started = threading.Event()
    idents: list[int] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        idents.append(threading.get_ident())
        started.set()
        loop.run_forever()

    threading.Thread(target=run, name="jobwidgets-bridge", daemon=True).start()
    started.wait()
    return loop, idents[0]


_bridge: Bridge | None = None
_bridge_lock = threading.Lock()


def get_bridge() -> Bridge:
    """The bridge of this process, made on first use on the calling thread's loop."""
    global _bridge
    with _bridge_lock:
        if _bridge is None:
            _bridge = Bridge()
        return _bridge
