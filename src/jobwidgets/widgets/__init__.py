"""Widgets: live status badges, a job table with cancel buttons, and a monitor.

Needs the ``widgets`` extra: ``pip install jobwidgets[widgets]``.
"""

try:
    import anywidget  # noqa: F401
    import ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    msg = "jobwidgets.widgets needs ipywidgets and anywidget: pip install 'jobwidgets[widgets]'"
    raise ImportError(msg) from exc

from .badge import StatusBadge
from .monitor import JobMonitor, job_monitor
from .table import JobTable

__all__ = ["JobMonitor", "JobTable", "StatusBadge", "job_monitor"]
