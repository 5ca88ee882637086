// JobTable view (also the JobMonitor view, with `compact: true`).
//
// Synced traits: compact, title, kernel_time. Rows never travel as a
// trait: the kernel sends custom messages (see README.md):
//   {type: "reset", rows, kernel_time, model_id}   replace everything
//   {type: "delta", upsert, remove, kernel_time}
//   {type: "cancel_result", key, ok, message}
// and this view sends {type: "sync"} on render, {type: "cancel", keys},
// {type: "cancel_all"} and {type: "clear_finished"}.
//
// `initialize` (once per model, before any view) starts the model's row store
// (store.js), which receives those messages even while no view exists;
// `render` subscribes to it, so a view created later shows the rows at once.
//
// `model` is an anywidget model, or anything with the same small surface
// (`get`, `on`, `off`, `send`, optionally `widget_manager.kernel` and
// `model_id`): the JupyterLab job panel renders this view against an adapter
// over its own comm. `model.get("fill")` (not a JobTable trait) makes the
// body fill the height its container gives it instead of at most 360px.
//
// Rendering: rows live in the store's Map (key -> row). A sorted key list and a
// filtered key list are recomputed only when needed; the body is virtually
// scrolled (fixed row height, only visible rows + overscan exist in the DOM,
// a spacer gives the scroll height) and redrawn at most once per animation
// frame. One 1 s interval updates the time cells of the visible rows.

