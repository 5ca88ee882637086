// The details of the selected row: every field of the row, its traceback and
// (for past jobs) the last lines of its log.
//
// The region is rendered from the view's `selectedKey` and the store's row of
// that key; when the row is gone the region hides and the selection clears.

import { formatClock, formatDuration, formatProgress, isFinal, queueTime, runTime, statusText } from "../model.js";
import { h, listen, setText, uniqueId } from "../dom.js";

const DETAIL_FIELDS = [
  ["key", "Key"],
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
  ["updated_at", "Last update", "optional-clock"],
];

/** Fields that say nothing about a past job (the History view). */
const PAST_HIDES = new Set(["key", "cancel_state", "cancel_message"]);

/** The text of one field of `row` at kernel time `t`. */
function fieldText(row, field, kind, t) {
  const value = row[field];
  if (kind === "clock" || kind === "optional-clock") {
    return value == null ? "\u2014" : `${formatClock(value)} (${value})`;
  }
  if (Array.isArray(value)) return value.length ? value.map(String).join(", ") : "\u2014";
  if (kind === "queue") return formatDuration(queueTime(row, t));
  if (kind === "run") return formatDuration(runTime(row, t));
  if (kind === "progress") return formatProgress(value) || "\u2014";
  if (field === "status") return statusText(row);
  return value == null || value === "" ? "\u2014" : String(value);
}

/**
 * @param {object} view
 * @param {object} view.store   the model's row store
 * @param {ReturnType<typeof import("./state.js").createViewState>} view.state
 * @param {object} actions
 * @param {(key: string | null) => void} actions.toggleDetails  Close was clicked
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
  for (const [field, label] of DETAIL_FIELDS) {
    const dt = h("dt", "", label);
    const dd = h("dd", "");
    detailsList.append(dt, dd);
    detailValues.set(field, dd);
    detailTerms.set(field, dt);
  }
  const tracebackLabel = h("div", "jw-details-label", "Traceback");
  const traceback = h("pre", "jw-traceback");
  // The last lines the job printed or logged (past jobs' records keep them).
  const logLabel = h("div", "jw-details-label", "Log (last lines)");
  const log = h("pre", "jw-traceback jw-log-tail");
  details.append(detailsHead, detailsList, tracebackLabel, traceback, logLabel, log);

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
        (!kind?.startsWith("optional") || row[field] !== undefined) && !(state.readonly && PAST_HIDES.has(field));
      detailTerms.get(field).hidden = !shown;
      detailValues.get(field).hidden = !shown;
      if (shown) setText(detailValues.get(field), fieldText(row, field, kind, t));
    }
    const tb = row.traceback == null ? "" : String(row.traceback);
    tracebackLabel.hidden = tb === "";
    traceback.hidden = tb === "";
    setText(traceback, tb);
    const tail = row.log_tail == null ? "" : String(row.log_tail);
    logLabel.hidden = tail === "";
    log.hidden = tail === "";
    setText(log, tail);
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

  const off = listen(detailsClose, "click", () => actions.toggleDetails(state.selectedKey));

  return {
    element: details,
    /** The region's id, for the rows' `aria-controls`. */
    id: details.id,
    render,
    tick,
    dispose: off,
  };
}
