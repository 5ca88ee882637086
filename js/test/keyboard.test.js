// The table's keyboard and screen-reader behaviour: one tab stop for the grid,
// arrow keys between rows, focus kept on its job by key while rows re-sort or
// recycle, focus after Cancel and after closing the details, and the live
// region's throttled summaries.
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, installDom, makeRow, settle } from "../test-support/helpers.js";

installDom();
const { default: table } = await import("../src/table.js");
const { ROW_HEIGHT } = await import("../src/model.js");
const { ANNOUNCE_MS, GATHER_MS, createAnnouncer, failureText, summaryText } = await import(
  "../src/table/announce.js"
);

const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

async function mount(rows, state = {}) {
  const model = new FakeModel({ compact: false, title: "Jobs", ...state });
  mounted.push(table.initialize({ model }));
  const el = document.createElement("div");
  document.body.appendChild(el);
  mounted.push(table.render({ model, el }));
  model.receive({ type: "reset", rows, kernel_time: Date.now() / 1000 });
  await settle();
  return { model, el };
}

const bodyRows = (el) => [...el.querySelectorAll(".jw-body .jw-row")];
const idOf = (node) => node?.closest(".jw-row")?.querySelector(".jw-c-id").textContent;
const press = (key, target = document.activeElement) =>
  target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
const many = (n, fields = () => ({})) =>
  Array.from({ length: n }, (_, i) => makeRow(String(i), { job_id: `many-${i}`, status: "RUNNING", ...fields(i) }));

test("the grid is one tab stop: one row has tabindex 0, rows and Cancel buttons -1", async () => {
  const { el } = await mount(many(30));
  assert.equal(el.querySelector(".jw-grid").getAttribute("role"), "grid");
  const stops = [...el.querySelectorAll(".jw-scroll, .jw-scroll *")].filter((n) => n.tabIndex === 0);
  assert.equal(stops.length, 1);
  assert.equal(idOf(stops[0]), "many-0");
  assert.ok(el.querySelectorAll(".jw-body [role=gridcell]").length > 0);
  for (const button of el.querySelectorAll(".jw-cancel")) assert.equal(button.tabIndex, -1);
});

test("arrow keys, Home, End and PageDown move between rows and scroll the body", async () => {
  const { el } = await mount(many(10000));
  const scroller = el.querySelector(".jw-scroll");
  bodyRows(el)[0].focus();
  press("ArrowDown");
  assert.equal(idOf(document.activeElement), "many-1");
  press("ArrowUp");
  press("ArrowUp"); // stays on the first row
  assert.equal(idOf(document.activeElement), "many-0");
  press("PageDown");
  const page = Math.floor(360 / ROW_HEIGHT) - 1;
  assert.equal(idOf(document.activeElement), `many-${page}`);
  press("End");
  assert.equal(idOf(document.activeElement), "many-9999");
  assert.equal(scroller.scrollTop, 10000 * ROW_HEIGHT - 360);
  assert.equal(document.activeElement.getAttribute("aria-rowindex"), "10001");
  press("Home");
  assert.equal(idOf(document.activeElement), "many-0");
  assert.equal(scroller.scrollTop, 0);
  // still one tab stop, on the focused row
  const stops = [...el.querySelectorAll(".jw-scroll, .jw-scroll *")].filter((n) => n.tabIndex === 0);
  assert.deepEqual(stops, [document.activeElement]);
});

