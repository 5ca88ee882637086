// A second path for the requests of a view while the kernel's main shell is blocked:
// cancel, sync, following a row's log, and a log download.
//
// Widget messages normally travel as comm messages on the kernel's shell
// channel. While a cell blocks (for example in `job.wait_for_final_state()`),
// the main shell processes nothing, so a cancel click would wait until the
// cell ends. Kernels that implement subshells (JEP 91, ipykernel >= 7) run
// requests sent to a subshell on another thread. This module asks the kernel
// for one subshell per table view, lazily, and runs
//
//   import jobwidgets.feed as _r; _r.cancel("<model id>", ["<key>", ...])
//   import jobwidgets.feed as _r; _r.sync("<model id>")
//   import jobwidgets.feed as _r; _r.logs("<model id>", "<key>", True)    (or False)
//   import jobwidgets.feed as _r; _r.log_text("<model id>", "<key>")
//   import jobwidgets.feed as _r; _r.retry("<model id>", "<key>", "<request id>")
//
// in it, silently (no output, no history). The Python side implements
// `jobwidgets.feed.cancel`, `.sync`, `.logs` and `.log_text` (see ../PROTOCOL.md), safe to run concurrently
// with the main shell and idempotent: the same request also arrives later
// through the comm.
//
// Nothing here is needed for correctness: when no kernel connection is
// reachable (VS Code, a static page) or the kernel has no subshells, the caller
// falls back to "waiting for kernel…" and the comm message does the work.

const MODEL_ID = /^[A-Za-z0-9_-]+$/;
const KEY = /^[0-9]+$/;

function checkModelId(modelId) {
  if (typeof modelId !== "string" || !MODEL_ID.test(modelId)) {
    throw new TypeError(`model id must match ${MODEL_ID}, got ${JSON.stringify(String(modelId))}`);
  }
}

function checkKeys(keys) {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError("keys must be a non-empty array of digit strings");
  }
  for (const key of keys) {
    if (typeof key !== "string" || !KEY.test(key)) {
      throw new TypeError(`row key must match ${KEY}, got ${JSON.stringify(String(key))}`);
    }
  }
}

/**
 * The Python source that calls `jobwidgets.feed.<call>(<model id>[, <keys>])`, or throws
 * a TypeError when the call is unknown or an id or key has a character outside
 * its allowed set. Only these validated strings reach the code, as JSON string
 * literals (which are also valid Python literals for these characters).
 *
 *   buildRouteCode("cancel", "m1", ["1", "2"])
 *     -> import jobwidgets.feed as _r; _r.cancel("m1", ["1","2"])
 *   buildRouteCode("sync", "m1")
 *     -> import jobwidgets.feed as _r; _r.sync("m1")
 *   buildRouteCode("logs", "m1", ["3"], true)
 *     -> import jobwidgets.feed as _r; _r.logs("m1", "3", True)
 *   buildRouteCode("log_text", "m1", ["3"])
 *     -> import jobwidgets.feed as _r; _r.log_text("m1", "3")
 *   buildRouteCode("retry", "m1", ["3"], "req-1")   (the 4th argument: the request id)
 *     -> import jobwidgets.feed as _r; _r.retry("m1", "3", "req-1")
 */
export function buildRouteCode(call, modelId, keys, open) {
  checkModelId(modelId);
  const args = [JSON.stringify(modelId)];
  if (call === "cancel") {
    checkKeys(keys);
    args.push(JSON.stringify(keys));
  } else if (call === "retry") {
    checkKeys(keys);
    if (keys.length !== 1) throw new TypeError("retry takes one row key");
    if (typeof open !== "string" || !MODEL_ID.test(open)) {
      throw new TypeError(`retry request id must match ${MODEL_ID}, got ${JSON.stringify(String(open))}`);
    }
    args.push(JSON.stringify(keys[0]), JSON.stringify(open));
  } else if (call === "logs" || call === "log_text") {
    checkKeys(keys);
    if (keys.length !== 1) throw new TypeError(`${call} takes one row key`);
    args.push(JSON.stringify(keys[0]));
    if (call === "logs") args.push(open === true ? "True" : "False");
  } else if (call !== "sync") {
    throw new TypeError(`unknown route call ${JSON.stringify(String(call))}`);
  }
  return `import jobwidgets.feed as _r; _r.${call}(${args.join(", ")})`;
}

/** The Python source that cancels `keys` of the table `modelId` (see `buildRouteCode`). */
export function buildCancelCode(modelId, keys) {
  return buildRouteCode("cancel", modelId, keys);
}

