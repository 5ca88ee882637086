// The table's columns: how wide each one is, and which layout the rows take.
//
// Wide layout: one line a row, every column as wide as its content (the
// longest job id, backend, progress text, cancel note... of the rows, the
// widest status label, a time, the column's head with its sort arrow). Free
// space goes first to a job id that does not fit yet, then to the flexible
// columns (id, backend, progress).
// Short of space, from NARROW_PX up, the columns fit the container with no
// sideways scroll, giving way in this order (`fitColumns`'s STAGES):
//   1. the progress note (its whole text is the cell's title, and in the details);
//   2. the heads wider than their column's content, Status and Actions aside
//      (the labels end in an ellipsis; the progress bar, at its least width,
//      and the percentage stay);
//   3. the backend and the cancel note, to their head's width;
//   4. the id, to 10em;
//   5. every column but the id and the status, to its `least`: the text (the
//      backend, the times) to a letter or so, the Actions head to the button's
//      width; the progress bar to BAR_EM, its percentage whole;
//   6. the percentage;
//   7. the id, to a letter or so.
// The status and the Cancel/Retry button are never cut. A column the user
// resized keeps its width; the others give way around it. When even the least
// widths can't fit (wide user widths, a very wide status), the table scrolls
// sideways as before: only the progress, backend and actions columns give way,
// to their heads, and the id stays whole.
// Narrow layout (`.jw-narrow`, two lines a row: id and Cancel, then status,
// submitted, run time and progress): below NARROW_PX, and in the panel
// (`fill`) whenever the columns can't fit at their heads' widths (`min`).
//
// Widths are decided without laying out the rows (only those in view exist):
// the text of the rows is measured with a canvas (an estimate where there is
// none), the longest strings only, at most once per MEASURE_MS.
//
// State, all on the page's one thread and owned here: the measured widths
// (`measured`), the widths the user set on a column's resize handle (`userWidths`,
// kept for the life of the view), the width available (`available`, from a
// ResizeObserver on the table's root) and `state.narrow`, which the body reads
// for its row height. The template goes to the root's `--jw-columns`. The
// widths are a pure function of these (`fitColumns`): nothing else is kept.

import { STATUSES, STATUS_INFO, cancelDisplay, formatDuration, kernelEnded } from "../model.js";
import { h, listen, setAttr } from "../dom.js";

/** The columns, in display order: their class suffix (`.jw-c-<id>`). */
export const COLUMN_IDS = Object.freeze(["id", "backend", "status", "submitted", "queue", "run", "progress", "actions"]);

/** Below this width (px) the rows take the narrow layout. */
export const NARROW_PX = 400;
/** Below this width (px) narrow rows drop words they can spare (`.jw-tight`). */
export const TIGHT_PX = 360;
/** Text is measured again at most this often (ms). */
export const MEASURE_MS = 250;
/** One arrow key press on a resize handle moves the edge this far (px); with Shift, 4 times. */
export const RESIZE_STEP = 16;

/** The narrowest a user can make a column (px). */
export const MIN_USER_PX = 40;

const PAD = 12; // a cell's padding, both sides
const SLACK = 3; // sub-pixel rounding, the resize handle's edge
const FLEX = { id: 2, backend: 1, progress: 1 };
/** Scrolling anyway (the least widths can't fit): these give way to their heads. */
const SHRINK_ORDER = ["progress", "backend", "actions"];
/** The progress bar's least width (em), as `.jw-progress`'s min-width in widgets.css. */
const BAR_EM = 2;
/** The percentage's least width (em), as `.jw-pct`'s min-width in widgets.css. */
const PCT_EM = 2.6;
const GAP = 4; // between the bar, the percentage and the note (`.jw-c-progress`'s gap)

/**
 * A text measurer: `measure(text, kind, scale)` in px, `kind` "ui", "bold",
 * "italic" or "mono", `scale` a factor of the font size. Uses a canvas and the
 * fonts computed for `root` and `monoEl` when the page has them; otherwise an
 * estimate from the character count that errs on the wide side.
 */
