// The timeline's arithmetic: where a job's spans are, the time range shown, the
// axis ticks, which lane a point is in. Pure functions of their arguments (the
// time is always passed in as `now`, kernel epoch seconds), so they are tested
// without a canvas; timeline.js draws with them.
//
// A lane is one job, in the table's order. Its queue span runs from submission
// to the start (or to the end, for a job that ended without starting, or to
// `now` while it waits); its run span from the start to the end (or `now`
// while it runs). A job known only by its creation (INITIALIZING: no
// submission yet) has no span: it is drawn as a marker at `now` while it is
// live, at its end or creation time once final; with no time at all it has
// nothing to draw, and its lane stays empty.

import { isFinal } from "../model.js";

/** Height of one job's lane, in CSS px. */
export const LANE_HEIGHT = 22;
/** Height of the time axis above the lanes, in CSS px. */
export const AXIS_HEIGHT = 24;
/** Least distance between two tick labels, in CSS px. */
export const TICK_SPACING = 90;

const finite = (v) => typeof v === "number" && Number.isFinite(v);

/**
 * Where an open span ends: `now` for a live job; for a past job whose kernel
 * ended before it was final, its last update (or null: nothing to extend to).
 */
function openEnd(row, now) {
  if (row.kernel_ended) return finite(row.updated_at) ? row.updated_at : null;
  return isFinal(row.status) ? null : now;
}

/**
 * The spans of one row at time `now`.
 *
 * @returns {{queue: [number, number] | null, run: [number, number] | null,
 *            marker: number | null, open: boolean}}
 *   `open`: a span or the marker ends at `now` (it moves with the clock).
 */
export function spansOf(row, now) {
  const submitted = finite(row.submitted_at) ? row.submitted_at : null;
  const started = finite(row.started_at) ? row.started_at : null;
  const finished = finite(row.finished_at) ? row.finished_at : null;
  const end = finished ?? openEnd(row, now);
  const open = finished === null && end === now && !row.kernel_ended;
  let queue = null;
  let run = null;
  if (submitted !== null) {
    const to = started ?? end;
    if (to !== null) queue = [submitted, Math.max(submitted, to)];
  }
  if (started !== null && end !== null) run = [started, Math.max(started, end)];
  else if (started !== null) run = [started, started];
  let marker = null;
  if (queue === null && run === null) {
    if (!isFinal(row.status) && !row.kernel_ended) marker = now;
    else marker = finished ?? (finite(row.created_at) ? row.created_at : null);
  }
  return { queue, run, marker, open: open || (marker !== null && marker === now) };
}

/**
 * The time range of `rows` at `now`: from the earliest span start (or marker)
 * to the latest end. `open` is true when some span ends at `now` (the range
 * then grows with the clock: `domainOf` takes a later `now`). Null for rows
 * with nothing to draw. The same bounds as `spansOf`, without building the
 * spans: this runs over every filtered row when rows change.
 *
 * @param {Iterable<object>} rows
 * @returns {{start: number, end: number, open: boolean} | null}
 */
export function extentOf(rows, now) {
  let start = Infinity;
  let end = -Infinity;
  let open = false;
  for (const row of rows) {
    if (!row) continue;
    const submitted = finite(row.submitted_at) ? row.submitted_at : null;
    const started = finite(row.started_at) ? row.started_at : null;
    const finished = finite(row.finished_at) ? row.finished_at : null;
    const last = finished ?? openEnd(row, now);
    const queued = submitted !== null && (started ?? last) !== null;
    let a;
    let b;
    if (queued || started !== null) {
      a = queued ? submitted : started;
      b = started !== null ? Math.max(started, last ?? started) : Math.max(submitted, last);
      if (finished === null && last === now && !row.kernel_ended) open = true;
    } else {
      // the marker of a job with no span
      if (!isFinal(row.status) && !row.kernel_ended) {
        a = b = now;
        open = true;
      } else {
        a = b = finished ?? (finite(row.created_at) ? row.created_at : null);
        if (a === null) continue;
      }
    }
    if (a < start) start = a;
    if (b > end) end = b;
  }
  return start === Infinity ? null : { start, end, open };
}

/**
 * The domain to draw for `extent` at `now`: the extent (grown to `now` while
 * open), padded by 3% on each side and at least 1 s wide. Null for no extent.
 */
export function domainOf(extent, now) {
  if (!extent) return null;
  let { start, end } = extent;
  if (extent.open && now > end) end = now;
  let span = end - start;
  if (span < 1) {
    const mid = (start + end) / 2;
    start = mid - 0.5;
    end = mid + 0.5;
    span = 1;
  }
  const pad = span * 0.03;
  return { start: start - pad, end: end + pad };
}

