// Progress and logs, shown live: the progress column and the badge's percentage,
// and a row's details following its log (subscription, tail, marks, scrolling,
// download), in jsdom with a fake model and a fake kernel connection.
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, XSS, fakeKernel, installDom, makeRow, settle } from "../test-support/helpers.js";

const dom = installDom();
const { default: table } = await import("../src/table.js");
const { default: badge } = await import("../src/badge.js");
const { buildRouteCode } = await import("../src/kernel_route.js");
const { logFileName } = await import("../src/table/details.js");

const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

function makeModel(state = {}, extra = {}) {
  const model = new FakeModel({ compact: false, title: "Jobs", ...state }, extra);
  mounted.push(table.initialize({ model }));
  return model;
}

async function view(model) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = table.render({ model, el });
  mounted.push(cleanup);
  await settle();
  return { el, cleanup };
}

const running = (key, fields = {}) =>
  makeRow(key, { status: "RUNNING", started_at: 1000, progress_text: null, log_lines: 0, ...fields });
const rowEl = (el, key) =>
  [...el.querySelectorAll(".jw-body .jw-row")].find((r) => r.querySelector(".jw-c-id").textContent === `job-${key}`);
const logTexts = (el) => [...el.querySelectorAll(".jw-log .jw-log-text")].map((n) => n.textContent);
const line = (i, stream = "stdout") => [1000 + i, stream, `line ${i}`];
const logsSent = (model) => model.sent.filter((m) => m.type === "logs");

async function openDetails(el, key) {
  rowEl(el, key).click();
  await settle();
}

test("the progress column shows the bar, the percentage and the progress text", async () => {
  const model = makeModel();
  const { el } = await view(model);
  model.receive({
    type: "reset",
    rows: [running("1", { progress: 0.34, progress_text: `340/1000 files ${XSS}` }), running("2")],
  });
  await settle();
  const cell = rowEl(el, "1").querySelector(".jw-c-progress");
  assert.equal(cell.querySelector("progress").hidden, false);
  assert.equal(cell.querySelector("progress").value, 0.34);
  assert.equal(cell.querySelector(".jw-pct").textContent, "34%");
  assert.equal(cell.querySelector(".jw-progress-text").textContent, `340/1000 files ${XSS}`);
  assert.equal(cell.querySelector("img"), null);
  assert.equal(cell.title, `34% \u00B7 340/1000 files ${XSS}`);
  const empty = rowEl(el, "2").querySelector(".jw-c-progress");
  assert.equal(empty.querySelector("progress").hidden, true);
  assert.equal(empty.querySelector(".jw-progress-text").textContent, "");
  model.receive({ type: "delta", upsert: [running("1", { progress: 0.5, progress_text: "500/1000 files" })], remove: [] });
  await settle();
  assert.equal(cell.querySelector(".jw-pct").textContent, "50%");
  assert.equal(cell.querySelector(".jw-progress-text").textContent, "500/1000 files");
});

test("the badge shows the percentage while the job runs", () => {
  const model = new FakeModel({ row: running("1", { progress: 0.456, progress_text: "4/9" }), kernel_time: 0 });
  const el = document.createElement("div");
  document.body.appendChild(el);
  mounted.push(badge.render({ model, el }));
  const pct = el.querySelector(".jw-badge-pct");
  assert.equal(pct.textContent, "46%");
  assert.equal(pct.title, "4/9");
  assert.match(el.querySelector(".jw-badge").getAttribute("aria-label"), /46% done/);
  model.set("row", running("1", { status: "DONE", progress: 1, finished_at: 1001 }));
  assert.equal(pct.textContent, "");
});

