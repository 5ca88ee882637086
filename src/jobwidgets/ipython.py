"""Jupyter integration: rich display of jobs, and the ``%job_watcher`` magic.

``import jobwidgets`` in a kernel calls ``activate()``: the JupyterLab job panel can then
list the kernel's jobs (``panel.py``), and a job that is the last expression
of a cell displays as a live badge (with a ``text/html`` snapshot and readable
``text/plain`` for front ends where widgets can't render), and the kernel's jobs are
recorded in the job history (``jobwidgets.history``). ``%load_ext jobwidgets``
adds the magic::

    %job_watcher        # a table of every job created in this kernel from now on
    %job_watcher off    # stop adding new jobs to it
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from typing import Any

from . import monitor
from .job import BaseJob
from .rows import html_snapshot
from .text import text_line

__all__ = ["activate", "load_ipython_extension", "unload_ipython_extension"]

_watcher: Any = None
log = logging.getLogger("jobwidgets")


def _shell() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def _widgets_available(shell: Any) -> bool:
    """Whether a widget can render here: a kernel, with the ``widgets`` extra installed and
    its front end built."""
    if getattr(shell, "kernel", None) is None:
        return False  # a terminal IPython: text only
    try:
        import jobwidgets.widgets  # noqa: F401
    except (ImportError, FileNotFoundError):
        return False
    return True


def _job_bundle(job: BaseJob, include: Any = None, exclude: Any = None) -> Any:
    """A job's rich display: ``text/plain`` and ``text/html`` always (they need the core
    only), and a live badge's widget view where widgets can render."""
    data: dict[str, Any] = {"text/plain": text_line(job), "text/html": html_snapshot(job)}
    shell = _shell()
    if shell is not None and _widgets_available(shell):
        from .widgets import StatusBadge

        badge_data = StatusBadge(job)._repr_mimebundle_()
        if isinstance(badge_data, tuple):
            badge_data = badge_data[0]
        for mime, value in (badge_data or {}).items():
            if mime.startswith("application/vnd.jupyter.widget-view"):
                data[mime] = value
    return data


def _show_badge(job: BaseJob) -> bool:
    """``job_monitor``'s view in a kernel: display a live badge; False without widgets."""
    shell = _shell()
    if shell is None or not _widgets_available(shell):
        return False
    from IPython.display import display

    from .widgets import StatusBadge

    display(StatusBadge(job))  # type: ignore[no-untyped-call]
    return True


def activate(shell: Any = None) -> bool:
    """Display jobs richly in this IPython session; return False outside IPython.

    In a kernel, also register the comm target of the JupyterLab job panel, so that the
    panel lists this kernel's jobs without any cell displaying a widget.
    """
    shell = shell or _shell()
    if shell is None:
        return False
    formatter = shell.display_formatter.mimebundle_formatter
    formatter.for_type(BaseJob, _job_bundle)
    if getattr(shell, "kernel", None) is not None:
        monitor.notebook_view = _show_badge
        _start_history()
    from .panel import register

    register(shell)
    return True


def _kernel_id() -> str | None:
    """This kernel's id, from its connection file's name (``kernel-<id>.json``)."""
    try:
        from ipykernel.kernelapp import IPKernelApp
    except ImportError:
        return None
    if not IPKernelApp.initialized():
        return None
    name = os.path.basename(str(IPKernelApp.instance().connection_file or ""))
    stem = name.removesuffix(".json")
    return stem.removeprefix("kernel-") or None


def _start_history() -> None:
    """The job history is on by default in a kernel (``JOBWIDGETS_HISTORY=off`` turns it
    off). Jupyter Server gives the kernel its notebook's path in ``JPY_SESSION_NAME``."""
    from . import history

    if history.enabled():
        return
    try:
        history.enable(kernel_id=_kernel_id(), notebook=os.environ.get("JPY_SESSION_NAME"))
    except Exception:  # the history must never keep jobwidgets from loading
        log.exception("jobwidgets: the job history could not start")


def _job_watcher(line: str) -> Any:
    """%job_watcher [off]: a live table of every job created in this kernel from now on."""
    global _watcher
    args = shlex.split(line)
    if args and args[0] == "off":
        if _watcher is not None:
            _watcher.stop_following()  # its table stays, with the jobs it has shown
            _watcher = None
            print("job watcher stopped")
        else:
            print("no job watcher is running")
        return None
    if args:
        msg = f"%job_watcher takes no argument or 'off', got {line!r}"
        raise ValueError(msg)
    from .registry import default_registry
    from .widgets import JobTable

    if _watcher is not None:
        _watcher.stop_following()
    _watcher = JobTable(registry=default_registry, include_existing=False, title="Job watcher")
    return _watcher


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext jobwidgets``: rich display and the ``%job_watcher`` magic."""
    activate(shell)
    shell.register_magic_function(_job_watcher, "line", "job_watcher")


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext jobwidgets``: stop the watcher."""
    _job_watcher("off")