test("group headers are rows of the grid: arrows land on them, Enter/Space/Left/Right collapse and expand; one tab stop", async () => {
  const rows = [
    makeRow("1", { job_id: "many-1", status: "RUNNING", tags: ["gpu"] }),
    makeRow("2", { job_id: "many-2", status: "RUNNING", tags: ["nightly"] }),
    makeRow("3", { job_id: "many-3", status: "DONE", tags: ["nightly"] }),
  ];
  const { model, el } = await mount(rows);
  const groupBy = el.querySelector(".jw-group-by");
  groupBy.value = "tag";
  groupBy.dispatchEvent(new window.Event("change"));
  await settle();
  const stops = () => [...el.querySelectorAll(".jw-scroll, .jw-scroll *")].filter((n) => n.tabIndex === 0);
  const jobOf = (node) => node?.closest(".jw-row")?.querySelector(".jw-id-text")?.textContent;
  const headerOf = (node) => node?.closest(".jw-group")?.getAttribute("data-group") ?? null;
  const listed = () => bodyRows(el).map((r) => headerOf(r) ?? jobOf(r));
  // one tab stop: the first header; its collapse button is out of the Tab order
  assert.equal(stops().length, 1);
  assert.equal(headerOf(stops()[0]), "tag:gpu");
  for (const button of el.querySelectorAll(".jw-group-toggle")) assert.equal(button.tabIndex, -1);
  stops()[0].focus();
  press("ArrowDown");
  assert.equal(jobOf(document.activeElement), "many-1");
  press("ArrowDown"); // onto the next header
  assert.equal(headerOf(document.activeElement), "tag:nightly");
  assert.equal(document.activeElement.getAttribute("aria-label"), "Group nightly, expanded, 2 jobs: 1 RUNNING, 1 DONE");
  press("Enter"); // collapses it: its rows go, focus stays on the header
  await settle();
  assert.deepEqual(listed(), ["tag:gpu", "many-1", "tag:nightly"]);
  assert.equal(headerOf(document.activeElement), "tag:nightly");
  assert.match(document.activeElement.getAttribute("aria-label"), /^Group nightly, collapsed, 2 jobs/);
  assert.equal(document.activeElement.querySelector(".jw-group-toggle").getAttribute("aria-expanded"), "false");
  press("Enter"); // expands it
  await settle();
  assert.deepEqual(listed(), ["tag:gpu", "many-1", "tag:nightly", "many-2", "many-3"]);
  assert.equal(headerOf(document.activeElement), "tag:nightly");
  press(" "); // Space collapses
  await settle();
  assert.equal(listed().length, 3);
  press("ArrowLeft"); // already collapsed: stays so
  await settle();
  assert.equal(listed().length, 3);
  press("ArrowRight"); // expands
  await settle();
  assert.equal(listed().length, 5);
  press("ArrowRight"); // already expanded: stays so
  await settle();
  assert.equal(listed().length, 5);
  press("ArrowLeft"); // collapses
  await settle();
  assert.equal(listed().length, 3);
  assert.equal(headerOf(document.activeElement), "tag:nightly");
  // the rows re-sort and regroup under it: focus stays on the header, by its group
  model.receive({
    type: "delta",
    upsert: [makeRow("4", { job_id: "many-4", status: "RUNNING", tags: ["cpu"] })],
    remove: [],
    kernel_time: Date.now() / 1000,
  });
  await settle();
  assert.deepEqual(listed(), ["tag:cpu", "many-4", "tag:gpu", "many-1", "tag:nightly"]);
  assert.equal(headerOf(document.activeElement), "tag:nightly");
  press("ArrowUp");
  assert.equal(jobOf(document.activeElement), "many-1");
  press("Home");
  assert.equal(headerOf(document.activeElement), "tag:cpu");
  press("End");
  assert.equal(headerOf(document.activeElement), "tag:nightly");
  assert.deepEqual(stops(), [document.activeElement]);
  // the button still works with the mouse
  el.querySelectorAll(".jw-group-toggle")[2].click();
  await settle();
  assert.equal(listed().length, 7);
});

