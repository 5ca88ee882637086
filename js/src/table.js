// JobTable view (also the JobMonitor view, with `compact: true`).
//
// Synced traits: compact, title, kernel_time, busy. Rows never travel as a
// trait: the kernel sends custom messages (see README.md):
//   {type: "reset", rows, kernel_time}       replace everything
//   {type: "delta", upsert, remove, kernel_time}
//   {type: "cancel_result", key, ok, message}
// and this view sends {type: "sync"} on render, {type: "cancel", keys},
// {type: "cancel_all"} and {type: "clear_finished"}.
//
// Rendering: rows live in a Map (key -> row). A sorted key list and a
// filtered key list are recomputed only when needed; the body is virtually
// scrolled (fixed row height, only visible rows + overscan exist in the DOM,
// a spacer gives the scroll height) and redrawn at most once per animation
// frame. One 1 s interval updates the time cells of the visible rows.

import {
  ROW_HEIGHT,
  STATUSES,
  STATUS_INFO,
  cancelDisplay,
  clockOffset,
  countByStatus,
  filterRows,
  formatClock,
  formatDuration,
  formatProgress,
  isFinal,
  queueTime,
  runTime,
  sortRows,
  sortValue,
  statusInfo,
  visibleRange,
} from "./model.js";
import { createPill, h, listen, setAttr, setText, uniqueId } from "./dom.js";
import { cancelViaSubshell, createRoute, kernelOf } from "./kernel_route.js";

const VIEWPORT_HEIGHT = 360;
const COMPACT_ROWS = 8;
const OVERSCAN = 6;

const COLUMNS = [
  { id: "job_id", label: "Job ID", sort: "job_id" },
  { id: "backend", label: "Backend", sort: "backend" },
  { id: "status", label: "Status", sort: "status" },
  { id: "submitted", label: "Submitted", sort: "submitted_at" },
  { id: "queue", label: "Queue", sort: "queue" },
  { id: "run", label: "Run time", sort: "run" },
  { id: "progress", label: "Progress", sort: "progress" },
  { id: "actions", label: "Actions", sort: null },
];

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
];

const raf =
  typeof requestAnimationFrame === "function"
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16);
const cancelRaf =
  typeof cancelAnimationFrame === "function" ? (id) => cancelAnimationFrame(id) : (id) => clearTimeout(id);

/** One recycled row of the virtual body, with its cells. */
function createRowView() {
  const root = h("div", "jw-row");
  root.setAttribute("role", "row");
  root.tabIndex = 0;
  const cell = (cls) => {
    const c = h("div", `jw-cell ${cls}`);
    c.setAttribute("role", "cell");
    root.appendChild(c);
    return c;
  };
  const id = cell("jw-c-id");
  const backend = cell("jw-c-backend");
  const statusCell = cell("jw-c-status");
  const pill = createPill();
  statusCell.appendChild(pill.root);
  const submitted = cell("jw-c-submitted");
  const queue = cell("jw-c-queue");
  const run = cell("jw-c-run");
  const progressCell = cell("jw-c-progress");
  const bar = document.createElement("progress");
  bar.className = "jw-progress";
  bar.max = 1;
  const pct = h("span", "jw-pct");
  progressCell.append(bar, pct);
  const actions = cell("jw-c-actions");
  const button = h("button", "jw-btn jw-btn-small jw-cancel", "Cancel");
  button.type = "button";
  const note = h("span", "jw-cancel-note");
  actions.append(button, note);
  return { root, id, backend, pill, submitted, queue, run, bar, pct, button, note, key: null, row: null };
}

