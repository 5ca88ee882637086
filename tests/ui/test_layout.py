"""The table's and the panel's layout in a real JupyterLab and Chromium: what fits.

The Jobs panel at its default width shows each row's id, status, times and Cancel
with no sideways scroll; a notebook table beside the open panel shows its Actions
column and a UUID whole; columns resize by their handles; a badge's error tooltip is
not clipped by the output area; details show readable times; CANCELLED is legible.
Screenshots of the table and of the panel, in the light and the dark theme.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import PUSH_JOBS, Lab, Notebook, screenshot, write_notebook

PANEL = "#jobwidgets-panel"
UUID = "00001234-5678-90ab-cdef-1234567890ab"
ERROR = "ValueError: " + "the layout test's failure, long enough to wrap onto more lines " * 3

SETUP = (
    PUSH_JOBS
    + f"""
import threading
from jobwidgets.widgets import StatusBadge
local = jw.LocalBackend(max_workers=6)
gate = threading.Event()
def hold():
    gate.wait(600)
def boom():
    raise ValueError({ERROR[len("ValueError: ") :]!r})
held = [local.run(hold) for _ in range(3)]
held[0].set_progress(0.45, "45/100 files")
failed = local.run(boom)
failed.wait_for_final_state(timeout=30)
uuid_job = PushJob(PushBackend(), {UUID!r})
uuid_job.submit()
gone = PushJob(PushBackend(), "push-cancelled")
gone.submit()
gone.cancel()
print(sorted(j.job_id() for j in [*held, failed, uuid_job, gone]))"""
)
TABLE = 'table = JobTable([*held, failed, uuid_job, gone], title="Layout")\ntable'
BADGE = "StatusBadge(failed)"

# One running job whose progress note is longer than its column can show at ~716 px
PROGRESS_TEXT = "41/150 steps of a long phase name"
PROGRESS = f"""\
import threading
import jobwidgets as jw
from jobwidgets.widgets import JobTable
local = jw.LocalBackend(max_workers=1)
gate = threading.Event()
def hold():
    gate.wait(600)
