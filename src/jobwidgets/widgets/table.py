"""``JobTable``: many jobs in one live table, with cancel buttons.

Rows travel as custom messages: a ``reset`` with every row when a view asks (``sync``,
on render and after a page reload), then ``delta`` messages with only the rows that
changed, at the bridge's bounded rate. The front end sorts, filters, pages and ticks the
times by itself.

Messages from the front end: ``{"type": "sync"}``, ``{"type": "cancel", "keys": [...]}``,
``{"type": "cancel_all"}``, ``{"type": "clear_finished"}``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any

import anywidget
import traitlets

from ..bridge import Bridge, get_bridge
from ..job import BaseJob
from ..registry import JobRegistry
from ..status import JOB_FINAL_STATES, JobStatus
from ._assets import asset
from ._rows import counts, row

__all__ = ["JobTable"]

log = logging.getLogger("jobwidgets")

_tables: weakref.WeakValueDictionary[str, JobTable] = weakref.WeakValueDictionary()
"""Open tables by model id, for cancel requests that arrive outside the comm."""


class JobTable(anywidget.AnyWidget):  # type: ignore[misc,unused-ignore]
    """A live table of jobs: status badges, times, progress, and a Cancel per row.

    Args:
        jobs: the jobs to show.
        registry: a ``JobRegistry`` to follow: its jobs appear, and so does each new
            one, by itself.
        include_existing: with a registry, whether to list the jobs it already has.
        title: the table's heading.
    """

    _esm = asset("table.js")
    _css = asset("widgets.css")

    title = traitlets.Unicode("Jobs", help="The table's heading.").tag(sync=True)
    compact = traitlets.Bool(False, help="A small table without header actions.").tag(sync=True)
    kernel_time = traitlets.Float(0.0, help="The kernel's clock when last synced.").tag(sync=True)

    def __init__(
        self,
        jobs: Iterable[BaseJob] | None = None,
        *,
        registry: JobRegistry | None = None,
        include_existing: bool = True,
        bridge: Bridge | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._bridge = bridge or get_bridge()
        self._lock = threading.Lock()
        self._keys = itertools.count(1)
        self._rows: dict[str, BaseJob] = {}
        self._key_of: dict[int, str] = {}
        self._removed: list[str] = []
        self._cancel: dict[str, tuple[str | None, str | None]] = {}
        self._unsubscribe: Any = None
        self._closed = False
        self._needs_reset = False
        self.messages_sent = 0
        """How many row messages this table sent; for tests and benchmarks."""
        self.on_msg(self._on_front_end_msg)
        self._model_key = self.model_id
        _tables[self._model_key] = self
        for job in jobs or ():
            self._add(job, send=False)  # the first reset below carries them
        if registry is not None:
            if not isinstance(registry, JobRegistry):
                msg = f"registry must be a jobwidgets JobRegistry, got {type(registry).__name__}"
                raise TypeError(msg)
            self._unsubscribe = registry.subscribe(self.add)
            if include_existing:
                for job in registry.jobs():
                    self._add(job, send=False)
        # the front end keeps rows per model, so rows sent now are there for any view
        # that renders later, even while a blocked cell keeps the kernel from answering
        self._reset()

    # --------------------------------------------------------------- Python API
    @property
    def jobs(self) -> list[BaseJob]:
        """The jobs in the table, in the order they were added."""
        with self._lock:
            return list(self._rows.values())

    @property
    def counts(self) -> dict[str, int]:
        """How many of the table's jobs are in each status."""
        return counts(self.jobs)

    def add(self, job: BaseJob) -> None:
        """Show ``job`` (once; adding it again does nothing). Safe from any thread."""
        self._add(job, send=True)

    def _add(self, job: BaseJob, *, send: bool) -> None:
        if not isinstance(job, BaseJob):
            msg = f"JobTable.add needs a jobwidgets job, got {type(job).__name__}"
            raise TypeError(msg)
        with self._lock:
            if self._closed or id(job) in self._key_of:
                return
            key = str(next(self._keys))
            self._rows[key] = job
            self._key_of[id(job)] = key
        self._bridge.watch(job, self)
        if send:
            self._bridge.mark(job)

    def remove(self, job: BaseJob) -> None:
        """Stop showing ``job``. Removing a job the table doesn't show does nothing."""
        with self._lock:
            key = self._key_of.pop(id(job), None)
            if key is None:
                return
            del self._rows[key]
            self._cancel.pop(key, None)
            self._removed.append(key)
        self._bridge.unwatch(job, self)
        self._bridge.poke(self)

    def clear_finished(self) -> list[BaseJob]:
        """Remove every job in a final state; return them."""
        finished = [job for job in self.jobs if job.state in JOB_FINAL_STATES]
        for job in finished:
            self.remove(job)
        return finished

    def cancel(self, jobs: Iterable[BaseJob] | None = None) -> dict[str, bool]:
        """Cancel the given jobs (default: every unfinished one); return id -> accepted."""
        with self._lock:
            targets = [
                key
                for key, job in self._rows.items()
                if (jobs is None and job.state not in JOB_FINAL_STATES)
                or (jobs is not None and any(job is j for j in jobs))
            ]
        return {outcome["job_id"]: outcome["ok"] for outcome in self._cancel_keys(targets)}

    def close(self) -> None:
        """Release every observer and subscription, then close the widget."""
        if getattr(self, "_closed", True):  # closed already, or __init__ failed early
            super().close()
            return
        with self._lock:
            self._closed = True
            jobs = list(self._rows.values())
            self._rows.clear()
            self._key_of.clear()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._bridge.unwatch_all(self, jobs)
        _tables.pop(self._model_key, None)
        super().close()

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        tally = ", ".join(f"{name} {n}" for name, n in self.counts.items() if n)
        return f"{type(self).__name__} {self.title!r}: {len(self)} jobs" + (
            f" ({tally})" if tally else ""
        )

    # ------------------------------------------------------------ bridge side
    def _jobs_changed(self, jobs: list[BaseJob]) -> None:
        """Send one delta with the rows of ``jobs`` and the rows removed since."""
        if self._needs_reset:
            self._needs_reset = False
            with self._lock:
                self._removed.clear()
                for job in jobs:
                    key = self._key_of.get(id(job))
                    if key is not None and job.state in JOB_FINAL_STATES:
                        self._cancel.pop(key, None)
            self._reset()
            return
        with self._lock:
            upsert = []
            for job in jobs:
                key = self._key_of.get(id(job))
                if key is not None:
                    upsert.append(row(job, key, self._cancel.get(key, (None, None))))
                    if job.state in JOB_FINAL_STATES:
                        self._cancel.pop(key, None)  # the final state says it all now
            removed, self._removed = self._removed, []
        if upsert or removed:
            self._send_rows({"type": "delta", "upsert": upsert, "remove": removed})

    def _send_rows(self, content: dict[str, Any]) -> None:
        if self.comm is None:
            return
        content["kernel_time"] = time.time()
        self.messages_sent += 1
        self.send(content)

    def _reset(self) -> None:
        with self._lock:
            rows = [
                row(job, key, self._cancel.get(key, (None, None)))
                for key, job in self._rows.items()
            ]
        self._send_rows({"type": "reset", "rows": rows, "model_id": self._model_key})

    # ------------------------------------------------------------ front end side
    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "sync":
            self._reset()
        elif kind == "cancel":
            keys = [str(k) for k in content.get("keys", [])]
            for outcome in self._cancel_keys(keys):
                self._send_rows({"type": "cancel_result", **outcome})
        elif kind == "cancel_all":
            self.cancel()
        elif kind == "clear_finished":
            self.clear_finished()
        else:
            log.warning("jobwidgets: JobTable ignored an unknown message %r", content)

    def _request_reset(self) -> None:
        """Send every row at the next flush (a view asked from a kernel subshell)."""
        self._needs_reset = True
        self._bridge.poke(self)

    def _cancel_keys(self, keys: list[str]) -> list[dict[str, Any]]:
        """Call ``cancel()`` on each job; record why it failed. Safe from any thread.

        The rows show the outcome at the next flush; nothing is raised into the notebook.
        """
        outcomes: list[dict[str, Any]] = []
        for key in keys:
            with self._lock:
                job = self._rows.get(key)
            if job is None:
                outcomes.append({"key": key, "job_id": None, "ok": False, "message": "no such job"})
                continue
            outcome: dict[str, Any] = {
                "key": key,
                "job_id": job.job_id(),
                "ok": False,
                "message": "",
            }
            if job.state in JOB_FINAL_STATES:
                outcome["message"] = f"the job is already {job.state.name}"
            else:
                try:
                    accepted = job.cancel()
                except Exception as exc:
                    outcome["message"] = f"cancel() raised {type(exc).__name__}: {exc}"
                else:
                    outcome["ok"] = bool(accepted) or job.state is JobStatus.CANCELLED
                    if not outcome["ok"]:
                        outcome["message"] = (
                            f"the backend did not accept the cancel (the job is {job.state.name})"
                        )
            state = "requested" if outcome["ok"] else "failed"
            with self._lock:
                if key in self._rows:
                    self._cancel[key] = (state, outcome["message"] or None)
            self._bridge.mark(job)
            outcomes.append(outcome)
        return outcomes
