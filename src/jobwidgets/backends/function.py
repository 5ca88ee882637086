"""``FunctionJob``: a function call run as a job, shared by the local and Dask backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._jobcore import apply
from .._shown import shown
from .._tags import check_tags
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
        *,
        tags: Any = (),
        resubmitted_from: str | None = None,
    ) -> None:
        if not callable(fn):
            backend_type = type(backend).__name__
            msg = f"fn must be callable: {backend_type}.run needs a callable, got {shown(fn)}"
            raise TypeError(msg)
        checked = check_tags(tags)
        super().__init__(backend, job_id)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs or {}
        if checked:  # before the job joins the registry: its first row has them
            apply(self, "tags", checked)
        if resubmitted_from is not None:
            apply(self, "resubmitted_from", resubmitted_from)

    def resubmit(self) -> FunctionJob:
        """Run the function again with the same arguments and tags, on the same backend;
        return the new job (already submitted), whose ``resubmitted_from`` is this id.

        Raises:
            JobError: the backend is closed (or lost its cluster), or the job was
                retrieved from a Dask cluster (its function runs only there).
        """
        again = getattr(self._backend, "_resubmit", None)
        if again is None:
            super().resubmit()  # raises, naming the class
        assert again is not None
        job: FunctionJob = again(self)
        return job

    def _can_resubmit(self) -> bool:
        backend = self._backend
        return hasattr(backend, "_resubmit") and not getattr(backend, "closed", True)

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
