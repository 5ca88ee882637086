"""Property tests: every public entry point, fed arbitrary values, never misbehaves.

For each parameter that takes user input, hypothesis tries values of many types (None,
bools, ints huge and negative, floats with nan, inf, -0.0 and 1e300, strings with
markup and control characters, bytes, lists, dicts, objects) and values near the valid
boundaries. The property: the call either works (and then a cheap post-condition
holds: the job ends, the object is usable and closes), or it raises ``TypeError`` or
``ValueError`` (or the documented error: ``JobTimeoutError`` for a timeout, traitlets'
``TraitError`` for a widget's trait) whose message names the parameter. Never another
exception, never a hang: each call runs on a thread joined with a timeout, and every
test leaves no thread, widget or comm behind.

A short form runs in ``make test`` (``EXAMPLES`` examples per test). For the long form,
set ``JOBWIDGETS_STRESS_TRIALS`` (for example ``JOBWIDGETS_STRESS_TRIALS=30``: 30 times as
many examples); ``-s`` prints how many calls each entry point took and how they ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import math
import os
import re
import reprlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import comm
import pytest
import traitlets
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from _jobs import FakeBackend, PushJob, SettableJob, wait_until
from jobwidgets import (
    BaseJob,
    JobError,
    JobStatus,
    JobTimeoutError,
    LocalBackend,
    SharedPoller,
    SimulatedBackend,
    default_poller,
    feed,
    job_monitor,
    registry,
)
from jobwidgets._queries import queries
from jobwidgets.bridge import Bridge, get_bridge
from jobwidgets.registry import JobRegistry
from jobwidgets.status import JOB_FINAL_STATES
from widget_support import ManualLoop, RecordingComm

TRIALS = int(os.environ.get("JOBWIDGETS_STRESS_TRIALS", "1"))
EXAMPLES = 30 * TRIALS
HANG = 10.0
"""Seconds a single call may take before it counts as a hang (the machine may be busy)."""

PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CALLS: Counter[str] = Counter()
"""Calls made per entry point and outcome, printed at the end (``-s``)."""

# ------------------------------------------------------------------------ values


def _huge(sign: int) -> int:
    """An int of 5,001 digits: ``repr()`` of it raises ``ValueError`` (Python's limit on
    int-to-str conversion). Made by a strategy's ``map``, so that no strategy's own repr
    holds it."""
    return sign * 10**5000


huge = st.sampled_from([1, -1]).map(_huge)
ODD_NUMBERS = [
    0,
    1,
    -1,
    2,
    2**31,
    2**63,
    2**64 + 1,
    10**400,
    -(10**400),
    0.0,
    -0.0,
    1e-9,
    5e-324,
    0.5,
    1.0,
    1.5,
    1e300,
    -1e300,
    math.nan,
    math.inf,
    -math.inf,
    threading.TIMEOUT_MAX,
    threading.TIMEOUT_MAX * 2,
]
MARKUP = '<img src=x onerror="alert(1)">'
ODD_TEXT = [
    "",
    " ",
    "\x00",
    "\r\n",
    "\x1b[31m",
    "\u202e",
    "\ud800",
    MARKUP,
    "<script>alert(1)</script>",
    "x" * 100_000,
    "thread",
    "process",
    "spawn",
    "fork",
    "state",
    "change",
    "1",
    "0.1",
]
ODD_OBJECTS: list[Any] = [
    object(),
    Ellipsis,
    NotImplemented,
    Fraction(1, 3),
    Decimal("NaN"),
    Decimal("1.5"),
    complex(1, 2),
    bytearray(b"x"),
    frozenset({1}),
    range(3),
    b"\xff",
    (),
    (1,),
    (0.1, 0.2),
    (2.0, 1.0),
    (1, 2, 3),
    (math.nan, 1.0),
    ("a", "b"),
    [],
    {},
    traitlets.All,
    JobStatus.DONE,
    io.BytesIO(),
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=10),
    st.sampled_from(ODD_NUMBERS),
    huge,
    st.sampled_from(ODD_TEXT),
)
anything = st.one_of(
    scalars,
    st.sampled_from(ODD_OBJECTS),
    st.lists(scalars, max_size=3),
    st.tuples(scalars, scalars),
    st.dictionaries(st.text(max_size=5), scalars, max_size=3),
)
"""Any value of many types."""


def mixed(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any] = anything) -> Any:
    """Half of the examples from ``valid`` (values the call should take), half from
    ``invalid`` (any value). ``st.one_of`` would flatten ``anything``'s many branches
    and draw a valid value only now and then."""
    return st.booleans().flatmap(lambda good: valid if good else invalid)


near_zero_seconds = st.one_of(
    st.floats(min_value=-1e-3, max_value=0.05),
    st.integers(min_value=-2, max_value=2),
)
seconds = mixed(st.one_of(near_zero_seconds, st.floats(min_value=0.05, max_value=5)))
"""A number of seconds: any value, or one near the boundaries (0, small, negative)."""

small_ints = st.integers(min_value=-3, max_value=4)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def _holds_huge(value: Any) -> bool:
    try:
        repr(value)
    except ValueError:
        return True
    return False


trait_values = anything.filter(lambda value: not _holds_huge(value))
"""Any value that ``repr`` can show: the traits of ipywidgets and traitlets put the
value in their error message, and ``repr`` of a 5,000-digit int raises ``ValueError``
there (in traitlets, not here)."""


def _nothing(*_args: Any) -> None:
    return None


callables = st.sampled_from([_nothing, lambda *args: None, lambda *args: args])


# ------------------------------------------------------------------------ helpers
def show(value: Any) -> str:
    """A short repr for messages; a huge int is described."""
    try:
        return reprlib.repr(value)
    except ValueError:
        return f"<an int of {value.bit_length()} bits>"


def attempt(what: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` on a thread joined with ``HANG`` seconds; return its value or the
    exception it raised. A call still running after that fails the test (a hang)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"property-{what}", daemon=True)
    thread.start()
    thread.join(HANG)
    if thread.is_alive():
        CALLS[f"{what}: HUNG"] += 1
        pytest.fail(f"{what} hung for {HANG} s with {show(args)} {show(kwargs)}")
    error = box.get("error")
    CALLS[f"{what}: {'refused' if error is not None else 'worked'}"] += 1
    return error if error is not None else Outcome(box.get("value"))


class Outcome:
    """What a call returned (as opposed to an exception it raised)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def refused(error: Any, *names: str, also: tuple[type[BaseException], ...] = ()) -> bool:
    """False if the call worked; True if it raised an allowed error naming a parameter;
    else fail, saying what it raised."""
    if isinstance(error, Outcome):
        return False
    allowed = (TypeError, ValueError, *also)
    assert isinstance(error, allowed), f"raised {type(error).__name__}: {error}"
    if isinstance(error, JobTimeoutError):
        return True
    text = str(error)
    assert any(re.search(rf"\b{re.escape(name)}\b", text) for name in names), (
        f"{type(error).__name__} does not name {' or '.join(names)}: {text[:300]}"
    )
    return True


