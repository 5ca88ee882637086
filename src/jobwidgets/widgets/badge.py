"""``StatusBadge``: a job's live status as a small pill."""

from __future__ import annotations

import time
import weakref
from typing import Any

import traitlets

from .. import rows
from ..bridge import Bridge, bridge_or_default
from ..job import BaseJob
from ..outputs import LiveOutput
from ..text import text_line
from ._assets import front_end
from ._base import OwnWidget

__all__ = ["StatusBadge"]

BADGE_KEY = "1"
"""The key of the badge's one row."""


class StatusBadge(OwnWidget):  # type: ignore[misc,unused-ignore]
    """The status of one job: its name with a colour and an icon, live.

    The badge syncs the job's row (``jobwidgets.rows.row``), the data every view of a job
    renders; the elapsed time (in queue, or running) ticks in the browser. The kernel
    sends a message only when the job changes, through the bridge, at a bounded rate.

    Threads: the comm opens with the row of the moment the badge is made; from then on
    only the bridge's thread sets ``row`` and ``kernel_time`` (``_jobs_changed``), and
    updates the text of the outputs that show the badge (``jobwidgets.outputs``).

    An open badge holds its job; a closed one only weakly, so a closed badge that is
    still referenced (by IPython's ``Out``, say) doesn't keep a dropped job alive. It
    still shows the last row it had.
    """

    _esm = front_end("badge.js")
    _css = front_end("widgets.css")

    row = traitlets.Dict(help="The job's row, as the table and the panel get it.").tag(sync=True)
    kernel_time = traitlets.Float(0.0, help="The kernel's clock when last synced.").tag(sync=True)

    def __init__(self, job: BaseJob, *, bridge: Bridge | None = None, **kwargs: Any) -> None:
        if not isinstance(job, BaseJob):
            msg = f"StatusBadge needs a jobwidgets job, got {type(job).__name__}"
            raise TypeError(msg)
        checked = bridge_or_default(bridge)  # before the comm opens: nothing to undo
        super().__init__(row=rows.row(job, BADGE_KEY), kernel_time=time.time(), **kwargs)
        self._job: BaseJob | None = job  # None once closed
        self._job_ref = weakref.ref(job)
        self._bridge = checked
        self._output = LiveOutput(self._bridge, self._shown_jobs, _fallbacks, final_is_last=True)
        self._bridge.watch(job, self)
        self._bridge.mark(job)  # a change between the snapshot and the watch

    @property
    def job(self) -> BaseJob:
        """The job shown. After ``close()``, while something else keeps it alive."""
        job = self._job or self._job_ref()
        if job is None:
            msg = (
                "this StatusBadge is closed and its job is gone (a closed badge holds its "
                "job weakly): keep a reference to the job to use it after close()"
            )
            raise RuntimeError(msg)
        return job

    # The row's facts, read-only, as the badge shows them.
    @property
    def status(self) -> str:
        """The status name shown."""
        return str(self.row["status"])

    @property
    def job_id(self) -> str | None:
        """The job id shown; None while the job has none yet."""
        job_id: str | None = self.row["job_id"]
        return job_id

    @property
    def backend(self) -> str:
        """The backend's name shown."""
        return str(self.row["backend"])

    @property
    def error(self) -> str | None:
        """The failure's message shown, if any."""
        error: str | None = self.row["error"]
        return error

    @property
    def submitted_at(self) -> float | None:
        """When the job was submitted, as shown."""
        value: float | None = self.row["submitted_at"]
        return value

    @property
    def started_at(self) -> float | None:
        """When the job started, as shown."""
        value: float | None = self.row["started_at"]
        return value

    @property
    def finished_at(self) -> float | None:
        """When the job finished, as shown."""
        value: float | None = self.row["finished_at"]
        return value

    def _jobs_changed(self, jobs: list[BaseJob]) -> None:
        """On the bridge's thread: show the job's current row."""
        job = self._job
        if job is None:  # closed since the change was marked
            return
        with self.hold_sync():
            self.row = rows.row(job, BADGE_KEY)
            self.kernel_time = time.time()
        self._output.refresh()

    def _shown_jobs(self) -> list[BaseJob]:
        job = self._job
        return [] if job is None else [job]

    def close(self) -> None:
        """Stop following the job and close the widget."""
        bridge = self.__dict__.pop("_bridge", None)
        job = getattr(self, "_job", None)  # none when __init__ failed early
        self._job = None
        output = self.__dict__.pop("_output", None)
        if output is not None:
            output.close()  # a closed badge's outputs keep their last text
        if bridge is not None and job is not None:
            bridge.unwatch(job, self)
        super().close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle: Any = super()._repr_mimebundle_(**kwargs)
        raw, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data: dict[str, Any] = dict(raw) if raw else {}
        output = getattr(self, "_output", None)
        if output is None:  # closed
            data.update(_fallbacks([self.job]))
        else:
            data.update(output.fallbacks())
            output.claim(data)
        return data, metadata


def _fallbacks(jobs: list[BaseJob]) -> dict[str, str]:
    """A badge's text where widgets can't render: its job's text line and HTML snapshot."""
    if not jobs:
        return {}
    job = jobs[0]
    return {"text/plain": text_line(job), "text/html": rows.html_snapshot(job)}