export function createMeasurer(root, monoEl) {
  const style = (el) => (el && el.isConnected && typeof getComputedStyle === "function" ? getComputedStyle(el) : null);
  const rs = style(root);
  const size = parseFloat(rs?.fontSize) || 13;
  let ctx = null;
  if (rs && rs.fontFamily && typeof OffscreenCanvas === "function") {
    ctx = new OffscreenCanvas(1, 1).getContext("2d");
  }
  const families = { ui: rs?.fontFamily || "sans-serif", mono: style(monoEl)?.fontFamily || "monospace" };
  const factor = { ui: 0.6, bold: 0.66, italic: 0.6, mono: 0.62 };
  function measure(text, kind = "ui", scale = 1) {
    const s = String(text ?? "");
    if (s === "") return 0;
    const px = size * scale;
    if (!ctx) return s.length * px * factor[kind];
    const weight = kind === "bold" ? "600" : "400";
    const slant = kind === "italic" ? "italic" : "normal";
    ctx.font = `${slant} ${weight} ${px}px ${kind === "mono" ? families.mono : families.ui}`;
    return ctx.measureText(s).width;
  }
  return { measure, size, exact: ctx !== null };
}

/** Keeps the `k` longest strings pushed (by length), to measure only those. */
function longest(k = 6) {
  const top = [];
  let shortest = -1; // the length a string must beat once `top` is full
  return {
    push(value) {
      if (value == null || value === "") return;
      const s = typeof value === "string" ? value : String(value);
      if (top.length === k && s.length <= shortest) return;
      if (top.length < k) top.push(s);
      else {
        let at = 0;
        for (let i = 1; i < k; i++) if (top[i].length < top[at].length) at = i;
        top[at] = s;
      }
      if (top.length === k) {
        shortest = top[0].length;
        for (let i = 1; i < k; i++) if (top[i].length < shortest) shortest = top[i].length;
      }
    },
    /** The widest of the kept strings, measured. */
    width(measure, kind, scale) {
      let w = 0;
      for (const t of top) w = Math.max(w, measure(t, kind, scale));
      return w;
    },
  };
}

/**
 * The widths the content of `rows` asks for, per column, in px:
 * `{want, min, body, least, full}`. `want` is the width that shows the content
 * and the head whole (a long id capped at 40em); `min` what a column can give
 * way to with its head whole (an id of 10em); `body` the content alone, its
 * head aside (the progress column: its bar at the least width and the
 * percentage, no note); `least` the narrowest a column gets before the table
 * scrolls sideways (the status, and Cancel, whole; the progress bar at
 * BAR_EM; a text column a letter or so); `full` the uncapped width of the ids.
 *
 * @param {Iterable<object>} rows
 * @param {object} o
 * @param {ReturnType<typeof createMeasurer>} o.measurer
 * @param {(label: string, column: string) => number} [o.head]  the width of a column's head
 * @param {Map<string, object>} [o.local]  the store's cancel states
 * @param {boolean} [o.readonly]  past jobs: the last column names the notebook
 * @param {number} [o.now]  epoch seconds, for "today" in the Submitted times
 */