test("open details follow the row's log: tail, appended lines, marks, text only", async () => {
  const model = makeModel();
  const { el } = await view(model);
  model.receive({ type: "reset", rows: [running("1"), running("2")] });
  await settle();
  assert.deepEqual(logsSent(model), []);
  await openDetails(el, "1");
  assert.deepEqual(logsSent(model), [{ type: "logs", key: "1", open: true }]);
  assert.equal(el.querySelector(".jw-log-meta").textContent, "loading\u2026");

  const tail = Array.from({ length: 200 }, (_, i) => line(i + 100));
  tail[198] = [1298, "stderr", XSS];
  tail[199] = [1299, "WARNING", "careful"];
  model.receive({ type: "delta", upsert: [running("1", { log_lines: 300 })], remove: [], logs: [{ key: "1", start: 100, total: 300, reset: true, lines: tail }] });
  await settle();
  const texts = logTexts(el);
  assert.equal(texts.length, 200);
  assert.equal(texts[0], "line 100");
  assert.equal(texts[198], XSS);
  assert.equal(el.querySelector(".jw-log img"), null);
  const lines = el.querySelectorAll(".jw-log-line");
  assert.ok(lines[198].classList.contains("jw-log-err"));
  assert.equal(lines[198].querySelector(".jw-log-stream").textContent, "stderr");
  assert.ok(lines[199].classList.contains("jw-log-warn"));
  assert.equal(lines[0].querySelector(".jw-log-stream"), null);
  assert.equal(el.querySelector(".jw-log-meta").textContent, "last 200 of 300 lines");

  // two more lines: appended, the oldest dropped, the nodes kept
  const kept = lines[5];
  model.receive({ type: "delta", upsert: [], remove: [], logs: [{ key: "1", start: 300, total: 302, reset: false, lines: [line(300), line(301)] }] });
  await settle();
  assert.equal(logTexts(el).length, 200);
  assert.equal(logTexts(el)[0], "line 102");
  assert.equal(logTexts(el).at(-1), "line 301");
  assert.ok(kept.isConnected);

  // the kernel skipped lines: start over
  model.receive({ type: "delta", upsert: [], remove: [], logs: [{ key: "1", start: 900, total: 901, reset: true, lines: [line(900)] }] });
  await settle();
  assert.deepEqual(logTexts(el), ["line 900"]);

  // lines of a row nobody follows are ignored; closing stops following
  model.receive({ type: "delta", upsert: [], remove: [], logs: [{ key: "2", start: 0, total: 1, reset: true, lines: [line(0)] }] });
  await openDetails(el, "2");
  assert.deepEqual(logsSent(model).slice(1), [
    { type: "logs", key: "1", open: false },
    { type: "logs", key: "2", open: true },
  ]);
  assert.deepEqual(logTexts(el), []);
  el.querySelector(".jw-details-head button").click();
  await settle();
  assert.deepEqual(logsSent(model).at(-1), { type: "logs", key: "2", open: false });
});

test("the log follows its end unless the user scrolled up", async () => {
  const model = makeModel();
  const { el } = await view(model);
  model.receive({ type: "reset", rows: [running("1")] });
  await settle();
  await openDetails(el, "1");
  const box = el.querySelector(".jw-log");
  let height = 1000;
  Object.defineProperty(box, "scrollHeight", { get: () => height, configurable: true });
  Object.defineProperty(box, "clientHeight", { get: () => 100, configurable: true });
  model.receive({ type: "delta", upsert: [], remove: [], logs: [{ key: "1", start: 0, total: 1, reset: true, lines: [line(0)] }] });
  await settle();
  assert.equal(box.scrollTop, 1000);
  box.scrollTop = 200; // the user scrolls up
  box.dispatchEvent(new dom.window.Event("scroll"));
  height = 1100;
  model.receive({ type: "delta", upsert: [], remove: [], logs: [{ key: "1", start: 1, total: 2, reset: false, lines: [line(1)] }] });
  await settle();
  assert.equal(box.scrollTop, 200);
  box.scrollTop = 1000; // back at the end
  box.dispatchEvent(new dom.window.Event("scroll"));
  height = 1200;
  model.receive({ type: "delta", upsert: [], remove: [], logs: [{ key: "1", start: 2, total: 3, reset: false, lines: [line(2)] }] });
  await settle();
  assert.equal(box.scrollTop, 1200);
});