@contextlib.contextmanager
def no_logged_exceptions() -> Iterator[list[logging.LogRecord]]:
    """Fail if anything logs a record with exception info meanwhile (ipywidgets logs
    what a message handler raised, rather than raising it)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)
    failures = [r for r in records if r.exc_info]
    assert not failures, failures[0].getMessage() + "\n" + str(failures[0].exc_info)


def ending_job(after: float = 0.005) -> tuple[PushJob, threading.Timer]:
    """A running job that a timer pushes to DONE ``after`` seconds from now."""
    job = PushJob()
    job.submit()
    job.push(JobStatus.RUNNING)
    timer = threading.Timer(after, job.push, (JobStatus.DONE,))
    timer.start()
    return job, timer


class PolledJob(SettableJob):
    """A poll-only job: RUNNING at its first two queries, DONE from the third."""

    def status(self) -> JobStatus:
        self.queries += 1
        return JobStatus.RUNNING if self.queries <= 2 else JobStatus.DONE


@pytest.fixture(scope="module", autouse=True)
def tally() -> Iterator[None]:
    idle = queries.idle
    queries.idle = 0.05  # query threads of a deadline end soon after, so counts settle
    yield
    queries.idle = idle
    total = sum(CALLS.values())
    print(f"\nproperty calls: {total} in all")
    for key, count in sorted(CALLS.items()):
        print(f"  {key}: {count}")


@pytest.fixture(autouse=True)
def no_threads_left() -> Iterator[None]:
    before = threading.active_count()
    yield
    settled = wait_until(lambda: threading.active_count() <= before, timeout=5)
    assert settled, [t.name for t in threading.enumerate()]


# ------------------------------------------------------------------ BaseJob's API
class PlainJob(BaseJob):
    """A third-party job with only the four abstract methods."""

    job_registry = None

    def submit(self) -> None:
        return None

    def result(self) -> Any:
        return None

    def cancel(self) -> bool:
        return False

    def status(self) -> JobStatus:
        return JobStatus.RUNNING


@PROPERTY
@given(backend=anything, job_id=mixed(st.one_of(st.none(), st.text())))
def test_basejob_takes_any_backend_and_a_str_id(backend: Any, job_id: Any) -> None:
    made = attempt("BaseJob(backend, job_id)", PlainJob, backend, job_id)
    if refused(made, "job_id"):
        assert job_id is not None and (job_id == "" or not isinstance(job_id, str))
        return
    job = made.value
    assert job.job_id() == job_id
    assert isinstance(repr(job), str) and job.state is JobStatus.INITIALIZING


@PROPERTY
@given(timeout=seconds)
def test_wait_for_final_state_timeout(timeout: Any) -> None:
    job, timer = ending_job()
    try:
        error = attempt("wait_for_final_state(timeout)", job.wait_for_final_state, timeout)
        if not refused(error, "timeout", also=(JobTimeoutError,)):
            assert job.state is JobStatus.DONE
        elif isinstance(error, JobTimeoutError):
            assert timeout < 1
    finally:
        timer.join()


@PROPERTY
@given(timeout=seconds)
def test_wait_for_final_state_timeout_of_a_polled_job(timeout: Any) -> None:
    job = PolledJob(JobStatus.RUNNING)
    error = attempt(
        "wait_for_final_state(timeout), polled", job.wait_for_final_state, timeout, 0.001
    )
    if not refused(error, "timeout", also=(JobTimeoutError,)):
        assert job.state is JobStatus.DONE


@PROPERTY
@given(wait=seconds)
def test_wait_for_final_state_wait(wait: Any) -> None:
    job, timer = ending_job()
    try:
        error = attempt("wait_for_final_state(wait)", job.wait_for_final_state, 5, wait)
        if not refused(error, "wait"):
            assert job.state is JobStatus.DONE
    finally:
        timer.join()


@PROPERTY
@given(callback=mixed(st.one_of(st.none(), callables)))
def test_wait_for_final_state_callback(callback: Any) -> None:
    job = PolledJob(JobStatus.RUNNING)
    error = attempt("wait_for_final_state(callback)", job.wait_for_final_state, 5, 0.001, callback)
    if not refused(error, "callback"):
        assert job.state is JobStatus.DONE


@PROPERTY
@given(timeout=seconds, wait=seconds, callback=mixed(st.one_of(st.none(), callables)))
def test_wait_for_final_state_all_arguments(timeout: Any, wait: Any, callback: Any) -> None:
    job, timer = ending_job()
    try:
        error = attempt(
            "wait_for_final_state(timeout, wait, callback)",
            job.wait_for_final_state,
            timeout,
            wait,
            callback,
        )
        if not refused(error, "timeout", "wait", "callback", also=(JobTimeoutError,)):
            assert job.state is JobStatus.DONE
    finally:
        timer.join()


@PROPERTY
@given(fraction=mixed(st.one_of(st.none(), st.floats(min_value=-0.01, max_value=1.01))))
def test_set_progress(fraction: Any) -> None:
    job = PushJob()
    job.submit()
    error = attempt("set_progress(fraction)", job.set_progress, fraction)
    if not refused(error, "fraction"):
        assert job.progress == (None if fraction is None else float(fraction))


@PROPERTY
@given(fn=mixed(callables))
def test_add_done_callback(fn: Any) -> None:
    job = PushJob()
    job.submit()
    error = attempt("add_done_callback(fn)", job.add_done_callback, fn)
    with no_logged_exceptions():
        job.push(JobStatus.DONE)
    if not refused(error, "fn"):
        assert callable(fn)


@PROPERTY
@given(
    handler=mixed(callables),
    names=mixed(st.sampled_from(["state", "progress", "nothing", ["state", "error"], ("state",)])),
    kind=mixed(st.sampled_from(["change", traitlets.All])),
)
def test_observe_and_unobserve(handler: Any, names: Any, kind: Any) -> None:
    job = PushJob()
    error = attempt("observe(handler, names, type)", job.observe, handler, names, kind)
    if refused(error, "handler", "names", "type"):
        with no_logged_exceptions():
            job.submit()  # a failed observe left nothing that breaks a change
        return
    with no_logged_exceptions():
        job.submit()
        job.push(JobStatus.DONE)
    error = attempt("unobserve(handler, names, type)", job.unobserve, handler, names, kind)
    assert isinstance(error, Outcome), error


@PROPERTY
@given(value=mixed(st.sampled_from([s.value for s in JobStatus] + list(JobStatus.__members__))))
def test_job_status_lookups(value: Any) -> None:
    """``JobStatus`` is a plain ``Enum``, as qiskit's is: ``JobStatus(value)`` raises
    ``ValueError`` for a value that is none of its messages; ``JobStatus[name]`` raises
    ``KeyError`` (``TypeError`` for an unhashable name), as any ``Enum`` does."""
    made = attempt("JobStatus(value)", JobStatus, value)
    if isinstance(made, Outcome):
        assert made.value in JobStatus
    else:
        assert isinstance(made, ValueError), made
    found = attempt("JobStatus[name]", JobStatus.__getitem__, value)
    if isinstance(found, Outcome):
        assert found.value.name == value
    else:
        assert isinstance(found, KeyError | TypeError), found


# ------------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def local() -> Iterator[LocalBackend]:
    with LocalBackend(2) as backend:
        both = threading.Barrier(2)
        for job in [backend.run(both.wait, HANG) for _ in range(2)]:
            job.result(HANG)  # both worker threads exist before any test counts threads
        yield backend


@PROPERTY
@given(
    max_workers=mixed(st.one_of(st.none(), small_ints)),
    kind=mixed(st.sampled_from(["thread", "process"])),
    name=mixed(st.one_of(st.none(), st.text(max_size=10))),
    mp_context=mixed(st.sampled_from([None, "spawn", "fork", "forkserver"])),
)
def test_local_backend_constructor(max_workers: Any, kind: Any, name: Any, mp_context: Any) -> None:
    made = attempt(
        "LocalBackend(max_workers, kind, name, mp_context)",
        LocalBackend,
        max_workers,
        kind,
        name=name,
        mp_context=mp_context,
    )
    if refused(made, "max_workers", "kind", "name", "mp_context"):
        return
    backend = made.value
    try:
        if backend.kind == "thread":
            assert backend.run(abs, -3).result(HANG) == 3
    finally:
        assert attempt("LocalBackend.close", backend.close).value == []
    assert backend.closed


@PROPERTY
@given(fn=mixed(callables), args=st.lists(anything, max_size=3))
def test_local_run(local: LocalBackend, fn: Any, args: list[Any]) -> None:
    made = attempt("LocalBackend.run(fn, *args)", local.run, fn, *args)
    if refused(made, "fn"):
        return
    job = made.value
    job.wait_for_final_state(HANG)
    assert job.state in (JobStatus.DONE, JobStatus.ERROR)


@PROPERTY
@given(
    fn=mixed(callables),
    iterables=st.lists(mixed(st.lists(anything, max_size=3)), max_size=3),
)
def test_local_map(local: LocalBackend, fn: Any, iterables: list[Any]) -> None:
    # a valid iterable runs one job per item: a 100,000-character string is just slow
    assume(not any(isinstance(it, str) and len(it) > 100 for it in iterables))
    made = attempt("LocalBackend.map(fn, *iterables)", local.map, fn, *iterables)
    if refused(made, "fn", "iterables"):
        return
    for job in made.value:
        job.wait_for_final_state(HANG)
        assert job.state in (JobStatus.DONE, JobStatus.ERROR)


@PROPERTY
@given(timeout=seconds, method=st.sampled_from(["result", "exception"]))
def test_local_job_result_and_exception_timeout(
    local: LocalBackend, timeout: Any, method: str
) -> None:
    job = local.run(time.sleep, 0.005)
    error = attempt(f"LocalJob.{method}(timeout)", getattr(job, method), timeout)
    if not refused(error, "timeout", also=(JobTimeoutError,)):
        assert error.value is None and job.state is JobStatus.DONE
    job.wait_for_final_state(HANG)


@PROPERTY
@given(timeout=seconds, running=st.booleans())
def test_local_close_timeout(timeout: Any, running: bool) -> None:
    backend = LocalBackend(1)
    release = threading.Event()
    job = backend.run(release.wait, HANG) if running else None
    release.set()  # the job ends at once: close() never has to give up on it
    try:
        left = attempt("LocalBackend.close(timeout)", backend.close, timeout)
        if not refused(left, "timeout"):
            assert isinstance(left.value, list)
    finally:
        backend.close()
    assert job is None or job.state is JobStatus.DONE


SIMULATED_OPTIONS = {
    "init_time": seconds,
    "queue_time": seconds,
    "validation_time": seconds,
    "run_time": seconds,
    "capacity": mixed(small_ints),
    "failure_probability": mixed(st.floats(min_value=-0.1, max_value=1.1)),
    "seed": anything,
    "time_scale": mixed(st.floats(min_value=-0.1, max_value=1e-3)),
    "poll_only": anything,
    "progress_steps": mixed(st.integers(min_value=-2, max_value=1002)),
    "name": mixed(st.text(max_size=10)),
}


@PROPERTY
@given(data=st.data())
def test_simulated_backend_options(data: st.DataObject) -> None:
    chosen = data.draw(st.sets(st.sampled_from(sorted(SIMULATED_OPTIONS)), min_size=1, max_size=3))
    options: dict[str, Any] = {"time_scale": 1e-4}
    for option in sorted(chosen):
        options[option] = data.draw(SIMULATED_OPTIONS[option], label=option)
    made = attempt("SimulatedBackend(**options)", SimulatedBackend, **options)
    if refused(made, *chosen):
        return
    backend = made.value
    try:
        job = backend.run("r", run_time=0)
        assert isinstance(repr(backend), str)
    finally:
        attempt("SimulatedBackend.close", backend.close)
    assert job.status() in JOB_FINAL_STATES  # a poll-only job learns it from a query


@PROPERTY
@given(
    result=anything,
    run_time=st.one_of(st.none(), seconds),
    fail=mixed(st.one_of(st.none(), st.booleans())),
)
def test_simulated_run(result: Any, run_time: Any, fail: Any) -> None:
    with SimulatedBackend(
        init_time=0, queue_time=0, validation_time=0, time_scale=1e-3, progress_steps=3
    ) as backend:
        made = attempt(
            "SimulatedBackend.run(result, run_time, fail)",
            backend.run,
            result,
            run_time=run_time,
            fail=fail,
        )
        if refused(made, "result", "run_time", "fail"):
            return
        job = made.value
        if run_time is None or run_time < 1:
            outcome = attempt("SimulatedJob.result", job.result, HANG)
            if fail:
                assert isinstance(outcome, JobError), outcome
            else:
                expected = result if result is not None else {"job_id": job.job_id(), "number": 1}
                assert outcome.value is expected or outcome.value == expected
    assert job.state in JOB_FINAL_STATES


@PROPERTY
@given(count=mixed(small_ints))
def test_simulated_run_many(count: Any) -> None:
    # a valid count runs that many jobs: large ones are just slow, so not tried here
    assume(not (isinstance(count, int) and count > 20))
    with SimulatedBackend(time_scale=1e-4) as backend:
        made = attempt("SimulatedBackend.run_many(count)", backend.run_many, count)
        if refused(made, "count"):
            return
        assert len(made.value) == count


@PROPERTY
@given(timeout=seconds)
def test_simulated_job_result_timeout(timeout: Any) -> None:
    with SimulatedBackend(time_scale=1e-3, run_time=1) as backend:
        job = backend.run("r")
        outcome = attempt("SimulatedJob.result(timeout)", job.result, timeout)
        if not refused(outcome, "timeout", also=(JobTimeoutError,)):
            assert outcome.value == "r"


# ------------------------------------------------------------- poller, waits, registry
@PROPERTY
@given(interval=seconds)
def test_poller_interval(interval: Any) -> None:
    before = default_poller.interval
    try:
        error = attempt(
            "default_poller.interval = ...", setattr, default_poller, "interval", interval
        )
        if refused(error, "interval"):
            assert default_poller.interval == before
        else:
            assert default_poller.interval == float(interval) > 0
        made = attempt("SharedPoller(interval)", SharedPoller, interval)
        refused(made, "interval")
    finally:
        default_poller.interval = before


@PROPERTY
@given(job=mixed(st.sampled_from(["polled", "pushed"])))
def test_poller_watch(job: Any) -> None:
    poller = SharedPoller(0.01)
    if job == "polled":
        job = PolledJob(JobStatus.RUNNING)
    elif job == "pushed":
        job = PushJob()
    made = attempt("SharedPoller.watch(job)", poller.watch, job)
    if refused(made, "job"):
        return
    unwatch = made.value
    if isinstance(job, PolledJob):
        assert wait_until(lambda: job.state is JobStatus.DONE, HANG)
    unwatch()
    assert wait_until(lambda: not poller.running, HANG)


@PROPERTY
@given(timeout=seconds, final=st.booleans())
def test_wait_async_timeout(timeout: Any, final: bool) -> None:
    job, timer = ending_job(0 if final else 0.005)
    if final:
        timer.join()
    try:
        outcome = attempt("wait_async(timeout)", asyncio.run, job.wait_async(timeout))
        if not refused(outcome, "timeout", also=(JobTimeoutError,)):
            assert outcome.value is JobStatus.DONE
    finally:
        timer.join()


@PROPERTY
@given(job=mixed(st.just("job")), subscriber=mixed(callables))
def test_registry_add_and_subscribe(job: Any, subscriber: Any) -> None:
    jobs = JobRegistry()
    made = attempt("JobRegistry.subscribe(fn)", jobs.subscribe, subscriber)
    if not refused(made, "fn"):
        made.value()
    made = attempt("registry.subscribe(fn)", registry.subscribe, subscriber)
    if not refused(made, "fn"):
        made.value()
    if job == "job":
        job = PlainJob(FakeBackend(), "j")
    made = attempt("JobRegistry.add(job)", jobs.add, job)
    if not refused(made, "job"):
        assert jobs.jobs() == [job]


# ------------------------------------------------------------------- job_monitor
@PROPERTY
@given(
    interval=st.one_of(st.none(), seconds),
    quiet=mixed(st.booleans()),
    output=mixed(st.sampled_from([None, "stream"])),
    line_discipline=mixed(st.sampled_from(["\r", "\n", ""])),
)
def test_job_monitor(interval: Any, quiet: Any, output: Any, line_discipline: Any) -> None:
    if output == "stream":
        output = io.StringIO()
    job, timer = ending_job()
    try:
        error = attempt(
            "job_monitor(job, interval, quiet, output, line_discipline)",
            job_monitor,
            job,
            interval,
            quiet,
            output,
            line_discipline,
        )
        if not refused(error, "interval", "output", "line_discipline"):
            assert job.state is JobStatus.DONE
            if isinstance(output, io.StringIO) and not quiet:
                assert output.getvalue().endswith("\n")
    finally:
        timer.join()


@PROPERTY
@given(job=anything)
def test_job_monitor_job(job: Any) -> None:
    error = attempt("job_monitor(job)", job_monitor, job, output=io.StringIO())
    assert refused(error, "job")


# ------------------------------------------------------------------------ widgets
class Widgets:
    """Widgets made through a recording comm and a hand-driven bridge; every comm they
    open must be closed again."""

    def __init__(self) -> None:
        self.loop = ManualLoop()
        self.bridge = Bridge(self.loop, clock=self.loop.clock, interval=0.1)
        self.comms: list[RecordingComm] = []

    def create_comm(self, *args: Any, **kwargs: Any) -> RecordingComm:
        made = RecordingComm(*args, **kwargs)
        self.comms.append(made)
        return made

    def flush(self) -> None:
        self.loop.now += 1
        self.loop.run_due()

    def check_closed(self) -> None:
        self.flush()
        still_open = [c for c in self.comms if not c._closed]
        self.comms.clear()
        for left in still_open:
            left.close()
        assert not still_open, f"{len(still_open)} comms left open"


@pytest.fixture(scope="module")
def widgets() -> Iterator[Widgets]:
    get_bridge()  # the process's bridge (bridge=None) and its thread exist before counting
    made = Widgets()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(comm, "create_comm", made.create_comm)
        yield made
    assert made.bridge.watched == 0


def _bridge_arg(widgets: Widgets, value: Any) -> Any:
    return widgets.bridge if value == "bridge" else value


@PROPERTY
@given(
    job=mixed(st.just("job")),
    bridge=mixed(st.sampled_from(["bridge", None])),
    tooltip=mixed(st.one_of(st.none(), st.text(max_size=10)), trait_values),
)
def test_status_badge(widgets: Widgets, job: Any, bridge: Any, tooltip: Any) -> None:
    if job == "job":
        job = PushJob()
    bridge = _bridge_arg(widgets, bridge)
    made = attempt("StatusBadge(job, bridge, tooltip)", _badge, job, bridge, tooltip)
    if not refused(made, "job", "bridge", "tooltip", also=(traitlets.TraitError,)):
        badge = made.value
        job.submit()
        widgets.flush()  # the process's bridge (bridge=None) flushes by itself
        assert wait_until(lambda: badge.status == "QUEUED", HANG)
        badge.close()
    widgets.check_closed()


def _badge(job: Any, bridge: Any, tooltip: Any) -> Any:
    from jobwidgets.widgets import StatusBadge

    return StatusBadge(job, bridge=bridge, tooltip=tooltip)


TABLE_OPTIONS = {
    "jobs": mixed(
        st.sampled_from(["jobs", None, []]), st.one_of(anything, st.lists(anything, max_size=2))
    ),
    "registry": mixed(st.sampled_from(["registry", None])),
    "include_existing": anything,
    "title": mixed(st.sampled_from(ODD_TEXT), trait_values),
    "compact": mixed(st.booleans(), trait_values),
    "bridge": mixed(st.sampled_from(["bridge", None])),
}


@PROPERTY
@given(monitor=st.booleans(), data=st.data())
def test_job_table_and_monitor(widgets: Widgets, monitor: bool, data: st.DataObject) -> None:
    from jobwidgets.widgets import JobMonitor, JobTable

    options: dict[str, Any] = {"bridge": "bridge"}
    for option in data.draw(st.sets(st.sampled_from(sorted(TABLE_OPTIONS)), max_size=3)):
        options[option] = data.draw(TABLE_OPTIONS[option], label=option)
    if monitor:
        options.pop("compact", None)  # a monitor is always compact: it sets it itself
    jobs = [PushJob(), PushJob()]
    following = JobRegistry()
    options["bridge"] = _bridge_arg(widgets, options["bridge"])
    if options.get("jobs") == "jobs":
        options["jobs"] = jobs
    if options.get("registry") == "registry":
        options["registry"] = following
    cls = JobMonitor if monitor else JobTable
    made = attempt(f"{cls.__name__}(...)", cls, **options)
    if not refused(made, *options, also=(traitlets.TraitError,)):
        table = made.value
        jobs[0].submit()
        widgets.flush()
        assert isinstance(repr(table), str) and len(table) >= 0
        if monitor:
            table("id", JobStatus.QUEUED, jobs[1])
            assert jobs[1] in table.jobs
        table.close()
    widgets.check_closed()


@PROPERTY
@given(
    job=mixed(st.sampled_from(["shown", "other"])),
    jobs=mixed(st.sampled_from([None, "shown", "both", []])),
)
def test_table_methods(widgets: Widgets, job: Any, jobs: Any) -> None:
    from jobwidgets.widgets import JobTable

    shown_job, other = PushJob(), PushJob()
    for made in (shown_job, other):
        made.submit()
    if isinstance(job, str):
        job = {"shown": shown_job, "other": other}.get(job, job)
    if isinstance(jobs, str):
        jobs = {"shown": [shown_job], "both": iter([shown_job, other])}.get(jobs, jobs)
    table = JobTable([shown_job], bridge=widgets.bridge)
    try:
        added = attempt("JobTable.add(job)", table.add, job)
        if not refused(added, "job"):
            assert job in table.jobs
        cancelled = attempt("JobTable.cancel(jobs)", table.cancel, jobs)
        if not refused(cancelled, "jobs"):
            assert all(isinstance(ok, bool) for ok in cancelled.value.values())
        removed = attempt("JobTable.remove(job)", table.remove, job)
        assert isinstance(removed, Outcome), removed  # removing what isn't shown does nothing
        widgets.flush()
    finally:
        table.close()
    widgets.check_closed()


CONTENT = st.one_of(
    json_like,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["sync", "cancel", "cancel_all", "clear_finished", "other"])},
        optional={"keys": st.one_of(json_like, st.lists(st.one_of(json_like, small_ints)))},
    ),
)


@PROPERTY
@given(contents=st.lists(CONTENT, min_size=1, max_size=3))
def test_table_messages_from_the_front_end(widgets: Widgets, contents: list[Any]) -> None:
    from jobwidgets.widgets import JobTable

    jobs = [PushJob(), PushJob()]
    for job in jobs:
        job.submit()
    table = JobTable(jobs, bridge=widgets.bridge)
    try:
        widgets.flush()
        with no_logged_exceptions():
            for content in contents:
                what = "JobTable message (front end)"
                error = attempt(what, table.comm.receive, content)
                assert isinstance(error, Outcome), error
            widgets.flush()
        sent = table.comm.custom()
        json.dumps(sent)  # every answer is JSON
        table.comm.receive({"type": "sync"})  # the table still answers
        widgets.flush()
        assert table.comm.custom()[-1]["type"] == "reset"
    finally:
        table.close()
    widgets.check_closed()


@PROPERTY
@given(data=st.one_of(json_like, CONTENT))
def test_panel_messages_from_the_front_end(widgets: Widgets, data: Any) -> None:
    from jobwidgets import panel

    channel = RecordingComm(target_name="jobwidgets.panel")
    followed = JobRegistry()
    feed_ = panel.connect(channel, followed, widgets.bridge)
    try:
        with no_logged_exceptions():
            error = attempt(
                "panel message (front end)", channel.handle_msg, {"content": {"data": data}}
            )
            assert isinstance(error, Outcome), error
            widgets.flush()
        json.dumps([m["data"] for m in channel.sent])
    finally:
        feed_.close()
        channel.close()
    widgets.check_closed()


@PROPERTY
@given(
    registry_=mixed(st.sampled_from([None, "registry"])),
    bridge=mixed(st.sampled_from(["bridge", None])),
)
def test_panel_connect(widgets: Widgets, registry_: Any, bridge: Any) -> None:
    from jobwidgets import panel

    if registry_ == "registry":
        registry_ = JobRegistry()
    channel = RecordingComm(target_name="jobwidgets.panel")
    made = attempt(
        "panel.connect(comm, registry, bridge)",
        panel.connect,
        channel,
        registry_,
        _bridge_arg(widgets, bridge),
    )
    if not refused(made, "registry", "bridge"):
        made.value.close()
    channel.close()
    assert panel.open_feeds() == []
    widgets.check_closed()


@PROPERTY
@given(
    feed_id=mixed(st.one_of(st.just("open"), st.text(max_size=40))),
    keys=st.one_of(anything, json_like, st.lists(st.one_of(json_like, small_ints))),
)
def test_subshell_route(widgets: Widgets, feed_id: Any, keys: Any) -> None:
    from jobwidgets.widgets import JobTable, _route

    job = PushJob()
    job.submit()
    table = JobTable([job], bridge=widgets.bridge)
    try:
        if feed_id == "open":
            feed_id = table.feed_id
        for route in (feed, _route):
            with no_logged_exceptions():
                answer = attempt("feed.cancel(feed_id, keys)", route.cancel, feed_id, keys)
                if not refused(answer, "feed_id", "keys"):
                    assert isinstance(json.loads(answer.value), list)
                answer = attempt("feed.sync(feed_id)", route.sync, feed_id)
                if not refused(answer, "feed_id"):
                    assert isinstance(json.loads(answer.value), dict)
        widgets.flush()
    finally:
        table.close()
    widgets.check_closed()


# ------------------------------------------------------- Dask and Qiskit: validation only
@PROPERTY
@given(address=anything, client=st.one_of(st.none(), anything), name=anything)
def test_dask_backend_refuses_bad_arguments_before_connecting(
    address: Any, client: Any, name: Any
) -> None:
    from jobwidgets.dask import DaskBackend

    # only combinations that are refused before any cluster is made or reached
    assume(not (isinstance(name, str) and name) and address is not None)
    made = attempt(
        "DaskBackend(address, client, name)", DaskBackend, address, client=client, name=name
    )
    assert refused(made, "address", "client", "name")


@PROPERTY
@given(
    backend=mixed(st.just("backend")),
    isolate=mixed(st.booleans()),
    max_workers=mixed(small_ints),
    name=mixed(st.one_of(st.none(), st.text(max_size=10))),
    circuits=st.one_of(anything, st.lists(anything, max_size=2)),
)
def test_qiskit_backend_validation(
    backend: Any, isolate: Any, max_workers: Any, name: Any, circuits: Any
) -> None:
    from jobwidgets.qiskit import QiskitBackend, to_status, watch

    if backend == "backend":
        backend = FakeQiskitBackend()
    made = attempt(
        "QiskitBackend(backend, isolate, max_workers, name)",
        QiskitBackend,
        backend,
        isolate=isolate,
        max_workers=max_workers,
        name=name,
    )
    if not refused(made, "backend", "isolate", "max_workers", "name"):
        qiskit = made.value
        try:
            ran = attempt("QiskitBackend.run(circuits)", qiskit.run, circuits)
            assert refused(ran, "circuits")  # no value of these is a circuit
        finally:
            qiskit.close()
    assert refused(attempt("watch(job)", watch, circuits), "job")
    status = attempt("to_status(value)", to_status, circuits)
    if not refused(status, "value"):
        assert status.value in JobStatus


class FakeQiskitBackend:
    """Enough of a Qiskit backend for the constructor: a ``run``, never called."""

    def run(self, *_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("no circuit should reach the backend")


# ------------------------------------------------------- what the properties found
def _with_local(use: Callable[[LocalBackend], Any]) -> Any:
    backend = LocalBackend(1)
    try:
        return use(backend)
    finally:
        backend.close()


def _with_simulated(use: Callable[[SimulatedBackend], Any]) -> Any:
    with SimulatedBackend(time_scale=1e-4) as backend:
        return use(backend)


def _run_one(backend: LocalBackend) -> Any:
    try:
        return backend.run(abs, -1).result(HANG)
    finally:
        backend.close()


def _qiskit(**options: Any) -> Any:
    from jobwidgets.qiskit import QiskitBackend

    return QiskitBackend(FakeQiskitBackend(), **options)


def _qiskit_run(circuits: Any) -> Any:
    backend = _qiskit()
    try:
        return backend.run(circuits)
    finally:
        backend.close()


def _to_status(value: Any) -> Any:
    from jobwidgets.qiskit import to_status

    return to_status(value)


def _observe_twice(names: list[str]) -> None:
    job = PushJob()
    job.observe(_nothing, names)
    job.unobserve(_nothing, names)  # traitlets removed the handler once per name given


FOUND = [
    pytest.param(lambda: PlainJob(FakeBackend(), _huge(1)), "job_id", id="job_id-huge"),
    pytest.param(
        lambda: PolledJob().wait_for_final_state(1, 0, _huge(1)), "callback", id="callback-huge"
    ),
    pytest.param(lambda: PushJob().set_progress("half"), "fraction", id="set_progress"),
    pytest.param(lambda: PushJob().add_done_callback(None), "fn", id="add_done_callback"),
    pytest.param(lambda: PushJob().observe(None), "handler", id="observe-handler"),
    pytest.param(lambda: PushJob().observe(_nothing, 5), "names", id="observe-names-int"),
    pytest.param(lambda: PushJob().observe(_nothing, b"state"), "names", id="observe-names-bytes"),
    pytest.param(lambda: PushJob().observe(_nothing, "state", 5), "type", id="observe-type"),
    pytest.param(lambda: LocalBackend(-_huge(1)), "max_workers", id="max_workers-huge"),
    pytest.param(lambda: LocalBackend(1, "process", mp_context="x"), "mp_context", id="mp_context"),
    pytest.param(
        lambda: LocalBackend(1, "process", mp_context=[]), "mp_context", id="mp_context-list"
    ),
    pytest.param(lambda: _run_one(LocalBackend(1, name=[_huge(1)])), "name", id="local-name"),
    pytest.param(lambda: _with_local(lambda b: b.run(None)), "fn", id="run-fn"),
    pytest.param(lambda: _with_local(lambda b: b.map(abs, None)), "iterables", id="map-iterables"),
    pytest.param(
        lambda: SimulatedBackend(failure_probability=_huge(1)),
        "failure_probability",
        id="failure_probability-huge",
    ),
    pytest.param(lambda: SimulatedBackend(capacity=-_huge(1)), "capacity", id="capacity-huge"),
    pytest.param(lambda: SimulatedBackend(name=[_huge(1)]).run(), "name", id="simulated-name"),
    pytest.param(lambda: SimulatedBackend(seed="\ud800"), "seed", id="seed-surrogate"),
    pytest.param(lambda: _with_simulated(lambda b: b.run_many(None)), "count", id="run_many-none"),
    pytest.param(
        lambda: _with_simulated(lambda b: b.run_many(-1)), "count", id="run_many-negative"
    ),
    pytest.param(lambda: SharedPoller().watch(None), "job", id="poller-watch"),
    pytest.param(lambda: JobRegistry().subscribe(None), "fn", id="subscribe"),
    pytest.param(lambda: JobRegistry().add(None), "job", id="registry-add"),
    pytest.param(
        lambda: job_monitor(PolledJob(JobStatus.DONE), output=5), "output", id="job_monitor-output"
    ),
    pytest.param(lambda: _qiskit(name=_huge(1)), "name", id="qiskit-name"),
    pytest.param(lambda: _qiskit_run(None), "circuits", id="qiskit-run"),
    pytest.param(lambda: _to_status(None), "value", id="to_status"),
]


@pytest.mark.parametrize(("call", "name"), FOUND)
def test_what_the_properties_found_is_refused_by_name(call: Callable[[], Any], name: str) -> None:
    error = attempt("found", call)
    assert refused(error, name), f"accepted: {show(error.value)}"


def _table_of_one() -> Any:
    from jobwidgets.widgets import JobTable

    loop = ManualLoop()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(comm, "create_comm", RecordingComm)
        return JobTable([PushJob()], bridge=Bridge(loop, clock=loop.clock))


def test_what_the_properties_found_works() -> None:
    outcome = attempt("found: unobserve", _observe_twice, ["state", "state"])
    assert isinstance(outcome, Outcome), outcome
    with SimulatedBackend(capacity=_huge(1)) as backend:
        assert "an int of 16610 bits" in repr(backend)
    table = _table_of_one()
    try:
        (outcome,) = json.loads(feed.cancel(table.feed_id, [_huge(1)]))
        assert outcome == {
            "key": "an int of 16610 bits",
            "job_id": None,
            "ok": False,
            "message": "no such job",
        }
    finally:
        table.close()
    for route in (feed.cancel, feed.sync):
        answer = json.loads(route([], ["1"]) if route is feed.cancel else route([]))
        answer = answer[0] if isinstance(answer, list) else answer
        assert answer["ok"] is False and "feed_id must be a str" in answer["message"]


def test_a_table_cancels_the_jobs_given_as_a_generator(widgets: Widgets) -> None:
    from jobwidgets.widgets import JobTable

    jobs = [PushJob(), PushJob()]
    for job in jobs:
        job.submit()
    table = JobTable(jobs, bridge=widgets.bridge)
    try:
        assert refused(attempt("found: cancel(job)", table.cancel, jobs[0]), "jobs")
        assert table.cancel(job for job in jobs) == {job.job_id(): True for job in jobs}
    finally:
        table.close()
    widgets.check_closed()


@pytest.mark.parametrize("widget", ["badge", "table", "panel"])
def test_what_the_properties_found_in_widgets(widgets: Widgets, widget: str) -> None:
    from jobwidgets import panel
    from jobwidgets.widgets import JobTable, StatusBadge

    channel = RecordingComm(target_name="jobwidgets.panel")
    calls = {
        "badge": lambda: StatusBadge(PushJob(), bridge=5),
        "table": lambda: JobTable(bridge=True),
        "panel": lambda: panel.connect(channel, JobRegistry(), 5),
    }
    assert refused(attempt(f"found: {widget}", calls[widget]), "bridge")
    channel.close()
    widgets.check_closed()
    assert panel.open_feeds() == []
