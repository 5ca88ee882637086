"""Job-provided text is text: markup in ids, backend names, errors and tracebacks shows as
characters in the table, its details and the badge, and no script runs."""

from __future__ import annotations

from typing import Any

from conftest import Lab, Notebook, screenshot, write_notebook

JOB_ID = '<img src=x onerror="window.__pwned=1">'
ERROR = "<script>window.__pwned=2</script><b>bold</b>"

SETUP = f"""\
import types
import jobwidgets as jw
from jobwidgets import JobStatus
from jobwidgets.widgets import JobTable, StatusBadge

class MarkupJob(jw.BaseJob):
    pushes_status = True
    def submit(self):
        self._report(JobStatus.QUEUED)
    def status(self):
        return self.state
    def cancel(self):
        return False
    def result(self, timeout=None):
        raise jw.JobError("no result")

backend = types.SimpleNamespace(name='<img src=y onerror="window.__pwned=3">')
evil = MarkupJob(backend, {JOB_ID!r})
evil.submit()
evil._report(JobStatus.ERROR, error={ERROR!r},
             error_traceback='<img src=z onerror="window.__pwned=4">Traceback <i>it</i>')
JobTable([evil], title='<img src=t onerror="window.__pwned=5">jobs')"""

BADGE = "StatusBadge(evil)"
RICH = "evil"  # a job as a cell's value: the live badge (with an HTML snapshot)

NO_MARKUP = """() => {
  const roots = [...document.querySelectorAll('.jw-root')];
  const found = roots.flatMap((r) => [...r.querySelectorAll('img, b, i, script')]);
  return {roots: roots.length, found: found.map((n) => n.outerHTML), pwned: window.__pwned};
}"""


def test_markup_shows_as_text(page: Any, lab: Lab) -> None:
    nb = Notebook(page, lab, write_notebook(lab.root, "markup.ipynb", [SETUP, BADGE, RICH]))
    nb.run_all()
    nb.wait_all_run(timeout=60)
    for i in range(3):
        assert nb.errors(i) == [], nb.output_text(i)

    table = page.locator(".jw-table").first
    row = table.locator(".jw-body .jw-row").first
    row.wait_for(timeout=15000)
    assert table.locator(".jw-title").inner_text() == '<img src=t onerror="window.__pwned=5">jobs'
    assert row.locator(".jw-c-id").inner_text() == JOB_ID
    assert "<img src=y" in row.locator(".jw-c-backend").inner_text()
    assert row.locator(".jw-c-status .jw-pill").get_attribute("title") == ERROR

    row.locator(".jw-c-backend").click()
    details = table.locator(".jw-details")
    details.wait_for(state="visible", timeout=5000)
    assert ERROR in details.locator(".jw-details-list").inner_text()
    assert "<img src=z" in details.locator(".jw-traceback:not(.jw-log-tail)").inner_text()
    screenshot(table, "markup-table")

    badges = page.locator(".jw-badge")
    badges.nth(1).wait_for(timeout=15000)
    assert badges.count() == 2
    for k in range(2):
        badge = badges.nth(k)
        assert JOB_ID in badge.inner_text()
        assert badge.get_attribute("title") == ERROR
        assert ERROR in (badge.get_attribute("aria-label") or "")
    badges.first.focus()  # shows the error tooltip
    tip = badges.first.get_attribute("aria-describedby")
    assert page.locator(f"#{tip}").inner_text() == ERROR
    screenshot(nb.cell_node(1), "markup-badge")

    facts = page.evaluate(NO_MARKUP)
    assert facts["roots"] >= 3
    assert facts["found"] == []
    assert facts["pwned"] is None
    # no attribute of a widget element carries an event handler
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('.jw-root *')].flatMap(
             (n) => [...n.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name))"""
    )
    assert handlers == []
    assert page.errors == []
