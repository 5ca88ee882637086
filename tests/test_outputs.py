"""``jobwidgets.outputs``: the text of a notebook's outputs follows their jobs, so an
executed and exported notebook shows each job's final state, offline.

The notebook runs once per module in a real kernel, through nbclient (what
``jupyter nbconvert --execute`` runs), and is exported with nbconvert's ``HTMLExporter``;
the tests read the executed notebook, the messages the kernel sent, nbclient's log and
the kernel's stderr, and the exported page (parsed, never loaded: no network).
"""

from __future__ import annotations

import io
import logging
import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_notebook

import jobwidgets
from _jobs import PushJob
from jobwidgets import JobStatus, outputs
from jobwidgets.bridge import Bridge
from jobwidgets.widgets import StatusBadge
from widget_support import ManualLoop, install_recording_comm

SRC = Path(jobwidgets.__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
FINAL = {"DONE", "ERROR", "CANCELLED"}

CELLS = [
    """import jobwidgets as jw
from jobwidgets.widgets import JobMonitor, JobTable, job_monitor

remote = jw.SimulatedBackend(seed=3, capacity=2, time_scale=0.05)
local = jw.LocalBackend(max_workers=2)""",
    "%load_ext jobwidgets\n%job_watcher",
    "job = remote.run(run_time=4)\njob",
    """def fail():
    raise ValueError("<b>boom</b>")

batch = remote.run_many(2)
failing = local.run(fail)
JobTable([*batch, failing], title="Batch")""",
    "watched = remote.run(run_time=2)\nwatched.wait_for_final_state(callback=JobMonitor())",
    "shown = remote.run(run_time=2)\njob_monitor(shown)",
    "for j in (job, *batch, failing):\n    j.wait_for_final_state()",
    "local.close()\nremote.close()",
]


class Recorded:
    """One headless execution: the notebook, the kernel's messages, the logs, the page."""

    def __init__(self, nb: Any, messages: list[dict[str, Any]], log: str, stderr: str) -> None:
        self.nb = nb
        self.messages = messages
        self.log = log
        self.stderr = stderr
        page, _ = HTMLExporter().from_notebook_node(nb)
        self.soup = BeautifulSoup(page, "html.parser")

    def outputs(self, cell: int) -> list[Any]:
        return list(self.nb.cells[cell].outputs)

    def page_outputs(self, cell: int) -> list[Any]:
        cells = self.soup.select(".jp-Cell.jp-CodeCell")
        return list(cells[cell].select(".jp-OutputArea-output"))


class RecordingClient(NotebookClient):  # type: ignore[misc]
    """nbclient, keeping every message of the running cell that it processes."""

    seen: list[dict[str, Any]]

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        self.seen.append(msg)
        return super().process_message(msg, cell, cell_index)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    tmp = tmp_path_factory.mktemp("executed")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    folders = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython",
    }
    for name, folder in folders.items():
        (tmp / folder).mkdir()
        env[name] = str(tmp / folder)
    nb = new_notebook(cells=[new_code_cell(source) for source in CELLS])
    log_text = io.StringIO()
    logger = logging.getLogger("test_outputs.nbclient")
    handler = logging.StreamHandler(log_text)
    logger.addHandler(handler)
    client = RecordingClient(
        nb, timeout=60, kernel_name="python3", log=logger, resources={"metadata": {"path": tmp}}
    )
    client.seen = []
    stderr_path = tmp / "kernel-stderr.txt"
    with pytest.MonkeyPatch.context() as mp, stderr_path.open("w") as stderr:
        for name in folders:
            mp.setenv(name, env[name])
        client.execute(env=env, stderr=stderr)
    logger.removeHandler(handler)
    nbformat.validate(nb)
    return Recorded(nb, client.seen, log_text.getvalue(), stderr_path.read_text())


def _text(output: Any) -> str:
    text = output["data"]["text/plain"]
    return text if isinstance(text, str) else "".join(text)


def _all_final(text: str) -> bool:
    """Whether a badge's or a table's text says that every job shown is final."""
    heading = text.splitlines()[0]
    if "(" not in heading:  # a badge: "✔ DONE id [backend] ..."
        return heading.split()[1] in FINAL
    tally = heading.rsplit("(", 1)[1].rstrip(")")
    return all(part.split()[0] in FINAL for part in tally.split(", "))


