"""Job statuses: the seven states of qiskit's ``JobStatus``, with its messages."""

from __future__ import annotations

import enum

__all__ = ["JOB_FINAL_STATES", "JobStatus"]


class JobStatus(enum.Enum):
    """The status of a job. Each value is qiskit's message for that status."""

    INITIALIZING = "job is being initialized"
    """The job is being set up and has not reached its backend yet."""
    QUEUED = "job is queued"
    """The backend accepted the job and it waits for a free slot."""
    VALIDATING = "job is being validated"
    """The backend checks the job before running it."""
    RUNNING = "job is actively running"
    """The job's work is being done now."""
    CANCELLED = "job has been cancelled"
    """Final: the job was cancelled before it finished."""
    DONE = "job has successfully run"
    """Final: the job finished and its result is available."""
    ERROR = "job incurred error"
    """Final: the job failed; its error says why."""

    @property
    def final(self) -> bool:
        """Whether no further status can follow this one."""
        return self in JOB_FINAL_STATES

    @property
    def icon(self) -> str:
        """A one-character symbol, shown beside the name (colour is never the only sign)."""
        return _ICONS[self]


JOB_FINAL_STATES: tuple[JobStatus, ...] = (JobStatus.DONE, JobStatus.CANCELLED, JobStatus.ERROR)
"""The statuses after which a job never changes again."""

_ICONS = {
    JobStatus.INITIALIZING: "…",
    JobStatus.QUEUED: "◷",
    JobStatus.VALIDATING: "◎",
    JobStatus.RUNNING: "▶",
    JobStatus.CANCELLED: "⊘",
    JobStatus.DONE: "✔",
    JobStatus.ERROR: "✖",
}
