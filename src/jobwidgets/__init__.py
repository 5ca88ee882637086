"""jobwidgets: watch and control asynchronous jobs from Jupyter.

The core (this namespace) needs only traitlets: ``BaseJob`` with the API of qiskit's
legacy ``BaseJob`` and an observable ``state`` trait, ``JobStatus``, the errors, the
registry of this process's jobs, and the local and simulated backends.
"""

from . import registry
from .backends import LocalBackend, LocalJob, SimulatedBackend, SimulatedJob
from .errors import JobCancelledError, JobError, JobTimeoutError
from .job import BaseJob, JobCallback, current_job
from .poller import SharedPoller, default_poller
from .status import JOB_FINAL_STATES, JobStatus

__version__ = "0.1.0"

__all__ = [
    "JOB_FINAL_STATES",
    "BaseJob",
    "JobCallback",
    "JobCancelledError",
    "JobError",
    "JobStatus",
    "JobTimeoutError",
    "LocalBackend",
    "LocalJob",
    "SharedPoller",
    "SimulatedBackend",
    "SimulatedJob",
    "current_job",
    "default_poller",
    "registry",
]
