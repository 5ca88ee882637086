// JobTable view (also the JobMonitor view, with `compact: true`).
//
// Synced traits: compact, title, feed_id. Rows never travel as a trait: the
// kernel sends custom messages (see README.md), `reset`, `delta` and
// `cancel_result`, each with the kernel's clock as `kernel_time`; this view
// sends {type: "sync"} on render (unless the store has had a reset), {type: "cancel", keys}, {type: "cancel_all"},
// {type: "clear_finished"}, {type: "logs", key, open} while a row's details are
// open (the kernel then sends the row's new log lines with its deltas) and
// {type: "log_text", key} for "Download log" (answered by `log_text`).
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
// `model.get("readonly")` and `model.get("remote_filter")` (the panel's History
// view) show past jobs: no Cancel buttons, a Notebook column instead of
// Actions, no status chips, and the search box and status filter sent to the
// model as {type: "filter", status, text} instead of filtering here.
//
// A view is made of the parts in table/: the header, toolbar and confirm
// (header.js), the virtual body and its row pool (body.js), the details
// (details.js), the column widths and layout (columns.js), the cancel and retry
// flow with its kernel route (cancel.js), the tag filter, grouping and export
// (tools.js, groups.js, export.js). They
// share the view's state (table/state.js); this module wires them, and renders
// the parts whose dirty flags are set at most once per animation frame. One
// 1 s interval updates the time cells of the visible rows. The live region
// (table/announce.js) tells screen readers, at most every few seconds, how many
// jobs are in each state and which failed.
//
// Keys pressed in the table are the table's, so ArrowDown in the status filter
// changes the filter and not the notebook's active cell. JupyterLab's command
// registry (Lumino) handles keydown on the document, in the bubble phase, and
// skips a binding when `data-lm-suppress-shortcuts` is on the target or on an
// ancestor below the element its selector matches; but a command-mode selector
// like `.jp-Notebook.jp-mod-commandMode :focus` matches our focused select
// itself. So the root also stops unmodified keydowns from bubbling out of the
// table (with Ctrl, Alt or Meta they go on: Ctrl+S still saves). The grid's keys
// are in table/focus.js.

import { countByStatus, sortValue } from "./model.js";
import { h } from "./dom.js";
import { kernelOf, watchMainShell } from "./kernel_route.js";
import { acquireStore } from "./store.js";
import { createAnnouncer } from "./table/announce.js";
import { createBody } from "./table/body.js";
import { createCancelFlow } from "./table/cancel.js";
import { createColumns } from "./table/columns.js";
import { createDetails } from "./table/details.js";
import { createHeader } from "./table/header.js";
import { createTimeline } from "./table/timeline.js";
import { createTools } from "./table/tools.js";
import { createViewState, filterKeys, isFiltering, markAll, orderKeys } from "./table/state.js";

export { WAIT_NOTE_MS } from "./table/cancel.js";

const raf =
  typeof requestAnimationFrame === "function"
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16);
const cancelRaf =
  typeof cancelAnimationFrame === "function" ? (id) => cancelAnimationFrame(id) : (id) => clearTimeout(id);

/**
 * anywidget calls this once per model, when the kernel opens the comm and
 * before any view renders: the row store starts listening here, so rows sent
 * before a view exists are kept. Returns the cleanup.
 */
function initialize({ model }) {
  const { release } = acquireStore(model);
  return release;
}

