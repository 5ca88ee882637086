"""The job panel's History view in a real JupyterLab and Chromium.

One scenario: a notebook runs jobs (some done, one failed with a log, one still running)
and a second notebook one job; the first kernel restarts; the History view, opened
from the keyboard, lists the first notebook's past jobs (the running one as "last seen
RUNNING · kernel ended"), then every notebook's; the search and the status filter ask
the server; the failed job's details show its error, traceback and log tail; the
matching jobs export as CSV and JSON; the live list still works beside it.

This checkout's build is what runs: JupyterLab gets this checkout's labextension
(``src/jobwidgets/labextension``, through ``JUPYTER_PATH``) and its server extension's
config (``jupyter-config/``), and the kernels import this checkout (``PYTHONPATH``).
Screenshots and the exported files go to ``artifacts/ui/``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import (
    ARTIFACTS,
    ROOT,
    Lab,
    LabError,
    Notebook,
    running_lab,
    screenshot,
    write_notebook,
)

PANEL = "#jobwidgets-panel"
HISTORY = "#jw-panel-view-history"
ROWS = f"{HISTORY} .jw-body .jw-row"

SETUP_A = """\
import json, os, time
import jobwidgets as jw
import jobwidgets.history
local = jw.LocalBackend(max_workers=2)
done = [local.run(sum, range(10 + i)) for i in range(3)]
def fail_after_logging():
    print("step 1 of 2: loading")
    print("step 2 of 2: <b>parsing</b>")
    raise ValueError("bad input <img src=x onerror=alert(1)>")
failing = local.run(fail_after_logging)
sim = jw.SimulatedBackend(seed=1, init_time=0, queue_time=0, validation_time=0, name="sim-a")
long = sim.run(run_time=600)
for job in [*done, failing]:
    job.wait_for_final_state(timeout=30)
deadline = time.time() + 20
while long.status().name != "RUNNING" and time.time() < deadline:
    time.sleep(0.05)
assert jobwidgets.history.flush(timeout=20)
print(json.dumps({"done": [j.job_id() for j in done], "failing": failing.job_id(),
                  "long": long.job_id(), "status": long.status().name,
                  "session": os.environ.get("JPY_SESSION_NAME")}))"""

SETUP_B = """\
import json
import jobwidgets as jw
import jobwidgets.history
other = jw.SimulatedBackend(seed=2, init_time=0, queue_time=0, validation_time=0, name="sim-b")
b_job = other.run(run_time=0.1)
b_job.wait_for_final_state(timeout=30)
assert jobwidgets.history.flush(timeout=20)
print(json.dumps({"id": b_job.job_id()}))"""


@pytest.fixture(scope="module")
def history_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab with this checkout's panel and history server extension, and a
    history file of its own that the kernels and the server share."""
    home = tmp_path_factory.mktemp("jupyter-history")
    root = tmp_path_factory.mktemp("lab-root-history")
    config = home / "config" / "jupyter_server_config.d"
    config.mkdir(parents=True)
    shutil.copy(ROOT / "jupyter-config" / "jupyter_server_config.d" / "jobwidgets.json", config)
    data_path = home / "jupyter-path"
    (data_path / "labextensions").mkdir(parents=True)
    built = ROOT / "src" / "jobwidgets" / "labextension"
    if not (built / "package.json").exists():
        pytest.fail(f"the labextension is not built: {built} (cd js && npm run build)")
    (data_path / "labextensions" / "jobwidgets").symlink_to(built)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(data_path))
        env.setenv("JOBWIDGETS_HISTORY", str(home / "history.sqlite3"))
        env.setenv(
            "PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
        )
        try:
            with running_lab(home, root, ARTIFACTS / "jupyterlab-history.log") as server:
                yield server
        except LabError as exc:
            pytest.fail(str(exc))


@pytest.fixture
def hpage(browser_context: Any, history_lab: Lab) -> Iterator[Any]:
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.errors = errors
    try:
        yield page
    finally:
        page.close()
        history_lab.shutdown_kernels()


