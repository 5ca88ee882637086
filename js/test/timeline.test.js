import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, XSS, installDom, makeRow, settle } from "../test-support/helpers.js";

installDom();
const { default: table } = await import("../src/table.js");
const geo = await import("../src/table/timeline_geometry.js");
const { describeRow } = await import("../src/table/timeline.js");

const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

async function mount(state = {}) {
  const model = new FakeModel({ compact: false, title: "Jobs", ...state });
  mounted.push(table.initialize({ model }));
  const el = document.createElement("div");
  document.body.appendChild(el);
  mounted.push(table.render({ model, el }));
  await settle();
  return { model, el };
}

// ------------------------------------------------------------------ geometry

test("spans: queued, running, finished, never started, no time yet", () => {
  const now = 1000;
  assert.deepEqual(geo.spansOf(makeRow("q", { status: "QUEUED", submitted_at: 900, started_at: null }), now), {
    queue: [900, 1000],
    run: null,
    marker: null,
    open: true,
  });
  assert.deepEqual(geo.spansOf(makeRow("r", { status: "RUNNING", submitted_at: 900, started_at: 950 }), now), {
    queue: [900, 950],
    run: [950, 1000],
    marker: null,
    open: true,
  });
  assert.deepEqual(
    geo.spansOf(makeRow("d", { status: "DONE", submitted_at: 900, started_at: 950, finished_at: 970 }), now),
    { queue: [900, 950], run: [950, 970], marker: null, open: false },
  );
  // cancelled while waiting: a queue span to its end, no run span
  assert.deepEqual(
    geo.spansOf(makeRow("c", { status: "CANCELLED", submitted_at: 900, started_at: null, finished_at: 920 }), now),
    { queue: [900, 920], run: null, marker: null, open: false },
  );
  // INITIALIZING: a marker at now
  assert.deepEqual(
    geo.spansOf(makeRow("i", { status: "INITIALIZING", submitted_at: null, started_at: null, created_at: 990 }), now),
    { queue: null, run: null, marker: 1000, open: true },
  );
  // a past job whose kernel ended while it ran: to its last update, not to now
  const ended = makeRow("k", { status: "RUNNING", submitted_at: 900, started_at: 950, kernel_ended: true, updated_at: 960 });
  assert.deepEqual(geo.spansOf(ended, now), { queue: [900, 950], run: [950, 960], marker: null, open: false });
});

test("extent and domain: earliest start to latest end, grown to now while open, padded", () => {
  const rows = [
    makeRow("a", { status: "DONE", submitted_at: 100, started_at: 110, finished_at: 150 }),
    makeRow("b", { status: "DONE", submitted_at: 120, started_at: 130, finished_at: 200 }),
  ];
  assert.deepEqual(geo.extentOf(rows, 500), { start: 100, end: 200, open: false });
  const d = geo.domainOf(geo.extentOf(rows, 500), 500);
  assert.ok(Math.abs(d.start - 97) < 1e-9 && Math.abs(d.end - 203) < 1e-9, JSON.stringify(d));
  rows.push(makeRow("c", { status: "RUNNING", submitted_at: 300, started_at: 310, finished_at: null }));
  const e = geo.extentOf(rows, 400);
  assert.equal(e.open, true);
  assert.equal(geo.domainOf(e, 1000).end, 1000 + 900 * 0.03);
  assert.equal(geo.extentOf([makeRow("x", { status: "DONE", submitted_at: null, started_at: null, finished_at: null, created_at: null })], 1), null);
  assert.equal(geo.domainOf(null, 1), null);
  // a single instant is widened to a second
  const one = geo.domainOf({ start: 10, end: 10, open: false }, 10);
  assert.ok(one.end - one.start > 1);
});

