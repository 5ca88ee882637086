// Test helpers: a jsdom page installed as globals, a fake anywidget model, and
// a record of the timers and animation frames a view starts.
import { JSDOM } from "jsdom";

/** Install a jsdom window as the globals the views use. Call before importing a view. */
export function installDom() {
  const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
  const { window } = dom;
  for (const name of ["window", "document", "Option", "HTMLElement", "Node", "Event", "KeyboardEvent", "MouseEvent"]) {
    globalThis[name] = name === "window" ? window : window[name];
  }
  globalThis.requestAnimationFrame = (cb) => timers.raf(cb);
  globalThis.cancelAnimationFrame = (id) => timers.cancelRaf(id);
  return dom;
}

/** Live timers and frames, so tests can check that cleanup stops them all. */
export const timers = {
  intervals: new Set(),
  frames: new Map(),
  nextFrame: 1,
  raf(cb) {
    const id = this.nextFrame++;
    this.frames.set(id, setTimeout(() => {
      this.frames.delete(id);
      cb(performance.now());
    }, 0));
    return id;
  },
  cancelRaf(id) {
    clearTimeout(this.frames.get(id));
    this.frames.delete(id);
  },
};

const realSetInterval = globalThis.setInterval;
const realClearInterval = globalThis.clearInterval;
globalThis.setInterval = (fn, ms, ...args) => {
  const id = realSetInterval(fn, ms, ...args);
  timers.intervals.add(id);
  return id;
};
globalThis.clearInterval = (id) => {
  timers.intervals.delete(id);
  realClearInterval(id);
};

/** Resolve after pending animation frames (setTimeout 0) have run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

/** The part of anywidget's model API the views use, recording what they send. */
export class FakeModel {
  constructor(state = {}, extra = {}) {
    this.state = { ...state };
    this.handlers = new Map();
    this.sent = [];
    Object.assign(this, extra);
  }
  get(name) {
    return this.state[name];
  }
  set(name, value) {
    this.state[name] = value;
    this.emit(`change:${name}`);
  }
  on(event, cb) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(cb);
  }
  off(event, cb) {
    this.handlers.get(event)?.delete(cb);
  }
  send(content) {
    this.sent.push(content);
  }
  emit(event, ...args) {
    for (const cb of [...(this.handlers.get(event) ?? [])]) cb(...args);
  }
  /** The kernel sends a custom message. */
  receive(content) {
    this.emit("msg:custom", content, []);
  }
  listenerCount() {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}

export const XSS = "<img src=x onerror=alert(1)>";

export function makeRow(key, fields = {}) {
  return {
    key,
    job_id: `job-${key}`,
    backend: "local",
    status: "QUEUED",
    created_at: 1000,
    submitted_at: 1000,
    started_at: null,
    finished_at: null,
    progress: null,
    error: null,
    traceback: null,
    cancel_state: null,
    cancel_message: null,
    ...fields,
  };
}

/**
 * Hold back every `setTimeout` of at least `minMs` (the view's long timers)
 * instead of scheduling it; shorter ones (animation frames, `settle`) run as
 * usual. `run()` fires the held timers that were not cleared; `pending()`
 * lists them; `restore()` puts the real functions back.
 */
export function holdTimeouts(minMs) {
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const held = new Map();
  let next = 1;
  globalThis.setTimeout = (fn, ms, ...args) => {
    if (!(ms >= minMs)) return realSetTimeout(fn, ms, ...args);
    const id = { held: next++ };
    held.set(id, { fn, ms, args });
    return id;
  };
  globalThis.clearTimeout = (id) => {
    if (held.delete(id)) return;
    realClearTimeout(id);
  };
  return {
    pending: () => [...held.values()],
    run() {
      const due = [...held.values()];
      held.clear();
      for (const { fn, args } of due) fn(...args);
    },
    restore() {
      globalThis.setTimeout = realSetTimeout;
      globalThis.clearTimeout = realClearTimeout;
    },
  };
}

/** A Lumino-like signal: `connect`, `disconnect`, `emit`, `slotCount`. */
function fakeSignal(sender) {
  const slots = new Set();
  return {
    connect(slot) {
      slots.add(slot);
      return true;
    },
    disconnect(slot) {
      return slots.delete(slot);
    },
    emit(args) {
      for (const slot of [...slots]) slot(sender(), args);
    },
    get slotCount() {
      return slots.size;
    },
  };
}

/**
 * A fake JupyterLab kernel connection: `status`, a Lumino-like
 * `statusChanged` signal, subshells, and a record of shell messages. With
 * `iopub: true` it also has an `iopubMessage` signal, and `publishStatus` sends a
 * status message on it (and sets `status`, as JupyterLab does for any of them).
 */
export function fakeKernel({ status = "idle", subshells = true, replyStatus = "ok", iopub = false } = {}) {
  const slots = new Set();
  const kernel = {
    clientId: "client-1",
    username: "",
    status,
    supportsSubshells: subshells,
    created: 0,
    deleted: [],
    shell: [],
    statusChanged: {
      connect(slot) {
        slots.add(slot);
        return true;
      },
      disconnect(slot) {
        return slots.delete(slot);
      },
      get slotCount() {
        return slots.size;
      },
    },
    setStatus(next) {
      kernel.status = next;
      for (const slot of [...slots]) slot(kernel, next);
    },
    publishStatus(state, parent) {
      kernel.iopubMessage.emit({ header: { msg_type: "status" }, parent_header: parent, content: { execution_state: state } });
      kernel.setStatus(state);
    },
    requestCreateSubshell() {
      kernel.created += 1;
      return { done: Promise.resolve({ content: { status: "ok", subshell_id: `sub-${kernel.created}` } }) };
    },
    requestDeleteSubshell(content) {
      kernel.deleted.push(content.subshell_id);
      return { done: Promise.resolve({}) };
    },
    sendShellMessage(msg, expectReply, disposeOnDone) {
      kernel.shell.push(msg);
      return { done: Promise.resolve({ content: { status: replyStatus } }) };
    },
  };
  if (iopub) kernel.iopubMessage = fakeSignal(() => kernel);
  return kernel;
}
