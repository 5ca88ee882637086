"""What the history hears from the jobs of this process, and the batches made of it.

``Recording`` is the recorder the core calls (``jobwidgets._jobcore.Recorder``): on the
job's thread, under the job's lock, it is told of each change without keeping objects
for the garbage collector to follow (a dict or a tuple per job, kept until the batch is
sent, makes the collector's full collections walk every job object when thousands of
jobs run, which costs more than the recording itself):

- a status change appends ``key, code, time`` (``status.LOG_ENTRY``: 17 bytes) to a
  ``bytearray`` (``Recording.log``);
- other fields (progress, tags, the log's count, an error) are merged into the job's own
  dict; the first change after they were taken puts the job on the writer's queue
  (``Recording.changed``);
- a job's first change puts the job on a list (``Recording.new``), once.

``Collector.take`` makes a batch (``child``'s ``"rows"`` message) on the thread
``jobwidgets-history``: the status log's bytes (a copy, then the same count deleted:
single C calls, so an append meanwhile stays for the next batch), then the new jobs,
read column by column (one ``map`` over the jobs a column: key, id, backend, class,
tags, creation time, and the other fields for a job made before the recording began),
then each changed job's fields (``_jobcore.take_unrecorded``). The log is taken before
the new jobs, so every logged key's job is in the same batch or an earlier one. A job
whose id is still None (a backend sets it in ``submit()``) is looked at again in each
batch until it has one.

Who owns what: the log and the list of new jobs are appended to by any thread and taken
by the thread ``jobwidgets-history`` alone, which also owns everything else here (the
names of classes and backends seen, the jobs without an id yet, the recordings replaced
but not yet taken from).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import repeat
from operator import attrgetter
from typing import Any

from .. import _jobcore
from .._tags import TagsTrait, tags_of
from ..status import JOB_FINAL_STATES, JobStatus

__all__ = ["Collector", "Recording"]

MAX_WITHOUT_ID = 10_000
"""How many jobs without an id yet a collector looks at again in each batch."""
TAIL_LINES = 50
"""The lines of a job's log that its record keeps."""
TAIL_CHARS = 8192

_core = attrgetter("_jobwidgets")
_values = attrgetter("_trait_values")
_key = attrgetter("record")
_name = attrgetter("_name_")
_backend = attrgetter("_backend")
_id = attrgetter("_job_id")
_INITIALIZING = JobStatus.INITIALIZING
_FIELDS = ("submitted_at", "started_at", "finished_at", "progress", "error",
           "error_traceback")  # fmt: skip


class Recording:
    """What the core tells of job changes (``_jobcore.Recorder``)."""

    def __init__(self, changed: Callable[[Any], object]) -> None:
        self.statuses = bytearray()  # ``status.LOG_ENTRY`` after another
        self.log = self.statuses.extend
        self.new_jobs: list[Any] = []
        self.new = self.new_jobs.append
        self.changed = changed

    def take(self) -> tuple[bytes, list[Any]]:
        """The status log and the new jobs so far (the log first)."""
        statuses = self.statuses
        data = bytes(statuses)
        del statuses[: len(data)]
        jobs = self.new_jobs
        taken = jobs[:]
        del jobs[: len(taken)]
        return data, taken


