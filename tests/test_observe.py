"""Observable status: ``state`` and the other traits change once per change, in order."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import pytest

from _jobs import FINAL, NOT_FINAL, PushJob, Recorder, SettableJob
from jobwidgets import BaseJob, JobStatus

PATH = [JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING]


def _run_in_thread(fn: Any, timeout: float = 10) -> None:
    """Run ``fn`` on a thread; fail (rather than hang) if it deadlocks."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "deadlock: the call did not return"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("final", FINAL)
def test_third_party_job_state_follows_status_queries(final: JobStatus) -> None:
    job = SettableJob()
    seen = Recorder()
    job.observe(seen, "state")
    for status in [*PATH, final]:
        job.value = status
        assert seen.values[-1:] != [status]  # nothing changes until status() is asked
        job.status()
        job.status()  # the same status again is no change
        assert job.state is status
    assert seen.values == [*PATH, final]
    assert [(c["old"], c["new"]) for c in seen.changes] == list(
        zip([JobStatus.INITIALIZING, *PATH], [*PATH, final], strict=True)
    )
    assert all(c["name"] == "state" and c["owner"] is job for c in seen.changes)


@pytest.mark.parametrize("final", FINAL)
@pytest.mark.parametrize("later", NOT_FINAL + FINAL)
def test_nothing_after_a_final_state(final: JobStatus, later: JobStatus) -> None:
    job = SettableJob(JobStatus.RUNNING)
    job.status()
    seen = Recorder()
    job.observe(seen, "state")
    job.value = final
    assert job.status() is final
    job.value = later
    assert job.status() is final
    assert job.state is final
    assert seen.values == [final]


@pytest.mark.parametrize("final", FINAL)
def test_pushed_reports_after_a_final_state_are_ignored(final: JobStatus) -> None:
    job = PushJob()
    seen = Recorder()
    job.observe(seen, "state")
    assert job.push(JobStatus.RUNNING) is True
    assert job.push(JobStatus.RUNNING) is False
    assert job.push(final) is True
    for status in JobStatus:
        assert job.push(status) is False
    assert seen.values == [JobStatus.RUNNING, final]
    assert job.status() is final


def test_derived_queries_also_update_state() -> None:
    job = SettableJob()
    seen = Recorder()
    job.observe(seen, "state")
    job.value = JobStatus.RUNNING
    assert job.running()
    job.value = JobStatus.DONE
    assert job.in_final_state()
    assert seen.values == [JobStatus.RUNNING, JobStatus.DONE]


def test_observers_run_in_registration_order_for_each_change() -> None:
    job = PushJob()
    calls: list[tuple[str, JobStatus]] = []
    job.observe(lambda c: calls.append(("a", c["new"])), "state")
    job.observe(lambda c: calls.append(("b", c["new"])), "state")
    job.push(JobStatus.RUNNING)
    job.push(JobStatus.DONE)
    assert calls == [
        ("a", JobStatus.RUNNING),
        ("b", JobStatus.RUNNING),
        ("a", JobStatus.DONE),
        ("b", JobStatus.DONE),
    ]


def test_unobserve_stops_calls() -> None:
    job = PushJob()
    seen = Recorder()
    job.observe(seen, "state")
    job.push(JobStatus.QUEUED)
    job.unobserve(seen, "state")
    job.push(JobStatus.RUNNING)
    assert seen.values == [JobStatus.QUEUED]


@pytest.mark.parametrize("reentry", ["report", "status", "cancel"])
def test_observer_calling_back_into_the_job_does_not_deadlock(reentry: str) -> None:
    job = SettableJob() if reentry == "status" else PushJob()
    first = Recorder()
    last = Recorder()

    def reenter(change: Any) -> None:
        first(change)
        if change["new"] is not JobStatus.QUEUED:
            return
        if reentry == "report":
            job._report(JobStatus.RUNNING)
        elif reentry == "status":
            assert isinstance(job, SettableJob)
            job.value = JobStatus.RUNNING
            assert job.status() is JobStatus.RUNNING
        else:
            assert job.cancel() is True

    job.observe(reenter, "state")
    job.observe(last, "state")
    if isinstance(job, SettableJob):
        job.value = JobStatus.QUEUED
        _run_in_thread(job.status)
    else:
        _run_in_thread(lambda: job._report(JobStatus.QUEUED))
    expected = [JobStatus.QUEUED, JobStatus.CANCELLED if reentry == "cancel" else JobStatus.RUNNING]
    assert first.values == expected
    assert last.values == expected
    assert job.state is expected[-1]


