// The table's live region: what screen readers hear while jobs change state.
//
// A short summary of the jobs' states ("3 running, 12 done, 1 failed"), at most
// once every ANNOUNCE_MS, with the jobs that failed since the last announcement
// ("Job many-3 failed: boom."; coalesced when many did). Never one announcement
// per row change: changes only schedule the next announcement.
//
// State ownership: the announcer owns its region element, the failures not yet
// announced, the summary it last announced and its one timer. The view calls
// `changed`, `failed` and `baseline` from its store events (the page's one
// thread) and `dispose` on cleanup, which stops the timer.

import { STATUSES } from "../model.js";
import { h, setText } from "../dom.js";

/** At most one announcement per this many milliseconds. */
export const ANNOUNCE_MS = 3000;
/** A first change waits this long for the rest of its burst. */
export const GATHER_MS = 1000;
/** Failures named one by one, up to this many; the rest are counted. */
const NAMED_FAILURES = 3;
const ERROR_CHARS = 120;

const WORDS = {
  INITIALIZING: "initializing",
  QUEUED: "queued",
  VALIDATING: "validating",
  RUNNING: "running",
  CANCELLED: "cancelled",
  DONE: "done",
  ERROR: "failed",
};

/** "3 running, 12 done, 1 failed" from counts per status ("no jobs" when empty). */
export function summaryText(counts) {
  const parts = [];
  for (const status of STATUSES) if (counts[status] > 0) parts.push(`${counts[status]} ${WORDS[status]}`);
  return parts.length ? parts.join(", ") : "no jobs";
}

/** One sentence for the jobs that failed: `failures` is [{jobId, error}]. */
export function failureText(failures) {
  if (failures.length === 1) {
    const { jobId, error } = failures[0];
    const message = error == null ? "" : String(error).split("\n")[0].trim();
    const short = message.length > ERROR_CHARS ? `${message.slice(0, ERROR_CHARS - 1)}\u2026` : message;
    return short ? `Job ${jobId} failed: ${short}.` : `Job ${jobId} failed.`;
  }
  const ids = failures.map((f) => f.jobId);
  if (ids.length <= NAMED_FAILURES) return `Jobs ${ids.slice(0, -1).join(", ")} and ${ids.at(-1)} failed.`;
  const more = ids.length - NAMED_FAILURES;
  return `${ids.length} jobs failed: ${ids.slice(0, NAMED_FAILURES).join(", ")} and ${more} more.`;
}

/**
 * @param {() => Record<string, number>} countsNow  the rows per status, now
 * @param {object} [clock]  `now()` in ms, `setTimeout`, `clearTimeout` (tests inject one)
 */
export function createAnnouncer(countsNow, clock = defaultClock) {
  const region = h("div", "jw-live");
  region.setAttribute("role", "status");
  region.setAttribute("aria-live", "polite");
  region.setAttribute("aria-atomic", "true");
  let timer = null;
  let last = -Infinity;
  let lastSummary = null;
  let failures = [];
  let disposed = false;

  function schedule() {
    if (timer !== null || disposed) return;
    const wait = Math.max(GATHER_MS, last + ANNOUNCE_MS - clock.now());
    timer = clock.setTimeout(announce, wait);
  }

  function announce() {
    timer = null;
    if (disposed) return;
    const summary = summaryText(countsNow());
    if (summary === lastSummary && failures.length === 0) return;
    last = clock.now();
    const text = failures.length ? `${failureText(failures)} ${summary}` : summary;
    failures = [];
    lastSummary = summary;
    setText(region, text);
  }

  return {
    element: region,
    /** The rows changed: announce the summary soon (at most once per ANNOUNCE_MS). */
    changed: schedule,
    /** Job `jobId` failed with `error`: say so in the next announcement. */
    failed(jobId, error) {
      failures.push({ jobId: jobId == null ? "(no id yet)" : String(jobId), error });
      schedule();
    },
    /** The rows as they are now are known (a reset): nothing to announce about them. */
    baseline() {
      lastSummary = summaryText(countsNow());
      failures = [];
    },
    dispose() {
      disposed = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}

const defaultClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};
