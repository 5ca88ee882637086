import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, makeRow } from "../test-support/helpers.js";
import { acquireStore, storeOf } from "../src/store.js";

/** A fresh model's store, listening (as after anywidget's `initialize`). */
function open(state = {}) {
  const model = new FakeModel({ compact: false, title: "Jobs", ...state });
  const { store, release } = acquireStore(model);
  const events = [];
  store.subscribe((event) => events.push(event));
  return { model, store, events, release };
}

const keys = (store) => [...store.rows.keys()];

// ---------------------------------------------------------------- deltas

test("a delta inserts, replaces and removes, and tells what changed", () => {
  const { model, store, events, release } = open();
  model.receive({ type: "reset", rows: [makeRow("1"), makeRow("2")] });
  model.receive({ type: "delta", upsert: [makeRow("2", { status: "RUNNING" }), makeRow("3")], remove: ["1"] });
  assert.deepEqual(keys(store), ["2", "3"]);
  assert.equal(store.rows.get("2").status, "RUNNING");
  const delta = events.at(-1);
  assert.equal(delta.kind, "delta");
  assert.deepEqual(delta.changes.map((c) => [c.key, c.old?.status ?? null]), [["2", "QUEUED"], ["3", null]]);
  assert.deepEqual(delta.removed, ["1"]);
  release();
});

test("a delta keeps the position of a replaced row", () => {
  const { model, store, release } = open();
  model.receive({ type: "reset", rows: [makeRow("1"), makeRow("2"), makeRow("3")] });
  model.receive({ type: "delta", upsert: [makeRow("1", { status: "DONE" })] });
  assert.deepEqual(keys(store), ["1", "2", "3"]);
  release();
});

test("a delta ignores unknown removes, keyless rows and missing lists", () => {
  const { model, store, events, release } = open();
  model.receive({ type: "reset", rows: [makeRow("1")] });
  const before = events.length;
  model.receive({ type: "delta", upsert: [{ job_id: "x" }, null, { key: 5 }], remove: ["404"] });
  model.receive({ type: "delta" });
  store.apply(undefined);
  assert.deepEqual(keys(store), ["1"]);
  assert.equal(events.length, before, "nothing changed, nothing told");
  release();
});

test("an upsert and a remove of the same key in one delta removes it", () => {
  const { model, store, events, release } = open();
  model.receive({ type: "delta", upsert: [makeRow("7")], remove: ["7"] });
  assert.equal(store.rows.size, 0);
  assert.deepEqual(events.at(-1).removed, ["7"]);
  release();
});

// ---------------------------------------------------------------- clock

test("the clock offset comes from the messages' kernel_time, not from a trait", () => {
  const browserNow = Date.now() / 1000;
  const { model, store, release } = open({ kernel_time: browserNow - 500 });
  assert.equal(store.offset, 0, "no message yet: trust the browser clock");
  assert.equal(model.listenerCount(), 1, "only msg:custom");
  model.receive({ type: "reset", rows: [], kernel_time: browserNow - 100 });
  assert.ok(Math.abs(store.offset - 100) < 5, `offset ${store.offset}`);
  model.receive({ type: "delta", upsert: [makeRow("1")], kernel_time: browserNow - 40 });
  assert.ok(Math.abs(store.offset - 40) < 5, `offset ${store.offset}`);
  assert.ok(Math.abs(store.now() - (browserNow - 40)) < 5);
  release();
  assert.equal(model.listenerCount(), 0);
});

test("storeOf gives one store per model, shared by every reference", () => {
  const model = new FakeModel({});
  const a = acquireStore(model);
  const b = acquireStore(model);
  assert.equal(a.store, b.store);
  assert.equal(storeOf(model), a.store);
  a.release();
  a.release(); // a second release of the same reference does nothing
  assert.equal(model.listenerCount(), 1, "b still holds the store");
  b.release();
  assert.equal(model.listenerCount(), 0);
});