function render({ model, el }) {
  // ---------------------------------------------------------------- state
  /** @type {Map<string, object>} key -> row, in the kernel's order */
  let rows = new Map();
  let sortedKeys = []; // all keys, in display order
  let viewKeys = []; // sortedKeys after the filter
  let counts = countByStatus([]);
  const sort = { column: null, direction: "asc" };
  const filter = { status: "", text: "" };
  /** key -> {state: "cancelling" | "waiting" | "failed", message?} */
  const local = new Map();
  let selectedKey = null;
  let kernelModelId = null; // from a reset message; anywidget hides model_id
  let offset = clockOffset(model.get("kernel_time"), Date.now() / 1000);
  const now = () => Date.now() / 1000 - offset;
  const route = createRoute();

  const dirty = { order: true, filter: true, counts: true, all: true, details: true };
  const changedKeys = new Set();
  let frame = null;
  let disposed = false;

  // ---------------------------------------------------------------- DOM
  const root = h("div", "jw-table");
  el.classList.add("jw-root");
  el.appendChild(root);

  const header = h("div", "jw-header");
  const title = h("div", "jw-title");
  const chips = h("div", "jw-chips");
  chips.setAttribute("role", "group");
  chips.setAttribute("aria-label", "Jobs per status");
  const busyNote = h("span", "jw-busy-note", "kernel busy");
  busyNote.title = "The kernel is running a cell; cancel requests may wait for it.";
  header.append(title, chips, busyNote);

  const chipViews = new Map();
  for (const status of STATUSES) {
    const info = STATUS_INFO[status];
    const chip = h("button", `jw-chip ${info.cls}`);
    chip.type = "button";
    const icon = h("span", "jw-pill-icon", info.icon);
    icon.setAttribute("aria-hidden", "true");
    const label = h("span", "jw-chip-label", info.label);
    const count = h("span", "jw-chip-count", "0");
    chip.append(icon, label, count);
    chip.hidden = true;
    chips.appendChild(chip);
    chipViews.set(status, { chip, count });
  }

  const toolbar = h("div", "jw-toolbar");
  const textInput = h("input", "jw-input jw-filter-text");
  textInput.type = "search";
  textInput.placeholder = "Filter by id, backend, error";
  textInput.setAttribute("aria-label", "Filter jobs by id, backend or error");
  const statusSelect = h("select", "jw-input jw-filter-status");
  statusSelect.setAttribute("aria-label", "Filter jobs by status");
  statusSelect.appendChild(new Option("All statuses", ""));
  for (const status of STATUSES) statusSelect.appendChild(new Option(STATUS_INFO[status].label, status));
  const cancelAllBtn = h("button", "jw-btn jw-btn-danger", "Cancel all");
  cancelAllBtn.type = "button";
  const clearBtn = h("button", "jw-btn", "Clear finished");
  clearBtn.type = "button";
  toolbar.append(textInput, statusSelect, cancelAllBtn, clearBtn);

  const confirm = h("div", "jw-confirm");
  confirm.setAttribute("role", "group");
  confirm.hidden = true;
  const confirmText = h("span", "jw-confirm-text");
  const confirmYes = h("button", "jw-btn jw-btn-danger", "Yes");
  confirmYes.type = "button";
  const confirmNo = h("button", "jw-btn", "No");
  confirmNo.type = "button";
  confirm.append(confirmText, confirmYes, confirmNo);
  confirm.setAttribute("aria-label", "Confirm cancelling all jobs");

  const grid = h("div", "jw-grid");
  grid.setAttribute("role", "table");
  const gridInner = h("div", "jw-grid-inner");
  const head = h("div", "jw-row jw-head");
  head.setAttribute("role", "row");
  head.setAttribute("aria-rowindex", "1");
  const headCells = new Map();
  for (const col of COLUMNS) {
    const cellEl = h("div", `jw-cell jw-c-${col.id === "job_id" ? "id" : col.id}`);
    cellEl.setAttribute("role", "columnheader");
    if (col.sort) {
      const btn = h("button", "jw-sort");
      btn.type = "button";
      const label = h("span", "", col.label);
      const arrow = h("span", "jw-sort-arrow");
      arrow.setAttribute("aria-hidden", "true");
      btn.append(label, arrow);
      btn.title = `Sort by ${col.label}`;
      cellEl.appendChild(btn);
      cellEl.setAttribute("aria-sort", "none");
      headCells.set(col.sort, { cellEl, btn, arrow });
    } else {
      cellEl.textContent = col.label;
    }
    head.appendChild(cellEl);
  }
  const scroller = h("div", "jw-scroll");
  const spacer = h("div", "jw-spacer");
  const body = h("div", "jw-body");
  body.setAttribute("role", "rowgroup");
  spacer.appendChild(body);
  scroller.appendChild(spacer);
  gridInner.append(head, scroller);
  grid.appendChild(gridInner);

  const empty = h("div", "jw-empty", "No jobs yet");

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
  for (const [field, label] of DETAIL_FIELDS) {
    const dt = h("dt", "", label);
    const dd = h("dd", "");
    detailsList.append(dt, dd);
    detailValues.set(field, dd);
  }
  const tracebackLabel = h("div", "jw-details-label", "Traceback");
  const traceback = h("pre", "jw-traceback");
  details.append(detailsHead, detailsList, tracebackLabel, traceback);

  root.append(header, toolbar, confirm, grid, empty, details);

  /** @type {ReturnType<typeof createRowView>[]} */
  const pool = [];
  const viewOfElement = new WeakMap();
  let rendered = { start: 0, end: 0 };
  const renderedKeys = new Set();

  // ---------------------------------------------------------------- helpers
  const compact = () => Boolean(model.get("compact"));

  function schedule() {
    if (frame === null && !disposed) frame = raf(flush);
  }

  function markAll() {
    dirty.order = dirty.filter = dirty.counts = dirty.all = dirty.details = true;
    schedule();
  }

  function updateOffset(kernelTime) {
    if (typeof kernelTime === "number") offset = clockOffset(kernelTime, Date.now() / 1000);
  }

  // ---------------------------------------------------------------- pipeline
  function flush() {
    frame = null;
    if (disposed) return;
    if (dirty.order) {
      const all = Array.from(rows.values());
      const sorted = sort.column ? sortRows(all, sort.column, sort.direction, now()) : all;
      sortedKeys = sorted.map((r) => r.key);
      dirty.order = false;
      dirty.filter = true;
    }
    if (dirty.filter) {
      if (!filter.status && !filter.text.trim()) {
        viewKeys = sortedKeys;
      } else {
        const candidates = sortedKeys.map((k) => rows.get(k));
        viewKeys = filterRows(candidates, filter).map((r) => r.key);
      }
      dirty.filter = false;
      dirty.all = true;
    }
    if (dirty.counts) {
      counts = countByStatus(rows.values());
      renderHeader();
      dirty.counts = false;
    }
    let needRows = dirty.all;
    if (!needRows) {
      for (const key of changedKeys) {
        if (renderedKeys.has(key)) {
          needRows = true;
          break;
        }
      }
    }
    if (selectedKey !== null && changedKeys.has(selectedKey)) dirty.details = true;
    changedKeys.clear();
    if (needRows) renderBody();
    dirty.all = false;
    if (dirty.details) renderDetails();
    dirty.details = false;
  }

  function renderHeader() {
    const isCompact = compact();
    root.classList.toggle("jw-compact", isCompact);
    toolbar.hidden = isCompact;
    if (isCompact) confirm.hidden = true;
    const titleText = model.get("title") ?? "";
    setText(title, titleText);
    title.hidden = !titleText;
    busyNote.hidden = !model.get("busy");
    for (const status of STATUSES) {
      const { chip, count } = chipViews.get(status);
      const n = counts[status];
      const selected = filter.status === status;
      chip.hidden = n === 0 && !selected;
      setText(count, n);
      chip.disabled = isCompact;
      chip.classList.toggle("jw-chip-static", isCompact);
      setAttr(chip, "aria-pressed", isCompact ? null : String(selected));
      setAttr(
        chip,
        "title",
        isCompact ? `${n} ${STATUS_INFO[status].label}` : selected ? "Show all statuses" : `Show only ${STATUS_INFO[status].label} jobs`,
      );
    }
    const active = activeKeys().length;
    const finished = counts.CANCELLED + counts.DONE + counts.ERROR;
    cancelAllBtn.disabled = active === 0;
    clearBtn.disabled = finished === 0;
    if (!confirm.hidden) {
      if (active === 0) confirm.hidden = true;
      else setText(confirmText, `Cancel ${active} ${active === 1 ? "job" : "jobs"}?`);
    }
    for (const [column, { cellEl, arrow }] of headCells) {
      const on = sort.column === column;
      setAttr(cellEl, "aria-sort", on ? (sort.direction === "asc" ? "ascending" : "descending") : "none");
      setText(arrow, on ? (sort.direction === "asc" ? "\u25B2" : "\u25BC") : "");
    }
    if (statusSelect.value !== filter.status) statusSelect.value = filter.status;
  }

  function viewportHeight(total) {
    return compact() ? Math.min(total, COMPACT_ROWS) * ROW_HEIGHT : Math.min(total * ROW_HEIGHT, VIEWPORT_HEIGHT);
  }

  function renderBody() {
    const total = viewKeys.length;
    const height = viewportHeight(total);
    grid.hidden = rows.size === 0;
    empty.hidden = total > 0;
    setText(empty, rows.size === 0 ? "No jobs yet" : "No jobs match the filter");
    grid.setAttribute("aria-rowcount", String(total + 1));
    scroller.style.height = `${height}px`;
    spacer.style.height = `${total * ROW_HEIGHT}px`;
    // Clamp a scroll position left over from a longer list.
    const maxTop = Math.max(0, total * ROW_HEIGHT - height);
    if (scroller.scrollTop > maxTop) scroller.scrollTop = maxTop;
    const range = visibleRange(scroller.scrollTop, height, ROW_HEIGHT, total, OVERSCAN);
    rendered = range;
    body.style.transform = `translateY(${range.start * ROW_HEIGHT}px)`;
    const count = range.end - range.start;
    while (pool.length < count) {
      const view = createRowView();
      viewOfElement.set(view.root, view);
      pool.push(view);
    }
    renderedKeys.clear();
    const t = now();
    for (let i = 0; i < count; i++) {
      const view = pool[i];
      const key = viewKeys[range.start + i];
      renderedKeys.add(key);
      bindRow(view, rows.get(key), range.start + i, t);
      if (view.root.parentNode !== body) body.appendChild(view.root);
    }
    for (let i = count; i < pool.length; i++) {
      if (pool[i].root.parentNode) pool[i].root.remove();
      pool[i].key = null;
      pool[i].row = null;
    }
  }

  function bindRow(view, row, index, t) {
    view.key = row.key;
    view.row = row;
    const r = view.root;
    setAttr(r, "aria-rowindex", index + 2);
    const selected = row.key === selectedKey;
    r.classList.toggle("jw-selected", selected);
    setAttr(r, "aria-selected", String(selected));
    setAttr(r, "aria-controls", details.id);
    const jobId = row.job_id == null ? "" : String(row.job_id);
    setText(view.id, jobId);
    setAttr(view.id, "title", jobId);
    const backend = row.backend == null ? "" : String(row.backend);
    setText(view.backend, backend);
    setAttr(view.backend, "title", backend);
    view.pill.update(row.status);
    setAttr(view.pill.root, "title", row.error ? String(row.error) : null);
    setText(view.submitted, formatClock(row.submitted_at));
    bindTimes(view, t);
    const pct = formatProgress(row.progress);
    view.bar.hidden = pct === "";
    if (pct !== "") view.bar.value = Math.min(1, Math.max(0, row.progress));
    setText(view.pct, pct);
    const c = cancelDisplay(row, local.get(row.key));
    view.button.disabled = c.disabled;
    setAttr(view.button, "aria-label", `Cancel job ${jobId}`);
    setText(view.note, c.text);
    setAttr(view.note, "title", c.text || null);
    view.note.className = c.kind ? `jw-cancel-note jw-note-${c.kind}` : "jw-cancel-note";
  }

  function bindTimes(view, t) {
    setText(view.queue, formatDuration(queueTime(view.row, t)));
    setText(view.run, formatDuration(runTime(view.row, t)));
  }

  function renderDetails() {
    const row = selectedKey === null ? undefined : rows.get(selectedKey);
    if (!row) {
      details.hidden = true;
      if (selectedKey !== null) selectedKey = null;
      return;
    }
    details.hidden = false;
    const t = now();
    setText(detailsTitle, `Job ${row.job_id ?? ""}`);
    for (const [field, , kind] of DETAIL_FIELDS) {
      let text;
      const value = row[field];
      if (kind === "clock") text = value == null ? "\u2014" : `${formatClock(value)} (${value})`;
      else if (kind === "queue") text = formatDuration(queueTime(row, t));
      else if (kind === "run") text = formatDuration(runTime(row, t));
      else if (kind === "progress") text = formatProgress(value) || "\u2014";
      else if (field === "status") text = statusInfo(value).label === "UNKNOWN" ? String(value) : statusInfo(value).label;
      else text = value == null || value === "" ? "\u2014" : String(value);
      setText(detailValues.get(field), text);
    }
    const tb = row.traceback == null ? "" : String(row.traceback);
    tracebackLabel.hidden = tb === "";
    traceback.hidden = tb === "";
    setText(traceback, tb);
  }

  function tick() {
    const t = now();
    for (let i = 0; i < rendered.end - rendered.start; i++) {
      const view = pool[i];
      if (view && view.row && !isFinal(view.row.status)) bindTimes(view, t);
    }
    if (selectedKey !== null) {
      const row = rows.get(selectedKey);
      if (row && !isFinal(row.status)) {
        setText(detailValues.get("queue"), formatDuration(queueTime(row, t)));
        setText(detailValues.get("run"), formatDuration(runTime(row, t)));
      }
    }
  }

  function activeKeys() {
    const keys = [];
    for (const row of rows.values()) if (!isFinal(row.status)) keys.push(row.key);
    return keys;
  }

  // ---------------------------------------------------------------- kernel messages
  function onMessage(content) {
    if (!content || typeof content !== "object") return;
    updateOffset(content.kernel_time);
    if (content.type === "reset") onReset(content);
    else if (content.type === "delta") onDelta(content);
    else if (content.type === "cancel_result") onCancelResult(content);
  }

  function onReset(content) {
    if (typeof content.model_id === "string") kernelModelId = content.model_id;
    const next = new Map();
    for (const row of Array.isArray(content.rows) ? content.rows : []) {
      if (row && typeof row.key === "string") next.set(row.key, row);
    }
    // Keep a pending local cancel state only for rows that did not change status.
    for (const [key, entry] of local) {
      const old = rows.get(key);
      const row = next.get(key);
      if (!row || !old || row.status !== old.status || entry.state === "failed") local.delete(key);
    }
    rows = next;
    markAll();
  }

  function onDelta(content) {
    const upsert = Array.isArray(content.upsert) ? content.upsert : [];
    const remove = Array.isArray(content.remove) ? content.remove : [];
    const t = now();
    for (const row of upsert) {
      if (!row || typeof row.key !== "string") continue;
      const old = rows.get(row.key);
      if (!old) {
        dirty.order = true;
      } else {
        if (sort.column && sortValue(old, sort.column, t) !== sortValue(row, sort.column, t)) dirty.order = true;
        // The kernel answered for this row: its state replaces ours.
        if (old.status !== row.status || old.cancel_state !== row.cancel_state) local.delete(row.key);
      }
      rows.set(row.key, row);
      changedKeys.add(row.key);
    }
    for (const key of remove) {
      if (rows.delete(key)) {
        dirty.order = true;
        changedKeys.add(key);
        local.delete(key);
      }
    }
    if (changedKeys.size === 0) return;
    if (filter.status || filter.text.trim()) dirty.filter = true;
    dirty.counts = true;
    schedule();
  }

  function onCancelResult(content) {
    const key = content.key;
    if (typeof key !== "string") return;
    const row = rows.get(key);
    if (!row) {
      local.delete(key);
      return;
    }
    if (content.ok) {
      // Accepted: keep "cancelling…" until the status change arrives.
      if (isFinal(row.status)) local.delete(key);
      else local.set(key, { state: "cancelling" });
    } else {
      local.set(key, { state: "failed", message: content.message ?? "" });
    }
    changedKeys.add(key);
    schedule();
  }

  // ---------------------------------------------------------------- user actions
  function requestCancel(keys) {
    keys = keys.filter((k) => rows.has(k) && !isFinal(rows.get(k).status));
    if (keys.length === 0) return;
    model.send({ type: "cancel", keys });
    markCancelling(keys);
  }

  function markCancelling(keys) {
    const busy = Boolean(model.get("busy"));
    const kernel = busy ? kernelOf(model) : null;
    // Busy with no reachable kernel connection: the request waits in the comm queue.
    const state = busy && !kernel ? "waiting" : "cancelling";
    for (const key of keys) {
      local.set(key, { state });
      changedKeys.add(key);
    }
    if (selectedKey !== null) dirty.details = true;
    schedule();
    if (kernel) {
      cancelViaSubshell(model, keys, route, kernelModelId).then((ok) => {
        if (ok || disposed) return;
        for (const key of keys) {
          if (local.get(key)?.state === "cancelling") {
            local.set(key, { state: "waiting" });
            changedKeys.add(key);
          }
        }
        schedule();
      });
    }
  }

  function toggleDetails(key) {
    selectedKey = selectedKey === key ? null : key;
    dirty.all = true;
    dirty.details = true;
    schedule();
  }

  function onBodyClick(event) {
    const rowEl = event.target.closest?.(".jw-row");
    const view = rowEl && viewOfElement.get(rowEl);
    if (!view || view.key === null) return;
    if (event.target.closest(".jw-cancel")) {
      requestCancel([view.key]);
      return;
    }
    if (event.target.closest("button, a, input, select")) return;
    toggleDetails(view.key);
  }

  function onBodyKey(event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    const rowEl = event.target;
    if (!rowEl.classList?.contains("jw-row")) return; // keys on the button act on the button
    const view = viewOfElement.get(rowEl);
    if (!view || view.key === null) return;
    event.preventDefault();
    toggleDetails(view.key);
  }

  function onSortClick(event) {
    for (const [column, { btn }] of headCells) {
      if (btn.contains(event.target)) {
        if (sort.column === column) sort.direction = sort.direction === "asc" ? "desc" : "asc";
        else {
          sort.column = column;
          sort.direction = "asc";
        }
        dirty.order = true;
        dirty.counts = true; // redraws the arrows
        schedule();
        return;
      }
    }
  }

  function setStatusFilter(status) {
    filter.status = status;
    dirty.filter = true;
    dirty.counts = true;
    scroller.scrollTop = 0;
    schedule();
  }

  function onChipClick(event) {
    for (const [status, { chip }] of chipViews) {
      if (chip.contains(event.target)) {
        setStatusFilter(filter.status === status ? "" : status);
        return;
      }
    }
  }

  function showConfirm(show) {
    confirm.hidden = !show;
    if (show) {
      dirty.counts = true; // fills in the count
      flush();
      confirmNo.focus();
    }
  }

  // ---------------------------------------------------------------- wiring
  const cleanups = [
    listen(body, "click", onBodyClick),
    listen(body, "keydown", onBodyKey),
    listen(head, "click", onSortClick),
    listen(chips, "click", onChipClick),
    listen(scroller, "scroll", () => {
      dirty.all = true;
      schedule();
    }, { passive: true }),
    listen(textInput, "input", () => {
      filter.text = textInput.value;
      dirty.filter = true;
      scroller.scrollTop = 0;
      schedule();
    }),
    listen(statusSelect, "change", () => setStatusFilter(statusSelect.value)),
    listen(cancelAllBtn, "click", () => showConfirm(true)),
    listen(confirmNo, "click", () => {
      showConfirm(false);
      cancelAllBtn.focus();
    }),
    listen(confirm, "keydown", (e) => {
      if (e.key === "Escape") {
        showConfirm(false);
        cancelAllBtn.focus();
      }
    }),
    listen(confirmYes, "click", () => {
      const keys = activeKeys();
      showConfirm(false);
      if (keys.length === 0) return;
      model.send({ type: "cancel_all" });
      markCancelling(keys);
    }),
    listen(clearBtn, "click", () => model.send({ type: "clear_finished" })),
    listen(detailsClose, "click", () => toggleDetails(selectedKey)),
  ];

  const onCompact = () => markAll();
  const onTitle = () => {
    dirty.counts = true;
    schedule();
  };
  const onKernelTime = () => updateOffset(model.get("kernel_time"));
  model.on("msg:custom", onMessage);
  model.on("change:compact", onCompact);
  model.on("change:title", onTitle);
  model.on("change:busy", onTitle);
  model.on("change:kernel_time", onKernelTime);

  const interval = setInterval(tick, 1000);
  flush();
  // Ask the kernel for the rows: this is how a reloaded page restores.
  model.send({ type: "sync" });

  return () => {
    disposed = true;
    for (const off of cleanups) off();
    model.off("msg:custom", onMessage);
    model.off("change:compact", onCompact);
    model.off("change:title", onTitle);
    model.off("change:busy", onTitle);
    model.off("change:kernel_time", onKernelTime);
    clearInterval(interval);
    if (frame !== null) cancelRaf(frame);
    frame = null;
    route.dispose();
    root.remove();
  };
}

export default { render };
