"""``StatusBadge``: a job's live status as a small pill."""

from __future__ import annotations

import time
from typing import Any

import anywidget
import traitlets

from ..bridge import Bridge, get_bridge
from ..job import BaseJob, wire_id
from ..rows import html_snapshot
from ..text import text_line
from ._assets import asset

__all__ = ["StatusBadge"]


class StatusBadge(anywidget.AnyWidget):  # type: ignore[misc,unused-ignore]
    """The status of one job: its name with a colour and an icon, live.

    The elapsed time (in queue, or running) ticks in the browser; the kernel sends a
    message only when the job changes, through the bridge, at a bounded rate.
    """

    _esm = asset("badge.js")
    _css = asset("widgets.css")

    status = traitlets.Unicode("INITIALIZING", help="The job's status name.").tag(sync=True)
    job_id = traitlets.Unicode(
        None, allow_none=True, help="The job's id; None while the job has none yet."
    ).tag(sync=True)
    backend = traitlets.Unicode("", help="The name of the job's backend.").tag(sync=True)
    error = traitlets.Unicode(None, allow_none=True, help="The failure's message.").tag(sync=True)
    submitted_at = traitlets.Float(None, allow_none=True).tag(sync=True)
    started_at = traitlets.Float(None, allow_none=True).tag(sync=True)
    finished_at = traitlets.Float(None, allow_none=True).tag(sync=True)
    kernel_time = traitlets.Float(0.0, help="The kernel's clock when last synced.").tag(sync=True)

    def __init__(self, job: BaseJob, *, bridge: Bridge | None = None, **kwargs: Any) -> None:
        if not isinstance(job, BaseJob):
            msg = f"StatusBadge needs a jobwidgets job, got {type(job).__name__}"
            raise TypeError(msg)
        # the comm opens with the job's state; from then on only the bridge's thread
        # sets the traits (``_jobs_changed``)
        super().__init__(**_facts(job), **kwargs)
        self.job = job
        self._bridge = bridge or get_bridge()
        self._bridge.watch(job, self)
        self._bridge.mark(job)  # a change between the snapshot and the watch

    def _jobs_changed(self, jobs: list[BaseJob]) -> None:
        """On the bridge's thread: show the job's current facts."""
        with self.hold_sync():
            for name, value in _facts(self.job).items():
                setattr(self, name, value)

    def close(self) -> None:
        """Stop following the job and close the widget."""
        bridge = self.__dict__.pop("_bridge", None)
        if bridge is not None:
            bridge.unwatch(self.job, self)
        super().close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle: Any = super()._repr_mimebundle_(**kwargs)
        raw, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data: dict[str, Any] = dict(raw) if raw else {}
        data["text/plain"] = text_line(self.job)
        data["text/html"] = html_snapshot(self.job)
        return data, metadata


def _facts(job: BaseJob) -> dict[str, Any]:
    """The badge's traits for ``job`` now."""
    return {
        "status": job.state.name,
        "job_id": wire_id(job),
        "backend": job._backend_name(),
        "error": job.error,
        "submitted_at": job.submitted_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "kernel_time": time.time(),
    }
