"""The kernel side of the JupyterLab job panel: every job of this kernel, over a comm.

``import jobwidgets`` in a kernel calls ``jobwidgets.ipython.activate()``, which calls
``register()`` here: it registers the comm target ``jobwidgets.panel`` with the kernel and
announces it to the front ends. No cell has to display anything.

The panel (the ``jobwidgets`` JupyterLab extension) opens a comm to that target for the
kernel of the active notebook or console. Each open comm gets a ``PanelFeed``: the row
feed the ``JobTable`` uses (``widgets/_feed.py``), following the registry, so every job of
the kernel is listed, new ones included. The messages are the JobTable's (a ``reset``,
then ``delta`` messages at the bridge's bounded rate, ``cancel_result``), sent as the
comm's data instead of a widget's custom messages.

Threads: a comm message from the front end may be handled on the main shell or on a
kernel subshell's thread (JupyterLab sends comm messages on subshells). Either way the
feed only records the request; every message to the panel is sent from the bridge's
thread, which also keeps the panel live while a cell blocks the main thread. While a
cell blocks the main shell, a Cancel click reaches the kernel through the subshell route
of the JobTable (``jobwidgets.widgets._route.cancel(<comm id>, keys)``), which finds
panel feeds too.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bridge import Bridge
    from .registry import JobRegistry

__all__ = ["ANNOUNCE_TARGET", "TARGET", "connect", "open_feeds", "register"]

TARGET = "jobwidgets.panel"
"""The kernel's comm target that the panel opens."""

ANNOUNCE_TARGET = "jobwidgets.panel.announce"
"""The front end's comm target: the kernel opens (and closes) a comm to it when it
registers ``TARGET``, so an open panel connects without waiting for a reload."""

PROTOCOL = 1
"""The version of the messages, sent in every reset; the front end checks it."""

log = logging.getLogger("jobwidgets")

_feeds: dict[str, Any] = {}
_feeds_lock = threading.Lock()
_registered: Any = None


def _make_feed_class() -> type[Any]:
    """The ``PanelFeed`` class, made on first use: the row feed lives in the widgets
    package, which a plain ``import jobwidgets`` must not import."""
    from .widgets._feed import RowFeed

    class _PanelFeed(RowFeed):
        def __init__(self, comm: Any, registry: JobRegistry, bridge: Bridge) -> None:
            self.comm = comm
            self._start_feed(
                bridge, str(comm.comm_id), registry=registry, include_existing=True, what="panel"
            )
            comm.on_msg(self._on_msg)
            comm.on_close(self._on_close)

        def _deliver(self, content: dict[str, Any]) -> bool:
            if self._closed:
                return False
            self.comm.send(content)
            return True

        def _send_rows(self, content: dict[str, Any]) -> None:
            if content.get("type") == "reset":
                content["protocol"] = PROTOCOL
            super()._send_rows(content)

        def _on_msg(self, msg: dict[str, Any]) -> None:
            content = (msg.get("content") or {}).get("data")
            self._handle_front_end(content)

        def _on_close(self, _msg: Any = None) -> None:
            self.close()

        def close(self) -> None:
            """Stop following the registry and release every job."""
            with _feeds_lock:
                _feeds.pop(self._feed_id, None)
            self._close_feed()

    _PanelFeed.__name__ = _PanelFeed.__qualname__ = "PanelFeed"
    _PanelFeed.__module__ = __name__
    return _PanelFeed


_feed_class: type[Any] | None = None


def connect(comm: Any, registry: JobRegistry | None = None, bridge: Bridge | None = None) -> Any:
    """Feed every job of ``registry`` (default: this kernel's) to a panel over ``comm``.

    ``comm`` is an open comm (``comm_id``, ``send``, ``on_msg``, ``on_close``); the feed
    closes with it. Returns the feed (a ``PanelFeed``)."""
    global _feed_class
    from .bridge import get_bridge
    from .registry import JobRegistry, default_registry

    if registry is None:
        registry = default_registry
    if not isinstance(registry, JobRegistry):
        msg = f"registry must be a jobwidgets JobRegistry, got {type(registry).__name__}"
        raise TypeError(msg)
    for name in ("comm_id", "send", "on_msg", "on_close"):
        if not hasattr(comm, name):
            msg = f"the panel needs a comm (with comm_id, send, on_msg, on_close), got {comm!r}"
            raise TypeError(msg)
    if _feed_class is None:
        try:
            _feed_class = _make_feed_class()
        except ImportError as exc:
            msg = (
                "the jobwidgets job panel needs ipywidgets and anywidget: "
                "pip install 'jobwidgets[widgets]'"
            )
            raise ImportError(msg) from exc
    feed = _feed_class(comm, registry, bridge or get_bridge())
    with _feeds_lock:
        _feeds[feed._feed_id] = feed
    # the first rows go out from the bridge's thread, like every later message
    feed._request_reset()
    return feed


def open_feeds() -> list[Any]:
    """The panel feeds open in this kernel (one per connected panel)."""
    with _feeds_lock:
        return list(_feeds.values())


def _on_comm_open(comm: Any, _open_msg: Any) -> None:
    """The comm target: a panel connected."""
    connect(comm)


def register(shell: Any = None) -> bool:
    """Register the panel's comm target in this kernel; return False outside a kernel.

    Safe to call again: the target is registered once per kernel. Needs the ``widgets``
    extra when a panel connects (the row feed lives there), not before.
    """
    global _feed_class, _registered
    if shell is None:
        return False
    if getattr(shell, "kernel", None) is None:
        return False  # a terminal IPython: no front end to show a panel
    import comm

    manager = comm.get_comm_manager()
    if _registered is manager:
        return True
    from .bridge import get_bridge

    # start the bridge's thread now, before any panel connects
    get_bridge()
    # import the row feed here, on the main thread: an import racing the main thread's
    # on a subshell's thread can fail (a partially initialised module)
    if _feed_class is None:
        try:
            _feed_class = _make_feed_class()
        except ImportError as exc:
            log.warning("jobwidgets: the job panel needs the widgets extra: %s", exc)
    manager.register_target(TARGET, _on_comm_open)
    _registered = manager
    _announce()
    return True


def _announce() -> None:
    """Tell the front ends that this kernel now has the panel's target."""
    try:
        import comm

        announcement = comm.create_comm(
            target_name=ANNOUNCE_TARGET, data={"target": TARGET, "protocol": PROTOCOL}
        )
        announcement.close()
    except Exception:  # a front end without the panel is no error
        log.debug("jobwidgets: could not announce the panel target", exc_info=True)
