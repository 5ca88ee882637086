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

test("short of space, progress, backend and actions give way before the id", () => {
  const measured = contentWidths([makeRow("1", { job_id: UUID, backend: "b".repeat(20), progress: 0.5, progress_text: "p".repeat(20) })], {
    measurer,
    head,
  });
  const total = sum(measured.want);
  const giveable = ["progress", "backend", "actions"].reduce((n, c) => n + measured.want[c] - measured.min[c], 0);
  const some = fitColumns(measured, total - giveable);
  assert.equal(some.widths.id, measured.want.id, "the id is whole while another column can give way");
  assert.equal(some.total, total - giveable);
  const tighter = fitColumns(measured, total - giveable - 20);
  assert.equal(tighter.widths.id, measured.want.id - 20, "then the id, to spare a sideways scroll");
  assert.equal(tighter.total, total - giveable - 20);
  const tiny = fitColumns(measured, 200);
  assert.equal(tiny.widths.id, measured.want.id, "scrolling anyway, the id stays whole");
  assert.ok(tiny.total > 200);
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
