import { test } from "node:test";
import assert from "node:assert/strict";

import {
  FINAL_STATUSES,
  STATUSES,
  STATUS_INFO,
  cancelDisplay,
  clockOffset,
  countByStatus,
  elapsedText,
  filterRows,
  formatClock,
  formatDuration,
  formatProgress,
  formatTime,
  isFinal,
  isoTime,
  queueTime,
  runTime,
  sortRows,
  statusInfo,
  totalTime,
  visibleRange,
} from "../src/model.js";

const row = (key, fields = {}) => ({
  key,
  job_id: `job-${key}`,
  backend: "local",
  status: "QUEUED",
  created_at: null,
  submitted_at: null,
  started_at: null,
  finished_at: null,
  progress: null,
  error: null,
  traceback: null,
  cancel_state: null,
  cancel_message: null,
  ...fields,
});
const keys = (rows) => rows.map((r) => r.key);

// ---------------------------------------------------------------- statuses

test("STATUS_INFO has the seven statuses in order, each with label, icon and class", () => {
  assert.deepEqual(STATUSES, ["INITIALIZING", "QUEUED", "VALIDATING", "RUNNING", "CANCELLED", "DONE", "ERROR"]);
  assert.deepEqual(Object.keys(STATUS_INFO), STATUSES);
  const icons = new Set();
  STATUSES.forEach((s, i) => {
    const info = STATUS_INFO[s];
    assert.equal(info.label, s);
    assert.equal(info.order, i);
    assert.match(info.cls, /^jw-st-[a-z]+$/);
    assert.ok(info.icon.length >= 1);
    icons.add(info.icon);
  });
  assert.equal(icons.size, 7, "every status has its own icon");
});

for (const status of STATUSES) {
  test(`isFinal(${status})`, () => {
    assert.equal(isFinal(status), FINAL_STATUSES.includes(status));
  });
}

test("statusInfo of an unknown status is neutral", () => {
  assert.equal(statusInfo("PAUSED").label, "UNKNOWN");
  assert.equal(statusInfo("__proto__").label, "UNKNOWN");
  assert.equal(statusInfo("DONE"), STATUS_INFO.DONE);
});

// ---------------------------------------------------------------- sorting

test("sortRows sorts text with a locale collator, numbers inside strings naturally", () => {
  const rows = [row("1", { job_id: "job-10" }), row("2", { job_id: "Job-2" }), row("3", { job_id: "job-1" })];
  assert.deepEqual(keys(sortRows(rows, "job_id", "asc")), ["3", "2", "1"]);
  assert.deepEqual(keys(sortRows(rows, "job_id", "desc")), ["1", "2", "3"]);
});

test("sortRows sorts statuses by their order, not alphabetically", () => {
  const rows = STATUSES.slice().reverse().map((s, i) => row(String(i), { status: s }));
  assert.deepEqual(sortRows(rows, "status", "asc").map((r) => r.status), STATUSES);
  assert.deepEqual(sortRows(rows, "status", "desc").map((r) => r.status), STATUSES.slice().reverse());
});

test("sortRows puts nulls last in both directions", () => {
  const rows = [
    row("a", { progress: null }),
    row("b", { progress: 0.5 }),
    row("c", { progress: undefined }),
    row("d", { progress: 0 }),
    row("e", { progress: 1 }),
  ];
  assert.deepEqual(keys(sortRows(rows, "progress", "asc")), ["d", "b", "e", "a", "c"]);
  assert.deepEqual(keys(sortRows(rows, "progress", "desc")), ["e", "b", "d", "a", "c"]);
});

test("sortRows is stable: ties keep input order in both directions", () => {
  const rows = ["1", "2", "3", "4", "5", "6"].map((k, i) => row(k, { backend: i % 2 ? "b" : "a" }));
  assert.deepEqual(keys(sortRows(rows, "backend", "asc")), ["1", "3", "5", "2", "4", "6"]);
  assert.deepEqual(keys(sortRows(rows, "backend", "desc")), ["2", "4", "6", "1", "3", "5"]);
});

test("sortRows sorts numerically, not as text, for times", () => {
  const rows = [row("1", { submitted_at: 100 }), row("2", { submitted_at: 9 }), row("3", { submitted_at: 20 })];
  assert.deepEqual(keys(sortRows(rows, "submitted_at", "asc")), ["2", "3", "1"]);
});