class OpenedNotebook(Notebook):
    """A notebook opened with a JupyterLab command in the current page (no reload)."""

    def __init__(self, page: Any, lab: Lab, name: str, timeout: float = 60) -> None:
        self.page = page
        self.lab = lab
        self.name = name
        page.evaluate(
            "(path) => { window.jupyterapp.commands.execute('docmanager:open', {path}); }", name
        )
        page.wait_for_function(
            """(path) => {
              const w = window.jupyterapp.shell.currentWidget;
              const k = w && w.context && w.context.path === path && w.sessionContext.session
                && w.sessionContext.session.kernel;
              return !!(k && k.connectionStatus === 'connected' && k.status === 'idle');
            }""",
            arg=name,
            timeout=timeout * 1000,
        )


def history_ids(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(f"{ROWS} .jw-c-id").all_inner_texts()]


def wait_history_ids(page: Any, ids: list[str], timeout: float = 20) -> None:
    """Wait until the History view lists exactly ``ids`` (in any order)."""
    page.wait_for_function(
        """([sel, want]) => {
          const got = [...document.querySelectorAll(sel)].map((n) => n.textContent.trim());
          return got.length === want.length && want.every((id) => got.includes(id));
        }""",
        arg=[f"{ROWS} .jw-c-id", ids],
        timeout=timeout * 1000,
    )


def history_row(page: Any, job_id: str) -> Any:
    return page.locator(ROWS).filter(
        has=page.locator(".jw-c-id", has_text=re.compile(f"^{re.escape(job_id)}$"))
    )


def widen_panel(page: Any, width: int = 720) -> None:
    """Drag the side bar's edge so the panel is ``width`` pixels wide (for the pictures)."""
    box = page.locator(PANEL).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] - 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - width, y, steps=5)
    page.mouse.up()


def control(page: Any, role: str, name: str) -> Any:
    return page.locator(HISTORY).get_by_role(role, name=name, exact=True)