test("focus stays on its job when the rows re-sort under it", async () => {
  const { model, el } = await mount(many(40));
  const status = [...el.querySelectorAll(".jw-head .jw-sort")].find((b) => b.textContent.startsWith("Status"));
  status.click();
  await settle();
  const row = bodyRows(el).find((r) => idOf(r) === "many-3");
  row.focus();
  press("ArrowRight"); // onto its Cancel button
  assert.equal(document.activeElement.getAttribute("aria-label"), "Cancel job many-3");
  // jobs before it finish: sorted by status, the rows move (and their elements recycle)
  model.receive({
    type: "delta",
    upsert: [0, 1, 2].map((i) => makeRow(String(i), { job_id: `many-${i}`, status: "DONE" })),
    remove: [],
    kernel_time: Date.now() / 1000,
  });
  await settle();
  assert.equal(document.activeElement.getAttribute("aria-label"), "Cancel job many-3");
  press("ArrowLeft");
  assert.equal(idOf(document.activeElement), "many-3");
  // many-3 moves to the end (ERROR sorts last): the body follows it
  model.receive({
    type: "delta",
    upsert: [makeRow("3", { job_id: "many-3", status: "ERROR" })],
    remove: [],
    kernel_time: Date.now() / 1000,
  });
  await settle();
  assert.equal(idOf(document.activeElement), "many-3");
  assert.equal(document.activeElement.getAttribute("aria-rowindex"), "41");
  // the user scrolls it out of view: focus goes to the grid, never to another job
  const scroller = el.querySelector(".jw-scroll");
  scroller.scrollTop = 0;
  scroller.dispatchEvent(new Event("scroll"));
  await settle();
  assert.ok(document.activeElement.classList.contains("jw-scroll"));
  assert.equal(scroller.tabIndex, 0); // the grid's one tab stop while its row is away
  assert.equal(bodyRows(el).filter((r) => r.tabIndex === 0).length, 0);
  // a job changing state re-sorts the rows: focus stays on the grid, the view stays put
  model.receive({
    type: "delta",
    upsert: [makeRow("5", { job_id: "many-5", status: "DONE" })],
    remove: [],
    kernel_time: Date.now() / 1000,
  });
  await settle();
  assert.ok(document.activeElement.classList.contains("jw-scroll"));
  assert.equal(scroller.scrollTop, 0);
  press("ArrowUp"); // from many-3 (last): the row before it
  assert.equal(document.activeElement.getAttribute("aria-rowindex"), "40");
  press("End"); // many-3 is now last (ERROR sorts last)
  assert.equal(idOf(document.activeElement), "many-3");
});

test("after Cancel focus is on that row; Escape closes the details and focus returns", async () => {
  const { model, el } = await mount(many(5));
  const row = bodyRows(el)[2];
  row.focus();
  press("ArrowRight");
  const button = document.activeElement;
  assert.ok(button.classList.contains("jw-cancel"));
  button.click();
  await settle();
  assert.deepEqual(model.sent.find((m) => m.type === "cancel"), { type: "cancel", keys: ["2"] });
  assert.equal(idOf(document.activeElement), "many-2");
  assert.ok(document.activeElement.classList.contains("jw-row"));

  press("Enter");
  await settle();
  const details = el.querySelector(".jw-details");
  assert.equal(details.hidden, false);
  details.querySelector("button").focus(); // Close
  press("Escape");
  assert.equal(details.hidden, true);
  assert.equal(idOf(document.activeElement), "many-2");

  press(" ");
  await settle();
  assert.equal(details.hidden, false);
  details.querySelector("button").focus(); // a click focuses the button first
  details.querySelector("button").click(); // Close with the button
  assert.equal(details.hidden, true);
  assert.equal(idOf(document.activeElement), "many-2");

  press("Enter");
  await settle();
  press("Escape"); // Escape on the row closes them too
  assert.equal(details.hidden, true);
  assert.equal(idOf(document.activeElement), "many-2");
});

test("keys in the table don't reach JupyterLab's shortcuts; Ctrl+ keys do", async () => {
  const { el } = await mount(many(3));
  assert.ok(el.querySelector(".jw-table").hasAttribute("data-lm-suppress-shortcuts"));
  const seen = [];
  const onDoc = (e) => seen.push(`${e.ctrlKey ? "Ctrl+" : ""}${e.key}`);
  document.addEventListener("keydown", onDoc);
  const select = el.querySelector("select.jw-filter-status");
  for (const [key, ctrlKey] of [["ArrowDown", false], ["Enter", false], ["s", true]]) {
    select.dispatchEvent(new KeyboardEvent("keydown", { key, ctrlKey, bubbles: true, cancelable: true }));
  }
  document.removeEventListener("keydown", onDoc);
  assert.deepEqual(seen, ["Ctrl+s"]);
});

test("the panel's column order is the DOM order of the head and the cells", async () => {
  const order = ["status", "job_id", "actions", "progress", "run", "queue", "submitted", "backend"];
  const { el } = await mount(many(2), { column_order: order });
  const heads = [...el.querySelectorAll(".jw-head [role=columnheader]")].map((c) => c.className);
  assert.deepEqual(
    heads.map((c) => c.match(/jw-c-(\w+)/)[1]),
    ["status", "id", "actions", "progress", "run", "queue", "submitted", "backend"],
  );
  const cells = [...bodyRows(el)[0].children].map((c) => c.className.match(/jw-c-(\w+)/)[1]);
  assert.deepEqual(cells, heads.map((c) => c.match(/jw-c-(\w+)/)[1]));
});

