"""Tags, groups, export and Retry in the page: a table of tagged jobs filtered by tag,
grouped by tag with counts, a group collapsed, the rows exported as CSV (and as JSON
from the panel), and a failed job retried, its new row linked to the original."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from conftest import Lab, Notebook, screenshot, write_notebook

SETUP = """\
import json
import jobwidgets as jw
from jobwidgets.widgets import JobTable
fast = dict(init_time=0, queue_time=0, validation_time=0, capacity=100, progress_steps=0)
remote = jw.SimulatedBackend(seed=3, name="sim", **fast)
odd = jw.SimulatedBackend(seed=4, name="=1+2", **fast)
local = jw.LocalBackend(max_workers=1)
attempts = []
def flaky(n):
    attempts.append(n)
    if len(attempts) == 1:
        raise RuntimeError("flaky failure on the first attempt")
    return 2 * n
nightly = remote.run_many(4, run_time=0.05, tags=["nightly"])
gpu = remote.run_many(2, run_time=0.05, fail=True, tags=["gpu", "nightly"])
weird = odd.run(run_time=0.05, tags=["=cmd"])
first = local.run(flaky, 21, tags=["flaky"])
jobs = nightly + gpu + [weird, first]
for j in jobs:
    j.wait_for_final_state(timeout=30)
table = JobTable(jobs, title="Tagged")
table"""


def _ids(table: Any) -> list[str]:
    return [
        t.strip()
        for t in table.locator(".jw-body .jw-row:not(.jw-group) .jw-id-text").all_inner_texts()
    ]


def _headers(table: Any) -> list[str]:
    return [
        " ".join(t.split()).lstrip("\u25b8\u25be ")
        for t in table.locator(".jw-body .jw-group .jw-group-toggle").all_inner_texts()
    ]


def _tab_stops(table: Any) -> int:
    """The Tab stops in the table's rows (the grid pattern: one)."""
    return int(
        table.evaluate(
            "(el) => [el.querySelector('.jw-scroll'), ...el.querySelectorAll('.jw-scroll *')]"
            ".filter((n) => n.tabIndex === 0).length"
        )
    )


def _focused_header(page: Any) -> str | None:
    """The group id of the header row with DOM focus, or None."""
    value = page.evaluate(
        "() => document.activeElement?.closest('.jw-body .jw-group')?.dataset.group ?? null"
    )
    return None if value is None else str(value)


def _wait_rows(page: Any, table: Any, n: int) -> None:
    page.wait_for_function(
        "([el, n]) => el.querySelectorAll('.jw-body .jw-row').length === n",
        arg=[table.element_handle(), n],
        timeout=10000,
    )