export function contentWidths(rows, { measurer, head, local = new Map(), readonly = false, now }) {
  const { measure, size: f } = measurer;
  const heads = head ?? ((label, column) => headWidth(measure, f, label, column !== "actions"));
  const cell = (w) => Math.ceil(w + PAD + SLACK);
  const want = {};
  const min = {};
  const body = {};
  const least = {};

  // One pass over the rows: the longest texts of each column, and what else
  // widens one (a job whose kernel ended, progress, a submitted time not today).
  const ids = longest();
  const backends = longest();
  const progressTexts = longest();
  const notes = longest();
  const notebooks = longest();
  const today = new Date((now ?? Date.now() / 1000) * 1000);
  const dayStart = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime() / 1000;
  const dayEnd = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1).getTime() / 1000;
  const yearStart = new Date(today.getFullYear(), 0, 1).getTime() / 1000;
  const yearEnd = new Date(today.getFullYear() + 1, 0, 1).getTime() / 1000;
  let ended = false;
  let progressing = false;
  let dated = 0; // 0: every time today; 1: another day this year; 2: another year
  for (const r of rows) {
    ids.push(r.job_id == null ? "(no id yet)" : r.job_id);
    backends.push(r.backend);
    if (!ended && kernelEnded(r)) ended = true;
    if (typeof r.progress === "number" || (r.progress_text != null && r.progress_text !== "")) {
      progressing = true;
      progressTexts.push(r.progress_text);
    }
    const t = r.submitted_at;
    if (dated < 2 && typeof t === "number" && (t < dayStart || t >= dayEnd)) dated = t < yearStart || t >= yearEnd ? 2 : 1;
    if (readonly) notebooks.push(r.notebook);
    else if (r.cancel_state != null || local.has(r.key)) notes.push(cancelDisplay(r, local.get(r.key)).text);
  }

  const idFull = Math.max(heads("Job ID", "id"), cell(ids.width(measure, "mono")));
  want.id = Math.min(idFull, Math.ceil(40 * f));
  min.id = Math.max(heads("Job ID", "id"), Math.min(want.id, Math.ceil(10 * f)));
  body.id = Math.min(want.id, cell(ids.width(measure, "mono")));

  min.backend = heads("Backend", "backend");
  body.backend = Math.min(cell(backends.width(measure, "ui")), Math.ceil(20 * f));
  want.backend = Math.max(min.backend, body.backend);

  // the pill: borders, padding, icon, gaps, label, the running spinner (at 0.9em)
  let pill = 0;
  for (const s of STATUSES) {
    const spinner = s === "RUNNING" ? 0.9 * f * (0.35 + 0.75) : 0;
    pill = Math.max(pill, measure(STATUS_INFO[s].label, "bold", 0.9 * 0.92) + spinner);
  }
  pill += 4 + 0.9 * f * (0.5 * 2 + 1 + 0.35);
  if (ended) pill += measure("last seen ", "italic") + measure(" \u00b7 kernel ended", "italic") + 0.6 * f;
  body.status = cell(pill);
  want.status = min.status = Math.max(heads("Status", "status"), body.status);

  // the widest time of its kind: a two-digit day, a wide month
  const sample = ["00:00:00", "28 May 00:00:00", "28 May 2000 00:00:00"][dated];
  body.submitted = cell(measure(sample, "ui"));
  want.submitted = min.submitted = Math.max(heads("Submitted", "submitted"), body.submitted);
  body.queue = body.run = cell(measure(formatDuration(7200 + 59 * 60), "ui")); // "2h 59m"
  want.queue = min.queue = Math.max(heads("Queue", "queue"), body.queue);
  want.run = min.run = Math.max(heads("Run time", "run"), body.run);

  min.progress = heads("Progress", "progress");
  const pct = Math.max(measure("100%", "ui"), PCT_EM * f);
  let progress = 0;
  if (progressing) {
    const text = progressTexts.width(measure, "ui", 0.92);
    progress = 5 * f + GAP + pct + GAP + Math.min(text, 16 * f);
    body.progress = cell(BAR_EM * f + GAP + pct + GAP);
  } else body.progress = 0;
  want.progress = Math.max(min.progress, cell(progress));

  const button = Math.ceil(measure("Cancel", "ui", 0.92) + 16 + 2);
  if (readonly) {
    min.actions = heads("Notebook", "actions");
    body.actions = Math.min(cell(notebooks.width(measure, "ui")), Math.ceil(20 * f));
    want.actions = Math.max(min.actions, body.actions);
  } else {
    min.actions = Math.max(heads("Actions", "actions"), cell(button));
    const note = notes.width(measure, "italic");
    body.actions = note > 0 ? cell(button + 6 + Math.min(note, 22 * f)) : cell(button);
    want.actions = Math.max(min.actions, body.actions);
  }

  // the narrowest: a letter and the ellipsis; the status and Cancel whole; the bar
  const letter = cell(f);
  for (const c of COLUMN_IDS) least[c] = Math.min(want[c], letter);
  least.status = want.status;
  if (!readonly) least.actions = cell(button);
  if (progressing) least.progress = Math.min(want.progress, cell(BAR_EM * f));
  for (const c of COLUMN_IDS) body[c] = Math.max(least[c], Math.min(want[c], body[c]));
  return { want, min, body, least, full: { id: idFull }, button, exact: measurer.exact };
}

/** The width of a column's head: its label in bold, the sort arrow, the padding. */
export function headWidth(measure, f, label, sortable) {
  const arrow = sortable ? 0.3 * f + measure("\u25B2", "ui", 0.75) : 0;
  return Math.ceil(measure(label, "bold") + arrow + PAD + SLACK);
}

/**
 * The order in which columns give way, short of space (see the module's
 * comment): per stage, the columns and the width each gives way to (a
 * function of the measured widths). Within a stage, the columns give in
 * proportion to what each can give.
 */
const STAGES = [
  [["progress"], (m, c) => Math.max(m.min[c], m.body[c])],
  [["backend", "submitted", "queue", "run", "progress"], (m, c) => m.body[c]],
  [["backend", "actions"], (m, c) => Math.min(m.body[c], m.min[c])],
  [["id"], (m, c) => m.min[c]],
  [COLUMN_IDS.filter((c) => c !== "id"), (m, c) => (c === "progress" ? m.body[c] : m.least[c])],
  [["progress"], (m, c) => m.least[c]],
  [["id"], (m, c) => m.least[c]],
];

