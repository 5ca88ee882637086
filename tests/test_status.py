"""JobStatus, JOB_FINAL_STATES and the errors: exactly qiskit's names and values; and the
one table of how each status shows, which the front end's copy must match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import jobwidgets
from jobwidgets import JOB_FINAL_STATES, JobCancelledError, JobError, JobStatus, JobTimeoutError
from jobwidgets.status import COLOURS, STYLES, front_end_css, front_end_module

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


REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("status", list(JobStatus))
def test_every_status_has_one_style(status: JobStatus) -> None:
    style = STYLES[status]
    assert style.label == status.name
    assert status.icon == style.icon and len(style.icon) == 1
    assert style.colour in COLOURS
    assert style.elapsed


def test_styles_are_in_status_order_with_distinct_icons() -> None:
    assert list(STYLES) == list(JobStatus)
    assert len({style.icon for style in STYLES.values()}) == len(JobStatus)


@pytest.mark.parametrize(
    ("name", "render"), [("statuses.js", front_end_module), ("statuses.css", front_end_css)]
)
def test_the_front_end_copy_of_the_styles_is_current(name: str, render: Any) -> None:
    written = (REPO / "js" / "src" / name).read_text(encoding="utf-8")
    assert written == render(), (
        f"js/src/{name} is out of date with jobwidgets/status.py: run "
        "python -c 'import jobwidgets.status as s; s.write_front_end(\"js/src\")'"
    )
