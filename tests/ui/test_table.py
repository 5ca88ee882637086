"""The job table in the page: sort by column, filter by text and status, row details."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from conftest import Lab, Notebook, screenshot, write_notebook

SETUP = """\
import json, random, time
import jobwidgets as jw
from jobwidgets.widgets import JobTable
remote = jw.SimulatedBackend(seed=3, init_time=0, queue_time=0, validation_time=0,
                             capacity=100, progress_steps=0)
done = [remote.run(run_time=0.05 * (i + 1)) for i in range(10)]
failed = [remote.run(run_time=0.04 * (i + 1), fail=True) for i in range(8)]
cancelled = [remote.run(run_time=600) for _ in range(6)]
running = [remote.run(run_time=600) for _ in range(6)]
local = jw.LocalBackend(max_workers=1)
def boom():
    raise ValueError("boom from the table test")
crashed = local.run(boom)
for j in done + failed + [crashed]:
    j.wait_for_final_state(timeout=10)
time.sleep(0.3)
for j in cancelled:
    j.cancel()
jobs = done + failed + cancelled + running + [crashed]
random.Random(5).shuffle(jobs)
table = JobTable(jobs, title="Sortable")
table"""

FACTS = """\
now = time.time()
print(json.dumps({j.job_id(): [j.state.name,
    None if j.started_at is None else (j.finished_at or now) - j.started_at] for j in jobs}))"""

ORDER = ["INITIALIZING", "QUEUED", "VALIDATING", "RUNNING", "CANCELLED", "DONE", "ERROR"]


def _natural(job_id: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", job_id.lower())]


def _visible_ids(table: Any) -> list[str]:
    return [t.strip() for t in table.locator(".jw-body .jw-row .jw-c-id").all_inner_texts()]


def _visible_statuses(table: Any) -> list[str]:
    return table.locator(".jw-body .jw-row .jw-c-status .jw-pill-label").all_inner_texts()


def _click_sort(page: Any, table: Any, label: str) -> Any:
    """Click a column's sort button; return its header cell once it rendered."""
    header = table.locator(".jw-head [role=columnheader]", has_text=label)
    before = header.get_attribute("aria-sort")
    header.locator("button.jw-sort").click()
    page.wait_for_function(
        "([el, before]) => el.getAttribute('aria-sort') !== before",
        arg=[header.element_handle(), before],
        timeout=5000,
    )
    return header


def _monotonic(values: list[Any], descending: bool = False, tol: float = 0.0) -> bool:
    pairs = list(itertools.pairwise(values))
    if descending:
        return all(a >= b - tol for a, b in pairs)
    return all(a <= b + tol for a, b in pairs)


@pytest.fixture
def sortable(page: Any, lab: Lab) -> tuple[Notebook, Any, dict[str, Any]]:
    nb = Notebook(page, lab, write_notebook(lab.root, "table.ipynb", [SETUP]))
    nb.run_cell(0)
    nb.wait_cell(0, timeout=60)
    assert nb.errors(0) == []
    table = page.locator(".jw-table").first
    table.locator(".jw-body .jw-row").first.wait_for(timeout=15000)
    facts = json.loads(nb.run_code(FACTS))
    assert len(facts) == 31
    page.wait_for_function(
        "(el) => el.querySelector('.jw-chip.jw-st-error .jw-chip-count').textContent === '9'",
        arg=table.element_handle(),
        timeout=10000,
    )
    return nb, table, facts


