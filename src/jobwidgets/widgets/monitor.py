"""``JobMonitor``: follow jobs while a cell waits for them; and ``job_monitor``."""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from ..bridge import Bridge
from ..job import BaseJob
from ..monitor import _StatusLine, job_monitor
from .table import JobTable

__all__ = ["JobMonitor", "job_monitor"]


class JobMonitor(JobTable):
    """A ``wait_for_final_state`` callback that shows the jobs it is called for, live.

    ``job.wait_for_final_state(callback=JobMonitor())`` displays a compact table on the
    first call, and the job's row follows it to its final state. One monitor can follow
    many jobs. The bridge keeps the table live while the cell blocks; its Cancel buttons
    reach the kernel through a kernel subshell where the front end allows it.

    Unlike a plain callback, which (as in qiskit) only hears of statuses that are not
    final, a monitor sets ``wants_final_status``: ``wait_for_final_state`` also calls
    it with the final status, so a job that is already final shows too.

    Where widgets can't render (a terminal, a script), the monitor writes the status
    line that ``job_monitor`` writes, to ``sys.stdout``: each call rewrites it, and the
    final status ends it with a newline.
    """

    wants_final_status: ClassVar[bool] = True
    """Asks ``wait_for_final_state`` to call the monitor with the final status too."""

    def __init__(
        self, *, title: str = "Job monitor", bridge: Bridge | None = None, **kwargs: Any
    ) -> None:
        super().__init__(title=title, compact=True, bridge=bridge, **kwargs)
        self._displayed = False
        self._line: _StatusLine | None = None  # the status line, outside a kernel
        self._line_job: BaseJob | None = None

    def __call__(self, job_id: Any, job_status: Any, job: BaseJob) -> None:
        """The callback: ``(job_id, job_status, job)``, as ``wait_for_final_state`` gives."""
        self.add(job)
        if self._displayed:
            return
        if _in_kernel():
            from ..outputs import show

            self._displayed = True
            show(self)  # a cell's value: its text follows the jobs (jobwidgets.outputs)
            return
        self._write_line(job)

    def _write_line(self, job: BaseJob) -> None:
        """Outside a kernel: ``job_monitor``'s status line for ``job``."""
        if self._line is None or self._line_job is not job:
            if self._line is not None and self._line_job is not None:
                self._line.stream.write("\n")  # the previous job's line stays
            self._line = _StatusLine(sys.stdout, "\r")
            self._line_job = job
        final = job.state.final
        self._line.write(job, force=final)
        if final:
            self._line.stream.write("\n")
            self._line.stream.flush()
            self._line = self._line_job = None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self._displayed = True  # shown by the user: later calls update it in place
        return super()._repr_mimebundle_(**kwargs)


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel, where widgets can render."""
    if sys.modules.get("IPython") is None:
        return False
    from IPython import get_ipython

    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None
