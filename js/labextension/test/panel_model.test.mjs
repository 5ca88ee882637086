// The panel's model in Node, with a fake kernel connection: which kernel it
// follows, its comm, delta application into the JobTable's row store, kernel
// switching and restarts, and the notifications. Run after `jlpm build:lib`
// (the build does it): the tests import the compiled lib/.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ANNOUNCE_TARGET, PanelModel, TARGET, noticesFor } from "../lib/model.js";

class FakeSignal {
  constructor() {
    this.slots = [];
  }
  connect(slot, thisArg) {
    this.slots.push([slot, thisArg]);
    return true;
  }
  disconnect(slot, thisArg) {
    const before = this.slots.length;
    this.slots = this.slots.filter(([s, t]) => s !== slot || t !== thisArg);
    return this.slots.length !== before;
  }
  emit(sender, value) {
    for (const [slot, thisArg] of [...this.slots]) slot.call(thisArg, sender, value);
  }
}

let commIds = 0;

class FakeComm {
  constructor(kernel, target) {
    this.kernel = kernel;
    this.target = target;
    this.commId = `comm-${++commIds}`;
    this.isDisposed = false;
    this.opened = null;
    this.sent = [];
    this.closed = false;
    this.onMsg = null;
    this.onClose = null;
  }
  open(data) {
    this.opened = data;
  }
  send(data) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
    this.isDisposed = true;
  }
  /** The kernel sends `data` on this comm. */
  receive(data) {
    this.onMsg?.({ content: { data } });
  }
  /** The kernel closes the comm (e.g. no such target), with `data` if given. */
  refuse(data) {
    this.isDisposed = true;
    this.onClose?.(data === undefined ? {} : { content: { data } });
  }
}

class FakeKernel {
  constructor(id) {
    this.id = id;
    this.status = "idle";
    this.statusChanged = new FakeSignal();
    this.comms = [];
  }
  createComm(target) {
    const comm = new FakeComm(this, target);
    this.comms.push(comm);
    return comm;
  }
  setStatus(status) {
    this.status = status;
    this.statusChanged.emit(this, status);
  }
  get lastComm() {
    return this.comms[this.comms.length - 1];
  }
}

function row(key, status, extra = {}) {
  return {
    key,
    job_id: `job-${key}`,
    backend: "simulated",
    status,
    created_at: 100,
    submitted_at: 100,
    started_at: status === "QUEUED" ? null : 101,
    finished_at: ["DONE", "ERROR", "CANCELLED"].includes(status) ? 102 : null,
    progress: null,
    error: null,
    traceback: null,
    cancel_state: null,
    cancel_message: null,
    ...extra,
  };
}

const statuses = (model) => Object.fromEntries([...model.store.rows.values()].map((r) => [r.key, r.status]));

test("following a kernel opens a comm to the panel's target", () => {
  const model = new PanelModel();
  assert.equal(model.state, "no-kernel");
  const kernel = new FakeKernel("k1");
  model.setKernel(kernel, "a.ipynb");
  assert.equal(kernel.comms.length, 1);
  assert.equal(kernel.lastComm.target, TARGET);
  assert.notEqual(kernel.lastComm.opened, null);
  assert.equal(model.state, "connecting");
  assert.equal(model.label, "a.ipynb");
  assert.equal(model.model.model_id, kernel.lastComm.commId);
  assert.equal(model.model.widget_manager.kernel, kernel);
  assert.equal(model.model.get("fill"), true);
  kernel.lastComm.receive({ type: "reset", rows: [row("1", "QUEUED")], kernel_time: 1 });
  assert.equal(model.state, "connected");
  assert.deepEqual(statuses(model), { 1: "QUEUED" });
});

