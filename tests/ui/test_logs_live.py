"""A row's log and progress, live while a cell blocks: the details of a running job show
new log lines (stderr and warnings marked, markup as characters) and the progress bar
moves before the cell ends, in the table and in the job panel; "Download log" saves the
whole kept log. Screenshots: ``artifacts/ui/logs-live-*.png``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from conftest import Lab, Notebook, screenshot, write_notebook

SETUP = """\
import logging, sys, threading, time
import jobwidgets as jw
from IPython.display import display
from jobwidgets.widgets import JobTable, StatusBadge
backend = jw.LocalBackend(max_workers=1)
go = threading.Event()

def work(n=150):
    go.wait(120)
    job = jw.current_job()
    for i in range(n):
        print(f"step {i}: <b>not bold</b> {'x' * (i % 40)}")
        if i % 7 == 3:
            print(f"step {i}: a complaint on stderr", file=sys.stderr)
        if i % 11 == 5:
            logging.getLogger("work").warning("step %d: a warning", i)
        job.set_progress((i + 1) / n, f"{i + 1}/{n} steps")
        time.sleep(0.1)
    return n

job = backend.run(work)
table = JobTable([job], title="logs")
display(table, StatusBadge(job))
print("ready")"""

BLOCK = "go.set()\njob.result()"

LOG = """(root) => {
  const scope = root === 'panel' ? document.querySelector('#jobwidgets-panel')
    : document.querySelector('.jp-OutputArea .jw-table');
  const lines = scope ? [...scope.querySelectorAll('.jw-log .jw-log-line')] : [];
  const bar = scope && scope.querySelector('.jw-body .jw-row .jw-progress');
  return {
    count: lines.length,
    last: lines.length ? lines[lines.length - 1].querySelector('.jw-log-text').textContent : '',
    err: scope ? scope.querySelectorAll('.jw-log .jw-log-err').length : 0,
    warn: scope ? scope.querySelectorAll('.jw-log .jw-log-warn').length : 0,
    bold: scope ? scope.querySelectorAll('.jw-log b').length : 0,
    markup: lines.filter((l) => l.textContent.includes('<b>not bold</b>')).length,
    progress: bar && !bar.hidden ? bar.value : null,
    text: scope ? (scope.querySelector('.jw-body .jw-progress-text') || {}).textContent : null,
  };
}"""


def step(text: str) -> int:
    return int(text.split(":")[0].removeprefix("step ")) if text.startswith("step ") else -1


def test_details_show_the_log_and_progress_live_while_a_cell_blocks(page: Any, lab: Lab) -> None:
    nb = Notebook(page, lab, write_notebook(lab.root, "logs-live.ipynb", [SETUP, BLOCK]))
    nb.run_cell(0)
    assert "ready" in nb.wait_cell(0)
    table = nb.cell_node(0).locator(".jw-table")
    table.locator(".jw-body .jw-row").first.wait_for(state="visible", timeout=20000)
    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    panel = page.locator("#jobwidgets-panel")
    panel.wait_for(state="visible", timeout=10000)
    panel.locator(".jw-body .jw-row").first.wait_for(state="visible", timeout=20000)

    nb.run_cell(1)  # the job starts; the cell blocks until it ends (~15 s)
    nb.wait_started(1)
    time.sleep(1.0)
    # open the details of the running job, in the table and in the panel, while blocked
    table.locator(".jw-body .jw-row").first.click()
    panel.locator(".jw-body .jw-row").first.click()
    page.wait_for_function(f"() => ({LOG})('table').count > 0", timeout=10000)
    page.wait_for_function(f"() => ({LOG})('panel').count > 0", timeout=10000)
    first = {root: page.evaluate(LOG, root) for root in ("table", "panel")}
    time.sleep(2.5)
    later = {root: page.evaluate(LOG, root) for root in ("table", "panel")}
    assert not nb.cell_finished(1), "the job ended before the test could look"
    screenshot(table, "logs-live-table")
    page.evaluate(
        "() => { const d = document.querySelector('#jobwidgets-panel .jw-details');"
        " d.scrollTop = d.scrollHeight; }"
    )
    screenshot(panel, "logs-live-panel")
    screenshot(nb.cell_node(0).locator(".jw-badge"), "logs-live-badge")
    badge_pct = nb.cell_node(0).locator(".jw-badge-pct").text_content() or ""
    still_blocked = not nb.cell_finished(1)
    print("first", first, "\nlater", later, "\nbadge", badge_pct)
    assert still_blocked
    for root in ("table", "panel"):
        before, after = first[root], later[root]
        assert step(after["last"]) >= step(before["last"]) + 10, (root, before, after)
        assert after["progress"] is not None and before["progress"] is not None
        assert after["progress"] > before["progress"], (root, before, after)
        assert after["text"] and after["text"].endswith(" steps"), after
        assert after["err"] > 0 and after["warn"] > 0, after
        assert after["bold"] == 0 and after["markup"] > 0, after
    assert badge_pct.endswith("%") and int(badge_pct[:-1]) > 0, badge_pct

    # the end: the log stays, Download log saves the whole kept log
    nb.wait_cell(1, timeout=60)
    page.wait_for_function(f"() => ({LOG})('table').last.startsWith('step 149:')", timeout=10000)
    with page.expect_download(timeout=20000) as info:
        table.locator(".jw-log-download").click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    assert download.suggested_filename.startswith("job-") and download.suggested_filename.endswith(
        ".log"
    )
    assert "step 0: <b>not bold</b>" in text and "step 149:" in text
    assert "a complaint on stderr" in text and "WARNING" in text
    screenshot(table, "logs-live-table-done")
    # the dark theme: the log box takes JupyterLab's theme variables
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme',"
        " {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20000)
    time.sleep(1.0)
    screenshot(table, "logs-live-table-dark")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme',"
        " {theme: 'JupyterLab Light'})"
    )
    assert page.errors == []