/** Take up to `over` px from `columns` of `widths`, down to `floor(c)`, in proportion to what each can give. */
function giveWay(widths, columns, floor, over) {
  const room = columns.map((c) => Math.max(0, widths[c] - Math.round(floor(c))));
  const can = room.reduce((sum, r) => sum + r, 0);
  if (can <= 0 || over <= 0) return over;
  const take = Math.min(over, can);
  let taken = 0;
  columns.forEach((c, i) => {
    const t = Math.min(room[i], Math.floor((take * room[i]) / can));
    widths[c] -= t;
    taken += t;
  });
  // the rounding's remainder, a px at a time, from the first that can still give
  for (let i = 0; taken < take && i < columns.length; i++) {
    const c = columns[i];
    const t = Math.min(take - taken, widths[c] - Math.round(floor(c)));
    if (t > 0) {
      widths[c] -= t;
      taken += t;
    }
  }
  return over - taken;
}

/**
 * The columns' widths for `available` px (0: unknown, every column as it wants).
 * `user` holds the widths the user set; they are kept as they are. Returns
 * `{widths, total}`; `total` exceeds `available` when the columns can't fit
 * (the grid then scrolls sideways).
 */
export function fitColumns(measured, available, user = {}) {
  const { want, min, least, full } = measured;
  const widths = {};
  for (const c of COLUMN_IDS) widths[c] = Math.round(user[c] ?? want[c]);
  let total = COLUMN_IDS.reduce((sum, c) => sum + widths[c], 0);
  if (!(available > 0)) return { widths, total };
  const free = (c) => !(c in user);
  if (total < available) {
    let extra = available - total;
    if (free("id")) {
      const give = Math.max(0, Math.min(extra, Math.round(full.id) - widths.id));
      widths.id += give;
      extra -= give;
    }
    const flex = Object.keys(FLEX).filter(free);
    const weight = flex.reduce((sum, c) => sum + FLEX[c], 0);
    let given = 0;
    for (const c of flex) {
      const give = Math.floor((extra * FLEX[c]) / weight);
      widths[c] += give;
      given += give;
    }
    if (flex.length) widths[flex[0]] += extra - given;
    total = COLUMN_IDS.reduce((sum, c) => sum + widths[c], 0);
  } else if (total > available) {
    let over = total - available;
    const leastTotal = COLUMN_IDS.reduce((sum, c) => sum + (free(c) ? Math.round(least[c]) : widths[c]), 0);
    if (leastTotal <= available) {
      // the columns can fit: they give way, stage by stage, until they do
      for (const [columns, floor] of STAGES) {
        if (over <= 0) break;
        over = giveWay(widths, columns.filter(free), (c) => floor(measured, c), over);
      }
    } else {
      // scrolling anyway: the other columns give way to their heads, the id stays whole
      for (const c of SHRINK_ORDER) {
        if (!free(c) || over <= 0) continue;
        const take = Math.max(0, Math.min(over, widths[c] - Math.round(min[c])));
        widths[c] -= take;
        over -= take;
      }
    }
    total = available + over;
  }
  return { widths, total };
}

/** The `grid-template-columns` of `widths`, in display order. */
export function gridTemplate(widths) {
  return COLUMN_IDS.map((c) => `${widths[c]}px`).join(" ");
}

/** True when rows `available` px wide take the narrow layout. */
export function isNarrow(available, mins, fill) {
  if (!(available > 0)) return false;
  const least = COLUMN_IDS.reduce((sum, c) => sum + mins[c], 0);
  return available < NARROW_PX || (fill && least > available);
}

/**
 * The view's column controller.
 *
 * @param {object} view
 * @param {object} view.store   the model's row store (rows, local cancel states)
 * @param {ReturnType<typeof import("./state.js").createViewState>} view.state
 * @param {boolean} view.fill   the panel: narrow rather than scroll sideways
 * @param {object} parts
 * @param {HTMLElement} parts.root       the table's root (gets `--jw-columns`, `.jw-narrow`)
 * @param {HTMLElement} parts.inner      the grid's inner box (its min-width scrolls the grid)
 * @param {Map<string, {cellEl: HTMLElement, label: string}>} parts.heads  the head cell per column id
 * @param {() => void} onNarrowChanged   the layout switched: the body's row height changed
 */
