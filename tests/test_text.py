"""``jobwidgets.text``: one text rendering of a job, for the repr, the notebook's
``text/plain``, the monitor's line and the terminal demo."""

from __future__ import annotations

import io

import pytest

from _jobs import PushJob
from jobwidgets import JobStatus, demo
from jobwidgets.text import format_duration, job_text, summary, text_line


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (0.44, "0.4s"), (9.94, "9.9s"), (9.97, "10s"), (59.9, "59s"), (185, "3m 05s")],
)
def test_durations_read_as_in_the_front_end(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text
    assert format_duration(2 * 3600 + 3 * 60 + 59) == "2h 03m"


def test_the_elapsed_words_follow_the_status() -> None:
    job = PushJob(job_id="w")
    job.push(JobStatus.QUEUED)
    assert job_text(job, now=job.submitted_at + 12).elapsed == "queued 12s"
    job.push(JobStatus.RUNNING)
    job.set_progress(0.4)
    parts = job_text(job, now=job.started_at + 2)
    assert (parts.elapsed, parts.progress) == ("running 2.0s", "40%")
    job.push(JobStatus.ERROR, error="boom")
    parts = job_text(job)
    assert parts.elapsed.startswith("failed after ") and parts.progress == ""
    assert text_line(job).endswith(": boom")


@pytest.mark.parametrize("status", list(JobStatus))
def test_repr_pretty_repr_and_text_line_agree(status: JobStatus) -> None:
    job = PushJob(job_id="agree-1")
    if status is JobStatus.ERROR:
        job.push(status, error="boom")
    else:
        job.push(status)
    expected = f"<PushJob {status.name} 'agree-1' [fake-backend]>"
    assert repr(job) == f"<PushJob {summary(job)}>" == expected

    class Printer:
        out = ""

        def text(self, value: str) -> None:
            self.out += value

    printer = Printer()
    job._repr_pretty_(printer, False)
    assert printer.out.split(" [")[0] == text_line(job).split(" [")[0]
    assert printer.out.startswith(f"{status.icon} {status.name} agree-1")


def test_the_demo_prints_text_lines() -> None:
    out = io.StringIO()
    assert demo.main(["--speed", "0.05"], stream=out) == 0
    printed = out.getvalue()
    assert "✖ ERROR simulated-" in printed and "failed after" in printed
    assert "⊘ CANCELLED" in printed
