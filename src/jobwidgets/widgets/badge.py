"""``StatusBadge``: a job's live status as a small pill."""

from __future__ import annotations

import time
from typing import Any

import anywidget
import traitlets

from ..bridge import Bridge, get_bridge
from ..job import BaseJob, wire_id
from ._assets import asset
from ._rows import html_snapshot, text_line

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
        super().__init__(**kwargs)
        self.job = job
        self._bridge = bridge or get_bridge()
        self._jobs_changed([job])
        self._bridge.watch(job, self)

    def _jobs_changed(self, jobs: list[BaseJob]) -> None:
        job = self.job
        with self.hold_sync():
            self.status = job.state.name
            self.job_id = wire_id(job)
            self.backend = job._backend_name()
            self.error = job.error
            self.submitted_at = job.submitted_at
            self.started_at = job.started_at
            self.finished_at = job.finished_at
            self.kernel_time = time.time()

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
