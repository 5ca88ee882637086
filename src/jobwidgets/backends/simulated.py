"""An emulated remote job service, for tutorials and tests.

Jobs go through INITIALIZING, QUEUED, VALIDATING and RUNNING, and end in DONE or ERROR,
as on a real remote service: they wait in a first-in-first-out queue until one of
``capacity`` slots is free. Durations and failures are drawn from a seeded random
generator, so a seed makes every run take the same path; ``time_scale`` shrinks every
duration (0.01 runs a 2-second job in 20 ms).

One engine thread per backend drives every job from a heap of timed events. With
``poll_only=True`` the engine changes only the remote truth, and a job learns its status
from ``status()`` queries, like a real service without push; the shared poller then
keeps watched jobs fresh.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .._jobcore import apply
from .._seconds import check_seconds, waitable
from .._shown import shown
from .._tags import check_tags
from ..errors import JobError
from ..job import BaseJob, CancelAttempt
from ..logs import DEFAULT_MAX_BYTES, DEFAULT_MAX_LINES, check_log_bounds
from ..status import JOB_FINAL_STATES, JobStatus

__all__ = ["MAX_PROGRESS_STEPS", "SimulatedBackend", "SimulatedJob"]

log = logging.getLogger("jobwidgets")

Duration = float | tuple[float, float]

MAX_PROGRESS_STEPS = 1000
"""The most progress reports one running job may push (each is an event in the heap)."""


def _check_duration(name: str, value: object) -> Duration:
    """Finite seconds >= 0, or a ``(low, high)`` range of them; else ``ValueError``."""
    try:
        if isinstance(value, tuple) and len(value) == 2:
            low, high = (check_seconds(bound, name, finite=True) for bound in value)
            if low <= high:
                return (low, high)
        else:
            return check_seconds(value, name, finite=True)
    except (TypeError, ValueError):
        pass
    msg = f"{name} must be finite seconds >= 0, or a (low, high) range of them, got {shown(value)}"
    raise ValueError(msg)


def _check_number(name: str, value: object, what: str, fits: Callable[[float], bool]) -> float:
    """A number (not a bool) that ``fits``, as a float; else ``ValueError`` naming it."""
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float (10**400): fits nothing
            number = math.inf if value > 0 else -math.inf
    if number is None or not fits(number):  # fits is False for NaN and inf too
        msg = f"{name} must be {what}, got {shown(value)}"
        raise ValueError(msg)
    return number


def _seeded(seed: Any) -> random.Random:
    """A generator seeded with ``seed``, or the error of ``random.seed`` naming it."""
    try:
        return random.Random(seed)
    except (TypeError, ValueError) as exc:  # ValueError: a str that isn't UTF-8
        msg = (
            "seed must be None, an int, a float, a str or bytes (as for random.seed), "
            f"got {shown(seed)}: {exc}"
        )
        raise (TypeError if isinstance(exc, TypeError) else ValueError)(msg) from exc


def _probability(number: float) -> bool:
    return 0 <= number <= 1


def _scale(number: float) -> bool:
    return 0 < number < math.inf


class SimulatedJob(BaseJob):
    """A job on a ``SimulatedBackend``."""

    pushes_status = True

    def __init__(
        self,
        backend: SimulatedBackend,
        job_id: str,
        plan: _Plan,
        *,
        tags: tuple[str, ...] = (),
        resubmitted_from: str | None = None,
    ) -> None:
        super().__init__(backend, job_id)
        self._remote = plan  # the service's record, which only the backend writes
        if tags:  # before the job joins the registry: its first row has them
            apply(self, "tags", check_tags(tags))
        if resubmitted_from is not None:
            apply(self, "resubmitted_from", resubmitted_from)

    def resubmit(self) -> SimulatedJob:
        """Run the job again with the same options (``result``, ``run_time``, ``fail``)
        and tags: a new job of the same backend, already submitted, whose
        ``resubmitted_from`` is this id. Durations and a failure not forced by ``fail``
        are drawn anew.

        Raises:
            JobError: the backend is closed.
        """
        backend: SimulatedBackend = self._backend
        return backend._resubmit(self)

    def _can_resubmit(self) -> bool:
        backend: SimulatedBackend = self._backend
        return not backend.closed

    def job_id(self) -> str:
        """Return a unique id identifying the job (these jobs always have one)."""
        job_id = self._job_id
        return job_id if isinstance(job_id, str) else str(job_id)

    def submit(self) -> None:
        """Send the job to the simulated service."""
        self._backend._submit(self, self._remote)

    def status(self) -> JobStatus:
        """Return the status of the job."""
        return self._remote.status

    def cancel(self) -> bool:
        """Cancel the job; True if it is (now) cancelled, False if it already ended."""
        backend: SimulatedBackend = self._backend
        return self._cancel_with(lambda: backend._stop(self._remote))

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the job and return its result.

        Raises:
            JobError: the job failed or was cancelled.
            JobTimeoutError: the job did not end within ``timeout`` seconds.
        """
        self.wait_for_final_state(timeout=timeout, wait=0.1)
        return self._outcome(0, lambda: self._remote.result)

    def queue_position(self) -> int | None:
        """Where the job stands in the service's queue (1 is next), or None if not queued."""
        backend: SimulatedBackend = self._backend
        return backend._position(self._remote)

    @property
    def planned_outcome(self) -> JobStatus:
        """DONE or ERROR: how the job will end unless it is cancelled."""
        return JobStatus.ERROR if self._remote.fails else JobStatus.DONE