function render({ model, el }) {
  // Rows, clock offset, model id and cancel states live in the model's store,
  // shared by every view of the model; sort, filter, selection and the dirty
  // flags are this view's.
  const { store, release } = acquireStore(model);
  const state = createViewState();
  // The History view (labextension/src/history*.ts): read-only rows, filtered
  // by the server; the filter goes to the model as {type: "filter", status, text}.
  state.readonly = Boolean(model.get("readonly"));
  state.remoteFilter = Boolean(model.get("remote_filter"));
  const { dirty } = state;
  const fill = Boolean(model.get("fill"));
  const view = { model, store, state, fill };
  let frame = null;
  let disposed = false;

  function schedule() {
    if (frame === null && !disposed) frame = raf(flush);
  }

  function toggleDetails(key) {
    const closing = state.selectedKey !== null && state.selectedKey === key;
    // Closed from inside the details (its Close button, Escape): focus returns to the row.
    const returnFocus = closing && details.element.contains(details.element.ownerDocument.activeElement);
    state.selectedKey = closing ? null : key;
    dirty.body = true;
    dirty.details = true;
    if (returnFocus) {
      flush();
      body.focusRow(key);
    } else schedule();
  }

  /** Escape: close the details and put the keyboard back on the row that opened them. */
  function closeDetails() {
    const key = state.selectedKey;
    if (key === null) return;
    state.selectedKey = null;
    dirty.body = true;
    dirty.details = true;
    flush();
    body.focusRow(key);
  }

  const requests = createCancelFlow(model, store);
  const header = createHeader(view, {
    filterChanged() {
      body.scrollToTop();
      timeline.scrollToTop();
      schedule();
    },
    cancelAll() {
      requests.cancelAll();
      // the confirm closed and Cancel all turns disabled: the keyboard goes to the rows
      body.focusRow(state.focusKey);
    },
    flush: () => flush(),
  });
  const tools = createTools(view, {
    filterChanged() {
      dirty.header = true;
      body.scrollToTop();
      schedule();
    },
  });
  header.toolbar.append(...tools.elements);

  /** Select the row of job `jobId` (of `backend`, if it has that row) and scroll to it. */
  function showJob(jobId, backend) {
    let key = null;
    for (const row of store.rows.values()) {
      if (row.job_id !== jobId) continue;
      key = row.key;
      if (row.backend === backend) break;
    }
    if (key === null) return;
    if (!state.viewKeys.includes(key)) {
      // filtered out: show every row again
      Object.assign(state.filter, { status: "", text: "", tag: "" });
      dirty.header = true;
    }
    state.collapsed.clear();
    dirty.filter = true;
    state.selectedKey = key;
    dirty.body = true;
    dirty.details = true;
    flush();
    const index = state.items.indexOf(key);
    if (index >= 0) body.scrollToIndex(index);
    dirty.body = true;
    flush();
  }
  const details = createDetails(view, {
    toggleDetails,
    downloadLog: (key) => requests.downloadLog(key),
    showJob,
  });

  // The row whose log this view follows: the selected one. The store counts the
  // views following a row; the kernel hears of the first and of the last.
  let followedKey = null;
  function followSelected() {
    const want = state.selectedKey;
    if (want === followedKey) return;
    if (followedKey !== null && store.unfollow(followedKey)) requests.followLog(followedKey, false);
    followedKey = want;
    if (want !== null && store.follow(want)) requests.followLog(want, true);
  }
  const body = createBody(view, details.id, {
    toggleDetails,
    closeDetails,
    cancel: (keys) => requests.cancel(keys),
    retry: (key) => requests.retry(key),
    toggleGroup(group) {
      if (state.collapsed.has(group)) state.collapsed.delete(group);
      else state.collapsed.add(group);
      dirty.filter = true;
      schedule();
    },
    sortChanged() {
      dirty.order = true;
      dirty.header = true; // redraws the arrows
      schedule();
    },
    scrolled() {
      dirty.body = true;
      schedule();
    },
  });

  // The Timeline view mode: the same rows, filter and details, on a time axis.
  const timeline = createTimeline(view, details.id, {
    toggleDetails,
    schedule,
    modeChanged(on) {
      for (const el of body.elements) el.classList.toggle("jw-off", on);
      dirty.body = true;
      schedule();
    },
  });
  header.elements[0].append(timeline.toggle);

  // The live region: past jobs (the History view) are not news.
  const announcer = state.readonly ? null : createAnnouncer(() => countByStatus(store.rows.values()));

  const root = h("div", "jw-table");
  root.classList.toggle("jw-fill", fill);
  root.setAttribute("data-lm-suppress-shortcuts", "");
  root.append(...header.elements, ...body.elements, timeline.element, details.element);
  if (announcer) root.append(announcer.element);
  el.classList.add("jw-root");
  el.appendChild(root);
  const columns = createColumns(view, { root, inner: body.inner, heads: body.heads }, () => {
    dirty.body = true; // the rows' height changed
    schedule();
  });

  /** Render what the dirty flags name, in their order (see table/state.js). */
  function flush() {
    frame = null;
    if (disposed) return;
    const rowsChanged = dirty.order || dirty.filter || state.changedKeys.size > 0;
    // rows re-sorted or re-filtered: the body keeps the keyboard's job in view
    const moved = dirty.order || dirty.filter;
    if (dirty.order) {
      orderKeys(state, store.rows, store.now());
      dirty.order = false;
      dirty.filter = true;
    }
    if (dirty.filter) {
      filterKeys(state, store.rows);
      dirty.filter = false;
      dirty.body = true;
    }
    if (dirty.header) {
      columns.rowsChanged(); // every change of rows or cancel states marks the header
      state.counts = countByStatus(store.rows.values());
      root.classList.toggle("jw-compact", Boolean(model.get("compact")));
      header.render();
      tools.render();
      body.renderSort();
      dirty.header = false;
    }
    const renderBody = dirty.body || body.showsAny(state.changedKeys);
    if (state.selectedKey !== null && state.changedKeys.has(state.selectedKey)) dirty.details = true;
    state.changedKeys.clear();
    // The timeline draws every change (a row out of view moves its time range).
    if (timeline.active) timeline.render(rowsChanged || dirty.body, rowsChanged);
    else if (renderBody) body.render({ followFocus: moved });
    dirty.body = false;
    if (dirty.details) {
      followSelected();
      details.render();
      followSelected(); // the row may be gone
    }
    dirty.details = false;
  }

  function onStoreEvent(event) {
    if (disposed) return;
    if (event.kind === "reset") {
      markAll(state);
      announcer?.baseline();
      // a reset ends the kernel's following of logs (a reloaded page follows none)
      if (followedKey !== null) requests.followLog(followedKey, true);
    } else if (event.kind === "delta") {
      const t = store.now();
      const column = state.sort.column;
      let changed = event.removed.length > 0;
      for (const { key, old, row } of event.changes) {
        if (!old || old.status !== row.status) {
          changed = true;
          if (row.status === "ERROR") announcer?.failed(row.job_id, row.error);
        }
        if (!old) dirty.order = true;
        else if (column && sortValue(old, column, t) !== sortValue(row, column, t)) dirty.order = true;
        state.changedKeys.add(key);
      }
      for (const key of event.removed) {
        dirty.order = true;
        state.changedKeys.add(key);
      }
      if (isFiltering(state) || state.groupBy) dirty.filter = true; // groups count statuses
      dirty.header = true;
      if (changed) announcer?.changed();
    } else if (event.kind === "logs") {
      if (state.selectedKey !== null && event.keys.includes(state.selectedKey)) dirty.details = true;
    } else if (event.kind === "log_text") {
      details.logText(event);
      return;
    } else if (event.kind === "local") {
      for (const key of event.keys) state.changedKeys.add(key);
      columns.rowsChanged(); // a cancel note may need room
      if (state.selectedKey !== null) dirty.details = true;
    }
    schedule();
  }

  const onCompact = () => {
    markAll(state);
    schedule();
  };
  const onTitle = () => {
    dirty.header = true;
    schedule();
  };
  const onDetailsKey = (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      closeDetails();
    }
  };
  details.element.addEventListener("keydown", onDetailsKey);
  const onRootKey = (event) => {
    if (!event.ctrlKey && !event.altKey && !event.metaKey) event.stopPropagation();
  };
  root.addEventListener("keydown", onRootKey);
  const unsubscribe = store.subscribe(onStoreEvent);
  announcer?.baseline();
  model.on("change:compact", onCompact);
  model.on("change:title", onTitle);

  // The "kernel busy" note follows the main shell (see kernel_route.js).
  const unwatchShell = watchMainShell(kernelOf(model), onTitle);

  const interval = setInterval(() => {
    const t = store.now();
    body.tick(t);
    details.tick(t);
    timeline.tick();
  }, 1000);
  // Render what the store already holds (rows sent before this view existed);
  // ask the kernel for the rows unless a reset came already (the store has
  // followed every delta since: asking again would make the kernel build and
  // send every row a second time).
  flush();
  if (!store.hasReset) requests.sync();

  return () => {
    disposed = true;
    header.dispose();
    tools.dispose();
    columns.dispose();
    body.dispose();
    details.dispose();
    timeline.dispose();
    details.element.removeEventListener("keydown", onDetailsKey);
    root.removeEventListener("keydown", onRootKey);
    announcer?.dispose();
    unsubscribe();
    model.off("change:compact", onCompact);
    model.off("change:title", onTitle);
    unwatchShell();
    if (followedKey !== null && store.unfollow(followedKey)) requests.followLog(followedKey, false);
    followedKey = null;
    requests.dispose();
    clearInterval(interval);
    if (frame !== null) cancelRaf(frame);
    frame = null;
    root.remove();
    release();
  };
}

export default { initialize, render };
