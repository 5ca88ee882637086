"""The process pool of LocalBackend(kind="process"): faults it survives, cancel races."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import _work
from jobwidgets import JobError, JobStatus, LocalBackend
from test_reliability_cancel import race

Make = Callable[..., LocalBackend]


# ------------------------------------------------------------------ faults survived
def test_an_exception_that_cannot_be_unpickled_fails_only_its_job(local_backend: Make) -> None:
    backend = local_backend(max_workers=1, kind="process")
    job = backend.run(_work.raise_two_arg_error)
    after = backend.run(_work.add, 1, 2)
    job.wait_for_final_state(timeout=10)
    assert job.status() is JobStatus.ERROR
    assert job.error is not None
    assert "TwoArgError: 1 and 2" in job.error
    assert "couldn't be transferred" in job.error
    assert job.error_traceback is not None
    assert "raise_two_arg_error" in job.error_traceback  # the remote traceback, as text
    with pytest.raises(JobError, match="couldn't be transferred"):
        job.result()
    assert after.result(timeout=30) == 3  # the pool keeps working


def test_a_result_that_cannot_be_unpickled_fails_only_its_job(local_backend: Make) -> None:
    backend = local_backend(max_workers=1, kind="process")
    job = backend.run(_work.return_unloadable)
    after = backend.run(_work.add, 2, 2)
    job.wait_for_final_state(timeout=10)
    assert job.status() is JobStatus.ERROR
    assert job.error is not None
    assert "couldn't be transferred" in job.error
    assert "can't be loaded here" in job.error
    assert job.error_traceback is not None
    assert after.result(timeout=30) == 4


def test_a_fault_in_the_dispatcher_is_logged_fails_its_job_and_the_pool_serves_on(
    local_backend: Make, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    backend = local_backend(max_workers=1, kind="process")
    assert backend.run(_work.add, 1, 1).result(timeout=30) == 2
    pool = backend._processes
    assert pool is not None
    real_report = pool._report
    faults = 0

    def report_done_broken_once(job: Any, status: JobStatus, /, **details: Any) -> bool:
        nonlocal faults
        if status is JobStatus.DONE and not faults:
            faults += 1
            raise MemoryError("injected")
        return real_report(job, status, **details)

    monkeypatch.setattr(pool, "_report", report_done_broken_once)
    with caplog.at_level(logging.ERROR, logger="jobwidgets"):
        job = backend.run(_work.add, 2, 2)
        job.wait_for_final_state(timeout=10)
    assert job.status() is JobStatus.ERROR
    assert job.error is not None
    assert "MemoryError: injected" in job.error
    assert any("MemoryError" in (r.exc_text or r.getMessage()) for r in caplog.records)
    assert backend.run(_work.add, 3, 3).result(timeout=30) == 6


# -------------------------------------------------------------------- cancel races
def _cancel_races(backend: LocalBackend, trials: int, seed: int) -> tuple[Counter[str], list[str]]:
    """``run(ok)``, a short random delay, then ``cancel()``, ``trials`` times over (see
    ``test_reliability_cancel.race``). ``ok`` never fails: a job in ERROR was hurt by
    another's cancel, e.g. given a killed worker."""
    return race(lambda: backend.run(_work.ok), trials, seed)


def test_cancel_tells_the_truth_racing_a_process_job(local_backend: Make) -> None:
    # fork starts a replacement worker ~5x faster than spawn; the race is the same,
    # between cancel() and the dispatcher thread, whatever starts the workers
    fork = "fork" in multiprocessing.get_all_start_methods()
    start, trials = ("fork", 1000) if fork else ("spawn", 300)
    backend = local_backend(max_workers=1, kind="process", mp_context=start)
    outcomes, violations = _cancel_races(backend, trials, seed=11)
    assert violations == []
    assert outcomes["True/CANCELLED"] and outcomes["False/DONE"]  # both sides of the race


@pytest.mark.skipif(
    not os.environ.get("JOBWIDGETS_CANCEL_RACES"),
    reason="long: set JOBWIDGETS_CANCEL_RACES to a number of trials (e.g. 100000), and"
    " JOBWIDGETS_CANCEL_RACES_START to a start method (default spawn; fork is ~5x faster)",
)
@pytest.mark.timeout(0)
def test_cancel_tells_the_truth_racing_a_process_job_long(local_backend: Make) -> None:
    trials = int(os.environ["JOBWIDGETS_CANCEL_RACES"])
    start = os.environ.get("JOBWIDGETS_CANCEL_RACES_START", "spawn")
    backend = local_backend(max_workers=1, kind="process", mp_context=start)
    outcomes, violations = _cancel_races(backend, trials, seed=trials)
    print(f"\n{trials} cancel races ({start}): {dict(outcomes)}; {len(violations)} violations")
    assert violations == []


# ---------------------------------------------------------------------------- close
def test_close_with_forked_workers_is_quick(local_backend: Make) -> None:
    """A forked worker inherits the others' pipes, so closing its own may not end it."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method here")
    backend = local_backend(max_workers=2, kind="process", mp_context="fork")
    jobs = backend.map(_work.add, [1, 2, 3], [1, 1, 1])
    assert [job.result(timeout=30) for job in jobs] == [2, 3, 4]
    start = time.monotonic()
    assert backend.close() == []
    assert time.monotonic() - start < 2
