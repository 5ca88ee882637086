"""The JupyterLab job panel in a real JupyterLab and Chromium.

One scenario, in the order a user meets it: the panel opens from the command palette's
command; a kernel without jobwidgets shows a friendly empty state; a notebook submits
simulated jobs without displaying anything, and the panel lists them as they change
state; a failing job raises a notification; Cancel works with the kernel idle and while
a cell blocks it; a second notebook shows only its own jobs; a kernel restart clears
the list; a page reload reconnects (and the panel is still open).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from conftest import ARTIFACTS, Lab, Notebook, screenshot, write_notebook

PANEL = "#jobwidgets-panel"
ROWS = f"{PANEL} .jw-body .jw-row"

SETUP_A = """\
import json, time
import jobwidgets as jw
remote = jw.SimulatedBackend(seed=3, init_time=0, queue_time=0.5, validation_time=0.2,
                             capacity=10, name="sim-a")
quick = remote.run_many(3, run_time=2)
failing = remote.run(run_time=1, fail=True)
long1, long2 = remote.run(run_time=300), remote.run(run_time=300)
stamps = []
long2.observe(lambda change: stamps.append((time.time(), change.new.name)), "state")
print(json.dumps({"ids": [j.job_id() for j in (*quick, failing, long1, long2)]}))"""

SETUP_B = """\
import json
import jobwidgets as jw
other = jw.SimulatedBackend(seed=4, init_time=0, queue_time=0, validation_time=0,
                            name="sim-b")
