"""The base of jobwidgets' widgets: a close that releases everything the widget made."""

from __future__ import annotations

from typing import Any

import anywidget


class OwnWidget(anywidget.AnyWidget):  # type: ignore[misc,unused-ignore]
    """An anywidget whose ``close()`` also closes the ``Layout`` it made for itself.

    ipywidgets gives every ``DOMWidget`` a ``Layout``, a widget with a comm of its own,
    and ``close()`` leaves it open: it stays in ipywidgets' table of live widgets for
    good, one per widget ever made. A layout passed in (``layout=...``) belongs to the
    caller, who may share it; it stays open.
    """

    def __init__(self, **kwargs: Any) -> None:
        own_layout = "layout" not in kwargs
        super().__init__(**kwargs)
        self._own_layout = own_layout

    def close(self) -> None:
        """Close the widget, and the layout it made."""
        layout = self.layout if self.__dict__.pop("_own_layout", False) else None
        super().close()
        if layout is not None:
            layout.close()
