"""Notebook outputs whose text follows their jobs, so an executed and exported notebook
shows each job's last state.

A view that a cell shows (a badge, a table, a monitor, a job) has, besides its widget
view, a ``text/plain`` and a ``text/html`` fallback for front ends that can't render
widgets. Made once, when the cell shows the view, they would be stale in a notebook that
``jupyter nbconvert --execute`` ran: a finished job would read INITIALIZING. So:

- The output a cell's value makes (an ``execute_result``) carries a display id
  (``transient.display_id``), set by ``LiveOutput.claim`` while IPython's display hook
  builds it. jobwidgets shows its own outputs the same way (``show``): ``job_monitor``'s
  badge and ``JobMonitor``'s table.
- When what the fallbacks say changes (an id, a status, an error), the view's owner
  thread, the bridge's, sends ``update_display_data`` for that id: at most once a
  second per output, and at once at the end of each cell (``settle``), so the last
  change reaches the cell that waited for it.
- nbclient (so ``nbconvert --execute`` and papermill) applies the update to the output,
  in whichever cell it is, if it comes while a cell runs. JupyterLab and Notebook 7 apply
  display updates to ``display_data`` outputs only (``@jupyterlab/outputarea`` 4.6): for
  an ``execute_result`` the update does nothing there, and the live widget is left
  alone. VS Code applies it (its source says so; untested here): it redraws the widget.
- nbconvert's HTML export shows an output's widget view, not its fallbacks, when the
  notebook holds the widget's saved state (nbclient saves every widget's), and the page
  then loads the widget renderer from a CDN: offline, the output is blank. So once every
  job an output shows is final, the update carries the fallbacks only, and the exported
  page shows them as text. Until then it carries the widget view too.

Needs the core and the bridge; IPython is imported only in a kernel, when a view is shown.
"""

from __future__ import annotations

import sys
import threading
import uuid
import weakref
from collections.abc import Callable
from typing import Any

from .bridge import Bridge
from .job import BaseJob, wire_id

__all__ = ["MIN_INTERVAL", "LiveOutput", "settle", "show"]

