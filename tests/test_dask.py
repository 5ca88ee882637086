"""DaskBackend on real Dask clusters: an embedded LocalCluster and one joined by address.

Task functions live at the top of this module: the worker processes import them from
here (the embedded cluster's workers inherit the test's ``sys.path``; the external ones
get it through ``PYTHONPATH``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import distributed
import pytest

from _jobs import Recorder, wait_for_state, wait_until
from jobwidgets import BaseJob, JobError, JobStatus, registry
from jobwidgets.dask import DaskBackend, DaskJob

HERE = Path(__file__).resolve().parent
FINAL = (JobStatus.DONE, JobStatus.CANCELLED, JobStatus.ERROR)


# ------------------------------------------------------------ run on the workers
def wait_for_file(path: str, limit: float = 30) -> str:
    """Block until ``path`` exists (or ``limit`` seconds pass); return the worker's pid."""
    end = time.monotonic() + limit
    while not Path(path).exists() and time.monotonic() < end:
        time.sleep(0.01)
    return str(os.getpid())


def write_after(release: str, marker: str) -> str:
    """Wait for ``release``, then write ``marker``: shows whether the code ran to the end."""
    wait_for_file(release)
    Path(marker).write_text("ran")
    return "finished"


def mark(path: str) -> None:
    Path(path).write_text("ran")


def double(x: int) -> int:
    return 2 * x


def explode(message: str) -> None:
    raise ValueError(message)


def kill_my_worker(attempts_file: str, kills: int) -> str:
    """Kill this worker process on the first ``kills`` attempts; then return."""
    path = Path(attempts_file)
    attempt = len(path.read_text()) + 1 if path.exists() else 1
    path.write_text("x" * attempt)
    if attempt <= kills:
        time.sleep(0.3)  # long enough for the start of the task to be reported
        os.kill(os.getpid(), signal.SIGKILL)
    return f"survived attempt {attempt}"


# -------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def backend() -> Iterator[DaskBackend]:
    """The embedded default: a process-based LocalCluster with 2 one-thread workers."""
    with DaskBackend(n_workers=2, threads_per_worker=1) as made:
        yield made


def _observed(backend: DaskBackend, fn: Any, *args: Any) -> tuple[DaskJob, Recorder]:
    """Run ``fn`` with an observer attached before the job is submitted."""
    seen = Recorder()
    jobs: list[BaseJob] = []

    def attach(job: BaseJob) -> None:
        jobs.append(job)
        job.observe(seen, "state")

    unsubscribe = registry.subscribe(attach)
    try:
        job = backend.run(fn, *args)
    finally:
        unsubscribe()
    assert jobs == [job]
    return job, seen


# ----------------------------------------------------------------------- tests
def test_running_is_reported_while_the_task_runs(backend: DaskBackend, tmp_path: Path) -> None:
    release = tmp_path / "release"
    job, seen = _observed(backend, wait_for_file, str(release))
    assert wait_for_state(job, JobStatus.RUNNING, timeout=30)
    time.sleep(0.2)
    assert job.status() is JobStatus.RUNNING  # still running: the task waits for the file
    assert job.future is not None and job.future.status == "pending"
    release.touch()
    assert seen.wait_final(30)
    assert seen.values == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]
    assert job.result(timeout=10).isdigit()
    assert job.worker is not None and job.worker.startswith("tcp://")
    assert job.attempts == 1
    assert job.started_at is not None and job.finished_at is not None
    assert job.started_at <= job.finished_at


def test_a_task_waiting_for_a_thread_stays_queued(backend: DaskBackend, tmp_path: Path) -> None:
    release = tmp_path / "release"
    blockers = [backend.run(wait_for_file, str(release)) for _ in range(2)]
    waiting = backend.run(double, 21)
    try:
        for blocker in blockers:
            assert wait_for_state(blocker, JobStatus.RUNNING, timeout=30)
        time.sleep(0.5)  # Dask may already have handed it to a busy worker's queue
        assert waiting.status() is JobStatus.QUEUED
    finally:
        release.touch()
    assert waiting.result(timeout=30) == 42
    assert [blocker.result(timeout=30).isdigit() for blocker in blockers] == [True, True]