import {
  ROW_HEIGHT,
  STATUSES,
  STATUS_INFO,
  cancelDisplay,
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
import { cancelViaSubshell, createRoute, kernelOf, syncViaSubshell } from "./kernel_route.js";
import { acquireStore } from "./store.js";

const VIEWPORT_HEIGHT = 360;
/** With no kernel connection to ask, a cancel unanswered after this shows "waiting for kernel…". */
export const WAIT_NOTE_MS = 1500;
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

/**
 * anywidget calls this once per model, when the kernel opens the comm and
 * before any view renders: the row store starts listening here, so rows sent
 * before a view exists are kept. Returns the cleanup.
 */
function initialize({ model }) {
  const { release } = acquireStore(model);
  return release;
}

/** True when the kernel connection (if reachable) reports that the kernel is busy. */
function kernelBusy(model) {
  return kernelOf(model)?.status === "busy";
}

function render({ model, el }) {
  // ---------------------------------------------------------------- state
  // Rows, clock offset, model id and cancel states live in the model's store,
  // shared by every view of the model.
  const { store, release } = acquireStore(model);
  let sortedKeys = []; // all keys, in display order
  let viewKeys = []; // sortedKeys after the filter
  let counts = countByStatus([]);
  const sort = { column: null, direction: "asc" };
  const filter = { status: "", text: "" };
  let selectedKey = null;
  const now = () => store.now();
  // The kernel's id of this table: a synced trait of JobTable (there from the
  // comm's first state), else the id a `reset` carried (the JupyterLab panel).
  const feedId = () => {
    const id = model.get("feed_id");
    return typeof id === "string" && id !== "" ? id : store.modelId;
  };
  const route = createRoute();
  const waitTimers = new Set(); // "waiting for kernel…" timers of this view's cancel requests

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
  const fill = Boolean(model.get("fill"));
  root.classList.toggle("jw-fill", fill);

  function schedule() {
    if (frame === null && !disposed) frame = raf(flush);
  }

  function markAll() {
    dirty.order = dirty.filter = dirty.counts = dirty.all = dirty.details = true;
    schedule();
  }

  // ---------------------------------------------------------------- pipeline
  function flush() {
    frame = null;
    if (disposed) return;
    if (dirty.order) {
      const all = Array.from(store.rows.values());
      const sorted = sort.column ? sortRows(all, sort.column, sort.direction, now()) : all;
      sortedKeys = sorted.map((r) => r.key);
      dirty.order = false;
      dirty.filter = true;
    }
    if (dirty.filter) {
      if (!filter.status && !filter.text.trim()) {
        viewKeys = sortedKeys;
      } else {
        const candidates = sortedKeys.map((k) => store.rows.get(k));
        viewKeys = filterRows(candidates, filter).map((r) => r.key);
      }
      dirty.filter = false;
      dirty.all = true;
    }
    if (dirty.counts) {
      counts = countByStatus(store.rows.values());
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
    busyNote.hidden = !kernelBusy(model);
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
    if (fill) return Math.min(total * ROW_HEIGHT, scroller.clientHeight || VIEWPORT_HEIGHT);
    return compact() ? Math.min(total, COMPACT_ROWS) * ROW_HEIGHT : Math.min(total * ROW_HEIGHT, VIEWPORT_HEIGHT);
  }

  function renderBody() {
    const total = viewKeys.length;
    const height = viewportHeight(total);
    grid.hidden = store.rows.size === 0;
    empty.hidden = total > 0;
    setText(empty, store.rows.size === 0 ? "No jobs yet" : "No jobs match the filter");
    grid.setAttribute("aria-rowcount", String(total + 1));
    if (!fill) scroller.style.height = `${height}px`;
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
      bindRow(view, store.rows.get(key), range.start + i, t);
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
    const jobId = row.job_id == null ? "(no id yet)" : String(row.job_id);
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
    const c = cancelDisplay(row, store.local.get(row.key));
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
    const row = selectedKey === null ? undefined : store.rows.get(selectedKey);
    if (!row) {
      details.hidden = true;
      if (selectedKey !== null) selectedKey = null;
      return;
    }
    details.hidden = false;
    const t = now();
    setText(detailsTitle, `Job ${row.job_id ?? "(no id yet)"}`);
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
      const row = store.rows.get(selectedKey);
      if (row && !isFinal(row.status)) {
        setText(detailValues.get("queue"), formatDuration(queueTime(row, t)));
        setText(detailValues.get("run"), formatDuration(runTime(row, t)));
      }
    }
  }

  function activeKeys() {
    const keys = [];
    for (const row of store.rows.values()) if (!isFinal(row.status)) keys.push(row.key);
    return keys;
  }

  // ---------------------------------------------------------------- store events
  function onStoreEvent(event) {
    if (disposed) return;
    if (event.kind === "reset") {
      markAll();
      return;
    }
    if (event.kind === "delta") {
      const t = now();
      for (const { key, old, row } of event.changes) {
        if (!old) dirty.order = true;
        else if (sort.column && sortValue(old, sort.column, t) !== sortValue(row, sort.column, t)) dirty.order = true;
        changedKeys.add(key);
      }
      for (const key of event.removed) {
        dirty.order = true;
        changedKeys.add(key);
      }
      if (filter.status || filter.text.trim()) dirty.filter = true;
      dirty.counts = true;
    } else if (event.kind === "local") {
      for (const key of event.keys) changedKeys.add(key);
      if (selectedKey !== null) dirty.details = true;
    }
    schedule();
  }

  // ---------------------------------------------------------------- user actions
  function requestCancel(keys) {
    keys = keys.filter((k) => store.rows.has(k) && !isFinal(store.rows.get(k).status));
    if (keys.length === 0) return;
    model.send({ type: "cancel", keys });
    markCancelling(keys);
  }

  /** Keys of `keys` still shown as "cancelling…" become "waiting for kernel…". */
  function markWaiting(keys) {
    store.setLocal(
      keys.filter((key) => store.local.get(key)?.state === "cancelling"),
      { state: "waiting" },
    );
  }

  function markCancelling(keys) {
    store.setLocal(keys, { state: "cancelling" });
    const kernel = kernelOf(model);
    if (!kernel) {
      // No connection to ask whether the kernel is busy (VS Code, Notebook front
      // ends without widget_manager.kernel): if the kernel has not answered for a
      // key in a while, the request is probably queued behind a running cell.
      const mark = store.mark();
      const timer = setTimeout(() => {
        waitTimers.delete(timer);
        if (disposed) return;
        markWaiting(keys.filter((key) => !store.answeredSince(key, mark)));
      }, WAIT_NOTE_MS);
      waitTimers.add(timer);
    } else {
      // Also ask through a kernel subshell, whatever the kernel's status says: a
      // blocked main shell would hold the comm message until its cell ends, and the
      // connection's status is no proof (the subshell's own replies report "idle"
      // while the main shell still runs). A duplicate cancel is harmless.
      cancelViaSubshell(model, keys, route, feedId()).then((ok) => {
        if (!ok && !disposed) markWaiting(keys);
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
  const unsubscribe = store.subscribe(onStoreEvent);
  model.on("change:compact", onCompact);
  model.on("change:title", onTitle);

  // The "kernel busy" note follows the kernel's status when the connection
  // has a statusChanged signal (a Lumino signal in JupyterLab).
  const kernel = kernelOf(model);
  const statusChanged = kernel?.statusChanged;
  const canWatchStatus =
    statusChanged && typeof statusChanged.connect === "function" && typeof statusChanged.disconnect === "function";
  if (canWatchStatus) statusChanged.connect(onTitle);

  // In fill mode the body's height comes from the container: redraw when it changes.
  const resizeObserver =
    fill && typeof ResizeObserver === "function"
      ? new ResizeObserver(() => {
          dirty.all = true;
          schedule();
        })
      : null;
  resizeObserver?.observe(scroller);

  const interval = setInterval(tick, 1000);
  // Render what the store already holds (rows sent before this view existed).
  flush();
  // Ask the kernel for the rows: this is how a reloaded page restores.
  model.send({ type: "sync" });
  // A blocked main shell answers the comm only when the cell ends; a subshell
  // answers now.
  if (kernel && kernel.status === "busy") syncViaSubshell(model, route, feedId());

  return () => {
    disposed = true;
    for (const off of cleanups) off();
    unsubscribe();
    model.off("change:compact", onCompact);
    model.off("change:title", onTitle);
    if (canWatchStatus) statusChanged.disconnect(onTitle);
    for (const timer of waitTimers) clearTimeout(timer);
    waitTimers.clear();
    clearInterval(interval);
    resizeObserver?.disconnect();
    if (frame !== null) cancelRaf(frame);
    frame = null;
    route.dispose();
    root.remove();
    release();
  };
}

export default { initialize, render };
