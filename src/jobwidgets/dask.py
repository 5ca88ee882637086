"""Dask clusters as a source of jobs: ``DaskBackend`` and ``DaskJob``.

Needs the ``dask`` extra (``pip install 'jobwidgets[dask]'``). The implementation lives
in ``jobwidgets.backends.dask``.
"""

from .backends.dask import DaskBackend, DaskJob

__all__ = ["DaskBackend", "DaskJob"]
