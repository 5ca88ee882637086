// The table's grid: the column heads (sort buttons), the virtually scrolled body
// with its pool of recycled row elements, and the empty state.
//
// Only the rows in view (plus an overscan) exist in the DOM, inside a block
// moved with translateY; a spacer as tall as every filtered row gives the
// scroll height. The body owns its pool (of row.js views) and what it last
// rendered; it reads the view's state (`items`, `sort`, `selectedKey`,
// `narrow`: the rows' height) and the store's rows. Group headers (groups.js)
// are items of the same list, with a pool of their own. Column widths are
// columns.js's; the body hands it the column heads (`heads`).
//
// The body is one tab stop (the WAI-ARIA grid pattern): after every render,
// focus.js gives the tab stop, and the focus if the body had it, to the element
// now showing the keyboard's job or group header, and handles the grid's keys.

import { NARROW_ROW_HEIGHT, ROW_HEIGHT, isFinal, visibleRange } from "../model.js";
import { h, listen, setAttr, setText } from "../dom.js";
import { createGridFocus } from "./focus.js";
import { COLUMN_IDS, bindRow, bindTimes, columnClass, createRowView } from "./row.js";
import { bindGroup, createGroupView, isGroupItem } from "./groups.js";

const VIEWPORT_HEIGHT = 360;
const COMPACT_ROWS = 8;
const OVERSCAN = 6;

const COLUMN_LIST = [
  { id: "job_id", label: "Job ID", sort: "job_id" },
  { id: "backend", label: "Backend", sort: "backend" },
  { id: "status", label: "Status", sort: "status" },
  { id: "submitted", label: "Submitted", sort: "submitted_at" },
  { id: "queue", label: "Queue", sort: "queue" },
  { id: "run", label: "Run time", sort: "run" },
  { id: "progress", label: "Progress", sort: "progress" },
  { id: "actions", label: "Actions", sort: null },
];

/** The columns in `order` (column ids; unknown ones ignored, missing ones appended). */
function orderedColumns(order) {
  const ids = Array.isArray(order) ? order.filter((id) => COLUMN_IDS.includes(id)) : [];
  for (const id of COLUMN_IDS) if (!ids.includes(id)) ids.push(id);
  return ids.map((id) => COLUMN_LIST.find((c) => c.id === id));
}

/**
 * @param {object} view
 * @param {object} view.model   the widget model (`compact`)
 * @param {object} view.store   the model's row store (rows, cancel states, clock)
 * @param {ReturnType<typeof import("./state.js").createViewState>} view.state
 * @param {boolean} view.fill   take the container's height instead of at most 360px
 *   (`model.get("column_order")`, if set, is the columns' order: a list of their ids)
 * @param {string} detailsId    the id of the details region the rows control
 * @param {object} actions
 * @param {(key: string) => void} actions.toggleDetails  a row was clicked or activated
 * @param {(keys: string[]) => void} actions.cancel      a row's Cancel was clicked
 * @param {(key: string) => void} actions.retry          a row's Retry was clicked
 * @param {(group: string) => void} actions.toggleGroup  a group header was clicked
 * @param {() => void} actions.sortChanged               a column head was clicked
 * @param {() => void} actions.scrolled                  the body scrolled or resized
 * @param {() => void} actions.closeDetails              Escape on a row with details open
 */
