"""``JobMonitor`` and ``job_monitor``: follow jobs while a cell waits for them."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ..bridge import Bridge
from ..job import BaseJob
from ..status import JobStatus
from ._rows import text_line
from .table import JobTable

__all__ = ["JobMonitor", "job_monitor"]


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel, where widgets can render."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    from IPython import get_ipython

    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


class JobMonitor(JobTable):
    """A ``wait_for_final_state`` callback that shows the jobs it is called for, live.

    ``job.wait_for_final_state(callback=JobMonitor())`` displays a compact table on the
    first call; from then on the bridge's thread keeps it live while the cell waits. One
    monitor can follow many jobs. Its Cancel buttons reach the kernel through a kernel
    subshell where the front end allows it.
    """

    def __init__(
        self, *, title: str = "Job monitor", bridge: Bridge | None = None, **kwargs: Any
    ) -> None:
        super().__init__(title=title, compact=True, bridge=bridge, **kwargs)
        self._displayed = False

    def __call__(self, job_id: str, job_status: JobStatus, job: BaseJob) -> None:
        """The callback: ``(job_id, job_status, job)``, as ``wait_for_final_state`` gives."""
        self.add(job)
        if not self._displayed:
            self._displayed = True
            if _in_kernel():
                from IPython.display import display

                display(self)  # type: ignore[no-untyped-call]

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self._displayed = True  # shown by the user: later calls update it in place
        return super()._repr_mimebundle_(**kwargs)


def job_monitor(
    job: BaseJob,
    interval: float | None = None,
    output: TextIO | None = None,
) -> None:
    """Wait for ``job`` to finish, showing its status: qiskit's ``job_monitor``, live.

    In a notebook it shows a live badge; in a terminal, or with ``output`` (a text
    stream), a single status line rewritten in place.

    Args:
        job: the job to follow.
        interval: seconds between status queries for jobs that can only be polled
            (default 5; jobs that push their changes are shown at once).
        output: a text stream to write the status line to, instead of a badge.
    """
    if not isinstance(job, BaseJob):
        msg = f"job_monitor needs a jobwidgets job, got {type(job).__name__}"
        raise TypeError(msg)
    wait = 5.0 if interval is None else interval
    if output is None and _in_kernel():
        from IPython.display import display

        from .badge import StatusBadge

        display(StatusBadge(job))  # type: ignore[no-untyped-call]
        job.wait_for_final_state(wait=wait)  # the badge is live: the bridge has a thread
        return
    stream = output if output is not None else sys.stdout
    width = 0

    def line(_job_id: str, _status: JobStatus, watched: BaseJob) -> None:
        nonlocal width
        text = text_line(watched)
        stream.write("\r" + text.ljust(width))
        stream.flush()
        width = max(width, len(text))

    job.wait_for_final_state(wait=wait, callback=line)
    stream.write("\n")
    stream.flush()