// ------------------------------------------------------------------ live region

function fakeClock() {
  const clock = {
    t: 0,
    timers: [],
    now: () => clock.t,
    setTimeout(fn, ms) {
      const timer = { fn, at: clock.t + ms };
      clock.timers.push(timer);
      return timer;
    },
    clearTimeout(timer) {
      clock.timers = clock.timers.filter((t) => t !== timer);
    },
    advance(ms) {
      clock.t += ms;
      for (;;) {
        const due = clock.timers.filter((t) => t.at <= clock.t);
        if (!due.length) return;
        clock.timers = clock.timers.filter((t) => !due.includes(t));
        for (const t of due) t.fn();
      }
    },
  };
  return clock;
}

test("summary and failure texts", () => {
  assert.equal(summaryText({ RUNNING: 3, DONE: 12, ERROR: 1, QUEUED: 0 }), "3 running, 12 done, 1 failed");
  assert.equal(summaryText({}), "no jobs");
  assert.equal(failureText([{ jobId: "a", error: "boom\nmore" }]), "Job a failed: boom.");
  assert.equal(failureText([{ jobId: "a" }, { jobId: "b" }]), "Jobs a and b failed.");
  assert.equal(
    failureText(["a", "b", "c", "d", "e"].map((jobId) => ({ jobId }))),
    "5 jobs failed: a, b, c and 2 more.",
  );
});

test("the live region announces at most once per ANNOUNCE_MS, never per row change", () => {
  const clock = fakeClock();
  const counts = { RUNNING: 100, DONE: 0, ERROR: 0 };
  const announcer = createAnnouncer(() => ({ ...counts }), clock);
  const region = announcer.element;
  assert.equal(region.getAttribute("aria-live"), "polite");
  announcer.baseline();
  const texts = [];
  const observe = () => {
    if (region.textContent && region.textContent !== texts.at(-1)) texts.push(region.textContent);
  };
  // 100 jobs change state over 5 s, one every 50 ms; one of them fails
  for (let i = 0; i < 100; i++) {
    counts.RUNNING -= 1;
    if (i === 10) {
      counts.ERROR += 1;
      announcer.failed("many-10", "ValueError: boom");
    } else counts.DONE += 1;
    announcer.changed();
    clock.advance(50);
    observe();
  }
  clock.advance(ANNOUNCE_MS);
  observe();
  assert.ok(texts.length <= 1 + Math.ceil(5000 / ANNOUNCE_MS) + 1, texts.join(" | "));
  assert.equal(texts[0].startsWith("Job many-10 failed: ValueError: boom."), true, texts[0]);
  assert.equal(texts.at(-1), "99 done, 1 failed");
  assert.equal(clock.timers.length, 0);
  // nothing changed: nothing announced, no timer left
  announcer.changed();
  clock.advance(GATHER_MS + ANNOUNCE_MS);
  assert.equal(region.textContent, "99 done, 1 failed");
  announcer.changed();
  announcer.dispose();
  assert.equal(clock.timers.length, 0);
});

test("the table's live region says what changed, and a failure", async () => {
  const { model, el } = await mount(many(4));
  const region = el.querySelector(".jw-live");
  assert.equal(region.getAttribute("role"), "status");
  assert.equal(region.textContent, ""); // the first rows are not news
  model.receive({
    type: "delta",
    upsert: [makeRow("0", { job_id: "many-0", status: "ERROR", error: "boom" }), makeRow("1", { job_id: "many-1", status: "DONE" })],
    remove: [],
    kernel_time: Date.now() / 1000,
  });
  await new Promise((resolve) => setTimeout(resolve, GATHER_MS + 100));
  assert.equal(region.textContent, "Job many-0 failed: boom. 2 running, 1 done, 1 failed");
});

test("after Cancel all's Yes focus goes to the rows, not to the page", async () => {
  const { model, el } = await mount(many(4));
  const cancelAll = el.querySelector(".jw-toolbar .jw-btn-danger");
  cancelAll.focus();
  cancelAll.click();
  const yes = el.querySelector(".jw-confirm .jw-btn-danger");
  yes.focus();
  yes.click();
  assert.deepEqual(model.sent.at(-1), { type: "cancel_all" });
  assert.equal(idOf(document.activeElement), "many-0");
});
