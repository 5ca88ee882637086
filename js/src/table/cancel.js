// What a table view asks of the kernel: cancel some rows, cancel all, the sync
// that restores the rows, following a row's log and downloading it; each
// through the comm, and also through a kernel subshell (../kernel_route.js)
// when the main shell may be blocked (a download through one of the two).
//
// A cancel shows its rows as "cancelling…" at once (a cancel state in the
// model's store, so every view of the model shows it). Then:
// - with a kernel connection, the request also goes through the subshell; if
//   that fails, the rows show "waiting for kernel…";
// - without one (VS Code, front ends without `widget_manager.kernel`), a timer
//   per request: a row the kernel has not answered for after WAIT_NOTE_MS
//   shows "waiting for kernel…".
// The flow owns its subshell route and its timers; `dispose` ends both.

import { isFinal } from "../model.js";
import {
  cancelViaSubshell,
  createRoute,
  followLogViaSubshell,
  kernelOf,
  logTextViaSubshell,
  mainShellBusy,
  retryViaSubshell,
  syncViaSubshell,
} from "../kernel_route.js";
import { activeKeys } from "./state.js";

/** With no kernel connection to ask, a cancel unanswered after this shows "waiting for kernel…". */
export const WAIT_NOTE_MS = 1500;

/**
 * @param {object} model    the widget model: `send`, `get("feed_id")`, `widget_manager.kernel`
 * @param {object} store    the model's row store
 */
export function createCancelFlow(model, store) {
  const route = createRoute();
  const waitTimers = new Set();
  let disposed = false;
  let retries = 0; // Retry clicks of this view, for their request ids

  // The kernel's id of this table: a synced trait of JobTable (there from the
  // comm's first state), else the id a `reset` carried (the JupyterLab panel).
  const feedId = () => {
    const id = model.get("feed_id");
    return typeof id === "string" && id !== "" ? id : store.modelId;
  };

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
      // No connection to ask whether the kernel is busy: if the kernel has not
      // answered for a key in a while, the request is probably queued behind a
      // running cell.
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

  return {
    /** Cancel the rows of `keys` that exist and are not final. */
    cancel(keys) {
      keys = keys.filter((k) => store.rows.has(k) && !isFinal(store.rows.get(k).status));
      if (keys.length === 0) return;
      model.send({ type: "cancel", keys });
      markCancelling(keys);
    },

    /** Cancel every row not final (after the user confirmed). */
    cancelAll() {
      const keys = activeKeys(store.rows);
      if (keys.length === 0) return;
      model.send({ type: "cancel_all" });
      markCancelling(keys);
    },

    /**
     * Ask the kernel for every row: this is how a reloaded page restores. A
     * blocked main shell answers the comm only when the cell ends; a subshell
     * answers now.
     */
    sync() {
      model.send({ type: "sync" });
      const kernel = kernelOf(model);
      if (kernel && mainShellBusy(kernel)) syncViaSubshell(model, route, feedId());
    },

    /**
     * Follow the log of row `key` while its details are open (`open`), or stop.
     * Idempotent on the kernel side, so it also goes through the subshell.
     */
    followLog(key, open) {
      model.send({ type: "logs", key, open });
      if (kernelOf(model)) followLogViaSubshell(model, key, open, route, feedId());
    },

    /**
     * Ask for the whole log of row `key` (answered by a `log_text` message):
     * through the subshell when there is one, else through the comm, so one
     * answer comes back.
     */
    downloadLog(key) {
      const viaComm = () => {
        if (!disposed) model.send({ type: "log_text", key });
      };
      if (!kernelOf(model)) {
        viaComm();
        return;
      }
      logTextViaSubshell(model, key, route, feedId()).then((ok) => {
        if (!ok) viaComm();
      });
    },

    /**
     * Run the job of row `key` again (a failed or cancelled job that can):
     * through the comm and, with a kernel connection, the subshell too; the
     * request id makes the kernel act once. The row shows "retrying…" until
     * the kernel's `retry_result`.
     */
    retry(key) {
      const row = store.rows.get(key);
      if (!row || store.retries.get(key)?.state === "retrying") return;
      retries += 1;
      const request = `r${Date.now().toString(36)}-${retries}-${Math.random().toString(36).slice(2, 8)}`;
      store.setRetry(key, { state: "retrying", request });
      model.send({ type: "retry", key, request });
      if (kernelOf(model)) retryViaSubshell(model, key, request, route, feedId());
    },

    dispose() {
      disposed = true;
      for (const timer of waitTimers) clearTimeout(timer);
      waitTimers.clear();
      route.dispose();
    },
  };
}
