"""Voila renders the badge and the table, live, and a row's Cancel works there.

Voila runs every cell, then keeps the kernel for the page; the widgets come from the same
anywidget modules as in JupyterLab. Voila is served by the test's Jupyter server (Voila
installs itself as a server extension), under ``/voila/render/<notebook>``.
"""

from __future__ import annotations

from typing import Any

from conftest import Lab, screenshot, write_notebook

CELLS = [
    """\
import jobwidgets as jw
from jobwidgets.widgets import StatusBadge, JobTable
remote = jw.SimulatedBackend(seed=5, init_time=0.2, queue_time=0.5, validation_time=0.2)
quick = remote.run_many(3, run_time=4)
long = remote.run(run_time=120)
StatusBadge(quick[0])""",
    "JobTable([*quick, long], title='Voila jobs')",
]


def _labels(table: Any) -> list[str]:
    return [
        str(text) for text in table.locator(".jw-body .jw-row .jw-pill-label").all_inner_texts()
    ]


def test_voila_renders_the_badge_and_the_table_live(browser_context: Any, lab: Lab) -> None:
    write_notebook(lab.root, "voila-jobs.ipynb", CELLS)
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{lab.url}/voila/render/voila-jobs.ipynb?token={lab.token}")
        badge = page.locator(".jw-badge").first
        table = page.locator(".jw-table").first
        badge.wait_for(timeout=90000)
        table.wait_for(timeout=30000)
        assert table.locator(".jw-title").inner_text() == "Voila jobs"
        # live: the quick jobs are seen unfinished, then DONE, with no reload
        assert "DONE" not in _labels(table)[:3], _labels(table)
        page.wait_for_function(
            """() => [...document.querySelectorAll('.jw-table .jw-body .jw-row .jw-pill-label')]
                 .filter((e) => e.textContent === 'DONE').length === 3""",
            timeout=30000,
        )
        page.wait_for_function(
            "(el) => el.querySelector('.jw-pill-label').textContent === 'DONE'",
            arg=badge.element_handle(),
            timeout=15000,
        )
        # the long job's Cancel reaches the kernel Voila keeps for the page
        long_row = table.locator(".jw-body .jw-row", has_text="simulated-4")
        long_row.locator("button.jw-cancel").click()
        long_row.locator(".jw-pill-label", has_text="CANCELLED").wait_for(timeout=10000)
        screenshot(page, "voila-badge-and-table")
        # Voila's own page logs errors of other extensions; none may come from jobwidgets
        assert [e for e in errors if "jobwidgets" in e or "jw-" in e] == [], errors
    finally:
        page.close()
        lab.shutdown_kernels()
