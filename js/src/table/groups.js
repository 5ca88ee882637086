// Grouping the table's rows by backend, tag or status, with collapsible group
// headers that count their rows per status.
//
// The body is virtually scrolled, so a group header is an item of the same
// list as the rows (`buildItems`): a 10,000-row table grouped in 50 groups is
// a list of 10,050 items, of which only those in view exist in the DOM. A
// collapsed group keeps its header and drops its rows from the list.
//
// By tag, a job with several tags appears in each of its tags' groups (one
// row per group; its details and selection are the same job's), and a job
// without tags in the group "(no tag)", listed last. Groups by backend and tag
// are in alphabetical order, by status in the statuses' order.
//
// The view owns the grouping (`state.groupBy`) and the collapsed groups
// (`state.collapsed`, ids of groups); nothing here is shared with other views.

import { STATUSES, STATUS_INFO, statusInfo } from "../model.js";
import { h, setAttr, setText } from "../dom.js";

/** What the table can group by: value -> label of the choice. */
export const GROUP_BY = Object.freeze({ "": "No grouping", backend: "Group by backend", tag: "Group by tag", status: "Group by status" });

/** The label of the group of jobs without tags. */
export const NO_TAG = "(no tag)";

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * The body's items: `keys` (already sorted and filtered) under one header per
 * group, rows of collapsed groups left out. A header item is
 * `{group: id, name, label, count, counts, collapsed}`; a row item is its key.
 * Without `groupBy`, `keys` itself.
 *
 * @param {string[]} keys
 * @param {Map<string, object>} rows
 * @param {"" | "backend" | "tag" | "status"} groupBy
 * @param {Set<string>} collapsed  ids of collapsed groups
 */
export function buildItems(keys, rows, groupBy, collapsed) {
  if (!groupBy) return keys;
  const groups = new Map();
  const add = (name, key, status) => {
    let group = groups.get(name);
    if (group === undefined) {
      group = { name, keys: [], counts: Object.fromEntries(STATUSES.map((s) => [s, 0])) };
      groups.set(name, group);
    }
    group.keys.push(key);
    if (group.counts[status] !== undefined) group.counts[status] += 1;
  };
  const byTag = groupBy === "tag";
  for (const key of keys) {
    const row = rows.get(key);
    if (!row) continue;
    if (!byTag) {
      const value = groupBy === "backend" ? row.backend : row.status;
      add(value == null ? "" : String(value), key, row.status);
      continue;
    }
    const tags = row.tags;
    if (!Array.isArray(tags) || tags.length === 0) {
      add(NO_TAG, key, row.status);
      continue;
    }
    for (let i = 0; i < tags.length; i++) {
      if (tags.indexOf(tags[i]) === i) add(String(tags[i]), key, row.status); // each tag once
    }
  }
  const names = [...groups.keys()];
  if (groupBy === "status") names.sort((a, b) => statusInfo(a).order - statusInfo(b).order);
  else names.sort((a, b) => (a === NO_TAG) - (b === NO_TAG) || collator.compare(a, b));
  const items = [];
  for (const name of names) {
    const group = groups.get(name);
    const id = `${groupBy}:${name}`;
    const isCollapsed = collapsed.has(id);
    const known = statusInfo(name).label !== "UNKNOWN";
    const label = groupBy === "status" ? (known ? statusInfo(name).label : name) : name || "(none)";
    items.push({ group: id, name, label, count: group.keys.length, counts: group.counts, collapsed: isCollapsed });
    if (!isCollapsed) for (const key of group.keys) items.push(key);
  }
  return items;
}

/** True for a group header item of `buildItems`. */
export function isGroupItem(item) {
  return typeof item === "object" && item !== null && typeof item.group === "string";
}

/** "3 jobs: 1 Running, 2 Error" for a header's accessible name and title. */
export function groupSummary(item) {
  const parts = STATUSES.filter((s) => item.counts[s] > 0).map((s) => `${item.counts[s]} ${STATUS_INFO[s].label}`);
  const noun = item.count === 1 ? "job" : "jobs";
  return `${item.count} ${noun}${parts.length ? `: ${parts.join(", ")}` : ""}`;
}

/** A group header row's elements, made once and recycled by the body. */
export function createGroupView() {
  const root = h("div", "jw-row jw-group");
  root.setAttribute("role", "row");
  // Out of the Tab order, like the job rows: the grid's one tab stop is set by focus.js.
  root.tabIndex = -1;
  const cell = h("div", "jw-cell jw-group-cell");
  cell.setAttribute("role", "gridcell");
  // For the mouse: the keyboard collapses and expands from the header row (focus.js).
  const toggle = h("button", "jw-group-toggle");
  toggle.type = "button";
  toggle.tabIndex = -1;
  const arrow = h("span", "jw-group-arrow");
  arrow.setAttribute("aria-hidden", "true");
  const label = h("span", "jw-group-label");
  const count = h("span", "jw-group-count");
  toggle.append(arrow, label, count);
  const chips = h("span", "jw-group-chips");
  const chipOf = new Map();
  for (const status of STATUSES) {
    const info = STATUS_INFO[status];
    const chip = h("span", `jw-group-chip ${info.cls}`);
    const icon = h("span", "jw-pill-icon", info.icon);
    icon.setAttribute("aria-hidden", "true");
    const n = h("span", "jw-group-chip-count");
    chip.append(icon, n);
    chip.title = info.label;
    chip.hidden = true;
    chips.appendChild(chip);
    chipOf.set(status, { chip, n });
  }
  cell.append(toggle, chips);
  root.appendChild(cell);
  return { root, toggle, arrow, label, count, chipOf, group: null, header: true };
}

/** Show the header `item` (of `buildItems`) at list position `index` in `view`. */
export function bindGroup(view, item, index) {
  view.group = item.group;
  setAttr(view.root, "aria-rowindex", index + 2);
  setAttr(view.root, "data-group", item.group);
  setAttr(view.toggle, "aria-expanded", String(!item.collapsed));
  const summary = groupSummary(item);
  // The row the keyboard is on says its state: aria-expanded is the button's (a
  // grid's rows can't have it; a treegrid's can).
  setAttr(view.root, "aria-label", `Group ${item.label}, ${item.collapsed ? "collapsed" : "expanded"}, ${summary}`);
  setAttr(view.toggle, "aria-label", `${item.collapsed ? "Expand" : "Collapse"} group ${item.label}, ${summary}`);
  setAttr(view.root, "title", summary);
  setText(view.arrow, item.collapsed ? "\u25B8" : "\u25BE");
  setText(view.label, item.label);
  setText(view.count, `(${item.count})`);
  for (const [status, { chip, n }] of view.chipOf) {
    const c = item.counts[status] ?? 0;
    chip.hidden = c === 0;
    setText(n, c);
  }
}
