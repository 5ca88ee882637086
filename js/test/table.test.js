import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, XSS, installDom, makeRow, settle, timers } from "../test-support/helpers.js";

installDom();
const { default: table } = await import("../src/table.js");
const { ROW_HEIGHT } = await import("../src/model.js");

// A failed assertion skips a test's own cleanup; this stops its timers anyway.
const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

async function mount(state = {}, extra = {}) {
  const model = new FakeModel({ compact: false, title: "Jobs", kernel_time: 0, busy: false, ...state }, extra);
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = table.render({ model, el });
  mounted.push(cleanup);
  await settle();
  return { model, el, cleanup };
}

const bodyRows = (el) => [...el.querySelectorAll(".jw-body .jw-row")];
const rowByText = (el, text) => bodyRows(el).find((r) => r.querySelector(".jw-c-id").textContent === text);

test("render asks the kernel for rows and shows the empty state", async () => {
  const { model, el, cleanup } = await mount();
  assert.deepEqual(model.sent, [{ type: "sync" }]);
  assert.equal(el.querySelector(".jw-empty").textContent, "No jobs yet");
  assert.equal(el.querySelector(".jw-empty").hidden, false);
  assert.equal(el.querySelector(".jw-grid").hidden, true);
  cleanup();
});

test("reset with 10,000 rows renders only the visible window", async () => {
  const { model, el, cleanup } = await mount();
  const rows = Array.from({ length: 10000 }, (_, i) => makeRow(String(i), { status: i % 2 ? "RUNNING" : "DONE" }));
  model.receive({ type: "reset", rows, kernel_time: Date.now() / 1000 });
  await settle();
  const rendered = bodyRows(el);
  assert.ok(rendered.length > 0 && rendered.length <= 360 / ROW_HEIGHT + 12, `rendered ${rendered.length}`);
  assert.equal(el.querySelector(".jw-spacer").style.height, `${10000 * ROW_HEIGHT}px`);
  assert.equal(el.querySelector(".jw-scroll").style.height, "360px");
  assert.equal(el.querySelector(".jw-grid").getAttribute("aria-rowcount"), "10001");
  const chipText = [...el.querySelectorAll(".jw-chip:not([hidden])")].map((c) => c.textContent);
  assert.deepEqual(chipText, ["\u25CFRUNNING5000", "\u2713DONE5000"]);
  cleanup();
});

test("untrusted text shows as characters", async () => {
  const { model, el, cleanup } = await mount({ title: XSS });
  model.receive({
    type: "reset",
    rows: [makeRow("1", { job_id: XSS, backend: XSS, status: "ERROR", error: XSS, traceback: `Traceback\n${XSS}` })],
  });
  await settle();
  const row = rowByText(el, XSS);
  assert.ok(row);
  assert.equal(row.querySelector(".jw-c-backend").textContent, XSS);
  assert.equal(el.querySelector(".jw-title").textContent, XSS);
  row.click();
  await settle();
  assert.equal(el.querySelector(".jw-details").hidden, false);
  assert.equal(el.querySelector(".jw-traceback").textContent, `Traceback\n${XSS}`);
  assert.equal(el.querySelector("img"), null);
  cleanup();
});

test("delta upserts and removes rows; counts follow", async () => {
  const { model, el, cleanup } = await mount();
  model.receive({ type: "reset", rows: [makeRow("1"), makeRow("2")] });
  model.receive({
    type: "delta",
    upsert: [makeRow("2", { status: "RUNNING", started_at: 1001, progress: 0.25 }), makeRow("3")],
    remove: ["1", "unknown"],
  });
  await settle();
  assert.deepEqual(bodyRows(el).map((r) => r.querySelector(".jw-c-id").textContent), ["job-2", "job-3"]);
  const running = rowByText(el, "job-2");
  assert.equal(running.querySelector(".jw-pill-label").textContent, "RUNNING");
  assert.equal(running.querySelector(".jw-pct").textContent, "25%");
  assert.equal(el.querySelector(".jw-st-queued.jw-chip .jw-chip-count").textContent, "1");
  cleanup();
});

