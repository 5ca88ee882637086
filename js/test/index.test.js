import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import * as surface from "../src/index.js";

const declarations = readFileSync(new URL("../src/index.d.ts", import.meta.url), "utf8");

test("index.d.ts declares exactly the values index.js exports", () => {
  const declared = [...declarations.matchAll(/^export declare (?:const|function) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(declared.sort(), Object.keys(surface).sort());
});

test("the surface is the table view, its store and the formatting it shares", () => {
  assert.equal(typeof surface.tableView.initialize, "function");
  assert.equal(typeof surface.tableView.render, "function");
  assert.equal(surface.formatDuration(65), "1m 05s");
  assert.equal(surface.isFinal("DONE"), true);
  const model = { get() {}, on() {}, off() {}, send() {} };
  assert.equal(surface.acquireStore(model).store, surface.storeOf(model));
});
