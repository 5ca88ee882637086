// What one table view shows, apart from the rows themselves, and which parts of
// its DOM are out of date.
//
// The rows, the clock offset and the cancel states belong to the model's store
// (../store.js), shared by every view of the model. A view owns the state made
// here: its sort, filter, selection, the keyboard's row (a key, see focus.js),
// the key lists derived from the store, and the dirty flags. Everything runs on the page's one thread; the flags are set
// by event handlers and cleared by the view's frame (`flush` in ../table.js),
// which renders the parts they name, in this order:
//
//   order    re-sort the keys (then `filter`)
//   filter   re-filter the sorted keys, and group them (then `body`)
//   header   recount the statuses and render the header, toolbar, confirm and
//            the column heads' sort arrows
//   body     render every visible row (else only visible rows that changed)
//   details  render the details of the selected row

import { countByStatus, filterRows, isFinal, sortRows } from "../model.js";
import { buildItems } from "./groups.js";

/** @typedef {import("../index.js").IRow} IRow */

/** The names of the dirty flags, in the order a frame handles them. */
export const PARTS = Object.freeze(["order", "filter", "header", "body", "details"]);

/** A new view's state: nothing derived yet, everything dirty. */
export function createViewState() {
  return {
    /** @type {string[]} every key, in display order */
    sortedKeys: [],
    /** @type {string[]} `sortedKeys` after the filter: the rows shown (and exported) */
    viewKeys: [],
    /** @type {Array<string | object>} what the body lists: `viewKeys`, or group headers
     *  and the keys of the expanded groups (./groups.js) */
    items: [],
    /** @type {"" | "backend" | "tag" | "status"} what the rows are grouped by */
    groupBy: "",
    /** @type {Set<string>} ids of the collapsed groups */
    collapsed: new Set(),
    /** rows per status, for the chips and the toolbar */
    counts: countByStatus([]),
    /** @type {{column: string | null, direction: "asc" | "desc"}} */
    sort: { column: null, direction: "asc" },
    filter: { status: "", text: "", tag: "" },
    /** the filter is the kernel's or server's job (the History view): rows come filtered */
    remoteFilter: false,
    /** past jobs (the History view): no Cancel, no Clear finished */
    readonly: false,
    /** the rows take the narrow layout (two lines each); set by the columns (columns.js) */
    narrow: false,
    /** @type {string | null} the row whose details are open */
    selectedKey: null,
    /** @type {string | null} the row the keyboard is on (the grid's tab stop); null: the first */
    focusKey: null,
    /** @type {string | null} the group header the keyboard is on (its id, ./groups.js), then `focusKey` is null */
    focusGroup: null,
    /** where `focusKey` or `focusGroup` was last seen in `items` (the row then there takes over when it goes) */
    focusIndex: 0,
    /** the keyboard is on that row's Cancel button rather than on the row */
    focusCancel: false,
    /** @type {Set<string>} keys of rows changed since the last frame */
    changedKeys: new Set(),
    /** @type {Record<"order" | "filter" | "header" | "body" | "details", boolean>} */
    dirty: Object.fromEntries(PARTS.map((part) => [part, true])),
  };
}

/** Mark every part dirty (a reset, or the table switched to or from compact). */
export function markAll(state) {
  for (const part of PARTS) state.dirty[part] = true;
}

/** True when a status, tag or text filter is set. */
export function isFiltering(state) {
  return Boolean(state.filter.status || state.filter.tag || state.filter.text.trim());
}

/** Recompute `sortedKeys` from the store's rows (kernel order when unsorted). */
export function orderKeys(state, rows, now) {
  const all = Array.from(rows.values());
  const { column, direction } = state.sort;
  state.sortedKeys = (column ? sortRows(all, column, direction, now) : all).map((r) => r.key);
}

/** Recompute `viewKeys` from `sortedKeys` and the filter, then `items` (grouped). */
export function filterKeys(state, rows) {
  if (state.remoteFilter || !isFiltering(state)) {
    state.viewKeys = state.sortedKeys;
  } else {
    const candidates = state.sortedKeys.map((key) => rows.get(key));
    state.viewKeys = filterRows(candidates, state.filter).map((r) => r.key);
  }
  state.items = buildItems(state.viewKeys, rows, state.groupBy, state.collapsed);
}

/**
 * @param {Map<string, IRow>} rows
 * @returns {string[]} the keys of the rows not in a final state
 */
export function activeKeys(rows) {
  const keys = [];
  for (const row of rows.values()) if (!isFinal(row.status)) keys.push(row.key);
  return keys;
}