export function createColumns({ store, state, fill }, { root, inner, heads }, onNarrowChanged) {
  let measured = null;
  let lastMeasure = -Infinity;
  let timer = null;
  let available = 0;
  let disposed = false;
  /** @type {Record<string, number>} */
  const userWidths = {};
  let current = {};
  const handles = new Map();

  function apply() {
    if (!measured || disposed) return;
    const narrow = isNarrow(available, measured.min, fill);
    const { widths, total } = fitColumns(measured, narrow ? 0 : available, userWidths);
    current = widths;
    root.style.setProperty("--jw-columns", gridTemplate(widths));
    root.style.setProperty("--jw-narrow-cancel", `${measured.button + 8}px`); // room for Cancel by the id
    inner.style.minWidth = narrow ? "0" : `${total}px`;
    for (const [c, handle] of handles) {
      setAttr(handle, "aria-valuenow", widths[c]);
      setAttr(handle, "aria-valuetext", `${widths[c]} pixels`);
    }
    root.classList.toggle("jw-tight", narrow && available < TIGHT_PX);
    if (narrow !== state.narrow) {
      state.narrow = narrow;
      root.classList.toggle("jw-narrow", narrow);
      onNarrowChanged();
    }
  }

  function measureNow() {
    timer = null;
    if (disposed) return;
    lastMeasure = performance.now();
    const monoEl = heads.get("id")?.cellEl;
    measured = contentWidths(store.rows.values(), {
      measurer: createMeasurer(root, monoEl),
      local: store.local,
      readonly: state.readonly,
    });
    measured.rows = store.rows.size;
    apply();
  }

  /** The rows (or their cancel states) changed: measure again, at most every MEASURE_MS. */
  function rowsChanged() {
    if (timer !== null || disposed) return;
    // the first rows are measured at once; later changes at most every MEASURE_MS
    const wait = measured && measured.rows === 0 ? 0 : lastMeasure + MEASURE_MS - performance.now();
    if (wait <= 0) measureNow();
    else timer = setTimeout(measureNow, wait);
  }

  function setUser(c, px) {
    userWidths[c] = Math.max(MIN_USER_PX, Math.round(px));
    apply();
  }

  const cleanups = [];
  for (const [c, { cellEl, label }] of heads) {
    const handle = h("span", "jw-resize");
    handle.setAttribute("role", "separator");
    handle.setAttribute("aria-orientation", "vertical");
    handle.setAttribute("aria-label", `Resize column ${label}`);
    handle.setAttribute("aria-valuemin", String(MIN_USER_PX));
    // Not a tab stop of its own (the grid has one): Shift+Left/Right on the column's
    // sort button resizes it from the keyboard, as do Left/Right on the focused handle.
    handle.tabIndex = -1;
    handle.title = "Drag to resize (Shift+Left/Right on the column's head); double-click for the content's width";
    cellEl.appendChild(handle);
    handles.set(c, handle);
    let drag = null;
    cleanups.push(
      listen(handle, "pointerdown", (event) => {
        if (event.button !== 0) return;
        event.preventDefault();
        event.stopPropagation();
        drag = { x: event.clientX, w: current[c] ?? cellEl.getBoundingClientRect().width };
        handle.setPointerCapture?.(event.pointerId);
        handle.classList.add("jw-resizing");
      }),
      listen(handle, "pointermove", (event) => {
        if (drag) setUser(c, drag.w + event.clientX - drag.x);
      }),
      listen(handle, "pointerup", (event) => {
        drag = null;
        handle.releasePointerCapture?.(event.pointerId);
        handle.classList.remove("jw-resizing");
      }),
      listen(handle, "lostpointercapture", () => {
        drag = null;
        handle.classList.remove("jw-resizing");
      }),
      listen(handle, "click", (event) => event.stopPropagation()),
      listen(handle, "dblclick", (event) => {
        event.stopPropagation();
        delete userWidths[c];
        apply();
      }),
      listen(handle, "keydown", (event) => {
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
        event.preventDefault();
        event.stopPropagation();
        const step = (event.shiftKey ? 4 : 1) * RESIZE_STEP * (event.key === "ArrowLeft" ? -1 : 1);
        setUser(c, (current[c] ?? 100) + step);
      }),
      listen(cellEl, "keydown", (event) => {
        if (event.target === handle || !event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
        event.preventDefault();
        setUser(c, (current[c] ?? 100) + RESIZE_STEP * (event.key === "ArrowLeft" ? -1 : 1));
      }),
    );
  }

  const observer =
    typeof ResizeObserver === "function"
      ? new ResizeObserver(() => {
          const width = Math.max(0, root.clientWidth - 2); // the grid's borders
          if (measured && !measured.exact && root.isConnected) {
            // measured before the page showed the table: measure its fonts now
            available = width;
            measureNow();
            return;
          }
          if (width === available) return;
          available = width;
          apply();
        })
      : null;
  observer?.observe(root);

  return {
    rowsChanged,
    /** The widths in force, per column id (px). */
    widths: () => ({ ...current }),
    dispose() {
      disposed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      observer?.disconnect();
      for (const off of cleanups) off();
    },
  };
}