def test_tags_groups_export_and_retry(page: Any, lab: Lab) -> None:
    nb = Notebook(page, lab, write_notebook(lab.root, "tags.ipynb", [SETUP]))
    nb.run_cell(0)
    nb.wait_cell(0, timeout=90)
    assert nb.errors(0) == []
    facts = json.loads(
        nb.run_code(
            "print(json.dumps({'ids': [j.job_id() for j in jobs], "
            "'gpu': [j.job_id() for j in gpu], 'first': first.job_id(), "
            "'status': [j.state.name for j in jobs]}))"
        )
    )
    assert facts["status"] == ["DONE"] * 4 + ["ERROR"] * 2 + ["DONE", "ERROR"]
    table = page.locator(".jw-table").first
    _wait_rows(page, table, 8)

    # filter by tag: the choices are the jobs' tags
    tag = table.locator("select.jw-filter-tag")
    options = tag.locator("option").all_inner_texts()
    assert options[0] == "All tags" and sorted(options[1:]) == sorted(
        ["=cmd", "flaky", "gpu", "nightly"]
    )
    tag.select_option("gpu")
    _wait_rows(page, table, 2)
    assert sorted(_ids(table)) == sorted(facts["gpu"])
    tag.select_option("")
    _wait_rows(page, table, 8)

    # group by tag: a header per tag with its count; a job with two tags is in both groups
    table.locator("select.jw-group-by").select_option("tag")
    _wait_rows(page, table, 4 + 1 + 1 + 2 + 6)
    headers = _headers(table)
    assert sorted(headers) == sorted(["=cmd (1)", "flaky (1)", "gpu (2)", "nightly (6)"]), headers
    nightly = table.locator(".jw-body .jw-group").filter(has_text="nightly")
    chips = {
        c.get_attribute("title"): c.inner_text().strip()
        for c in nightly.locator(".jw-group-chip:not([hidden])").all()
    }
    assert {k: v[-1] for k, v in chips.items()} == {"DONE": "4", "ERROR": "2"}
    assert "6 jobs: 4 DONE, 2 ERROR" in str(nightly.locator("button").get_attribute("aria-label"))
    shot = screenshot(table, "tags-grouped-by-tag")
    assert shot.exists()

    # the keyboard: the grid is one Tab stop, its first row the first group's header; the
    # arrow keys land on headers; Enter collapses the group and expands it again
    assert table.locator(".jw-group-toggle[tabindex='-1']").count() == 4
    assert _tab_stops(table) == 1
    table.locator(".jw-head .jw-sort").last.focus()
    page.keyboard.press("Tab")
    assert _focused_header(page) == "tag:=cmd"
    page.keyboard.press("ArrowDown")
    assert _focused_header(page) is None  # the =cmd job's row
    page.keyboard.press("ArrowDown")
    assert _focused_header(page) == "tag:flaky"
    page.keyboard.press("Enter")
    _wait_rows(page, table, 4 + 1 + 2 + 6)  # flaky's one row went
    flaky = table.locator(".jw-body .jw-group[data-group='tag:flaky']")
    assert str(flaky.get_attribute("aria-label")).startswith("Group flaky, collapsed, 1 job")
    assert flaky.locator("button").get_attribute("aria-expanded") == "false"
    assert _focused_header(page) == "tag:flaky"
    screenshot(table, "tags-group-collapsed-by-keyboard")
    page.keyboard.press("Enter")
    _wait_rows(page, table, 4 + 1 + 1 + 2 + 6)
    assert flaky.locator("button").get_attribute("aria-expanded") == "true"
    assert _focused_header(page) == "tag:flaky"
    assert _tab_stops(table) == 1
    page.keyboard.press("Tab")  # the next Tab leaves the grid
    assert not page.evaluate("() => !!document.activeElement.closest('.jw-scroll')")

    # collapse a group: its rows leave the list, its header stays
    nightly.locator("button.jw-group-toggle").click()
    _wait_rows(page, table, 4 + 1 + 1 + 2)
    assert nightly.locator("button").get_attribute("aria-expanded") == "false"
    screenshot(table, "tags-group-collapsed")

    # export CSV: every row shown (the filter is off; collapsed rows count), each job once
    with page.expect_download() as download_info:
        table.locator("button.jw-export-csv").click()
    download = download_info.value
    assert re.fullmatch(r"jobs-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.csv", download.suggested_filename)
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    records = json.loads(nb.run_code("print(json.dumps(table.to_records()))"))
    assert list(rows[0]) == list(records[0])  # the CSV's columns are the records' keys
    assert [r["job_id"] for r in rows] == [
        "'" + i if i.startswith("=") else i for i in facts["ids"]
    ]
    weird = next(r for r in rows if r["backend"].startswith("'"))
    assert weird["backend"] == "'=1+2" and weird["tags"] == '["=cmd"]'  # no formula
    by_id = {r["job_id"]: r for r in records}
    for row in rows:
        record = by_id[row["job_id"].removeprefix("'")]
        assert row["status"] == record["status"] and row["started"] == (record["started"] or "")
        assert json.loads(row["tags"]) == record["tags"]

    # Retry the failed local job: a new row, linked to the original
    original = table.locator(".jw-body .jw-row:not(.jw-group)").filter(
        has=page.locator(".jw-id-text", has_text=re.compile(f"^{re.escape(facts['first'])}$"))
    )
    retry = original.locator("button.jw-retry")
    assert retry.is_visible() and original.locator("button.jw-cancel").is_hidden()
    retry.click()
    original.locator(".jw-cancel-note", has_text="retried as local-thread-2").wait_for(
        timeout=20000
    )
    again = table.locator(".jw-body .jw-row:not(.jw-group)").filter(
        has=page.locator(".jw-id-text", has_text=re.compile("^local-thread-2$"))
    )
    again.locator(".jw-pill-label", has_text="DONE").wait_for(timeout=20000)
    assert "flaky (2)" in _headers(table)
    again.locator(".jw-c-backend").click()
    details = table.locator(".jw-details")
    details.wait_for(state="visible", timeout=5000)
    link = details.locator("button.jw-retry-of")
    assert link.inner_text() == f"retry of {facts['first']}"
    screenshot(table, "tags-retried")
    link.click()
    page.wait_for_function(
        "([el, id]) => el.querySelector('.jw-details-title').textContent === `Job ${id}`",
        arg=[table.element_handle(), facts["first"]],
        timeout=5000,
    )
    assert "jw-selected" in str(original.get_attribute("class"))
    kernel = json.loads(
        nb.run_code(
            "print(json.dumps([attempts, [j.job_id() for j in table.jobs][-1], "
            "table.jobs[-1].resubmitted_from, table.jobs[-1].result(), list(table.jobs[-1].tags)]))"
        )
    )
    assert kernel == [[21, 21], "local-thread-2", facts["first"], 42, ["flaky"]]

    # the panel lists the same jobs, and its Export JSON gives the same records
    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    panel = page.locator("#jobwidgets-panel")
    panel.wait_for(state="visible", timeout=10000)
    page.wait_for_function(
        "() => document.querySelectorAll("
        "'#jobwidgets-panel .jw-panel-live .jw-body .jw-row').length >= 9",
        timeout=20000,
    )
    with page.expect_download() as download_info:
        panel.locator(".jw-panel-live button.jw-export-json").click()
    exported = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    records = json.loads(nb.run_code("print(json.dumps(table.to_records()))"))
    assert sorted(r["job_id"] for r in exported) == sorted(r["job_id"] for r in records)
    mine = {r["job_id"]: r for r in exported}
    spans = ("queue_seconds", "run_seconds")
    for record in records:
        got = mine[record["job_id"]]
        assert list(got) == list(record)
        assert {k: v for k, v in got.items() if k not in spans} == {
            k: v for k, v in record.items() if k not in spans
        }
        for key in spans:
            assert (got[key] is None) == (record[key] is None)
            assert got[key] is None or abs(got[key] - record[key]) < 0.002

    # Retry while a cell blocks the kernel: the new job is made at once, not when the
    # cell ends (the click goes by the comm and by the subshell route)
    sleeper = nb.append(
        "import time\nend = time.time() + 15\nwhile time.time() < end:\n    time.sleep(0.1)"
    )
    nb.run_cell(sleeper)
    nb.wait_started(sleeper)
    table.locator(".jw-busy-note").wait_for(state="visible", timeout=10000)
    failed = table.locator(".jw-body .jw-row:not(.jw-group)").filter(
        has=page.locator(".jw-id-text", has_text=re.compile(f"^{re.escape(facts['gpu'][0])}$"))
    )
    failed.first.locator("button.jw-retry").click()
    failed.first.locator(".jw-cancel-note", has_text="retried as sim-7").wait_for(timeout=8000)
    assert not nb.cell_finished(sleeper), "the retry waited for the cell"
    screenshot(table, "tags-retried-while-busy")
    assert page.errors == []