b_jobs = other.run_many(2, run_time=300)
print(json.dumps({"ids": [j.job_id() for j in b_jobs]}))"""


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


def panel_ids(page: Any) -> list[str]:
    return [
        text.strip() for text in page.locator(f"{ROWS} .jw-c-id").all_inner_texts() if text.strip()
    ]


def wait_ids(page: Any, ids: list[str], timeout: float = 20) -> None:
    """Wait until the panel lists exactly ``ids`` (in any order)."""
    page.wait_for_function(
        """([sel, want]) => {
          const got = [...document.querySelectorAll(sel)].map((n) => n.textContent.trim());
          return got.length === want.length && want.every((id) => got.includes(id));
        }""",
        arg=[f"{ROWS} .jw-c-id", ids],
        timeout=timeout * 1000,
    )


def row_of(page: Any, job_id: str) -> Any:
    return page.locator(ROWS).filter(
        has=page.locator(".jw-c-id", has_text=re.compile(f"^{re.escape(job_id)}$"))
    )


def wait_status(page: Any, job_id: str, status: str, timeout: float = 20) -> None:
    row_of(page, job_id).locator(".jw-pill-label", has_text=status).wait_for(timeout=timeout * 1000)


def panel_state(page: Any) -> str:
    return str(page.locator(PANEL).get_attribute("data-jw-state"))


def wait_state(page: Any, state: str, timeout: float = 20) -> None:
    page.wait_for_function(
        "([sel, s]) => document.querySelector(sel)?.dataset.jwState === s",
        arg=[PANEL, state],
        timeout=timeout * 1000,
    )


def show_panel(page: Any) -> None:
    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    page.locator(PANEL).wait_for(state="visible", timeout=10000)


def test_the_job_panel(page: Any, lab: Lab) -> None:
    log_start = (ARTIFACTS / "jupyterlab.log").stat().st_size
    write_notebook(lab.root, "panel-b.ipynb", [SETUP_B])
    nb = Notebook(page, lab, write_notebook(lab.root, "panel-a.ipynb", [SETUP_A]))

    # ------------------------------------------------ opens; a kernel without jobwidgets
    labels = page.evaluate("() => window.jupyterapp.commands.label('jobwidgets:show-panel')")
    assert labels == "Show Jobs"
    show_panel(page)
    wait_state(page, "unavailable")
    empty = page.locator(f"{PANEL} .jw-panel-empty").inner_text()
    assert "import jobwidgets" in empty
    assert "panel-a.ipynb" in page.locator(f"{PANEL} .jw-panel-kernel").inner_text()

    # ------------------------------------------------ jobs appear, live, without display
    nb.run_cell(0)
    ids_a = json.loads(nb.wait_cell(0))["ids"]
    quick, failing, long1, long2 = ids_a[:3], ids_a[3], ids_a[4], ids_a[5]
    wait_state(page, "connected")
    wait_ids(page, ids_a)
    assert len(nb.output_text(0).strip().splitlines()) == 1  # nothing displayed but the print
    for job_id in quick:
        wait_status(page, job_id, "RUNNING")
    for job_id in quick:
        wait_status(page, job_id, "DONE")
    wait_status(page, failing, "ERROR")
    chips = page.locator(f"{PANEL} .jw-chip:not([hidden])").all_inner_texts()
    assert any("DONE" in c and "3" in c for c in chips), chips
    assert any("ERROR" in c and "1" in c for c in chips), chips
    # the failure raised a notification
    page.locator(".Toastify__toast", has_text=f"Job {failing} failed").first.wait_for(timeout=10000)
    screenshot(page, "panel-beside-notebook")
    screenshot(page.locator(PANEL), "panel")

    # ------------------------------------------------ cancel, kernel idle
    wait_status(page, long1, "RUNNING")
    row_of(page, long1).locator("button.jw-cancel").click()
    wait_status(page, long1, "CANCELLED", timeout=10)
    assert nb.run_code("print(long1.status().name)").strip() == "CANCELLED"

    # ------------------------------------------------ cancel while a cell blocks
    sleep_cell = (
        "end = time.time() + 8\n"
        "while time.time() < end:\n"
        "    time.sleep(0.1)\n"
        "print('slept until', repr(time.time()))"
    )
    index = nb.append(sleep_cell)
    nb.run_cell(index)
    nb.wait_started(index)
    time.sleep(1.0)
    row_of(page, long2).locator("button.jw-cancel").click()
    time.sleep(1.0)
    note = row_of(page, long2).locator(".jw-cancel-note").inner_text()
    screenshot(page.locator(PANEL), "panel-cancel-while-busy")
    assert not nb.cell_finished(index), "the sleep ended too early for this test to mean anything"
    output = nb.wait_cell(index, timeout=20)
    slept_until = float(re.search(r"slept until ([\d.]+)", output).group(1))
    report = json.loads(nb.run_code("print(json.dumps(stamps))"))
    cancelled_at = [t for t, name in report if name == "CANCELLED"]
    assert cancelled_at and cancelled_at[0] < slept_until - 3, (report, slept_until, note)
    assert note in ("cancelling…", "waiting for kernel…", ""), note
    wait_status(page, long2, "CANCELLED", timeout=10)

    # ------------------------------------------------ a second notebook: only its jobs
    nb_b = OpenedNotebook(page, lab, "panel-b.ipynb")
    wait_state(page, "unavailable")
    assert panel_ids(page) == []
    nb_b.run_cell(0)
    ids_b = json.loads(nb_b.wait_cell(0))["ids"]
    wait_ids(page, ids_b)
    assert "panel-b.ipynb" in page.locator(f"{PANEL} .jw-panel-kernel").inner_text()
    screenshot(page, "panel-second-notebook")

    # ------------------------------------------------ restart clears the list
    page.evaluate(
        "() => { window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart(); }"
    )
    wait_state(page, "unavailable", timeout=60)
    assert panel_ids(page) == []
    screenshot(page.locator(PANEL), "panel-after-restart")

    # ------------------------------------------------ back to the first notebook, reload
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('docmanager:open', {path: 'panel-a.ipynb'}); }"
    )
    wait_ids(page, ids_a)
    # save, so that no "leave the page?" prompt holds the reload
    page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save-all'); }")
    page.wait_for_function(
        """() => [...window.jupyterapp.shell.widgets('main')].every(
             (w) => !w.context || !w.context.model.dirty)"""
    )
    page.reload()
    page.locator(PANEL).wait_for(state="visible", timeout=60000)  # restored, still open
    wait_ids(page, ids_a, timeout=60)
    for job_id in quick:
        wait_status(page, job_id, "DONE")
    wait_status(page, long1, "CANCELLED")
    screenshot(page, "panel-after-reload")
    assert page.errors == []
    # the panel never sent a comm message that its kernel could not place
    time.sleep(1)
    with (ARTIFACTS / "jupyterlab.log").open(errors="replace") as log:
        log.seek(log_start)
        assert "No such comm" not in log.read()
