import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, installDom, makeRow, settle } from "../test-support/helpers.js";

installDom();
const { COLUMN_IDS, MIN_USER_PX, NARROW_PX, RESIZE_STEP, contentWidths, fitColumns, gridTemplate, isNarrow } = await import(
  "../src/table/columns.js"
);
const { default: table } = await import("../src/table.js");
const { NARROW_ROW_HEIGHT, ROW_HEIGHT } = await import("../src/model.js");

// A measurer of known widths: 8 px a character in the code font, 7 in the others.
const measurer = {
  size: 10,
  exact: true,
  measure: (text, kind) => String(text ?? "").length * (kind === "mono" ? 8 : 7),
};
const head = () => 50; // every column head is 50 px wide
const UUID = "00001234-5678-90ab-cdef-1234567890ab";

const sum = (widths) => COLUMN_IDS.reduce((n, c) => n + widths[c], 0);

test("the id and backend columns are as wide as their longest text", () => {
  const rows = [makeRow("1", { job_id: UUID, backend: "a-long-backend-name" }), makeRow("2", { job_id: "x" })];
  const { want, min, full } = contentWidths(rows, { measurer, head });
  assert.equal(want.id, Math.ceil(36 * 8 + 12 + 3));
  assert.equal(full.id, want.id);
  assert.equal(want.backend, Math.ceil(19 * 7 + 12 + 3));
  assert.ok(min.id < want.id, "an id can give way, last");
  assert.equal(min.backend, 50);
});

test("an empty Progress column takes its head's width; progress text widens it", () => {
  const idle = contentWidths([makeRow("1")], { measurer, head });
  assert.equal(idle.want.progress, 50);
  const busy = contentWidths([makeRow("1", { progress: 0.5, progress_text: "step 4 of 10" })], { measurer, head });
  assert.ok(busy.want.progress > 50 + 12 * 7 * 0.9, busy.want.progress);
});

test("the Actions column has room for a cancel note, whole", () => {
  const rows = [makeRow("1", { status: "RUNNING" })];
  const plain = contentWidths(rows, { measurer, head });
  const local = new Map([["1", { state: "waiting" }]]);
  const waiting = contentWidths(rows, { measurer, head, local });
  const note = "waiting for kernel\u2026".length * 7;
  assert.ok(waiting.want.actions >= plain.want.actions + note, [plain.want.actions, waiting.want.actions]);
});

test("a sorted column's head has room for its arrow", () => {
  const { want } = contentWidths([makeRow("1")], { measurer }); // the real head widths
  const label = "Submitted".length * 7;
  assert.ok(want.submitted >= label + 0.3 * 10 + 7 + 12, want.submitted);
});

test("free space goes to an id that does not fit first, then to the flexible columns", () => {
  const measured = contentWidths([makeRow("1", { job_id: "x".repeat(80) })], { measurer, head });
  assert.ok(measured.full.id > measured.want.id, "a very long id is capped");
  const total = sum(measured.want);
  const { widths } = fitColumns(measured, total + 100);
  assert.equal(widths.id, measured.want.id + 100);
  const roomy = fitColumns(measured, total + (measured.full.id - measured.want.id) + 400);
  assert.equal(sum(roomy.widths), total + (measured.full.id - measured.want.id) + 400);
  assert.ok(roomy.widths.backend > measured.want.backend && roomy.widths.progress > measured.want.progress);
  assert.equal(roomy.widths.status, measured.want.status, "fixed columns stay as they are");
});

test("short of space, progress, heads, backend and actions give way before the id", () => {
  const measured = contentWidths([makeRow("1", { job_id: UUID, backend: "b".repeat(20), progress: 0.5, progress_text: "p".repeat(20) })], {
    measurer,
    head,
  });
  const { want, min, body } = measured;
  const total = sum(want);
  assert.ok(body.progress > min.progress, "the bar and the percentage stay when the note goes");
  const giveable =
    want.progress -
    body.progress +
    ["backend", "actions"].reduce((n, c) => n + want[c] - min[c], 0) +
    ["submitted", "queue", "run"].reduce((n, c) => n + want[c] - body[c], 0);
  const some = fitColumns(measured, total - giveable);
  assert.equal(some.widths.id, want.id, "the id is whole while another column can give way");
  assert.equal(some.widths.progress, body.progress);
  assert.equal(some.total, total - giveable);
  const tighter = fitColumns(measured, total - giveable - 20);
  assert.equal(tighter.widths.id, want.id - 20, "then the id, to spare a sideways scroll");
  assert.equal(tighter.total, total - giveable - 20);
  const tiny = fitColumns(measured, 200);
  assert.equal(tiny.widths.id, want.id, "scrolling anyway, the id stays whole");
  assert.equal(tiny.widths.progress, min.progress, "... and the others give way to their heads");
  assert.ok(tiny.total > 200);
});

