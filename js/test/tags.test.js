// Tags, groups, export and Retry in the table view (jsdom).
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, XSS, fakeKernel, installDom, makeRow, settle } from "../test-support/helpers.js";

const dom = installDom();
const { default: table } = await import("../src/table.js");
const { buildItems, NO_TAG } = await import("../src/table/groups.js");
const { EXPORT_FIELDS, csvField, toCSV, toRecord } = await import("../src/table/export.js");
const { buildRouteCode } = await import("../src/kernel_route.js");

const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

async function mount(extra = {}) {
  const model = new FakeModel({ compact: false, title: "Jobs" }, extra);
  mounted.push(table.initialize({ model }));
  const el = document.createElement("div");
  document.body.appendChild(el);
  mounted.push(table.render({ model, el }));
  await settle();
  return { model, el };
}

const items = (el) =>
  [...el.querySelectorAll(".jw-body .jw-row")].map((r) =>
    r.classList.contains("jw-group")
      ? `# ${r.querySelector(".jw-group-label").textContent} ${r.querySelector(".jw-group-count").textContent}`
      : r.querySelector(".jw-id-text").textContent,
  );

function choose(select, value) {
  select.value = value;
  select.dispatchEvent(new window.Event("change"));
}

const ROWS = [
  makeRow("1", { status: "ERROR", tags: ["nightly", "gpu"], backend: "dask" }),
  makeRow("2", { status: "DONE", tags: ["nightly"] }),
  makeRow("3", { status: "RUNNING", tags: [], started_at: 1001 }),
  makeRow("4", { status: "DONE", tags: ["gpu"], backend: "dask" }),
];

test("grouping by tag: a header per tag with its count per status; a job in each of its tags' groups", async () => {
  const { model, el } = await mount();
  model.receive({ type: "reset", rows: ROWS, kernel_time: 1010 });
  await settle();
  choose(el.querySelector(".jw-group-by"), "tag");
  await settle();
  assert.deepEqual(items(el), ["# gpu (2)", "job-1", "job-4", "# nightly (2)", "job-1", "job-2", `# ${NO_TAG} (1)`, "job-3"]);
  const gpu = el.querySelector(".jw-group");
  const chips = [...gpu.querySelectorAll(".jw-group-chip:not([hidden])")].map(
    (c) => `${c.title}=${c.querySelector(".jw-group-chip-count").textContent}`,
  );
  assert.deepEqual(chips, ["DONE=1", "ERROR=1"]);
  assert.match(gpu.querySelector(".jw-group-toggle").getAttribute("aria-label"), /Collapse group gpu, 2 jobs: 1 DONE, 1 ERROR/);
  assert.equal(gpu.querySelector(".jw-group-toggle").getAttribute("aria-expanded"), "true");
  // a status change updates the counts in the headers
  model.receive({ type: "delta", upsert: [makeRow("3", { status: "DONE", tags: ["gpu"] })], remove: [] });
  await settle();
  assert.deepEqual(items(el).filter((t) => t.startsWith("#")), ["# gpu (3)", "# nightly (2)"]);
});

test("a collapsed group keeps its header and hides its rows; by status and backend too", async () => {
  const { model, el } = await mount();
  model.receive({ type: "reset", rows: ROWS, kernel_time: 1010 });
  await settle();
  choose(el.querySelector(".jw-group-by"), "status");
  await settle();
  assert.deepEqual(items(el), ["# RUNNING (1)", "job-3", "# DONE (2)", "job-2", "job-4", "# ERROR (1)", "job-1"]);
  el.querySelectorAll(".jw-group-toggle")[1].click();
  await settle();
  assert.deepEqual(items(el), ["# RUNNING (1)", "job-3", "# DONE (2)", "# ERROR (1)", "job-1"]);
  assert.equal(el.querySelectorAll(".jw-group-toggle")[1].getAttribute("aria-expanded"), "false");
  el.querySelectorAll(".jw-group-toggle")[1].click();
  await settle();
  assert.equal(items(el).length, 7);
  choose(el.querySelector(".jw-group-by"), "backend");
  await settle();
  assert.deepEqual(items(el), ["# dask (2)", "job-1", "job-4", "# local (2)", "job-2", "job-3"]);
  choose(el.querySelector(".jw-group-by"), "");
  await settle();
  assert.deepEqual(items(el), ["job-1", "job-2", "job-3", "job-4"]);
});

