"""Job classes written the way third-party providers wrote them for qiskit's legacy
``BaseJob``: each uses one pattern that real providers use (see README, "Compatibility").

Each keeps a ``remote`` status that the test moves, as the remote service would, and
learns it only in ``status()``: none of them pushes.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

from jobwidgets import BaseJob, JobStatus

_ids = itertools.count(1)

# Private names a legacy subclass may well keep for itself.
PRIVATE_NAMES = (
    "_status",
    "_lock",
    "_cond",
    "_pending",
    "_submitted",
    "_submitter",
    "_changes",
    "_delivery",
    "_deliverer",
    "_done_callbacks",
    "_cancel_requested",
    "_stamped",
    "_guards",
    "_future",
    "_result",
    "_error",
)


class Backend:
    """A provider's backend object: ``name()`` as the legacy BaseBackend had."""

    def name(self) -> str:
        return "legacy-backend"


class NamespaceJob(SimpleNamespace, BaseJob):
    """qiskit-ibmq-provider 0.7: ``class IBMQJob(SimpleNamespace, BaseJob)``; the API's
    fields become attributes, then ``BaseJob.__init__`` runs."""

    def __init__(self, backend: Any, job_id: str, **kwargs: Any) -> None:
        SimpleNamespace.__init__(self, **kwargs)
        BaseJob.__init__(self, backend, job_id)
        self.remote = JobStatus.QUEUED

    def submit(self) -> None:
        self.remote = JobStatus.QUEUED

    def result(self) -> Any:
        return {"kind": "namespace"}

    def cancel(self) -> bool:
        self.remote = JobStatus.CANCELLED
        return True

    def status(self) -> JobStatus:
        return self.remote


class NamespaceLastJob(BaseJob, SimpleNamespace):
    """The same job with the bases the other way round."""

    def __init__(self, backend: Any, job_id: str, **kwargs: Any) -> None:
        SimpleNamespace.__init__(self, **kwargs)
        BaseJob.__init__(self, backend, job_id)
        self.remote = JobStatus.QUEUED

    def submit(self) -> None:
        self.remote = JobStatus.QUEUED

    def result(self) -> Any:
        return {"kind": "namespace-last"}

    def cancel(self) -> bool:
        self.remote = JobStatus.CANCELLED
        return True

    def status(self) -> JobStatus:
        return self.remote


class OwnStatusJob(BaseJob):
    """IonQ, QuantumInspire, ibmq-provider 0.8+: the job keeps ``self._status`` (and
    here every other private name in ``PRIVATE_NAMES``), set before ``BaseJob.__init__``
    (``early=True``) or after it. ``status()`` refreshes ``_status`` and returns it."""

    def __init__(self, backend: Any, job_id: str, *, early: bool = True) -> None:
        if early:
            self._keep_own_names()
            BaseJob.__init__(self, backend, job_id)
        else:
            BaseJob.__init__(self, backend, job_id)
            self._keep_own_names()
        self.remote = JobStatus.INITIALIZING

    def _keep_own_names(self) -> None:
        for name in PRIVATE_NAMES:
            setattr(self, name, f"own {name}")
        self._status = JobStatus.INITIALIZING

    def submit(self) -> None:
        self.remote = JobStatus.QUEUED
        self._submitted = "own _submitted"

    def result(self) -> Any:
        return {"kind": "own-status"}

    def cancel(self) -> bool:
        self.remote = JobStatus.CANCELLED
        return True

    def status(self) -> JobStatus:
        self._status = self.remote
        return self._status


class LateIdJob(BaseJob):
    """IonQ's ``backend.run``: ``IonQJob(backend, None)``; ``submit()`` learns the id
    from the service and sets ``self._job_id``."""

    def __init__(self, backend: Any) -> None:
        super().__init__(backend, None)
        self.remote = JobStatus.INITIALIZING
        self.given_id = f"late-{next(_ids)}"

    def submit(self) -> None:
        self._job_id = self.given_id
        self.remote = JobStatus.QUEUED

    def result(self) -> Any:
        return {"kind": "late-id"}

    def cancel(self) -> bool:
        self.remote = JobStatus.CANCELLED
        return True

    def status(self) -> JobStatus:
        return self.remote


class DictStatusJob(BaseJob):
    """qiskit-terra's mock ``FakeJob``: ``status()`` returns a dict."""

    def __init__(self, backend: Any, job_id: str) -> None:
        super().__init__(backend, job_id)
        self.queries = 0

    def submit(self) -> None:
        return None

    def result(self) -> Any:
        return None

    def cancel(self) -> bool:
        return False

    def status(self) -> Any:
        self.queries += 1
        return {"job_id": self._job_id, "status": "RUNNING", "status_msg": "job is running"}


def namespace_job(**fields: Any) -> NamespaceJob:
    return NamespaceJob(Backend(), f"ns-{next(_ids)}", **fields)


def own_status_job(early: bool = True) -> OwnStatusJob:
    return OwnStatusJob(Backend(), f"own-{next(_ids)}", early=early)
