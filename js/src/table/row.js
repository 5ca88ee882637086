// One row of the table's body: its elements, made once and recycled by the
// body's pool (body.js), and how a row of the store is written into them.

import {
  cancelDisplay,
  formatDuration,
  formatProgress,
  formatTime,
  isoTime,
  kernelEnded,
  queueTime,
  runTime,
  statusText,
} from "../model.js";
import { createPill, h, setAttr, setText } from "../dom.js";

/** @typedef {import("../index.js").IRow} IRow */

/** The columns' ids, in the table's default order. */
export const COLUMN_IDS = Object.freeze(["job_id", "backend", "status", "submitted", "queue", "run", "progress", "actions"]);

/**
 * A row's elements and cells; `key` and `row` name the row it shows (null: unused).
 * The cells are in the DOM in `order` (column ids, COLUMN_IDS by default), so the
 * reading and Tab order is the order the columns show in. The row and its Cancel
 * button are out of the Tab order: the grid's one tab stop is set by body.js.
 */
export function createRowView(order = COLUMN_IDS) {
  const root = h("div", "jw-row");
  root.setAttribute("role", "row");
  root.tabIndex = -1;
  const cells = new Map();
  const cell = (cls) => {
    const c = h("div", `jw-cell ${cls}`);
    c.setAttribute("role", "gridcell");
    cells.set(cls, c);
    return c;
  };
  const id = cell("jw-c-id");
  const idText = h("span", "jw-id-text");
  const tags = h("span", "jw-row-tags"); // the job's tags, after its id
  id.append(idText, tags);
  const backend = cell("jw-c-backend");
  const statusCell = cell("jw-c-status");
  const pill = createPill();
  // A past job whose kernel ended before it was final: "last seen RUNNING · kernel ended".
  const lastSeen = h("span", "jw-last-seen", "last seen");
  const ended = h("span", "jw-ended", "\u00b7 kernel ended");
  lastSeen.hidden = true;
  ended.hidden = true;
  statusCell.append(lastSeen, pill.root, ended);
  const submitted = cell("jw-c-submitted");
  const queue = cell("jw-c-queue");
  const run = cell("jw-c-run");
  const progressCell = cell("jw-c-progress");
  const bar = document.createElement("progress");
  bar.className = "jw-progress";
  bar.max = 1;
  const pct = h("span", "jw-pct");
  const progressText = h("span", "jw-progress-text");
  progressCell.append(bar, pct, progressText);
  const actions = cell("jw-c-actions");
  const button = h("button", "jw-btn jw-btn-small jw-cancel", "Cancel");
  button.type = "button";
  button.tabIndex = -1;
  // A failed or cancelled job whose backend can run it again: Retry instead of Cancel.
  const retry = h("button", "jw-btn jw-btn-small jw-retry", "Retry");
  retry.type = "button";
  retry.tabIndex = -1;
  retry.hidden = true;
  const note = h("span", "jw-cancel-note");
  actions.append(button, retry, note);
  for (const column of order) root.appendChild(cells.get(columnClass(column)));
  return {
    root,
    id,
    idText,
    tags,
    backend,
    pill,
    lastSeen,
    ended,
    submitted,
    queue,
    run,
    progressCell,
    bar,
    pct,
    progressText,
    button,
    retry,
    note,
    key: null,
    row: null,
  };
}

/** The class of column `id`'s cells: `jw-c-<id>` (the Job ID column's is `jw-c-id`). */
export function columnClass(id) {
  return id === "job_id" ? "jw-c-id" : `jw-c-${id}`;
}

/** The time cells of `view`'s row at kernel time `t`. */
export function bindTimes(view, t) {
  setText(view.queue, formatDuration(queueTime(view.row, t)));
  setText(view.run, formatDuration(runTime(view.row, t)));
}

