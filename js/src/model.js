// Pure data functions shared by the views. No DOM, no timers, no globals read:
// every function that needs the time takes `now` (epoch seconds) as an argument,
// so the tests inject a clock instead of sleeping.

import STATUS_TABLE from "./statuses.js";

/** The seven job statuses, in display and sort order. */
export const STATUSES = Object.freeze(Object.keys(STATUS_TABLE));

/** Statuses after which a job never changes again. */
export const FINAL_STATUSES = Object.freeze(STATUSES.filter((s) => STATUS_TABLE[s].final));

/**
 * Per status: the text label, an icon character (so colour is never the only
 * signal), the CSS class carrying the colour, the sort rank, and the words
 * before the elapsed time. One table for every view, kernel side included:
 * statuses.js is generated from the Python side's (jobwidgets/status.py).
 */
export const STATUS_INFO = Object.freeze(
  Object.fromEntries(
    STATUSES.map((s) => {
      const { label, icon, cls, order, elapsed } = STATUS_TABLE[s];
      return [s, Object.freeze({ label, icon, cls, order, elapsed })];
    }),
  ),
);

/** Shown for a status the front end does not know (a newer kernel side). */
const UNKNOWN_INFO = Object.freeze({ label: "UNKNOWN", icon: "?", cls: "jw-st-unknown", order: STATUSES.length, elapsed: "" });

/** STATUS_INFO for `status`, or a neutral entry for anything unknown. */
export function statusInfo(status) {
  return Object.prototype.hasOwnProperty.call(STATUS_INFO, status) ? STATUS_INFO[status] : UNKNOWN_INFO;
}

/** True for CANCELLED, DONE and ERROR. */
export function isFinal(status) {
  return FINAL_STATUSES.includes(status);
}

// ---------------------------------------------------------------------------
// Rows

/**
 * True for a past job (a History record) whose kernel ended while the job was
 * not final: its status is the last one seen, and its times no longer tick.
 */
export function kernelEnded(row) {
  return Boolean(row?.kernel_ended) && !isFinal(row.status);
}

/**
 * Where a time that has not ended yet ends: `now` for a live job; unknown
 * (null) for a final job without the time, and for a job whose kernel ended
 * before it was final (it ran or waited until some moment after its last
 * update: no made-up figure).
 */
function openEnd(row, now) {
  if (isFinal(row.status) || row.kernel_ended) return null;
  return now;
}

/** The status as words: "RUNNING", or "last seen RUNNING · kernel ended". */
export function statusText(row) {
  const info = statusInfo(row?.status);
  const label = info.label === "UNKNOWN" && row?.status ? String(row.status) : info.label;
  return kernelEnded(row) ? `last seen ${label} \u00b7 kernel ended` : label;
}

/** Seconds spent waiting before running, ticking with `now`; null if unknown. */
export function queueTime(row, now) {
  const from = row?.submitted_at;
  if (from == null) return null;
  let to = row.started_at ?? row.finished_at;
  if (to == null) {
    to = openEnd(row, now);
    if (to == null) return null;
  }
  return Math.max(0, to - from);
}

/** Seconds spent running, ticking with `now` while running; null if never started. */
export function runTime(row, now) {
  const from = row?.started_at;
  if (from == null) return null;
  let to = row.finished_at;
  if (to == null) {
    to = openEnd(row, now);
    if (to == null) return null;
  }
  return Math.max(0, to - from);
}

/** Seconds from the first known timestamp to the end (or `now`); null if unknown. */
export function totalTime(row, now) {
  const from = row?.submitted_at ?? row?.started_at ?? row?.created_at;
  if (from == null) return null;
  let to = row.finished_at;
  if (to == null) {
    to = openEnd(row, now);
    if (to == null) return null;
  }
  return Math.max(0, to - from);
}

/**
 * The badge's elapsed text: time waiting (since submission, else creation)
 * before running, run time while running, total when final ("queued 12s",
 * "running 3m 05s", "done in 4.2s"); the words are STATUS_INFO's `elapsed`.
 * The kernel's text line (jobwidgets/text.py) says the same. Empty string
 * when no time is known or the status is unknown.
 */
export function elapsedText(row, now) {
  const status = row?.status;
  const words = statusInfo(status).elapsed;
  if (!words) return "";
  if (status === "RUNNING") {
    const t = runTime(row, now);
    return t == null ? words : `${words} ${formatDuration(t)}`;
  }
  if (isFinal(status)) {
    const t = totalTime(row, now);
    return t == null ? "" : `${words} ${formatDuration(t)}`;
  }
  const since = row.submitted_at ?? row.created_at;
  if (since == null) return "";
  return `${words} ${formatDuration(Math.max(0, now - since))}`;
}