test("sortRows by queue and run time uses now for ticking rows", () => {
  const rows = [
    row("waiting", { status: "QUEUED", submitted_at: 90 }), // 10 s so far
    row("quick", { status: "DONE", submitted_at: 0, started_at: 2, finished_at: 3 }), // queue 2, run 1
    row("running", { status: "RUNNING", submitted_at: 50, started_at: 55 }), // queue 5, run 45
    row("never", { status: "INITIALIZING" }),
  ];
  assert.deepEqual(keys(sortRows(rows, "queue", "asc", 100)), ["quick", "running", "waiting", "never"]);
  assert.deepEqual(keys(sortRows(rows, "run", "desc", 100)), ["running", "quick", "waiting", "never"]);
});

test("sortRows does not modify its input", () => {
  const rows = [row("2", { job_id: "b" }), row("1", { job_id: "a" })];
  const copy = rows.slice();
  sortRows(rows, "job_id");
  assert.deepEqual(rows, copy);
});

// ---------------------------------------------------------------- filtering and counts

test("filterRows by status and by case-insensitive text in id, backend or error", () => {
  const rows = [
    row("1", { job_id: "ALPHA-1", status: "RUNNING" }),
    row("2", { backend: "Dask-Cluster", status: "DONE" }),
    row("3", { error: "Timeout while WAITING", status: "ERROR" }),
    row("4", { traceback: "alpha in traceback only", status: "ERROR" }),
  ];
  assert.deepEqual(keys(filterRows(rows, { status: "", text: "" })), ["1", "2", "3", "4"]);
  assert.deepEqual(keys(filterRows(rows, { status: "ERROR" })), ["3", "4"]);
  assert.deepEqual(keys(filterRows(rows, { text: "alpha" })), ["1"]);
  assert.deepEqual(keys(filterRows(rows, { text: "  dask " })), ["2"]);
  assert.deepEqual(keys(filterRows(rows, { text: "waiting" })), ["3"]);
  assert.deepEqual(keys(filterRows(rows, { status: "DONE", text: "waiting" })), []);
  assert.deepEqual(keys(filterRows(rows)), ["1", "2", "3", "4"]);
});

test("filterRows treats markup and regex characters as plain text", () => {
  const rows = [row("1", { job_id: "<img src=x onerror=alert(1)>" }), row("2", { job_id: "a.b" })];
  assert.deepEqual(keys(filterRows(rows, { text: "<IMG" })), ["1"]);
  assert.deepEqual(keys(filterRows(rows, { text: "." })), ["2"]);
});

test("countByStatus counts every status, zero included, from any iterable", () => {
  const map = new Map([
    ["1", row("1", { status: "RUNNING" })],
    ["2", row("2", { status: "RUNNING" })],
    ["3", row("3", { status: "DONE" })],
    ["4", row("4", { status: "PAUSED" })],
  ]);
  assert.deepEqual(countByStatus(map.values()), {
    INITIALIZING: 0, QUEUED: 0, VALIDATING: 0, RUNNING: 2, CANCELLED: 0, DONE: 1, ERROR: 0,
  });
  assert.equal(countByStatus([]).QUEUED, 0);
});

// ---------------------------------------------------------------- formatting

test("formatDuration", () => {
  const cases = [
    [null, "\u2014"], [undefined, "\u2014"], [NaN, "\u2014"], [Infinity, "\u2014"], ["3", "\u2014"],
    [0, "0.0s"], [0.4, "0.4s"], [4.2, "4.2s"], [9.94, "9.9s"], [9.96, "10s"], [12, "12s"], [12.9, "12s"],
    [59.99, "59s"], [60, "1m 00s"], [185, "3m 05s"], [3599, "59m 59s"], [3600, "1h 00m"],
    [7380, "2h 03m"], [90000, "25h 00m"], [-5, "0.0s"],
  ];
  for (const [input, want] of cases) assert.equal(formatDuration(input), want, `formatDuration(${input})`);
});

test("formatClock shows local HH:MM:SS", () => {
  const d = new Date(2024, 0, 2, 3, 4, 5);
  assert.equal(formatClock(d.getTime() / 1000), "03:04:05");
  assert.equal(formatClock(new Date(2024, 0, 2, 23, 59, 9, 900).getTime() / 1000), "23:59:09");
  assert.equal(formatClock(null), "\u2014");
  assert.equal(formatClock(undefined), "\u2014");
});

