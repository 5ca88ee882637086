"""LocalBackend: thread and process jobs, cancellation, errors, close."""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import _work
import jobwidgets
from _jobs import Recorder, wait_until
from jobwidgets import BaseJob, JobError, JobStatus, LocalBackend, LocalJob, registry

Make = Callable[..., LocalBackend]


def _observe_from_birth(backend: LocalBackend, fn: Callable[..., Any], *args: Any) -> Recorder:
    """Run ``fn`` with an observer attached before the job is submitted."""
    seen = Recorder()

    def attach(job: BaseJob) -> None:
        job.observe(seen, "state")

    unsubscribe = registry.subscribe(attach)
    try:
        backend.run(fn, *args)
    finally:
        unsubscribe()
    return seen


# ------------------------------------------------------------------------- threads
def test_thread_job_pushes_queued_running_done(local_backend: Make) -> None:
    backend = local_backend(max_workers=1)
    release = threading.Event()
    blocker = backend.run(release.wait, 10)
    job = backend.run(lambda: "ok")
    assert job.state is JobStatus.QUEUED
    seen = Recorder()
    job.observe(seen, "state")
    release.set()
    assert seen.wait_final()
    assert seen.values == [JobStatus.RUNNING, JobStatus.DONE]
    assert job.result() == "ok"
    assert blocker.result() is True
    assert LocalJob.pushes_status is True


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_every_transition_is_pushed(local_backend: Make, kind: str) -> None:
    backend = local_backend(max_workers=1, kind=kind)
    seen = _observe_from_birth(backend, _work.add, 1, 2)
    assert seen.wait_final(30)
    assert seen.values == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]


def test_cancelling_a_queued_thread_job(local_backend: Make) -> None:
    backend = local_backend(max_workers=1)
    release = threading.Event()
    ran: list[int] = []
    blocker = backend.run(release.wait, 10)
    queued = backend.run(ran.append, 1)
    try:
        assert queued.cancel() is True
        assert queued.cancel() is True  # cancelled is cancelled
        assert queued.status() is JobStatus.CANCELLED
        assert queued.cancelled()
    finally:
        release.set()
    assert blocker.result(timeout=10) is True
    backend.run(lambda: None).result(timeout=10)
    assert ran == []


def test_cancelling_a_running_thread_job_is_cooperative(local_backend: Make) -> None:
    started = threading.Event()
    loops: list[int] = []

    def cooperative() -> str:
        started.set()
        for i in range(1000):
            jobwidgets.current_job().raise_if_cancelled()  # type: ignore[union-attr]
            loops.append(i)
            time.sleep(0.01)
        return "ran to the end"

    job = local_backend(max_workers=1).run(cooperative)
    assert started.wait(10)
    assert job.cancel_requested is False
    assert job.cancel() is False
    assert job.cancel_requested is True
    job.wait_for_final_state(timeout=10)
    assert job.status() is JobStatus.CANCELLED
    assert job.error is None
    assert len(loops) < 1000
    with pytest.raises(JobError, match="cancelled"):
        job.result()


def test_running_thread_job_that_ignores_cancel_finishes(local_backend: Make) -> None:
    release = threading.Event()
    started = threading.Event()

    def stubborn() -> int:
        started.set()
        release.wait(10)
        return 7

    job = local_backend(max_workers=1).run(stubborn)
    assert started.wait(10)
    assert job.cancel() is False
    release.set()
    assert job.result(timeout=10) == 7
    assert job.cancel() is False  # finished jobs can't be cancelled


def test_current_job_is_the_job_inside_and_none_outside(local_backend: Make) -> None:
    assert jobwidgets.current_job() is None
    job = local_backend(max_workers=1).run(jobwidgets.current_job)
    assert job.result(timeout=10) is job
    assert jobwidgets.current_job() is None


def test_progress_reported_from_inside_a_job(local_backend: Make) -> None:
    seen_progress: list[float | None] = []

    def work() -> None:
        current = jobwidgets.current_job()
        assert current is not None
        seen_progress.append(current.progress)
        current.set_progress(0.5)
        seen_progress.append(current.progress)

    job = local_backend(max_workers=1).run(work)
    job.result(timeout=10)
    assert seen_progress == [None, 0.5]
    assert job.progress == 1.0


def test_error_keeps_message_and_traceback(local_backend: Make) -> None:
    def exploding_function() -> None:
        raise ValueError("bad <input>")

    job = local_backend(max_workers=1).run(exploding_function)
    job.wait_for_final_state(timeout=10)
    assert job.status() is JobStatus.ERROR
    assert job.error == "ValueError: bad <input>"
    assert job.error_traceback is not None
    assert "Traceback" in job.error_traceback
    assert "exploding_function" in job.error_traceback
    assert isinstance(job.exception(), ValueError)