// ---------------------------------------------------------------------------
// Sorting, filtering, counting

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Columns the table can sort by, with how each one reads its value. */
const SORT_VALUE = {
  job_id: (r) => r.job_id,
  backend: (r) => r.backend,
  status: (r) => (r.status == null ? null : statusInfo(r.status).order),
  created_at: (r) => r.created_at,
  submitted_at: (r) => r.submitted_at,
  started_at: (r) => r.started_at,
  finished_at: (r) => r.finished_at,
  queue: (r, now) => queueTime(r, now),
  run: (r, now) => runTime(r, now),
  progress: (r) => r.progress,
  error: (r) => r.error,
};

/** The value `sortRows` compares for `column` (exported for the table's change checks). */
export function sortValue(row, column, now) {
  const get = SORT_VALUE[column];
  const v = get ? get(row, now) : row[column];
  return v === undefined || (typeof v === "number" && Number.isNaN(v)) ? null : v;
}

/**
 * A new array of `rows` sorted by `column` ("job_id", "backend", "status",
 * "submitted_at", "queue", "run", "progress", or any row field), `direction`
 * "asc" or "desc". Stable: ties keep their input order in both directions.
 * Nulls are last in both directions. Numbers compare numerically, strings with
 * a locale collator, statuses by their order in STATUSES.
 */
export function sortRows(rows, column, direction = "asc", now = 0) {
  const n = rows.length;
  const sign = direction === "desc" ? -1 : 1;
  // Decorate once: values are computed n times, not n log n times.
  const items = new Array(n);
  for (let i = 0; i < n; i++) items[i] = { v: sortValue(rows[i], column, now), i, row: rows[i] };
  items.sort((a, b) => {
    const va = a.v;
    const vb = b.v;
    if (va === null || vb === null) {
      if (va === vb) return a.i - b.i;
      return va === null ? 1 : -1;
    }
    let c;
    if (typeof va === "number" && typeof vb === "number") c = va < vb ? -1 : va > vb ? 1 : 0;
    else c = collator.compare(String(va), String(vb));
    return c !== 0 ? sign * c : a.i - b.i;
  });
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = items[i].row;
  return out;
}

/**
 * Rows matching `status` (a status name, or "" for all), `text` (a
 * case-insensitive substring of job_id, backend, error or a tag; "" for all)
 * and `tag` (one of the row's tags exactly; "" for all).
 */
export function filterRows(rows, { status = "", text = "", tag = "" } = {}) {
  const needle = String(text ?? "").trim().toLowerCase();
  if (!status && !needle && !tag) return Array.from(rows);
  const out = [];
  for (const row of rows) {
    if (status && row.status !== status) continue;
    if (tag && !(Array.isArray(row.tags) && row.tags.includes(tag))) continue;
    if (needle && !rowMatchesText(row, needle)) continue;
    out.push(row);
  }
  return out;
}

function rowMatchesText(row, needle) {
  return (
    (typeof row.job_id === "string" && row.job_id.toLowerCase().includes(needle)) ||
    (typeof row.backend === "string" && row.backend.toLowerCase().includes(needle)) ||
    (typeof row.error === "string" && row.error.toLowerCase().includes(needle)) ||
    (Array.isArray(row.tags) && row.tags.some((t) => String(t).toLowerCase().includes(needle)))
  );
}

/** `{INITIALIZING: n, ..., ERROR: n}` for any iterable of rows; unknown statuses are not counted. */
export function countByStatus(rows) {
  const counts = {};
  for (const s of STATUSES) counts[s] = 0;
  for (const row of rows) {
    if (Object.prototype.hasOwnProperty.call(counts, row.status)) counts[row.status] += 1;
  }
  return counts;
}

// ---------------------------------------------------------------------------
// Formatting

const pad2 = (n) => String(n).padStart(2, "0");

/** "0.4s", "12s", "3m 05s", "2h 03m"; "—" for null or not a number. */
export function formatDuration(seconds) {
  if (seconds == null || typeof seconds !== "number" || !Number.isFinite(seconds)) return "\u2014";
  const s = Math.max(0, seconds);
  if (s < 9.95) return `${s.toFixed(1)}s`;
  const whole = Math.max(10, Math.floor(s)); // 9.95..9.99 would round up to "10.0s"
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${pad2(whole % 60)}s`;
  return `${Math.floor(whole / 3600)}h ${pad2(Math.floor((whole % 3600) / 60))}m`;
}

/** Local wall-clock "HH:MM:SS" of an epoch-seconds value; "—" for null. */
export function formatClock(epochSeconds) {
  if (epochSeconds == null || typeof epochSeconds !== "number" || !Number.isFinite(epochSeconds)) return "\u2014";
  const d = new Date(epochSeconds * 1000);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const isTime = (v) => typeof v === "number" && Number.isFinite(v);

/**
 * A readable local time of an epoch-seconds value: "17:45:01" on the day of
 * `now` (epoch seconds, the browser's clock by default), "27 Nov 17:45:01" on
 * another day of the same year, "27 Nov 2025 17:45:01" in another year; "—"
 * for null. The pattern is fixed (English month names), whatever the locale.
 */
export function formatTime(epochSeconds, now = Date.now() / 1000) {
  if (!isTime(epochSeconds)) return "\u2014";
  const d = new Date(epochSeconds * 1000);
  const today = new Date((isTime(now) ? now : Date.now() / 1000) * 1000);
  const clock = formatClock(epochSeconds);
  if (d.getFullYear() !== today.getFullYear()) return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${clock}`;
  if (d.getMonth() !== today.getMonth() || d.getDate() !== today.getDate()) {
    return `${d.getDate()} ${MONTHS[d.getMonth()]} ${clock}`;
  }
  return clock;
}

