import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { FakeModel, XSS, installDom, timers } from "../test-support/helpers.js";

installDom();
const { default: badge } = await import("../src/badge.js");

// A failed assertion skips a test's own cleanup; this stops its timers anyway.
const mounted = [];
afterEach(() => mounted.splice(0).forEach((cleanup) => cleanup()));

function mount({ kernel_time = 0, ...fields } = {}) {
  const model = new FakeModel({
    row: {
      key: "1",
      status: "QUEUED",
      job_id: "abc",
      backend: "local",
      created_at: null,
      submitted_at: null,
      started_at: null,
      finished_at: null,
      progress: null,
      error: null,
      traceback: null,
      cancel_state: null,
      cancel_message: null,
      ...fields,
    },
    kernel_time,
  });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = badge.render({ model, el });
  mounted.push(cleanup);
  return { model, el, cleanup, pill: el.querySelector(".jw-badge") };
}

test("badge shows icon, label, job id and elapsed time, with an accessible status role", () => {
  const t = Date.now() / 1000;
  const { pill, cleanup } = mount({ status: "RUNNING", job_id: "job-7", started_at: t - 185, submitted_at: t - 200 });
  assert.equal(pill.getAttribute("role"), "status");
  assert.equal(pill.getAttribute("aria-live"), "polite");
  assert.equal(pill.getAttribute("aria-label"), "Job job-7: RUNNING on local");
  assert.ok(pill.classList.contains("jw-st-running"));
  assert.equal(pill.querySelector(".jw-pill-icon").textContent, "\u25B6"); // ▶, as the kernel's text
  assert.equal(pill.querySelector(".jw-pill-label").textContent, "RUNNING");
  assert.equal(pill.querySelector(".jw-badge-id").textContent, "job-7");
  assert.match(pill.querySelector(".jw-badge-elapsed").textContent, /^running 3m 0[56]s$/);
  assert.equal(pill.querySelector(".jw-badge-elapsed").getAttribute("aria-hidden"), "true");
  cleanup();
});

test("badge shows markup in a job id and an error as characters", () => {
  const { pill, el, cleanup } = mount({ status: "ERROR", job_id: XSS, error: `boom ${XSS}` });
  assert.equal(el.querySelector("img"), null);
  assert.equal(pill.querySelector(".jw-badge-id").textContent, XSS);
  const tip = document.getElementById(pill.getAttribute("aria-describedby"));
  assert.equal(tip.textContent, `boom ${XSS}`);
  assert.equal(tip.querySelector("img"), null);
  assert.equal(pill.getAttribute("title"), `boom ${XSS}`);
  assert.equal(pill.getAttribute("tabindex"), "0", "focusable so the error shows on keyboard focus");
  assert.match(pill.getAttribute("aria-label"), /Error: boom <img/);
  cleanup();
});

test("badge follows its row; ticking stops when final; cleanup removes everything", () => {
  const before = timers.intervals.size;
  const { model, pill, el, cleanup } = mount({ status: "QUEUED", submitted_at: Date.now() / 1000 - 12 });
  assert.equal(timers.intervals.size, before + 1, "ticks while queued");
  assert.match(pill.querySelector(".jw-badge-elapsed").textContent, /^queued 1[23]s$/);
  assert.equal(pill.hasAttribute("tabindex"), false);
  const queued = model.get("row");
  model.set("row", {
    ...queued,
    status: "DONE",
    started_at: queued.submitted_at + 2,
    finished_at: queued.submitted_at + 6.2,
  });
  assert.equal(pill.querySelector(".jw-badge-elapsed").textContent, "done in 6.2s");
  assert.ok(pill.classList.contains("jw-st-done"));
  assert.equal(timers.intervals.size, before, "no ticking when final");
  cleanup();
  assert.equal(model.listenerCount(), 0);
  assert.equal(el.children.length, 0);
});

test("badge corrects the browser clock with kernel_time", () => {
  const browserNow = Date.now() / 1000;
  // The kernel clock is 100 s behind the browser's; the job was submitted 10 s ago by the kernel clock.
  const { pill, cleanup } = mount({ kernel_time: browserNow - 100, submitted_at: browserNow - 110 });
  assert.match(pill.querySelector(".jw-badge-elapsed").textContent, /^queued 1[01]s$/);
  cleanup();
});

test("the error tooltip lives in the page's body, shows on hover and focus, and goes with the view", () => {
  const { pill, cleanup } = mount({ status: "ERROR", error: "boom" });
  const tip = document.getElementById(pill.getAttribute("aria-describedby"));
  assert.equal(tip.parentNode, document.body, "outside the output area, which would clip it");
  assert.equal(tip.getAttribute("role"), "tooltip");
  assert.equal(tip.hidden, true);
  pill.dispatchEvent(new MouseEvent("mouseenter"));
  assert.equal(tip.hidden, false);
  assert.match(tip.style.top, /^\d+px$/);
  pill.dispatchEvent(new MouseEvent("mouseleave"));
  assert.equal(tip.hidden, true);
  pill.dispatchEvent(new Event("focus"));
  assert.equal(tip.hidden, false);
  pill.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
  assert.equal(tip.hidden, true, "Escape dismisses it");
  pill.dispatchEvent(new Event("blur"));
  pill.dispatchEvent(new Event("focus"));
  assert.equal(tip.hidden, false);
  cleanup();
  assert.equal(tip.isConnected, false);
});

test("a badge without an error shows no tooltip", () => {
  const { pill } = mount({ status: "DONE" });
  pill.dispatchEvent(new MouseEvent("mouseenter"));
  assert.equal(pill.hasAttribute("aria-describedby"), false);
  assert.equal(document.querySelectorAll(".jw-tooltip:not([hidden])").length, 0);
});