def test_cancelling_a_queued_task(backend: DaskBackend, tmp_path: Path) -> None:
    release, marker = tmp_path / "release", tmp_path / "marker"
    blockers = [backend.run(wait_for_file, str(release)) for _ in range(2)]
    queued = backend.run(mark, str(marker))
    try:
        for blocker in blockers:
            assert wait_for_state(blocker, JobStatus.RUNNING, timeout=30)
        assert queued.cancel() is True
        assert queued.cancel() is True  # cancelled is cancelled
        assert queued.status() is JobStatus.CANCELLED
        with pytest.raises(JobError, match="cancelled"):
            queued.result(timeout=5)
        # Dask forwards the cancel to the worker that holds the task asynchronously; a
        # task that starts before it arrives runs (as a cancelled running task does)
        time.sleep(1.0)
    finally:
        release.touch()
    for blocker in blockers:
        blocker.result(timeout=30)
    backend.run(double, 1).result(timeout=30)  # both workers have moved on
    assert not marker.exists()
    assert queued.status() is JobStatus.CANCELLED


def test_cancelling_a_running_task_ends_the_job_but_not_the_code(
    backend: DaskBackend, tmp_path: Path
) -> None:
    """Dask can't stop a running task: the job is CANCELLED at once, the code runs on."""
    release, marker = tmp_path / "release", tmp_path / "marker"
    job = backend.run(write_after, str(release), str(marker))
    assert wait_for_state(job, JobStatus.RUNNING, timeout=30)
    assert job.cancel() is True
    assert job.status() is JobStatus.CANCELLED
    assert job.future is not None and job.future.cancelled()
    release.touch()
    assert wait_until(marker.exists, timeout=30)  # the function went on to its end
    with pytest.raises(JobError, match="cancelled"):
        job.result(timeout=5)


def test_a_finished_job_refuses_cancel(backend: DaskBackend) -> None:
    job = backend.run(double, 4)
    assert job.result(timeout=30) == 8
    assert job.cancel() is False
    assert job.status() is JobStatus.DONE


def test_a_task_that_raises_ends_in_error_with_the_remote_traceback(
    backend: DaskBackend,
) -> None:
    job, seen = _observed(backend, explode, "bad <b>input</b>")
    assert seen.wait_final(30)
    assert seen.values[-1] is JobStatus.ERROR
    assert job.error == "ValueError: bad <b>input</b>"
    assert job.error_traceback is not None
    assert "in explode\n    raise ValueError(message)" in job.error_traceback
    with pytest.raises(JobError, match="bad <b>input</b>") as raised:
        job.result(timeout=5)
    assert isinstance(raised.value.__cause__, ValueError)
    assert isinstance(job.exception(), ValueError)


def test_a_thousand_tasks_through_map_all_end(backend: DaskBackend) -> None:
    jobs = backend.map(double, range(1000))
    assert len(jobs) == 1000
    assert len({job.job_id() for job in jobs}) == 1000
    deadline = time.monotonic() + 120
    for job in jobs:
        job._wait_final(max(0.0, deadline - time.monotonic()))
    assert {job.status() for job in jobs} == {JobStatus.DONE}
    assert sum(job.result() for job in jobs) == 2 * sum(range(1000))
    with pytest.raises(JobError, match="already submitted"):
        jobs[0].submit()


def test_a_job_can_be_the_argument_of_another(backend: DaskBackend) -> None:
    first = backend.run(double, 5)
    second = backend.run(double, first)
    assert second.result(timeout=30) == 20


def test_function_keywords_named_like_submit_options_reach_the_function(
    backend: DaskBackend,
) -> None:
    def keyed(*, key: str, priority: int) -> str:
        return f"{key}:{priority}"

    assert backend.run(keyed, key="k", priority=3).result(timeout=30) == "k:3"


def test_bad_input_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="either address= or client="):
        DaskBackend("tcp://127.0.0.1:1", client=object())
    with pytest.raises(TypeError, match="apply only to the embedded LocalCluster"):
        DaskBackend("tcp://127.0.0.1:1", n_workers=2)
    with pytest.raises(TypeError, match="address must be a scheduler address"):
        DaskBackend(8786)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"client must be a distributed\.Client"):
        DaskBackend(client="tcp://127.0.0.1:1")


def test_run_and_map_check_their_function(backend: DaskBackend) -> None:
    with pytest.raises(TypeError, match="needs a callable, got 3"):
        backend.run(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="at least one iterable"):
        backend.map(double)


