// The keyboard in the table's body: one tab stop (the WAI-ARIA grid pattern),
// arrow keys between rows, and focus that stays on its job.
//
// State ownership: the row the keyboard is on is a job KEY in the view's state
// (`focusKey`, `focusIndex`, `focusCancel`; see state.js), never a DOM element:
// the body recycles a row element to show another job when rows re-sort, scroll
// or go. After every render the body calls `place`, which gives the tab stop to
// the element now showing `focusKey` and, if the body had DOM focus, the focus.
// When rows re-sort under a focused row, the body scrolls to keep its job in
// view (`follow`); when the user scrolls it out of view, the scroller holds the
// tab stop and the focus until the arrow keys bring it back, so focus never
// lands on another job. Everything runs on the page's thread,
// from the body's render and its keydown and focusin events.
//
// Keys: Up/Down, Home/End, PageUp/PageDown move between rows and scroll the
// body to the row; Right goes to the row's Cancel (or Retry) button and Left
// back; Enter or Space opens or closes the row's details; Escape closes them.
//
// The list is the body's (`state.items`): job keys, and group headers when rows
// are grouped. The keys move between jobs and step over the headers (a header's
// own button collapses its group); a job listed in several groups is found at
// its first place.

import { ROW_HEIGHT } from "../model.js";
import { isGroupItem } from "./groups.js";

/** The row's action button the keyboard can reach: Cancel, or Retry in its place. */
function actionButton(view) {
  if (view.retry && !view.retry.hidden && view.button.hidden) return view.retry;
  return view.button;
}

/** From `index`, the nearest job (not a group header) in `direction` (±1), else the other way. */
function jobIndex(items, index, direction) {
  for (let i = index; i >= 0 && i < items.length; i += direction) if (!isGroupItem(items[i])) return i;
  for (let i = index - direction; i >= 0 && i < items.length; i -= direction) if (!isGroupItem(items[i])) return i;
  return -1;
}

/**
 * @param {object} grid
 * @param {object} grid.state        the view's state (items, focusKey, selectedKey, ...)
 * @param {HTMLElement} grid.scroller  the body's scrolling element (holds the tab stop when the row isn't rendered)
 * @param {() => object[]} grid.views  the rendered row views, in order
 * @param {WeakMap<Element, object>} grid.viewOfElement  row element -> its view
 * @param {() => void} grid.render    render the body now
 * @param {() => number} grid.pageHeight  the body's visible height, in px
 * @param {() => number} [grid.rowHeight]  a row's height now, in px (narrow rows are taller)
 * @param {object} grid.actions       `toggleDetails(key)`, `closeDetails()`
 */
export function createGridFocus({
  state,
  scroller,
  views,
  viewOfElement,
  render,
  pageHeight,
  rowHeight = () => ROW_HEIGHT,
  actions,
}) {
  /** The rendered row view showing `key`, if any. */
  function viewOfKey(key) {
    if (key === null) return null;
    for (const view of views()) if (view.key === key) return view;
    return null;
  }

  /**
   * Give the tab stop to the element showing `state.focusKey` (the first row while
   * no row was focused), and DOM focus too when the body had it.
   */
  function place(hadFocus) {
    const { items } = state;
    // where the focused key is now (its last index first: a re-sort is the rarer case)
    const at =
      state.focusKey === null || items[state.focusIndex] === state.focusKey
        ? state.focusIndex
        : items.indexOf(state.focusKey);
    if (state.focusKey !== null && at < 0) {
      // The focused job went (cleared, filtered out, its group collapsed): its
      // neighbour takes the focus.
      const index = jobIndex(items, Math.min(state.focusIndex, items.length - 1), 1);
      state.focusKey = index >= 0 ? items[index] : null;
      state.focusCancel = false;
    }
    const shown = views();
    const key = state.focusKey ?? shown[0]?.key ?? null;
    const view = viewOfKey(key);
    if (key !== null) state.focusIndex = key === state.focusKey && at >= 0 ? at : items.indexOf(key);
    for (const v of shown) v.root.tabIndex = v === view ? 0 : -1;
    scroller.tabIndex = view || items.length === 0 ? -1 : 0;
    if (!hadFocus) return;
    const button = view ? actionButton(view) : null;
    const target = !view
      ? scroller
      : state.focusCancel && !button.hidden && !button.disabled
        ? button
        : view.root;
    if (target !== button) state.focusCancel = false;
    if (scroller.ownerDocument.activeElement !== target) target.focus({ preventScroll: true });
  }

  /**
   * Before a render after a re-sort or re-filter: when a row (not the scroller
   * itself, which has focus after the user scrolled away) has DOM focus, scroll
   * so its job is in view.
   */
  function follow() {
    const active = scroller.ownerDocument.activeElement;
    if (state.focusKey === null || active === scroller || !scroller.contains(active)) return;
    const index = state.items.indexOf(state.focusKey);
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
   * Put the keyboard on the row of `key` (or its Cancel button), scroll to it,
   * render, and focus it. A key not shown: the row at the focused index.
   */
  function focusRow(key, cancel = false) {
    const { items } = state;
    let index = key === null ? -1 : items.indexOf(key);
    if (index < 0 && items.length > 0) index = jobIndex(items, Math.max(0, Math.min(state.focusIndex, items.length - 1)), 1);
    if (index >= 0) {
      state.focusKey = items[index];
      state.focusIndex = index;
      scrollToIndex(index);
    }
    state.focusCancel = cancel;
    render();
    const view = viewOfKey(state.focusKey);
    if (!view) {
      scroller.focus({ preventScroll: true });
      return;
    }
    place(true);
  }

  /** The number of whole rows the body shows (a page, for PageUp and PageDown). */
  function pageRows() {
    return Math.max(1, Math.floor(pageHeight() / rowHeight()) - 1);
  }

  function onKeyDown(event) {
    const { items } = state;
    if (items.length === 0) return;
    const onCancel = event.target.classList?.contains("jw-cancel") || event.target.classList?.contains("jw-retry");
    const rowEl = event.target.closest?.(".jw-row");
    const view = rowEl ? viewOfElement.get(rowEl) : null;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const current = state.focusKey !== null ? items.indexOf(state.focusKey) : -1;
    const from = view && view.key !== null ? items.indexOf(view.key) : current >= 0 ? current : state.focusIndex;
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
        if (view && !onCancel && !actionButton(view).hidden && !actionButton(view).disabled) {
          event.preventDefault();
          focusRow(view.key, true);
        }
        return;
      case "ArrowLeft":
        if (view && onCancel) {
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
        if (!view || view.key === null || onCancel) return; // keys on the button act on the button
        event.preventDefault();
        actions.toggleDetails(view.key);
        return;
      default:
        return;
    }
    event.preventDefault();
    const clamped = Math.max(0, Math.min(items.length - 1, to));
    const index = jobIndex(items, clamped, to < from ? -1 : 1);
    if (index >= 0) focusRow(items[index]);
  }

  /** The keyboard's row follows a click or a Tab into the body. */
  function onFocusIn(event) {
    const rowEl = event.target.closest?.(".jw-row");
    const view = rowEl ? viewOfElement.get(rowEl) : null;
    if (!view || view.key === null) return;
    state.focusKey = view.key;
    state.focusIndex = state.items.indexOf(view.key);
    state.focusCancel = event.target === actionButton(view);
    if (view.root.tabIndex !== 0) place(false);
  }

  return { place, follow, focusRow, onKeyDown, onFocusIn };
}