// Widths near a browser's at 13 px: the screenshot's case, one running job with a long note
const browserLike = {
  size: 13,
  exact: true,
  measure: (text, kind = "ui", scale = 1) =>
    String(text ?? "").length * scale * { ui: 6.8, bold: 8.8, italic: 6.8, mono: 7.8 }[kind],
};
const RUNNING_ROW = makeRow("1", {
  job_id: "local-thread-1",
  backend: "local-thread",
  status: "RUNNING",
  started_at: 1000,
  progress: 0.27,
  progress_text: "41/150 steps of a long phase name",
});

test("at 716 px the columns fit: the progress note gives way first, Status and Actions stay whole", () => {
  const measured = contentWidths([RUNNING_ROW], { measurer: browserLike, now: 1000 });
  const available = 716 - 2; // the grid's borders
  assert.ok(sum(measured.want) > available, "the content is wider than the container");
  const { widths, total } = fitColumns(measured, available);
  assert.ok(sum(widths) <= available, `${sum(widths)} px of columns in ${available} px`);
  assert.ok(total <= available, "no sideways scroll");
  assert.equal(widths.status, measured.want.status, "the status whole");
  assert.equal(widths.actions, measured.want.actions, "Cancel whole");
  assert.ok(widths.progress < measured.want.progress, "the progress note is cut");
  assert.ok(widths.progress < measured.min.progress, "... and the heads before the id and backend are cut");
  assert.equal(widths.id, measured.want.id, "the id whole");
  assert.equal(widths.backend, measured.want.backend, "the backend whole");
  // the bar and the percentage keep their room
  const bar = 2 * 13 + 4 + 2.6 * 13 + 4 + 12;
  assert.ok(widths.progress >= bar, [widths.progress, bar]);
});

test("from 400 px up the columns fit, Status and Cancel whole; the id is cut last", () => {
  const rows = [RUNNING_ROW, makeRow("2", { job_id: UUID, backend: "a-backend-with-a-long-name", status: "QUEUED" })];
  const measured = contentWidths(rows, { measurer: browserLike, now: 1000 });
  let idCutAt = null;
  let backendCutAt = null;
  for (let available = 1400; available >= NARROW_PX - 2; available -= 7) {
    const { widths, total } = fitColumns(measured, available);
    assert.ok(total <= available && sum(widths) <= available, [available, total]);
    assert.equal(widths.status, measured.want.status, available);
    assert.ok(widths.actions >= measured.button, available);
    assert.ok(widths.progress >= 2 * 13 + 12, ["the bar keeps a small width", available]);
    if (idCutAt === null && widths.id < measured.want.id) idCutAt = available;
    if (backendCutAt === null && widths.backend < measured.want.backend) backendCutAt = available;
    if (widths.id < measured.want.id) {
      for (const c of ["progress", "backend", "submitted", "queue", "run"])
        assert.ok(widths[c] <= Math.max(measured.min[c], measured.body[c]), [c, available, widths]);
    }
  }
  assert.ok(backendCutAt > idCutAt, [backendCutAt, idCutAt]);
});

test("a column the user set keeps its width while the others give way", () => {
  const measured = contentWidths([RUNNING_ROW], { measurer: browserLike, now: 1000 });
  const { widths, total } = fitColumns(measured, 714, { backend: 200 });
  assert.equal(widths.backend, 200);
  assert.ok(total <= 714, total);
  assert.ok(widths.actions >= measured.least.actions && measured.least.actions >= measured.button, "Cancel whole");
  assert.equal(widths.status, measured.want.status);
  const wide = fitColumns(measured, 714, { id: 700 });
  assert.equal(wide.widths.id, 700, "the user's width, even if the grid then scrolls");
  assert.ok(wide.total > 714);
});

test("widths the user set are kept; the template lists every column in order", () => {
  const measured = contentWidths([makeRow("1")], { measurer, head });
  const { widths } = fitColumns(measured, 0, { backend: 333 });
  assert.equal(widths.backend, 333);
  assert.equal(gridTemplate(widths).split(" ").length, 8);
  assert.equal(gridTemplate(widths).split(" ")[1], "333px");
});

test("the narrow layout below 400 px, and in the panel when the columns can't fit", () => {
  const { min } = contentWidths([makeRow("1")], { measurer, head });
  assert.equal(isNarrow(0, min, true), false, "unknown width: wide");
  assert.equal(isNarrow(NARROW_PX - 1, min, false), true);
  assert.equal(isNarrow(NARROW_PX, min, false), false);
  assert.equal(isNarrow(sum(min) - 1, min, true), true);
  assert.equal(isNarrow(sum(min) - 1, min, false), false, "a notebook table scrolls sideways instead");
});