/**
 * The exact value of an epoch-seconds time, as ISO 8601 in UTC with
 * microseconds: "2026-11-28T17:45:01.548086Z"; null for null.
 */
export function isoTime(epochSeconds) {
  if (!isTime(epochSeconds)) return null;
  let whole = Math.floor(epochSeconds);
  let micro = Math.round((epochSeconds - whole) * 1e6);
  if (micro >= 1e6) {
    whole += 1;
    micro -= 1e6;
  }
  const iso = new Date(whole * 1000).toISOString(); // "...T17:45:01.000Z"
  return `${iso.slice(0, 19)}.${String(micro).padStart(6, "0")}Z`;
}

/** "45%" for 0.45, "" for null. Values are clamped to 0..1. */
export function formatProgress(progress) {
  if (progress == null || typeof progress !== "number" || !Number.isFinite(progress)) return "";
  return `${Math.round(Math.min(1, Math.max(0, progress)) * 100)}%`;
}

// ---------------------------------------------------------------------------
// Cancel state shown in a row's Actions cell

/**
 * What the Actions cell shows. `local` is the view's own record for this row:
 * null, `{state: "cancelling"}`, `{state: "waiting"}` or
 * `{state: "failed", message}` (from a cancel_result). A local record wins over
 * the row's kernel-side `cancel_state`.
 *
 * @returns {{text: string, kind: "" | "pending" | "waiting" | "failed", disabled: boolean}}
 */
export function cancelDisplay(row, local) {
  const final = isFinal(row.status);
  if (final) return { text: "", kind: "", disabled: true };
  const state = local?.state ?? row.cancel_state ?? null;
  const message = local ? local.message : row.cancel_message;
  switch (state) {
    case "cancelling":
    case "requested":
      return { text: "cancelling\u2026", kind: "pending", disabled: true };
    case "waiting":
      return { text: "waiting for kernel\u2026", kind: "waiting", disabled: true };
    case "failed": {
      const why = message ? String(message) : "unknown reason";
      const text = /^could not cancel/i.test(why) ? why : `could not cancel: ${why}`;
      return { text, kind: "failed", disabled: false };
    }
    default:
      return { text: "", kind: "", disabled: false };
  }
}

// ---------------------------------------------------------------------------
// Virtual scrolling

/** The table's fixed row height in px; widgets.css sets the same (--jw-row-height). */
export const ROW_HEIGHT = 30;

/** The row height of the narrow layout (two lines a row); widgets.css sets the same in `.jw-narrow`. */
export const NARROW_ROW_HEIGHT = 50;

/**
 * The rows to render for a scroll position: `{start, end}` (end exclusive),
 * widened by `overscan` rows on each side and clamped to `0..total`.
 */
export function visibleRange(scrollTop, viewportHeight, rowHeight, total, overscan = 0) {
  if (!(total > 0) || !(rowHeight > 0)) return { start: 0, end: 0 };
  const top = Math.max(0, Number(scrollTop) || 0);
  const height = Math.max(0, Number(viewportHeight) || 0);
  const over = Math.max(0, Math.floor(overscan) || 0);
  const first = Math.floor(top / rowHeight);
  const last = Math.ceil((top + height) / rowHeight); // exclusive
  const start = Math.min(total, Math.max(0, first - over));
  const end = Math.min(total, Math.max(start, last + over));
  return { start, end };
}

// ---------------------------------------------------------------------------
// Clock skew

/**
 * Seconds to subtract from the browser clock to get the kernel clock:
 * `browserNow - kernelTime`, measured when `kernel_time` arrives. 0 when
 * `kernelTime` is missing, so an unset trait means "trust the browser clock".
 */
export function clockOffset(kernelTime, browserNow) {
  if (typeof kernelTime !== "number" || !Number.isFinite(kernelTime) || kernelTime <= 0) return 0;
  return browserNow - kernelTime;
}
