// "Export CSV" and "Export JSON": the rows a view shows (filtered and sorted,
// every row of collapsed groups too, each job once) saved as a file.
//
// A record has the keys of the kernel's `JobTable.to_records()`
// (jobwidgets.rows.EXPORT_FIELDS), in the same order, with the same values:
// times as ISO 8601 UTC to the millisecond, the time in queue and running in
// seconds (up to now while it goes on, on the kernel's clock). The CSV is
// RFC 4180 with CRLF line ends, tags as a JSON list, and a text that a
// spreadsheet would run as a formula (=, +, -, @, tab, carriage return first)
// gets a leading apostrophe. `toCSV` is the one CSV writer of the front end:
// the History view's export (labextension/src/history.ts) writes its records,
// in its own fields, with it too (exported by ../index.js).
// The file is made from text through a Blob: nothing is parsed as markup.

import { isFinal, kernelEnded } from "../model.js";

/** The keys of a record, in order: the CSV's columns. */
export const EXPORT_FIELDS = Object.freeze([
  "job_id",
  "backend",
  "status",
  "tags",
  "created",
  "submitted",
  "started",
  "finished",
  "queue_seconds",
  "run_seconds",
  "progress",
  "progress_text",
  "error",
  "resubmitted_from",
]);

const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const text = (v) => (v == null ? null : String(v));

/** Epoch seconds as "2026-11-29T01:06:45.123Z"; null for null. */
export function isoTime(seconds) {
  const s = num(seconds);
  return s === null ? null : new Date(s * 1000).toISOString();
}

function span(start, end, openEnd) {
  const from = num(start);
  if (from === null) return null;
  const to = num(end) ?? openEnd;
  return to === null ? null : Math.round(Math.max(0, to - from) * 1000) / 1000;
}

/** The record of one row at kernel time `now` (see EXPORT_FIELDS). */
export function toRecord(row, now) {
  const openEnd = isFinal(row.status) || kernelEnded(row) || row.kernel_ended ? null : now;
  const started = num(row.started_at);
  return {
    job_id: text(row.job_id),
    backend: text(row.backend),
    status: text(row.status),
    tags: Array.isArray(row.tags) ? row.tags.map(String) : [],
    created: isoTime(row.created_at),
    submitted: isoTime(row.submitted_at),
    started: isoTime(row.started_at),
    finished: isoTime(row.finished_at),
    queue_seconds: span(row.submitted_at, started ?? row.finished_at, openEnd),
    run_seconds: span(row.started_at, row.finished_at, openEnd),
    progress: num(row.progress),
    progress_text: text(row.progress_text),
    error: text(row.error),
    resubmitted_from: text(row.resubmitted_from),
  };
}

/** One CSV field (see the module's comment). */
export function csvField(value) {
  if (value == null) return "";
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  let out = Array.isArray(value) ? `[${value.map((v) => JSON.stringify(String(v))).join(", ")}]` : String(value);
  if (/^[=+\-@\t\r]/.test(out)) out = `'${out}`;
  return /[",\r\n]/.test(out) ? `"${out.replace(/"/g, '""')}"` : out;
}

/**
 * Records as CSV: a header line of `fields` (the columns, in order), then one
 * line per record of its values of `fields`.
 *
 * @param {object[]} records
 * @param {readonly string[]} [fields]  EXPORT_FIELDS by default
 */
export function toCSV(records, fields = EXPORT_FIELDS) {
  const lines = [fields.join(",")];
  for (const record of records) lines.push(fields.map((f) => csvField(record[f])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** Records as a JSON array, keys in EXPORT_FIELDS' order. */
export function toJSON(records) {
  const out = records.map((r) => Object.fromEntries(EXPORT_FIELDS.map((f) => [f, r[f] ?? (f === "tags" ? [] : null)])));
  return `${JSON.stringify(out, null, 1)}\n`;
}

/** The records of `keys` (each once, in order) of `rows` at kernel time `now`. */
export function exportRecords(keys, rows, now) {
  const out = [];
  const seen = new Set();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    const row = rows.get(key);
    if (row) out.push(toRecord(row, now));
  }
  return out;
}

/** "jobs-2026-11-29T01-06-45.csv" */
export function exportFileName(format, date = new Date()) {
  return `jobs-${date.toISOString().slice(0, 19).replace(/:/g, "-")}.${format}`;
}

const MIME = { csv: "text/csv;charset=utf-8", json: "application/json" };

/** The file of `format` ("csv" or "json") for `records`: {name, text, mime}. */
export function exportFile(format, records, date = new Date()) {
  const body = format === "json" ? toJSON(records) : toCSV(records);
  return { name: exportFileName(format, date), text: body, mime: MIME[format] ?? MIME.csv };
}

/** Save `text` as a download named `name` (a Blob behind a temporary link). */
export function saveFile(name, body, mime) {
  const url = URL.createObjectURL(new Blob([body], { type: mime }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