job = local.run(hold)
job.set_progress(0.27, {PROGRESS_TEXT!r})
JobTable([job], title="Progress")"""

# Whether each element of `sel` under `root` shows its whole content: not cut by its
# own box (scrollWidth) nor by the box of its cell or the grid it sits in.
WHOLE = """([root, sel]) => [...document.querySelector(root).querySelectorAll(sel)]
  .filter((el) => el.offsetParent !== null)
  .map((el) => {
    const r = el.getBoundingClientRect();
    const grid = el.closest('.jw-grid').getBoundingClientRect();
    return {
      text: el.textContent,
      whole: el.scrollWidth <= el.clientWidth + 1 && r.left >= grid.left - 1
        && r.right <= grid.right + 1,
    };
  })"""


def _theme(page: Any, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate(
        "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    page.wait_for_function(
        "(light) => document.body.dataset.jpThemeLight === light",
        arg="false" if dark else "true",
        timeout=20000,
    )
    page.wait_for_timeout(500)  # the theme's stylesheet applies


def _open_panel(page: Any) -> None:
    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    page.locator(PANEL).wait_for(state="visible", timeout=10000)


def _wait_rows(page: Any, root: str, n: int) -> None:
    page.wait_for_function(
        "([root, n]) => document.querySelectorAll(root + ' .jw-body .jw-row').length === n",
        arg=[root, n],
        timeout=20000,
    )


@pytest.fixture
def jobs_nb(page: Any, lab: Lab) -> Notebook:
    nb = Notebook(page, lab, write_notebook(lab.root, "layout.ipynb", [SETUP, TABLE, BADGE]))
    nb.run_cell(0)
    nb.wait_cell(0, timeout=60)
    assert nb.errors(0) == []
    return nb


def test_panel_at_its_default_width(page: Any, jobs_nb: Notebook) -> None:
    _open_panel(page)
    _wait_rows(page, PANEL, 6)
    page.locator(f"{PANEL} .jw-table.jw-narrow").wait_for(timeout=10000)
    width = page.locator(PANEL).bounding_box()["width"]
    assert 230 <= width <= 270, f"the panel is {width}px wide: not JupyterLab's default"

    # every row: the id whole (a UUID can't fit in 250px: then it is the only thing cut),
    # the status, the times and Cancel whole and inside the panel
    panel = page.locator(PANEL).bounding_box()
    facts = page.evaluate(
        """(root) => [...document.querySelectorAll(root + ' .jw-body .jw-row')].map((row) => {
          const box = (el) => el.getBoundingClientRect();
          const cut = (el) => el.scrollWidth > el.clientWidth + 1;
          const shown = [...row.querySelectorAll('.jw-cell')].filter(
            (c) => getComputedStyle(c).display !== 'none' && c.getClientRects().length);
          // Cancel, or Retry in its place (a failed job its backend can run again)
          const cancel = [...row.querySelectorAll('.jw-cancel, .jw-retry')].find((b) => !b.hidden);
          return {
            id: row.querySelector('.jw-c-id').textContent,
            idCut: cut(row.querySelector('.jw-c-id')),
            othersCut: shown.filter((c) => !c.classList.contains('jw-c-id') && cut(c))
              .map((c) => c.className),
            shown: shown.map((c) => c.className.replace('jw-cell jw-c-', '')),
            cancel: cancel ? [box(cancel).left, box(cancel).right] : null,
            row: [box(row).left, box(row).right],
          };
        })""",
        PANEL,
    )
    for fact in facts:
        assert fact["othersCut"] == [], fact
        # the times: when submitted and how long it ran (a job reporting progress shows
        # its run time and progress)
        times = ("run",) if fact["id"] == "local-thread-1" else ("submitted", "run")
        for column in ("id", "status", *times):
            assert column in fact["shown"], fact
        assert fact["idCut"] == (fact["id"] == UUID), fact  # short ids whole, the UUID cut last
        left, right = fact["cancel"]
        assert panel["x"] <= left and right <= panel["x"] + panel["width"], (fact, panel)
        assert panel["x"] <= fact["row"][0] and fact["row"][1] <= panel["x"] + panel["width"]
    # the percentage done shows whole, inside the panel
    pct = page.locator(f"{PANEL} .jw-body .jw-row", has_text="local-thread-1").locator(".jw-pct")
    pct.wait_for(timeout=10000)
    assert pct.inner_text() == "45%"
    box = pct.bounding_box()
    assert box["width"] > 0 and box["x"] + box["width"] <= panel["x"] + panel["width"]
    assert pct.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    uuid_row = page.locator(f"{PANEL} .jw-body .jw-row", has_text=UUID)
    assert uuid_row.locator(".jw-c-id").get_attribute("title") == UUID
    scroll = page.evaluate(
        """(root) => [...document.querySelectorAll(root + ', ' + root + ' .jw-grid')]
          .map((el) => [el.scrollWidth, el.clientWidth])""",
        PANEL,
    )
    for scroll_width, client_width in scroll:
        assert scroll_width <= client_width, scroll

    # the header names the notebook and its kernel, whole (it wraps)
    header = page.locator(f"{PANEL} .jw-panel-kernel")
    assert "layout.ipynb" in header.inner_text() and "Python 3" in header.inner_text()
    assert header.evaluate("(el) => el.scrollWidth <= el.clientWidth")

    # Cancel, beside the id it cancels, takes the click
    uuid_row.locator("button.jw-cancel").click(timeout=5000)
    uuid_row.locator(".jw-pill-label", has_text="CANCELLED").wait_for(timeout=10000)

    screenshot(page.locator(PANEL), "layout-panel-light")
    _theme(page, dark=True)
    screenshot(page.locator(PANEL), "layout-panel-dark")
    _theme(page, dark=False)

    # History, after the kernel ended while jobs ran: each status shows whole
    page.evaluate(
        "() => { window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart(); }"
    )
    page.wait_for_function(
        "(sel) => document.querySelector(sel)?.dataset.jwState === 'unavailable'",
        arg=PANEL,
        timeout=60000,
    )
    page.locator("#jw-panel-tab-history").click()
    history = f"{PANEL} .jw-history"
    page.wait_for_function(
        "(sel) => document.querySelectorAll(sel + ' .jw-body .jw-pill-ended').length === 3",
        arg=history,
        timeout=20000,
    )
    statuses = page.evaluate(
        """(sel) => [...document.querySelectorAll(sel + ' .jw-body .jw-c-status')].map(
          (c) => [c.textContent, c.scrollWidth <= c.clientWidth + 1])""",
        history,
    )
    assert len(statuses) == 6 and all(whole for _, whole in statuses), statuses
    screenshot(page.locator(PANEL), "layout-panel-history")
    assert page.errors == []


def test_table_beside_the_panel(page: Any, jobs_nb: Notebook) -> None:
    nb = jobs_nb
    _open_panel(page)
    assert page.evaluate("() => window.innerWidth") == 1400
    nb.run_cell(1)
    nb.wait_cell(1)
    table = page.locator(".jp-Notebook .jw-table").first
    _wait_rows(page, ".jp-Notebook .jw-table", 6)
    page.wait_for_timeout(400)  # the columns are measured at most every 250 ms
    root = ".jp-Notebook .jw-table"

    # the file browser open too: too narrow for every column, whole; the table still fits
    # (no sideways scroll): the progress notes and heads give way, then the backends,
    # the UUID last (whole in its title); Cancel, Retry, the statuses and short ids whole
    grid = table.locator(".jw-grid")
    assert grid.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    for sel in (
        ".jw-head .jw-c-status, .jw-head .jw-c-actions",
        ".jw-body .jw-cancel:not([hidden]), .jw-body .jw-retry:not([hidden])",
        ".jw-body .jw-pill",
    ):
        facts = page.evaluate(WHOLE, [root, sel])
        assert facts and all(f["whole"] for f in facts), (sel, facts)
    ids = {f["text"]: f["whole"] for f in page.evaluate(WHOLE, [root, ".jw-body .jw-c-id"])}
    assert len(ids) == 6 and all(whole for text, whole in ids.items() if text != UUID), ids
    assert not ids[UUID]
    uuid_cell = table.locator(".jw-body .jw-row", has_text=UUID).locator(".jw-c-id")
    assert uuid_cell.get_attribute("title") == UUID
    screenshot(table, "layout-table-beside-files")

    # the file browser closed: the notebook has the width the panel leaves it, and
    # the Actions head, every Cancel and the UUID show whole with no sideways scroll
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    page.wait_for_timeout(500)
    for sel in (
        ".jw-head .jw-c-actions",
        ".jw-body .jw-cancel:not([hidden]), .jw-body .jw-retry:not([hidden])",
        ".jw-c-id",
    ):
        facts = page.evaluate(WHOLE, [root, sel])
        assert facts and all(f["whole"] for f in facts), (sel, facts)
    assert UUID in [f["text"] for f in page.evaluate(WHOLE, [root, ".jw-body .jw-c-id"])]
    assert grid.evaluate("(el) => el.scrollWidth <= el.clientWidth")

    # sorted by Submitted, its arrow shows whole
    table.locator(".jw-head .jw-c-submitted button.jw-sort").click()
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook .jw-head .jw-c-submitted')"
        ".getAttribute('aria-sort') === 'ascending'"
    )
    arrow = page.evaluate(
        """() => {
          const cell = document.querySelector('.jp-Notebook .jw-head .jw-c-submitted');
          const a = cell.querySelector('.jw-sort-arrow').getBoundingClientRect();
          const c = cell.getBoundingClientRect();
          return {text: cell.querySelector('.jw-sort-arrow').textContent,
                  inside: a.width > 0 && a.right <= c.right - 2};
        }"""
    )
    assert arrow == {"text": "\u25b2", "inside": True}

    screenshot(table, "layout-table-light")
    _theme(page, dark=True)
    screenshot(table, "layout-table-dark")
    screenshot(page, "layout-notebook-and-panel-dark")
    _theme(page, dark=False)

    # a column resized by dragging its handle gets wider; and with the keyboard
    head = table.locator(".jw-head .jw-c-backend")
    before = head.bounding_box()["width"]
    handle = head.locator(".jw-resize").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=4)
    page.mouse.move(x + 80, y, steps=4)
    page.mouse.up()
    after = head.bounding_box()["width"]
    assert after == pytest.approx(before + 80, abs=3), (before, after)
    cell = table.locator(".jw-body .jw-row .jw-c-backend").first.bounding_box()["width"]
    assert cell == pytest.approx(after, abs=1)  # the rows follow their head
    head.locator(".jw-resize").focus()
    page.keyboard.press("ArrowRight")
    assert head.bounding_box()["width"] == pytest.approx(after + 16, abs=2)
    # from the Tab order: Shift+Right on the column's sort button
    head.locator("button.jw-sort").focus()
    page.keyboard.press("Shift+ArrowRight")
    assert head.bounding_box()["width"] == pytest.approx(after + 32, abs=2)
    assert head.locator(".jw-resize").get_attribute("aria-label") == "Resize column Backend"

    # details: no internal key; readable times, the exact value on hover
    table.locator(".jw-body .jw-row", has_text=UUID).locator(".jw-c-backend").click()
    details = table.locator(".jw-details")
    details.wait_for(state="visible", timeout=5000)
    terms = details.locator("dt:not([hidden])").all_inner_texts()
    assert "Key" not in terms and "Submitted" in terms
    submitted = details.locator("dt", has_text=re.compile("^Submitted$")).locator("+ dd")
    assert re.fullmatch(r"\d\d:\d\d:\d\d", submitted.inner_text()), submitted.inner_text()
    title = submitted.get_attribute("title") or ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", title), title
    assert "(" not in details.locator(".jw-details-list").inner_text()  # no raw epoch seconds
    screenshot(table, "layout-table-details")

    # CANCELLED reads plainly
    label = table.locator(".jw-body .jw-pill-label", has_text="CANCELLED").first
    assert label.evaluate("(el) => getComputedStyle(el).textDecorationLine") == "none"
    assert page.errors == []


def test_table_fits_a_notebook_beside_the_panel(page: Any, lab: Lab) -> None:
    # the file browser and the Jobs panel open: the output area is about 716 px wide
    nb = Notebook(page, lab, write_notebook(lab.root, "layout-progress.ipynb", [PROGRESS]))
    _open_panel(page)
    nb.run_cell(0)
    nb.wait_cell(0, timeout=60)
    assert nb.errors(0) == []
    output = nb.cell_node(0).locator(".jp-OutputArea-output").first
    table = output.locator(".jw-table")
    row = table.locator(".jw-body .jw-row").first
    row.locator(".jw-pill-label", has_text="RUNNING").wait_for(timeout=20000)
    row.locator(".jw-progress-text", has_text=PROGRESS_TEXT).wait_for(state="attached")
    page.wait_for_timeout(400)  # the columns are measured at most every 250 ms
    area = output.bounding_box()
    assert 680 <= area["width"] <= 760, f"the output area is {area['width']}px wide"

    # no sideways scroll: every column fits
    grid = table.locator(".jw-grid")
    widths = grid.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], widths
    # Cancel and the status whole, inside the output area
    cancel = row.locator("button.jw-cancel").bounding_box()
    assert area["x"] <= cancel["x"] and cancel["x"] + cancel["width"] <= area["x"] + area["width"]
    for sel in (".jw-head .jw-c-actions", ".jw-body .jw-cancel", ".jw-body .jw-pill"):
        facts = page.evaluate(WHOLE, [".jp-Notebook .jw-table", sel])
        assert facts and all(f["whole"] for f in facts), (sel, facts)
    # the progress note is what gives way; the whole of it is the cell's title
    progress = row.locator(".jw-c-progress")
    assert progress.get_attribute("title") == f"27% \u00b7 {PROGRESS_TEXT}"
    assert row.locator(".jw-pct").evaluate("(el) => el.scrollWidth <= el.clientWidth")
    bar = row.locator(".jw-progress").bounding_box()
    assert bar["width"] >= 20, bar
    screenshot(table, "layout-table-progress-716")
    assert page.errors == []


def test_badge_tooltip_is_not_clipped(page: Any, jobs_nb: Notebook) -> None:
    nb = jobs_nb
    nb.run_cell(2)
    nb.wait_cell(2)
    badge = nb.cell_node(2).locator(".jw-badge")
    badge.wait_for(timeout=15000)
    badge.hover()
    tip_id = badge.get_attribute("aria-describedby")
    tip = page.locator(f"#{tip_id}")
    tip.wait_for(state="visible", timeout=5000)
    assert tip.inner_text() == ERROR
    facts = page.evaluate(
        """(id) => {
          const tip = document.getElementById(id);
          const r = tip.getBoundingClientRect();
          const probe = (x, y) => {
            const el = document.elementFromPoint(x, y);
            return !!el && (el === tip || tip.contains(el));
          };
          return {
            inViewport: r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight
              && r.right <= innerWidth,
            height: r.height,
            centre: probe(r.left + r.width / 2, r.top + r.height / 2),
            corners: probe(r.left + 3, r.top + 3) && probe(r.right - 3, r.bottom - 3),
          };
        }""",
        tip_id,
    )
    assert facts["inViewport"] and facts["height"] > 30, facts
    assert facts["centre"] and facts["corners"], facts
    screenshot(page, "layout-badge-tooltip")
    page.mouse.move(5, 5)
    tip.wait_for(state="hidden", timeout=5000)
    assert page.errors == []
