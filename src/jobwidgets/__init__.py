"""jobwidgets: watch and control asynchronous jobs from Jupyter.

The core (this namespace) needs only traitlets: ``BaseJob`` with the API of qiskit's
legacy ``BaseJob`` and an observable ``state`` trait, ``JobStatus``, the errors, the
registry of this process's jobs, the local and simulated backends, progress from inside
a job (``current_job``, ``track``), and qiskit's ``job_monitor`` for terminals.
"""

from . import registry
from .backends import LocalBackend, LocalJob, SimulatedBackend, SimulatedJob
from .errors import JobCancelledError, JobError, JobTimeoutError
from .job import BaseJob, JobCallback, current_job
from .monitor import job_monitor
from .poller import SharedPoller, default_poller
from .progress import track
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
    "job_monitor",
    "registry",
    "track",
]


def load_ipython_extension(shell: object) -> None:
    """``%load_ext jobwidgets``: rich display of jobs and the ``%job_watcher`` magic."""
    from .ipython import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell: object) -> None:
    """``%unload_ext jobwidgets``."""
    from .ipython import unload_ipython_extension as unload

    unload(shell)


def _activate_in_kernel() -> None:
    import sys

    if "IPython" in sys.modules:  # never import IPython ourselves
        from .ipython import activate

        activate()


_activate_in_kernel()
