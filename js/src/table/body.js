// The table's grid: the column heads (sort buttons), the virtually scrolled body
// with its pool of recycled row elements, and the empty state.
//
// Only the rows in view (plus an overscan) exist in the DOM, inside a block
// moved with translateY; a spacer as tall as every filtered row gives the
// scroll height. The body owns its pool (of row.js views) and what it last
// rendered; it reads the view's state (`viewKeys`, `sort`, `selectedKey`,
// `narrow`: the rows' height) and the store's rows. Column widths are
// columns.js's; the body hands it the column heads (`heads`).

import { NARROW_ROW_HEIGHT, ROW_HEIGHT, isFinal, visibleRange } from "../model.js";
import { h, listen, setAttr, setText } from "../dom.js";
import { bindRow, bindTimes, createRowView } from "./row.js";

const VIEWPORT_HEIGHT = 360;
const COMPACT_ROWS = 8;
const OVERSCAN = 6;

const COLUMNS = [
  { id: "job_id", label: "Job ID", sort: "job_id" },
  { id: "backend", label: "Backend", sort: "backend" },
  { id: "status", label: "Status", sort: "status" },
  { id: "submitted", label: "Submitted", sort: "submitted_at" },
  { id: "queue", label: "Queue", sort: "queue" },
  { id: "run", label: "Run time", sort: "run" },
  { id: "progress", label: "Progress", sort: "progress" },
  { id: "actions", label: "Actions", sort: null },
];

/**
 * @param {object} view
 * @param {object} view.model   the widget model (`compact`)
 * @param {object} view.store   the model's row store (rows, cancel states, clock)
 * @param {ReturnType<typeof import("./state.js").createViewState>} view.state
 * @param {boolean} view.fill   take the container's height instead of at most 360px
 * @param {string} detailsId    the id of the details region the rows control
 * @param {object} actions
 * @param {(key: string) => void} actions.toggleDetails  a row was clicked or activated
 * @param {(keys: string[]) => void} actions.cancel      a row's Cancel was clicked
 * @param {() => void} actions.sortChanged               a column head was clicked
 * @param {() => void} actions.scrolled                  the body scrolled or resized
 */
export function createBody({ model, store, state, fill }, detailsId, actions) {
  const grid = h("div", "jw-grid");
  grid.setAttribute("role", "table");
  const gridInner = h("div", "jw-grid-inner");
  const head = h("div", "jw-row jw-head");
  head.setAttribute("role", "row");
  head.setAttribute("aria-rowindex", "1");
  const headCells = new Map();
  /** @type {Map<string, {cellEl: HTMLElement, label: string}>} per column id (columns.js's COLUMN_IDS) */
  const heads = new Map();
  for (const col of COLUMNS) {
    const columnId = col.id === "job_id" ? "id" : col.id;
    const cellEl = h("div", `jw-cell jw-c-${columnId}`);
    cellEl.setAttribute("role", "columnheader");
    if (col.sort) {
      const btn = h("button", "jw-sort");
      btn.type = "button";
      const label = h("span", "", col.label);
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
  const scroller = h("div", "jw-scroll");
  const spacer = h("div", "jw-spacer");
  const body = h("div", "jw-body");
  body.setAttribute("role", "rowgroup");
  spacer.appendChild(body);
  scroller.appendChild(spacer);
  gridInner.append(head, scroller);
  grid.appendChild(gridInner);

  const empty = h("div", "jw-empty", "No jobs yet");

  /** @type {ReturnType<typeof createRowView>[]} */
  const pool = [];
  const viewOfElement = new WeakMap();
  let rendered = { start: 0, end: 0 };
  const renderedKeys = new Set();
  // the row height of the last render: a change of layout keeps the top row in view
  let lastRowHeight = ROW_HEIGHT;

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

  function render() {
    const { viewKeys } = state;
    const total = viewKeys.length;
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
    const range = visibleRange(scroller.scrollTop, height, rowHeight, total, OVERSCAN);
    rendered = range;
    body.style.transform = `translateY(${range.start * rowHeight}px)`;
    const count = range.end - range.start;
    while (pool.length < count) {
      const view = createRowView();
      viewOfElement.set(view.root, view);
      pool.push(view);
    }
    renderedKeys.clear();
    const t = store.now();
    for (let i = 0; i < count; i++) {
      const view = pool[i];
      const key = viewKeys[range.start + i];
      renderedKeys.add(key);
      bindRow(view, store.rows.get(key), {
        index: range.start + i,
        t,
        selected: key === state.selectedKey,
        detailsId,
        local: store.local.get(key),
        readonly: state.readonly,
      });
      if (view.root.parentNode !== body) body.appendChild(view.root);
    }
    for (let i = count; i < pool.length; i++) {
      if (pool[i].root.parentNode) pool[i].root.remove();
      pool[i].key = null;
      pool[i].row = null;
    }
  }

  /** Update the time cells of the rendered unfinished rows to the kernel time `t`. */
  function tick(t) {
    for (let i = 0; i < rendered.end - rendered.start; i++) {
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
    const view = rowEl && viewOfElement.get(rowEl);
    if (!view || view.key === null) return;
    if (event.target.closest(".jw-cancel")) {
      actions.cancel([view.key]);
      return;
    }
    if (event.target.closest("button, a, input, select")) return;
    actions.toggleDetails(view.key);
  }

  function onBodyKey(event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    const rowEl = event.target;
    if (!rowEl.classList?.contains("jw-row")) return; // keys on the button act on the button
    const view = viewOfElement.get(rowEl);
    if (!view || view.key === null) return;
    event.preventDefault();
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
    listen(body, "keydown", onBodyKey),
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
    /** Back to the first row (after a filter change). */
    scrollToTop() {
      scroller.scrollTop = 0;
    },
    dispose() {
      for (const off of cleanups) off();
      resizeObserver?.disconnect();
    },
  };
}