test("10,000 rows in groups: only the window is in the DOM, headers are list items", async () => {
  const rows = new Map();
  const keys = [];
  for (let i = 0; i < 10000; i++) {
    rows.set(String(i), makeRow(String(i), { tags: [`t${i % 50}`], status: i % 3 ? "DONE" : "ERROR" }));
    keys.push(String(i));
  }
  const list = buildItems(keys, rows, "tag", new Set(["tag:t0"]));
  assert.equal(list.length, 10000 - 200 + 50);
  assert.deepEqual(
    list.filter((item) => typeof item === "object").map((g) => [g.label, g.count]).slice(0, 2),
    [["t0", 200], ["t1", 200]],
  );
  const { model, el } = await mount();
  model.receive({ type: "reset", rows: [...rows.values()], kernel_time: 1010 });
  await settle();
  choose(el.querySelector(".jw-group-by"), "tag");
  await settle();
  const inDom = el.querySelectorAll(".jw-body .jw-row").length;
  assert.ok(inDom > 0 && inDom <= 30, `rendered ${inDom}`);
  assert.equal(el.querySelector(".jw-spacer").style.height, `${(10000 + 50) * 30}px`);
  assert.equal(el.querySelector(".jw-grid").getAttribute("aria-rowcount"), String(10000 + 50 + 1));
});

test("the tag filter lists the rows' tags and keeps the rows with that tag; the text filter finds tags", async () => {
  const { model, el } = await mount();
  model.receive({ type: "reset", rows: [...ROWS, makeRow("5", { tags: [XSS] })], kernel_time: 1010 });
  await settle();
  const select = el.querySelector(".jw-filter-tag");
  assert.deepEqual([...select.options].map((o) => o.value), ["", XSS, "gpu", "nightly"]);
  assert.equal(el.querySelector("img"), null, "a tag is text");
  choose(select, "gpu");
  await settle();
  assert.deepEqual(items(el), ["job-1", "job-4"]);
  choose(select, "");
  const text = el.querySelector(".jw-filter-text");
  text.value = "NIGHT";
  text.dispatchEvent(new window.Event("input"));
  await settle();
  assert.deepEqual(items(el), ["job-1", "job-2"]);
  const tagsShown = [...el.querySelectorAll(".jw-row-tags")].map((t) => t.textContent);
  assert.deepEqual(tagsShown, ["nightly \u00B7 gpu", "nightly"]);
});

