"""axe-core finds no accessibility violations in the widgets and the Jobs panel.

axe-core (js/node_modules/axe-core, an npm devDependency) is injected into a real
JupyterLab page and run on each widget's node, in the light and the dark theme: the
badge, the table (running jobs, a row's details open, the Cancel all confirm open, rows
grouped with a group header focused), the
monitor, and the panel (details open, confirm open). JupyterLab's body has no height,
which makes axe skip its colour-contrast checks; ``html, body {height: 100%}`` first.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import ROOT, Lab, Notebook, screenshot, write_notebook

AXE = ROOT / "js" / "node_modules" / "axe-core" / "axe.min.js"
PANEL = "#jobwidgets-panel"

SETUP = """\
import time
import jobwidgets as jw
from jobwidgets.widgets import JobMonitor, JobTable, StatusBadge
remote = jw.SimulatedBackend(seed=2, init_time=0, queue_time=0, validation_time=0,
                             capacity=100, progress_steps=50)
running = [remote.run(run_time=600) for _ in range(4)]
quick = [remote.run(run_time=0.05), remote.run(run_time=0.05, fail=True)]
for j in quick:
    j.wait_for_final_state(timeout=10)
cancelled = remote.run(run_time=600)
cancelled.cancel()
jobs = running + quick + [cancelled]
badge = StatusBadge(running[0])
badge"""

TABLE = 'table = JobTable(jobs, title="Axe table")\ntable'
MONITOR = "monitor = JobMonitor()\nfor j in jobs:\n    monitor.add(j)\nmonitor"

TOOLBAR_DANGER = ".jw-toolbar .jw-btn-danger"
CONFIRM_YES = ".jw-confirm .jw-btn-danger"
SELECTED_PCT = ".jw-row.jw-selected .jw-pct:not(:empty)"
SELECTED_ID = ".jw-row.jw-selected .jw-c-id .jw-id-text"

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def set_theme(page: Any, theme: str) -> None:
    light = "true" if theme == "light" else "false"
    page.evaluate(
        "(t) => { window.jupyterapp.commands.execute('apputils:change-theme', {theme: t}); }",
        THEMES[theme],
    )
    page.wait_for_function(
        "(v) => document.body.dataset.jpThemeLight === v", arg=light, timeout=30000
    )
    page.wait_for_timeout(500)  # the theme's stylesheet applies


def inject_axe(page: Any) -> None:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): install the front end's packages (make js)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    # JupyterLab's body has no height: axe would skip its colour checks.
    page.add_style_tag(content="html, body { height: 100%; }")


def axe_violations(page: Any, selector: str, contrast_of: list[str]) -> list[dict[str, Any]]:
    """axe.run on the first node of ``selector``: its violations, made small.

    ``contrast_of`` are selectors of nodes whose colour contrast axe must have
    decided (passed or failed): a check that skipped them (a background axe could
    not work out) would pass without proof, so they are reported as unchecked.
    """
    result: list[dict[str, Any]] = page.evaluate(
        """async ([sel, required]) => {
          const node = document.querySelector(sel);
          if (!node) throw new Error('no node ' + sel);
          const r = await window.axe.run(node, {elementRef: true});
          const out = r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
          }));
          const decided = [...r.passes, ...r.violations]
            .filter((v) => v.id === 'color-contrast')
            .flatMap((v) => v.nodes.map((n) => n.element));
          const undecided = r.incomplete.filter((v) => v.id === 'color-contrast')
            .flatMap((v) => v.nodes.map((n) => [n.element, n]));
          const why = (want) => {
            const hit = undecided.find(([el]) => el && el.matches(want));
            return hit ? JSON.stringify(hit[1].any.map((c) => c.message)) : 'not looked at';
          };
          const unchecked = required.filter(
            (want) => ![...node.querySelectorAll(want)].some((el) => decided.includes(el)));
          if (unchecked.length) out.push({
            id: 'color-contrast-unchecked', impact: 'test',
            help: 'axe did not decide these contrasts',
            nodes: unchecked.map((t) => ({target: t, summary: why(t)})),
          });
          return out;
        }""",
        [selector, contrast_of],
    )
    return result


def readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:6]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def check(
    page: Any, selector: str, what: str, found: dict[str, str], contrast_of: list[str]
) -> None:
    page.locator(selector).first.scroll_into_view_if_needed()
    violations = axe_violations(page, selector, contrast_of)
    if violations:
        found[what] = readable(violations)


def mark(page: Any, selector: str, index: int, name: str) -> str:
    """Give the ``index``-th node of ``selector`` a data attribute; return its selector."""
    page.evaluate(
        """([sel, i, name]) => {
          document.querySelectorAll(sel)[i].setAttribute('data-jw-axe', name);
        }""",
        [selector, index, name],
    )
    return f'[data-jw-axe="{name}"]'


def widen_right_panel(page: Any) -> None:
    """Drag the right side bar's edge to the left, as a user does, so the panel's rows fit.

    axe-core cannot analyse the colours of an element with a background whose box
    crosses the page's edge (the narrow panel's selected row, scrolled sideways): it
    gives up on the whole colour-contrast rule ("Element midpoint exceeds the grid
    bounds", dequelabs/axe-core#4253).
    """
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").last
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 500, y, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "(sel) => document.querySelector(sel).getBoundingClientRect().width > 600", arg=PANEL
    )


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_axe_violations(page: Any, lab: Lab, theme: str) -> None:
    name = write_notebook(lab.root, f"axe-{theme}.ipynb", [SETUP, TABLE, MONITOR])
    nb = Notebook(page, lab, name)
    try:
        set_theme(page, theme)
        nb.run_all()
        nb.wait_all_run(timeout=120)
        for i in range(3):
            assert nb.errors(i) == []
        page.locator(".jw-badge .jw-badge-elapsed:not(:empty)").first.wait_for(timeout=15000)
        table = page.locator(".jw-table:not(.jw-compact)").first
        table.locator(".jw-body .jw-row .jw-pct:not(:empty)").first.wait_for(timeout=15000)
        page.locator(".jw-table.jw-compact .jw-body .jw-row").first.wait_for(timeout=15000)
        inject_axe(page)
        found: dict[str, str] = {}

        badge = mark(page, ".jw-root:has(> .jw-badge)", 0, "badge")
        check(page, badge, "badge", found, [".jw-badge-elapsed", ".jw-badge-id"])
        tables = ".jw-root:has(> .jw-table:not(.jw-compact))"
        table_sel = mark(page, tables, 0, "table")
        check(page, table_sel, "table (running jobs)", found, [TOOLBAR_DANGER, ".jw-pct"])
        monitor = mark(page, ".jw-root:has(> .jw-table.jw-compact)", 0, "monitor")
        check(page, monitor, "monitor", found, [".jw-pct", ".jw-c-id .jw-id-text"])

        # a running row with progress, selected: its details open
        row = table.locator(".jw-body .jw-row", has=page.locator(".jw-pct:not(:empty)")).first
        row.locator(".jw-c-backend").click()
        table.locator(".jw-details").wait_for(state="visible", timeout=5000)
        check(page, table_sel, "table (details open)", found, [SELECTED_PCT, ".jw-details-list dt"])
        screenshot(table, f"axe-table-details-{theme}")
        table.locator(".jw-toolbar .jw-btn-danger").click()
        table.locator(".jw-confirm").wait_for(state="visible", timeout=5000)
        check(page, table_sel, "table (confirm open)", found, [CONFIRM_YES, SELECTED_PCT])
        screenshot(table, f"axe-table-confirm-{theme}")
        table.locator(".jw-confirm .jw-btn", has_text="No").click()
        # grouped by status, the keyboard on a group header
        table.locator("select.jw-group-by").select_option("status")
        header = table.locator(".jw-body .jw-group").first
        header.wait_for(timeout=5000)
        header.focus()
        check(page, table_sel, "table (grouped)", found, [".jw-group-label", ".jw-group-count"])
        screenshot(table, f"axe-table-grouped-{theme}")
        table.locator("select.jw-group-by").select_option("")

        # the panel, with the same kernel's jobs
        page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
        panel = page.locator(PANEL)
        panel.locator(".jw-body .jw-row").first.wait_for(timeout=20000)
        widen_right_panel(page)
        panel.locator(".jw-body .jw-row", has=page.locator(".jw-pct:not(:empty)")).first.locator(
            ".jw-c-status"
        ).click()
        panel.locator(".jw-details").wait_for(state="visible", timeout=5000)
        # (the narrow panel shows Progress only when scrolled sideways)
        check(page, PANEL, "panel (details open)", found, [TOOLBAR_DANGER, SELECTED_ID])
        panel.locator(".jw-toolbar .jw-btn-danger").click()
        panel.locator(".jw-confirm").wait_for(state="visible", timeout=5000)
        check(page, PANEL, "panel (confirm open)", found, [CONFIRM_YES, SELECTED_ID])
        screenshot(page, f"axe-page-{theme}")
        panel.locator(".jw-confirm .jw-btn", has_text="No").click()

        assert not found, "axe-core found violations:\n" + "\n".join(
            f"--- {what} ({theme})\n{text}" for what, text in found.items()
        )
        assert page.errors == []
    finally:
        if theme != "light":
            set_theme(page, "light")