def test_the_executed_notebook_says_each_jobs_final_state(run: Recorded) -> None:
    (watcher,) = run.outputs(1)
    assert _text(watcher).startswith("JobTable 'Job watcher': 6 jobs (DONE 5, ERROR 1)\n")
    (badge,) = run.outputs(2)
    assert _text(badge).startswith("✔ DONE simulated-1 [simulated] done in ")
    (table,) = run.outputs(3)
    lines = _text(table).splitlines()
    assert lines[0] == "JobTable 'Batch': 3 jobs (DONE 2, ERROR 1)"
    assert lines[1].startswith("  ✔ DONE simulated-2 ") and lines[2].startswith(
        "  ✔ DONE simulated-3 "
    )
    assert lines[3].startswith("  ✖ ERROR ") and lines[3].endswith("ValueError: <b>boom</b>")
    (monitor,) = run.outputs(4)
    assert _text(monitor).startswith(
        "JobMonitor 'Job monitor': 1 job (DONE 1)\n  ✔ DONE simulated-4"
    )
    (monitored,) = run.outputs(5)  # job_monitor's badge
    assert _text(monitored).startswith("✔ DONE simulated-5 [simulated] done in ")
    for output in (watcher, badge, table, monitor, monitored):
        assert output["output_type"] == "execute_result"
        # final: the saved output carries its text, which nbconvert then shows
        assert WIDGET_VIEW not in output["data"]


def test_the_exported_page_shows_each_jobs_final_state_as_text(run: Recorded) -> None:
    # nothing is left for a widget renderer fetched from a CDN: the page reads offline
    assert run.soup.select(f'script[type="{WIDGET_VIEW}"]') == []
    texts = [[o.get_text(" ", strip=True) for o in run.page_outputs(i)] for i in range(1, 6)]
    watcher, badge, table, monitor, monitored = (t[0] for t in texts)
    assert watcher.startswith("Job watcher: 6 jobs (DONE 5, ERROR 1)")
    assert badge.startswith("✔ DONE simulated-1 [simulated] done in ")
    assert table.startswith("Batch: 3 jobs (DONE 2, ERROR 1) ✔ DONE simulated-2 ")
    assert "ValueError: <b>boom</b>" in table  # the error's markup is text
    assert run.page_outputs(3)[0].select("b") == []
    assert monitor.startswith("Job monitor: 1 job (DONE 1) ✔ DONE simulated-4 ")
    assert monitored.startswith("✔ DONE simulated-5 [simulated] done in ")


def test_live_front_ends_get_the_widget_and_updates_only_for_its_text(run: Recorded) -> None:
    dates = [m["header"]["date"] for m in run.messages]
    run_seconds = (max(dates) - min(dates)).total_seconds()
    results = [m for m in run.messages if m["msg_type"] == "execute_result"]
    shown = [m for m in results if WIDGET_VIEW in m["content"]["data"]]
    assert len(shown) == 5  # watcher, badge, table, monitor, job_monitor's badge
    for message in shown:
        display_id = message["content"]["transient"]["display_id"]
        updates = [
            m
            for m in run.messages
            if m["msg_type"] == "update_display_data"
            and m["content"]["transient"]["display_id"] == display_id
        ]
        assert updates, f"no update for {_text(message['content'])!r}"
        # an update carries the widget view while something the output shows runs on
        assert WIDGET_VIEW not in updates[-1]["content"]["data"]
        for update in updates:
            text = _text(update["content"])
            assert (WIDGET_VIEW in update["content"]["data"]) is not _all_final(text), text
        # a few updates (at most one a second, and one at the end of each cell), never
        # one per change (the watcher's six jobs change state some thirty times)
        assert len(updates) <= len(CELLS) + math.ceil(run_seconds) + 1


def test_a_headless_execution_logs_no_unknown_comm_target(run: Recorded) -> None:
    assert "No handler found for comm target" not in run.log
    assert "No handler found for comm target" not in run.stderr
    assert "comm" not in run.log.lower(), run.log