/**
 * Show `row` in `view`.
 *
 * @param {ReturnType<typeof createRowView>} view
 * @param {IRow} row
 * @param {object} at
 * @param {number} at.index       the row's position among the filtered rows
 * @param {number} at.t           the kernel's clock now
 * @param {boolean} at.selected   its details are open
 * @param {string} at.detailsId   the id of the details region
 * @param {object | undefined} at.local  the row's cancel state in the store, if any
 * @param {object | undefined} [at.retry]  the row's retry state in the store, if any
 * @param {boolean} [at.readonly]  a past job: no Cancel; the cell shows its notebook
 */
export function bindRow(view, row, { index, t, selected, detailsId, local, retry, readonly = false }) {
  view.key = row.key;
  view.row = row;
  const r = view.root;
  setAttr(r, "aria-rowindex", index + 2);
  r.classList.toggle("jw-selected", selected);
  setAttr(r, "aria-selected", String(selected));
  setAttr(r, "aria-controls", detailsId);
  const jobId = row.job_id == null ? "(no id yet)" : String(row.job_id);
  setText(view.idText, jobId);
  const tagList = Array.isArray(row.tags) ? row.tags.map(String) : [];
  setText(view.tags, tagList.join(" \u00B7 "));
  view.tags.hidden = tagList.length === 0;
  setAttr(view.id, "title", tagList.length ? `${jobId} \u2014 tags: ${tagList.join(", ")}` : jobId);
  const backend = row.backend == null ? "" : String(row.backend);
  setText(view.backend, backend);
  setAttr(view.backend, "title", backend);
  view.pill.update(row.status);
  setAttr(view.pill.root, "title", row.error ? String(row.error) : null);
  const ended = kernelEnded(row);
  view.pill.root.classList.toggle("jw-pill-ended", ended); // no activity spinner: nothing runs
  view.lastSeen.hidden = !ended;
  view.ended.hidden = !ended;
  setAttr(view.pill.root.parentNode, "title", ended ? statusText(row) : null);
  setText(view.submitted, formatTime(row.submitted_at));
  setAttr(view.submitted, "title", isoTime(row.submitted_at));
  bindTimes(view, t);
  const pct = formatProgress(row.progress);
  view.bar.hidden = pct === "";
  if (pct !== "") view.bar.value = Math.min(1, Math.max(0, row.progress));
  setText(view.pct, pct);
  const note = row.progress_text == null ? "" : String(row.progress_text);
  setText(view.progressText, note);
  setAttr(view.progressCell, "title", [pct, note].filter(Boolean).join(" \u00B7 ") || null);
  view.retry.hidden = true;
  if (readonly) {
    view.button.hidden = true;
    const notebook = row.notebook == null ? "" : String(row.notebook);
    setText(view.note, notebook);
    setAttr(view.note, "title", notebook || null);
    view.note.className = "jw-cancel-note jw-notebook";
    return;
  }
  if (row.can_retry === true || retry) {
    bindRetry(view, jobId, retry);
    return;
  }
  view.button.hidden = false;
  const c = cancelDisplay(row, local);
  view.button.disabled = c.disabled;
  setAttr(view.button, "aria-label", `Cancel job ${jobId}`);
  setText(view.note, c.text);
  setAttr(view.note, "title", c.text || null);
  view.note.className = c.kind ? `jw-cancel-note jw-note-${c.kind}` : "jw-cancel-note";
}

/** The Actions cell of a failed or cancelled job that can run again: Retry, and how the last one went. */
function bindRetry(view, jobId, retry) {
  view.button.hidden = true;
  view.retry.hidden = false;
  const state = retry?.state ?? "";
  view.retry.disabled = state === "retrying";
  setAttr(view.retry, "aria-label", `Retry job ${jobId}`);
  let text = "";
  if (state === "retrying") text = "retrying\u2026";
  else if (state === "failed") text = `could not retry: ${retry.message || "unknown reason"}`;
  else if (state === "done") text = `retried as ${retry.newJobId ?? "(no id yet)"}`;
  setText(view.note, text);
  setAttr(view.note, "title", text || null);
  view.note.className = state === "failed" ? "jw-cancel-note jw-note-failed" : state === "retrying" ? "jw-cancel-note jw-note-pending" : "jw-cancel-note";
}
