"""Faults and bad input on the Dask backend, with real clusters: each fault is injected
for real (a dead port, an HTTP server, a killed scheduler or worker process, values and
exceptions that don't travel) and must end in a clear error, never in a hang.

Task functions live at the top of this module: the worker processes import them from
here. The cancel races run a short form in ``make test``; set
``JOBWIDGETS_STRESS_TRIALS`` (for example ``JOBWIDGETS_STRESS_TRIALS=50``) for the long
form, and ``-s`` to see the figures.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pytest

from _jobs import wait_for_state, wait_until
from jobwidgets import BaseJob, JobError, JobStatus, registry
from jobwidgets.dask import DaskBackend
from test_dask import double, external_cluster, mark, wait_for_file
from test_reliability_observers import HOLD, _stall_seconds

TRIALS = int(os.environ.get("JOBWIDGETS_STRESS_TRIALS", "2"))
QUICK = 1.5  # "at once", with room for a loaded machine


# ------------------------------------------------------------ run on the workers
class TwoArgumentError(Exception):
    """An exception whose ``__init__`` takes two arguments but passes one on."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"code {code}: {detail}")
        self.code = code


def raise_two_arguments() -> None:
    raise TwoArgumentError(7, "two arguments")


def raise_from_a_worker_only_module(folder: str) -> None:
    """Raise an exception whose class exists only on the worker."""
    (Path(folder) / "worker_only_errors.py").write_text(
        "class WorkerOnlyError(Exception):\n    pass\n"
    )
    sys.path.insert(0, folder)
    import worker_only_errors  # type: ignore[import-not-found]

    raise worker_only_errors.WorkerOnlyError("defined on the worker only")


def _refuse_to_load(text: str) -> Any:
    raise RuntimeError(f"this value refuses to load: {text}")


class LoadsNowhere:
    """A value that pickles but fails to unpickle."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _refuse_to_load, ("by design",)


def return_a_value_that_wont_load() -> LoadsNowhere:
    return LoadsNowhere()


class ShyError(Exception):
    """An exception that can be shown only in the process that raised it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.pid = os.getpid()

    def __str__(self) -> str:
        if os.getpid() != self.pid:
            raise RuntimeError("ShyError can't be shown outside its own process")
        return str(self.args[0])


def raise_shy() -> None:
    raise ShyError("raised on a worker")


def kill_my_worker_at_once(attempts_file: str) -> None:
    """Note the attempt, then kill this worker process before it can say anything."""
    with Path(attempts_file).open("a") as notes:
        notes.write("x")
    os.kill(os.getpid(), signal.SIGKILL)


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


# -------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def backend() -> Iterator[DaskBackend]:
    """A process-based LocalCluster with 2 one-thread workers; a task is given up after
    its second lost worker (``allowed-failures`` 1)."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        made = DaskBackend(n_workers=2, threads_per_worker=1)
    with made:
        made.run(double, 1).result(timeout=60)
        yield made


def _threads() -> set[int]:
    return {thread.ident for thread in threading.enumerate() if thread.ident is not None}


def _no_thread_left(before: set[int]) -> bool:
    return wait_until(lambda: _threads() <= before, timeout=5)


@pytest.fixture
def answering_http_server() -> Iterator[str]:
    """A TCP server that answers anything with an HTTP 400, at once, as web servers do."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    server.close()


# ------------------------------------------------------------- bad addresses
def test_a_dead_address_fails_within_the_default_connect_timeout() -> None:
    before = _threads()
    start = time.monotonic()
    with pytest.raises(OSError, match=r"can't reach a Dask scheduler at tcp://127\.0\.0\.1:1"):
        DaskBackend(address="tcp://127.0.0.1:1")
    assert time.monotonic() - start < 5 + QUICK  # distributed alone: 30 s
    assert _no_thread_left(before)


def test_a_dashboard_address_fails_within_the_connect_timeout(backend: DaskBackend) -> None:
    """A real dashboard accepts the connection and never answers Dask's handshake."""
    port = backend.dashboard_link.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
    before = _threads()
    start = time.monotonic()
    with pytest.raises(OSError, match=r"did not answer as a Dask scheduler within 1\.0 s"):
        DaskBackend(address=f"tcp://127.0.0.1:{port}", connect_timeout=1)
    assert time.monotonic() - start < 1 + QUICK  # distributed alone: forever
    assert _no_thread_left(before)


