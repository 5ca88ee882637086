"""``JobTable``: many jobs in one live table, with cancel buttons.

Rows travel as the widget's custom messages: a ``reset`` with every row when a view asks
(``sync``, on render and after a page reload), then ``delta`` messages with only the
rows that changed, at the bridge's bounded rate (the row feed, ``jobwidgets.feed``; the
messages are written out in ``js/PROTOCOL.md``). The front end sorts, filters, pages and
ticks the times by itself.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

import traitlets

from ..bridge import Bridge, bridge_or_default
from ..feed import RowFeed, check_feed_args
from ..job import BaseJob
from ..outputs import LiveOutput
from ..registry import JobRegistry
from ..rows import counts, table_html, table_text
from ._assets import front_end
from ._base import OwnWidget

__all__ = ["JobTable"]

log = logging.getLogger("jobwidgets")


class JobTable(RowFeed, OwnWidget):  # type: ignore[misc,unused-ignore]
    """A live table of jobs: status badges, times, progress, and a Cancel per row.

    The rows, their deltas and the cancel requests are the row feed's (``jobwidgets.feed``),
    which the JupyterLab panel shares.

    Args:
        jobs: the jobs to show.
        registry: a ``JobRegistry`` to follow: its jobs appear, and so does each new
            one, by itself.
        include_existing: with a registry, whether to list the jobs it already has.
        title: the table's heading.
    """

    _esm = front_end("table.js")
    _css = front_end("widgets.css")

    title = traitlets.Unicode("Jobs", help="The table's heading.").tag(sync=True)
    compact = traitlets.Bool(False, help="A small table without header actions.").tag(sync=True)
    feed_id = traitlets.Unicode(
        "", read_only=True, help="The kernel's id of this table, for the subshell route."
    ).tag(sync=True)

    def __init__(
        self,
        jobs: Iterable[BaseJob] | None = None,
        *,
        registry: JobRegistry | None = None,
        include_existing: bool = True,
        bridge: Bridge | None = None,
        **kwargs: Any,
    ) -> None:
        jobs = check_feed_args(jobs, registry)  # before the comm opens: nothing to undo
        checked = bridge_or_default(bridge)
        # the id is in the state the comm opens with, so a view has it at once, even one
        # rendered while the cell that made the table still blocks the main shell
        self.set_trait("feed_id", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self.on_msg(self._on_front_end_msg)
        self._output = LiveOutput(checked, lambda: self.jobs, self._fallbacks, lambda: self.title)
        self._start_feed(
            checked,
            self.feed_id,
            jobs=jobs,
            registry=registry,
            include_existing=include_existing,
        )
        # the first rows go out at once, from the bridge's thread; the front end keeps
        # them per model, for any view that renders later, even while a cell blocks
        self._request_reset()

    def close(self) -> None:
        """Release every observer and subscription, then close the widget."""
        if getattr(self, "_closed", True):  # closed already, or __init__ failed early
            super().close()
            return
        self._output.close()
        self._close_feed()
        super().close()

    def _jobs_changed(self, jobs: list[BaseJob]) -> None:
        """On the bridge's thread: send the rows that changed, then update the text of
        the outputs that show the table (``jobwidgets.outputs``)."""
        super()._jobs_changed(jobs)
        self._output.refresh()

    def _fallbacks(self, jobs: list[BaseJob]) -> dict[str, str]:
        """The table where widgets can't render: its heading, then a line per job."""
        title = f"{type(self).__name__} {self.title!r}"
        tally = counts(jobs)  # once: 10,000 jobs take a while to count
        return {
            "text/plain": table_text(title, jobs, tally),
            "text/html": table_html(self.title, jobs, tally),
        }

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle: Any = super()._repr_mimebundle_(**kwargs)
        raw, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data: dict[str, Any] = dict(raw) if raw else {}
        data.update(self._output.fallbacks())
        self._output.claim(data)
        return data, metadata

    def __repr__(self) -> str:
        tally = ", ".join(f"{name} {n}" for name, n in self.counts.items() if n)
        count = len(self)
        noun = "job" if count == 1 else "jobs"
        return f"{type(self).__name__} {self.title!r}: {count} {noun}" + (
            f" ({tally})" if tally else ""
        )

    def _deliver(self, content: dict[str, Any]) -> None:
        if self.comm is not None:
            self.send(content)

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        self._handle_front_end(content)
