"""The kernel side of the JupyterLab job panel: every job of this kernel, over a comm.

``import jobwidgets`` in a kernel calls ``jobwidgets.ipython.activate()``, which calls
``register()`` here: it registers the comm target ``jobwidgets.panel`` with the kernel and
announces it to the front ends that show cells (not to headless executors such as
nbconvert, which would log the unknown target). No cell has to display anything. Needs the core, the
bridge and ``comm`` (which ipykernel brings), not the ``widgets`` extra.

The panel (the ``jobwidgets`` JupyterLab extension) opens a comm to that target for the
kernel of the active notebook or console. Each open comm gets a ``PanelFeed``: the row
feed the ``JobTable`` uses (``jobwidgets.feed``), following the registry, so every job of
the kernel is listed, new ones included. The messages are the JobTable's, sent as the
comm's data; ``js/PROTOCOL.md`` writes them out, with the panel's own: the announcement,
the ``protocol`` version in each reset, and the comm closed with a reason when the kernel
can't list its jobs.

Threads: a comm message from the front end may be handled on the main shell or on a
kernel subshell's thread (JupyterLab sends comm messages on subshells). Either way the
feed only records the request; every message to the panel is sent from the bridge's
thread, which also keeps the panel live while a cell blocks the main thread. While a
cell blocks the main shell, a Cancel click reaches the kernel through the subshell route
(``jobwidgets.feed.cancel(<comm id>, keys)``), which finds panel feeds as it finds tables.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ._shown import shown
from .bridge import Bridge, bridge_or_default, get_bridge
from .feed import RowFeed
from .registry import JobRegistry, default_registry

__all__ = ["ANNOUNCE_TARGET", "TARGET", "PanelFeed", "connect", "open_feeds", "register"]

TARGET = "jobwidgets.panel"
"""The kernel's comm target that the panel opens."""

ANNOUNCE_TARGET = "jobwidgets.panel.announce"
"""The front end's comm target: the kernel opens (and closes) a comm to it when it
registers ``TARGET``, so an open panel connects without waiting for a reload."""

PROTOCOL = 1
"""The version of the messages (``js/PROTOCOL.md``), sent in every reset and in the
announcement, so that a front end can tell a kernel side it doesn't know."""

log = logging.getLogger("jobwidgets")

_feeds: dict[str, PanelFeed] = {}
_feeds_lock = threading.Lock()
_registered: Any = None


class PanelFeed(RowFeed):
    """The row feed of one connected panel, over its comm.

    The comm is the panel's: ``comm.send`` is called only from the bridge's thread
    (``_deliver``, through the feed's ``_jobs_changed``); the front end's messages arrive
    on whichever thread the kernel handles the comm on and only record requests.
    """

    def __init__(self, comm: Any, registry: JobRegistry, bridge: Bridge) -> None:
        self.comm = comm
        self._start_feed(
            bridge, str(comm.comm_id), registry=registry, include_existing=True, what="panel"
        )
        comm.on_msg(self._on_msg)
        comm.on_close(self._on_close)

    def _deliver(self, content: dict[str, Any]) -> None:
        if not self._closed:
            self.comm.send(content)

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


def connect(
    comm: Any, registry: JobRegistry | None = None, bridge: Bridge | None = None
) -> PanelFeed:
    """Feed every job of ``registry`` (default: this kernel's) to a panel over ``comm``.

    ``comm`` is an open comm (``comm_id``, ``send``, ``on_msg``, ``on_close``); the feed
    closes with it."""
    if registry is None:
        registry = default_registry
    if not isinstance(registry, JobRegistry):
        msg = f"registry must be a jobwidgets JobRegistry, got {type(registry).__name__}"
        raise TypeError(msg)
    checked = bridge_or_default(bridge)
    for name in ("comm_id", "send", "on_msg", "on_close"):
        if not hasattr(comm, name):
            msg = (
                f"the panel needs a comm (with comm_id, send, on_msg, on_close), got {shown(comm)}"
            )
            raise TypeError(msg)
    feed = PanelFeed(comm, registry, checked)
    with _feeds_lock:
        _feeds[feed._feed_id] = feed
    # the first rows go out from the bridge's thread, like every later message
    feed._request_reset()
    return feed


def open_feeds() -> list[PanelFeed]:
    """The panel feeds open in this kernel (one per connected panel)."""
    with _feeds_lock:
        return list(_feeds.values())


def _on_comm_open(comm: Any, _open_msg: Any) -> None:
    """The comm target: a panel connected. If the feed can't start, the comm closes with
    the reason, which the panel shows (instead of saying that jobwidgets is missing)."""
    try:
        connect(comm)
    except Exception as exc:
        log.exception("jobwidgets: the job panel could not list this kernel's jobs")
        reason = f"{type(exc).__name__}: {exc}"
        comm.close(data={"type": "error", "message": reason})


def register(shell: Any = None) -> bool:
    """Register the panel's comm target in this kernel; return False outside a kernel.

    Safe to call again: the target is registered once per kernel.
    """
    global _registered
    if shell is None:
        return False
    if getattr(shell, "kernel", None) is None:
        return False  # a terminal IPython: no front end to show a panel
    import comm

    manager = comm.get_comm_manager()
    if _registered is manager:
        return True
    # start the bridge's thread now, before any panel connects
    get_bridge()
    manager.register_target(TARGET, _on_comm_open)
    _registered = manager
    if _from_a_notebook_front_end(shell.kernel):
        _announce()
    return True


def _from_a_notebook_front_end(kernel: Any) -> bool:
    """Whether the request being run came from a front end that shows cells, where a
    panel may be open: JupyterLab and Notebook 7 send each cell's ``cellId`` with its
    execute request. Headless executors (nbclient, so nbconvert, papermill and Voila)
    send none and have no panel; announcing to them only logs
    ``No handler found for comm target``. Outside a request (a startup file), no front
    end is listening yet: a panel opened later connects by itself."""
    get_parent = getattr(kernel, "get_parent", None)
    if get_parent is None:
        return False
    try:
        parent = get_parent("shell")
    except Exception:
        return False
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    return isinstance(metadata, dict) and "cellId" in metadata


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