def test_the_history_view(hpage: Any, history_lab: Lab) -> None:
    page, lab = hpage, history_lab
    write_notebook(lab.root, "history-b.ipynb", [SETUP_B])
    nb = Notebook(page, lab, write_notebook(lab.root, "history-a.ipynb", [SETUP_A]))

    # ------------------------------------------------ run jobs in two notebooks
    nb.run_cell(0)
    facts = json.loads(nb.wait_cell(0, timeout=90).strip().splitlines()[-1])
    assert facts["status"] == "RUNNING", facts
    done, failing, long = facts["done"], facts["failing"], facts["long"]
    ids_a = [*done, failing, long]
    nb_b = OpenedNotebook(page, lab, "history-b.ipynb")
    nb_b.run_cell(0)
    b_id = json.loads(nb_b.wait_cell(0, timeout=90).strip().splitlines()[-1])["id"]

    # ------------------------------------------------ restart the first notebook's kernel
    nb = OpenedNotebook(page, lab, "history-a.ipynb")
    page.evaluate(
        "() => { window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart(); }"
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
        " === 'idle'",
        timeout=60000,
    )

    # ------------------------------------------------ open the History view by keyboard
    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    page.locator(PANEL).wait_for(state="visible", timeout=10000)
    live_tab = page.get_by_role("tab", name="Live", exact=True)
    history_tab = page.get_by_role("tab", name="History", exact=True)
    assert live_tab.get_attribute("aria-selected") == "true"
    live_tab.focus()
    page.keyboard.press("ArrowRight")
    assert history_tab.get_attribute("aria-selected") == "true"
    assert page.evaluate("() => document.activeElement.textContent") == "History"
    page.locator(HISTORY).wait_for(state="visible")
    widen_panel(page)
    assert "history-a.ipynb" in page.locator(f"{HISTORY} .jw-history-scope").inner_text()
    wait_history_ids(page, ids_a)  # this notebook's jobs only: not b's
    # the job that ran when its kernel ended: its last status, never a made-up final one
    ended = history_row(page, long).locator(".jw-c-status")
    for _ in range(20):  # the server marks ended kernels' jobs at most every few seconds
        if "kernel ended" in ended.inner_text():
            break
        control(page, "button", "Refresh the job history").click()
        page.wait_for_timeout(500)
    assert re.sub(r"\s+", " ", ended.inner_text()).replace("▶ ", "") == (
        "last seen RUNNING · kernel ended"
    )
    for job_id in done:
        assert history_row(page, job_id).locator(".jw-pill-label").inner_text() == "DONE"
    assert history_row(page, failing).locator(".jw-pill-label").inner_text() == "ERROR"
    position = page.locator(f"{HISTORY} .jw-history-position").inner_text()
    assert position == f"1\u2013{len(ids_a)} of {len(ids_a)}", position
    screenshot(page, "history-view")

    # ------------------------------------------------ every notebook's jobs
    control(page, "checkbox", "All notebooks").check()
    wait_history_ids(page, [*ids_a, b_id])
    assert history_row(page, b_id).locator(".jw-c-actions").inner_text() == "history-b.ipynb"
    screenshot(page.locator(PANEL), "history-all-notebooks")
    control(page, "checkbox", "All notebooks").uncheck()
    wait_history_ids(page, ids_a)

    # ------------------------------------------------ search and status filter
    search = control(page, "searchbox", "Search past jobs")
    search.fill(failing)
    wait_history_ids(page, [failing])
    search.fill("")
    wait_history_ids(page, ids_a)
    control(page, "combobox", "Show past jobs of status").select_option("ERROR")
    wait_history_ids(page, [failing])

    # ------------------------------------------------ the failed job's details
    history_row(page, failing).click()
    details = page.locator(f"{HISTORY} .jw-details")
    details.wait_for(state="visible")
    text = details.inner_text()
    assert "ValueError: bad input <img src=x onerror=alert(1)>" in text
    assert page.locator(f"{HISTORY} img").count() == 0
    traceback = details.locator(".jw-traceback:not(.jw-log-tail)").inner_text()
    assert "Traceback" in traceback and "fail_after_logging" in traceback, traceback
    log = details.locator(".jw-log-tail").inner_text().splitlines()
    assert len(log) == 2, log  # what the job printed, each line stamped
    assert log[0].endswith("step 1 of 2: loading"), log
    assert log[1].endswith("step 2 of 2: <b>parsing</b>"), log
    assert "history-a.ipynb" in text
    details.evaluate("(node) => { node.scrollTop = node.scrollHeight; }")
    screenshot(page.locator(PANEL), "history-failed-details")

    # ------------------------------------------------ export what matches, as CSV and JSON
    control(page, "combobox", "Show past jobs of status").select_option("")
    wait_history_ids(page, ids_a)
    with page.expect_download() as download_info:
        control(page, "button", "Export the matching past jobs as CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    csv_path = ARTIFACTS / "history-export.csv"
    download.save_as(csv_path)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert sorted(r["job_id"] for r in rows) == sorted(ids_a)
    by_id = {r["job_id"]: r for r in rows}
    assert by_id[long]["status"] == "RUNNING" and by_id[long]["kernel_ended"] == "True"
    assert by_id[failing]["error"].startswith("ValueError: bad input")
    with page.expect_download() as download_info:
        control(page, "button", "Export the matching past jobs as JSON").click()
    json_path = ARTIFACTS / "history-export.json"
    download_info.value.save_as(json_path)
    records = json.loads(json_path.read_text(encoding="utf-8"))
    assert sorted(r["job_id"] for r in records) == sorted(ids_a)
    assert {r["notebook"] for r in records} == {"history-a.ipynb"}
    status = page.locator(f"{HISTORY} .jw-history-status").inner_text()
    assert status == f"Exported {len(ids_a)} jobs as JSON.", status

    # ------------------------------------------------ the live list is still there
    live_tab.click()
    assert page.locator(HISTORY).is_hidden()
    page.wait_for_function(
        "(sel) => document.querySelector(sel)?.dataset.jwState === 'unavailable'",
        arg=PANEL,
        timeout=20000,
    )  # the restarted kernel has not imported jobwidgets
    # the other notebook's kernel (jobwidgets imported): its live job list
    OpenedNotebook(page, lab, "history-b.ipynb")
    live_ids = page.locator("#jw-panel-view-live .jw-body .jw-row .jw-c-id")
    live_ids.first.wait_for(timeout=20000)
    assert live_ids.all_inner_texts() == [b_id]
    # and the History follows the active notebook
    history_tab.click()
    wait_history_ids(page, [b_id])
    assert "history-b.ipynb" in page.locator(f"{HISTORY} .jw-history-scope").inner_text()
    # JupyterLab runs comms over kernel subshells: when the kernel restarts while the live
    # list's comm waits for its subshell, JupyterLab leaves the cancelled
    # create_subshell_request unhandled. An issue of the live list's reconnection, not of
    # the History view (which needs no kernel).
    errors = [e for e in page.errors if "create_subshell_request" not in e]
    assert errors == [], page.errors


DASK_SUBMIT = """\
import json, pathlib, time
from jobwidgets import JobStatus
from jobwidgets.dask import DaskBackend
import jobwidgets.history
def hold(path):
    while not pathlib.Path(path).exists():
        time.sleep(0.1)
    return "released"
backend = DaskBackend(pathlib.Path("first-scheduler").read_text(), keep_on_cluster=True)
job = backend.run(hold, "never")
deadline = time.time() + 60
while job.status() is not JobStatus.RUNNING and time.time() < deadline:
    time.sleep(0.05)
assert jobwidgets.history.flush(timeout=20)
print(json.dumps({"id": job.job_id(), "status": job.status().name}))"""

DASK_RETRIEVE = """\
import json, pathlib
from jobwidgets import JobError
from jobwidgets.dask import DaskBackend
import jobwidgets.history
try:
    DaskBackend(pathlib.Path("second-scheduler").read_text()).retrieve_job(lost_id)
except JobError as exc:
    error = str(exc)
assert jobwidgets.history.flush(timeout=20)
print(json.dumps({"error": error}))"""


def test_a_dask_job_lost_with_its_scheduler_says_so_in_the_history(
    hpage: Any, history_lab: Lab
) -> None:
    """A kept Dask job runs on a scheduler; its kernel restarts and the scheduler stops.
    Retrieving it from a new scheduler fails, and the History view's details of the job
    say it was lost, and where."""
    from distributed import LocalCluster

    page, lab = hpage, history_lab
    cluster_options: dict[str, Any] = {"n_workers": 1, "threads_per_worker": 1}
    cluster_options.update(dashboard_address=":0", host="127.0.0.1")
    nb = None
    with LocalCluster(**cluster_options) as first:
        (lab.root / "first-scheduler").write_text(first.scheduler_address)
        nb = Notebook(page, lab, write_notebook(lab.root, "history-dask.ipynb", [DASK_SUBMIT]))
        nb.run_cell(0)
        facts = json.loads(nb.wait_cell(0, timeout=120).strip().splitlines()[-1])
        assert facts["status"] == "RUNNING", facts
        page.evaluate(
            "() => { window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            ".restart(); }"
        )
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
            " === 'idle'",
            timeout=60000,
        )
    lost = facts["id"]
    with LocalCluster(**cluster_options) as second:
        (lab.root / "second-scheduler").write_text(second.scheduler_address)
        code = f"lost_id = {lost!r}\n{DASK_RETRIEVE}"
        error = json.loads(nb.run_code(code, timeout=120).strip().splitlines()[-1])["error"]
        address = second.scheduler_address
    assert f"does not hold job {lost!r}" in error

    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    page.get_by_role("tab", name="History", exact=True).click()
    page.locator(HISTORY).wait_for(state="visible")
    widen_panel(page)
    control(page, "searchbox", "Search past jobs").fill(lost)
    wait_history_ids(page, [lost])
    status = history_row(page, lost).locator(".jw-c-status")
    shown = re.sub(r"\s+", " ", status.inner_text()).replace("▶ ", "")
    assert shown == "last seen RUNNING · kernel ended", shown
    history_row(page, lost).click()
    details = page.locator(f"{HISTORY} .jw-details")
    details.wait_for(state="visible")
    text = re.sub(r"\s+", " ", details.inner_text())
    assert f"lost: no longer held by the Dask scheduler at {address}" in text, text
    screenshot(page.locator(PANEL), "history-lost-dask-job")
