// The History view's model and view against fixed JSON answers of the REST
// contract (GET jobwidgets/api/history), through an injected fetch function:
// the query each action sends, paging, the notebook switch, a stale answer,
// errors, the history switched off, export as CSV and JSON, and the view in
// jsdom (the JobTable's own view renders the page). Run after `jlpm build:lib`.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { installDom, settle, XSS } from "../../test-support/helpers.js";

installDom();
const { HistoryModel, toCSV, toJSON, parsePage, EXPORT_FIELDS } = await import("../lib/history.js");
const { HistoryView } = await import("../lib/historyView.js");

function record(i, fields = {}) {
  return {
    id: `sim:${i}`,
    job_id: `job-${String(i).padStart(6, "0")}`,
    backend: "sim",
    status: "DONE",
    created_at: 1000 + i,
    submitted_at: 1000 + i,
    started_at: 1001 + i,
    finished_at: 1003 + i,
    progress: null,
    error: null,
    error_traceback: null,
    log_tail: null,
    tags: [],
    job_class: "SimulatedJob",
    kernel_id: "k-1",
    notebook: "a.ipynb",
    kernel_ended: false,
    updated_at: 1003 + i,
    ...fields,
  };
}

/**
 * A server of `total` records (newest first) that answers like the REST
 * contract, recording every query; `hold` keeps answers back until released.
 */
function fakeServer(total, { make = record, enabled = true } = {}) {
  const all = Array.from({ length: total }, (_, i) => make(total - 1 - i));
  const server = {
    queries: [],
    held: [],
    hold: false,
    fail: null,
    async fetch(params, method = "GET") {
      const q = Object.fromEntries(params.entries());
      server.queries.push({ method, ...q });
      if (server.hold) await new Promise((resolve) => server.held.push(resolve));
      if (server.fail) throw new Error(server.fail);
      if (!enabled) return { records: [], total: 0, limit: Number(q.limit), offset: 0, enabled: false };
      let rows = all;
      if (q.status) rows = rows.filter((r) => q.status.split(",").includes(r.status));
      if (q.notebook) rows = rows.filter((r) => r.notebook === q.notebook);
      if (q.text) rows = rows.filter((r) => [r.job_id, r.backend, r.error].some((v) => v && v.includes(q.text)));
      const limit = Math.min(Number(q.limit ?? 50), 1000);
      const offset = Number(q.offset ?? 0);
      return { records: rows.slice(offset, offset + limit), total: rows.length, limit, offset };
    },
    release() {
      for (const resolve of server.held.splice(0)) resolve();
    },
  };
  return server;
}

const cleanups = [];
afterEach(() => cleanups.splice(0).forEach((fn) => fn()));

function mountView(server, options = {}) {
  const model = new HistoryModel({ fetch: server.fetch, searchDelayMs: 0, ...options });
  const downloads = [];
  const view = new HistoryView({
    model,
    download: (name, text, mime) => downloads.push({ name, text, mime }),
    now: () => new Date("2026-11-28T22:41:05Z"),
  });
  document.body.appendChild(view.node);
  cleanups.push(() => view.dispose());
  return { model, view, downloads };
}

/** Wait until the model has its answer and the table view has drawn it. */
async function ready(model) {
  await settle();
  for (let i = 0; i < 2000 && model.state === "loading"; i++) await new Promise((r) => setTimeout(r, 1));
  await settle();
}

const rowsOf = (view) => [...view.node.querySelectorAll(".jw-body .jw-row")];
const idsOf = (view) => rowsOf(view).map((r) => r.querySelector(".jw-c-id").textContent);
const byLabel = (view, label) => view.node.querySelector(`[aria-label="${label}"]`);
const position = (view) => view.node.querySelector(".jw-history-position").textContent;

test("opening it asks for this notebook's first page, newest first, and the table shows it", async () => {
  const server = fakeServer(250);
  const { model, view } = mountView(server);
  model.setNotebook("a.ipynb");
  view.show();
  await ready(model);
  assert.deepEqual(server.queries, [{ method: "GET", notebook: "a.ipynb", limit: "100", offset: "0" }]);
  assert.equal(model.state, "loaded");
  assert.equal(position(view), "1\u2013100 of 250");
  assert.equal(idsOf(view)[0], "job-000249");
  assert.equal(view.node.querySelector(".jw-history-scope").textContent, "Jobs of a.ipynb");
});

