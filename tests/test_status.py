"""JobStatus, JOB_FINAL_STATES and the errors: exactly qiskit's names and values."""

from __future__ import annotations

import pytest

import jobwidgets
from jobwidgets import JOB_FINAL_STATES, JobCancelledError, JobError, JobStatus, JobTimeoutError

QISKIT_MESSAGES = {
    "INITIALIZING": "job is being initialized",
    "QUEUED": "job is queued",
    "VALIDATING": "job is being validated",
    "RUNNING": "job is actively running",
    "CANCELLED": "job has been cancelled",
    "DONE": "job has successfully run",
    "ERROR": "job incurred error",
}


def test_members_and_values_are_qiskits() -> None:
    assert {member.name: member.value for member in JobStatus} == QISKIT_MESSAGES
    assert [member.name for member in JobStatus] == list(QISKIT_MESSAGES)


@pytest.mark.parametrize(("name", "message"), list(QISKIT_MESSAGES.items()))
def test_lookup_by_name_and_by_value(name: str, message: str) -> None:
    assert JobStatus[name] is JobStatus(message)


def test_final_states_are_done_cancelled_error_in_that_order() -> None:
    assert JOB_FINAL_STATES == (JobStatus.DONE, JobStatus.CANCELLED, JobStatus.ERROR)
    assert isinstance(JOB_FINAL_STATES, tuple)
    assert jobwidgets.JOB_FINAL_STATES is JOB_FINAL_STATES


@pytest.mark.parametrize("status", list(JobStatus))
def test_final_property(status: JobStatus) -> None:
    assert status.final is (status in JOB_FINAL_STATES)


def test_error_hierarchy() -> None:
    assert issubclass(JobError, Exception)
    assert issubclass(JobTimeoutError, JobError)
    assert issubclass(JobCancelledError, JobError)
    assert not issubclass(JobTimeoutError, JobCancelledError)
