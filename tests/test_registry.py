"""The registry: every job joins it, weakly; subscribers hear of new, complete jobs."""

from __future__ import annotations

import gc
import logging
import weakref
from typing import Any

import pytest

import jobwidgets
from _jobs import PushJob, SettableJob
from jobwidgets import BaseJob, JobStatus, registry
from jobwidgets.registry import JobRegistry


def test_new_jobs_appear_in_the_registry_in_creation_order() -> None:
    first = SettableJob()
    second = PushJob()
    live = registry.jobs()
    assert first in live
    assert second in live
    assert live.index(first) < live.index(second)
    assert first in registry.default_registry
    assert jobwidgets.registry is registry


def test_subscriber_gets_each_new_job_fully_constructed() -> None:
    seen: list[tuple[BaseJob, str, Any, JobStatus]] = []

    def on_job(job: BaseJob) -> None:
        # attributes set by the subclass __init__ after super().__init__() are there
        assert isinstance(job, SettableJob)
        seen.append((job, job.job_id(), job.value, job.state))

    unsubscribe = registry.subscribe(on_job)
    try:
        job = SettableJob(JobStatus.RUNNING)
    finally:
        unsubscribe()
    assert seen == [(job, job.job_id(), JobStatus.RUNNING, JobStatus.INITIALIZING)]


def test_unsubscribe_stops_notifications_and_is_idempotent() -> None:
    seen: list[BaseJob] = []
    count = registry.default_registry.subscriber_count
    unsubscribe = registry.subscribe(seen.append)
    assert registry.default_registry.subscriber_count == count + 1
    kept = PushJob()
    unsubscribe()
    unsubscribe()
    PushJob()
    assert seen == [kept]
    assert registry.default_registry.subscriber_count == count


def test_raising_subscriber_is_logged_and_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[BaseJob] = []

    def broken(_job: BaseJob) -> None:
        raise RuntimeError("subscriber exploded")

    stops = [registry.subscribe(broken), registry.subscribe(seen.append)]
    try:
        with caplog.at_level(logging.ERROR, logger="jobwidgets"):
            job = PushJob()
    finally:
        for stop in stops:
            stop()
    assert seen == [job]
    assert "subscriber exploded" in caplog.text


def test_subscribe_rejects_non_callables() -> None:
    with pytest.raises(TypeError, match="callable"):
        registry.subscribe(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [SettableJob, PushJob])
def test_a_dropped_job_is_collected_and_leaves_the_registry(kind: type[BaseJob]) -> None:
    job = kind()
    job.observe(lambda change: None, "state")
    job.add_done_callback(lambda _job: None)
    job.status()
    ref = weakref.ref(job)
    job_id = job.job_id()
    assert job_id in [j.job_id() for j in registry.jobs()]
    del job
    gc.collect()
    assert ref() is None
    assert job_id not in [j.job_id() for j in registry.jobs()]


def test_a_private_registry_holds_jobs_weakly() -> None:
    private = JobRegistry()
    job = PushJob()
    private.add(job)
    assert private.jobs() == [job]
    assert len(private) == 1
    assert list(private) == [job]
    del job
    gc.collect()
    assert private.jobs() == []
    assert len(private) == 0


def test_a_job_class_can_join_another_registry_or_none() -> None:
    private = JobRegistry()

    class PrivateJob(PushJob):
        job_registry = private

    class UnlistedJob(PushJob):
        job_registry = None

    mine, unlisted = PrivateJob(), UnlistedJob()
    assert mine in private
    assert mine not in registry.default_registry
    assert unlisted not in registry.default_registry
    assert PushJob.job_registry is registry.default_registry


def test_one_job_can_choose_its_registry_in_init() -> None:
    private = JobRegistry()

    class ChoosingJob(PushJob):
        def __init__(self, registry: JobRegistry) -> None:
            self.job_registry = registry  # type: ignore[misc]
            super().__init__()

    job = ChoosingJob(private)
    assert job in private
    assert job not in registry.default_registry