class _PolledSimulatedJob(SimulatedJob):
    """A simulated job whose status is learned only by asking for it."""

    pushes_status = False

    def status(self) -> JobStatus:
        remote = self._remote
        status, started = remote.status, remote.run_started
        if status is JobStatus.RUNNING and started is not None and remote.run_time > 0:
            self.set_progress(min(1.0, (time.monotonic() - started) / remote.run_time))
        return status


@dataclasses.dataclass(slots=True, eq=False)
class _Plan:
    """The service's record of one job: its durations (seconds, already scaled) and
    outcome, drawn at creation, and its remote truth. The backend writes ``status``,
    ``run_started`` and ``job`` under its lock; the job only reads them."""

    init_time: float
    queue_time: float
    valid_time: float
    run_time: float
    fails: bool
    error: str
    result: Any
    request: tuple[Any, float | None, bool | None]
    """What ``run`` was given: ``(result, run_time, fail)``, for ``resubmit``."""
    status: JobStatus = JobStatus.INITIALIZING
    run_started: float | None = None
    steps: int = 0
    """How many progress steps were reported."""
    job: SimulatedJob | None = None
    """The job, held while the service holds it (until its final state)."""


_STEPS = ("calibrating", "sampling", "measuring", "aggregating", "checking")
"""What the synthetic log lines of a running simulated job say, in turn."""

_Reports = list[tuple[SimulatedJob, JobStatus, float | None, str | None]]
"""What the engine reports once it releases its lock: job, status, progress, and the
error (of a final state) or the note (of a progress step)."""