test("paging through the server: next, last, previous, first; buttons follow", async () => {
  const server = fakeServer(100000);
  const { model, view } = mountView(server);
  view.show();
  await ready(model);
  assert.equal(position(view), "1\u2013100 of 100,000");
  assert.equal(byLabel(view, "Previous page").disabled, true);
  assert.equal(byLabel(view, "First page").disabled, true);
  byLabel(view, "Next page").click();
  await ready(model);
  assert.equal(server.queries.at(-1).offset, "100");
  assert.equal(position(view), "101\u2013200 of 100,000");
  assert.equal(idsOf(view)[0], "job-099899");
  byLabel(view, "Last page").click();
  await ready(model);
  assert.equal(server.queries.at(-1).offset, "99900");
  assert.equal(position(view), "99,901\u2013100,000 of 100,000");
  assert.equal(byLabel(view, "Next page").disabled, true);
  assert.equal(idsOf(view)[0], "job-000099");
  byLabel(view, "Previous page").click();
  await ready(model);
  assert.equal(server.queries.at(-1).offset, "99800");
  byLabel(view, "First page").click();
  await ready(model);
  assert.equal(server.queries.at(-1).offset, "0");
  assert.equal(model.offset, 0);
  // the table only draws the visible rows of a page
  assert.ok(rowsOf(view).length <= 100);
});

test("the notebook switch: this notebook's jobs, or every notebook's", async () => {
  const server = fakeServer(10, { make: (i) => record(i, { notebook: i % 2 ? "a.ipynb" : "b.ipynb" }) });
  const { model, view } = mountView(server);
  model.setNotebook("a.ipynb");
  view.show();
  await ready(model);
  assert.equal(model.total, 5);
  const all = view.node.querySelector(".jw-history-all-input");
  assert.equal(all.closest("label").textContent.trim(), "All notebooks");
  all.checked = true;
  all.dispatchEvent(new Event("change"));
  await ready(model);
  assert.equal(server.queries.at(-1).notebook, undefined);
  assert.equal(model.total, 10);
  assert.equal(view.node.querySelector(".jw-history-scope").textContent, "Jobs of every notebook");
  // another notebook becomes active: no new request while all are shown
  const before = server.queries.length;
  model.setNotebook("b.ipynb");
  await ready(model);
  assert.equal(server.queries.length, before);
  all.checked = false;
  all.dispatchEvent(new Event("change"));
  await ready(model);
  assert.equal(server.queries.at(-1).notebook, "b.ipynb");
  assert.equal(model.total, 5);
  // with no notebook open, every notebook's jobs, and the switch can't be used
  model.setNotebook(null);
  await ready(model);
  assert.equal(server.queries.at(-1).notebook, undefined);
  assert.equal(all.disabled, true);
});

test("search and status filter reach the server, back on the first page; a late answer is dropped", async () => {
  const server = fakeServer(300, { make: (i) => record(i, { status: i % 3 ? "DONE" : "ERROR" }) });
  const { model, view } = mountView(server);
  view.show();
  await ready(model);
  byLabel(view, "Next page").click();
  await ready(model);
  const input = view.node.querySelector(".jw-filter-text");
  input.value = "job-0001";
  input.dispatchEvent(new Event("input"));
  await ready(model);
  assert.deepEqual(server.queries.at(-1), { method: "GET", text: "job-0001", limit: "100", offset: "0" });
  assert.equal(model.total, 100);
  const select = view.node.querySelector(".jw-filter-status");
  select.value = "ERROR";
  select.dispatchEvent(new Event("change"));
  await ready(model);
  assert.equal(server.queries.at(-1).status, "ERROR");
  assert.ok(idsOf(view).length > 0);
  assert.ok(rowsOf(view).every((r) => r.querySelector(".jw-pill-label").textContent === "ERROR"));
  // two requests in flight: the older answer, arriving last, does not win
  server.hold = true;
  input.value = "job-00000";
  input.dispatchEvent(new Event("input"));
  input.value = "job-00029";
  input.dispatchEvent(new Event("input"));
  await settle();
  const [first, second] = server.held.splice(0);
  second();
  await settle();
  first();
  await settle();
  server.hold = false;
  assert.deepEqual(idsOf(view), ["job-000297", "job-000294", "job-000291"]);
});

test("the search waits for a pause in typing", async () => {
  const server = fakeServer(5);
  const model = new HistoryModel({ fetch: server.fetch, searchDelayMs: 30 });
  cleanups.push(() => model.dispose());
  await model.load();
  for (const text of ["j", "jo", "job"]) model.send({ type: "filter", status: "", text });
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(
    server.queries.map((q) => q.text),
    [undefined, "job"],
  );
});

