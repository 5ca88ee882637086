"""The backend protocol of every job: _report's outcome and cancel()'s truth table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from _jobs import FINAL, NOT_FINAL, new_id
from jobwidgets import BaseJob, JobError, JobStatus
from jobwidgets.job import CancelAttempt


class StoppableJob(BaseJob):
    """A pushing job whose cancel() asks ``attempt`` (and counts the calls)."""

    pushes_status = True

    def __init__(self, attempt: CancelAttempt = CancelAttempt.STOPPED) -> None:
        super().__init__("backend", new_id("stoppable"))
        self.attempt = attempt
        self.stops = 0

    def submit(self) -> None:
        self._report(JobStatus.QUEUED)

    def status(self) -> JobStatus:
        return self._recorded_status()

    def result(self, timeout: float | None = None) -> Any:
        return self._outcome(timeout)

    def cancel(self) -> bool:
        return self._cancel_with(self._stop)

    def _stop(self) -> CancelAttempt:
        self.stops += 1
        return self.attempt


def in_state(status: JobStatus, attempt: CancelAttempt = CancelAttempt.STOPPED) -> StoppableJob:
    job = StoppableJob(attempt)
    if status is not JobStatus.INITIALIZING:
        job._report(status)
    return job


@pytest.mark.parametrize("status", FINAL)
@pytest.mark.parametrize("attempt", list(CancelAttempt))
def test_cancel_of_a_final_job_tells_the_truth_without_trying(
    status: JobStatus, attempt: CancelAttempt
) -> None:
    job = in_state(status, attempt)
    assert job.cancel() is (status is JobStatus.CANCELLED)
    assert job.stops == 0
    assert job.cancel_requested is False
    assert job.status() is status


EXPECTED: dict[CancelAttempt, tuple[bool, JobStatus | None]] = {
    # attempt: (cancel() returns, status afterwards; None: unchanged)
    CancelAttempt.STOPPED: (True, JobStatus.CANCELLED),
    CancelAttempt.STOPPING: (True, None),
    CancelAttempt.NOT_STOPPED: (False, None),
}


@pytest.mark.parametrize("status", NOT_FINAL)
@pytest.mark.parametrize("attempt", list(CancelAttempt))
def test_cancel_of_an_unfinished_job_records_the_request_then_asks_the_backend(
    status: JobStatus, attempt: CancelAttempt
) -> None:
    job = in_state(status, attempt)
    answer, after = EXPECTED[attempt]
    assert job.cancel() is answer
    assert job.stops == 1
    assert job.cancel_requested is True
    assert job.status() is (after or status)


def test_a_job_that_ends_cancelled_while_not_stopped_says_so() -> None:
    job = in_state(JobStatus.RUNNING)

    def stop() -> CancelAttempt:  # its code saw the request and stopped at once
        job._report(JobStatus.CANCELLED)
        return CancelAttempt.NOT_STOPPED

    assert job._cancel_with(stop) is True


def test_a_stopping_job_is_cancelled_when_its_backend_reports_it() -> None:
    job = in_state(JobStatus.RUNNING, CancelAttempt.STOPPING)
    assert job.cancel() is True
    assert job.status() is JobStatus.RUNNING
    assert job._report(JobStatus.CANCELLED) is True
    assert job.cancel() is True
    assert job.stops == 1


def test_done_carries_the_result() -> None:
    job = in_state(JobStatus.RUNNING)
    assert job._report(JobStatus.DONE, result={"answer": 42}) is True
    assert job.result(timeout=1) == {"answer": 42}
    assert job._recorded_exception() is None


def test_error_carries_the_exception_its_message_and_traceback() -> None:
    job = in_state(JobStatus.RUNNING)
    try:
        raise KeyError("missing")
    except KeyError as exc:
        failure = exc
    assert job._report(JobStatus.ERROR, exception=failure) is True
    assert job.error == "KeyError: 'missing'"
    assert job.error_traceback is not None and "raise KeyError" in job.error_traceback
    assert job._recorded_exception() is failure
    with pytest.raises(JobError, match="KeyError") as raised:
        job.result(timeout=1)
    assert raised.value.__cause__ is failure


def test_a_given_message_wins_over_the_exception() -> None:
    job = in_state(JobStatus.RUNNING)
    job._report(JobStatus.ERROR, exception=ValueError("x"), error="remote: x", error_traceback="tb")
    assert (job.error, job.error_traceback) == ("remote: x", "tb")


def test_running_after_a_cancel_returns_false_so_the_backend_does_not_run_it() -> None:
    job = in_state(JobStatus.QUEUED)
    assert job.cancel() is True
    assert job._report(JobStatus.RUNNING) is False
    assert job.status() is JobStatus.CANCELLED


def test_a_report_after_the_end_keeps_the_first_outcome() -> None:
    job = in_state(JobStatus.RUNNING)
    job._report(JobStatus.DONE, result=1)
    assert job._report(JobStatus.ERROR, exception=ValueError("late")) is False
    assert job.result(timeout=1) == 1


def test_outcome_can_fetch_the_value_when_asked() -> None:
    job = in_state(JobStatus.RUNNING)
    fetched: list[int] = []
    fetch: Callable[[], int] = lambda: fetched.append(1) or 7  # noqa: E731
    job._report(JobStatus.DONE)
    assert job._outcome(1, fetch) == 7
    assert fetched == [1]
