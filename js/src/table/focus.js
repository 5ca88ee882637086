// The keyboard in the table's body: one tab stop (the WAI-ARIA grid pattern),
// arrow keys between rows, and focus that stays on its job or group header.
//
// State ownership: the row the keyboard is on is a KEY in the view's state (see
// state.js), never a DOM element: `focusKey` (a job's key) or `focusGroup` (a
// group header's id, of groups.js; at most one of the two is set), with
// `focusIndex` and `focusCancel`. The body recycles a row element to show
// another job or header when rows re-sort, scroll, go or a group collapses.
// After every render the body calls `place`, which gives the tab stop to the
// element now showing the keyboard's item and, if the body had DOM focus, the
// focus. When rows re-sort under a focused row, the body scrolls to keep it in
// view (`follow`); when the user scrolls it out of view, the scroller holds the
// tab stop and the focus until the arrow keys bring it back, so focus never
// lands on another row. Everything runs on the page's thread, from the body's
// render and its keydown and focusin events.
//
// Keys: Up/Down, Home/End, PageUp/PageDown move between rows (job rows and group
// headers alike) and scroll the body to the row; on a job row, Right goes to the
// row's Cancel (or Retry) button and Left back; Enter or Space opens or closes
// the row's details; Escape closes them. On a group header (a treegrid-like
// row), Enter or Space collapses or expands the group, Left collapses it and
// Right expands it; its collapse button is out of the Tab order, for the mouse.
//
// The list is the body's (`state.items`): job keys, and group headers when rows
// are grouped. A job listed in several groups is found at its first place.

import { ROW_HEIGHT } from "../model.js";
import { isGroupItem } from "./groups.js";

/** The row's action button the keyboard can reach: Cancel, or Retry in its place. */
function actionButton(view) {
  if (view.retry && !view.retry.hidden && view.button.hidden) return view.retry;
  return view.button;
}

/** True for a group header's view (groups.js), false for a job row's (row.js). */
function isHeaderView(view) {
  return view !== null && view.header === true;
}

/**
 * @param {object} grid
 * @param {object} grid.state        the view's state (items, focusKey, focusGroup, selectedKey, ...)
 * @param {HTMLElement} grid.scroller  the body's scrolling element (holds the tab stop when the row isn't rendered)
 * @param {() => object[]} grid.views  the rendered views, job rows and group headers, in list order
 * @param {(el: Element) => object | null} grid.viewOf  row element -> its view (a job row's or a header's)
 * @param {() => void} grid.render    render the body now
 * @param {() => number} grid.pageHeight  the body's visible height, in px
 * @param {() => number} [grid.rowHeight]  a row's height now, in px (narrow rows are taller)
 * @param {object} grid.actions       `toggleDetails(key)`, `closeDetails()`, `toggleGroup(id)`
 */