test("a server error and a switched-off history are said, as text", async () => {
  const server = fakeServer(5);
  server.fail = `bad status ${XSS}`;
  const { model, view } = mountView(server);
  view.show();
  await ready(model);
  assert.equal(model.state, "error");
  const status = view.node.querySelector(".jw-history-status");
  assert.equal(status.textContent, `Could not read the job history: bad status ${XSS}`);
  assert.equal(status.getAttribute("role"), "status");
  assert.equal(view.node.querySelector("img"), null);
  server.fail = null;
  byLabel(view, "Refresh the job history").click();
  await ready(model);
  assert.equal(model.state, "loaded");
  assert.equal(status.hidden, true);

  const off = mountView(fakeServer(5, { enabled: false }));
  off.view.show();
  await ready(off.model);
  assert.equal(off.model.state, "disabled");
  assert.match(off.view.node.querySelector(".jw-history-status").textContent, /history is off/);
  assert.equal(byLabel(off.view, "Export the matching past jobs as CSV").disabled, true);
});

test("an answer that is not a page of the history is an error", () => {
  assert.throws(() => parsePage({ rows: [] }), /not a page/);
  const page = parsePage({ records: [{ job_id: 7, status: "DONE", tags: "x", kernel_ended: "yes" }], total: 1 });
  assert.equal(page.records[0].job_id, "7");
  assert.equal(parsePage({ records: [{ job_id: null }] }).records[0].job_id, null);
  assert.deepEqual(page.records[0].tags, []);
  assert.equal(page.records[0].kernel_ended, false);
});

test("export: every matching record over all pages, as CSV and as JSON", async () => {
  const make = (i) =>
    record(i, {
      status: i === 1 ? "ERROR" : "DONE",
      error: i === 1 ? 'bad "value", see\nbelow' : null,
      tags: i === 1 ? ["x", "y"] : [],
      job_id: i === 2 ? "=HYPERLINK(1)" : `job-${i}`,
    });
  const server = fakeServer(2500, { make });
  const { model, view, downloads } = mountView(server);
  view.show();
  await ready(model);
  const csvButton = byLabel(view, "Export the matching past jobs as CSV");
  assert.equal(csvButton.textContent, "Export CSV");
  await view.export("csv");
  assert.deepEqual(
    server.queries.slice(1).map((q) => [q.offset, q.limit]),
    [
      ["0", "5000"], // this server answers at most 1,000 a request: the next asks from there
      ["1000", "5000"],
      ["2000", "5000"],
    ],
  );
  assert.equal(downloads.length, 1);
  const { name, text, mime } = downloads[0];
  assert.equal(name, "jobs-history-2026-11-28T22-41-05.csv");
  assert.equal(mime, "text/csv");
  const lines = text.split("\r\n");
  assert.equal(lines[0], EXPORT_FIELDS.join(","));
  assert.equal(lines.length, 2500 + 2); // header, records, final empty
  assert.ok(text.includes('"bad ""value"", see\nbelow"'));
  assert.ok(text.includes(',"[""x"", ""y""]",'), "tags as a JSON list, as the command line writes them");
  assert.ok(text.includes(",False,"));
  assert.ok(text.includes("'=HYPERLINK(1)"), "a formula is not run by a spreadsheet");
  assert.match(view.node.querySelector(".jw-history-status").textContent, /Exported 2,500 jobs as CSV/);

  byLabel(view, "Export the matching past jobs as JSON").click();
  for (let i = 0; i < 2000 && downloads.length < 2; i++) await new Promise((r) => setTimeout(r, 1));
  const json = downloads[1];
  assert.equal(json.mime, "application/json");
  const parsed = JSON.parse(json.text);
  assert.equal(parsed.length, 2500);
  assert.deepEqual(Object.keys(parsed[0]), EXPORT_FIELDS);
  assert.equal(parsed.find((r) => r.status === "ERROR").error, 'bad "value", see\nbelow');
  assert.equal(toCSV([]), `${EXPORT_FIELDS.join(",")}\r\n`);
  assert.equal(toJSON([]), "[]\n");
});

test("the view's controls are labelled and reachable by keyboard", async () => {
  const { view } = mountView(fakeServer(3));
  view.show();
  await settle();
  for (const button of view.node.querySelectorAll("button")) {
    if (button.closest(".jw-body") || button.hidden) continue;
    const name = button.getAttribute("aria-label") || button.textContent.trim();
    assert.ok(name, button.outerHTML);
    assert.notEqual(button.tabIndex, -1);
  }
  assert.ok(view.node.querySelector(".jw-filter-text").getAttribute("aria-label"));
  assert.ok(view.node.querySelector(".jw-filter-status").getAttribute("aria-label"));
  assert.ok(view.node.querySelector(".jw-history-all-input").closest("label"));
});

test("dispose removes the table and stops answering", async () => {
  const server = fakeServer(3);
  const { model, view } = mountView(server);
  view.show();
  await ready(model);
  view.dispose();
  assert.equal(view.node.isConnected, false);
  assert.equal(view.node.querySelector(".jw-table"), null);
  const before = server.queries.length;
  byLabel(view, "Refresh the job history").click();
  assert.equal(server.queries.length, before);
  model.dispose();
});