def test_job_monitor_in_a_terminal_writes_job_monitors_line() -> None:
    code = """
import sys
import jobwidgets as jw
from jobwidgets.text import text_line
from jobwidgets.widgets import JobMonitor

backend = jw.SimulatedBackend(seed=1, time_scale=0.05)
job = backend.run(run_time=2)
job.wait_for_final_state(wait=0.01, callback=JobMonitor())
sys.stdout.write("LINE " + text_line(job) + "\\n")
backend.close()
"""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    done = subprocess.run(  # bytes: text mode would read each "\r" as a line end
        [sys.executable, "-c", code], capture_output=True, timeout=60, env=env, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    *monitored, expected = done.stdout.decode().rstrip("\n").split("\n")
    assert expected.startswith("LINE ✔ DONE simulated-1 [simulated] done in ")
    # one line, rewritten after a carriage return, as job_monitor writes it, then a newline
    assert len(monitored) == 1
    assert monitored[0].startswith("\r")
    assert monitored[0].split("\r")[-1].rstrip() == expected.removeprefix("LINE ")


def test_an_output_gets_few_updates_from_the_bridges_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import IPython.display

    install_recording_comm(monkeypatch)
    loop = ManualLoop()
    bridge = Bridge(loop, clock=loop.clock, interval=0.1)
    sent: list[tuple[dict[str, Any], dict[str, Any], bool]] = []

    def publish(data: dict[str, Any], **keys: Any) -> None:
        sent.append((data, keys, bridge.on_owner_thread()))

    monkeypatch.setattr(IPython.display, "publish_display_data", publish)
    building: dict[str, Any] = {"msg_type": "execute_result", "content": {}}
    hook = SimpleNamespace(msg=building)  # IPython's display hook, building a cell's value
    monkeypatch.setattr(outputs, "_shell", lambda: SimpleNamespace(displayhook=hook))

    job, shown_by_display = PushJob(job_id="id-<1>"), PushJob()
    badge = StatusBadge(job, bridge=bridge)
    data, _ = badge._repr_mimebundle_()
    display_id = building["content"]["transient"]["display_id"]
    hook.msg = None  # display(): an output without a display id, which nothing updates
    other = StatusBadge(shown_by_display, bridge=bridge)
    other._repr_mimebundle_()
    loop.run_due()

    job.push(JobStatus.RUNNING)
    shown_by_display.push(JobStatus.RUNNING)
    loop.run_due()
    for step in range(1, 50):  # progress: the text's facts stay the same
        loop.now += 0.05
        job.set_progress(step / 50)
        loop.run_due()
    job.push(JobStatus.QUEUED)  # a retry, then the end, within the same second
    job.push(JobStatus.ERROR, error="<b>boom</b>")
    shown_by_display.push(JobStatus.DONE)
    loop.run_due()
    assert len(sent) == 1  # at most one update a second
    loop.now += 1.0
    loop.run_due()

    assert [keys for _, keys, _ in sent] == [
        {"transient": {"display_id": display_id}, "update": True}
    ] * 2
    assert all(owner for _, _, owner in sent)
    (running, _, _), (failed, _, _) = sent
    assert running["text/plain"].startswith("▶ RUNNING id-<1> ")
    assert running[WIDGET_VIEW] == data[WIDGET_VIEW]  # while the job runs, the widget stays
    assert failed["text/plain"].startswith("✖ ERROR id-<1> ")
    assert failed["text/plain"].endswith(": <b>boom</b>")
    assert "&lt;b&gt;boom&lt;/b&gt;" in failed["text/html"] and "<b>" not in failed["text/html"]
    assert WIDGET_VIEW not in failed  # final: the text alone, for nbconvert to show
    badge.close()
    other.close()


def test_the_end_of_a_cell_sends_the_last_change_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    install_recording_comm(monkeypatch)
    loop = ManualLoop()
    bridge = Bridge(loop, clock=loop.clock, interval=0.1)
    sent: list[dict[str, Any]] = []
    publish = lambda data, **_: sent.append(data)  # noqa: E731
    monkeypatch.setattr(IPython.display, "publish_display_data", publish)
    hook = SimpleNamespace(msg={"msg_type": "execute_result", "content": {}})
    monkeypatch.setattr(outputs, "_shell", lambda: SimpleNamespace(displayhook=hook))
    job = PushJob()
    badge = StatusBadge(job, bridge=bridge)
    badge._repr_mimebundle_()
    loop.run_due()
    job.push(JobStatus.RUNNING)
    loop.now += 0.1  # the bridge's interval
    loop.run_due()
    assert len(sent) == 1
    loop.now += 0.2
    job.push(JobStatus.DONE)  # the cell's wait returns at once; no flush has run yet
    # the cell ends: what is pending goes out now, not a second later (after the cell)
    assert outputs.settle(bridge) is True
    assert [data["text/plain"].split()[1] for data in sent] == ["RUNNING", "DONE"]
    loop.now += 5.0
    loop.run_due()
    assert len(sent) == 2
    badge.close()
