"""Backends that make real jobs: local threads and processes, a simulated remote queue.

Dask and Qiskit backends live in ``jobwidgets.dask`` and ``jobwidgets.qiskit`` and need
their extras.
"""

from .local import LocalBackend, LocalJob
from .simulated import SimulatedBackend, SimulatedJob

__all__ = ["LocalBackend", "LocalJob", "SimulatedBackend", "SimulatedJob"]