class SimulatedBackend:
    """A simulated remote queue.

    Args:
        init_time, queue_time, validation_time, run_time: seconds spent
            INITIALIZING, at least QUEUED, VALIDATING and RUNNING; each a number or a
            ``(low, high)`` range drawn uniformly.
        capacity: how many jobs validate or run at once; the rest wait in the queue.
        failure_probability: the chance, 0..1, that a job ends in ERROR.
        seed: seeds the random draws, so that runs are repeatable.
        time_scale: multiplies every duration; use a small one in tests.
        poll_only: jobs learn their status only from ``status()`` queries.
        progress_steps: how many progress reports a running job pushes (0 for none),
            each with a note ("step 3/10: measuring") that is also a line of its log.
        name: a readable name for tables.
        max_log_lines, max_log_bytes: how much of each job's log to keep (the last
            10,000 lines, or about 1 MiB, by default).
    """

    def __init__(
        self,
        *,
        init_time: Duration = 0.2,
        queue_time: Duration = 0.5,
        validation_time: Duration = 0.3,
        run_time: Duration = (1.0, 3.0),
        capacity: int = 2,
        failure_probability: float = 0.0,
        seed: int | None = None,
        time_scale: float = 1.0,
        poll_only: bool = False,
        progress_steps: int = 10,
        name: str = "simulated",
        max_log_lines: int = DEFAULT_MAX_LINES,
        max_log_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.init_time = _check_duration("init_time", init_time)
        self.queue_time = _check_duration("queue_time", queue_time)
        self.validation_time = _check_duration("validation_time", validation_time)
        self.run_time = _check_duration("run_time", run_time)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            msg = f"capacity must be an int >= 1, got {shown(capacity)}"
            raise ValueError(msg)
        self.failure_probability = _check_number(
            "failure_probability", failure_probability, "a number from 0 to 1", _probability
        )
        self.time_scale = _check_number(
            "time_scale", time_scale, "a finite number > 0 (0.01 runs 100 times faster)", _scale
        )
        if (
            isinstance(progress_steps, bool)
            or not isinstance(progress_steps, int)
            or not 0 <= progress_steps <= MAX_PROGRESS_STEPS
        ):
            msg = (
                f"progress_steps must be an int from 0 to {MAX_PROGRESS_STEPS} "
                f"(how many progress reports a running job pushes), got {shown(progress_steps)}"
            )
            raise ValueError(msg)
        if not isinstance(name, str):
            msg = f"name must be a str (the backend's name in tables), got {shown(name)}"
            raise TypeError(msg)
        self.capacity = capacity
        self.seed = seed
        self.poll_only = bool(poll_only)
        self.progress_steps = progress_steps
        self.log_bounds = check_log_bounds(max_log_lines, max_log_bytes)
        self.name = name
        self._random = _seeded(seed)
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._events: list[tuple[float, int, _Plan, str]] = []
        self._seq = itertools.count()
        self._waiting: deque[tuple[float, _Plan]] = deque()
        self._active: set[_Plan] = set()
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ public API
    def run(
        self,
        result: Any = None,
        *,
        run_time: float | None = None,
        fail: bool | None = None,
        tags: Any = None,
    ) -> SimulatedJob:
        """Submit a job and return it.

        Args:
            result: what ``job.result()`` returns (default: a small summary dict).
            run_time: this job's running seconds (before ``time_scale``), finite and
                ``>= 0``, overriding the backend's draw.
            fail: force the outcome: True ends in ERROR, False in DONE.
            tags: labels for the job (an iterable of str; ``job.tags``).
        """
        job = self._make(result, run_time=run_time, fail=fail, tags=check_tags(tags))
        job.submit()
        return job

    def _resubmit(self, job: SimulatedJob) -> SimulatedJob:
        """``job.resubmit()``: the same request and tags, as a new job."""
        if self._closed:
            msg = (
                f"job {job.job_id()!r} can't be resubmitted: {self.name} is closed; "
                "create a new SimulatedBackend to run more jobs"
            )
            raise JobError(msg)
        result, run_time, fail = job._remote.request
        again = self._make(result, run_time=run_time, fail=fail, tags=job.tags, origin=job.job_id())
        again.submit()
        return again

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def run_many(self, count: int, **kwargs: Any) -> list[SimulatedJob]:
        """Submit ``count`` jobs with the same options (those of ``run``, ``tags``
        included: every job gets them); return them."""
        if isinstance(count, bool) or not isinstance(count, int):
            msg = f"count must be an int >= 0 (how many jobs to run), got {shown(count)}"
            raise TypeError(msg)
        if count < 0:
            msg = f"count must be an int >= 0 (how many jobs to run), got {shown(count)}"
            raise ValueError(msg)
        if "tags" in kwargs:  # checked once, before any job exists
            kwargs["tags"] = check_tags(kwargs["tags"])
        return [self.run(**kwargs) for _ in range(count)]

    @property
    def queue_length(self) -> int:
        """How many jobs wait for a slot."""
        return len(self._waiting)

    def close(self) -> None:
        """Cancel every unfinished job and stop the engine.

        The engine thread ends now, not at its last scheduled event: ``close()`` waits
        for it (up to 5 s, unless called from the engine itself, as by an observer).
        """
        with self._cond:
            self._closed = True
            plans = [plan for _, plan in self._waiting] + list(self._active)
            plans += [event[2] for event in self._events]
            jobs = {id(plan.job): plan.job for plan in plans if plan.job is not None}
        for job in jobs.values():
            job.cancel()
        with self._cond:
            self._events.clear()
            self._waiting.clear()
            self._active.clear()
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def __enter__(self) -> SimulatedBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<SimulatedBackend {self.name!r} capacity={shown(self.capacity)} "
            f"queued={self.queue_length} running={len(self._active)}>"
        )

    # -------------------------------------------------------------------- internals
    def _draw(self, duration: Duration) -> float:
        value = self._random.uniform(*duration) if isinstance(duration, tuple) else duration
        return value * self.time_scale

    def _make(
        self,
        result: Any,
        *,
        run_time: float | None,
        fail: bool | None,
        tags: tuple[str, ...] = (),
        origin: str | None = None,
    ) -> SimulatedJob:
        with self._cond:
            number = next(self._ids)
            job_id = f"{self.name}-{number}"
            fails = self._random.random() < self.failure_probability
            plan = _Plan(
                init_time=self._draw(self.init_time),
                queue_time=self._draw(self.queue_time),
                valid_time=self._draw(self.validation_time),
                run_time=self._draw(
                    self.run_time
                    if run_time is None
                    else check_seconds(run_time, "run_time", finite=True)
                ),
                fails=fails if fail is None else bool(fail),
                error=f"simulated failure: the service rejected {job_id} (error code "
                f"E{1000 + self._random.randrange(9000)})",
                result=result if result is not None else {"job_id": job_id, "number": number},
                request=(result, run_time, fail),
            )
        cls = _PolledSimulatedJob if self.poll_only else SimulatedJob
        job = cls(self, job_id, plan, tags=tags, resubmitted_from=origin)
        if self.log_bounds != (DEFAULT_MAX_LINES, DEFAULT_MAX_BYTES):
            job._set_log_bounds(*self.log_bounds)
        plan.job = job
        return job

    def _submit(self, job: SimulatedJob, plan: _Plan) -> None:
        with self._cond:
            if self._closed:
                msg = f"{self.name} is closed; create a new SimulatedBackend to run more jobs"
                raise JobError(msg)
            self._schedule(plan, plan.init_time, "queue")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._engine, name=f"jobwidgets-{self.name}", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def _schedule(self, plan: _Plan, delay: float, phase: str) -> None:
        heapq.heappush(self._events, (time.monotonic() + delay, next(self._seq), plan, phase))

    def _engine(self) -> None:
        """The engine thread: fire due events, then report them once the lock is free.

        Every duration is finite and >= 0, so every event time is a number (``inf``
        at worst, for a scaled duration beyond a float: such an event never fires); a
        wait longer than ``threading.TIMEOUT_MAX`` is cut into waits the thread can make.
        A report that raises is logged; the engine goes on with the others.
        """
        while True:
            reports: _Reports = []
            with self._cond:
                while True:
                    if self._closed:
                        self._thread = None
                        return
                    if not self._events:
                        if not self._waiting and not self._active:
                            self._thread = None
                            return
                        self._cond.wait()
                        continue
                    delay = self._events[0][0] - time.monotonic()
                    if delay > 0:
                        self._cond.wait(waitable(delay))
                        continue
                    break
                now = time.monotonic()
                while self._events and self._events[0][0] <= now:
                    _, _, plan, phase = heapq.heappop(self._events)
                    if plan.status not in JOB_FINAL_STATES:
                        self._advance(plan, phase, now, reports)
                self._admit(now, reports)
            for job, status, progress, error in reports:
                try:
                    if progress is not None:  # ``error`` is then the step's note
                        job.set_progress(progress, error)
                        job._log("stdout", f"{error}\n")
                    else:
                        job._report(status, error=error)
                except Exception:
                    log.exception("jobwidgets: %s could not report %s", self.name, status.name)

    def _advance(
        self,
        plan: _Plan,
        phase: str,
        now: float,
        reports: _Reports,
    ) -> None:
        """Move one job on; called with the lock held, reporting after release."""
        if phase == "queue":
            self._set(plan, JobStatus.QUEUED, reports)
            self._waiting.append((now + plan.queue_time, plan))
        elif phase == "run":
            plan.run_started = now
            self._set(plan, JobStatus.RUNNING, reports)
            self._schedule(plan, plan.run_time, "finish")
            if self.progress_steps and not self.poll_only:
                for step in range(1, self.progress_steps):
                    self._schedule(plan, plan.run_time * step / self.progress_steps, "progress")
        elif phase == "progress":
            started = plan.run_started
            if started is not None and plan.run_time > 0 and plan.job and not self.poll_only:
                fraction = min(1.0, (now - started) / plan.run_time)
                plan.steps += 1
                what = _STEPS[(plan.steps - 1) % len(_STEPS)]
                note = f"step {plan.steps}/{self.progress_steps}: {what}"
                reports.append((plan.job, JobStatus.RUNNING, fraction, note))
        elif phase == "finish":
            self._active.discard(plan)
            self._set(plan, JobStatus.ERROR if plan.fails else JobStatus.DONE, reports)
        # phase "admit" only wakes the engine so that _admit runs

    def _admit(self, now: float, reports: _Reports) -> None:
        """Start queued jobs while slots are free and their queue time has passed."""
        while self._waiting and len(self._active) < self.capacity:
            ready_at, plan = self._waiting[0]
            if ready_at > now:
                self._schedule(plan, ready_at - now, "admit")
                return
            self._waiting.popleft()
            self._active.add(plan)
            self._set(plan, JobStatus.VALIDATING, reports)
            self._schedule(plan, plan.valid_time, "run")

    def _set(
        self,
        plan: _Plan,
        status: JobStatus,
        reports: _Reports,
    ) -> None:
        plan.status = status
        job = plan.job
        if status in JOB_FINAL_STATES:
            plan.job = None  # the service is done with it
        if job is not None and not self.poll_only:
            error = plan.error if status is JobStatus.ERROR else None
            reports.append((job, status, None, error))

    def _stop(self, plan: _Plan) -> CancelAttempt:
        """``cancel()``'s attempt: take the job off the service, unless it has ended."""
        with self._cond:
            if plan.status in JOB_FINAL_STATES:
                return CancelAttempt.NOT_STOPPED  # it ended; a query or a push tells
            for entry in self._waiting:
                if entry[1] is plan:
                    self._waiting.remove(entry)
                    break
            self._active.discard(plan)
            plan.status = JobStatus.CANCELLED
            plan.job = None
            self._cond.notify_all()  # a slot may be free now
            if not self._closed and self._thread is not None:
                self._schedule(plan, 0, "admit")
        return CancelAttempt.STOPPED

    def _position(self, plan: _Plan) -> int | None:
        with self._cond:
            for index, (_, queued) in enumerate(self._waiting, start=1):
                if queued is plan:
                    return index
        return None