test("row cancel: sends cancel, shows cancelling…, then the failure message", async () => {
  const { model, el, cleanup } = await mount();
  model.receive({ type: "reset", rows: [makeRow("5", { status: "RUNNING", started_at: 1000 }), makeRow("6", { status: "DONE" })] });
  await settle();
  assert.equal(rowByText(el, "job-6").querySelector(".jw-cancel").disabled, true, "final rows cannot be cancelled");
  rowByText(el, "job-5").querySelector(".jw-cancel").click();
  await settle();
  assert.deepEqual(model.sent.at(-1), { type: "cancel", keys: ["5"] });
  assert.equal(rowByText(el, "job-5").querySelector(".jw-cancel-note").textContent, "cancelling\u2026");
  assert.equal(el.querySelector(".jw-details").hidden, true, "the button does not open details");
  model.receive({ type: "cancel_result", key: "5", ok: false, message: "job is already running" });
  await settle();
  assert.equal(rowByText(el, "job-5").querySelector(".jw-cancel-note").textContent, "could not cancel: job is already running");
  assert.equal(rowByText(el, "job-5").querySelector(".jw-cancel").disabled, false);
  cleanup();
});

test("a status change clears the local cancelling state", async () => {
  const { model, el, cleanup } = await mount();
  model.receive({ type: "reset", rows: [makeRow("5", { status: "QUEUED" })] });
  await settle();
  rowByText(el, "job-5").querySelector(".jw-cancel").click();
  model.receive({ type: "delta", upsert: [makeRow("5", { status: "CANCELLED", finished_at: 1002 })], remove: [] });
  await settle();
  const row = rowByText(el, "job-5");
  assert.equal(row.querySelector(".jw-cancel-note").textContent, "");
  assert.equal(row.querySelector(".jw-pill-label").textContent, "CANCELLED");
  cleanup();
});

test("busy kernel without a reachable connection: waiting for kernel…", async () => {
  const { model, el, cleanup } = await mount({ busy: true });
  assert.equal(el.querySelector(".jw-busy-note").hidden, false);
  model.receive({ type: "reset", rows: [makeRow("9")] });
  await settle();
  rowByText(el, "job-9").querySelector(".jw-cancel").click();
  await settle();
  assert.deepEqual(model.sent.at(-1), { type: "cancel", keys: ["9"] });
  assert.equal(rowByText(el, "job-9").querySelector(".jw-cancel-note").textContent, "waiting for kernel\u2026");
  cleanup();
});

test("busy kernel with a connection also cancels through a subshell", async () => {
  const shell = [];
  const kernel = {
    clientId: "client-1",
    username: "",
    supportsSubshells: true,
    requestCreateSubshell: () => ({ done: Promise.resolve({ content: { status: "ok", subshell_id: "sub-1" } }) }),
    requestDeleteSubshell: () => ({ done: Promise.resolve({}) }),
    sendShellMessage(msg) {
      shell.push(msg);
      return { done: Promise.resolve({ content: { status: "ok" } }) };
    },
  };
  const { model, el, cleanup } = await mount({ busy: true }, { widget_manager: { kernel } });
  model.receive({ type: "reset", model_id: "abc123", rows: [makeRow("9")] });
  await settle();
  rowByText(el, "job-9").querySelector(".jw-cancel").click();
  await settle();
  assert.deepEqual(model.sent.at(-1), { type: "cancel", keys: ["9"] });
  assert.equal(shell.length, 1);
  assert.equal(shell[0].header.subshell_id, "sub-1");
  assert.equal(shell[0].content.code, 'import jobwidgets.widgets._route as _r; _r.cancel("abc123", ["9"])');
  assert.equal(rowByText(el, "job-9").querySelector(".jw-cancel-note").textContent, "cancelling\u2026");
  cleanup();
});

