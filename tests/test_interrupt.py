"""A KeyboardInterrupt in an observer: every change is still delivered, then it is raised."""

from __future__ import annotations

from typing import Any

import pytest

from _jobs import PushJob
from jobwidgets import JobStatus


def test_an_interrupt_in_an_observer_loses_no_change() -> None:
    job = PushJob()
    seen: list[str] = []
    done: list[str] = []

    def interrupting(change: Any) -> None:
        if change.new is JobStatus.DONE:
            raise KeyboardInterrupt

    job.observe(interrupting, "state")
    job.observe(lambda change: seen.append(change.new.name), "state")
    job.add_done_callback(lambda j: done.append(j.state.name))
    with pytest.raises(KeyboardInterrupt):
        job.push(JobStatus.DONE)
    assert seen == ["DONE"]  # the observer after the interrupting one still ran
    assert done == ["DONE"]
    assert job.state is JobStatus.DONE and job.finished_at is not None
    job.push(JobStatus.RUNNING)  # later deliveries are not haunted by the old interrupt
    assert job.state is JobStatus.DONE
