"""What the Dask backend asks of ``distributed``: clients, clusters, the task-start
plugin that the workers run, and ``Client.submit``'s own keywords.

Importing it raises an ``ImportError`` naming the extra when Dask is missing.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

try:
    import dask
    import distributed
    from dask.utils import funcname
except ImportError as exc:  # pragma: no cover - depends on the environment
    _msg = (
        "jobwidgets.dask needs Dask's distributed scheduler; install the dask extra: "
        "pip install 'jobwidgets[dask]'"
    )
    raise ImportError(_msg) from exc

__all__ = [
    "ANNOTATION",
    "PLUGIN_NAME",
    "annotate",
    "bind",
    "connect",
    "distributed",
    "funcname",
    "start_local_cluster",
    "task_start_plugin",
]


ANNOTATION = "jobwidgets"
"""The task annotation that names the event topic of the backend that owns a task."""

PLUGIN_NAME = "jobwidgets-task-starts"

# Client.submit's own keyword arguments: a function's keyword argument of the same name
# is bound with functools.partial, so that it reaches the function and not Client.submit
_SUBMIT_KEYWORDS = frozenset(inspect.signature(distributed.Client.submit).parameters) - {
    "self",
    "func",
    "args",
    "kwargs",
}


# distributed's API has few type hints: use it through Any
_distributed: Any = distributed
annotate: Any = dask.annotate  # type: ignore[attr-defined]


def connect(target: Any) -> Any:
    return _distributed.Client(target, set_as_default=False)


def start_local_cluster(options: dict[str, Any]) -> Any:
    return _distributed.LocalCluster(**options)


def task_start_plugin() -> distributed.WorkerPlugin:
    """A worker plugin that logs an event when a task of a jobwidgets backend starts.

    The class is made inside this function on purpose: a class that can't be imported
    by name is pickled by value, so the workers can load it without jobwidgets installed.
    Its methods use nothing but their arguments and the worker.
    """

    class TaskStarts(distributed.WorkerPlugin):
        """Logs ``{"key", "worker"}`` on the task's topic when it starts executing."""

        idempotent = True
        name = PLUGIN_NAME

        def setup(self, worker: Any) -> None:
            self.worker = worker

        def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
            if finish != "executing":
                return
            task = self.worker.state.tasks.get(key)
            annotations = getattr(task, "annotations", None) or {}
            topic = annotations.get("jobwidgets")
            if isinstance(topic, str):
                self.worker.log_event(topic, {"key": key, "worker": self.worker.address})

    return TaskStarts()


def bind(fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Bind the keyword arguments that ``Client.submit`` would take for itself."""
    clashing = {name: value for name, value in kwargs.items() if name in _SUBMIT_KEYWORDS}
    if not clashing:
        return fn, kwargs
    rest = {name: value for name, value in kwargs.items() if name not in _SUBMIT_KEYWORDS}
    return functools.partial(fn, **clashing), rest