/** The Python source that makes the table `modelId` send a `reset` (see `buildRouteCode`). */
export function buildSyncCode(modelId) {
  return buildRouteCode("sync", modelId);
}

/** The kernel connection behind an anywidget model, or null (VS Code, static pages). */
export function kernelOf(model) {
  const kernel = model?.widget_manager?.kernel;
  return kernel && typeof kernel.sendShellMessage === "function" ? kernel : null;
}

/**
 * The kernel's id of the table behind `model`: `feedId` when given (JobTable's
 * `feed_id` trait, or the id a reset carried), else the model's own id.
 */
export function modelIdOf(model, feedId) {
  return feedId ?? model?.model_id ?? model?.comm?.comm_id ?? null;
}

// The main shell's own busy state.
//
// JupyterLab's `kernel.status` follows every status message on IOPub, including
// the busy/idle that a subshell publishes around its own requests (this module's
// among them). So after one subshell request it reads "idle" while the main shell
// still runs a cell. The tracker below follows only the status messages of
// requests that went to the main shell: no `subshell_id` in their parent header,
// and not a control-channel request. One tracker per kernel connection, made on
// first use and owned by the connection (its IOPub signal holds the slot; a
// disposed connection clears it). Before its first message the tracker starts
// from `kernel.status`.
const CONTROL_REQUESTS = new Set([
  "create_subshell_request",
  "delete_subshell_request",
  "list_subshell_request",
  "interrupt_request",
  "shutdown_request",
  "debug_request",
  "usage_request",
]);
const shellTrackers = new WeakMap();

function shellTracker(kernel) {
  if (!kernel || typeof kernel !== "object") return null;
  const known = shellTrackers.get(kernel);
  if (known) return known;
  const signal = kernel.iopubMessage;
  if (!signal || typeof signal.connect !== "function") return null;
  const tracker = { busy: kernel.status === "busy", listeners: new Set() };
  signal.connect((_, msg) => {
    if (msg?.header?.msg_type !== "status") return;
    const parent = msg.parent_header ?? {};
    if (parent.subshell_id || CONTROL_REQUESTS.has(parent.msg_type)) return;
    const busy = msg.content?.execution_state === "busy";
    if (busy === tracker.busy) return;
    tracker.busy = busy;
    for (const listener of [...tracker.listeners]) listener();
  });
  shellTrackers.set(kernel, tracker);
  return tracker;
}

/**
 * Whether the kernel's main shell is running a request (a cell, say). Without an
 * IOPub signal to follow (not JupyterLab), the connection's `status`.
 */
export function mainShellBusy(kernel) {
  const tracker = shellTracker(kernel);
  return tracker ? tracker.busy : kernel?.status === "busy";
}

/**
 * Call `listener()` when `mainShellBusy(kernel)` may have changed; returns the
 * function that stops it. Falls back to the connection's `statusChanged` signal.
 */
export function watchMainShell(kernel, listener) {
  const tracker = shellTracker(kernel);
  if (tracker) {
    tracker.listeners.add(listener);
    return () => tracker.listeners.delete(listener);
  }
  const signal = kernel?.statusChanged;
  if (signal && typeof signal.connect === "function" && typeof signal.disconnect === "function") {
    signal.connect(listener);
    return () => signal.disconnect(listener);
  }
  return () => {};
}

function uuid() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  // Not a secure context (plain http to a remote host): a random id is enough.
  let s = "";
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

/**
 * Per-view state: the subshell this view created (lazily) on one kernel.
 * Call `dispose()` from the view's cleanup; it deletes the subshell.
 */
export function createRoute() {
  return { kernel: null, subshell: null, disposed: false, dispose() { disposeRoute(this); } };
}

function disposeRoute(route) {
  route.disposed = true;
  const { kernel, subshell } = route;
  route.subshell = null;
  route.kernel = null;
  if (!kernel || !subshell) return;
  subshell
    .then((id) => {
      if (id && typeof kernel.requestDeleteSubshell === "function" && !kernel.isDisposed) {
        kernel.requestDeleteSubshell({ subshell_id: id });
      }
    })
    .catch(() => {});
}

/** The subshell id for `kernel`, created on first use; null if the kernel has none. */
function subshellFor(route, kernel) {
  if (route.kernel !== kernel) {
    // First use, or the page reconnected to another kernel connection.
    route.kernel = kernel;
    route.subshell = null;
  }
  if (!route.subshell) {
    if (typeof kernel.requestCreateSubshell !== "function" || kernel.supportsSubshells === false) {
      return Promise.resolve(null);
    }
    route.subshell = kernel.requestCreateSubshell({}).done.then(
      (reply) => (reply?.content?.status === "ok" ? reply.content.subshell_id ?? null : null),
      () => null,
    );
    // Forget a failed attempt so a later click can try again.
    route.subshell.then((id) => {
      if (id === null && route.kernel === kernel) route.subshell = null;
    });
  }
  return route.subshell;
}