test("extentOf bounds the spans of spansOf, over rows of every kind", () => {
  const statuses = ["INITIALIZING", "QUEUED", "VALIDATING", "RUNNING", "CANCELLED", "DONE", "ERROR", "NEW?"];
  let seed = 7;
  const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const pick = (v) => (rand() < 0.3 ? null : v);
  for (let trial = 0; trial < 200; trial++) {
    const rows = Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, i) => {
      const submitted = 100 + rand() * 100;
      const started = submitted + rand() * 50;
      return makeRow(String(i), {
        status: statuses[Math.floor(rand() * statuses.length)],
        created_at: pick(submitted - 1),
        submitted_at: pick(submitted),
        started_at: pick(started),
        finished_at: pick(started + rand() * 50),
        kernel_ended: rand() < 0.2,
        updated_at: pick(started + 10),
      });
    });
    const now = 400;
    let start = Infinity;
    let end = -Infinity;
    let open = false;
    for (const row of rows) {
      const s = geo.spansOf(row, now);
      const a = s.queue ? s.queue[0] : s.run ? s.run[0] : s.marker;
      if (a === null) continue;
      start = Math.min(start, a);
      end = Math.max(end, s.run ? s.run[1] : s.queue ? s.queue[1] : s.marker);
      open = open || s.open;
    }
    const want = start === Infinity ? null : { start, end, open };
    assert.deepEqual(geo.extentOf(rows, now), want, JSON.stringify(rows));
  }
});

test("scale maps the domain to pixels and back", () => {
  const sx = geo.scale({ start: 100, end: 200 }, 50, 250);
  assert.equal(sx.x(100), 50);
  assert.equal(sx.x(150), 150);
  assert.equal(sx.t(250), 200);
});

test("ticks: readable steps aligned on the clock, labels apart", () => {
  const base = Date.UTC(2026, 0, 2, 3, 4, 0) / 1000;
  const { step, ticks } = geo.ticksFor({ start: base + 1.3, end: base + 61 }, 600);
  assert.equal(step, 10); // 60 s over 600 px, labels at least 90 px apart
  assert.ok(ticks.every(({ t }) => Number.isInteger(t) && t % 10 === 0));
  assert.equal(ticks.length, 6);
  assert.match(ticks[0].label, /^\d\d:\d\d:\d0$/);
  const hours = geo.ticksFor({ start: base, end: base + 6 * 3600 }, 800);
  assert.equal(hours.step, 3600);
  assert.ok(hours.ticks.every(({ label }) => /^\d\d:00$/.test(label)), JSON.stringify(hours.ticks));
  const fine = geo.ticksFor({ start: base, end: base + 1 }, 900);
  assert.equal(fine.step, 0.1);
  assert.match(fine.ticks[3].label, /:\d\d\.3$/);
  assert.deepEqual(geo.ticksFor({ start: 5, end: 5 }, 100).ticks, []);
  for (const width of [100, 300, 1000, 3000]) {
    const r = geo.ticksFor({ start: base, end: base + 7777 }, width);
    assert.ok((r.step / 7777) * width >= geo.TICK_SPACING - 1e-9, `width ${width}: step ${r.step}`);
  }
});

test("lanes: the visible range, hit testing and scrolling a lane into view", () => {
  const { AXIS_HEIGHT: A, LANE_HEIGHT: L } = geo;
  assert.deepEqual(geo.laneRange(0, A + 10 * L, 100), { start: 0, end: 10 });
  assert.deepEqual(geo.laneRange(L * 5 + 3, A + 10 * L, 100), { start: 5, end: 16 });
  assert.deepEqual(geo.laneRange(0, A + 10 * L, 4), { start: 0, end: 4 });
  assert.equal(geo.laneAt(A - 1, 0, 10), -1);
  assert.equal(geo.laneAt(A, 0, 10), 0);
  assert.equal(geo.laneAt(A + L * 2 + 1, L, 10), 3);
  assert.equal(geo.laneAt(A + L * 10, 0, 10), -1);
  assert.equal(geo.laneTop(3, L), A + 2 * L);
  const height = A + 5 * L;
  assert.equal(geo.scrollToLane(2, 0, height), 0);
  assert.equal(geo.scrollToLane(7, 0, height), 3 * L);
  assert.equal(geo.scrollToLane(1, 4 * L, height), L);
});

