"""What the Dask backend asks of ``distributed``: clients, clusters, the task-start
plugin that the workers run, and ``Client.submit``'s own keywords.

Importing it raises an ``ImportError`` naming the extra when Dask is missing.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import numbers
import threading
from collections.abc import Callable
from typing import Any

from .._shown import shown

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
    "DEFAULT_CONNECT_TIMEOUT",
    "PLUGIN_NAME",
    "annotate",
    "bind",
    "check_arguments",
    "connect",
    "connect_to_scheduler",
    "distributed",
    "funcname",
    "start_local_cluster",
    "task_start_plugin",
]


ANNOTATION = "jobwidgets"
"""The task annotation that names the event topic of the backend that owns a task."""

PLUGIN_NAME = "jobwidgets-task-starts"

DEFAULT_CONNECT_TIMEOUT = 5.0
"""Seconds that ``DaskBackend(address=...)`` waits for the scheduler to answer."""

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


def connect(target: Any, timeout: float | None = None) -> Any:
    if timeout is None:
        return _distributed.Client(target, set_as_default=False)
    return _distributed.Client(target, set_as_default=False, timeout=timeout)


def connect_to_scheduler(address: str, timeout: float) -> Any:
    """A client of the scheduler at ``address``, or an ``OSError`` within about ``timeout`` s
    (a ``ValueError`` for an address that is malformed or has an unknown scheme).

    ``distributed.Client`` alone retries a closed port for its whole timeout (30 s by
    default), waits forever for a server that accepts but never answers (a dashboard's
    port), and fails with a ``MemoryError`` when an HTTP server answers at once; each
    failure leaves its event-loop thread behind. So the address is first tried by a
    handshake of Dask's own protocol, on a short-lived event loop of its own, bounded by
    ``timeout``; only a scheduler that answers gets a client.
    """
    failure: list[BaseException] = []
    prober = threading.Thread(
        target=_probe, args=(address, timeout, failure), name="jobwidgets-dask-connect", daemon=True
    )
    prober.start()
    prober.join(timeout + 5)
    if prober.is_alive():
        failure.append(TimeoutError())
    if failure:
        raise _connect_error(address, timeout, failure[0]) from failure[0]
    return connect(address, timeout)


_ANSWER_GRACE = 0.5  # after the TCP connect's own timeout: tells "no answer" from "unreachable"


def _probe(address: str, timeout: float, failure: list[BaseException]) -> None:
    async def handshake() -> None:
        comm = await _distributed.comm.connect(address, timeout=timeout)
        await comm.close()

    async def bounded() -> None:
        await asyncio.wait_for(handshake(), timeout + _ANSWER_GRACE)

    try:
        asyncio.run(bounded())
    except BaseException as exc:  # reported on the caller's thread
        failure.append(exc)


def _connect_error(address: str, timeout: float, exc: BaseException) -> BaseException:
    if isinstance(exc, ValueError):  # a malformed address or an unknown scheme
        return ValueError(f"address {shown(address)} is not a Dask scheduler address: {exc}")
    if isinstance(exc, TimeoutError):
        msg = (
            f"{address} accepted the connection but did not answer as a Dask scheduler "
            f"within {timeout} s: give the scheduler's address (its port is usually 8786; "
            "8787 is its dashboard), or a larger connect_timeout for a slow network"
        )
    elif isinstance(exc, OSError):
        msg = (
            f"can't reach a Dask scheduler at {address} within {timeout} s ({exc}): check "
            "the address and that the scheduler runs, or give a larger connect_timeout"
        )
    else:  # the handshake read something that is not Dask's protocol
        msg = (
            f"{address} answered, but not as a Dask scheduler (reading its answer failed "
            f"with {type(exc).__name__}): give the scheduler's address, such as "
            "'tcp://host:8786', not that of its dashboard or of another service"
        )
    return OSError(msg)


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


def check_arguments(
    address: Any, client: Any, name: Any, connect_timeout: Any, cluster_options: dict[str, Any]
) -> float:
    """Check ``DaskBackend``'s arguments; return the connect timeout to use."""
    if address is not None and client is not None:
        msg = "give DaskBackend either address= or client=, not both"
        raise ValueError(msg)
    if cluster_options and (address is not None or client is not None):
        options = ", ".join(sorted(cluster_options))
        msg = (
            f"cluster options ({options}) apply only to the embedded LocalCluster; "
            "configure an existing cluster where it is started"
        )
        raise TypeError(msg)
    if address is not None and not isinstance(address, str):
        msg = (
            f"address must be a scheduler address str like 'tcp://host:8786', got {shown(address)}"
        )
        raise TypeError(msg)
    if client is not None:
        if not isinstance(client, distributed.Client):
            msg = f"client must be a distributed.Client, got {type(client).__name__}"
            raise TypeError(msg)
        if client.asynchronous:
            msg = "DaskBackend needs a synchronous Client (made without asynchronous=True)"
            raise ValueError(msg)
    if not isinstance(name, str) or not name:
        msg = f"name must be a non-empty str, got {shown(name)}"
        raise TypeError(msg)
    if connect_timeout is None:
        return DEFAULT_CONNECT_TIMEOUT
    if address is None:
        msg = (
            "connect_timeout applies only with address=: a given client, or the embedded "
            "cluster's, is connected already"
        )
        raise TypeError(msg)
    if (
        not isinstance(connect_timeout, numbers.Real)
        or isinstance(connect_timeout, bool)
        or not float(connect_timeout) > 0
    ):
        msg = f"connect_timeout must be a number of seconds > 0, got {shown(connect_timeout)}"
        raise ValueError(msg)
    return float(connect_timeout)