/**
 * Run `code` in this route's subshell of the model's kernel.
 *
 * `requestExecute` of @jupyterlab/services always stamps the connection's own
 * `subshellId` into the header and has no per-request option, so the
 * execute_request is built here as a plain message (the shape of
 * KernelMessage.createMessage) with `header.subshell_id`, and sent with
 * `sendShellMessage`. `silent: true`: no output, no history, no execution count.
 *
 * @param {() => string} makeCode builds the code; may throw (validation)
 * @returns {Promise<boolean>} true when the kernel ran the code without error;
 *   false when no subshell route exists or the request failed. Never rejects.
 */
async function runViaSubshell(model, route, makeCode, what) {
  try {
    const kernel = kernelOf(model);
    if (!kernel || !route || route.disposed) return false;
    const code = makeCode();
    const subshellId = await subshellFor(route, kernel);
    if (!subshellId || route.disposed) return false;
    const msg = {
      channel: "shell",
      header: {
        msg_id: uuid(),
        msg_type: "execute_request",
        session: kernel.clientId,
        username: kernel.username ?? "",
        date: new Date().toISOString(),
        version: "5.5",
        subshell_id: subshellId,
      },
      parent_header: {},
      metadata: {},
      content: {
        code,
        silent: true,
        store_history: false,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: false,
      },
      buffers: [],
    };
    const future = kernel.sendShellMessage(msg, true, true);
    const reply = await future.done;
    return reply?.content?.status === "ok";
  } catch (err) {
    console.warn(`jobwidgets: ${what} through a kernel subshell failed`, err);
    return false;
  }
}

/**
 * Ask the kernel, through a subshell, to cancel `keys` of this table.
 * `feedId` is the table's feed id (see `modelIdOf`).
 *
 * @returns {Promise<boolean>} see `runViaSubshell`. Never rejects.
 */
export function cancelViaSubshell(model, keys, route, feedId) {
  return runViaSubshell(model, route, () => buildCancelCode(modelIdOf(model, feedId), keys), "cancel");
}

/**
 * Ask the kernel, through a subshell, to send this table's rows again (a
 * `reset`), for a view that renders while the main shell is blocked. Skipped
 * (false) when the model id is unknown.
 *
 * @returns {Promise<boolean>} see `runViaSubshell`. Never rejects.
 */
export function syncViaSubshell(model, route, feedId) {
  const modelId = modelIdOf(model, feedId);
  if (modelId === null) return Promise.resolve(false);
  return runViaSubshell(model, route, () => buildSyncCode(modelId), "sync");
}

/**
 * Ask the kernel, through a subshell, to follow the log of row `key` (`open`)
 * or to stop. Skipped (false) when the model id is unknown.
 *
 * @returns {Promise<boolean>} see `runViaSubshell`. Never rejects.
 */
export function followLogViaSubshell(model, key, open, route, feedId) {
  const modelId = modelIdOf(model, feedId);
  if (modelId === null) return Promise.resolve(false);
  return runViaSubshell(model, route, () => buildRouteCode("logs", modelId, [key], open), "follow a log");
}

/**
 * Ask the kernel, through a subshell, for the whole log of row `key` (a
 * `log_text` message). Skipped (false) when the model id is unknown.
 *
 * @returns {Promise<boolean>} see `runViaSubshell`. Never rejects.
 */
export function logTextViaSubshell(model, key, route, feedId) {
  const modelId = modelIdOf(model, feedId);
  if (modelId === null) return Promise.resolve(false);
  return runViaSubshell(model, route, () => buildRouteCode("log_text", modelId, [key]), "download a log");
}

/**
 * Ask the kernel, through a subshell, to run the job of row `key` again, once
 * for the click `request` (the comm carries the same request; the kernel
 * handles the first to arrive). Skipped (false) when the model id is unknown.
 *
 * @returns {Promise<boolean>} see `runViaSubshell`. Never rejects.
 */
export function retryViaSubshell(model, key, request, route, feedId) {
  const modelId = modelIdOf(model, feedId);
  if (modelId === null) return Promise.resolve(false);
  return runViaSubshell(model, route, () => buildRouteCode("retry", modelId, [key], request), "retry");
}