/** A linear map from the domain to pixels `x0..x1`, and back. */
export function scale(domain, x0, x1) {
  const k = (x1 - x0) / (domain.end - domain.start || 1);
  return {
    x: (t) => x0 + (t - domain.start) * k,
    t: (x) => domain.start + (x - x0) / k,
  };
}

/** Candidate tick steps, in seconds. */
const STEPS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
  172800, 604800,
];

const pad2 = (n) => String(n).padStart(2, "0");

/** The label of a tick at `t` (epoch seconds) for a step of `step` seconds, in local time. */
export function tickLabel(t, step) {
  const d = new Date(t * 1000);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (step >= 86400) return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  if (step >= 60) return hm;
  const hms = `${hm}:${pad2(d.getSeconds())}`;
  if (step >= 1) return hms;
  return `${hms}.${Math.floor((d.getMilliseconds() + 0.5) / 100) % 10}`;
}

/**
 * Ticks for `domain` over `width` px: the smallest step of STEPS that keeps
 * labels `spacing` px apart, aligned on the local clock (a 10 s step falls on
 * :00, :10, ...; an hour step on the hour).
 *
 * @returns {{step: number, ticks: Array<{t: number, label: string}>}}
 */
export function ticksFor(domain, width, spacing = TICK_SPACING) {
  const span = domain.end - domain.start;
  if (!(span > 0) || !(width > 0)) return { step: 0, ticks: [] };
  const wanted = (span * spacing) / width;
  const step = STEPS.find((s) => s >= wanted) ?? Math.ceil(wanted / 604800) * 604800;
  // local time: shift by the zone's offset so steps of minutes and up fall on the clock
  const offset = step >= 60 ? -new Date(domain.start * 1000).getTimezoneOffset() * 60 : 0;
  const first = Math.ceil((domain.start + offset) / step) * step - offset;
  const ticks = [];
  for (let i = 0; ; i++) {
    const t = first + i * step;
    if (t > domain.end + 1e-9 || i > 1000) break;
    // rounding: 0.1 * 3 must read .3
    const r = step < 1 ? Math.round(t * 10) / 10 : t;
    ticks.push({ t: r, label: tickLabel(r, step) });
  }
  return { step, ticks };
}

/** The lanes to draw for a scroll position: `{start, end}` (end exclusive). */
export function laneRange(scrollTop, height, total) {
  const first = Math.max(0, Math.floor(scrollTop / LANE_HEIGHT));
  const last = Math.ceil((scrollTop + Math.max(0, height - AXIS_HEIGHT)) / LANE_HEIGHT);
  return { start: Math.min(first, total), end: Math.min(total, Math.max(first, last)) };
}

/** The top of lane `index` in the canvas (below the axis), for scroll position `scrollTop`. */
export function laneTop(index, scrollTop) {
  return AXIS_HEIGHT + index * LANE_HEIGHT - scrollTop;
}

/** The lane at canvas y `y` (CSS px), or -1 over the axis or past the last lane. */
export function laneAt(y, scrollTop, total) {
  if (y < AXIS_HEIGHT) return -1;
  const index = Math.floor((y - AXIS_HEIGHT + scrollTop) / LANE_HEIGHT);
  return index >= 0 && index < total ? index : -1;
}

/** The scroll position that shows lane `index` whole, from `scrollTop` in a viewport `height` high. */
export function scrollToLane(index, scrollTop, height) {
  const top = index * LANE_HEIGHT;
  const room = Math.max(LANE_HEIGHT, height - AXIS_HEIGHT);
  if (top < scrollTop) return top;
  if (top + LANE_HEIGHT > scrollTop + room) return top + LANE_HEIGHT - room;
  return scrollTop;
}

/**
 * The pixel rectangles of a row's spans, for drawing and hit testing:
 * `[{kind: "queue" | "run" | "marker", x, w}]`, each at least 2 px wide.
 */
export function spanBoxes(spans, sx) {
  const boxes = [];
  for (const kind of ["queue", "run"]) {
    const s = spans[kind];
    if (!s) continue;
    const a = sx.x(s[0]);
    const b = sx.x(s[1]);
    boxes.push({ kind, x: a, w: Math.max(2, b - a) });
  }
  if (spans.marker !== null) boxes.push({ kind: "marker", x: sx.x(spans.marker) - 4, w: 8 });
  return boxes;
}

/** True when `x` is on one of `boxes`, give or take `slack` px. */
export function onBoxes(boxes, x, slack = 3) {
  return boxes.some((b) => x >= b.x - slack && x <= b.x + b.w + slack);
}
