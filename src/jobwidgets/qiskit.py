"""Qiskit jobs as observable jobs: ``watch(job)`` and ``QiskitBackend``.

Needs the ``qiskit`` extra (``pip install 'jobwidgets[qiskit]'``: qiskit and qiskit-aer).
The implementation lives in ``jobwidgets.backends.qiskit``.
"""

from .backends.qiskit import (
    QiskitBackend,
    QiskitJob,
    SimulationError,
    WatchedJob,
    failure_of,
    to_status,
    watch,
)

__all__ = [
    "QiskitBackend",
    "QiskitJob",
    "SimulationError",
    "WatchedJob",
    "failure_of",
    "to_status",
    "watch",
]