test("span boxes are at least 2 px wide and hit within a slack", () => {
  const sx = geo.scale({ start: 0, end: 100 }, 0, 100);
  const boxes = geo.spanBoxes({ queue: [10, 10.1], run: [10.1, 50], marker: null }, sx);
  assert.deepEqual(boxes.map((b) => b.kind), ["queue", "run"]);
  assert.equal(boxes[0].w, 2);
  assert.ok(geo.onBoxes(boxes, 30));
  assert.ok(geo.onBoxes(boxes, 52));
  assert.ok(!geo.onBoxes(boxes, 60));
  const marker = geo.spanBoxes({ queue: null, run: null, marker: 80 }, sx);
  assert.deepEqual(marker, [{ kind: "marker", x: 76, w: 8 }]);
});

test("describeRow: id, status, backend, times and durations as plain text", () => {
  const row = makeRow("1", {
    job_id: XSS,
    status: "ERROR",
    backend: "sim",
    submitted_at: 100,
    started_at: 102,
    finished_at: 110,
    error: "boom\nsecond line",
  });
  const lines = describeRow(row, 200);
  assert.equal(lines[0], XSS);
  assert.equal(lines[1], "ERROR");
  assert.equal(lines[2], "backend sim");
  assert.match(lines[3], /^submitted \d\d:\d\d:\d\d · started .* · finished /);
  assert.equal(lines[4], "queued 2.0s · ran 8.0s");
  assert.equal(lines[5], "boom");
});

// ------------------------------------------------------------------ the view, without a canvas context

const toggleButtons = (el) => [...el.querySelectorAll(".jw-view-toggle button")];

test("the Table | Timeline switch: buttons with aria-pressed, the grid or the timeline", async () => {
  const { model, el } = await mount();
  const now = Date.now() / 1000;
  model.receive({
    type: "reset",
    kernel_time: now,
    rows: [
      makeRow("1", { job_id: "a", status: "DONE", submitted_at: now - 60, started_at: now - 50, finished_at: now - 40 }),
      makeRow("2", { job_id: "b", status: "RUNNING", submitted_at: now - 30, started_at: now - 20 }),
      makeRow("3", { job_id: XSS, status: "QUEUED", submitted_at: now - 10 }),
    ],
  });
  await settle();
  const [tableBtn, timelineBtn] = toggleButtons(el);
  assert.equal(el.querySelector(".jw-view-toggle").getAttribute("role"), "group");
  assert.equal(tableBtn.getAttribute("aria-pressed"), "true");
  assert.equal(timelineBtn.getAttribute("aria-pressed"), "false");
  assert.equal(el.querySelector(".jw-timeline").hidden, true);
  timelineBtn.click();
  await settle();
  assert.equal(timelineBtn.getAttribute("aria-pressed"), "true");
  assert.equal(el.querySelector(".jw-timeline").hidden, false);
  assert.ok(el.querySelector(".jw-grid").classList.contains("jw-off"));
  const canvas = el.querySelector("canvas.jw-tl-canvas");
  assert.equal(canvas.tabIndex, 0);
  assert.equal(canvas.getAttribute("aria-label"), "Timeline of 3 jobs");
  assert.match(el.querySelector(".jw-tl-summary").textContent, /^3 jobs from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d\./);
  // the filter applies
  const text = el.querySelector("input.jw-filter-text");
  text.value = "b";
  text.dispatchEvent(new window.Event("input"));
  await settle();
  assert.equal(canvas.getAttribute("aria-label"), "Timeline of 1 job");
  text.value = "no such job";
  text.dispatchEvent(new window.Event("input"));
  await settle();
  assert.equal(el.querySelector(".jw-tl-empty").hidden, false);
  assert.equal(el.querySelector(".jw-tl-empty").textContent, "No jobs match the filter");
  text.value = "";
  text.dispatchEvent(new window.Event("input"));
  await settle();
  tableBtn.click();
  await settle();
  assert.equal(el.querySelector(".jw-timeline").hidden, true);
  assert.ok(!el.querySelector(".jw-grid").classList.contains("jw-off"));
  assert.equal(el.querySelectorAll(".jw-body .jw-row").length, 3);
});

