// The JobTable's rows, kept per model (not per view).
//
// The kernel sends `reset`/`delta` right after it creates the widget, often
// before any view exists (a JobMonitor displayed from a cell that then blocks:
// the kernel cannot answer a view's `{type: "sync"}` until the cell ends). So
// the one `msg:custom` listener lives here, started by anywidget's
// `initialize` (once per model, before any view), and views subscribe to the
// store: a view created later renders the rows already received.
//
// The store holds what must outlive a view: the rows (key -> row, in the
// kernel's order), the clock offset to the kernel, the kernel-side model id
// from `reset` messages, and the cancel state shown in the rows (after a click
// or a `cancel_result`), which every view of the model shows alike.
//
// It also holds the logs of the rows whose details are open in some view of the
// model (`follow`/`unfollow` count the views; the view sends the `logs`
// message to the kernel), at most LOG_TAIL lines a row, from the `logs` of
// `reset` and `delta` messages.
//
// Subscribers are called with one event:
//   {kind: "reset"}                                 everything may have changed
//   {kind: "delta", changes: [{key, old, row}], removed: [key...]}
//                                                   `old` is undefined for a new row
//   {kind: "local", keys: [key...]}                 only the cancel state of rows changed
//   {kind: "logs", keys: [key...]}                  the logs of these rows changed
//   {kind: "log_text", key, job_id, ok, text, message}   a download's answer
//
// And the state of the Retry clicks (`retries`: key -> {state: "retrying" |
// "failed" | "done", request, message?, newJobId?}), set by a click and by the
// kernel's `retry_result`, shown alike by every view (a "local" event).

import { clockOffset, isFinal } from "./model.js";

// anywidget hands `initialize` and each view a model object of their own (a
// proxy over the one widget model; `widget_manager` is the one thing they
// share), so a table's store is found by its widget manager and its feed id (a
// synced trait unique to the table) when the model has both; by the model
// object otherwise (the panel's adapter, tests). A feed-keyed store is dropped
// when its last reference is released (or with its widget manager).
const STORES = new WeakMap();
const FEED_STORES = new WeakMap(); // widget manager -> Map(feed id -> store)

/** The map of `model`'s widget manager and the model's feed id, or null. */
function feedSlot(model) {
  const manager = model?.widget_manager;
  const id = typeof model?.get === "function" ? model.get("feed_id") : null;
  if (!manager || typeof manager !== "object" || typeof id !== "string" || id === "") return null;
  let stores = FEED_STORES.get(manager);
  if (!stores) {
    stores = new Map();
    FEED_STORES.set(manager, stores);
  }
  return { stores, id };
}

/** The most log lines kept (and shown) for a row; the kernel sends no more. */
export const LOG_TAIL = 200;

/** The store of `model`, created on first use (listener not attached yet). */
export function storeOf(model) {
  const slot = feedSlot(model);
  let store = slot === null ? STORES.get(model) : slot.stores.get(slot.id);
  if (!store) {
    store = createStore(model, () => {
      if (slot !== null && slot.stores.get(slot.id) === store) slot.stores.delete(slot.id);
    });
    if (slot === null) STORES.set(model, store);
    else slot.stores.set(slot.id, store);
  }
  return store;
}

/**
 * Take a reference to the store of `model`: the first reference attaches the
 * model listeners, the returned function drops the reference (the last one
 * detaches them). `initialize` holds one for the model's lifetime; a view
 * holds one too, so a view still works when `initialize` never ran.
 */
export function acquireStore(model) {
  const store = storeOf(model);
  store.acquire();
  let released = false;
  return {
    store,
    release() {
      if (released) return;
      released = true;
      store.release();
    },
  };
}