test("formatProgress", () => {
  assert.equal(formatProgress(null), "");
  assert.equal(formatProgress(0), "0%");
  assert.equal(formatProgress(0.456), "46%");
  assert.equal(formatProgress(1.5), "100%");
  assert.equal(formatProgress(-1), "0%");
});

// ---------------------------------------------------------------- queue and run time

test("queueTime ticks while waiting and stops at start", () => {
  assert.equal(queueTime(row("1", { submitted_at: null }), 100), null);
  assert.equal(queueTime(row("1", { status: "QUEUED", submitted_at: 90 }), 100), 10);
  assert.equal(queueTime(row("1", { status: "RUNNING", submitted_at: 90, started_at: 95 }), 100), 5);
  assert.equal(queueTime(row("1", { status: "CANCELLED", submitted_at: 90, finished_at: 93 }), 100), 3);
  assert.equal(queueTime(row("1", { status: "CANCELLED", submitted_at: 90 }), 100), null);
  assert.equal(queueTime(row("1", { status: "QUEUED", submitted_at: 110 }), 100), 0, "never negative");
});

test("runTime ticks while running and stops at finish", () => {
  assert.equal(runTime(row("1", { status: "QUEUED", submitted_at: 1 }), 100), null);
  assert.equal(runTime(row("1", { status: "RUNNING", started_at: 40 }), 100), 60);
  assert.equal(runTime(row("1", { status: "DONE", started_at: 40, finished_at: 44.5 }), 100), 4.5);
  assert.equal(runTime(row("1", { status: "ERROR", started_at: 40 }), 100), null);
});

test("totalTime and elapsedText per status", () => {
  const now = 1000;
  assert.ok(Math.abs(totalTime(row("1", { status: "DONE", submitted_at: 990, finished_at: 994.2 }), now) - 4.2) < 1e-9);
  assert.equal(totalTime(row("1", { status: "QUEUED", submitted_at: 990 }), now), 10);
  assert.equal(totalTime(row("1", { status: "DONE" }), now), null);
  const cases = [
    [{ status: "INITIALIZING" }, ""],
    [{ status: "INITIALIZING", submitted_at: 995 }, "initializing 5.0s"],
    [{ status: "QUEUED", submitted_at: 988 }, "queued 12s"],
    [{ status: "VALIDATING", submitted_at: 988 }, "validating 12s"],
    [{ status: "RUNNING", submitted_at: 700, started_at: 815 }, "running 3m 05s"],
    [{ status: "RUNNING" }, "running"],
    [{ status: "DONE", submitted_at: 990, started_at: 991, finished_at: 994.2 }, "done in 4.2s"],
    [{ status: "ERROR", started_at: 900, finished_at: 960 }, "failed after 1m 00s"],
    [{ status: "CANCELLED", submitted_at: 990, finished_at: 992 }, "cancelled after 2.0s"],
    [{ status: "DONE" }, ""],
  ];
  for (const [fields, want] of cases) assert.equal(elapsedText(row("1", fields), now), want, JSON.stringify(fields));
});

test("clockOffset corrects a browser clock that is off", () => {
  assert.equal(clockOffset(1000, 1030), 30);
  assert.equal(clockOffset(1000, 990), -10);
  assert.equal(clockOffset(null, 1030), 0);
  assert.equal(clockOffset(0, 1030), 0);
  // A queue time measured with the corrected clock is the kernel's.
  const offset = clockOffset(1000, 1030);
  assert.equal(queueTime(row("1", { submitted_at: 990 }), 1030 - offset), 10);
});

// ---------------------------------------------------------------- cancel display

test("cancelDisplay: local state wins, kernel state otherwise, nothing for final rows", () => {
  const active = row("1", { status: "RUNNING" });
  assert.deepEqual(cancelDisplay(active, null), { text: "", kind: "", disabled: false });
  assert.equal(cancelDisplay(active, { state: "cancelling" }).text, "cancelling\u2026");
  assert.equal(cancelDisplay(active, { state: "cancelling" }).disabled, true);
  assert.equal(cancelDisplay(active, { state: "waiting" }).text, "waiting for kernel\u2026");
  assert.equal(
    cancelDisplay(active, { state: "failed", message: "job is already running" }).text,
    "could not cancel: job is already running",
  );
  assert.equal(cancelDisplay(active, { state: "failed", message: "Could not cancel: busy" }).text, "Could not cancel: busy");
  assert.equal(cancelDisplay(active, { state: "failed", message: "x" }).disabled, false, "can retry");
  assert.equal(cancelDisplay({ ...active, cancel_state: "requested" }, null).text, "cancelling\u2026");
  assert.equal(cancelDisplay({ ...active, cancel_state: "waiting" }, null).kind, "waiting");
  assert.equal(
    cancelDisplay({ ...active, cancel_state: "failed", cancel_message: "nope" }, null).text,
    "could not cancel: nope",
  );
  for (const status of FINAL_STATUSES) {
    assert.deepEqual(cancelDisplay(row("1", { status, cancel_state: "requested" }), { state: "cancelling" }), {
      text: "", kind: "", disabled: true,
    });
  }
});