test("deltas upsert and remove rows; unknown keys and junk are ignored", () => {
  const model = new PanelModel();
  const kernel = new FakeKernel("k1");
  model.setKernel(kernel, "a");
  const comm = kernel.lastComm;
  comm.receive({ type: "reset", rows: [row("1", "QUEUED"), row("2", "QUEUED")] });
  comm.receive({ type: "delta", upsert: [row("2", "RUNNING"), row("3", "QUEUED")], remove: [] });
  assert.deepEqual(statuses(model), { 1: "QUEUED", 2: "RUNNING", 3: "QUEUED" });
  comm.receive({ type: "delta", upsert: [{ nokey: true }], remove: ["1", "99"] });
  assert.deepEqual(statuses(model), { 2: "RUNNING", 3: "QUEUED" });
  comm.receive(null);
  comm.receive("junk");
  assert.deepEqual(statuses(model), { 2: "RUNNING", 3: "QUEUED" });
  // a reset replaces every row
  comm.receive({ type: "reset", rows: [row("3", "DONE")] });
  assert.deepEqual(statuses(model), { 3: "DONE" });
});

test("the view's messages go to the kernel over the comm once the kernel has answered", () => {
  const model = new PanelModel();
  const kernel = new FakeKernel("k1");
  model.setKernel(kernel, "a");
  // before the kernel's first message it may not know the comm yet: nothing goes out
  model.model.send({ type: "sync" });
  assert.deepEqual(kernel.lastComm.sent, []);
  assert.deepEqual(kernel.lastComm.opened, { type: "sync" });
  kernel.lastComm.receive({ type: "reset", rows: [row("1", "RUNNING")] });
  model.model.send({ type: "cancel", keys: ["1"] });
  assert.deepEqual(kernel.lastComm.sent, [{ type: "cancel", keys: ["1"] }]);
});

test("switching kernels closes the old comm and lists only the new kernel's jobs", () => {
  const model = new PanelModel();
  const k1 = new FakeKernel("k1");
  const k2 = new FakeKernel("k2");
  const changes = [];
  model.changed(() => changes.push(model.state));
  model.setKernel(k1, "a");
  const c1 = k1.lastComm;
  c1.receive({ type: "reset", rows: [row("1", "RUNNING"), row("2", "QUEUED")] });
  const oldModel = model.model;
  model.setKernel(k2, "b");
  assert.equal(c1.closed, true);
  assert.equal(k1.statusChanged.slots.length, 0);
  assert.equal(oldModel.isDisposed, true);
  assert.equal(model.label, "b");
  assert.equal(model.store.rows.size, 0);
  k2.lastComm.receive({ type: "reset", rows: [row("1", "DONE")] });
  assert.deepEqual(statuses(model), { 1: "DONE" });
  // a late message of the old kernel changes nothing
  c1.receive({ type: "delta", upsert: [row("7", "RUNNING")], remove: [] });
  assert.deepEqual(statuses(model), { 1: "DONE" });
  // the same kernel again keeps the connection
  const comm = k2.lastComm;
  model.setKernel(k2, "b renamed");
  assert.equal(k2.lastComm, comm);
  assert.equal(model.label, "b renamed");
  model.setKernel(null);
  assert.equal(model.state, "no-kernel");
  assert.equal(model.model, null);
  assert.ok(changes.includes("connected") && changes.at(-1) === "no-kernel");
});

test("a kernel without jobwidgets refuses; its announcement connects again", () => {
  const model = new PanelModel();
  const kernel = new FakeKernel("k1");
  model.setKernel(kernel, "a");
  kernel.lastComm.refuse();
  assert.equal(model.state, "unavailable");
  assert.equal(model.model, null);
  model.announced(new FakeKernel("other")); // another kernel's announcement
  assert.equal(kernel.comms.length, 1);
  model.announced(kernel);
  assert.equal(kernel.comms.length, 2);
  assert.equal(model.state, "connecting");
  kernel.lastComm.receive({ type: "reset", rows: [] });
  assert.equal(model.state, "connected");
  assert.equal(ANNOUNCE_TARGET, "jobwidgets.panel.announce");
});

test("a kernel that can't list its jobs says why, and is not called one without jobwidgets", () => {
  const model = new PanelModel();
  const kernel = new FakeKernel("k1");
  model.setKernel(kernel, "a");
  kernel.lastComm.refuse({ type: "error", message: "RuntimeError: <b>no</b> bridge" });
  assert.equal(model.state, "failed");
  assert.equal(model.reason, "RuntimeError: <b>no</b> bridge");
  model.announced(kernel);
  assert.equal(model.state, "connecting");
  kernel.lastComm.refuse({ type: "something else" });
  assert.equal(model.state, "unavailable");
});

