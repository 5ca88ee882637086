"""``current_job()``, progress and logs in Dask tasks, on a real process-based LocalCluster."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _jobs import wait_until
from _work import progress_many, report_and_print, tracked
from jobwidgets import JobStatus, current_job
from jobwidgets.dask import DaskBackend


# ------------------------------------------------------------ run on the workers
def stop_when_asked(marker: str) -> str:
    """Loop until cancelled; write how it ended to ``marker``."""
    job = current_job()
    assert job is not None
    try:
        for _ in range(3000):
            job.raise_if_cancelled()
            time.sleep(0.01)
    except Exception as exc:
        Path(marker).write_text(type(exc).__name__)
        raise
    Path(marker).write_text("ran to the end")
    return "ran to the end"


# -------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def backend() -> Iterator[DaskBackend]:
    with DaskBackend(n_workers=1, threads_per_worker=2) as made:
        yield made


def test_a_task_reports_progress_and_output(backend: DaskBackend) -> None:
    job = backend.run(report_and_print, 40)
    seen: list[Any] = []
    job.observe(lambda change: seen.append(change["new"]), "progress")
    assert job.result(timeout=60) == "RemoteJob"
    assert wait_until(lambda: job.progress == 1.0)
    assert len(seen) >= 2 and seen == sorted(seen)
    assert job.progress_text == "40/40"
    assert wait_until(lambda: len(job.log_records()) == 42)
    streams = [(r.stream, r.text) for r in job.log_records()]
    assert streams[0] == ("stdout", "line 0")
    assert streams[-2:] == [("stderr", "a complaint"), ("INFO", "an info record")]


def test_a_million_progress_calls_in_a_task_send_few_messages(backend: DaskBackend) -> None:
    job = backend.run(progress_many, 1_000_000)
    seen: list[Any] = []
    job.observe(lambda change: seen.append(change["new"]), "progress")
    start = time.monotonic()
    assert job.result(timeout=120) == 1_000_000
    seconds = time.monotonic() - start
    assert len(seen) <= 20 * seconds + 5, f"{len(seen)} progress changes in {seconds:.1f} s"


def test_track_and_tqdm_in_a_task(backend: DaskBackend) -> None:
    job = backend.run(tracked, 100, 10)
    assert job.result(timeout=60) == sum(range(100))
    assert wait_until(lambda: (job.progress_text or "").startswith("files: 10/10"))


def test_a_task_stops_when_its_job_is_cancelled(backend: DaskBackend, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    job = backend.run(stop_when_asked, str(marker))
    assert wait_until(lambda: job.state is JobStatus.RUNNING, timeout=60)
    assert job.cancel()
    assert job.status() is JobStatus.CANCELLED
    assert wait_until(marker.exists, timeout=30)  # the task's code saw the request
    assert marker.read_text() == "JobCancelledError"


def test_a_backend_bounds_its_jobs_logs(backend: DaskBackend) -> None:
    with DaskBackend(client=backend.client, max_log_lines=5) as bounded:
        job = bounded.run(report_and_print, 20)
        assert job.result(timeout=60) == "RemoteJob"
        assert wait_until(lambda: job.log_lines == 22)
        assert [line.text for line in job.log_records()][-2:] == ["a complaint", "an info record"]
        assert len(job.log_records()) == 5