class Collector:
    """Makes batches of what its recording heard; ``renew()`` replaces the recording
    (a new writer process: each job's next change says again what the job is)."""

    def __init__(self, changed: Callable[[Any], object]) -> None:
        self._changed = changed
        self.recording = Recording(changed)
        self.since = time.time()  # jobs made later tell ``recording`` every change
        # (one made between this and ``set_recorder`` is sent whole: correct, if dearer)
        self._retired: list[Recording] = []
        self._class_names: dict[type, tuple[str, bool]] = {}
        self._backends: dict[int, tuple[object, str]] = {}
        self._without_id: dict[int, Any] = {}

    def renew(self) -> None:
        """Install a new recording in place of this one (if it is installed)."""
        self.since = time.time()  # (first: a job made meanwhile is sent whole)
        old, self.recording = self.recording, Recording(self._changed)
        self._retired.append(old)
        if _jobcore._recorder is old:
            _jobcore.set_recorder(self.recording)

    def pending(self) -> bool:
        """Whether the recording heard of a status change or a new job."""
        recording = self.recording
        return bool(recording.statuses or recording.new_jobs or self._retired)

    def drop(self, jobs: list[Any]) -> None:
        """Nothing more is written: take the jobs' fields (so they queue again, should a
        later writer record) and forget what was heard."""
        for job in jobs:
            _jobcore.take_unrecorded(job)
        for recording in (*self._retired, self.recording):
            recording.take()
        self._retired.clear()

    def take(self, jobs: list[Any]) -> tuple[bytes, Any, list[Any]] | None:
        """What changed since the last batch (``child``'s ``"rows"`` message, after its
        time): the status log, the new jobs (``new_jobs``) and the fields of ``jobs``
        (those queued as changed), ``(key, fields)`` each; or None if nothing did."""
        statuses = b""
        new_jobs: list[Any] = []
        for recording in (*self._retired, self.recording):
            data, taken = recording.take()
            statuses += data
            new_jobs += taken
        self._retired.clear()
        fields: list[Any] = []
        for job in jobs:
            changed = _jobcore.take_unrecorded(job)
            if changed is None:  # queued twice (a recorder was replaced): taken already
                continue
            if "log_lines" in changed:
                changed["log_lines"] = log_tail(job)
            fields.append((job._jobwidgets.record, changed))
        if self._without_id:
            for key, job in list(self._without_id.items()):
                job_id = job._job_id
                if job_id is not None:
                    fields.append((key, {"job_id": str(job_id)}))
                    del self._without_id[key]
                elif job._jobwidgets.status in JOB_FINAL_STATES:
                    del self._without_id[key]
        if not (statuses or new_jobs or fields):
            return None
        return statuses, self.new_jobs(new_jobs) if new_jobs else None, fields

    def new_jobs(self, jobs: list[Any]) -> tuple[Any, ...]:
        """What the new jobs are, column by column (``child.NEW``): key, id, backend,
        class, tags and creation time; then None, or for the jobs made before the
        recording began: their positions, status and the fields of ``_FIELDS`` as the
        job holds them now."""
        keys = list(map(_key, map(_core, jobs)))
        values = list(map(_values, jobs))
        get = dict.get
        ids = list(map(_id, jobs))
        if not all(map(isinstance, ids, repeat(str))):
            ids = [None if i is None else str(i) for i in ids]
            if len(self._without_id) < MAX_WITHOUT_ID:
                for key, job, job_id in zip(keys, jobs, ids, strict=True):
                    if job_id is None:
                        self._without_id[key] = job
        classes = list(map(type, jobs))
        names = self._class_names
        for cls in set(classes).difference(names):
            plain = isinstance(getattr(cls, "tags", None), TagsTrait)
            names[cls] = (f"{cls.__module__}.{cls.__qualname__}", plain)
        kinds = {cls: names[cls] for cls in set(classes)}
        class_names = list(map({cls: n for cls, (n, _) in kinds.items()}.__getitem__, classes))
        if all(plain for _, plain in kinds.values()):
            tags = list(map(get, values, repeat("tags"), repeat(())))
        else:
            tags = [tags_of(job) for job in jobs]
        backend_ids = list(map(id, map(_backend, jobs)))
        known = self._backends
        backend_names = {}
        for backend_id, job in dict(zip(backend_ids, jobs, strict=True)).items():
            held = known.get(backend_id)
            if held is None or held[0] is not job._backend:  # (held: its id is not reused)
                if len(known) >= 256:
                    known.clear()
                held = known[backend_id] = (job._backend, _backend_name(job))
            backend_names[backend_id] = held[1]
        backends = list(map(backend_names.__getitem__, backend_ids))
        created = list(map(get, values, repeat("created_at")))
        columns: list[Any] = [keys, ids, backends, class_names, tags, created]
        since = self.since
        # A job made after the recording began told it every change; one made before
        # says what it holds now.
        older = [i for i, at in enumerate(created) if at is None or at < since]
        if older:
            old_values = [values[i] for i in older]
            status = map(get, old_values, repeat("state"), repeat(_INITIALIZING))
            columns.append([older, list(map(_name, status))])
            columns[-1] += [list(map(get, old_values, repeat(name))) for name in _FIELDS]
        else:
            columns.append(None)
        return tuple(columns)


def _backend_name(job: Any) -> str:
    try:
        return str(job._backend_name())
    except Exception:
        return type(job._backend).__name__


def log_tail(job: Any) -> str | None:
    """The last lines of the job's log (``job.logs()``), as ``logs()`` formats them."""
    log = job._jobwidgets.log
    if log is None:
        return None
    try:
        lines = log.tail(TAIL_LINES)
    except Exception:
        return None
    text = "\n".join(line.format() for line in lines)
    return text[-TAIL_CHARS:] if text else None
