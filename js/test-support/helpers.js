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
