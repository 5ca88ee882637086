"""The quickstart notebook, run in JupyterLab and in Notebook 7: badges, the table and the
monitor go live; in Notebook 7 the Jobs panel opens from View → Right Sidebar."""

from __future__ import annotations

import re
from typing import Any

import pytest

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


@pytest.mark.parametrize("front_end", ["lab", "notebook"])
def test_quickstart_runs_live(page: Any, lab: Lab, front_end: str) -> None:
    nb = Notebook(page, lab, "01-quickstart.ipynb", front_end=front_end)
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
    screenshot(badge, f"quickstart-badge-{front_end}")

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
    screenshot(table, f"quickstart-table-{front_end}")

    # the monitor of the waited job: compact, one row, DONE
    monitor_cell = nb.cell_node(_cell_index(nb, "callback=JobMonitor()"))
    monitor = monitor_cell.locator(".jw-table.jw-compact")
    monitor.wait_for(timeout=15000)
    assert monitor.locator(".jw-body .jw-row").count() == 1
    assert "DONE" in monitor.locator(".jw-body .jw-row .jw-c-status").inner_text()
    screenshot(monitor, f"quickstart-monitor-{front_end}")

    screenshot(page, f"quickstart-page-{front_end}", full_page=True)
    if front_end == "notebook":
        _open_panel_from_the_view_menu(page)
    # Notebook 7.6 logs these of its own, with or without jobwidgets
    notebook_own = ("reading 'schema'", "Command 'filebrowser:open-path' not registered")
    errors = [e for e in page.errors if front_end == "lab" or not any(n in e for n in notebook_own)]
    assert errors == []


def _open_panel_from_the_view_menu(page: Any) -> None:
    """Notebook 7: View → Right Sidebar → Show Jobs opens the panel, with the kernel's jobs."""
    page.get_by_role("menuitem", name="View", exact=True).click()
    page.locator(".lm-Menu-item", has_text="Right Sidebar").hover()
    page.locator(".lm-Menu-item", has_text="Show Jobs").click()
    panel = page.locator(".jw-panel")
    panel.wait_for(state="visible", timeout=15000)
    rows = panel.locator(".jw-body .jw-row")
    rows.first.wait_for(state="visible", timeout=20000)
    assert rows.count() >= 6
    screenshot(page, "quickstart-notebook7-panel")
