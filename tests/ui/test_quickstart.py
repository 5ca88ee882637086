"""The quickstart notebook, run in JupyterLab: badges, the table and the monitor go live."""

from __future__ import annotations

import re
from typing import Any

from conftest import Lab, Notebook, screenshot


def _cell_index(nb: Notebook, needle: str) -> int:
    index = nb.page.evaluate(
        """(needle) => window.jupyterapp.shell.currentWidget.content.widgets
             .findIndex((c) => c.model.sharedModel.getSource().includes(needle))""",
        needle,
    )
    assert index >= 0, f"no cell contains {needle!r}"
    return int(index)


def _chips(table: Any) -> dict[str, int]:
    """The visible header chips of a table: status label -> count."""
    counts = {}
    for chip in table.locator(".jw-chip:visible").all():
        label = chip.locator(".jw-chip-label").inner_text().strip()
        counts[label] = int(chip.locator(".jw-chip-count").inner_text())
    return counts


def test_quickstart_runs_live(page: Any, lab: Lab) -> None:
    nb = Notebook(page, lab, "01-quickstart.ipynb")
    nb.run_all()
    nb.wait_all_run(timeout=120)

    errors = [
        (i, nb.output_text(i))
        for i in range(nb.cell_count)
        if "Error" in nb.output_text(i) or "Traceback" in nb.output_text(i)
    ]
    assert errors == []

    # the first job's badge: a live widget that reached DONE
    badge_cell = nb.cell_node(_cell_index(nb, "job = local.run(sum"))
    badge = badge_cell.locator(".jw-badge")
    badge.wait_for(timeout=15000)
    page.wait_for_function(
        "(el) => el.querySelector('.jw-pill-label').textContent === 'DONE'",
        arg=badge.element_handle(),
        timeout=15000,
    )
    assert "jw-st-done" in (badge.get_attribute("class") or "")
    assert re.search(r"done in \d", badge.inner_text())
    screenshot(badge, "quickstart-badge")

    # the simulated jobs' table: five DONE, the long job CANCELLED from code
    table_cell = nb.cell_node(_cell_index(nb, "JobTable([*jobs"))
    table = table_cell.locator(".jw-table")
    table.wait_for(timeout=15000)
    assert table.locator(".jw-title").inner_text() == "Simulated jobs"
    page.wait_for_function(
        """(el) => {
          const n = (cls) => {
            const chip = el.querySelector('.jw-chip.' + cls);
            return chip && !chip.hidden ? chip.querySelector('.jw-chip-count').textContent : '0';
          };
          return n('jw-st-done') === '5' && n('jw-st-cancelled') === '1';
        }""",
        arg=table.element_handle(),
        timeout=30000,
    )
    assert _chips(table) == {"DONE": 5, "CANCELLED": 1}
    statuses = table.locator(".jw-body .jw-row .jw-c-status").all_inner_texts()
    assert sorted(s.split()[-1] for s in statuses) == ["CANCELLED"] + ["DONE"] * 5
    screenshot(table, "quickstart-table")

    # the monitor of the waited job: compact, one row, DONE
    monitor_cell = nb.cell_node(_cell_index(nb, "callback=JobMonitor()"))
    monitor = monitor_cell.locator(".jw-table.jw-compact")
    monitor.wait_for(timeout=15000)
    assert monitor.locator(".jw-body .jw-row").count() == 1
    assert "DONE" in monitor.locator(".jw-body .jw-row .jw-c-status").inner_text()
    screenshot(monitor, "quickstart-monitor")

    screenshot(page, "quickstart-page", full_page=True)
    assert page.errors == []
