"""What ``BaseJob`` does to every subclass and instance, so that legacy code stays observable.

- ``_JobMeta.__call__`` builds a job (also when another base's ``__new__`` made it),
  then adds it to its registry (``BaseJob.job_registry``).
- ``checked_status`` wraps a subclass's ``status()`` so that its answers reach ``state``.
- ``checked_submit`` wraps a subclass's ``submit()`` so that a second call raises.

The wrappers run on the caller's thread and change the job only through its
``_JobCore`` (``jobwidgets._jobcore``), under its lock.
"""

from __future__ import annotations

import abc
import functools
import logging
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import traitlets

from ._jobcore import core, label
from .errors import JobError
from .status import JobStatus

if TYPE_CHECKING:
    from .job import BaseJob

log = logging.getLogger("jobwidgets")

_warned_lock = threading.Lock()
_warned: weakref.WeakSet[type] = weakref.WeakSet()


class _JobMeta(traitlets.MetaHasTraits, abc.ABCMeta):
    """Traits plus abstract methods; a job joins its registry once fully constructed."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        # What type.__call__ does, plus traitlets' instance setup when another base's
        # __new__ made the instance: ``class J(SimpleNamespace, BaseJob)`` (as
        # qiskit-ibmq-provider declares IBMQJob) runs SimpleNamespace.__new__, not
        # HasTraits.__new__, which would leave the job without its traits.
        job = cls.__new__(cls, *args, **kwargs)  # type: ignore[arg-type]
        if not isinstance(job, cls):
            return job
        if "_jobwidgets" not in job.__dict__:
            job.setup_instance(*args, **kwargs)
        type(job).__init__(job, *args, **kwargs)
        registry = job.job_registry
        if registry is not None:
            registry.add(job)
        return job


def as_status(value: object, job: BaseJob) -> JobStatus | None:
    """A ``JobStatus``, or any enum-like value whose name is one; else None (warned once).

    The legacy class passed whatever ``status()`` returned through (qiskit-terra's own
    mock ``FakeJob`` returns a dict), so an unknown answer is not an error: the caller
    gets it back unchanged, and ``state`` doesn't move.
    """
    if isinstance(value, JobStatus):
        return value
    name = getattr(value, "name", value)
    if isinstance(name, str) and name in JobStatus.__members__:
        return JobStatus[name]
    cls = type(job)
    with _warned_lock:
        if cls in _warned:
            return None
        _warned.add(cls)
    log.warning(
        "jobwidgets: %s.status() returned %r (a %s), not a JobStatus. It is passed through "
        "unchanged, but the job's state can't follow it; return a jobwidgets.JobStatus "
        "(one of %s) to make the job observable. (Warned once per class.)",
        cls.__name__,
        value,
        type(value).__name__,
        ", ".join(JobStatus.__members__),
    )
    return None


def checked_status(method: Callable[[BaseJob], Any]) -> Callable[[BaseJob], Any]:
    """Wrap a subclass's ``status()`` so that what it returns is reflected in ``state``.

    An answer is recorded only if no other change was recorded while it was computed:
    a query that overlapped a push (or another query) may be stale, and must not move
    the state back. The next query finds the status again. An answer that is not a
    status is returned unchanged and recorded nowhere.
    """

    @functools.wraps(method)
    def status(self: BaseJob) -> Any:
        state = core(self)
        with state.lock:
            seen = state.changes
        answer = method(self)
        reported = as_status(answer, self)
        if reported is None:
            return answer
        state.report(self, reported, unless_changed_since=seen)
        return state.status

    status._jobwidgets_wrapped = True  # type: ignore[attr-defined]
    return status


def checked_submit(method: Callable[[BaseJob], Any]) -> Callable[[BaseJob], Any]:
    """Wrap a subclass's ``submit()`` so that a second call raises ``JobError``."""

    @functools.wraps(method)
    def submit(self: BaseJob) -> Any:
        state = core(self)
        me = threading.get_ident()
        with state.lock:
            nested = state.submitter == me  # an overriding submit() called super().submit()
            if state.submitted and not nested:
                msg = f"job {label(self)} was already submitted; create a new job to run it again"
                raise JobError(msg)
            state.submitted = True
            state.submitter = me
        if nested:
            return method(self)
        try:
            outcome = method(self)
        except BaseException:
            with state.lock:
                state.submitted = False
                state.submitter = None
            raise
        state.mark_submitted(self)  # also forgets the submitter
        return outcome

    submit._jobwidgets_wrapped = True  # type: ignore[attr-defined]
    return submit
