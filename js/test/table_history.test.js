// The table view showing past jobs (the panel's History view): read-only rows,
// the search box and status filter sent to the model instead of filtering
// here, "last seen RUNNING · kernel ended" for a job whose kernel ended, and
// the log tail in the details.
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, XSS, installDom, makeRow, settle } from "../test-support/helpers.js";

installDom();
const { default: table } = await import("../src/table.js");
const { queueTime, runTime, statusText } = await import("../src/model.js");

const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

async function mount(state = {}) {
  const model = new FakeModel({ compact: false, title: "", fill: false, ...state });
  const el = document.createElement("div");
  document.body.appendChild(el);
  mounted.push(table.render({ model, el }));
  await settle();
  return { model, el };
}

const bodyRows = (el) => [...el.querySelectorAll(".jw-body .jw-row")];
const ids = (el) => bodyRows(el).map((r) => r.querySelector(".jw-c-id").textContent);

const past = (key, fields = {}) =>
  makeRow(key, { notebook: "work/a.ipynb", kernel_ended: false, updated_at: 1010, log_tail: null, ...fields });

test("read-only: no Cancel, no Cancel all or Clear finished, no chips; a Notebook column", async () => {
  const { model, el } = await mount({ readonly: true, remote_filter: true });
  model.receive({ type: "reset", rows: [past("0", { status: "RUNNING" }), past("1", { status: "DONE" })] });
  await settle();
  assert.equal(bodyRows(el).length, 2);
  for (const row of bodyRows(el)) {
    assert.equal(row.querySelector("button.jw-cancel").hidden, true);
    assert.equal(row.querySelector(".jw-c-actions .jw-notebook").textContent, "work/a.ipynb");
  }
  assert.equal(el.querySelector(".jw-head .jw-c-actions").textContent, "Notebook");
  const buttons = [...el.querySelectorAll(".jw-toolbar button")];
  assert.ok(buttons.length >= 2 && buttons.every((b) => b.hidden));
  assert.equal(el.querySelector(".jw-chips").hidden, true);
});

test("the live table keeps its Cancel buttons and Actions column", async () => {
  const { model, el } = await mount();
  model.receive({ type: "reset", rows: [makeRow("0", { status: "RUNNING" })] });
  await settle();
  assert.equal(el.querySelector(".jw-body button.jw-cancel").hidden, false);
  assert.equal(el.querySelector(".jw-head .jw-c-actions").textContent, "Actions");
  assert.equal(el.querySelector(".jw-chips").hidden, false);
});

test("remote filter: search and status go to the model, the rows are not filtered here", async () => {
  const { model, el } = await mount({ readonly: true, remote_filter: true });
  model.receive({
    type: "reset",
    rows: [past("0", { job_id: "alpha", status: "DONE" }), past("1", { job_id: "beta", status: "ERROR" })],
  });
  await settle();
  model.sent.length = 0;
  const input = el.querySelector(".jw-filter-text");
  assert.equal(input.getAttribute("aria-label"), "Search past jobs");
  input.value = "alp";
  input.dispatchEvent(new Event("input"));
  const select = el.querySelector(".jw-filter-status");
  assert.ok(select.getAttribute("aria-label"));
  select.value = "ERROR";
  select.dispatchEvent(new Event("change"));
  await settle();
  assert.deepEqual(model.sent, [
    { type: "filter", status: "", text: "alp" },
    { type: "filter", status: "ERROR", text: "alp" },
  ]);
  assert.deepEqual(ids(el), ["alpha", "beta"]); // the server's answer decides
  // the server's answer: no rows
  model.receive({ type: "reset", rows: [] });
  await settle();
  assert.equal(el.querySelector(".jw-empty").hidden, false);
});

