// The details of the selected row: every field of the row, its traceback, and its
// log: the live tail with a "Download log" button, or for past jobs the last lines kept.
//
// The region is rendered from the view's `selectedKey` and the store's row of
// that key; when the row is gone the region hides and the selection clears.
// The log's lines come from the store (`store.logs`, kept while some view
// follows the row); they are untrusted text, shown with textContent only. New
// lines are appended, the oldest removed past LOG_TAIL; the box follows the
// end unless the user scrolled up. A download asks the kernel for the whole
// kept log and saves the answer as a text file (a Blob), once per click.

import {
  formatClock,
  formatDuration,
  formatProgress,
  formatTime,
  isFinal,
  isoTime,
  queueTime,
  runTime,
  statusText,
} from "../model.js";
import { h, listen, setAttr, setText, uniqueId } from "../dom.js";
import { LOG_TAIL } from "../store.js";
import { saveFile } from "./export.js";

const DETAIL_FIELDS = [
  ["job_id", "Job ID"],
  ["backend", "Backend"],
  ["status", "Status"],
  ["created_at", "Created", "clock"],
  ["submitted_at", "Submitted", "clock"],
  ["started_at", "Started", "clock"],
  ["finished_at", "Finished", "clock"],
  ["queue", "Time in queue", "queue"],
  ["run", "Run time", "run"],
  ["progress", "Progress", "progress"],
  ["error", "Error"],
  ["cancel_state", "Cancel state"],
  ["cancel_message", "Cancel message"],
  // Past jobs (the History view) carry these too; live rows don't, and then
  // the fields are not shown.
  ["notebook", "Notebook", "optional"],
  ["kernel_id", "Kernel", "optional"],
  ["job_class", "Job class", "optional"],
  ["tags", "Tags", "optional"],
  // a job made by Retry (or job.resubmit()): a link to the row of the original
  ["resubmitted_from", "Retry of", "link"],
  ["updated_at", "Last update", "optional-clock"],
];

/** Fields that say nothing about a past job (the History view). */
const PAST_HIDES = new Set(["cancel_state", "cancel_message"]);

/** The text of one field of `row` at kernel time `t` (times: see `formatTime`). */
function fieldText(row, field, kind, t) {
  const value = row[field];
  if (kind === "clock" || kind === "optional-clock") {
    return formatTime(value);
  }
  if (Array.isArray(value)) return value.length ? value.map(String).join(", ") : "\u2014";
  if (kind === "queue") return formatDuration(queueTime(row, t));
  if (kind === "run") return formatDuration(runTime(row, t));
  if (kind === "progress") {
    const text = [formatProgress(value), row.progress_text ?? ""].filter(Boolean).join(" \u00B7 ");
    return text || "\u2014";
  }
  if (field === "status") return statusText(row);
  return value == null || value === "" ? "\u2014" : String(value);
}

/**
 * @param {object} view
 * @param {object} view.store   the model's row store
 * @param {ReturnType<typeof import("./state.js").createViewState>} view.state
 * @param {object} actions
 * @param {(key: string | null) => void} actions.toggleDetails  Close was clicked
 * @param {(key: string) => void} actions.downloadLog  ask the kernel for the whole log
 * @param {(jobId: string, backend: string) => void} [actions.showJob]  select and show the row of a job
 */
