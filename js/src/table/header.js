// The table's header (title, a chip per status, the "kernel busy" note), its
// toolbar (text and status filters, Cancel all, Clear finished) and the
// in-widget confirmation of Cancel all.
//
// The header reads the view's state (counts, filter) and changes only its
// filter; everything else it asks of the view through `actions`. Its DOM is
// rendered by `render()`, when the view's `header` flag is dirty.

import { STATUSES, STATUS_INFO } from "../model.js";
import { h, listen, setAttr, setText } from "../dom.js";
import { kernelOf, mainShellBusy } from "../kernel_route.js";

/**
 * @param {object} view
 * @param {object} view.model   the widget model (`title`, `compact`)
 * @param {object} view.store   the model's row store
 * @param {ReturnType<typeof import("./state.js").createViewState>} view.state
 * @param {object} actions
 * @param {() => void} actions.filterChanged  the filter changed: re-filter, back to the top
 * @param {() => void} actions.cancelAll      the user confirmed Cancel all (focus is then the view's)
 * @param {() => void} actions.flush          render the dirty parts now
 */
export function createHeader({ model, store, state }, actions) {
  const header = h("div", "jw-header");
  const title = h("div", "jw-title");
  const chips = h("div", "jw-chips");
  chips.setAttribute("role", "group");
  chips.setAttribute("aria-label", "Jobs per status");
  const busyNote = h("span", "jw-busy-note", "kernel busy");
  busyNote.title = "The kernel is running a cell; cancel requests may wait for it.";
  header.append(title, chips, busyNote);

  const chipViews = new Map();
  for (const status of STATUSES) {
    const info = STATUS_INFO[status];
    const chip = h("button", `jw-chip ${info.cls}`);
    chip.type = "button";
    const icon = h("span", "jw-pill-icon", info.icon);
    icon.setAttribute("aria-hidden", "true");
    const label = h("span", "jw-chip-label", info.label);
    const count = h("span", "jw-chip-count", "0");
    chip.append(icon, label, count);
    chip.hidden = true;
    chips.appendChild(chip);
    chipViews.set(status, { chip, count });
  }

  const toolbar = h("div", "jw-toolbar");
  const textInput = h("input", "jw-input jw-filter-text");
  textInput.type = "search";
  textInput.placeholder = "Filter by id, backend, error, tag";
  textInput.setAttribute("aria-label", "Filter jobs by id, backend, error or tag");
  const statusSelect = h("select", "jw-input jw-filter-status");
  statusSelect.setAttribute("aria-label", "Filter jobs by status");
  statusSelect.appendChild(new Option("All statuses", ""));
  for (const status of STATUSES) statusSelect.appendChild(new Option(STATUS_INFO[status].label, status));
  const cancelAllBtn = h("button", "jw-btn jw-btn-danger", "Cancel all");
  cancelAllBtn.type = "button";
  const clearBtn = h("button", "jw-btn", "Clear finished");
  clearBtn.type = "button";
  toolbar.append(textInput, statusSelect, cancelAllBtn, clearBtn);
  if (state.readonly) {
    cancelAllBtn.hidden = true;
    clearBtn.hidden = true;
    chips.hidden = true; // the counts of one page would mislead
  }
  if (state.remoteFilter) {
    textInput.placeholder = "Search id, backend, notebook, error, tags";
    textInput.setAttribute("aria-label", "Search past jobs");
    statusSelect.setAttribute("aria-label", "Show past jobs of status");
  }

  /** The History view filters on the server: tell the model. */
  function sendFilter() {
    if (state.remoteFilter) model.send({ type: "filter", status: state.filter.status, text: state.filter.text });
  }

  const confirm = h("div", "jw-confirm");
  confirm.setAttribute("role", "group");
  confirm.hidden = true;
  const confirmText = h("span", "jw-confirm-text");
  const confirmYes = h("button", "jw-btn jw-btn-danger", "Yes");
  confirmYes.type = "button";
  const confirmNo = h("button", "jw-btn", "No");
  confirmNo.type = "button";
  confirm.append(confirmText, confirmYes, confirmNo);
  confirm.setAttribute("aria-label", "Confirm cancelling all jobs");

  function render() {
    const isCompact = Boolean(model.get("compact"));
    toolbar.hidden = isCompact;
    if (isCompact) confirm.hidden = true;
    const titleText = model.get("title") ?? "";
    setText(title, titleText);
    title.hidden = !titleText;
    busyNote.hidden = !mainShellBusy(kernelOf(model));
    const { counts, filter } = state;
    for (const status of STATUSES) {
      const { chip, count } = chipViews.get(status);
      const n = counts[status];
      const selected = filter.status === status;
      chip.hidden = n === 0 && !selected;
      setText(count, n);
      chip.disabled = isCompact;
      chip.classList.toggle("jw-chip-static", isCompact);
      setAttr(chip, "aria-pressed", isCompact ? null : String(selected));
      const label = STATUS_INFO[status].label;
      setAttr(
        chip,
        "title",
        isCompact ? `${n} ${label}` : selected ? "Show all statuses" : `Show only ${label} jobs`,
      );
    }
    const finished = counts.CANCELLED + counts.DONE + counts.ERROR;
    // every row not final, unknown statuses included (as activeKeys counts them)
    const active = store.rows.size - finished;
    cancelAllBtn.disabled = active === 0;
    clearBtn.disabled = finished === 0;
    if (!confirm.hidden) {
      if (active === 0) confirm.hidden = true;
      else setText(confirmText, `Cancel ${active} ${active === 1 ? "job" : "jobs"}?`);
    }
    if (statusSelect.value !== filter.status) statusSelect.value = filter.status;
  }

  function setStatusFilter(status) {
    state.filter.status = status;
    state.dirty.filter = true;
    state.dirty.header = true;
    sendFilter();
    actions.filterChanged();
  }

  function showConfirm(show) {
    confirm.hidden = !show;
    if (show) {
      state.dirty.header = true; // fills in the count
      actions.flush();
      confirmNo.focus();
    }
  }

  function closeConfirm() {
    showConfirm(false);
    cancelAllBtn.focus();
  }

  const cleanups = [
    listen(chips, "click", (event) => {
      for (const [status, { chip }] of chipViews) {
        if (chip.contains(event.target)) {
          setStatusFilter(state.filter.status === status ? "" : status);
          return;
        }
      }
    }),
    listen(textInput, "input", () => {
      state.filter.text = textInput.value;
      state.dirty.filter = true;
      sendFilter();
      actions.filterChanged();
    }),
    listen(statusSelect, "change", () => setStatusFilter(statusSelect.value)),
    listen(cancelAllBtn, "click", () => showConfirm(true)),
    listen(confirmNo, "click", closeConfirm),
    listen(confirm, "keydown", (e) => {
      if (e.key === "Escape") closeConfirm();
    }),
    listen(confirmYes, "click", () => {
      showConfirm(false);
      actions.cancelAll();
    }),
    listen(clearBtn, "click", () => model.send({ type: "clear_finished" })),
  ];

  return {
    /** The header, the toolbar and the confirmation, in page order. */
    elements: [header, toolbar, confirm],
    /** The toolbar, for the view to add controls to. */
    toolbar,
    render,
    dispose() {
      for (const off of cleanups) off();
    },
  };
}