def test_sort_by_columns(page: Any, sortable: tuple[Notebook, Any, dict[str, Any]]) -> None:
    _nb, table, facts = sortable
    kernel_order = _visible_ids(table)
    assert len(kernel_order) >= 12
    ids = sorted(facts, key=_natural)

    header = _click_sort(page, table, "Job ID")
    assert header.get_attribute("aria-sort") == "ascending"
    shown = _visible_ids(table)
    assert shown == ids[: len(shown)]
    assert shown != kernel_order
    screenshot(table, "table-sorted-id-asc")
    header = _click_sort(page, table, "Job ID")
    assert header.get_attribute("aria-sort") == "descending"
    shown = _visible_ids(table)
    assert shown == ids[::-1][: len(shown)]

    header = _click_sort(page, table, "Status")
    assert header.get_attribute("aria-sort") == "ascending"
    assert (
        table.locator(".jw-head [role=columnheader]", has_text="Job ID").get_attribute("aria-sort")
        == "none"
    )
    ranks = [ORDER.index(s) for s in _visible_statuses(table)]
    assert _monotonic(ranks) and ranks[0] == ORDER.index("RUNNING")
    header = _click_sort(page, table, "Status")
    assert header.get_attribute("aria-sort") == "descending"
    ranks = [ORDER.index(s) for s in _visible_statuses(table)]
    assert _monotonic(ranks, descending=True) and ranks[0] == ORDER.index("ERROR")

    header = _click_sort(page, table, "Run time")
    assert header.get_attribute("aria-sort") == "ascending"
    runs = [facts[i][1] for i in _visible_ids(table)]
    assert _monotonic(runs, tol=0.01), runs
    assert runs[0] == pytest.approx(min(r for _, r in facts.values() if r is not None), abs=0.01)
    header = _click_sort(page, table, "Run time")
    assert header.get_attribute("aria-sort") == "descending"
    shown = _visible_ids(table)
    runs = [facts[i][1] for i in shown]
    assert _monotonic(runs, descending=True, tol=0.01), runs
    assert facts[shown[0]][0] == "RUNNING"  # the longest run times are the running jobs
    screenshot(table, "table-sorted-run-desc")
    assert page.errors == []


def test_filter_and_details(page: Any, sortable: tuple[Notebook, Any, dict[str, Any]]) -> None:
    _nb, table, facts = sortable
    text = table.locator("input.jw-filter-text")
    text.fill("ated-2")
    expected = {i for i in facts if "ated-2" in i}
    page.wait_for_function(
        "([el, n]) => el.querySelectorAll('.jw-body .jw-row').length === n",
        arg=[table.element_handle(), len(expected)],
        timeout=5000,
    )
    assert set(_visible_ids(table)) == expected
    screenshot(table, "table-filter-text")

    text.fill("no job has this")
    table.locator(".jw-empty", has_text="No jobs match the filter").wait_for(timeout=5000)
    text.fill("")

    table.locator("select.jw-filter-status").select_option("ERROR")
    errors = {i for i, (status, _) in facts.items() if status == "ERROR"}
    page.wait_for_function(
        "([el, n]) => el.querySelectorAll('.jw-body .jw-row').length === n",
        arg=[table.element_handle(), len(errors)],
        timeout=5000,
    )
    assert set(_visible_ids(table)) == errors
    assert set(_visible_statuses(table)) == {"ERROR"}
    assert table.locator(".jw-chip.jw-st-error").get_attribute("aria-pressed") == "true"

    # a row's details: the local job's traceback, as text
    table.locator(".jw-body .jw-row", has_text="local-thread-1").locator(".jw-c-backend").click()
    details = table.locator(".jw-details")
    details.wait_for(state="visible", timeout=5000)
    assert "local-thread-1" in details.locator(".jw-details-title").inner_text()
    trace = details.locator("pre.jw-traceback:not(.jw-log-tail)").inner_text()
    assert "Traceback" in trace
    assert "ValueError: boom from the table test" in trace
    assert "boom from the table test" in details.locator(".jw-details-list").inner_text()
    screenshot(table, "table-details")

    # back to every status
    table.locator("select.jw-filter-status").select_option("")
    page.wait_for_function(
        "(el) => el.querySelectorAll('.jw-body .jw-row').length >= 12",
        arg=table.element_handle(),
        timeout=5000,
    )
    assert page.errors == []