test("measuring 10,000 rows looks at each once and measures only the longest", () => {
  let measured = 0;
  const counting = { ...measurer, measure: (t, k) => (measured++, measurer.measure(t, k)) };
  const rows = Array.from({ length: 10000 }, (_, i) => makeRow(String(i), { job_id: `job-${i}` }));
  const { want } = contentWidths(rows, { measurer: counting, head });
  assert.equal(want.id, Math.ceil("job-9999".length * 8 + 15));
  assert.ok(measured < 100, `${measured} texts measured`);
});

// ---------------------------------------------------------------- in a view

const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

async function mount(rows, { width } = {}) {
  const observers = [];
  const saved = globalThis.ResizeObserver;
  globalThis.ResizeObserver = class {
    constructor(cb) {
      this.cb = cb;
      observers.push(this);
    }
    observe(el) {
      this.el = el;
    }
    disconnect() {}
  };
  const model = new FakeModel({ compact: false, title: "Jobs" });
  mounted.push(table.initialize({ model }));
  const el = document.createElement("div");
  document.body.appendChild(el);
  mounted.push(table.render({ model, el }));
  globalThis.ResizeObserver = saved;
  model.receive({ type: "reset", rows });
  await settle();
  const root = el.querySelector(".jw-table");
  const resize = async (px) => {
    Object.defineProperty(root, "clientWidth", { value: px, configurable: true });
    for (const o of observers) if (o.el === root) o.cb([]);
    await settle();
  };
  if (width) await resize(width);
  return { el, root, resize };
}

const columnsOf = (root) => root.style.getPropertyValue("--jw-columns").split(" ").map((w) => parseFloat(w));

test("a view writes the columns' widths and resizes a column from its handle's arrow keys", async () => {
  const { el, root } = await mount([makeRow("1", { job_id: UUID })]);
  const before = columnsOf(root);
  assert.equal(before.length, 8);
  const handle = el.querySelector(".jw-head .jw-c-backend .jw-resize");
  assert.equal(handle.getAttribute("role"), "separator");
  assert.equal(handle.getAttribute("aria-label"), "Resize column Backend");
  assert.equal(handle.tabIndex, -1, "not a tab stop: the sort button's Shift+arrows resize from the Tab order");
  handle.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
  assert.equal(columnsOf(root)[1], before[1] + RESIZE_STEP);
  assert.equal(handle.getAttribute("aria-valuenow"), String(before[1] + RESIZE_STEP));
  handle.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft", shiftKey: true, bubbles: true }));
  assert.equal(columnsOf(root)[1], Math.max(MIN_USER_PX, before[1] + RESIZE_STEP - 4 * RESIZE_STEP));
  handle.dispatchEvent(new MouseEvent("dblclick", { bubbles: true }));
  assert.equal(columnsOf(root)[1], before[1], "a double click gives the column back its content's width");
  const sort = el.querySelector(".jw-head .jw-c-backend button.jw-sort");
  sort.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", shiftKey: true, bubbles: true }));
  assert.equal(columnsOf(root)[1], before[1] + RESIZE_STEP, "Shift+Right on the column's sort button");
  assert.ok(before[0] >= 36 * 0.62 * 13, "the UUID's width, estimated without a canvas");
});

test("a narrow view lays rows on two lines, and the virtual body uses their height", async () => {
  const rows = Array.from({ length: 200 }, (_, i) => makeRow(String(i)));
  const { el, root, resize } = await mount(rows, { width: 900 });
  assert.equal(root.classList.contains("jw-narrow"), false);
  assert.equal(el.querySelector(".jw-spacer").style.height, `${200 * ROW_HEIGHT}px`);
  el.querySelector(".jw-scroll").scrollTop = 60 * ROW_HEIGHT;
  await resize(250);
  assert.equal(root.classList.contains("jw-narrow"), true);
  assert.equal(el.querySelector(".jw-spacer").style.height, `${200 * NARROW_ROW_HEIGHT}px`);
  assert.equal(el.querySelector(".jw-scroll").scrollTop, 60 * NARROW_ROW_HEIGHT, "the same row stays on top");
  assert.equal(el.querySelector(".jw-grid-inner").style.minWidth, "0", "no sideways scroll");
  await resize(900);
  assert.equal(root.classList.contains("jw-narrow"), false);
  assert.equal(el.querySelector(".jw-spacer").style.height, `${200 * ROW_HEIGHT}px`);
});