MIN_INTERVAL = 1.0
"""The least time, in seconds, between two updates of one output (``settle`` aside)."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

Render = Callable[[list[BaseJob]], dict[str, str]]

_claimed: weakref.WeakSet[LiveOutput] = weakref.WeakSet()
"""The open outputs that carry a display id."""
_pending: weakref.WeakSet[LiveOutput] = weakref.WeakSet()
"""The outputs whose views changed since their last update; ``settle`` sends these."""
_pending_lock = threading.Lock()


def _shell() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


class LiveOutput:
    """The notebook outputs of one view, kept current after they were shown.

    Args:
        bridge: the bridge whose thread owns the view; updates are sent from it.
        jobs: the jobs the view shows, at the time of the call.
        render: the fallbacks (``text/plain``, ``text/html``) for those jobs.
        heading: what else the fallbacks say that may change (a table's title).
        on_final: called (on the bridge's thread) once an update said that every job
            is final.
        final_is_last: the view can't show other jobs (a badge): once its job is final
            and said so, the output is done with.

    Threads: ``claim`` runs where IPython formats the view (the main thread);
    ``refresh``, ``publish_pending`` and ``close`` on the bridge's thread.
    """

    def __init__(
        self,
        bridge: Bridge,
        jobs: Callable[[], list[BaseJob]],
        render: Render,
        heading: Callable[[], str] = lambda: "",
        on_final: Callable[[], None] | None = None,
        final_is_last: bool = False,
    ) -> None:
        self.display_id = uuid.uuid4().hex
        self._bridge = bridge
        self._jobs = jobs
        self._render = render
        self._heading = heading
        self._on_final = on_final
        self._final_is_last = final_is_last
        self._lock = threading.Lock()
        self._widget_view: dict[str, Any] | None = None
        self._claimed = False
        self._closed = False
        self._sent_key: object = None
        self._shown_key: object = None
        self._sent_at = -float("inf")
        self._timer = False
        self.updates = 0
        """How many updates were sent; for tests."""

    def fallbacks(self) -> dict[str, str]:
        """The fallbacks for the output being shown now (``text/plain``, ``text/html``).

        What they say is noted first: a change made while they are rendered is sent."""
        jobs = self._jobs()
        key = self._key(jobs)
        data = self._render(jobs)
        with self._lock:
            self._shown_key = key
        return data

    def claim(self, data: dict[str, Any]) -> None:
        """Give the output that IPython's display hook is building (a cell's value, or
        ``show``) this output's display id, so later updates reach it. ``data`` is its
        bundle, with ``fallbacks()``. Elsewhere (``display()``, a terminal) it does
        nothing."""
        shell = _shell()
        hook = getattr(shell, "displayhook", None)
        msg = getattr(hook, "msg", None)
        if not isinstance(msg, dict) or msg.get("msg_type") != "execute_result":
            return
        content = msg.setdefault("content", {})
        if (content.get("transient") or {}).get("display_id"):
            return  # another object's output
        content["transient"] = {"display_id": self.display_id}
        with self._lock:
            self._widget_view = data.get(WIDGET_VIEW)
            self._claimed = True
            self._sent_key = self._shown_key
        jobs = self._jobs()
        shown_final = bool(jobs) and all(job.state.final for job in jobs)
        if self._final_is_last and shown_final and self._sent_key == self._key(jobs):
            self.close()  # shown final: nothing more to say
            return
        with _pending_lock:
            _claimed.add(self)

    @property
    def claimed(self) -> bool:
        """Whether an output carries this display id (updates are sent)."""
        return self._claimed

    def _key(self, jobs: list[BaseJob]) -> object:
        """What the fallbacks say, but the times: an update is due when it changes."""
        return (self._heading(), [(wire_id(j), j.state, j.error) for j in jobs])

    def refresh(self) -> None:
        """On the bridge's thread, after the view's jobs changed: update the outputs if
        their fallbacks say something new, at most once per ``MIN_INTERVAL``."""
        with self._lock:
            if not self._claimed or self._closed:
                return
            with _pending_lock:
                _pending.add(self)
            wait = self._sent_at + MIN_INTERVAL - self._bridge.clock()
            if wait > 0:
                if not self._timer:
                    self._timer = True
                    self._bridge.loop.call_later(wait, self._due)
                return
        self.publish_pending()

    def _due(self) -> None:
        with self._lock:
            self._timer = False
        self.publish_pending()

    def publish_pending(self) -> None:
        """On the bridge's thread: send an update if the fallbacks changed since the last."""
        with _pending_lock:
            _pending.discard(self)
        jobs = self._jobs()
        key = self._key(jobs)
        with self._lock:
            if not self._claimed or self._closed or key == self._sent_key:
                return
            self._sent_key = key
            self._sent_at = self._bridge.clock()
            widget_view = self._widget_view
        data: dict[str, Any] = dict(self._render(jobs))
        if not data:
            return
        final = bool(jobs) and all(job.state.final for job in jobs)
        if widget_view is not None and not final:
            data[WIDGET_VIEW] = widget_view
        from IPython.display import publish_display_data

        publish_display_data(data, transient={"display_id": self.display_id}, update=True)  # type: ignore[no-untyped-call]
        self.updates += 1
        if final and self._on_final is not None:
            self._on_final()
        if final and self._final_is_last:
            self.close()

    def close(self) -> None:
        """Send nothing more."""
        with self._lock:
            self._closed = True
        with _pending_lock:
            _pending.discard(self)
            _claimed.discard(self)


def settle(bridge: Bridge, timeout: float = 2.0) -> bool:
    """At the end of a cell, from the cell's thread: send every pending update now, from
    the bridge's thread, so that it still belongs to the cell (nbclient keeps only what
    the running cell sends). Returns at once when no output carries a display id."""
    with _pending_lock:
        if not _claimed:
            return True

    def publish() -> None:  # after the flush, which may have made outputs pending
        with _pending_lock:
            outputs = list(_pending)
        for output in outputs:
            output.publish_pending()

    return bridge.settle(publish, timeout)


def show(view: Any) -> None:
    """Show ``view`` as a cell's value would be (an ``execute_result``, whose display
    id its ``LiveOutput`` claims), from the cell's thread; elsewhere, ``display`` it."""
    shell = _shell()
    hook = getattr(shell, "displayhook", None)
    busy = getattr(hook, "msg", None) is not None  # formatting another value
    if hook is None or getattr(hook, "session", None) is None or busy:
        from IPython.display import display

        display(view)  # type: ignore[no-untyped-call]
        return
    hook.start_displayhook()
    try:
        hook.write_output_prompt()
        data, metadata = shell.display_formatter.format(view)
        if data:
            hook.write_format_data(data, metadata)
    finally:
        hook.finish_displayhook()
