"""The exceptions of jobwidgets."""

from __future__ import annotations

__all__ = ["JobCancelledError", "JobError", "JobTimeoutError"]


class JobError(Exception):
    """A job could not do what was asked: it failed, was cancelled, or was misused."""


class JobTimeoutError(JobError):
    """A job did not reach a final state within the time allowed."""


class JobCancelledError(JobError):
    """Raised inside a job's own code to end it as CANCELLED.

    ``jobwidgets.current_job().raise_if_cancelled()`` raises it when somebody asked the
    running job to stop; the backend then reports the job as CANCELLED rather than ERROR.
    """