function createStore(model, dropped) {
  const subscribers = new Set();
  let refs = 0;
  let seq = 0; // counts kernel messages, for "has the kernel answered since?"
  let resetSeq = 0;
  const heardSeq = new Map(); // key -> seq of the last delta/cancel_result about it

  const store = {
    /** @type {Map<string, object>} key -> row, in the kernel's order */
    rows: new Map(),
    /** key -> {state: "cancelling" | "waiting" | "failed", message?} */
    local: new Map(),
    /** key -> {state: "retrying" | "failed" | "done", request, message?, newJobId?} */
    retries: new Map(),
    /**
     * key -> the log of a followed row: `lines` ([time, stream, text], the last
     * LOG_TAIL), `total` (lines written, cut ones included), `epoch` (counts
     * restarts: a view redraws the lines when it changes, else appends).
     * `null` until the kernel's first lines arrive.
     * @type {Map<string, {lines: Array<[number, string, string]>, total: number, epoch: number} | null>}
     */
    logs: new Map(),
    /** The kernel-side model id, from `reset` messages (anywidget hides it). */
    modelId: null,
    /** Seconds to subtract from the browser clock to get the kernel's: set from the
     *  `kernel_time` of every kernel message (0, the browser's clock, until one arrives). */
    offset: 0,

    /** The kernel's clock, in epoch seconds. */
    now() {
      return Date.now() / 1000 - store.offset;
    },

    subscribe(callback) {
      subscribers.add(callback);
      return () => subscribers.delete(callback);
    },

    /** True once a `reset` arrived: the rows are the kernel's, kept current by deltas. */
    get hasReset() {
      return resetSeq > 0;
    },

    /** A mark to pass to `answeredSince`. */
    mark() {
      return seq;
    },

    /** True when a reset, or a delta or cancel_result about `key`, arrived after `mark`. */
    answeredSince(key, mark) {
      return resetSeq > mark || (heardSeq.get(key) ?? 0) > mark;
    },

    /** Set the view-side cancel state of `keys` (for every view) and notify. */
    setLocal(keys, entry) {
      const changed = [];
      for (const key of keys) {
        if (!store.rows.has(key)) continue;
        if (entry) store.local.set(key, { ...entry });
        else store.local.delete(key);
        changed.push(key);
      }
      if (changed.length) emit({ kind: "local", keys: changed });
    },

    /** Set the retry state of row `key` (null: none) for every view, and notify. */
    setRetry(key, entry) {
      if (!store.rows.has(key)) return;
      if (entry) store.retries.set(key, { ...entry });
      else store.retries.delete(key);
      emit({ kind: "local", keys: [key] });
    },

    /** A view opened the details of `key`: true when no view followed its log before. */
    follow(key) {
      const count = followers.get(key) ?? 0;
      followers.set(key, count + 1);
      if (count === 0) store.logs.set(key, null);
      return count === 0;
    },

    /** A view closed the details of `key`: true when no view follows its log now. */
    unfollow(key) {
      const count = followers.get(key) ?? 0;
      if (count <= 1) {
        followers.delete(key);
        store.logs.delete(key);
        return count === 1;
      }
      followers.set(key, count - 1);
      return false;
    },

    /** Apply one kernel message (exported for tests; the listener calls it). */
    apply(content) {
      if (!content || typeof content !== "object") return;
      updateOffset(content.kernel_time);
      if (content.type === "reset") onReset(content);
      else if (content.type === "delta") onDelta(content);
      else if (content.type === "cancel_result") onCancelResult(content);
      else if (content.type === "log_text") onLogText(content);
      else if (content.type === "retry_result") onRetryResult(content);
      if (content.type === "reset" || content.type === "delta") onLogs(content.logs);
    },

    acquire() {
      refs += 1;
      if (refs === 1) {
        model.on("msg:custom", onMessage);
      }
    },

    release() {
      if (refs === 0) return;
      refs -= 1;
      if (refs === 0) {
        model.off("msg:custom", onMessage);
        dropped();
      }
    },
  };

  function emit(event) {
    for (const callback of [...subscribers]) {
      try {
        callback(event);
      } catch (err) {
        console.error("jobwidgets: a table view failed to update", err);
      }
    }
  }

  function updateOffset(kernelTime) {
    if (typeof kernelTime === "number") store.offset = clockOffset(kernelTime, Date.now() / 1000);
  }

  function onMessage(content) {
    store.apply(content);
  }

  function onReset(content) {
    seq += 1;
    resetSeq = seq;
    heardSeq.clear(); // resetSeq answers for every key
    if (typeof content.model_id === "string") store.modelId = content.model_id;
    const next = new Map();
    for (const row of Array.isArray(content.rows) ? content.rows : []) {
      if (row && typeof row.key === "string") next.set(row.key, row);
    }
    // Keep a pending local cancel state only for rows that did not change status.
    for (const [key, entry] of store.local) {
      const old = store.rows.get(key);
      const row = next.get(key);
      if (!row || !old || row.status !== old.status || entry.state === "failed") store.local.delete(key);
    }
    for (const key of [...store.retries.keys()]) if (!next.has(key)) store.retries.delete(key);
    store.rows = next;
    emit({ kind: "reset" });
  }

  function onDelta(content) {
    seq += 1;
    const upsert = Array.isArray(content.upsert) ? content.upsert : [];
    const remove = Array.isArray(content.remove) ? content.remove : [];
    const changes = [];
    const removed = [];
    for (const row of upsert) {
      if (!row || typeof row.key !== "string") continue;
      const old = store.rows.get(row.key);
      // The kernel answered for this row: its state replaces ours.
      if (old && (old.status !== row.status || old.cancel_state !== row.cancel_state)) store.local.delete(row.key);
      store.rows.set(row.key, row);
      heardSeq.set(row.key, seq);
      changes.push({ key: row.key, old, row });
    }
    for (const key of remove) {
      if (store.rows.delete(key)) {
        store.local.delete(key); // no row, so a pending timer finds nothing to mark
        store.retries.delete(key);
        if (store.logs.has(key)) store.logs.set(key, null);
        heardSeq.delete(key);
        removed.push(key);
      }
    }
    if (changes.length || removed.length) emit({ kind: "delta", changes, removed });
  }

  const followers = new Map(); // key -> how many views follow its log

  function onLogs(updates) {
    if (!Array.isArray(updates)) return;
    const keys = [];
    for (const update of updates) {
      const key = update?.key;
      if (typeof key !== "string" || !store.logs.has(key)) continue; // nobody follows it
      const lines = Array.isArray(update.lines) ? update.lines.filter(Array.isArray) : [];
      const total = typeof update.total === "number" ? update.total : 0;
      let log = store.logs.get(key);
      if (!log || update.reset || update.start !== log.total) {
        log = { lines: [], total: 0, epoch: (log?.epoch ?? 0) + 1 };
        store.logs.set(key, log);
      }
      log.lines.push(...lines);
      if (log.lines.length > LOG_TAIL) log.lines.splice(0, log.lines.length - LOG_TAIL);
      log.total = total;
      keys.push(key);
    }
    if (keys.length) emit({ kind: "logs", keys });
  }

  function onLogText(content) {
    if (typeof content.key !== "string") return;
    emit({
      kind: "log_text",
      key: content.key,
      job_id: content.job_id ?? null,
      ok: Boolean(content.ok),
      text: typeof content.text === "string" ? content.text : "",
      message: typeof content.message === "string" ? content.message : "",
    });
  }

  function onRetryResult(content) {
    const key = content.key;
    if (typeof key !== "string" || !store.rows.has(key)) return;
    const pending = store.retries.get(key);
    // an answer to an older click, after a newer one: the newer one's answer comes
    if (pending && pending.request && content.request && pending.request !== content.request) return;
    if (content.ok) {
      store.retries.set(key, { state: "done", request: content.request, newJobId: content.new_job_id ?? null });
    } else {
      store.retries.set(key, { state: "failed", request: content.request, message: String(content.message ?? "") });
    }
    emit({ kind: "local", keys: [key] });
  }

  function onCancelResult(content) {
    const key = content.key;
    if (typeof key !== "string") return;
    seq += 1;
    const row = store.rows.get(key);
    if (row) heardSeq.set(key, seq);
    if (!row) {
      store.local.delete(key);
      return;
    }
    if (content.ok) {
      // Accepted: keep "cancelling…" until the status change arrives.
      if (isFinal(row.status)) store.local.delete(key);
      else store.local.set(key, { state: "cancelling" });
    } else {
      store.local.set(key, { state: "failed", message: content.message ?? "" });
    }
    emit({ kind: "local", keys: [key] });
  }

  return store;
}