def test_close_cancels_queued_jobs_and_keeps_finished_results(local_backend: Make) -> None:
    backend = local_backend(max_workers=1)
    finished = backend.run(lambda: "kept")
    assert finished.result(timeout=10) == "kept"
    release = threading.Event()
    started = threading.Event()

    def blocking() -> str:
        started.set()
        release.wait(10)
        return "ran"

    running = backend.run(blocking)
    queued = [backend.run(lambda: "never") for _ in range(3)]
    assert started.wait(10)
    closer = threading.Thread(target=backend.close)
    closer.start()
    # the queued jobs are cancelled while the running one still holds close() up
    assert wait_until(lambda: all(job.state is JobStatus.CANCELLED for job in queued))
    assert closer.is_alive()
    assert running.state is JobStatus.RUNNING
    release.set()
    closer.join(10)
    assert not closer.is_alive()
    assert backend.closed
    assert running.result(timeout=10) == "ran"
    assert finished.result() == "kept"
    assert all(job.status() is JobStatus.CANCELLED for job in queued)
    backend.close()  # a second close does nothing


def test_run_after_close_raises(local_backend: Make) -> None:
    backend = local_backend(max_workers=1)
    backend.close()
    with pytest.raises(JobError, match="closed"):
        backend.run(lambda: None)


def test_context_manager_closes(local_backend: Make) -> None:
    with local_backend(max_workers=2) as backend:
        jobs = backend.map(lambda x: x * x, range(5))
        assert [job.result(timeout=10) for job in jobs] == [0, 1, 4, 9, 16]
    assert backend.closed
    assert [job.result() for job in jobs] == [0, 1, 4, 9, 16]
    assert "closed" in repr(backend)


def test_job_ids_and_names(local_backend: Make) -> None:
    backend = local_backend(max_workers=1, name="mine")
    first, second = backend.run(lambda: 1), backend.run(lambda: 2)
    assert first.job_id() != second.job_id()
    assert first.job_id().startswith("mine")
    assert first.backend() is backend
    assert "mine" in repr(first)
    assert local_backend(max_workers=1).name == "local-thread"


