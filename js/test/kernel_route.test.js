import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildCancelCode,
  buildRouteCode,
  buildSyncCode,
  cancelViaSubshell,
  createRoute,
  kernelOf,
  modelIdOf,
  syncViaSubshell,
} from "../src/kernel_route.js";

test("buildCancelCode quotes validated ids and keys", () => {
  assert.equal(
    buildCancelCode("a1_B-2", ["1", "22"]),
    'import jobwidgets.feed as _r; _r.cancel("a1_B-2", ["1","22"])',
  );
});

test("buildCancelCode refuses anything outside the allowed characters", () => {
  for (const bad of ['a"); import os; ("', "a b", "", "é", null, 5]) {
    assert.throws(() => buildCancelCode(bad, ["1"]), TypeError, String(bad));
  }
  for (const badKeys of [["1a"], ["-1"], [""], [1], ["1", "2)"], [], "1"]) {
    assert.throws(() => buildCancelCode("m", badKeys), TypeError, JSON.stringify(badKeys));
  }
});

test("kernelOf and modelIdOf", () => {
  assert.equal(kernelOf({}), null);
  assert.equal(kernelOf({ widget_manager: {} }), null);
  const kernel = { sendShellMessage() {} };
  assert.equal(kernelOf({ widget_manager: { kernel } }), kernel);
  assert.equal(modelIdOf({ model_id: "x" }, "y"), "y"); // the feed id wins
  assert.equal(modelIdOf({ model_id: "x" }, null), "x");
  assert.equal(modelIdOf({ comm: { comm_id: "c" } }), "c");
  assert.equal(modelIdOf({}, "y"), "y");
  assert.equal(modelIdOf({}), null);
});

function fakeKernel({ subshells = true, replyStatus = "ok" } = {}) {
  const kernel = {
    clientId: "client-1",
    username: "me",
    supportsSubshells: subshells,
    created: 0,
    deleted: [],
    shell: [],
    requestCreateSubshell() {
      kernel.created += 1;
      return { done: Promise.resolve({ content: { status: "ok", subshell_id: `sub-${kernel.created}` } }) };
    },
    requestDeleteSubshell(content) {
      kernel.deleted.push(content.subshell_id);
      return { done: Promise.resolve({}) };
    },
    sendShellMessage(msg, expectReply, disposeOnDone) {
      kernel.shell.push({ msg, expectReply, disposeOnDone });
      return { done: Promise.resolve({ content: { status: replyStatus } }) };
    },
  };
  return kernel;
}

test("cancelViaSubshell creates one subshell lazily, reuses it, and deletes it on dispose", async () => {
  const kernel = fakeKernel();
  const model = { model_id: "m1", widget_manager: { kernel } };
  const route = createRoute();
  assert.equal(kernel.created, 0);
  assert.equal(await cancelViaSubshell(model, ["1"], route), true);
  assert.equal(await cancelViaSubshell(model, ["2", "3"], route), true);
  assert.equal(kernel.created, 1);
  assert.equal(kernel.shell.length, 2);
  const { msg, expectReply } = kernel.shell[1];
  assert.equal(expectReply, true);
  assert.equal(msg.channel, "shell");
  assert.equal(msg.header.msg_type, "execute_request");
  assert.equal(msg.header.subshell_id, "sub-1");
  assert.equal(msg.header.session, "client-1");
  assert.deepEqual(msg.content, {
    code: 'import jobwidgets.feed as _r; _r.cancel("m1", ["2","3"])',
    silent: true,
    store_history: false,
    user_expressions: {},
    allow_stdin: false,
    stop_on_error: false,
  });
  route.dispose();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(kernel.deleted, ["sub-1"]);
  assert.equal(await cancelViaSubshell(model, ["1"], route), false, "a disposed route sends nothing");
});

test("cancelViaSubshell returns false without subshells, kernel, valid id, or on a kernel error", async () => {
  const quiet = console.warn;
  console.warn = () => {};
  try {
    const noSub = fakeKernel({ subshells: false });
    assert.equal(await cancelViaSubshell({ model_id: "m", widget_manager: { kernel: noSub } }, ["1"], createRoute()), false);
    assert.equal(noSub.shell.length, 0);
    assert.equal(await cancelViaSubshell({ model_id: "m" }, ["1"], createRoute()), false);
    const k = fakeKernel();
    assert.equal(await cancelViaSubshell({ widget_manager: { kernel: k } }, ["1"], createRoute()), false, "no model id");
    assert.equal(await cancelViaSubshell({ model_id: "m", widget_manager: { kernel: k } }, ["x"], createRoute()), false);
    assert.equal(k.shell.length, 0);
    const failing = fakeKernel({ replyStatus: "error" });
    assert.equal(await cancelViaSubshell({ model_id: "m", widget_manager: { kernel: failing } }, ["1"], createRoute()), false);
  } finally {
    console.warn = quiet;
  }
});

test("buildRouteCode and buildSyncCode build the sync call with the same validation", () => {
  assert.equal(buildSyncCode("a1_B-2"), 'import jobwidgets.feed as _r; _r.sync("a1_B-2")');
  assert.equal(buildRouteCode("sync", "m"), buildSyncCode("m"));
  assert.equal(buildRouteCode("cancel", "m", ["1"]), buildCancelCode("m", ["1"]));
  for (const bad of ['a"); import os; ("', "a b", "", "é", null, 5]) {
    assert.throws(() => buildSyncCode(bad), TypeError, String(bad));
  }
  assert.throws(() => buildRouteCode("exec", "m"), TypeError);
  assert.throws(() => buildRouteCode("__import__", "m", ["1"]), TypeError);
});

test("syncViaSubshell runs _r.sync silently in the route's subshell, or skips without a model id", async () => {
  const kernel = fakeKernel();
  const route = createRoute();
  assert.equal(await syncViaSubshell({ widget_manager: { kernel } }, route), false, "unknown model id");
  assert.equal(kernel.created, 0, "no subshell for a skipped sync");
  assert.equal(await syncViaSubshell({ widget_manager: { kernel } }, route, "m1"), true);
  assert.equal(await cancelViaSubshell({ widget_manager: { kernel } }, ["4"], route, "m1"), true);
  assert.equal(kernel.created, 1, "sync and cancel share the view's subshell");
  const { msg } = kernel.shell[0];
  assert.equal(msg.header.subshell_id, "sub-1");
  assert.deepEqual(msg.content, {
    code: 'import jobwidgets.feed as _r; _r.sync("m1")',
    silent: true,
    store_history: false,
    user_expressions: {},
    allow_stdin: false,
    stop_on_error: false,
  });
  route.dispose();
});
