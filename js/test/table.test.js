import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import {
  FakeModel,
  XSS,
  fakeKernel,
  holdTimeouts,
  installDom,
  makeRow,
  settle,
  timers,
} from "../test-support/helpers.js";

installDom();
const { default: table, WAIT_NOTE_MS } = await import("../src/table.js");
const { ROW_HEIGHT } = await import("../src/model.js");

// A failed assertion skips a test's own cleanup; this stops its timers anyway.
const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

/** A model as anywidget makes it: `initialize` runs once, before any view. */
function makeModel(state = {}, extra = {}) {
  const model = new FakeModel({ compact: false, title: "Jobs", ...state }, extra);
  mounted.push(table.initialize({ model }));
  return model;
}

/** One more view of `model`. */
async function view(model) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = table.render({ model, el });
  mounted.push(cleanup);
  await settle();
  return { el, cleanup };
}

async function mount(state = {}, extra = {}) {
  const model = makeModel(state, extra);
  const { el, cleanup } = await view(model);
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
  assert.deepEqual(chipText, ["\u25B6RUNNING5000", "\u2714DONE5000"]);
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

test("no kernel connection: an unanswered cancel shows waiting for kernel… after 1.5 s", async () => {
  const held = holdTimeouts(1000);
  try {
    const { model, el, cleanup } = await mount();
    assert.equal(el.querySelector(".jw-busy-note").hidden, true);
    model.receive({ type: "reset", rows: [makeRow("9"), makeRow("10"), makeRow("11")] });
    await settle();
    rowByText(el, "job-9").querySelector(".jw-cancel").click();
    await settle();
    assert.deepEqual(model.sent.at(-1), { type: "cancel", keys: ["9"] });
    assert.equal(rowByText(el, "job-9").querySelector(".jw-cancel-note").textContent, "cancelling\u2026");
    assert.deepEqual(held.pending().map((t) => t.ms), [WAIT_NOTE_MS]);
    assert.equal(WAIT_NOTE_MS, 1500);
    held.run();
    await settle();
    assert.equal(rowByText(el, "job-9").querySelector(".jw-cancel-note").textContent, "waiting for kernel\u2026");
    // An answer in time (here a delta for the row) keeps "cancelling…".
    rowByText(el, "job-10").querySelector(".jw-cancel").click();
    model.receive({ type: "delta", upsert: [makeRow("10", { cancel_state: "requested" })], remove: [] });
    held.run();
    await settle();
    assert.equal(rowByText(el, "job-10").querySelector(".jw-cancel-note").textContent, "cancelling\u2026");
    // Cleanup clears a pending timer.
    rowByText(el, "job-11").querySelector(".jw-cancel").click();
    assert.equal(held.pending().length, 1);
    cleanup();
    assert.equal(held.pending().length, 0);
  } finally {
    held.restore();
  }
});

test("no kernel connection: a cancel_result in time keeps its own text", async () => {
  const held = holdTimeouts(1000);
  try {
    const { model, el, cleanup } = await mount();
    model.receive({ type: "reset", rows: [makeRow("9")] });
    await settle();
    rowByText(el, "job-9").querySelector(".jw-cancel").click();
    model.receive({ type: "cancel_result", key: "9", ok: true, message: "" });
    held.run();
    await settle();
    assert.equal(rowByText(el, "job-9").querySelector(".jw-cancel-note").textContent, "cancelling\u2026");
    cleanup();
  } finally {
    held.restore();
  }
});

test("a reachable kernel gets every cancel through a subshell too, busy or idle", async () => {
  const held = holdTimeouts(1000);
  try {
    const kernel = fakeKernel({ status: "idle" });
    const { model, el, cleanup } = await mount({}, { widget_manager: { kernel } });
    model.receive({ type: "reset", model_id: "abc123", rows: [makeRow("8"), makeRow("9")] });
    await settle();
    assert.equal(el.querySelector(".jw-busy-note").hidden, true);

    // idle as far as the connection knows (a subshell reply can say so while the
    // main shell still runs a cell): the subshell route is used all the same
    rowByText(el, "job-8").querySelector(".jw-cancel").click();
    await settle();
    assert.deepEqual(model.sent.at(-1), { type: "cancel", keys: ["8"] });
    assert.equal(kernel.created, 1);
    assert.equal(kernel.shell.length, 1);
    assert.equal(kernel.shell[0].content.code, 'import jobwidgets.feed as _r; _r.cancel("abc123", ["8"])');
    assert.equal(held.pending().length, 0, "a reachable kernel needs no wait timer");
    assert.equal(rowByText(el, "job-8").querySelector(".jw-cancel-note").textContent, "cancelling\u2026");

    kernel.setStatus("busy");
    await settle();
    assert.equal(el.querySelector(".jw-busy-note").hidden, false, "the note follows statusChanged");
    rowByText(el, "job-9").querySelector(".jw-cancel").click();
    await settle();
    assert.deepEqual(model.sent.at(-1), { type: "cancel", keys: ["9"] });
    assert.equal(kernel.created, 1, "one subshell per view, reused");
    assert.equal(kernel.shell.length, 2);
    assert.equal(kernel.shell[1].header.subshell_id, "sub-1");
    assert.equal(kernel.shell[1].content.code, 'import jobwidgets.feed as _r; _r.cancel("abc123", ["9"])');
    assert.equal(kernel.shell[1].content.silent, true);
    assert.deepEqual(kernel.shell[1].content.user_expressions, {});
    assert.equal(rowByText(el, "job-9").querySelector(".jw-cancel-note").textContent, "cancelling\u2026");

    kernel.setStatus("idle");
    await settle();
    assert.equal(el.querySelector(".jw-busy-note").hidden, true);
    cleanup();
    assert.equal(kernel.statusChanged.slotCount, 0, "cleanup disconnects statusChanged");
  } finally {
    held.restore();
  }
});

test("the busy note follows the main shell, not a subshell's own idle", async () => {
  const kernel = fakeKernel({ status: "idle", iopub: true });
  const { model, el, cleanup } = await mount({}, { widget_manager: { kernel } });
  model.receive({ type: "reset", model_id: "abc123", rows: [makeRow("1")] });
  await settle();
  const note = () => el.querySelector(".jw-busy-note").hidden;
  assert.equal(note(), true);
  const cell = { msg_type: "execute_request", msg_id: "cell" };
  kernel.publishStatus("busy", cell);
  await settle();
  assert.equal(note(), false, "a cell runs on the main shell");
  // a subshell's request (this view's sync or cancel) ends with its own "idle",
  // and a control request's too: JupyterLab's status says idle, the main shell is busy
  kernel.publishStatus("busy", { msg_type: "execute_request", subshell_id: "sub-1" });
  kernel.publishStatus("idle", { msg_type: "execute_request", subshell_id: "sub-1" });
  kernel.publishStatus("busy", { msg_type: "create_subshell_request" });
  kernel.publishStatus("idle", { msg_type: "create_subshell_request" });
  model.set("title", "Jobs"); // the header renders again
  await settle();
  assert.equal(kernel.status, "idle");
  assert.equal(note(), false, "the note still says the kernel is busy");
  // a second view of this table needs no rows (its store has them); a view of another
  // table, whose rows have not come yet, syncs through a subshell, as the main shell is busy
  const shellRequests = kernel.shell.length;
  const second = await view(model);
  assert.equal(kernel.shell.length, shellRequests);
  second.cleanup();
  const other = makeModel({ feed_id: "f2" }, { widget_manager: { kernel } });
  const third = await view(other);
  assert.equal(kernel.shell.at(-1).content.code, 'import jobwidgets.feed as _r; _r.sync("f2")');
  third.cleanup();
  kernel.publishStatus("idle", cell);
  await settle();
  assert.equal(note(), true, "the cell ended");
  cleanup();
});

test("busy kernel without subshells: waiting for kernel…", async () => {
  const kernel = fakeKernel({ status: "busy", subshells: false });
  const { model, el, cleanup } = await mount({}, { widget_manager: { kernel } });
  model.receive({ type: "reset", model_id: "abc123", rows: [makeRow("9")] });
  await settle();
  rowByText(el, "job-9").querySelector(".jw-cancel").click();
  await settle();
  assert.deepEqual(model.sent.at(-1), { type: "cancel", keys: ["9"] });
  assert.equal(kernel.shell.length, 0);
  assert.equal(rowByText(el, "job-9").querySelector(".jw-cancel-note").textContent, "waiting for kernel\u2026");
  cleanup();
});

test("a view rendering while the kernel is busy also syncs through a subshell", async () => {
  const kernel = fakeKernel({ status: "busy" });
  // no reset yet (a reloaded page): the view asks for the rows by the table's feed id
  const model = makeModel({ feed_id: "abc123" }, { widget_manager: { kernel } });
  const { el, cleanup } = await view(model);
  assert.deepEqual(model.sent, [{ type: "sync" }]);
  assert.equal(kernel.shell.length, 1);
  assert.equal(kernel.shell[0].header.subshell_id, "sub-1");
  assert.equal(kernel.shell[0].content.code, 'import jobwidgets.feed as _r; _r.sync("abc123")');
  assert.equal(el.querySelector(".jw-busy-note").hidden, false);
  cleanup();
});

test("the subshell sync is skipped when the kernel is idle or the model id is unknown", async () => {
  const idle = fakeKernel({ status: "idle" });
  const a = makeModel({}, { widget_manager: { kernel: idle } });
  a.receive({ type: "reset", model_id: "abc123", rows: [] });
  (await view(a)).cleanup();
  assert.equal(idle.shell.length, 0);
  const busy = fakeKernel({ status: "busy" });
  const b = makeModel({}, { widget_manager: { kernel: busy } });
  const { cleanup } = await view(b);
  assert.deepEqual(b.sent, [{ type: "sync" }]);
  assert.equal(busy.shell.length, 0);
  assert.equal(busy.created, 0);
  cleanup();
});

test("messages that arrive before any view are shown when a view renders", async () => {
  const model = makeModel();
  model.receive({ type: "reset", model_id: "m1", rows: [makeRow("1"), makeRow("2")], kernel_time: Date.now() / 1000 });
  model.receive({ type: "delta", upsert: [makeRow("2", { status: "RUNNING", started_at: 1001 }), makeRow("3")], remove: ["1"] });
  model.receive({ type: "cancel_result", key: "3", ok: false, message: "nope" });
  const { el, cleanup } = await view(model);
  // Shown from the first synchronous render, before any frame.
  assert.deepEqual(bodyRows(el).map((r) => r.querySelector(".jw-c-id").textContent), ["job-2", "job-3"]);
  assert.equal(el.querySelector(".jw-empty").hidden, true);
  assert.equal(rowByText(el, "job-2").querySelector(".jw-pill-label").textContent, "RUNNING");
  assert.equal(rowByText(el, "job-3").querySelector(".jw-cancel-note").textContent, "could not cancel: nope");
  // the store has the kernel's rows: no need to ask for them again
  assert.deepEqual(model.sent, []);
  cleanup();
});

test("initialize and each view get their own model object (as anywidget gives them): one store per table", async () => {
  // anywidget passes `initialize` and every view a different proxy of one widget
  // model; they share the widget manager and the synced traits.
  const manager = {};
  const widget = new FakeModel({ compact: false, title: "Jobs", feed_id: "feed-1" });
  const proxy = () => ({
    get: (name) => widget.get(name),
    on: (event, cb) => widget.on(event, cb),
    off: (event, cb) => widget.off(event, cb),
    send: (content) => widget.send(content),
    widget_manager: manager,
  });
  mounted.push(table.initialize({ model: proxy() }));
  const rows = Array.from({ length: 3 }, (_, i) => makeRow(String(i)));
  widget.receive({ type: "reset", rows, kernel_time: Date.now() / 1000 });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = table.render({ model: proxy(), el });
  mounted.push(cleanup);
  // the rows that came before the view, at once, and no second request for them
  assert.equal(bodyRows(el).length, 3);
  assert.deepEqual(widget.sent, []);
  assert.equal(widget.handlers.get("msg:custom").size, 1, "one message listener per table");
  // another table of the same manager has a store of its own
  const other = new FakeModel({ compact: false, title: "Other", feed_id: "feed-2" }, { widget_manager: manager });
  const el2 = document.createElement("div");
  document.body.appendChild(el2);
  mounted.push(table.initialize({ model: other }));
  mounted.push(table.render({ model: other, el: el2 }));
  await settle();
  assert.equal(bodyRows(el2).length, 0);
  assert.deepEqual(other.sent, [{ type: "sync" }]);
});

test("two views of one model both show a delta and a cancel", async () => {
  const model = makeModel();
  const one = await view(model);
  const two = await view(model);
  assert.equal(model.handlers.get("msg:custom").size, 1, "one message listener per model");
  model.receive({ type: "reset", rows: [makeRow("1")] });
  model.receive({ type: "delta", upsert: [makeRow("1", { status: "RUNNING" }), makeRow("2")], remove: [] });
  await settle();
  for (const { el } of [one, two]) {
    assert.deepEqual(bodyRows(el).map((r) => r.querySelector(".jw-c-id").textContent), ["job-1", "job-2"]);
    assert.equal(rowByText(el, "job-1").querySelector(".jw-pill-label").textContent, "RUNNING");
  }
  rowByText(one.el, "job-2").querySelector(".jw-cancel").click();
  await settle();
  assert.equal(rowByText(two.el, "job-2").querySelector(".jw-cancel-note").textContent, "cancelling\u2026");
  one.cleanup();
  two.cleanup();
});

test("render cleanup unsubscribes: a later delta leaves the removed view alone", async () => {
  const model = makeModel();
  const gone = await view(model);
  const kept = await view(model);
  model.receive({ type: "reset", rows: [makeRow("1")] });
  await settle();
  gone.cleanup();
  const before = gone.el.childNodes.length;
  assert.doesNotThrow(() =>
    model.receive({ type: "delta", upsert: [makeRow("2"), makeRow("1", { status: "RUNNING" })], remove: [] }),
  );
  await settle();
  assert.equal(gone.el.childNodes.length, before);
  assert.equal(gone.el.querySelector(".jw-row"), null, "the removed view stays empty");
  assert.deepEqual(bodyRows(kept.el).map((r) => r.querySelector(".jw-c-id").textContent), ["job-1", "job-2"]);
  assert.equal(model.handlers.get("msg:custom").size, 1, "initialize keeps the store listening");
  kept.cleanup();
  model.receive({ type: "delta", upsert: [makeRow("3")], remove: [] });
  await settle();
  // A view rendered after all that shows every row.
  const late = await view(model);
  assert.deepEqual(bodyRows(late.el).map((r) => r.querySelector(".jw-c-id").textContent), ["job-1", "job-2", "job-3"]);
  late.cleanup();
});

test("render works without initialize; its cleanup leaves no listener", async () => {
  const model = new FakeModel({ compact: false, title: "Jobs" });
  const el = document.createElement("div");
  const cleanup = table.render({ model, el });
  mounted.push(cleanup);
  model.receive({ type: "reset", rows: [makeRow("1")] });
  await settle();
  assert.equal(bodyRows(el).length, 1);
  cleanup();
  assert.equal(model.listenerCount(), 0);
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
  const model = new FakeModel({ compact: false, title: "Jobs" });
  const release = table.initialize({ model });
  mounted.push(release);
  assert.equal(model.listenerCount(), 1, "initialize: msg:custom");
  const { el, cleanup } = await view(model);
  assert.equal(timers.intervals.size, intervalsBefore + 1);
  model.receive({ type: "reset", rows: [makeRow("1")] }); // schedules a frame
  assert.equal(timers.frames.size, 1);
  cleanup();
  assert.equal(timers.frames.size, 0);
  assert.equal(timers.intervals.size, intervalsBefore);
  assert.equal(model.listenerCount(), 1, "only the model store's listener remains");
  assert.equal(el.children.length, 0);
  release();
  assert.equal(model.listenerCount(), 0);
});

test("details show readable times with the exact value on hover, and no internal key", async () => {
  const { model, el, cleanup } = await mount();
  const submitted = Date.now() / 1000 - 5.25;
  model.receive({ type: "reset", rows: [makeRow("17", { submitted_at: submitted, created_at: 1795887901.5480862 })] });
  await settle();
  bodyRows(el)[0].click();
  await settle();
  const details = el.querySelector(".jw-details");
  const terms = [...details.querySelectorAll("dt")].filter((dt) => !dt.hidden).map((dt) => dt.textContent);
  assert.ok(!terms.includes("Key"), terms.join());
  const value = (label) => [...details.querySelectorAll("dt")].find((dt) => dt.textContent === label).nextElementSibling;
  assert.match(value("Submitted").textContent, /^\d\d:\d\d:\d\d$/);
  assert.match(value("Submitted").title, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.match(value("Created").textContent, /^\d{1,2} [A-Z][a-z]{2}( \d{4})? \d\d:\d\d:\d\d$/, "not today: with the date");
  assert.equal(value("Created").title, "2026-11-28T17:45:01.548086Z");
  assert.doesNotMatch(details.textContent, /1795887901/);
  assert.equal(bodyRows(el)[0].querySelector(".jw-c-submitted").title, value("Submitted").title);
  cleanup();
});