test("sorting by a header toggles direction and sets aria-sort", async () => {
  const { model, el, cleanup } = await mount();
  model.receive({
    type: "reset",
    rows: [makeRow("1", { job_id: "b" }), makeRow("2", { job_id: "c" }), makeRow("3", { job_id: "a" })],
  });
  await settle();
  const header = el.querySelector(".jw-head .jw-c-id");
  header.querySelector("button").click();
  await settle();
  assert.equal(header.getAttribute("aria-sort"), "ascending");
  assert.deepEqual(bodyRows(el).map((r) => r.querySelector(".jw-c-id").textContent), ["a", "b", "c"]);
  header.querySelector("button").click();
  await settle();
  assert.equal(header.getAttribute("aria-sort"), "descending");
  assert.equal(header.querySelector(".jw-sort-arrow").textContent, "\u25BC");
  assert.deepEqual(bodyRows(el).map((r) => r.querySelector(".jw-c-id").textContent), ["c", "b", "a"]);
  cleanup();
});

test("status chips and the text box filter rows", async () => {
  const { model, el, cleanup } = await mount();
  model.receive({
    type: "reset",
    rows: [
      makeRow("1", { status: "RUNNING", job_id: "alpha" }),
      makeRow("2", { status: "DONE", job_id: "beta" }),
      makeRow("3", { status: "RUNNING", job_id: "gamma", backend: "dask" }),
    ],
  });
  await settle();
  const chip = el.querySelector(".jw-chip.jw-st-running");
  chip.click();
  await settle();
  assert.equal(chip.getAttribute("aria-pressed"), "true");
  assert.equal(el.querySelector(".jw-filter-status").value, "RUNNING");
  assert.deepEqual(bodyRows(el).map((r) => r.querySelector(".jw-c-id").textContent), ["alpha", "gamma"]);
  const input = el.querySelector(".jw-filter-text");
  input.value = "DASK";
  input.dispatchEvent(new Event("input"));
  await settle();
  assert.deepEqual(bodyRows(el).map((r) => r.querySelector(".jw-c-id").textContent), ["gamma"]);
  input.value = "nothing";
  input.dispatchEvent(new Event("input"));
  await settle();
  assert.equal(el.querySelector(".jw-empty").textContent, "No jobs match the filter");
  cleanup();
});

test("cancel all asks for confirmation inside the widget", async () => {
  const { model, el, cleanup } = await mount();
  model.receive({ type: "reset", rows: [makeRow("1"), makeRow("2", { status: "RUNNING" }), makeRow("3", { status: "DONE" })] });
  await settle();
  const [, , cancelAll, clear] = el.querySelectorAll(".jw-toolbar > *");
  cancelAll.click();
  const confirm = el.querySelector(".jw-confirm");
  assert.equal(confirm.hidden, false);
  assert.equal(confirm.querySelector(".jw-confirm-text").textContent, "Cancel 2 jobs?");
  const [no, yes] = [confirm.querySelectorAll("button")[1], confirm.querySelectorAll("button")[0]];
  no.click();
  assert.equal(confirm.hidden, true);
  assert.equal(model.sent.some((m) => m.type === "cancel_all"), false);
  cancelAll.click();
  yes.click();
  assert.deepEqual(model.sent.at(-1), { type: "cancel_all" });
  clear.click();
  assert.deepEqual(model.sent.at(-1), { type: "clear_finished" });
  cleanup();
});

test("compact mode hides the toolbar and fits up to 8 rows", async () => {
  const { model, el, cleanup } = await mount({ compact: true });
  model.receive({ type: "reset", rows: Array.from({ length: 20 }, (_, i) => makeRow(String(i))) });
  await settle();
  assert.equal(el.querySelector(".jw-toolbar").hidden, true);
  assert.equal(el.querySelector(".jw-scroll").style.height, `${8 * ROW_HEIGHT}px`);
  model.receive({ type: "reset", rows: [makeRow("1")] });
  await settle();
  assert.equal(el.querySelector(".jw-scroll").style.height, `${ROW_HEIGHT}px`);
  cleanup();
});

test("cleanup removes listeners, the interval and a pending frame", async () => {
  const intervalsBefore = timers.intervals.size;
  const { model, el, cleanup } = await mount();
  assert.equal(timers.intervals.size, intervalsBefore + 1);
  model.receive({ type: "reset", rows: [makeRow("1")] }); // schedules a frame
  assert.equal(timers.frames.size, 1);
  cleanup();
  assert.equal(timers.frames.size, 0);
  assert.equal(timers.intervals.size, intervalsBefore);
  assert.equal(model.listenerCount(), 0);
  assert.equal(el.children.length, 0);
});