def test_reentrant_reports_keep_one_order_for_every_observer() -> None:
    job = PushJob()
    records: list[list[JobStatus]] = [[], [], []]

    def chain(change: Any) -> None:
        records[0].append(change["new"])
        following = {
            JobStatus.QUEUED: JobStatus.VALIDATING,
            JobStatus.VALIDATING: JobStatus.RUNNING,
        }
        if change["new"] in following:
            job._report(following[change["new"]])
            job._report(JobStatus.DONE)  # queued behind the push above
            job.status()
            job.add_done_callback(lambda _job: None)

    job.observe(chain, "state")
    job.observe(lambda c: records[1].append(c["new"]), "state")
    job.observe(lambda c: records[2].append(c["new"]), "state")
    _run_in_thread(lambda: job.push(JobStatus.QUEUED))
    assert (
        records[0]
        == records[1]
        == records[2]
        == [
            JobStatus.QUEUED,
            JobStatus.VALIDATING,
            JobStatus.DONE,
        ]
    )


def test_raising_observer_is_logged_and_others_still_called(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = PushJob()
    before = Recorder()
    after = Recorder()

    def broken(change: Any) -> None:
        raise RuntimeError("observer exploded")

    job.observe(before, "state")
    job.observe(broken, "state")
    job.observe(after, "state")
    with caplog.at_level(logging.ERROR, logger="jobwidgets"):
        job.push(JobStatus.RUNNING)
        job.push(JobStatus.DONE)
    assert before.values == after.values == [JobStatus.RUNNING, JobStatus.DONE]
    logged = [r for r in caplog.records if r.exc_info and "exploded" in str(r.exc_info[1])]
    assert len(logged) == 2
    assert job.state is JobStatus.DONE


# ----------------------------------------------------------------------- timestamps
@pytest.mark.parametrize("observed", [True, False])
@pytest.mark.parametrize("final", FINAL)
def test_timestamps_are_set_on_the_right_transitions(observed: bool, final: JobStatus) -> None:
    before = time.time()
    job = PushJob()
    seen = Recorder()
    if observed:
        job.observe(seen, ["submitted_at", "started_at", "finished_at"])
    assert before <= job.created_at <= time.time()
    assert (job.submitted_at, job.started_at, job.finished_at) == (None, None, None)
    job.push(JobStatus.QUEUED)
    submitted = job.submitted_at
    assert submitted is not None
    assert job.created_at <= submitted
    assert (job.started_at, job.finished_at) == (None, None)
    job.push(JobStatus.VALIDATING)
    assert job.started_at is None
    job.push(JobStatus.RUNNING)
    started = job.started_at
    assert started is not None
    assert submitted <= started
    assert job.finished_at is None
    job.push(final)
    assert job.finished_at is not None
    assert started <= job.finished_at <= time.time()
    assert job.submitted_at == submitted
    assert job.started_at == started
    if observed:
        assert [c["name"] for c in seen.changes] == ["submitted_at", "started_at", "finished_at"]


@pytest.mark.parametrize("final", FINAL)
def test_a_job_that_never_ran_has_no_started_at(final: JobStatus) -> None:
    job = PushJob()
    job.push(JobStatus.QUEUED)
    job.push(final)
    assert job.started_at is None
    assert job.finished_at is not None


def test_submit_of_a_third_party_job_stamps_submitted_at() -> None:
    job = SettableJob()
    assert job.submitted_at is None
    job.submit()
    assert job.submitted_at is not None
    assert job.state is JobStatus.INITIALIZING  # until status() is asked


@pytest.mark.parametrize("observed", [True, False])
def test_error_and_traceback_on_error(observed: bool) -> None:
    job = PushJob()
    seen = Recorder()
    if observed:
        job.observe(seen, ["error", "error_traceback", "state"])
    job.push(JobStatus.RUNNING)
    assert (job.error, job.error_traceback) == (None, None)
    job.push(JobStatus.ERROR, error="ValueError: bad input", error_traceback="Traceback ...")
    assert job.error == "ValueError: bad input"
    assert job.error_traceback == "Traceback ..."
    assert job.state is JobStatus.ERROR
    if observed:
        # error details arrive before the state, so an observer of state can read them
        assert seen.values[-3:] == ["ValueError: bad input", "Traceback ...", JobStatus.ERROR]


# ------------------------------------------------------------------------- progress
@pytest.mark.parametrize("observed", [True, False])
def test_progress_is_recorded_and_completed_on_done(observed: bool) -> None:
    job = PushJob()
    seen = Recorder()
    if observed:
        job.observe(seen, "progress")
    job.push(JobStatus.RUNNING)
    assert job.progress is None
    job.set_progress(0)
    job.set_progress(1 / 4)
    assert job.progress == 0.25
    job.set_progress(None)
    assert job.progress is None
    job.set_progress(0.5)
    job.push(JobStatus.DONE)
    assert job.progress == 1.0
    job.set_progress(0.3)  # ignored once final
    assert job.progress == 1.0
    if observed:
        assert seen.values == [0.0, 0.25, None, 0.5, 1.0]


@pytest.mark.parametrize("final", [JobStatus.CANCELLED, JobStatus.ERROR])
def test_progress_is_kept_on_cancel_and_error(final: JobStatus) -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)
    job.set_progress(0.4)
    job.push(final)
    assert job.progress == 0.4