// ---------------------------------------------------------------- virtual scrolling

test("visibleRange at the top, in the middle and at the end", () => {
  assert.deepEqual(visibleRange(0, 360, 30, 10000, 0), { start: 0, end: 12 });
  assert.deepEqual(visibleRange(0, 360, 30, 10000, 5), { start: 0, end: 17 });
  assert.deepEqual(visibleRange(3000, 360, 30, 10000, 5), { start: 95, end: 117 });
  assert.deepEqual(visibleRange(3015, 360, 30, 10000, 0), { start: 100, end: 113 }, "partial rows at both edges");
  assert.deepEqual(visibleRange(299640, 360, 30, 10000, 5), { start: 9983, end: 10000 });
});

test("visibleRange clamps odd input", () => {
  assert.deepEqual(visibleRange(0, 360, 30, 0, 5), { start: 0, end: 0 });
  assert.deepEqual(visibleRange(0, 360, 30, 3, 5), { start: 0, end: 3 });
  assert.deepEqual(visibleRange(-50, 360, 30, 100, 0), { start: 0, end: 12 });
  assert.deepEqual(visibleRange(1e9, 360, 30, 100, 2), { start: 100, end: 100 });
  assert.deepEqual(visibleRange(0, 360, 0, 100, 2), { start: 0, end: 0 });
  assert.deepEqual(visibleRange(NaN, NaN, 30, 100, NaN), { start: 0, end: 0 });
});

test("sorting and filtering 10,000 rows return every row once", () => {
  const statuses = STATUSES;
  const rows = Array.from({ length: 10000 }, (_, i) =>
    row(String(i), {
      job_id: `job-${(i * 7919) % 10000}`,
      status: statuses[i % 7],
      submitted_at: i % 13 === 0 ? null : 1000 + ((i * 31) % 977),
      progress: i % 5 === 0 ? null : (i % 100) / 100,
    }),
  );
  for (const column of ["job_id", "status", "submitted_at", "progress", "queue"]) {
    const sorted = sortRows(rows, column, "desc", 5000);
    assert.equal(new Set(keys(sorted)).size, 10000, column);
  }
  assert.equal(filterRows(rows, { status: "RUNNING" }).length, Math.ceil((10000 - 3) / 7));
});

test("formatTime: the clock today, the day and month another day, the year another year", () => {
  const now = new Date(2026, 10, 28, 18, 0, 0).getTime() / 1000;
  const at = (...parts) => new Date(...parts).getTime() / 1000;
  assert.equal(formatTime(at(2026, 10, 28, 17, 45, 1, 548), now), "17:45:01");
  assert.equal(formatTime(at(2026, 10, 27, 17, 45, 1), now), "27 Nov 17:45:01");
  assert.equal(formatTime(at(2026, 0, 3, 9, 5, 7), now), "3 Jan 09:05:07");
  assert.equal(formatTime(at(2025, 11, 31, 23, 59, 59), now), "31 Dec 2025 23:59:59");
  assert.equal(formatTime(null, now), "\u2014");
  assert.equal(formatTime(Number.NaN, now), "\u2014");
  assert.match(formatTime(Date.now() / 1000), /^\d\d:\d\d:\d\d$/, "today by the browser's clock by default");
});

test("isoTime is the exact value in UTC with microseconds", () => {
  assert.equal(isoTime(1795887901.5480862), "2026-11-28T17:45:01.548086Z");
  assert.equal(isoTime(0), "1970-01-01T00:00:00.000000Z");
  assert.equal(isoTime(1.9999999), "1970-01-01T00:00:02.000000Z", "rounding carries into the seconds");
  assert.equal(isoTime(null), null);
  assert.equal(isoTime("1"), null);
});
