"""The keyboard and screen readers in a real JupyterLab and Chromium, with real key presses.

The table is one tab stop (the WAI-ARIA grid pattern) whose arrow keys reach every row;
focus stays on its job while rows re-sort under it; after Cancel and after closing the
details focus is on the job's row; keys in the table's own inputs don't reach the
notebook's shortcuts; the panel's sort buttons are in column order; the live region
says what changed.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import PUSH_JOBS, Lab, Notebook, screenshot, write_notebook

SETUP = (
    PUSH_JOBS
    + """
jobs = [PushJob(PushBackend(), f"many-{i}") for i in range(100)]
for job in jobs:
    job.submit()
table = JobTable(jobs, title="Keyboard")
table"""
)

# What has DOM focus, as the job it shows: its id, "(grid)" for the grid's own node,
# or the element's class name when it is outside the table's rows.
FOCUSED = """() => {
  const a = document.activeElement;
  if (!a) return null;
  if (a.classList.contains('jw-scroll')) return '(grid)';
  const row = a.closest('.jw-body .jw-row');
  if (!row) return 'outside: ' + a.tagName + '.' + a.className;
  const id = row.querySelector('.jw-c-id').textContent;
  return a.classList.contains('jw-cancel') ? 'cancel ' + id : id;
}"""

# Record, on every frame, which job has focus (to catch a moment on another job).
WATCH_FOCUS = (
    """() => {
  window.__jwFocus = new Set();
  window.__jwWatch = true;
  const f = """
    + FOCUSED
    + """;
  const step = () => {
    if (!window.__jwWatch) return;
    window.__jwFocus.add(f());
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}"""
)


def kernel_run(page: Any, code: str) -> str:
    """Run ``code`` in the notebook's kernel without touching the notebook (no new cell
    takes focus away from the table); return what it printed."""
    return str(
        page.evaluate(
            """async (code) => {
              const w = window.jupyterapp.shell.currentWidget;
              const future = w.sessionContext.session.kernel.requestExecute({code});
              let out = '';
              future.onIOPub = (msg) => {
                if (msg.header.msg_type === 'stream') out += msg.content.text;
                const c = msg.content;
                if (msg.header.msg_type === 'error') out += c.ename + ': ' + c.evalue;
              };
              await future.done;
              return out;
            }""",
            code,
        )
    )


def focused(page: Any) -> str | None:
    value = page.evaluate(FOCUSED)
    return None if value is None else str(value)


@pytest.fixture
def keyboard_table(page: Any, lab: Lab) -> tuple[Notebook, Any]:
    nb = Notebook(page, lab, write_notebook(lab.root, "keyboard.ipynb", [SETUP, "x = 1"]))
    nb.run_cell(0)
    nb.wait_cell(0)
    assert nb.errors(0) == []
    table = page.locator(".jw-table").first
    table.locator(".jw-body .jw-row").first.wait_for(timeout=15000)
    page.wait_for_function(
        "(el) => el.querySelector('.jw-chip.jw-st-queued .jw-chip-count').textContent === '100'",
        arg=table.element_handle(),
        timeout=15000,
    )
    return nb, table


@pytest.mark.slow
def test_grid_keys_focus_and_cancel(page: Any, keyboard_table: tuple[Notebook, Any]) -> None:
    _nb, table = keyboard_table
    # Tab from the last sort button: one stop in the rows, and the next Tab leaves them.
    table.locator(".jw-head .jw-sort").last.focus()
    page.keyboard.press("Tab")
    assert focused(page) == "many-0"
    page.keyboard.press("Tab")
    assert focused(page).startswith("outside"), focused(page)
    assert not page.evaluate("() => !!document.activeElement.closest('.jw-scroll')")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "many-0"

    # ArrowDown reaches row 100; End and Home the ends.
    for _ in range(99):
        page.keyboard.press("ArrowDown")
    assert focused(page) == "many-99"
    assert page.evaluate("() => document.activeElement.getAttribute('aria-rowindex')") == "101"
    screenshot(table, "keyboard-row-100")
    page.keyboard.press("Home")
    assert focused(page) == "many-0"
    page.keyboard.press("End")
    assert focused(page) == "many-99"

    # Sorted by Status, focus on many-19 while the jobs change state under it.
    status = table.locator(".jw-head .jw-sort", has_text="Status")
    status.click()
    table.locator(".jw-head [role=columnheader][aria-sort=ascending]").wait_for(timeout=5000)
    # back into the grid: its one tab stop (the row the keyboard was on)
    table.locator(".jw-scroll[tabindex='0'], .jw-body .jw-row[tabindex='0']").first.focus()
    assert focused(page) == "many-99"
    page.keyboard.press("Home")
    for _ in range(100):
        if focused(page) == "many-19":
            break
        page.keyboard.press("ArrowDown")
    assert focused(page) == "many-19"
    page.keyboard.press("ArrowRight")
    assert focused(page) == "cancel many-19"
    page.evaluate(WATCH_FOCUS)
    kernel_run(
        page,
        "for i, job in enumerate(jobs):\n"
        "    if i != 19:\n"
        "        job._report(JobStatus.RUNNING)\n"
        "    if i % 3 == 0:\n"
        "        time.sleep(0.02)\n"
        "time.sleep(1)\n"
        "for job in jobs[:50]:\n"
        "    if job is not jobs[19]:\n"
        "        job._report(JobStatus.DONE)\n"
        "    time.sleep(0.01)\n"
        "time.sleep(1)",
    )
    page.wait_for_function(
        "(el) => el.querySelector('.jw-chip.jw-st-done .jw-chip-count')?.textContent === '49'",
        arg=table.element_handle(),
        timeout=15000,
    )
    time.sleep(0.5)
    seen = set(page.evaluate("() => { window.__jwWatch = false; return [...window.__jwFocus]; }"))
    # the body followed the job as it moved: focus never left its Cancel button
    assert seen == {"cancel many-19"}, seen
    assert focused(page) == "cancel many-19"

    # Enter cancels it; focus stays on its row (the button is disabled now).
    page.keyboard.press("Enter")
    row = table.locator(".jw-body .jw-row", has_text="many-19").first
    row.locator(".jw-pill-label", has_text="CANCELLED").wait_for(timeout=10000)
    assert focused(page) == "many-19"
    assert kernel_run(page, "print(jobs[19].state.name)").strip() == "CANCELLED"
    assert focused(page) == "many-19"

    # Enter opens the details; Tab reaches their Close; Escape closes them, focus returns.
    page.keyboard.press("Enter")
    details = table.locator(".jw-details")
    details.wait_for(state="visible", timeout=5000)
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('.jw-details')")
    page.keyboard.press("Escape")
    details.wait_for(state="hidden", timeout=5000)
    assert focused(page) == "many-19"
    # Close with the button: focus returns too.
    page.keyboard.press("Enter")
    details.wait_for(state="visible", timeout=5000)
    details.locator("button", has_text="Close").click()
    details.wait_for(state="hidden", timeout=5000)
    assert focused(page) == "many-19"
    screenshot(table, "keyboard-after-details")
    assert page.errors == []


@pytest.mark.slow
def test_end_reaches_the_last_of_10000(page: Any, lab: Lab) -> None:
    cells = [
        PUSH_JOBS + "\njobs = push_jobs(10000, 'big')\ntable = JobTable(jobs, title='Big')\ntable"
    ]
    nb = Notebook(page, lab, write_notebook(lab.root, "keyboard-big.ipynb", cells))
    nb.run_cell(0)
    nb.wait_cell(0, timeout=120)
    table = page.locator(".jw-table").first
    page.wait_for_function(
        "(el) => el.querySelector('.jw-chip.jw-st-queued .jw-chip-count')?.textContent === '10000'",
        arg=table.element_handle(),
        timeout=60000,
    )
    table.locator(".jw-body .jw-row").first.focus()
    page.keyboard.press("End")
    assert focused(page) == "big-09999"
    assert page.evaluate("() => document.activeElement.getAttribute('aria-rowindex')") == "10001"
    page.keyboard.press("PageUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Home")
    assert focused(page) == "big-00000"
    assert page.errors == []


@pytest.mark.slow
def test_status_select_keys_stay_in_the_table(
    page: Any, keyboard_table: tuple[Notebook, Any]
) -> None:
    nb, table = keyboard_table
    nb.select(0)
    nb.command("notebook:enter-command-mode")
    select = table.locator("select.jw-filter-status")
    select.focus()
    before = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert select.input_value() == "INITIALIZING"
    page.keyboard.press("ArrowDown")
    assert select.input_value() == "QUEUED"
    after = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")
    assert after == before
    page.wait_for_function(
        "(el) => el.querySelectorAll('.jw-body .jw-row').length > 0", arg=table.element_handle()
    )
    assert page.errors == []


@pytest.mark.slow
def test_live_region_summarises(page: Any, keyboard_table: tuple[Notebook, Any]) -> None:
    _nb, table = keyboard_table
    live = table.locator(".jw-live")
    assert live.get_attribute("role") == "status"
    texts: list[str] = []
    page.evaluate(
        """(el) => {
          window.__jwLive = [];
          new MutationObserver(() => window.__jwLive.push(el.textContent))
            .observe(el, {childList: true, characterData: true, subtree: true});
        }""",
        live.element_handle(),
    )
    kernel_run(
        page,
        "for job in jobs[:60]:\n"
        "    job._report(JobStatus.RUNNING)\n"
        "for job in jobs[:30]:\n"
        "    job._report(JobStatus.DONE)\n"
        "jobs[40]._report(JobStatus.ERROR, error='disk full')",
    )
    page.wait_for_function(
        "() => (window.__jwLive || []).some((t) => t.includes('1 failed'))", timeout=15000
    )
    texts = page.evaluate("() => window.__jwLive")
    final = texts[-1]
    assert "Job many-40 failed: disk full." in " ".join(texts), texts
    assert final.endswith("40 queued, 29 running, 30 done, 1 failed"), texts
    # a summary, never one announcement per row change (91 rows changed)
    assert len(texts) <= 3, texts
    assert page.errors == []


@pytest.mark.slow
def test_panel_sort_buttons_in_column_order(
    page: Any, keyboard_table: tuple[Notebook, Any]
) -> None:
    _nb, _table = keyboard_table
    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    panel = page.locator("#jobwidgets-panel")
    panel.locator(".jw-body .jw-row").first.wait_for(timeout=20000)
    heads = panel.locator(".jw-head .jw-sort")
    shown = page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)]
             .filter((b) => b.getClientRects().length > 0)
             .map((b) => [b.getBoundingClientRect(), b.textContent.trim()])
             .sort(([a], [b]) => Math.round(a.top - b.top) || a.left - b.left)
             .map(([, label]) => label)""",
        "#jobwidgets-panel .jw-head .jw-sort",
    )
    assert shown[:2] == ["Job ID", "Status"], shown
    # Tab walks the sort buttons in the order the columns show in, then one stop in the rows.
    heads.first.focus()
    walked = []
    for _ in range(len(shown)):
        walked.append(page.evaluate("() => document.activeElement.textContent.trim()"))
        page.keyboard.press("Tab")
    assert walked == shown
    assert focused(page) == "many-0"
    page.keyboard.press("ArrowDown")
    assert focused(page) == "many-1"
    screenshot(panel, "keyboard-panel")
    assert page.errors == []
