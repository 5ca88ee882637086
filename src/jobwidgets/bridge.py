"""The bridge: moves job changes from any thread to the views, coalesced, from one thread.

Jobs change on worker threads, engine threads, the poller's thread. The bridge observes
each watched job once, whatever number of views show it, marks it dirty from whichever
thread changed it, and flushes the dirty jobs to their views at most ``1 / interval``
times a second, sending only what changed. No thread per job, no polling of jobs that
push; jobs that can only be polled are handed to the shared poller while a view shows
them.

Threads. In a kernel (and in plain Python) the bridge runs an ``asyncio`` loop on one
thread of its own, ``jobwidgets-bridge``. Widget messages sent from a background thread
reach the page while a cell blocks the kernel's main thread (measured on ipykernel 7.4:
2-40 ms, nothing dropped), so views stay live whatever the main thread does: idle,
sleeping, CPU-bound, blocked in ``result()`` or ``wait_for_final_state()``, or awaiting.

Who owns what:

- The bridge's own state (``_dirty``, ``_poked``, ``_scheduled``, ``_views``) is guarded
  by ``_lock``; ``watch``, ``unwatch``, ``mark`` and ``poke`` are safe from any thread,
  and so is ``settle`` (a flush now, on the bridge's thread, waited for: the end of a
  notebook cell uses it, ``jobwidgets.outputs``).
- A view's state (its traits, its rows' pending messages, what it has sent) is owned by
  the bridge's thread (``owner_thread``): only ``view._jobs_changed`` touches it, and the
  bridge calls that only from its loop. Work that starts on another thread (a front-end
  ``sync`` or ``cancel`` handled on the main shell or on a subshell) records what it
  needs under the view's lock and calls ``poke(view)``; the message goes out at the next
  flush, from the owner.

Tests give the bridge a loop of their own (anything with ``call_soon_threadsafe`` and
``call_later``, such as a hand-driven fake) and a clock; the owner is then the thread
that runs that loop's callbacks, learned the first time it runs one.
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

__all__ = ["Bridge", "JobView", "bridge_or_default", "get_bridge"]

log = logging.getLogger("jobwidgets")


class JobView(Protocol):
    """What the bridge needs of a view: a method that takes the jobs that changed."""

    def _jobs_changed(self, jobs: list[BaseJob]) -> None: ...


class Loop(Protocol):
    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> Any: ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Any: ...


class Bridge:
    """Collects job changes from any thread and flushes them to the views from one thread.

    Args:
        loop: the loop whose thread owns the views; default: an ``asyncio`` loop on a
            thread of the bridge's own (``jobwidgets-bridge``), in a kernel as outside.
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
        owner: int | None = None
        if loop is None:
            loop, owner = _own_loop()
        self.loop = loop
        self.interval = interval
        self.clock = clock
        self.poller = poller or default_poller
        self.owner_thread = owner
        """The thread that runs the loop, the only one that touches views; ``None`` until
        an injected loop has run its first callback."""
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
        """Tell ``view`` about every change of ``job`` from now on (from the bridge's thread)."""
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

    def on_owner_thread(self) -> bool:
        """Whether the calling thread is the one that owns the views."""
        return threading.get_ident() == self.owner_thread

    def poke(self, view: JobView) -> None:
        """Ask for ``view._jobs_changed([])`` at the next flush, from any thread.

        A view uses it for changes of its own (a removed row, a reset asked for, a
        cancel outcome to report)."""
        with self._lock:
            self._poked[id(view)] = view
        self._request()

    def mark(self, job: BaseJob) -> None:
        """Treat ``job`` as changed (its views get it at the next flush), from any thread."""
        with self._lock:
            self._dirty[id(job)] = job
        self._request()

    def settle(self, then: Callable[[], None] | None = None, timeout: float = 2.0) -> bool:
        """Flush what is pending now, without waiting for the interval, then call
        ``then``, both on the bridge's thread; wait (at most ``timeout`` seconds) until
        that is done. Return whether it was done in time.

        For the end of a notebook cell: what the views send then still belongs to the
        cell. From the bridge's own thread, it runs at once."""

        def run() -> None:
            try:
                self.owner_thread = threading.get_ident()
                self._flush()
                if then is not None:
                    then()
            except Exception:
                log.exception("jobwidgets: the bridge could not settle")
            finally:
                done.set()

        done = threading.Event()
        if self.on_owner_thread():
            run()
            return True
        try:
            self.loop.call_soon_threadsafe(run)
        except RuntimeError:  # the loop is closed: nothing is pending any more
            return False
        return done.wait(timeout)

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
        """On the loop: flush now, or when the interval since the last flush has passed."""
        self.owner_thread = threading.get_ident()
        try:
            delay = self._last_flush + self.interval - self.clock()
            if delay > 0:
                self.loop.call_later(delay, self._flush)
                return
        except Exception:  # never leave the bridge unable to flush
            log.exception("jobwidgets: the bridge could not schedule a flush")
            with self._lock:
                self._scheduled = False
            return
        self._flush()

    def _flush(self) -> None:
        """On the loop: send the pending changes to their views.

        Whatever fails, the bridge can flush again: ``_scheduled`` is cleared before
        anything else, and a view that raises is logged and skipped."""
        try:
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
        except Exception:  # never leave the bridge unable to flush
            log.exception("jobwidgets: a bridge flush failed")
            with self._lock:
                self._scheduled = False


def _own_loop() -> tuple[asyncio.AbstractEventLoop, int]:
    """A new ``asyncio`` loop running on a daemon thread of its own, and that thread."""
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


def bridge_or_default(bridge: object) -> Bridge:
    """A view's ``bridge=`` argument: a ``Bridge``, or None for the process's bridge.

    Views check it before they open a comm or watch a job, so that a bad value leaves
    nothing behind."""
    if bridge is None:
        return get_bridge()
    if not isinstance(bridge, Bridge):
        msg = f"bridge must be a jobwidgets Bridge or None, got {type(bridge).__name__}"
        raise TypeError(msg)
    return bridge


def get_bridge() -> Bridge:
    """The bridge of this process, with its thread, made on first use."""
    global _bridge
    with _bridge_lock:
        if _bridge is None:
            _bridge = Bridge()
        return _bridge