test("two views follow a log once; a reset makes a view follow again", async () => {
  const model = makeModel();
  const a = await view(model);
  const b = await view(model);
  model.receive({ type: "reset", rows: [running("1")] });
  await settle();
  await openDetails(a.el, "1");
  await openDetails(b.el, "1");
  assert.equal(logsSent(model).length, 1);
  model.receive({ type: "delta", upsert: [], remove: [], logs: [{ key: "1", start: 0, total: 1, reset: true, lines: [line(0)] }] });
  await settle();
  assert.deepEqual(logTexts(a.el), ["line 0"]);
  assert.deepEqual(logTexts(b.el), ["line 0"]);
  await openDetails(a.el, "1"); // closes a's details: b still follows
  assert.equal(logsSent(model).length, 1);
  model.receive({ type: "reset", rows: [running("1")] });
  await settle();
  assert.deepEqual(logsSent(model).at(-1), { type: "logs", key: "1", open: true });
  b.cleanup();
  assert.deepEqual(logsSent(model).at(-1), { type: "logs", key: "1", open: false });
});

test("follow and download go through a kernel subshell; the answer is saved once", async () => {
  const kernel = fakeKernel({ status: "busy" });
  const model = makeModel({ feed_id: "abc123" }, { widget_manager: { kernel } });
  const { el } = await view(model);
  model.receive({ type: "reset", rows: [running("1", { job_id: "a/b:c", log_lines: 3 })] });
  await settle();
  [...el.querySelectorAll(".jw-body .jw-row")][0].click();
  await settle();
  const codes = () => kernel.shell.map((m) => m.content.code);
  assert.ok(codes().includes('import jobwidgets.feed as _r; _r.logs("abc123", "1", True)'), codes());
  model.receive({ type: "delta", upsert: [], remove: [], logs: [{ key: "1", start: 0, total: 3, reset: true, lines: [line(0), line(1), line(2)] }] });
  await settle();

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
    const button = el.querySelector(".jw-log-download");
    assert.equal(button.disabled, false);
    button.click();
    await settle();
    assert.ok(codes().includes('import jobwidgets.feed as _r; _r.log_text("abc123", "1")'), codes());
    assert.equal(model.sent.filter((m) => m.type === "log_text").length, 0, "one route: the subshell");
    assert.equal(button.disabled, true);
    const reply = { type: "log_text", key: "1", job_id: "a/b:c", ok: true, text: `whole log ${XSS}` };
    model.receive(reply);
    model.receive(reply); // the same answer twice: saved once
    await settle();
    assert.equal(saved.length, 1);
    assert.equal(saved[0].name, "job-a_b_c.log");
    assert.equal(await saved[0].blob.text(), `whole log ${XSS}`);
    assert.equal(button.disabled, false);
  } finally {
    URL.createObjectURL = realCreate;
    dom.window.HTMLAnchorElement.prototype.click = realClick;
  }
});

test("the route code for logs and downloads, and safe file names", () => {
  assert.equal(buildRouteCode("logs", "m1", ["3"], false), 'import jobwidgets.feed as _r; _r.logs("m1", "3", False)');
  assert.equal(buildRouteCode("log_text", "m1", ["3"]), 'import jobwidgets.feed as _r; _r.log_text("m1", "3")');
  assert.throws(() => buildRouteCode("logs", "m1", ['3"); import os; ("'], true), TypeError);
  assert.throws(() => buildRouteCode("log_text", "m1", ["1", "2"]), TypeError);
  assert.equal(logFileName("../../etc/passwd"), "job-.._.._etc_passwd.log");
  assert.equal(logFileName(null), "job-no-id.log");
});
