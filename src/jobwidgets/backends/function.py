"""``FunctionJob``: a function call run as a job, shared by the local and Dask backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._shown import shown
from ..job import BaseJob
from ..status import JobStatus

__all__ = ["FunctionJob"]


class FunctionJob(BaseJob):
    """A function call run as a job: what the local and the Dask backends share.

    Subclasses add ``submit()`` and ``cancel()``; the backend pushes every status
    change through ``_report``, with the value or the exception at the end.
    """

    pushes_status = True

    def __init__(
        self,
        backend: Any,
        job_id: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not callable(fn):
            backend_type = type(backend).__name__
            msg = f"fn must be callable: {backend_type}.run needs a callable, got {shown(fn)}"
            raise TypeError(msg)
        super().__init__(backend, job_id)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs or {}

    def job_id(self) -> str:
        """Return a unique id identifying the job (these jobs always have one)."""
        job_id = self._job_id
        return job_id if isinstance(job_id, str) else str(job_id)

    def status(self) -> JobStatus:
        """Return the status of the job."""
        return self._recorded_status()

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the job and return the function's return value.

        Raises:
            JobError: the job failed (chained from the original exception) or was
                cancelled.
            JobTimeoutError: the job did not finish within ``timeout`` seconds.
        """
        return self._outcome(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Wait for the job and return the exception it raised, or None."""
        self._wait_final(timeout)
        return self._recorded_exception()