def test_an_http_answer_says_it_is_not_a_scheduler(answering_http_server: str) -> None:
    before = _threads()
    with pytest.raises(OSError, match="answered, but not as a Dask scheduler") as raised:
        DaskBackend(address=answering_http_server, connect_timeout=2)
    assert "EiB" not in str(raised.value)  # distributed alone: MemoryError, 3.07 EiB
    assert _no_thread_left(before)


def test_connect_timeout_is_checked() -> None:
    with pytest.raises(ValueError, match="connect_timeout must be a number of seconds > 0"):
        DaskBackend(address="tcp://127.0.0.1:1", connect_timeout=0)
    with pytest.raises(TypeError, match="connect_timeout applies only with address="):
        DaskBackend(connect_timeout=3)


# ------------------------------------------- values and exceptions that don't travel
def test_an_exception_whose_init_takes_two_arguments_fails_the_job(
    backend: DaskBackend,
) -> None:
    job = backend.run(raise_two_arguments)
    job.wait_for_final_state(timeout=30)
    assert job.status() is JobStatus.ERROR
    assert job.error == "TwoArgumentError: code 7: two arguments"
    with pytest.raises(JobError, match="code 7: two arguments") as raised:
        job.result(timeout=5)
    assert isinstance(raised.value.__cause__, TwoArgumentError)


def test_an_exception_that_cannot_load_here_is_described(
    backend: DaskBackend, tmp_path: Path
) -> None:
    job = backend.run(raise_from_a_worker_only_module, str(tmp_path))
    job.wait_for_final_state(timeout=30)
    assert job.status() is JobStatus.ERROR
    assert job.error is not None
    assert job.error.startswith(
        "RuntimeError: the task raised an exception that can't be loaded in this process "
        "(ModuleNotFoundError: No module named 'worker_only_errors')"
    ), job.error  # distributed alone: "Exception: b'\\x80\\x05\\x95..." (the pickle)
    with pytest.raises(JobError, match="can't be loaded in this process"):
        job.result(timeout=5)