export function createBody({ model, store, state, fill }, detailsId, actions) {
  const columns = orderedColumns(model.get("column_order"));
  const columnIds = columns.map((c) => c.id);
  const grid = h("div", "jw-grid");
  grid.setAttribute("role", "grid");
  grid.setAttribute("aria-label", "Jobs");
  const gridInner = h("div", "jw-grid-inner");
  const head = h("div", "jw-row jw-head");
  head.setAttribute("role", "row");
  head.setAttribute("aria-rowindex", "1");
  const headCells = new Map();
  /** @type {Map<string, {cellEl: HTMLElement, label: string}>} per column id (columns.js's COLUMN_IDS) */
  const heads = new Map();
  for (const col of columns) {
    const columnId = col.id === "job_id" ? "id" : col.id;
    const cellEl = h("div", `jw-cell ${columnClass(col.id)}`);
    cellEl.setAttribute("role", "columnheader");
    if (col.sort) {
      const btn = h("button", "jw-sort");
      btn.type = "button";
      const label = h("span", "jw-sort-label", col.label);
      const arrow = h("span", "jw-sort-arrow");
      arrow.setAttribute("aria-hidden", "true");
      btn.append(label, arrow);
      btn.title = `Sort by ${col.label}`;
      cellEl.appendChild(btn);
      cellEl.setAttribute("aria-sort", "none");
      headCells.set(col.sort, { cellEl, btn, arrow });
    } else {
      // Past jobs can't be cancelled: their column names the notebook instead.
      cellEl.appendChild(h("span", "jw-head-label", col.id === "actions" && state.readonly ? "Notebook" : col.label));
    }
    heads.set(columnId, { cellEl, label: col.id === "actions" && state.readonly ? "Notebook" : col.label });
    head.appendChild(cellEl);
  }
  // The scroller holds the tab stop while the focused row is not rendered.
  const scroller = h("div", "jw-scroll");
  scroller.tabIndex = -1;
  scroller.setAttribute("role", "rowgroup");
  scroller.setAttribute("aria-label", "Job rows");
  const spacer = h("div", "jw-spacer");
  const body = h("div", "jw-body");
  spacer.appendChild(body);
  scroller.appendChild(spacer);
  gridInner.append(head, scroller);
  grid.appendChild(gridInner);

  const empty = h("div", "jw-empty", "No jobs yet");

  /** @type {ReturnType<typeof createRowView>[]} */
  const pool = [];
  /** @type {ReturnType<typeof createGroupView>[]} */
  const groupPool = [];
  const viewOfElement = new WeakMap();
  const groupOfElement = new WeakMap();
  let rendered = { start: 0, end: 0 };
  let rowsShown = 0; // how many of `pool` show a row now
  let shownViews = []; // the views of rows and headers rendered now, in list order
  const renderedKeys = new Set();
  // the row height of the last render: a change of layout keeps the top row in view
  let lastRowHeight = ROW_HEIGHT;
  const focus = createGridFocus({
    state,
    scroller,
    views: () => shownViews,
    viewOf: (el) => viewOfElement.get(el) ?? groupOfElement.get(el) ?? null,
    render: () => render(),
    pageHeight: () => viewportHeight(state.items.length, lastRowHeight),
    rowHeight: () => lastRowHeight,
    actions,
  });

  function viewportHeight(total, rowHeight) {
    if (fill) return Math.min(total * rowHeight, scroller.clientHeight || VIEWPORT_HEIGHT);
    return model.get("compact")
      ? Math.min(total, COMPACT_ROWS) * rowHeight
      : Math.min(total * rowHeight, VIEWPORT_HEIGHT);
  }

  /** The sort arrows and `aria-sort` of the column heads (part of the header's render). */
  function renderSort() {
    const { column: sorted, direction } = state.sort;
    for (const [column, { cellEl, arrow }] of headCells) {
      const on = sorted === column;
      setAttr(cellEl, "aria-sort", on ? (direction === "asc" ? "ascending" : "descending") : "none");
      setText(arrow, on ? (direction === "asc" ? "\u25B2" : "\u25BC") : "");
    }
  }

  /**
   * Render the rows in view. `followFocus` (the rows re-sorted or re-filtered):
   * if a row has DOM focus, scroll so its job stays in view.
   */
  function render({ followFocus = false } = {}) {
    // Whether the body has DOM focus, asked before its elements are rebound or removed.
    const hadFocus = scroller.contains(scroller.ownerDocument.activeElement);
    const { items } = state;
    const total = items.length;
    const rowHeight = state.narrow ? NARROW_ROW_HEIGHT : ROW_HEIGHT;
    if (rowHeight !== lastRowHeight) {
      scroller.scrollTop = Math.round((scroller.scrollTop / lastRowHeight) * rowHeight);
      lastRowHeight = rowHeight;
    }
    const height = viewportHeight(total, rowHeight);
    grid.hidden = store.rows.size === 0;
    empty.hidden = total > 0;
    setText(empty, store.rows.size === 0 ? "No jobs yet" : "No jobs match the filter");
    grid.setAttribute("aria-rowcount", String(total + 1));
    if (!fill) scroller.style.height = `${height}px`;
    spacer.style.height = `${total * rowHeight}px`;
    // Clamp a scroll position left over from a longer list.
    const maxTop = Math.max(0, total * rowHeight - height);
    if (scroller.scrollTop > maxTop) scroller.scrollTop = maxTop;
    if (followFocus) focus.follow();
    const range = visibleRange(scroller.scrollTop, height, rowHeight, total, OVERSCAN);
    rendered = range;
    body.style.transform = `translateY(${range.start * rowHeight}px)`;
    const count = range.end - range.start;
    renderedKeys.clear();
    const t = store.now();
    const wanted = [];
    const shown = [];
    let rowsUsed = 0;
    let groupsUsed = 0;
    for (let i = 0; i < count; i++) {
      const item = items[range.start + i];
      if (isGroupItem(item)) {
        if (groupPool.length <= groupsUsed) {
          const made = createGroupView();
          groupOfElement.set(made.root, made);
          groupPool.push(made);
        }
        const header = groupPool[groupsUsed++];
        bindGroup(header, item, range.start + i);
        wanted.push(header.root);
        shown.push(header);
        continue;
      }
      if (pool.length <= rowsUsed) {
        const made = createRowView(columnIds);
        viewOfElement.set(made.root, made);
        pool.push(made);
      }
      const view = pool[rowsUsed++];
      renderedKeys.add(item);
      bindRow(view, store.rows.get(item), {
        index: range.start + i,
        t,
        selected: item === state.selectedKey,
        detailsId,
        local: store.local.get(item),
        retry: store.retries?.get(item),
        readonly: state.readonly,
      });
      wanted.push(view.root);
      shown.push(view);
    }
    // In list order: rows and headers come from two pools.
    for (let i = 0; i < wanted.length; i++) {
      const at = body.children[i];
      if (at !== wanted[i]) body.insertBefore(wanted[i], at ?? null);
    }
    rowsShown = rowsUsed;
    shownViews = shown;
    for (let i = rowsUsed; i < pool.length; i++) {
      if (pool[i].root.parentNode) pool[i].root.remove();
      pool[i].key = null;
      pool[i].row = null;
    }
    for (let i = groupsUsed; i < groupPool.length; i++) {
      if (groupPool[i].root.parentNode) groupPool[i].root.remove();
      groupPool[i].group = null;
    }
    focus.place(hadFocus);
  }

  /** Update the time cells of the rendered unfinished rows to the kernel time `t`. */
  function tick(t) {
    for (let i = 0; i < rowsShown; i++) {
      const view = pool[i];
      if (view && view.row && !isFinal(view.row.status) && !view.row.kernel_ended) bindTimes(view, t);
    }
  }

  /** True when a row of `keys` is rendered now. */
  function showsAny(keys) {
    for (const key of keys) if (renderedKeys.has(key)) return true;
    return false;
  }

  function onBodyClick(event) {
    const rowEl = event.target.closest?.(".jw-row");
    const header = rowEl && groupOfElement.get(rowEl);
    if (header) {
      if (header.group !== null && event.target.closest(".jw-group-toggle")) actions.toggleGroup(header.group);
      return;
    }
    const view = rowEl && viewOfElement.get(rowEl);
    if (!view || view.key === null) return;
    if (event.target.closest(".jw-cancel")) {
      // The button turns disabled: the keyboard stays on this job's row.
      const key = view.key;
      if (scroller.contains(scroller.ownerDocument.activeElement)) focus.focusRow(key, false);
      actions.cancel([key]);
      return;
    }
    if (event.target.closest(".jw-retry")) {
      actions.retry(view.key);
      return;
    }
    if (event.target.closest("button, a, input, select")) return;
    actions.toggleDetails(view.key);
  }

  function onSortClick(event) {
    const { sort } = state;
    for (const [column, { btn }] of headCells) {
      if (btn.contains(event.target)) {
        if (sort.column === column) sort.direction = sort.direction === "asc" ? "desc" : "asc";
        else {
          sort.column = column;
          sort.direction = "asc";
        }
        actions.sortChanged();
        return;
      }
    }
  }

  const cleanups = [
    listen(body, "click", onBodyClick),
    listen(scroller, "keydown", focus.onKeyDown),
    listen(scroller, "focusin", focus.onFocusIn),
    listen(head, "click", onSortClick),
    listen(scroller, "scroll", actions.scrolled, { passive: true }),
  ];
  // In fill mode the body's height comes from the container: redraw when it changes.
  const resizeObserver = fill && typeof ResizeObserver === "function" ? new ResizeObserver(actions.scrolled) : null;
  resizeObserver?.observe(scroller);

  return {
    /** The grid and the empty state, in page order. */
    elements: [grid, empty],
    /** The grid's inner box (its min-width makes the grid scroll sideways). */
    inner: gridInner,
    /** The column heads, per column id, for columns.js. */
    heads,
    render,
    renderSort,
    tick,
    showsAny,
    /** Put the keyboard (and DOM focus) on the row of `key`, scrolled into view. */
    focusRow: (key) => focus.focusRow(key, false),
    /** Back to the first row (after a filter change). */
    scrollToTop() {
      scroller.scrollTop = 0;
    },
    /** Scroll so that the item at `index` of `state.items` is in view. */
    scrollToIndex(index) {
      const top = index * lastRowHeight;
      const height = scroller.clientHeight || VIEWPORT_HEIGHT;
      if (top < scroller.scrollTop || top + lastRowHeight > scroller.scrollTop + height) {
        scroller.scrollTop = Math.max(0, top - Math.floor(height / 2));
      }
    },
    dispose() {
      for (const off of cleanups) off();
      resizeObserver?.disconnect();
    },
  };
}
