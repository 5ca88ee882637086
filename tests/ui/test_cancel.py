"""Cancel from a table row: with the kernel idle, and while a cell blocks the main shell.

A click always sends the comm message ``{"type": "cancel"}``. When the kernel is busy the
front end also runs ``_route.cancel(...)`` on a kernel subshell (ipykernel 7 runs it on
its own thread), so the job is cancelled at once even though the comm message waits
behind the blocked cell.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from conftest import Lab, Notebook, screenshot, write_notebook

SETUP = """\
import json, time
import jobwidgets as jw
from jobwidgets.widgets import JobMonitor, JobTable
remote = jw.SimulatedBackend(seed=1, init_time=0, queue_time=0, validation_time=0)
job = remote.run(run_time=120)
stamps = []
job.observe(lambda change: stamps.append((time.time(), change.new.name)), "state")
table = JobTable([job])
table"""


def _open(page: Any, lab: Lab, name: str, cells: list[str]) -> tuple[Notebook, Any]:
    nb = Notebook(page, lab, write_notebook(lab.root, name, cells))
    nb.run_cell(0)
    nb.wait_cell(0)
    assert nb.errors(0) == []
    table = page.locator(".jw-table:not(.jw-compact)").first
    table.wait_for(timeout=15000)
    # the job runs: its Cancel button is enabled
    table.locator(".jw-body .jw-row .jw-c-status", has_text="RUNNING").first.wait_for(timeout=15000)
    return nb, table


def _row_status(table: Any) -> str:
    return str(table.locator(".jw-body .jw-row .jw-c-status .jw-pill-label").first.inner_text())


def _wait_row_status(table: Any, status: str, timeout: float = 10) -> float:
    """Wait until the first row shows ``status``; return how long it took."""
    start = time.monotonic()
    table.locator(".jw-body .jw-row .jw-c-status .jw-pill-label", has_text=status).wait_for(
        timeout=timeout * 1000
    )
    return time.monotonic() - start


def test_cancel_idle_kernel(page: Any, lab: Lab) -> None:
    nb, table = _open(page, lab, "cancel-idle.ipynb", [SETUP])
    nb.wait_idle()
    table.locator(".jw-body .jw-row button.jw-cancel").first.click()
    _wait_row_status(table, "CANCELLED", timeout=5)
    assert table.locator(".jw-body .jw-row button.jw-cancel").first.is_disabled()
    assert table.locator(".jw-chip.jw-st-cancelled .jw-chip-count").inner_text() == "1"
    assert nb.run_code("print(job.cancelled(), job.status().name)").strip() == "True CANCELLED"
    screenshot(table, "cancel-idle-table")
    assert page.errors == []


def test_cancel_while_blocked_in_wait_for_final_state(page: Any, lab: Lab) -> None:
    """The row's Cancel reaches the kernel while cell 2 waits, through a subshell.

    Seen in the page: the monitor and the table show CANCELLED right after the click,
    while the cell still waits; the cell prints CANCELLED when the wait wakes.
    """
    wait_cell = (
        "t0 = time.time()\n"
        "job.wait_for_final_state(wait=1, callback=JobMonitor())\n"
        "print('waited', round(time.time() - t0, 1), job.status().name)"
    )
    nb, table = _open(page, lab, "cancel-blocked.ipynb", [SETUP, wait_cell])
    nb.run_cell(1)
    monitor = page.locator(".jw-table.jw-compact")
    monitor.wait_for(timeout=15000)
    nb.wait_started(1)
    time.sleep(1.5)
    assert not nb.cell_finished(1)
    # the monitor synced through a subshell, whose own "idle" JupyterLab's kernel status
    # shows; the table's note follows the main shell, which still runs the cell
    table.locator(".jw-busy-note").wait_for(state="visible", timeout=5000)
    clicked = time.monotonic()
    table.locator(".jw-body .jw-row button.jw-cancel").first.click()
    screenshot(page, "cancel-blocked-after-click")
    output = nb.wait_cell(1, timeout=15)
    ended = time.monotonic() - clicked
    assert ended < 8, f"the blocked cell ended {ended:.1f}s after the click"
    assert "CANCELLED" in output, output
    waited = float(re.search(r"waited ([\d.]+)", output).group(1))
    assert waited < 15, output
    _wait_row_status(table, "CANCELLED", timeout=5)
    _wait_row_status(monitor, "CANCELLED", timeout=5)
    assert nb.run_code("print(job.cancelled())").strip() == "True"
    screenshot(table, "cancel-blocked-table")
    screenshot(monitor, "cancel-blocked-monitor")
    assert page.errors == []


def test_cancel_while_blocked_in_plain_sleep(page: Any, lab: Lab) -> None:
    """A cell that sleeps, with no callback and no monitor: the subshell route still
    cancels the job at once (the observer's time stamp is seconds before the sleep ends).

    Seen in the page: the row shows CANCELLED while the cell still sleeps (the bridge
    sends from its own thread).
    """
    sleep = 8
    sleep_cell = (
        f"end = time.time() + {sleep}\n"
        "while time.time() < end:\n"
        "    time.sleep(0.1)\n"
        "print('slept until', repr(time.time()))"
    )
    nb, table = _open(page, lab, "cancel-sleep.ipynb", [SETUP, sleep_cell])
    nb.run_cell(1)
    nb.wait_started(1)
    time.sleep(1.5)
    # the header says the kernel is busy
    table.locator(".jw-busy-note").wait_for(state="visible", timeout=5000)
    table.locator(".jw-body .jw-row button.jw-cancel").first.click()
    time.sleep(1.0)
    during = table.locator(".jw-body .jw-row").first.inner_text()
    screenshot(table, "cancel-sleep-during")
    assert not nb.cell_finished(1), "the sleep ended too early for this test to mean anything"
    assert "CANCELLED" in during, during
    output = nb.wait_cell(1, timeout=sleep + 10)
    slept_until = float(re.search(r"slept until ([\d.]+)", output).group(1))
    report = json.loads(
        nb.run_code("print(json.dumps({'cancelled': job.cancelled(), 'stamps': stamps}))")
    )
    assert report["cancelled"] is True
    cancelled_at = [t for t, name in report["stamps"] if name == "CANCELLED"]
    assert len(cancelled_at) == 1
    assert cancelled_at[0] < slept_until - 3, (report, slept_until)
    _wait_row_status(table, "CANCELLED", timeout=5)
    screenshot(table, "cancel-sleep-after")
    print(f"row while the cell slept: {during!r}")
    print(f"cancelled {slept_until - cancelled_at[0]:.1f}s before the sleep ended")
    assert page.errors == []


def test_two_cancels_while_blocked(page: Any, lab: Lab) -> None:
    """Two rows cancelled one after the other while one cell sleeps: both reach the
    kernel at once, not when the cell ends."""
    setup = SETUP.replace(
        "job = remote.run(run_time=120)",
        "job, job2 = remote.run(run_time=120), remote.run(run_time=120)",
    ).replace("JobTable([job])", "JobTable([job, job2])")
    setup = setup.replace(
        "table = ",
        "job2.observe(lambda change: stamps.append((time.time(), 'job2 ' + change.new.name)),"
        " 'state')\ntable = ",
    )
    sleep_cell = (
        "end = time.time() + 10\n"
        "while time.time() < end:\n"
        "    time.sleep(0.1)\n"
        "print('slept until', repr(time.time()))"
    )
    nb, table = _open(page, lab, "cancel-two.ipynb", [setup, sleep_cell])
    nb.run_cell(1)
    kernel_status = (
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
    )
    nb.wait_started(1)
    time.sleep(1.0)
    buttons = table.locator(".jw-body .jw-row button.jw-cancel")
    buttons.nth(0).click()
    time.sleep(1.5)
    status_after_first = page.evaluate(kernel_status)
    buttons.nth(1).click()
    time.sleep(1.0)
    notes = table.locator(".jw-body .jw-row .jw-cancel-note").all_inner_texts()
    output = nb.wait_cell(1, timeout=20)
    slept_until = float(re.search(r"slept until ([\d.]+)", output).group(1))
    report = json.loads(
        nb.run_code(
            "print(json.dumps({'cancelled': [job.cancelled(), job2.cancelled()],"
            " 'stamps': stamps}))"
        )
    )
    print("kernel status seen by the page after the first cancel:", status_after_first)
    print("notes after the second click:", notes)
    print("stamps:", [(round(slept_until - t, 1), name) for t, name in report["stamps"]])
    assert report["cancelled"] == [True, True]
    first = [t for t, name in report["stamps"] if name == "CANCELLED"]
    second = [t for t, name in report["stamps"] if name == "job2 CANCELLED"]
    assert first and first[0] < slept_until - 3
    assert second and second[0] < slept_until - 3, "the second Cancel waited for the cell to end"


MADE_IN_THE_CELL = {
    "JobMonitor": (
        "t0 = time.time()\n"
        "job.wait_for_final_state(wait=1, callback=JobMonitor())\n"
        "print('waited', round(time.time() - t0, 1), job.status().name)"
    ),
    "JobTable": (
        "t0 = time.time()\n"
        "display(JobTable([job], title='made in the cell'))\n"
        "job.wait_for_final_state(wait=1)\n"
        "print('waited', round(time.time() - t0, 1), job.status().name)"
    ),
}


@pytest.mark.parametrize("front_end", ["lab", "notebook"])
@pytest.mark.parametrize("widget", list(MADE_IN_THE_CELL))
def test_cancel_from_a_widget_made_in_the_blocking_cell(
    page: Any, lab: Lab, front_end: str, widget: str
) -> None:
    """``job.wait_for_final_state(callback=JobMonitor())``, then the monitor's own Cancel
    while the cell waits: the job is cancelled and the wait ends within seconds. The
    same for a table displayed inside the blocking cell; in JupyterLab and Notebook 7."""
    setup = (
        "import json, time\n"
        "import jobwidgets as jw\n"
        "from IPython.display import display\n"
        "from jobwidgets.widgets import JobMonitor, JobTable\n"
        "remote = jw.SimulatedBackend(seed=1, init_time=0, queue_time=0, validation_time=0)\n"
        "job = remote.run(run_time=120)\n"
        "print('ready')"
    )
    name = f"cancel-made-{widget}-{front_end}.ipynb".lower()
    nb = Notebook(
        page,
        lab,
        write_notebook(lab.root, name, [setup, MADE_IN_THE_CELL[widget]]),
        front_end=front_end,
    )
    nb.run_cell(0)
    assert "ready" in nb.wait_cell(0)
    nb.wait_idle()
    nb.run_cell(1)
    cell = nb.cell_node(1).locator(".jw-table")
    cancel = cell.locator(".jw-body .jw-row button.jw-cancel").first
    cell.locator(".jw-body .jw-row .jw-pill-label", has_text="RUNNING").wait_for(timeout=20000)
    expect_enabled = time.monotonic() + 10
    while cancel.is_disabled() and time.monotonic() < expect_enabled:
        time.sleep(0.1)
    time.sleep(1.0)
    assert not nb.cell_finished(1)
    clicked = time.monotonic()
    cancel.click()
    output = nb.wait_cell(1, timeout=20)
    ended = time.monotonic() - clicked
    cell.locator(".jw-body .jw-row .jw-pill-label", has_text="CANCELLED").wait_for(timeout=5000)
    screenshot(page, f"cancel-made-in-cell-{widget}-{front_end}".lower())
    assert "CANCELLED" in output, output
    assert ended < 5, f"the wait ended {ended:.1f}s after the click"
    failures = [m for m in page.console_warnings if "subshell failed" in m]
    assert failures == []
    # Notebook 7.6 raises these by itself (with the jobwidgets extension disabled too)
    notebook_own = ("reading 'schema'", "Command 'filebrowser:open-path' not registered")
    errors = [e for e in page.errors if front_end == "lab" or not any(n in e for n in notebook_own)]
    assert errors == []
