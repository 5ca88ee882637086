"""BaseJob: the qiskit contract, job ids, result(), done callbacks, await, repr, submit."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import pytest

import jobwidgets
from _jobs import (
    ALL_STATUSES,
    FINAL,
    NOT_FINAL,
    FakeBackend,
    PushJob,
    SettableJob,
    make_job,
)
from jobwidgets import BaseJob, JobError, JobStatus, JobTimeoutError, LocalBackend

# ------------------------------------------------------------------ contract table
EXPECTED = {
    # status: (done, running, cancelled, in_final_state)
    JobStatus.INITIALIZING: (False, False, False, False),
    JobStatus.QUEUED: (False, False, False, False),
    JobStatus.VALIDATING: (False, False, False, False),
    JobStatus.RUNNING: (False, True, False, False),
    JobStatus.CANCELLED: (False, False, True, True),
    JobStatus.DONE: (True, False, False, True),
    JobStatus.ERROR: (False, False, False, True),
}


@pytest.mark.parametrize("kind", ["polled", "pushed"])
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_contract_table(kind: str, status: JobStatus) -> None:
    job = make_job(kind, status)
    got = (job.done(), job.running(), job.cancelled(), job.in_final_state())
    assert got == EXPECTED[status]
    assert all(type(value) is bool for value in got)
    assert job.status() is status
    assert job.state is status


def test_expected_table_covers_every_status() -> None:
    assert set(EXPECTED) == set(JobStatus)


# --------------------------------------------------------------------- abstractness
METHODS: dict[str, Callable[..., Any]] = {
    "cancel": lambda self: True,
    "result": lambda self: None,
    "status": lambda self: JobStatus.DONE,
    "submit": lambda self: None,
}


@pytest.mark.parametrize("missing", sorted(METHODS))
def test_subclass_missing_an_abstract_method_cannot_be_instantiated(missing: str) -> None:
    body = {name: fn for name, fn in METHODS.items() if name != missing}
    partial = types.new_class("Partial", (BaseJob,), exec_body=lambda ns: ns.update(body))
    with pytest.raises(TypeError, match=missing):
        partial(FakeBackend(), "partial-1")


def test_subclass_with_all_four_methods_works() -> None:
    complete = types.new_class("Complete", (BaseJob,), exec_body=lambda ns: ns.update(METHODS))
    job = complete(FakeBackend(), "complete-1")
    assert job.done() is True


def test_base_job_itself_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseJob(FakeBackend(), "base-1")  # type: ignore[abstract]


def test_wait_for_final_state_signature() -> None:
    params = inspect.signature(BaseJob.wait_for_final_state).parameters
    assert list(params) == ["self", "timeout", "wait", "callback"]
    assert params["timeout"].default is None
    assert params["wait"].default == 5
    assert params["callback"].default is None


def test_backend_and_job_id_return_what_was_given() -> None:
    backend = FakeBackend("my-backend")
    job = SettableJob(job_id="abc-123", backend=backend)
    assert job.backend() is backend
    assert job.job_id() == "abc-123"


@pytest.mark.parametrize("bad", [5, b"abc", 1.5, ["a"]])
def test_job_id_must_be_a_str_or_none(bad: Any) -> None:
    with pytest.raises(TypeError, match="job_id must be a str") as info:
        _raw_job(bad)
    assert type(bad).__name__ in str(info.value)


def test_empty_job_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        _raw_job("")


def _raw_job(job_id: Any) -> BaseJob:
    complete = types.new_class("Raw", (BaseJob,), exec_body=lambda ns: ns.update(METHODS))
    job: BaseJob = complete(FakeBackend(), job_id)
    return job


# ------------------------------------------------------------------------- result
def _boom(exc: BaseException) -> None:
    raise exc


def test_result_returns_the_value(local_backend: Callable[..., LocalBackend]) -> None:
    job = local_backend(max_workers=1).run(lambda x: x * 2, 21)
    assert job.result(timeout=10) == 42
    assert job.status() is JobStatus.DONE


def test_result_of_a_failed_job_chains_the_original_exception(
    local_backend: Callable[..., LocalBackend],
) -> None:
    original = ZeroDivisionError("no way")
    job = local_backend(max_workers=1).run(_boom, original)
    with pytest.raises(JobError, match="no way") as info:
        job.result(timeout=10)
    assert info.value.__cause__ is original
    assert job.status() is JobStatus.ERROR


def test_result_of_a_cancelled_job_says_cancelled(
    local_backend: Callable[..., LocalBackend],
) -> None:
    backend = local_backend(max_workers=1)
    release = threading.Event()
    blocker = backend.run(release.wait, 10)
    queued = backend.run(lambda: "never")
    try:
        assert queued.cancel() is True
        with pytest.raises(JobError, match="cancelled"):
            queued.result(timeout=10)
    finally:
        release.set()
    assert blocker.result(timeout=10) is True


def test_result_timeout_raises_job_timeout_error(
    local_backend: Callable[..., LocalBackend],
) -> None:
    release = threading.Event()
    job = local_backend(max_workers=1).run(release.wait, 10)
    try:
        start = time.monotonic()
        with pytest.raises(JobTimeoutError, match=job.job_id()):
            job.result(timeout=0.1)
        assert time.monotonic() - start < 2
        assert not job.in_final_state()
    finally:
        release.set()
    assert job.result(timeout=10) is True


# ------------------------------------------------------------- add_done_callback
@pytest.mark.parametrize("final", FINAL)
def test_done_callback_called_once_on_final(final: JobStatus) -> None:
    job = PushJob()
    calls: list[tuple[BaseJob, JobStatus]] = []
    job.add_done_callback(lambda j: calls.append((j, j.state)))
    for status in NOT_FINAL[1:]:
        job.push(status)
    assert calls == []
    job.push(final)
    job.push(JobStatus.RUNNING)
    job.push(final)
    assert calls == [(job, final)]


@pytest.mark.parametrize("final", FINAL)
def test_done_callback_called_at_once_if_already_final(final: JobStatus) -> None:
    job = PushJob()
    job.push(final)
    calls: list[BaseJob] = []
    job.add_done_callback(calls.append)
    assert calls == [job]


def test_done_callback_on_a_polled_job_runs_when_a_query_finds_the_final_state() -> None:
    job = SettableJob(JobStatus.RUNNING)
    calls: list[BaseJob] = []
    job.add_done_callback(calls.append)
    job.status()
    assert calls == []
    job.value = JobStatus.DONE
    assert calls == []
    job.status()
    job.status()
    assert calls == [job]


def test_raising_done_callback_is_logged_and_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = PushJob()
    calls: list[str] = []

    def bad(_job: BaseJob) -> None:
        calls.append("bad")
        raise RuntimeError("callback exploded")

    job.add_done_callback(lambda _j: calls.append("first"))
    job.add_done_callback(bad)
    job.add_done_callback(lambda _j: calls.append("last"))
    with caplog.at_level(logging.ERROR, logger="jobwidgets"):
        job.push(JobStatus.DONE)
    assert calls == ["first", "bad", "last"]
    assert "callback exploded" in caplog.text
    assert job.state is JobStatus.DONE


def test_add_done_callback_rejects_non_callables() -> None:
    with pytest.raises(TypeError, match="callable"):
        PushJob().add_done_callback(5)  # type: ignore[arg-type]


# -------------------------------------------------------------------------- await
async def _ticking(flag: threading.Event, ticks: list[int], needed: int = 5) -> None:
    """Tick on the loop; once it ticked ``needed`` times, let the job finish."""
    while True:
        await asyncio.sleep(0.01)
        ticks.append(1)
        if len(ticks) >= needed:
            flag.set()
            return


def test_await_job_returns_the_result_without_blocking_the_loop(
    local_backend: Callable[..., LocalBackend],
) -> None:
    release = threading.Event()
    job = local_backend(max_workers=1).run(lambda: "value" if release.wait(5) else "blocked")
    ticks: list[int] = []

    async def main() -> Any:
        ticker = asyncio.create_task(_ticking(release, ticks))
        value = await job
        await ticker
        return value

    try:
        assert asyncio.run(main()) == "value"
    finally:
        release.set()
    assert len(ticks) >= 5


@pytest.mark.parametrize("final", FINAL)
def test_wait_async_returns_the_final_status(final: JobStatus) -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)
    release = threading.Event()
    ticks: list[int] = []

    def finisher() -> None:
        if release.wait(5):
            job.push(final)

    thread = threading.Thread(target=finisher)
    thread.start()

    async def main() -> JobStatus:
        ticker = asyncio.create_task(_ticking(release, ticks))
        status = await job.wait_async(timeout=10)
        await ticker
        return status

    try:
        assert asyncio.run(main()) is final
    finally:
        release.set()
        thread.join(10)
    assert len(ticks) >= 5


def test_wait_async_on_a_polled_job_uses_the_poller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobwidgets.default_poller, "interval", 0.02)
    job = SettableJob(JobStatus.RUNNING)

    async def main() -> JobStatus:
        asyncio.get_running_loop().call_later(0.05, setattr, job, "value", JobStatus.DONE)
        return await job.wait_async(timeout=10)

    assert asyncio.run(main()) is JobStatus.DONE
    assert job.state is JobStatus.DONE


def test_wait_async_timeout_raises_job_timeout_error() -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)

    async def main() -> None:
        await job.wait_async(timeout=0.1)

    start = time.monotonic()
    with pytest.raises(JobTimeoutError, match=job.job_id()):
        asyncio.run(main())
    assert time.monotonic() - start < 2
    assert job.state is JobStatus.RUNNING


# -------------------------------------------------------------------------- repr
class _Printer:
    def __init__(self) -> None:
        self.out = ""

    def text(self, value: str) -> None:
        self.out += value


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_repr_and_pretty_name_id_backend_and_status(status: JobStatus) -> None:
    job = PushJob(job_id="job-<b>7</b>", backend=FakeBackend("ibm_fake"))
    if status is JobStatus.ERROR:
        job.push(status, error="the fridge warmed up")
    else:
        job.push(status)
    printer = _Printer()
    job._repr_pretty_(printer, False)
    for text in (repr(job), printer.out):
        assert "job-<b>7</b>" in text
        assert "ibm_fake" in text
        assert status.name in text
    if status is JobStatus.ERROR:
        assert "the fridge warmed up" in printer.out


def test_repr_of_a_backend_without_name_uses_its_type() -> None:
    class Anonymous:
        pass

    job = SettableJob(backend=Anonymous())
    assert "Anonymous" in repr(job)


# ------------------------------------------------------------------------- submit
def test_submit_twice_raises_for_a_local_job(
    local_backend: Callable[..., LocalBackend],
) -> None:
    job = local_backend(max_workers=1).run(lambda: 1)
    with pytest.raises(JobError, match="already submitted"):
        job.submit()
    assert job.result(timeout=10) == 1


def test_submit_twice_raises_for_a_third_party_job() -> None:
    job = SettableJob()
    job.submit()
    with pytest.raises(JobError, match=job.job_id()):
        job.submit()
    assert job.submits == 1
    assert job.submitted_at is not None


def test_a_submit_that_raised_can_be_retried() -> None:
    class Flaky(SettableJob):
        fail = True

        def submit(self) -> None:
            if self.fail:
                raise ConnectionError("service down")
            super().submit()

    job = Flaky()
    with pytest.raises(ConnectionError):
        job.submit()
    job.fail = False
    job.submit()
    assert job.status() is JobStatus.QUEUED
