"""Jobs kept on an external Dask cluster, retrieved by a new kernel after a restart.

The cluster is a ``dask scheduler`` and a ``dask worker`` started as separate processes;
the kernel is a real IPython kernel, restarted between submitting and retrieving.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

from jobwidgets import JobError
from jobwidgets.dask import DaskBackend
from test_dask import HERE, external_cluster, external_scheduler, wait_for_file  # noqa: F401

SRC = HERE.parent / "src"


def hold(release: str, marker: str) -> str:
    """Run on a worker until ``release`` exists (2 minutes at most), then mark the end."""
    print("holding until", Path(release).name)
    wait_for_file(release, limit=120)
    Path(marker).write_text("ran")
    return "finished"


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[KernelManager]:
    """An IPython kernel that imports this checkout, with Jupyter folders in tmp_path."""
    yield from _kernel(tmp_path, "off")


def _kernel(tmp_path: Path, history: str) -> Iterator[KernelManager]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE), *sys.path]),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "JOBWIDGETS_HISTORY": history,
    }
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(tmp_path))
    try:
        yield manager
    finally:
        manager.shutdown_kernel(now=True)


def _run(manager: KernelManager, code: str) -> Any:
    """Run ``code`` in the kernel; return the JSON its last line prints."""
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        printed: list[str] = []
        errors: list[str] = []

        def hook(message: dict[str, Any]) -> None:
            content = message["content"]
            if message["msg_type"] == "stream":
                printed.append(content["text"])
            elif message["msg_type"] == "error":
                errors.append("\n".join(content["traceback"]))

        reply = client.execute_interactive(code, timeout=120, output_hook=hook)
        assert reply["content"]["status"] == "ok", "".join(errors)
        return json.loads("".join(printed).strip().splitlines()[-1])
    finally:
        client.stop_channels()


SUBMIT = """
import json
from jobwidgets import JobStatus
from jobwidgets.dask import DaskBackend
from test_dask import double
from test_dask_retrieve import hold
from _jobs import wait_for_state
backend = DaskBackend({address!r}, keep_on_cluster=True)
backend.client.wait_for_workers(1, timeout=60)
done = backend.run(double, 21)  # the one worker thread runs this, then ``hold``
done.result(timeout=60)
job = backend.run(hold, {release!r}, {marker!r})
assert wait_for_state(job, JobStatus.RUNNING, timeout=60)
print(json.dumps([job.job_id(), done.job_id()]))
"""

RETRIEVE = """
import json
from jobwidgets import JobStatus
from jobwidgets.dask import DaskBackend
backend = DaskBackend({address!r})
job = backend.retrieve_job({running!r})
seen = []
job.observe(lambda change: seen.append(change.new.name), "state")
status = job.status().name
earlier = backend.retrieve_job({done!r})
lines = [line.text for line in job.log_records()]
print(json.dumps([status, job.attempts, earlier.status().name, earlier.result(timeout=30), lines]))
"""


def test_a_kept_job_is_retrieved_after_a_kernel_restart(
    external_scheduler: str,  # noqa: F811 - the fixture
    kernel: KernelManager,
    tmp_path: Path,
) -> None:
    release, marker = tmp_path / "release", tmp_path / "marker"
    running, done = _run(
        kernel, SUBMIT.format(address=external_scheduler, release=str(release), marker=str(marker))
    )

    kernel.restart_kernel(now=True)

    status, attempts, earlier, value, lines = _run(
        kernel, RETRIEVE.format(address=external_scheduler, running=running, done=done)
    )
    assert (status, attempts) == ("RUNNING", 1)  # still running, across the restart
    assert lines == ["holding until release"]  # what it printed before the restart
    assert (earlier, value) == ("DONE", 42)  # a job that ended meanwhile keeps its result
    release.touch()
    ended = _run(
        kernel,
        "print(json.dumps([job.result(timeout=60), job.status().name, seen, job.attempts]))",
    )
    assert ended == ["finished", "DONE", ["DONE"], 1]
    assert marker.read_text() == "ran"


def test_a_job_the_scheduler_does_not_hold_gets_a_clear_error(
    external_scheduler: str,  # noqa: F811 - the fixture
) -> None:
    with DaskBackend(external_scheduler, keep_on_cluster=True) as backend:
        with pytest.raises(JobError, match=r"does not hold job 'nope'.*keep_on_cluster=True"):
            backend.retrieve_job("nope")
        job = backend.run(sum, [1, 2])
        assert job.result(timeout=60) == 3
        assert backend.retrieve_job(job.job_id()) is job
        backend.forget_job(job.job_id())
    with DaskBackend(external_scheduler) as later:
        with pytest.raises(JobError, match="does not hold job"):
            later.retrieve_job(job.job_id())
        with pytest.raises(TypeError, match="job_id must be a str"):
            later.retrieve_job(7)  # type: ignore[arg-type]


def test_keeping_needs_a_cluster_that_outlives_the_kernel() -> None:
    with pytest.raises(ValueError, match="keep_on_cluster=True needs a cluster"):
        DaskBackend(keep_on_cluster=True)
    with pytest.raises(TypeError, match="keep_on_cluster must be True or False"):
        DaskBackend("tcp://127.0.0.1:1", keep_on_cluster="yes")  # type: ignore[arg-type]


RETRIEVE_LOST = """
import json
from jobwidgets import JobError, history
from jobwidgets.dask import DaskBackend
backend = DaskBackend({address!r})
try:
    backend.retrieve_job({running!r})
except JobError as exc:
    error = str(exc)
history.flush()
[record] = history.query(text={running!r})
print(json.dumps([error, record.status_text, record.error]))
"""


def test_a_job_lost_with_its_scheduler_gets_a_clear_error_and_its_record_says_so(
    tmp_path: Path,
) -> None:
    """A kept job runs on a scheduler; its kernel is killed, then the scheduler stops.
    The next kernel, on a new scheduler, can't retrieve it, and the job's history
    record (which showed it last seen RUNNING) now says it was lost, and where."""
    release, marker = tmp_path / "release", tmp_path / "marker"
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    kernel = _kernel(tmp_path, str(tmp_path / "history.sqlite3"))
    manager = next(kernel)
    try:
        with external_cluster(tmp_path / "first") as (first, _scheduler):
            submit = SUBMIT.format(address=first, release=str(release), marker=str(marker))
            running, _done = _run(
                manager, submit + "from jobwidgets import history\nhistory.flush()"
            )
            manager.restart_kernel(now=True)  # killed: it never saw the job end
        # the scheduler that held the job is gone with it
        with external_cluster(tmp_path / "second") as (second, _scheduler):
            error, status, note = _run(
                manager, RETRIEVE_LOST.format(address=second, running=running)
            )
    finally:
        kernel.close()
    assert f"does not hold job {running!r}" in error and second in error
    assert status == "last seen RUNNING · kernel ended"
    assert note.startswith(f"lost: no longer held by the Dask scheduler at {second}")
    assert "it was lost when the scheduler restarted, or forget_job() let it go" in note
    assert not marker.exists()
