"""``current_job()``, progress and logs in process jobs: a ``RemoteJob`` in the worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

import jobwidgets
from _jobs import PushJob, wait_until
from _work import progress_many, report_and_print, tracked
from jobwidgets import JobStatus, LocalBackend
from jobwidgets._remote import RemoteJob, forward
from jobwidgets.progress import track
from jobwidgets.tqdm import tqdm

Make = Callable[..., LocalBackend]


# ------------------------------------------------------------- run in the workers
def print_then_fail() -> None:
    print("the last words")
    raise ValueError("bad input")


# ------------------------------------------------------------------------ tests
def test_a_process_job_reports_progress_and_output(local_backend: Make) -> None:
    job = local_backend(1, "process").run(report_and_print, 40)
    seen: list[Any] = []
    job.observe(lambda change: seen.append(change["new"]), "progress")
    assert job.result(timeout=60) == "RemoteJob"
    assert seen[-1] == 1.0 and len(seen) >= 2  # intermediate values, then the end
    assert seen == sorted(seen)
    assert job.progress_text == "40/40"
    streams = [(r.stream, r.text) for r in job.log_records()]
    assert streams[:2] == [("stdout", "line 0"), ("stdout", "line 1")]
    assert streams[-2:] == [("stderr", "a complaint"), ("INFO", "an info record")]
    assert job.log_lines == 42


def test_a_million_progress_calls_send_few_messages(local_backend: Make) -> None:
    backend = local_backend(1, "process")
    job = backend.run(progress_many, 1_000_000)
    seen: list[Any] = []
    job.observe(lambda change: seen.append(change["new"]), "progress")
    start = time.monotonic()
    assert job.result(timeout=120) == 1_000_000
    seconds = time.monotonic() - start
    assert len(seen) <= 20 * seconds + 5, f"{len(seen)} progress changes in {seconds:.1f} s"
    assert seen[-1] == 1.0


def test_track_and_tqdm_in_a_process_job(local_backend: Make) -> None:
    job = local_backend(1, "process").run(tracked, 200, 20)
    texts: list[Any] = []
    job.observe(lambda change: texts.append(change["new"]), "progress_text")
    assert job.result(timeout=60) == sum(range(200))
    assert any(text and text.startswith("items: ") for text in texts)
    assert job.progress_text is not None and job.progress_text.startswith("files: 20/20")


def test_a_failing_process_job_keeps_its_last_lines(local_backend: Make) -> None:
    job = local_backend(1, "process").run(print_then_fail)
    job.wait_for_final_state(timeout=60)
    assert job.status() is JobStatus.ERROR
    assert job.error_traceback is not None and "ValueError: bad input" in job.error_traceback
    assert [r.text for r in job.log_records()] == ["the last words"]


def test_outside_a_job_track_and_tqdm_are_plain() -> None:
    assert jobwidgets.track is track  # the public name
    assert list(track([1, 2, 3])) == [1, 2, 3]
    assert sum(tqdm(range(4), disable=True)) == 6
    with pytest.raises(TypeError, match="description must be a str"):
        list(track([1], description=3))  # type: ignore[arg-type]


def test_the_proxy_coalesces_and_its_messages_apply_in_the_kernel() -> None:
    sent: list[tuple[Any, ...]] = []
    proxy = RemoteJob("job-1", sent.append, cancelled=lambda: True)
    for i in range(1000):
        proxy.set_progress(i / 1000, f"{i}")
        proxy._log("stdout", f"{i}\n")
    proxy.flush(end=True)
    progress = [m for m in sent if m[0] == "progress"]
    logs = [m for m in sent if m[0] == "log"]
    assert 1 <= len(progress) <= 3 and progress[-1] == ("progress", 0.999, "999")
    assert sum(len(m[1]) for m in logs) == 1000 and len(logs) <= 3
    assert proxy.cancel_requested
    with pytest.raises(Exception, match="was cancelled"):
        proxy.raise_if_cancelled()
    with pytest.raises(ValueError, match="between 0 and 1"):
        proxy.set_progress(2)

    job = PushJob()
    for message in sent:
        assert forward(job, message)
    assert job.progress == 0.999 and len(job.log_records()) == 1000
    assert wait_until(lambda: job.log_lines == 1000, timeout=5)  # the log ticker sets it
    assert not forward(job, ("unknown",))