@pytest.mark.parametrize("bad", [-0.01, 1.01, 2, -1, math.nan, math.inf])
def test_progress_out_of_range_is_a_value_error(bad: float) -> None:
    job = PushJob()
    with pytest.raises(ValueError, match="between 0 and 1"):
        job.set_progress(bad)
    assert job.progress is None


@pytest.mark.parametrize("bad", ["0.5", True, [0.5], object()])
def test_progress_not_a_number_is_a_type_error(bad: Any) -> None:
    job = PushJob()
    with pytest.raises(TypeError, match=r"fraction \(the progress\) must be a number"):
        job.set_progress(bad)
    assert job.progress is None


def test_observing_all_traits_sees_state_last_in_each_change() -> None:
    job = PushJob()
    names: list[str] = []
    job.observe(lambda c: names.append(c["name"]))
    job.push(JobStatus.RUNNING)
    assert names == ["submitted_at", "started_at", "state"]


def test_observe_accepts_a_class_level_handler() -> None:
    import traitlets

    class Watched(PushJob):
        def __init__(self) -> None:
            super().__init__()
            self.log: list[JobStatus] = []

        @traitlets.observe("state")
        def _on_state(self, change: Any) -> None:
            self.log.append(change["new"])

    job: BaseJob = Watched()
    job.push(JobStatus.RUNNING)  # type: ignore[attr-defined]
    assert job.log == [JobStatus.RUNNING]  # type: ignore[attr-defined]


class _RacyPushJob(PushJob):
    """A pushing job whose ``status()`` reads its answer, then lets a push happen before
    the answer is recorded, as a concurrent backend thread would."""

    meanwhile: Any = None

    def status(self) -> JobStatus:
        answer = self._recorded_status()
        if self.meanwhile is not None:
            self.meanwhile()
        return answer


class _RacySettableJob(SettableJob):
    """A poll-only job whose answer is overtaken by a newer query before it is recorded."""

    meanwhile: Any = None

    def status(self) -> JobStatus:
        answer = self.value
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return answer


def test_a_stale_status_answer_does_not_move_a_pushed_state_back() -> None:
    job = _RacyPushJob()
    seen = Recorder()
    job.observe(seen, "state")
    job.push(JobStatus.QUEUED)
    job.meanwhile = lambda: job.push(JobStatus.RUNNING)
    assert job.status() is JobStatus.RUNNING
    job.meanwhile = None
    assert job.status() is JobStatus.RUNNING
    assert job.state is JobStatus.RUNNING
    assert seen.values == [JobStatus.QUEUED, JobStatus.RUNNING]


def test_an_overtaken_query_does_not_move_a_polled_state_back() -> None:
    job = _RacySettableJob(JobStatus.QUEUED)
    seen = Recorder()
    job.observe(seen, "state")

    def newer_query() -> None:
        job.value = JobStatus.RUNNING
        assert job.status() is JobStatus.RUNNING

    job.meanwhile = newer_query
    assert job.status() is JobStatus.RUNNING  # its own answer, QUEUED, was stale
    assert job.state is JobStatus.RUNNING
    assert seen.values == [JobStatus.RUNNING]
    job.value = JobStatus.DONE
    assert job.status() is JobStatus.DONE
    assert seen.values == [JobStatus.RUNNING, JobStatus.DONE]
