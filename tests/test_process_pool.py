"""The process pool of LocalBackend(kind="process"): faults it survives, cancel races."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import _work
from jobwidgets import JobError, JobStatus, LocalBackend

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