export function createDetails({ store, state }, actions) {
  const details = h("div", "jw-details");
  details.id = uniqueId("jw-details");
  details.hidden = true;
  details.setAttribute("role", "region");
  const detailsHead = h("div", "jw-details-head");
  const detailsTitle = h("span", "jw-details-title");
  const detailsClose = h("button", "jw-btn jw-btn-small", "Close");
  detailsClose.type = "button";
  detailsClose.setAttribute("aria-label", "Close job details");
  detailsHead.append(detailsTitle, detailsClose);
  const detailsList = h("dl", "jw-details-list");
  const detailValues = new Map();
  const detailTerms = new Map();
  const retryOf = h("button", "jw-link jw-retry-of", "retry of");
  retryOf.type = "button";
  for (const [field, label] of DETAIL_FIELDS) {
    const dt = h("dt", "", label);
    const dd = h("dd", "");
    if (field === "resubmitted_from") dd.appendChild(retryOf);
    detailsList.append(dt, dd);
    detailValues.set(field, dd);
    detailTerms.set(field, dt);
  }
  const tracebackLabel = h("div", "jw-details-label", "Traceback");
  const traceback = h("pre", "jw-traceback");
  // The last lines the job printed or logged (past jobs' records keep them).
  const tailLabel = h("div", "jw-details-label", "Log (last lines)");
  const tail = h("pre", "jw-traceback jw-log-tail");
    const logHead = h("div", "jw-log-head");
  const logLabel = h("span", "jw-details-label", "Log");
  const logMeta = h("span", "jw-log-meta");
  const download = h("button", "jw-btn jw-btn-small jw-log-download", "Download log");
  download.type = "button";
  logHead.append(logLabel, logMeta, download);
  const logBox = h("div", "jw-log");
  logBox.setAttribute("role", "log");
  logBox.tabIndex = 0;
  details.append(detailsHead, detailsList, tracebackLabel, traceback, tailLabel, tail, logHead, logBox);

  // What the log box shows: the key, the store's epoch and the lines up to `shownTotal`.
  let shown = { key: null, epoch: -1, total: 0 };
  let following = true; // the box sticks to its end until the user scrolls up
  let pendingDownload = null; // the key of a download asked for, until its answer

  function lineElement([time, stream, text]) {
    const s = String(stream);
    const kind = s === "stderr" || s === "ERROR" || s === "CRITICAL" ? " jw-log-err" : s === "WARNING" ? " jw-log-warn" : "";
    const line = h("div", `jw-log-line${kind}`);
    line.append(h("span", "jw-log-time", typeof time === "number" ? formatClock(time) : ""));
    if (s !== "stdout") line.append(h("span", "jw-log-stream", s));
    line.append(h("span", "jw-log-text", text == null ? "" : String(text)));
    return line;
  }

  function renderLog(row) {
    const key = row.key;
    const log = store.logs.get(key);
    const total = log ? log.total : Math.max(0, Number(row.log_lines) || 0);
    let meta;
    if (!log) meta = store.logs.has(key) ? "loading\u2026" : "";
    else if (total === 0) meta = "no output yet";
    else if (total > log.lines.length) meta = `last ${log.lines.length} of ${total.toLocaleString()} lines`;
    else meta = `${total.toLocaleString()} ${total === 1 ? "line" : "lines"}`;
    setText(logMeta, meta);
    setAttr(logBox, "aria-label", `Log of job ${row.job_id ?? "(no id yet)"}`);
    download.disabled = pendingDownload === key || total === 0;
    setText(download, pendingDownload === key ? "Preparing\u2026" : "Download log");
    if (!log) {
      if (shown.key !== key || shown.epoch !== -1) logBox.replaceChildren();
      shown = { key, epoch: -1, total: 0 };
      following = true;
      return;
    }
    if (shown.key !== key || shown.epoch !== log.epoch) {
      if (shown.key !== key) following = true;
      logBox.replaceChildren(...log.lines.map(lineElement));
    } else if (log.total > shown.total) {
      const first = log.lines.length - Math.min(log.lines.length, log.total - shown.total);
      for (let i = first; i < log.lines.length; i++) logBox.append(lineElement(log.lines[i]));
      while (logBox.childElementCount > LOG_TAIL) logBox.firstElementChild.remove();
    }
    shown = { key, epoch: log.epoch, total: log.total };
    if (following) logBox.scrollTop = logBox.scrollHeight;
  }

  function onLogScroll() {
    following = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 4;
  }

  /** The kernel answered a download: save it once, as a text file. */
  function logText(event) {
    if (event.key !== pendingDownload) return;
    pendingDownload = null;
    if (event.ok) {
      const name = logFileName(event.job_id ?? store.rows.get(event.key)?.job_id);
      saveFile(name, event.text, "text/plain;charset=utf-8");
    } else {
      console.warn(`jobwidgets: could not download the log: ${event.message}`);
    }
    render();
  }

  function render() {
    const row = state.selectedKey === null ? undefined : store.rows.get(state.selectedKey);
    if (!row) {
      details.hidden = true;
      if (state.selectedKey !== null) state.selectedKey = null;
      return;
    }
    details.hidden = false;
    const t = store.now();
    setText(detailsTitle, `Job ${row.job_id ?? "(no id yet)"}`);
    for (const [field, , kind] of DETAIL_FIELDS) {
      const shown =
        (kind === "link"
          ? row[field] != null
          : !kind?.startsWith("optional") || row[field] !== undefined) && !(state.readonly && PAST_HIDES.has(field));
      detailTerms.get(field).hidden = !shown;
      detailValues.get(field).hidden = !shown;
      if (!shown) continue;
      const dd = detailValues.get(field);
      if (kind === "link") {
        const origin = String(row[field]);
        setText(retryOf, `retry of ${origin}`);
        setAttr(retryOf, "title", `Show job ${origin}`);
        continue;
      }
      setText(dd, fieldText(row, field, kind, t));
      // times read "17:45:01" (with the date when not today); the exact value shows on hover
      if (kind === "clock" || kind === "optional-clock") setAttr(dd, "title", isoTime(row[field]));
    }
    const tb = row.traceback == null ? "" : String(row.traceback);
    tracebackLabel.hidden = tb === "";
    traceback.hidden = tb === "";
    setText(traceback, tb);
    // a past job's record keeps the last lines of its log; a live row follows its log
    const past = row.log_tail !== undefined;
    const kept = row.log_tail == null ? "" : String(row.log_tail);
    tailLabel.hidden = kept === "";
    tail.hidden = kept === "";
    setText(tail, kept);
    logHead.hidden = past;
    logBox.hidden = past;
    if (!past) renderLog(row);
  }

  /** Update the time fields of an open, unfinished row to the kernel time `t`. */
  function tick(t) {
    if (state.selectedKey === null) return;
    const row = store.rows.get(state.selectedKey);
    if (row && !isFinal(row.status) && !row.kernel_ended) {
      setText(detailValues.get("queue"), formatDuration(queueTime(row, t)));
      setText(detailValues.get("run"), formatDuration(runTime(row, t)));
    }
  }

  const offs = [
    listen(detailsClose, "click", () => actions.toggleDetails(state.selectedKey)),
    listen(retryOf, "click", () => {
      const row = state.selectedKey === null ? undefined : store.rows.get(state.selectedKey);
      if (row?.resubmitted_from != null) actions.showJob?.(String(row.resubmitted_from), row.backend);
    }),
    listen(logBox, "scroll", onLogScroll, { passive: true }),
    listen(download, "click", () => {
      const key = state.selectedKey;
      if (key === null || pendingDownload === key) return;
      pendingDownload = key;
      actions.downloadLog(key);
      render();
    }),
  ];

  return {
    element: details,
    /** The region's id, for the rows' `aria-controls`. */
    id: details.id,
    render,
    tick,
    logText,
    dispose() {
      for (const off of offs) off();
    },
  };
}

/** A safe file name for the log of job `jobId`: `job-<id>.log`. */
export function logFileName(jobId) {
  const id = String(jobId ?? "no-id").replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 100);
  return `job-${id}.log`;
}
