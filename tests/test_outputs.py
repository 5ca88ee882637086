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
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_notebook

import jobwidgets

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
        # a few updates (one a second at most), never one per change
        assert len(updates) <= 6


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