test("a job whose kernel ended shows its last status, never a made-up final one", async () => {
  const { model, el } = await mount({ readonly: true, remote_filter: true });
  const row = past("0", {
    job_id: "stuck",
    status: "RUNNING",
    submitted_at: 1000,
    started_at: 1002,
    updated_at: 1032,
    kernel_ended: true,
  });
  model.receive({ type: "reset", rows: [row, past("1", { job_id: "fine", status: "DONE", kernel_ended: true })] });
  await settle();
  const [stuck, fine] = bodyRows(el);
  const status = stuck.querySelector(".jw-c-status");
  const shown = [...status.childNodes].filter((n) => !n.hidden).map((n) => n.textContent.replace(/^\W+(?=R)/, ""));
  assert.equal(shown.join(" "), "last seen RUNNING \u00b7 kernel ended");
  assert.equal(status.title, "last seen RUNNING \u00b7 kernel ended");
  assert.ok(stuck.querySelector(".jw-pill").classList.contains("jw-pill-ended"), "no activity spinner");
  assert.ok(!fine.querySelector(".jw-pill").classList.contains("jw-pill-ended"));
  // a final job keeps its plain status, even with its kernel gone
  assert.equal(fine.querySelector(".jw-ended").hidden, true);
  assert.equal(fine.querySelector(".jw-last-seen").hidden, true);
  // how long it ran is unknown: no ticking, no made-up figure; its time in queue is known
  assert.equal(stuck.querySelector(".jw-c-run").textContent, "\u2014");
  assert.equal(runTime(row, 99999), null);
  assert.equal(queueTime(row, 99999), 2);
  assert.equal(queueTime({ ...row, status: "QUEUED", started_at: null }, 99999), null);
  assert.equal(statusText({ status: "QUEUED", kernel_ended: true }), "last seen QUEUED \u00b7 kernel ended");
  assert.equal(statusText({ status: "QUEUED" }), "QUEUED");
  // the details say it too
  stuck.click();
  await settle();
  const details = el.querySelector(".jw-details");
  const status2 = [...details.querySelectorAll("dt")].find((dt) => dt.textContent === "Status").nextElementSibling;
  assert.equal(status2.textContent, "last seen RUNNING \u00b7 kernel ended");
});

test("details show the error, traceback and log tail of a past job, as text", async () => {
  const { model, el } = await mount({ readonly: true, remote_filter: true });
  model.receive({
    type: "reset",
    rows: [
      past("0", {
        job_id: XSS,
        status: "ERROR",
        error: `ValueError: ${XSS}`,
        traceback: `Traceback\n  ${XSS}`,
        log_tail: `step 1\n${XSS}\n`,
        tags: ["a", "b"],
        kernel_id: "k-1",
      }),
    ],
  });
  await settle();
  bodyRows(el)[0].click();
  await settle();
  const details = el.querySelector(".jw-details");
  assert.equal(details.hidden, false);
  assert.equal(details.querySelector("img"), null);
  const field = (label) => [...details.querySelectorAll("dt")].find((dt) => dt.textContent === label);
  assert.equal(field("Error").nextElementSibling.textContent, `ValueError: ${XSS}`);
  assert.equal(field("Notebook").hidden, false);
  assert.equal(field("Notebook").nextElementSibling.textContent, "work/a.ipynb");
  assert.equal(field("Tags").nextElementSibling.textContent, "a, b");
  assert.equal(field("Cancel state").hidden, true); // nothing to cancel in the past
  assert.equal(field("Key"), undefined); // an internal key is no fact of the job
  assert.equal(details.querySelector(".jw-traceback:not(.jw-log-tail)").textContent, `Traceback\n  ${XSS}`);
  const log = details.querySelector(".jw-log-tail");
  assert.equal(log.hidden, false);
  assert.equal(log.textContent, `step 1\n${XSS}\n`);
});

test("live rows' details hide the past jobs' fields and the empty log", async () => {
  const { model, el } = await mount();
  model.receive({ type: "reset", rows: [makeRow("0", { status: "RUNNING" })] });
  await settle();
  bodyRows(el)[0].click();
  await settle();
  const details = el.querySelector(".jw-details");
  const field = (label) => [...details.querySelectorAll("dt")].find((dt) => dt.textContent === label);
  assert.equal(field("Notebook").hidden, true);
  assert.equal(field("Job ID").hidden, false);
  assert.equal(details.querySelector(".jw-log-tail").hidden, true);
});