def test_a_dropped_finished_job_is_collected(local_backend: Make) -> None:
    backend = local_backend(max_workers=1)
    job = backend.run(lambda: [1] * 10)
    job.result(timeout=10)
    ref = weakref.ref(job)
    del job
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"kind": "fiber"}, ValueError, "kind must be 'thread' or 'process'"),
        ({"max_workers": 0}, ValueError, "max_workers must be at least 1"),
        ({"max_workers": -2}, ValueError, "max_workers must be at least 1"),
        ({"max_workers": "2"}, TypeError, "max_workers must be a positive int"),
        ({"max_workers": 1.5}, TypeError, "max_workers must be a positive int"),
        ({"max_workers": True}, TypeError, "max_workers must be a positive int"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        LocalBackend(**kwargs)


def test_run_rejects_non_callables(local_backend: Make) -> None:
    with pytest.raises(TypeError, match="callable"):
        local_backend(max_workers=1).run(42)


# ----------------------------------------------------------------------- processes
def test_process_job_returns_its_value_from_another_process(local_backend: Make) -> None:
    import os

    backend = local_backend(max_workers=1, kind="process")
    assert backend.run(_work.pid).result(timeout=30) != os.getpid()
    assert backend.run(_work.add, 2, 3).result(timeout=30) == 5


def test_process_job_error_chains_the_original_exception(local_backend: Make) -> None:
    job = local_backend(max_workers=1, kind="process").run(_work.fail, "worker says no")
    with pytest.raises(JobError, match="worker says no") as info:
        job.result(timeout=30)
    assert isinstance(info.value.__cause__, ValueError)
    assert job.error_traceback is not None
    assert "worker says no" in job.error_traceback


def test_cancelling_a_running_process_job_really_stops_it(
    local_backend: Make, tmp_path: Path
) -> None:
    backend = local_backend(max_workers=1, kind="process")
    path = tmp_path / "beats.txt"
    job = backend.run(_work.touch_forever, str(path))
    queued = backend.run(_work.add, 20, 22)
    assert wait_until(lambda: path.exists() and path.read_text().count("\n") >= 2, 30)
    assert job.state is JobStatus.RUNNING
    assert job.cancel() is True
    job.wait_for_final_state(timeout=10)
    assert job.status() is JobStatus.CANCELLED
    size = path.stat().st_size
    time.sleep(0.3)  # six beats of the worker, had it survived
    assert path.stat().st_size == size
    assert queued.result(timeout=30) == 42  # a new worker replaced the killed one
    assert backend.run(_work.add, 1, 1).result(timeout=30) == 2


def test_cancelling_a_queued_process_job(local_backend: Make, tmp_path: Path) -> None:
    backend = local_backend(max_workers=1, kind="process")
    path = tmp_path / "beats.txt"
    running = backend.run(_work.touch_forever, str(path))
    queued = backend.run(_work.touch_forever, str(tmp_path / "never.txt"))
    assert queued.cancel() is True
    assert queued.status() is JobStatus.CANCELLED
    assert running.cancel() is True
    running.wait_for_final_state(timeout=10)
    assert not (tmp_path / "never.txt").exists()


def test_a_dying_worker_gives_error_with_its_exit_code(local_backend: Make) -> None:
    backend = local_backend(max_workers=1, kind="process")
    job = backend.run(_work.exit_with, 3)
    job.wait_for_final_state(timeout=30)
    assert job.status() is JobStatus.ERROR
    assert job.error is not None
    assert "exit code 3" in job.error
    assert job.job_id() in job.error
    with pytest.raises(JobError, match="exit code 3"):
        job.result()
    assert backend.run(_work.add, 1, 2).result(timeout=30) == 3


def test_process_backend_close_cancels_queued_jobs(local_backend: Make, tmp_path: Path) -> None:
    backend = local_backend(max_workers=1, kind="process")
    first = backend.run(_work.add, 1, 1)
    assert first.result(timeout=30) == 2
    path = tmp_path / "a.txt"
    blocker = backend.run(_work.touch_forever, str(path), 0.05, 0.5)
    queued = backend.run(_work.add, 2, 2)
    assert wait_until(lambda: path.exists(), 30)
    backend.close()  # waits for the running job
    assert blocker.status() is JobStatus.DONE
    assert queued.status() is JobStatus.CANCELLED
    assert first.result() == 2


def test_cancels_racing_the_threads_that_take_jobs_tell_the_truth(local_backend: Make) -> None:
    """A thread takes a queued job and cancel() withdraws it with one atomic step each:
    every job runs or is cancelled, never both, and cancel()'s answer says which."""
    backend = local_backend(max_workers=4)
    ran: list[int] = []
    jobs = backend.map(ran.append, range(2000))
    answers = [job.cancel() for job in jobs[::2]]
    for job in jobs:
        job.wait_for_final_state(timeout=30)
    for job, answer in zip(jobs[::2], answers, strict=True):
        assert answer is (job.status() is JobStatus.CANCELLED)
    cancelled = {index for index, job in enumerate(jobs) if job.cancelled()}
    assert sorted(ran) == sorted(set(range(2000)) - cancelled)
    assert all(job.done() for index, job in enumerate(jobs) if index not in cancelled)
    backend.close()
    assert not backend._unfinished


def test_idle_threads_start_again_for_new_jobs(local_backend: Make) -> None:
    backend = local_backend(max_workers=2)
    assert backend.run(lambda: 1).result(timeout=10) == 1
    time.sleep(0.05)  # every loop found the queue empty and gave its thread back
    assert [job.result(timeout=10) for job in backend.map(abs, [-1, -2, -3])] == [1, 2, 3]


# ------------------------------------------------------------------ close(timeout=)
def test_close_with_a_timeout_returns_the_thread_jobs_left_running(
    local_backend: Make, caplog: pytest.LogCaptureFixture
) -> None:
    backend = local_backend(max_workers=1)
    release = threading.Event()
    try:
        stuck = backend.run(release.wait)
        queued = backend.run(_work.add, 1, 1)
        assert wait_until(lambda: stuck.state is JobStatus.RUNNING, 10)
        start = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="jobwidgets"):
            left = backend.close(timeout=0.2)
        assert 0.2 <= time.monotonic() - start < 2
        assert left == [stuck]
        assert stuck.state is JobStatus.RUNNING
        assert queued.status() is JobStatus.CANCELLED
        assert stuck.job_id() in caplog.text
    finally:
        release.set()
    assert stuck.result(timeout=10) is True
    assert backend.close(timeout=1) == []


def test_close_with_a_timeout_returns_the_process_jobs_left_running(
    local_backend: Make,
) -> None:
    backend = local_backend(max_workers=1, kind="process")
    sleeper = backend.run(_work.sleep, 1000)
    assert wait_until(lambda: sleeper.state is JobStatus.RUNNING, 30)
    start = time.monotonic()
    try:
        assert backend.close(timeout=0.2) == [sleeper]
        assert time.monotonic() - start < 2
        assert sleeper.state is JobStatus.RUNNING
    finally:
        assert sleeper.cancel() is True  # what a caller does with what was left running
    sleeper.wait_for_final_state(timeout=10)
    assert sleeper.status() is JobStatus.CANCELLED
    assert backend.close(timeout=5) == []


def test_close_with_a_timeout_returns_at_once_when_nothing_runs(local_backend: Make) -> None:
    backend = local_backend(max_workers=1)
    assert backend.run(_work.add, 2, 3).result(timeout=10) == 5
    start = time.monotonic()
    assert backend.close(timeout=30) == []
    assert time.monotonic() - start < 2


@pytest.mark.parametrize(
    ("timeout", "error"),
    [(-1, ValueError), (float("nan"), ValueError), ("1", TypeError), (True, TypeError)],
)
def test_close_rejects_a_bad_timeout_and_stays_open(timeout: object, error: type) -> None:
    backend = LocalBackend(max_workers=1)
    with pytest.raises(error, match="timeout must be"):
        backend.close(timeout=timeout)  # type: ignore[arg-type]
    assert not backend.closed
    assert backend.close(timeout=float("inf")) == []