test("an announcement while connecting retries when the refusal comes", () => {
  const model = new PanelModel();
  const kernel = new FakeKernel("k1");
  model.setKernel(kernel, "a");
  model.announced(kernel); // import jobwidgets ran while the comm_open was in flight
  kernel.lastComm.refuse();
  assert.equal(kernel.comms.length, 2);
  assert.equal(model.state, "connecting");
});

test("a restart clears the list, then connects to the new kernel process", () => {
  const model = new PanelModel();
  const kernel = new FakeKernel("k1");
  model.setKernel(kernel, "a");
  kernel.lastComm.receive({ type: "reset", rows: [row("1", "RUNNING")] });
  kernel.setStatus("restarting");
  assert.equal(model.state, "restarting");
  assert.equal(model.store, null);
  kernel.setStatus("starting");
  assert.equal(kernel.comms.length, 1);
  kernel.setStatus("idle");
  assert.equal(kernel.comms.length, 2);
  assert.equal(model.state, "connecting");
  kernel.lastComm.refuse(); // the new process has not imported jobwidgets
  assert.equal(model.state, "unavailable");
  kernel.setStatus("dead");
  assert.equal(model.state, "dead");
});

test("notifications: failures and long jobs, from deltas only, summarised in bulk", () => {
  const notices = [];
  const model = new PanelModel({ notify: (n) => notices.push(n), settings: { longJobSeconds: 10 } });
  const kernel = new FakeKernel("k1");
  model.setKernel(kernel, "a");
  const comm = kernel.lastComm;
  // a reset with final jobs (a reload) is quiet
  comm.receive({ type: "reset", rows: [row("1", "ERROR", { error: "old" }), row("2", "RUNNING"), row("3", "RUNNING")] });
  assert.deepEqual(notices, []);
  comm.receive({
    type: "delta",
    upsert: [row("2", "ERROR", { error: "<b>boom</b>" }), row("3", "DONE", { started_at: 50, finished_at: 80 })],
    remove: [],
  });
  assert.deepEqual(notices, [
    { kind: "error", message: "Job job-2 failed: <b>boom</b>" },
    { kind: "success", message: "Job job-3 finished after 30s" },
  ]);
  // a final row sent again is no new ending; a short job is quiet
  notices.length = 0;
  comm.receive({ type: "delta", upsert: [row("2", "ERROR"), row("4", "DONE")], remove: [] });
  assert.deepEqual(notices, []);
  // many at once: one summary
  const many = Array.from({ length: 50 }, (_, i) => row(String(100 + i), "ERROR"));
  comm.receive({ type: "delta", upsert: many.map((r) => ({ ...r, status: "RUNNING", finished_at: null })), remove: [] });
  comm.receive({ type: "delta", upsert: many, remove: [] });
  assert.deepEqual(notices, [{ kind: "error", message: "50 jobs failed" }]);
  // switched off
  notices.length = 0;
  model.settings = { ...model.settings, notifications: false };
  comm.receive({ type: "delta", upsert: [row("5", "ERROR")], remove: [] });
  assert.deepEqual(notices, []);
});

test("noticesFor ignores resets and local events", () => {
  const settings = { notifications: true, longJobSeconds: 0 };
  assert.deepEqual(noticesFor({ kind: "reset" }, settings), []);
  assert.deepEqual(noticesFor({ kind: "local", keys: ["1"] }, settings), []);
});

test("a job without an id yet is named as such in its notification", () => {
  const settings = { notifications: true, longJobSeconds: 60 };
  const failed = row("1", "ERROR", { job_id: null, error: "boom" });
  const event = { kind: "delta", changes: [{ old: row("1", "RUNNING"), row: failed }] };
  assert.deepEqual(noticesFor(event, settings), [
    { kind: "error", message: "Job (no id yet) failed: boom" },
  ]);
});