def test_a_value_that_cannot_load_here_raises_a_job_error(backend: DaskBackend) -> None:
    job = backend.run(return_a_value_that_wont_load)
    job.wait_for_final_state(timeout=30)
    assert job.status() is JobStatus.DONE  # the task itself returned
    with pytest.raises(JobError, match="ended DONE, but its value can't be fetched") as raised:
        job.result(timeout=10)
    assert "this value refuses to load: by design" in str(raised.value)
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_a_failing_report_fails_its_job_and_the_reporter_goes_on(
    backend: DaskBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """The client can't even show this exception: the report of its end fails."""
    with caplog.at_level(logging.ERROR, logger="jobwidgets"):
        job = backend.run(raise_shy)
        job.wait_for_final_state(timeout=30)  # before: RUNNING for ever
    assert job.status() is JobStatus.ERROR
    assert job.error is not None
    assert job.error.startswith("jobwidgets could not report this task: RuntimeError")
    assert any("reporting on Dask job" in record.getMessage() for record in caplog.records)
    assert backend.run(double, 21).result(timeout=30) == 42  # the reporter serves on


# --------------------------------------------------------- a lost scheduler
def test_losing_the_scheduler_fails_its_jobs_and_refuses_new_ones(tmp_path: Path) -> None:
    release = tmp_path / "release"
    with external_cluster(tmp_path) as (address, scheduler):
        backend = DaskBackend(address=address, connect_timeout=2)
        try:
            backend.client.wait_for_workers(1, timeout=60)
            running = backend.run(wait_for_file, str(release), 60)
            queued = backend.run(double, 3)  # the one worker thread is busy
            assert wait_for_state(running, JobStatus.RUNNING, timeout=30)
            assert queued.status() is JobStatus.QUEUED
            scheduler.kill()
            scheduler.wait(10)
            killed = time.monotonic()
            for job in (running, queued):
                job.wait_for_final_state(timeout=10)
                assert job.status() is JobStatus.ERROR  # before: CANCELLED
                assert job.error is not None
                assert f"the Dask scheduler at {address} was lost" in job.error
                with pytest.raises(JobError, match=r"scheduler .* was lost"):
                    job.result(timeout=5)
            assert time.monotonic() - killed < 5
            start = time.monotonic()
            with pytest.raises(JobError, match=f"lost its scheduler at {address}"):
                backend.run(double, 4)  # before: QUEUED for 30 s, then CANCELLED
            assert time.monotonic() - start < QUICK
        finally:
            release.touch()
            backend.close()


# ------------------------------------------------------------------- observers
def test_an_observer_waiting_for_another_job_does_not_stall_the_dask_reporter(
    backend: DaskBackend,
) -> None:
    """``first`` ends while its observer holds the test thread; ``second`` ends later,
    on the other worker, and its end must not queue behind ``first``'s on the reporter."""
    for warm in [backend.run(sleep_for, 0.2) for _ in range(2)]:
        warm.result(timeout=30)  # both workers have loaded this module: the tasks start at once
    first = backend.run(sleep_for, 0.3)
    second = backend.run(sleep_for, 0.6)
    assert _stall_seconds(first, second) < 0.6 + QUICK < HOLD
    assert second.status() is JobStatus.DONE
    assert first.status() is JobStatus.DONE


# ----------------------------------------------------------------- cancel races
def test_a_cancel_while_the_task_is_sent_means_it_never_runs(
    backend: DaskBackend, tmp_path: Path
) -> None:
    """An observer of QUEUED cancels the job before its task has reached the cluster."""
    marker = tmp_path / "marker"
    answers: list[bool] = []

    def cancel_at_once(change: Any) -> None:
        if change["new"] is JobStatus.QUEUED:
            answers.append(change["owner"].cancel())

    def attach(job: BaseJob) -> None:
        job.observe(cancel_at_once, "state")

    unsubscribe = registry.subscribe(attach)
    try:
        job = backend.run(mark, str(marker))
    finally:
        unsubscribe()
    assert answers == [True]
    assert job.status() is JobStatus.CANCELLED
    # both workers have run something since: the task would have run by now
    for _ in range(4):
        backend.run(sleep_for, 0.05).result(timeout=30)
    assert not marker.exists()  # before: the cancelled task ran


def _race(backend: DaskBackend, rng: random.Random, jobs: int) -> tuple[list[str], int]:
    """One round: ``jobs`` short tasks, a random half cancelled at random moments."""
    violations: list[str] = []
    made = [backend.run(sleep_for, rng.choice([0, 0.001, 0.005, 0.02])) for _ in range(jobs)]
    made += backend.map(double, range(jobs))
    victims = set(rng.sample(range(len(made)), len(made) // 2))
    answers: dict[int, bool] = {}
    for index in sorted(victims, key=lambda _: rng.random()):
        time.sleep(rng.choice([0, 0, 0.001, 0.003, 0.01]))
        answers[index] = made[index].cancel()
    for index, job in enumerate(made):
        try:
            job.wait_for_final_state(timeout=30)
        except JobError as exc:
            violations.append(f"job {index} never ended: {exc}")
            continue
        status = job.status()
        if index in answers and answers[index] != (status is JobStatus.CANCELLED):
            violations.append(f"cancel() said {answers[index]} but job {index} is {status.name}")
        if index not in victims:
            expected = made[index].args[0] if index < jobs else 2 * (index - jobs)
            if status is not JobStatus.DONE or job.result(timeout=10) != expected:
                violations.append(f"job {index}, never cancelled, ended {status.name}")
    cancelled = sum(job.status() is JobStatus.CANCELLED for job in made)
    return violations, cancelled


def test_cancel_tells_the_truth_and_hurts_no_other_job(backend: DaskBackend) -> None:
    rng = random.Random(11)
    violations: list[str] = []
    cancelled = 0
    jobs = 0
    start = time.monotonic()
    for _ in range(TRIALS):
        found, count = _race(backend, rng, 40)
        violations += found
        cancelled += count
        jobs += 80
    print(
        f"dask cancel races: {TRIALS} trials, {jobs} jobs, {cancelled} cancelled, "
        f"{len(violations)} violations, {time.monotonic() - start:.1f} s"
    )
    assert violations == []


# -------------------------------------------------------------- lost workers
def test_a_task_that_kills_its_worker_at_once_counts_every_attempt(
    backend: DaskBackend, tmp_path: Path
) -> None:
    """Last in this module: the cluster replaces the two killed workers meanwhile."""
    attempts = tmp_path / "attempts"
    job = backend.run(kill_my_worker_at_once, str(attempts))
    job.wait_for_final_state(timeout=60)
    assert job.status() is JobStatus.ERROR
    assert job.error is not None and job.error.startswith("KilledWorker")
    tried = len(attempts.read_text())
    assert tried == 2  # the first worker, then one retry (allowed-failures is 1)
    assert job.attempts == tried  # before: 1, the starts that were heard of