def test_the_missing_extra_is_named() -> None:
    script = (
        "import sys\n"
        "sys.modules['distributed'] = None\n"
        "try:\n"
        "    import jobwidgets.dask\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'jobwidgets[dask]'" in done.stdout


def test_workers_need_no_jobwidgets_to_load_the_plugin() -> None:
    from distributed.protocol.pickle import dumps

    from jobwidgets.backends.dask import task_start_plugin

    payload = dumps(task_start_plugin())
    script = (
        "import sys, pickle\n"
        "sys.modules['jobwidgets'] = None\n"
        f"plugin = pickle.loads({payload!r})\n"
        "print(type(plugin).__name__, plugin.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["TaskStarts", "jobwidgets-task-starts"]


# ------------------------------------------------------------ a lost worker
@pytest.fixture
def fragile_backend() -> Iterator[DaskBackend]:
    """A cluster whose scheduler gives up on a task after its second lost worker."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        made = DaskBackend(n_workers=2, threads_per_worker=1)
    with made:
        yield made


def test_a_killed_worker_means_a_retry_then_an_error(
    fragile_backend: DaskBackend, tmp_path: Path
) -> None:
    retried, seen = _observed(fragile_backend, kill_my_worker, str(tmp_path / "once"), 1)
    assert seen.wait_final(60)
    assert seen.values == [
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.QUEUED,  # the worker died: Dask runs the task again elsewhere
        JobStatus.RUNNING,
        JobStatus.DONE,
    ]
    assert retried.attempts == 2
    assert retried.result(timeout=10) == "survived attempt 2"

    doomed, seen = _observed(fragile_backend, kill_my_worker, str(tmp_path / "always"), 99)
    assert seen.wait_final(60)  # never left hanging in RUNNING
    assert seen.values[-1] is JobStatus.ERROR
    assert seen.values[:2] == [JobStatus.QUEUED, JobStatus.RUNNING]
    assert JobStatus.QUEUED in seen.values[2:]
    assert doomed.error is not None and doomed.error.startswith("KilledWorker")
    with pytest.raises(JobError, match="KilledWorker"):
        doomed.result(timeout=5)


# ------------------------------------------------------- an existing cluster
@contextlib.contextmanager
def external_cluster(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``dask scheduler`` and one ``dask worker``, as separate processes on 127.0.0.1.

    Yields the scheduler's address and its process; both processes end on exit.
    """
    dask_cli = str(Path(sys.executable).with_name("dask"))
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    common: dict[str, Any] = {
        "env": env,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "cwd": tmp_path,
    }
    dashboard = ["--dashboard-address", ":0"]
    where = ["--scheduler-file", str(scheduler_file)]
    scheduler = subprocess.Popen(
        [dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0", *dashboard, *where],
        **common,
    )
    worker = None
    try:
        # the worker waits for the scheduler file itself: start both at once
        worker = subprocess.Popen(
            [
                dask_cli,
                "worker",
                *where,
                "--nthreads",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
            ],
            **common,
        )
        assert wait_until(lambda: _address_in(scheduler_file) is not None, timeout=60)
        yield str(_address_in(scheduler_file)), scheduler
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
        for process in (worker, scheduler):
            if process is not None:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()


def _address_in(scheduler_file: Path) -> str | None:
    """The address in a scheduler file, once the scheduler has written it whole."""
    try:
        return str(json.loads(scheduler_file.read_text())["address"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture
def external_scheduler(tmp_path: Path) -> Iterator[str]:
    """The address of an ``external_cluster``."""
    with external_cluster(tmp_path) as (address, _scheduler):
        yield address


def test_an_existing_cluster_joined_by_address(external_scheduler: str, tmp_path: Path) -> None:
    release = tmp_path / "release"
    with DaskBackend(address=external_scheduler, name="external") as backend:
        backend.client.wait_for_workers(1, timeout=60)
        job, seen = _observed(backend, wait_for_file, str(release))
        assert wait_for_state(job, JobStatus.RUNNING, timeout=30)
        release.touch()
        assert seen.wait_final(30)
        assert seen.values == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]
        assert job.result(timeout=10).isdigit()
        assert backend.cluster is None
    # closing the backend left the cluster running
    with distributed.Client(external_scheduler, set_as_default=False) as client:
        assert len(client.scheduler_info()["workers"]) == 1
        with DaskBackend(client=client) as shared:
            assert shared.run(double, 8).result(timeout=30) == 16
        assert client.status == "running"  # a given client is not closed either
        assert client.submit(double, 2).result(timeout=30) == 4
