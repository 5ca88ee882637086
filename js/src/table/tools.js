// The toolbar's tag filter, grouping choice and export buttons.
//
// They change only the view's own state (`filter.tag`, `groupBy`); the
// export reads the rows the view shows (`state.viewKeys`: filtered and
// sorted) from the store. The tag choices are the tags of the rows now, in
// alphabetical order (a chosen tag stays listed while no row has it). In the
// History view (read-only, filtered by the server) they are hidden: it has its
// own export, of every matching past job.

import { h, listen } from "../dom.js";
import { GROUP_BY } from "./groups.js";
import { exportFile, exportRecords, saveFile } from "./export.js";

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * @param {object} view
 * @param {object} view.store   the model's row store
 * @param {ReturnType<typeof import("./state.js").createViewState>} view.state
 * @param {object} actions
 * @param {() => void} actions.filterChanged  the tag filter or the grouping changed
 * @param {(name: string, text: string, mime: string) => void} [actions.save]  saves a file
 */
export function createTools({ store, state }, actions) {
  const tagSelect = h("select", "jw-input jw-filter-tag");
  tagSelect.setAttribute("aria-label", "Filter jobs by tag");
  tagSelect.appendChild(new Option("All tags", ""));
  const groupSelect = h("select", "jw-input jw-group-by");
  groupSelect.setAttribute("aria-label", "Group jobs");
  for (const [value, label] of Object.entries(GROUP_BY)) groupSelect.appendChild(new Option(label, value));
  const exportCsv = h("button", "jw-btn jw-export-csv", "Export CSV");
  exportCsv.type = "button";
  exportCsv.title = "Download the rows shown (filtered, sorted) as CSV";
  const exportJson = h("button", "jw-btn jw-export-json", "Export JSON");
  exportJson.type = "button";
  exportJson.title = "Download the rows shown (filtered, sorted) as JSON";
  const elements = [tagSelect, groupSelect, exportCsv, exportJson];
  const hidden = state.readonly || state.remoteFilter;
  for (const el of elements) el.hidden = hidden;
  const save = actions.save ?? saveFile;

  let shownTags = "";
  /** Refresh the tag choices and the buttons (part of the header's render). */
  function render() {
    if (hidden) return;
    const tags = new Set();
    for (const row of store.rows.values()) if (Array.isArray(row.tags)) for (const t of row.tags) tags.add(String(t));
    if (state.filter.tag) tags.add(state.filter.tag);
    const sorted = [...tags].sort(collator.compare);
    const signature = sorted.join("\u0000");
    if (signature !== shownTags) {
      shownTags = signature;
      tagSelect.replaceChildren(new Option("All tags", ""), ...sorted.map((t) => new Option(t, t)));
    }
    if (tagSelect.value !== state.filter.tag) tagSelect.value = state.filter.tag;
    if (groupSelect.value !== state.groupBy) groupSelect.value = state.groupBy;
    tagSelect.disabled = sorted.length === 0;
    const none = state.viewKeys.length === 0;
    exportCsv.disabled = none;
    exportJson.disabled = none;
  }

  /** Download the rows shown as `format` ("csv" or "json"). */
  function exportAs(format) {
    const file = exportFile(format, exportRecords(state.viewKeys, store.rows, store.now()));
    save(file.name, file.text, file.mime);
  }

  const cleanups = [
    listen(tagSelect, "change", () => {
      state.filter.tag = tagSelect.value;
      state.dirty.filter = true;
      state.dirty.header = true;
      actions.filterChanged();
    }),
    listen(groupSelect, "change", () => {
      state.groupBy = groupSelect.value;
      state.collapsed.clear();
      state.dirty.filter = true;
      actions.filterChanged();
    }),
    listen(exportCsv, "click", () => exportAs("csv")),
    listen(exportJson, "click", () => exportAs("json")),
  ];

  return {
    elements,
    render,
    exportAs,
    dispose() {
      for (const off of cleanups) off();
    },
  };
}