test("the keyboard moves between lanes and Enter opens the job's details; text stays text", async () => {
  const { model, el } = await mount();
  const now = Date.now() / 1000;
  model.receive({
    type: "reset",
    kernel_time: now,
    rows: [
      makeRow("1", { job_id: "first", status: "DONE", submitted_at: now - 9, started_at: now - 8, finished_at: now - 7 }),
      makeRow("2", { job_id: XSS, status: "RUNNING", submitted_at: now - 5, started_at: now - 4 }),
    ],
  });
  await settle();
  toggleButtons(el)[1].click();
  await settle();
  const canvas = el.querySelector("canvas.jw-tl-canvas");
  const key = (k) => canvas.dispatchEvent(new window.KeyboardEvent("keydown", { key: k, bubbles: true }));
  canvas.focus();
  await settle();
  key("ArrowDown");
  await settle();
  const current = el.querySelector(".jw-tl-current");
  assert.ok(current.textContent.startsWith(`${XSS}, RUNNING`), current.textContent);
  assert.equal(current.querySelector("img"), null);
  const tip = el.querySelector(".jw-tl-tip");
  assert.equal(tip.hidden, false);
  assert.equal(tip.firstChild.textContent, XSS);
  assert.equal(tip.querySelector("img"), null);
  key("Enter");
  await settle();
  const details = el.querySelector(".jw-details");
  assert.equal(details.hidden, false);
  assert.ok(details.querySelector(".jw-details-title").textContent.includes(XSS));
  assert.equal(canvas.getAttribute("aria-controls"), details.id);
  key("Home");
  key("Enter");
  await settle();
  assert.ok(details.querySelector(".jw-details-title").textContent.includes("first"));
  key("Escape");
  await settle();
  assert.equal(tip.hidden, true);
});

test("the clock redraws the timeline only while a span is open", async () => {
  const { model, el } = await mount();
  const now = Date.now() / 1000;
  model.receive({
    type: "reset",
    kernel_time: now,
    rows: [makeRow("1", { job_id: "a", status: "DONE", submitted_at: now - 9, started_at: now - 8, finished_at: now - 7 })],
  });
  await settle();
  toggleButtons(el)[1].click();
  await settle();
  const summary = el.querySelector(".jw-tl-summary");
  const before = summary.textContent;
  model.receive({
    type: "delta",
    kernel_time: now,
    upsert: [makeRow("2", { job_id: "b", status: "RUNNING", submitted_at: now - 3, started_at: now - 2 })],
  });
  await settle();
  assert.notEqual(summary.textContent, before);
  assert.match(summary.textContent, /^2 jobs from/);
});

test("the monitor (compact) has the switch too, with at most 8 lanes in view", async () => {
  const { model, el } = await mount({ compact: true });
  const now = Date.now() / 1000;
  const rows = Array.from({ length: 30 }, (_, i) =>
    makeRow(String(i), { status: "RUNNING", submitted_at: now - 60 + i, started_at: now - 50 + i }),
  );
  model.receive({ type: "reset", kernel_time: now, rows });
  await settle();
  const [, timelineBtn] = toggleButtons(el);
  assert.equal(el.querySelector(".jw-toolbar").hidden, true);
  timelineBtn.click();
  await settle();
  assert.equal(el.querySelector(".jw-tl-scroll").style.height, `${geo.AXIS_HEIGHT + 8 * geo.LANE_HEIGHT}px`);
  assert.equal(el.querySelector(".jw-tl-spacer").style.height, `${22 * geo.LANE_HEIGHT}px`);
});