test("CSV: formula-safe, quoted, the same columns as the JSON's keys", () => {
  assert.equal(csvField("=HYPERLINK(\"x\")"), `"'=HYPERLINK(""x"")"`);
  for (const bad of ["+1", "-2", "@SUM(A1)", "\tx", "\rx"]) {
    assert.ok(csvField(bad).replace(/^"/, "").startsWith(`'${bad}`), JSON.stringify(csvField(bad)));
  }
  assert.equal(csvField(["a", "=b"]), `"[""a"", ""=b""]"`);
  assert.equal(csvField(0.5), "0.5");
  assert.equal(csvField(null), "");
  const record = toRecord(makeRow("1", { status: "ERROR", tags: ["-x"], error: "a,b\nc", finished_at: 1002.5 }), 2000);
  assert.deepEqual(Object.keys(record), [...EXPORT_FIELDS]);
  assert.equal(record.submitted, "1970-01-01T00:16:40.000Z");
  assert.equal(record.queue_seconds, 2.5);
  assert.equal(record.run_seconds, null);
  const csv = toCSV([record]);
  assert.equal(csv.split("\r\n")[0], EXPORT_FIELDS.join(","));
  assert.ok(csv.includes(`"a,b\nc"`) && csv.includes(`"[""-x""]"`));
});

test("CSV of other fields (the History view's): their header line and values in their order", () => {
  const records = [{ id: "7", kernel_ended: true, job_id: "=1", extra: "left out" }, { id: "8", kernel_ended: false, job_id: null }];
  assert.equal(toCSV(records, ["job_id", "id", "kernel_ended"]), "job_id,id,kernel_ended\r\n'=1,7,True\r\n,8,False\r\n");
  assert.equal(toCSV([], ["a", "b"]), "a,b\r\n");
});

async function exported(el, which) {
  const saved = [];
  const realCreate = URL.createObjectURL;
  const realClick = dom.window.HTMLAnchorElement.prototype.click;
  URL.createObjectURL = (blob) => {
    saved.push({ blob });
    return "blob:fake";
  };
  dom.window.HTMLAnchorElement.prototype.click = function () {
    saved.at(-1).name = this.download;
  };
  try {
    el.querySelector(which).click();
  } finally {
    URL.createObjectURL = realCreate;
    dom.window.HTMLAnchorElement.prototype.click = realClick;
  }
  assert.equal(saved.length, 1);
  return { name: saved[0].name, text: await saved[0].blob.text() };
}

test("export: the rows shown (filtered, sorted), each job once, as CSV and JSON", async () => {
  const { model, el } = await mount();
  model.receive({ type: "reset", rows: ROWS, kernel_time: Date.now() / 1000 });
  await settle();
  choose(el.querySelector(".jw-filter-status"), "DONE");
  el.querySelector(".jw-sort").click(); // by job id, ascending
  el.querySelector(".jw-sort").click(); // descending
  choose(el.querySelector(".jw-group-by"), "tag"); // groups don't repeat jobs in a file
  await settle();
  const json = await exported(el, ".jw-export-json");
  assert.match(json.name, /^jobs-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.json$/);
  const records = JSON.parse(json.text);
  assert.deepEqual(records.map((r) => r.job_id), ["job-4", "job-2"]);
  assert.deepEqual(Object.keys(records[0]), [...EXPORT_FIELDS]);
  const csv = await exported(el, ".jw-export-csv");
  assert.match(csv.name, /\.csv$/);
  const lines = csv.text.trim().split("\r\n");
  assert.equal(lines.length, 3);
  assert.ok(lines[1].startsWith("job-4,dask,DONE,"));
});

test("Retry: a failed row that can run again; the kernel's answer; the link to the original", async () => {
  const kernel = fakeKernel();
  const { model, el } = await mount({ widget_manager: { kernel } });
  model.receive({
    type: "reset",
    model_id: "abc123",
    rows: [
      makeRow("1", { status: "ERROR", can_retry: true }),
      makeRow("2", { status: "DONE", can_retry: false }),
      makeRow("3", { status: "ERROR", can_retry: false }),
    ],
  });
  await settle();
  const row = (key) => [...el.querySelectorAll(".jw-body .jw-row")].find((r) => r.querySelector(".jw-id-text").textContent === `job-${key}`);
  assert.equal(row("1").querySelector(".jw-retry").hidden, false);
  assert.equal(row("1").querySelector(".jw-cancel").hidden, true);
  assert.equal(row("2").querySelector(".jw-retry").hidden, true);
  assert.equal(row("3").querySelector(".jw-retry").hidden, true);
  row("1").querySelector(".jw-retry").click();
  await settle();
  const sent = model.sent.at(-1);
  assert.equal(sent.type, "retry");
  assert.equal(sent.key, "1");
  assert.match(sent.request, /^[A-Za-z0-9_-]+$/);
  const codes = kernel.shell.map((m) => m.content.code);
  assert.ok(codes.includes(`import jobwidgets.feed as _r; _r.retry("abc123", "1", "${sent.request}")`), codes);
  assert.equal(row("1").querySelector(".jw-cancel-note").textContent, "retrying\u2026");
  assert.equal(row("1").querySelector(".jw-retry").disabled, true);
  assert.equal(el.querySelector(".jw-details").hidden, true, "the button does not open details");
  model.receive({ type: "retry_result", key: "1", request: sent.request, ok: true, new_job_id: "job-9" });
  model.receive({
    type: "delta",
    upsert: [makeRow("9", { status: "QUEUED", resubmitted_from: "job-1" })],
    remove: [],
  });
  await settle();
  assert.equal(row("1").querySelector(".jw-cancel-note").textContent, "retried as job-9");
  row("9").click();
  await settle();
  const link = el.querySelector(".jw-retry-of");
  assert.equal(link.textContent, "retry of job-1");
  link.click();
  await settle();
  assert.equal(el.querySelector(".jw-details-title").textContent, "Job job-1");
  assert.equal(row("1").classList.contains("jw-selected"), true);
  // a refused retry says why
  row("1").querySelector(".jw-retry").click();
  const again = model.sent.at(-1);
  model.receive({ type: "retry_result", key: "1", request: again.request, ok: false, message: "local-thread is closed" });
  await settle();
  assert.equal(row("1").querySelector(".jw-cancel-note").textContent, "could not retry: local-thread is closed");
});

test("the retry route code checks its request id", () => {
  assert.equal(buildRouteCode("retry", "m1", ["3"], "r-1"), 'import jobwidgets.feed as _r; _r.retry("m1", "3", "r-1")');
  assert.throws(() => buildRouteCode("retry", "m1", ["3"], 'x"); import os'), /request id/);
  assert.throws(() => buildRouteCode("retry", "m1", ["3", "4"], "r"), /one row key/);
});
