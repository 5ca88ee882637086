"""``jobwidgets.monitor``: qiskit 0.19's ``job_monitor`` in the core, and ``text_line``."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
from typing import Any

import pytest

from _jobs import FINAL, PushJob, SettableJob
from _legacy import Backend, LateIdJob
from jobwidgets import JobStatus
from jobwidgets.monitor import job_monitor, text_line


def stepping(job: SettableJob, *statuses: JobStatus) -> SettableJob:
    """Make each query of ``job`` answer the next of ``statuses`` (the last one stays)."""
    answers = iter(statuses)
    original = job.status

    def status() -> JobStatus:
        job.value = next(answers, job.value)
        return original()

    job.status = status  # type: ignore[method-assign]
    return job


def test_the_signature_is_qiskit_0_19s() -> None:
    parameters = inspect.signature(job_monitor).parameters
    assert list(parameters) == ["job", "interval", "quiet", "output", "line_discipline"]
    assert parameters["interval"].default is None
    assert parameters["quiet"].default is False
    assert parameters["output"].default is None  # sys.stdout at the time of the call
    assert parameters["line_discipline"].default == "\r"


def test_each_update_starts_with_a_carriage_return_and_a_newline_ends() -> None:
    stream = io.StringIO()
    job = stepping(
        SettableJob(JobStatus.QUEUED), JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE
    )
    job_monitor(job, interval=0.01, output=stream)
    text = stream.getvalue()
    updates = text.split("\r")[1:]
    assert text.startswith("\r") and text.endswith("\n") and text.count("\n") == 1
    assert [u.split()[1] for u in updates] == ["QUEUED", "RUNNING", "DONE"]


def test_line_discipline_replaces_the_carriage_return() -> None:
    stream = io.StringIO()
    job = stepping(SettableJob(JobStatus.QUEUED), JobStatus.QUEUED, JobStatus.DONE)
    job_monitor(job, interval=0, output=stream, line_discipline="\n")
    text = stream.getvalue()
    assert "\r" not in text
    assert [line.split()[1] for line in text.split("\n") if line] == ["QUEUED", "DONE"]


def test_quiet_prints_nothing_and_still_waits() -> None:
    stream = io.StringIO()
    job = stepping(
        SettableJob(JobStatus.QUEUED), JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE
    )
    job_monitor(job, interval=0, quiet=True, output=stream)
    assert stream.getvalue() == ""
    assert job.state is JobStatus.DONE


def test_without_output_it_writes_to_the_current_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = SettableJob(JobStatus.DONE)
    job_monitor(job)
    out = capsys.readouterr().out
    assert out.startswith("\r✔ DONE " + str(job.job_id())) and out.endswith("\n")


@pytest.mark.parametrize("final", FINAL)
def test_a_job_already_final_shows_its_final_line(final: JobStatus) -> None:
    stream = io.StringIO()
    job_monitor(SettableJob(final), output=stream)
    assert stream.getvalue().count("\r") == 1
    assert final.name in stream.getvalue()


def test_interval_zero_is_accepted_for_polled_and_pushing_jobs() -> None:
    stream = io.StringIO()
    polled = stepping(SettableJob(JobStatus.RUNNING), *([JobStatus.RUNNING] * 30), JobStatus.DONE)
    job_monitor(polled, interval=0, output=stream)
    assert polled.queries == 31
    pushed = PushJob()
    pushed.push(JobStatus.DONE)
    job_monitor(pushed, interval=0, output=stream)


@pytest.mark.parametrize(
    ("interval", "error"),
    [(-1, ValueError), (-0.5, ValueError), (float("nan"), ValueError), ("5", TypeError)],
)
def test_bad_intervals_are_errors(interval: Any, error: type[Exception]) -> None:
    job = SettableJob(JobStatus.DONE)
    with pytest.raises(error, match="interval"):
        job_monitor(job, interval=interval, output=io.StringIO())
    assert job.queries == 0


def test_a_job_without_an_id_yet_says_so() -> None:
    job = LateIdJob(Backend())
    line = text_line(job, now=0)
    assert "(no id yet)" in line
    job.submit()
    assert job.given_id in text_line(job, now=0)


IMPORT_WITHOUT_WIDGETS = """
import io, sys

class Block:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in ("IPython", "ipywidgets", "anywidget", "ipykernel"):
            raise ImportError(f"{name} is not installed")
        return None

sys.meta_path.insert(0, Block)
from jobwidgets import JobStatus, SimulatedBackend, job_monitor
from jobwidgets.monitor import job_monitor as same
assert same is job_monitor
with SimulatedBackend(time_scale=0.001, seed=1) as backend:
    job = backend.run()
    out = io.StringIO()
    job_monitor(job, interval=0, output=out)
    job_monitor(job, quiet=True)
print(job.state.name, out.getvalue().endswith("\\n"))
"""


def test_it_works_in_a_terminal_without_the_widgets_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT_WIDGETS],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() in (["DONE", "True"], ["ERROR", "True"])
