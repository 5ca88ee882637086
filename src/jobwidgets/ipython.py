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
import threading
from typing import Any

from . import monitor, outputs
from .bridge import Bridge, get_bridge
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


def _text(jobs: list[BaseJob]) -> dict[str, str]:
    job = jobs[0]
    return {"text/plain": text_line(job), "text/html": html_snapshot(job)}


_text_views: set[_JobText] = set()
_text_views_lock = threading.Lock()


class _JobText:
    """A job shown as text only (no widgets): the output's text follows the job until
    it is final (``jobwidgets.outputs``). Held here until then."""

    def __init__(self, job: BaseJob, bridge: Bridge) -> None:
        self.job = job
        self.bridge = bridge
        self.output = outputs.LiveOutput(bridge, lambda: [job], _text, on_final=self.release)

    def follow(self, data: dict[str, Any]) -> None:
        """Claim the output being shown; follow the job if that worked."""
        self.output.claim(data)
        if not self.output.claimed or self.job.state.final:
            self.output.close()
            return
        with _text_views_lock:
            _text_views.add(self)
        self.bridge.watch(self.job, self)
        self.bridge.mark(self.job)  # a change since the text was made

    def _jobs_changed(self, jobs: list[BaseJob]) -> None:
        self.output.refresh()

    def release(self) -> None:
        self.output.close()
        self.bridge.unwatch(self.job, self)
        with _text_views_lock:
            _text_views.discard(self)


def _job_bundle(job: BaseJob, include: Any = None, exclude: Any = None) -> Any:
    """A job's rich display: ``text/plain`` and ``text/html`` always (they need the core
    only), and a live badge's widget view where widgets can render. The text follows the
    job (``jobwidgets.outputs``)."""
    shell = _shell()
    if shell is not None and _widgets_available(shell):
        from .widgets import StatusBadge

        badge_data = StatusBadge(job)._repr_mimebundle_()  # its output follows the job
        if isinstance(badge_data, tuple):
            badge_data = badge_data[0]
        return dict(badge_data or {}) or _text([job])
    view = _JobText(job, get_bridge())
    data: dict[str, Any] = view.output.fallbacks()
    view.follow(data)
    return data


def _show_badge(job: BaseJob) -> bool:
    """``job_monitor``'s view in a kernel: display a live badge; False without widgets."""
    shell = _shell()
    if shell is None or not _widgets_available(shell):
        return False
    from .widgets import StatusBadge

    outputs.show(StatusBadge(job))  # a cell's value: its text follows the job
    return True


def _settle(_result: Any = None) -> None:
    """After each cell: send the outputs' pending text updates while the cell is still
    running, so that an executor (nbconvert) that keeps only what a cell sends keeps them."""
    outputs.settle(get_bridge())


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
        if _settle not in shell.events.callbacks["post_run_cell"]:
            shell.events.register("post_run_cell", _settle)
        _start_history()
    from .panel import register

    register(shell)
    return True


def _kernel_id() -> str | None:
    """This kernel's id, from its connection file's name (``kernel-<id>.json``)."""
    kernelapp = sys.modules.get("ipykernel.kernelapp")  # never import ipykernel ourselves
    if kernelapp is None:
        return None
    IPKernelApp = kernelapp.IPKernelApp
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