export function createGridFocus({
  state,
  scroller,
  views,
  viewOf,
  render,
  pageHeight,
  rowHeight = () => ROW_HEIGHT,
  actions,
}) {
  /** True when `item` of `state.items` is the one the keyboard is on. */
  function isFocused(item) {
    if (isGroupItem(item)) return state.focusGroup !== null && item.group === state.focusGroup;
    return state.focusKey !== null && item === state.focusKey;
  }

  /** Where the keyboard's item is in `state.items` now (its last index first: a re-sort is the rarer case), or -1. */
  function focusedIndex() {
    const { items } = state;
    if (state.focusKey === null && state.focusGroup === null) return -1;
    if (state.focusIndex < items.length && isFocused(items[state.focusIndex])) return state.focusIndex;
    if (state.focusKey !== null) return items.indexOf(state.focusKey);
    return items.findIndex((item) => isGroupItem(item) && item.group === state.focusGroup);
  }

  /** Put the keyboard on the item at `index` of `state.items` (a job's key or a group's id). */
  function setFocus(index) {
    const item = state.items[index];
    state.focusKey = isGroupItem(item) ? null : item;
    state.focusGroup = isGroupItem(item) ? item.group : null;
    state.focusIndex = index;
  }

  /** The rendered view showing `item`, if any. */
  function viewOfItem(item) {
    if (item === undefined) return null;
    const group = isGroupItem(item);
    for (const view of views()) {
      if (group ? isHeaderView(view) && view.group === item.group : !isHeaderView(view) && view.key === item) return view;
    }
    return null;
  }

  /** Where the item `view` shows is in `state.items`, or -1. */
  function indexOfView(view) {
    const { items } = state;
    if (!isHeaderView(view)) return view.key === null ? -1 : items.indexOf(view.key);
    if (view.group === null) return -1;
    const at = state.focusIndex;
    if (at < items.length && isGroupItem(items[at]) && items[at].group === view.group) return at;
    return items.findIndex((item) => isGroupItem(item) && item.group === view.group);
  }

  /**
   * Give the tab stop to the element showing the keyboard's item (the first row
   * while no row was focused), and DOM focus too when the body had it.
   */
  function place(hadFocus) {
    const { items } = state;
    let at = focusedIndex();
    if ((state.focusKey !== null || state.focusGroup !== null) && at < 0) {
      // The focused row went (cleared, filtered out, its group collapsed, the
      // grouping changed): the row now at its place takes the focus.
      if (items.length > 0) {
        at = Math.min(state.focusIndex, items.length - 1);
        setFocus(at);
      } else {
        state.focusKey = null;
        state.focusGroup = null;
      }
      state.focusCancel = false;
    }
    const shown = views();
    const view = at >= 0 ? viewOfItem(items[at]) : (shown[0] ?? null);
    if (at >= 0) state.focusIndex = at;
    else if (view) state.focusIndex = Math.max(0, indexOfView(view));
    for (const v of shown) v.root.tabIndex = v === view ? 0 : -1;
    scroller.tabIndex = view || items.length === 0 ? -1 : 0;
    if (!hadFocus) return;
    const button = view && !isHeaderView(view) ? actionButton(view) : null;
    const target = !view
      ? scroller
      : button && state.focusCancel && !button.hidden && !button.disabled
        ? button
        : view.root;
    if (target !== button) state.focusCancel = false;
    if (scroller.ownerDocument.activeElement !== target) target.focus({ preventScroll: true });
  }

  /**
   * Before a render after a re-sort or re-filter: when a row (not the scroller
   * itself, which has focus after the user scrolled away) has DOM focus, scroll
   * so its job or header is in view.
   */
  function follow() {
    const active = scroller.ownerDocument.activeElement;
    if (active === scroller || !scroller.contains(active)) return;
    const index = focusedIndex();
    if (index >= 0) scrollToIndex(index);
  }

  /** Scroll the body so the row at `index` is in view. */
  function scrollToIndex(index) {
    const height = pageHeight();
    const row = rowHeight();
    const top = index * row;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + row > scroller.scrollTop + height) scroller.scrollTop = top + row - height;
  }

  /**
   * Put the keyboard on the item at `index` (or a job row's Cancel button),
   * scroll to it, render, and focus it.
   */
  function focusIndex(index, cancel = false) {
    if (index >= 0) {
      setFocus(index);
      scrollToIndex(index);
    }
    state.focusCancel = cancel;
    render();
    const at = focusedIndex();
    if (!(at >= 0 ? viewOfItem(state.items[at]) : null)) {
      scroller.focus({ preventScroll: true });
      return;
    }
    place(true);
  }

  /**
   * Put the keyboard on the row of job `key` (or its Cancel button), scroll to
   * it, render, and focus it. A key not shown: the keyboard's row (a group
   * header too), else the row at the focused index.
   */
  function focusRow(key, cancel = false) {
    const { items } = state;
    let index = key === null ? focusedIndex() : items.indexOf(key);
    if (index < 0 && items.length > 0) index = Math.max(0, Math.min(state.focusIndex, items.length - 1));
    focusIndex(index, cancel);
  }

  /** Collapse or expand the group whose header is at `index`; the keyboard stays on the header. */
  function toggleGroupAt(index) {
    setFocus(index);
    state.focusCancel = false;
    actions.toggleGroup(state.items[index].group);
  }

  /** The number of whole rows the body shows (a page, for PageUp and PageDown). */
  function pageRows() {
    return Math.max(1, Math.floor(pageHeight() / rowHeight()) - 1);
  }

  function onKeyDown(event) {
    const { items } = state;
    if (items.length === 0) return;
    const onCancel = event.target.classList?.contains("jw-cancel") || event.target.classList?.contains("jw-retry");
    const onToggle = event.target.classList?.contains("jw-group-toggle");
    const rowEl = event.target.closest?.(".jw-row");
    const view = rowEl ? viewOf(rowEl) : null;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const current = focusedIndex();
    const own = view ? indexOfView(view) : -1;
    const from = own >= 0 ? own : current >= 0 ? current : state.focusIndex;
    // a group header: a treegrid's parent row
    const header = isHeaderView(view) && own >= 0 ? items[own] : null;
    let to = null;
    switch (event.key) {
      case "ArrowDown":
        to = from + 1;
        break;
      case "ArrowUp":
        to = from - 1;
        break;
      case "Home":
        to = 0;
        break;
      case "End":
        to = items.length - 1;
        break;
      case "PageDown":
        to = from + pageRows();
        break;
      case "PageUp":
        to = from - pageRows();
        break;
      case "ArrowRight":
        if (header) {
          event.preventDefault();
          if (header.collapsed) toggleGroupAt(own);
        } else if (view && !onCancel && !actionButton(view).hidden && !actionButton(view).disabled) {
          event.preventDefault();
          focusRow(view.key, true);
        }
        return;
      case "ArrowLeft":
        if (header) {
          event.preventDefault();
          if (!header.collapsed) toggleGroupAt(own);
        } else if (view && onCancel) {
          event.preventDefault();
          focusRow(view.key, false);
        }
        return;
      case "Escape":
        if (state.selectedKey !== null) {
          event.preventDefault();
          actions.closeDetails();
        }
        return;
      case "Enter":
      case " ":
        if (onCancel || onToggle) return; // keys on a button act on the button
        if (header) {
          event.preventDefault();
          toggleGroupAt(own);
          return;
        }
        if (!view || isHeaderView(view) || view.key === null) return;
        event.preventDefault();
        actions.toggleDetails(view.key);
        return;
      default:
        return;
    }
    event.preventDefault();
    focusIndex(Math.max(0, Math.min(items.length - 1, to)));
  }

  /** The keyboard's row follows a click or a Tab into the body. */
  function onFocusIn(event) {
    const rowEl = event.target.closest?.(".jw-row");
    const view = rowEl ? viewOf(rowEl) : null;
    if (!view) return;
    const index = indexOfView(view);
    if (index < 0) return;
    setFocus(index);
    state.focusCancel = !isHeaderView(view) && event.target === actionButton(view);
    if (view.root.tabIndex !== 0) place(false);
  }

  return { place, follow, focusRow, onKeyDown, onFocusIn };
}
