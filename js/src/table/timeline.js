// The table's second view mode: the filtered jobs on one time axis, one lane
// per job in the table's order, each with its queue span (submitted →
// started) and run span (started → finished, or now while it runs).
//
// The lanes are drawn on one <canvas> the size of the viewport (scaled by
// devicePixelRatio); a spacer under it gives the scroll height of every lane,
// so 10,000 jobs cost the drawing of the 20 or so lanes in view. Drawing
// happens in the view's animation frame (`render`, called by table.js's
// `flush`), and only when `needsDraw` is set: by new rows, a scroll, a resize,
// the pointer, the keyboard, a theme change, or the 1 s clock while a span is
// open. Geometry and hit testing are in timeline_geometry.js.
//
// State: the view owns `state.viewKeys`, `state.selectedKey` (the details
// shown) and the store's rows; this module owns the mode (`active`), the
// highlighted lane (`highlight`, moved by the pointer and by Up/Down), the
// cached extent of the filtered rows and its own DOM. All on the page's thread.
//
// Untrusted text (ids, backends, errors) reaches the page as canvas text or as
// textContent of the tooltip and the summary, never as markup.

import STATUS_TABLE from "../statuses.js";
import { formatClock, formatDuration, queueTime, runTime, statusText } from "../model.js";
import { h, listen, setAttr, setText, uniqueId } from "../dom.js";
import {
  AXIS_HEIGHT,
  LANE_HEIGHT,
  domainOf,
  extentOf,
  laneAt,
  laneRange,
  laneTop,
  onBoxes,
  scale,
  scrollToLane,
  spanBoxes,
  spansOf,
  ticksFor,
} from "./timeline_geometry.js";

const VIEWPORT_HEIGHT = 360;
const COMPACT_LANES = 8;
const GUTTER_MAX = 170;

/** The job a tooltip or the summary speaks of, as lines of text. */
export function describeRow(row, now) {
  const id = row.job_id == null ? "(no id yet)" : String(row.job_id);
  const lines = [id, statusText(row)];
  if (row.backend != null && row.backend !== "") lines.push(`backend ${row.backend}`);
  const clock = (label, t) => (typeof t === "number" ? `${label} ${formatClock(t)}` : null);
  const times = [
    clock("submitted", row.submitted_at),
    clock("started", row.started_at),
    clock("finished", row.finished_at),
  ].filter(Boolean);
  if (times.length) lines.push(times.join(" \u00b7 "));
  const q = queueTime(row, now);
  const r = runTime(row, now);
  const durations = [q == null ? null : `queued ${formatDuration(q)}`, r == null ? null : `ran ${formatDuration(r)}`];
  if (durations.some(Boolean)) lines.push(durations.filter(Boolean).join(" \u00b7 "));
  if (row.error) lines.push(String(row.error).split("\n")[0].slice(0, 200));
  return lines;
}

/** The colours of the drawing, read from the CSS variables of `el` (both JupyterLab themes). */
function readPalette(el) {
  const style = typeof getComputedStyle === "function" ? getComputedStyle(el) : null;
  const get = (name, fallback) => (style?.getPropertyValue(name) || "").trim() || fallback;
  const status = {};
  for (const [name, info] of Object.entries(STATUS_TABLE)) status[name] = get(`--jw-${info.colour}`, "#888");
  return {
    status,
    unknown: get("--jw-fg-muted", "#888"),
    queue: get("--jw-warn", "#f57c00"),
    brand: get("--jw-brand", "#1976d2"),
    fg: get("--jw-fg", "#222"),
    muted: get("--jw-fg-muted", "#616161"),
    bg: get("--jw-bg", "#fff"),
    alt: get("--jw-bg-alt", "#eee"),
    border: get("--jw-border", "#e0e0e0"),
    font: `${get("--jw-font-size", "13px")} ${get("--jp-ui-font-family", "system-ui, sans-serif")}`,
    mono: `${get("--jp-code-font-size", "12px")} ${get("--jp-code-font-family", "monospace")}`,
  };
}

/** Set one inline style property, only when it differs (no needless style invalidation). */
function setStyle(node, name, value) {
  if (node.style[name] !== value) node.style[name] = value;
}

/** `text` cut with an ellipsis to fit `width` px in `ctx`'s font. */
function fitText(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(`${text.slice(0, mid)}\u2026`).width <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}\u2026`;
}

/**
 * @param {object} view  the table view's parts: model, store, state, fill
 * @param {string} detailsId  the id of the details region a lane opens
 * @param {object} actions
 * @param {(key: string) => void} actions.toggleDetails  a lane was clicked or activated
 * @param {() => void} actions.schedule  ask for the view's next frame
 * @param {(active: boolean) => void} actions.modeChanged  the user switched views
 */
export function createTimeline({ model, store, state, fill }, detailsId, actions) {
  // The "Table | Timeline" switch, placed in the header by table.js.
  const toggle = h("div", "jw-view-toggle");
  toggle.setAttribute("role", "group");
  toggle.setAttribute("aria-label", "View");
  const tableBtn = h("button", "jw-view-btn", "Table");
  const timelineBtn = h("button", "jw-view-btn", "Timeline");
  for (const b of [tableBtn, timelineBtn]) b.type = "button";
  tableBtn.title = "Show the jobs as a table";
  timelineBtn.title = "Show the jobs' queue and run times on one time axis";
  toggle.append(tableBtn, timelineBtn);

  const root = h("div", "jw-timeline");
  root.hidden = true;
  const scroller = h("div", "jw-tl-scroll");
  const canvas = h("canvas", "jw-tl-canvas");
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-roledescription", "timeline");
  setAttr(canvas, "aria-controls", detailsId);
  const spacer = h("div", "jw-tl-spacer");
  scroller.append(canvas, spacer);
  // The text alternative: what is shown, and the highlighted job (read out as it moves).
  const summary = h("div", "jw-tl-summary jw-visually-hidden");
  summary.id = uniqueId("jw-tl-summary");
  const current = h("div", "jw-tl-current jw-visually-hidden");
  current.setAttribute("aria-live", "polite");
  current.id = uniqueId("jw-tl-current");
  canvas.setAttribute("aria-describedby", `${summary.id} ${current.id}`);
  const tip = h("div", "jw-tl-tip");
  tip.setAttribute("role", "tooltip");
  tip.id = uniqueId("jw-tl-tip");
  tip.hidden = true;
  const empty = h("div", "jw-empty jw-tl-empty", "No jobs yet");
  empty.hidden = true;
  root.append(scroller, tip, summary, current, empty);

  let active = false;
  let needsDraw = true;
  let extentDirty = true; // the rows or the filter changed: recompute the extent
  let extent = null;
  let highlight = -1; // lane index under the pointer or moved to with the keys
  let pointer = null; // {x, y} in canvas CSS px while the pointer is over it
  let width = 0;
  let height = 0;
  let geometry = null; // what the last draw used, for hit testing
  let palette = null;
  // the scroller's size (from the ResizeObserver) and scroll position (from its events)
  const box = { width: 0, height: 0, scrollTop: 0 };
  const labels = new Map(); // job id -> its label cut to the gutter (cleared on resize and theme)

  function viewportHeight(total) {
    const content = AXIS_HEIGHT + total * LANE_HEIGHT;
    if (model.get("compact")) return Math.min(content, AXIS_HEIGHT + COMPACT_LANES * LANE_HEIGHT);
    return Math.min(content, VIEWPORT_HEIGHT);
  }

  function invalidate(data = false) {
    if (data) extentDirty = true;
    needsDraw = true;
    if (active) actions.schedule();
  }

  function setActive(on) {
    active = on;
    root.hidden = !on;
    setAttr(tableBtn, "aria-pressed", String(!on));
    setAttr(timelineBtn, "aria-pressed", String(on));
    if (!on) hideTip();
    invalidate(true);
  }
  setActive(false);

  function rowAt(index) {
    const key = state.viewKeys[index];
    return key === undefined ? undefined : store.rows.get(key);
  }

  /**
   * Draw the visible lanes, the axis and the "now" line, when something
   * changed: `changed` (the view's rows, order, filter or selection) or this
   * module's own reasons; `data` when the rows, order or filter changed.
   */
  function render(changed = false, data = false) {
    if (data) extentDirty = true;
    if (changed) needsDraw = true;
    if (!active || !needsDraw) return;
    needsDraw = false;
    const { viewKeys } = state;
    const total = viewKeys.length;
    const now = store.now();
    empty.hidden = total > 0;
    setText(empty, store.rows.size === 0 ? "No jobs yet" : "No jobs match the filter");
    scroller.hidden = total === 0;
    if (extentDirty) {
      const rows = new Array(total);
      for (let i = 0; i < total; i++) rows[i] = store.rows.get(viewKeys[i]);
      extent = extentOf(rows, now);
      extentDirty = false;
    }
    const domain = domainOf(extent, now);
    const jobs = `${total.toLocaleString()} ${total === 1 ? "job" : "jobs"}`;
    setText(
      summary,
      domain
        ? `${jobs} from ${formatClock(domain.start)} to ${formatClock(domain.end)}. Up and Down move between jobs, Enter opens a job's details.`
        : `${jobs}, none with a time yet.`,
    );
    setAttr(canvas, "aria-label", `Timeline of ${jobs}`);

    // Layout is read from the ResizeObserver and the scroll events, not here (a read
    // after the header's render would force a layout of the whole page each frame);
    // the size is read once, before the observer first reports it.
    if (!(box.width > 0)) box.width = scroller.clientWidth;
    if (fill && !(box.height > 0)) box.height = scroller.clientHeight;
    const vh = fill ? box.height || VIEWPORT_HEIGHT : viewportHeight(total);
    const rest = Math.max(0, AXIS_HEIGHT + total * LANE_HEIGHT - vh);
    if (!fill) setStyle(scroller, "height", `${vh}px`);
    setStyle(spacer, "height", `${rest}px`);
    if (box.scrollTop > rest) {
      scroller.scrollTop = rest;
      box.scrollTop = rest;
    }
    const w = box.width || 600;
    const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
    if (w !== width || vh !== height || canvas.width !== Math.round(w * dpr)) {
      width = w;
      height = vh;
      canvas.style.width = `${w}px`;
      canvas.style.height = `${vh}px`;
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(vh * dpr);
      labels.clear();
    }
    if (highlight >= total) highlight = total - 1;
    const gutter = Math.min(GUTTER_MAX, Math.round(w * 0.28));
    const x0 = gutter + 8;
    const x1 = Math.max(x0 + 10, w - 14);
    const sx = domain ? scale(domain, x0, x1) : null;
    const scrollTop = box.scrollTop;
    geometry = { sx, scrollTop, total, gutter, now };
    // No 2d context (jsdom, a browser out of canvas memory): the text alternative,
    // the tooltip and the keyboard still work.
    let ctx = null;
    try {
      ctx = canvas.getContext?.("2d") ?? null;
    } catch {
      ctx = null;
    }
    if (ctx && total > 0) {
      palette = palette ?? readPalette(canvas);
      draw(ctx, dpr, { domain, sx, x0, x1, gutter, scrollTop, total, now });
    }
    updateTip();
  }

  function draw(ctx, dpr, { domain, sx, x0, x1, gutter, scrollTop, total, now }) {
    const p = palette;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = p.bg;
    ctx.fillRect(0, 0, width, height);
    const range = laneRange(scrollTop, height, total);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_HEIGHT, width, height - AXIS_HEIGHT);
    ctx.clip();
    // lane backgrounds: selected, highlighted, every other
    for (let i = range.start; i < range.end; i++) {
      const y = laneTop(i, scrollTop);
      const key = state.viewKeys[i];
      if (key === state.selectedKey) {
        ctx.fillStyle = p.brand;
        ctx.globalAlpha = 0.16;
        ctx.fillRect(0, y, width, LANE_HEIGHT);
      } else if (i % 2 === 1) {
        ctx.fillStyle = p.alt;
        ctx.globalAlpha = 0.45;
        ctx.fillRect(0, y, width, LANE_HEIGHT);
      }
      ctx.globalAlpha = 1;
    }
    // tick lines
    const ticks = domain ? ticksFor(domain, x1 - x0).ticks : [];
    ctx.strokeStyle = p.border;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const { t } of ticks) {
      const x = Math.round(sx.x(t)) + 0.5;
      ctx.moveTo(x, AXIS_HEIGHT);
      ctx.lineTo(x, height);
    }
    ctx.stroke();
    // spans and labels
    ctx.font = p.mono;
    ctx.textBaseline = "middle";
    for (let i = range.start; i < range.end; i++) {
      const row = store.rows.get(state.viewKeys[i]);
      if (!row) continue;
      const y = laneTop(i, scrollTop);
      const mid = y + LANE_HEIGHT / 2;
      const colour = p.status[row.status] ?? p.unknown;
      ctx.fillStyle = p.fg;
      const id = row.job_id == null ? "(no id yet)" : String(row.job_id);
      let label = labels.get(id);
      if (label === undefined) {
        if (labels.size > 2000) labels.clear();
        label = fitText(ctx, id, gutter - 10);
        labels.set(id, label);
      }
      ctx.fillText(label, 6, mid);
      if (!sx) continue;
      const spans = spansOf(row, now);
      for (const box of spanBoxes(spans, sx)) {
        if (box.kind === "queue") {
          // waiting: a thin bar in the queued colour (the status colour if it never ran)
          ctx.fillStyle = spans.run ? p.queue : colour;
          ctx.fillRect(box.x, mid - 3, box.w, 6);
        } else if (box.kind === "run") {
          ctx.fillStyle = colour;
          ctx.fillRect(box.x, mid - 6, box.w, 12);
        } else {
          // no time yet (INITIALIZING): a hollow diamond
          ctx.strokeStyle = colour;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(box.x + 4, mid - 5);
          ctx.lineTo(box.x + 8, mid);
          ctx.lineTo(box.x + 4, mid + 5);
          ctx.lineTo(box.x, mid);
          ctx.closePath();
          ctx.stroke();
        }
      }
    }
    // the highlighted lane: an outline
    if (highlight >= range.start && highlight < range.end) {
      ctx.strokeStyle = p.brand;
      ctx.lineWidth = 2;
      ctx.strokeRect(1, laneTop(highlight, scrollTop) + 1, width - 2, LANE_HEIGHT - 2);
    }
    ctx.restore();
    // the gutter's edge
    ctx.fillStyle = p.border;
    ctx.fillRect(gutter, AXIS_HEIGHT, 1, height - AXIS_HEIGHT);
    // the axis: a band, tick labels, and "now" while a span is open
    ctx.fillStyle = p.alt;
    ctx.fillRect(0, 0, width, AXIS_HEIGHT);
    ctx.fillStyle = p.border;
    ctx.fillRect(0, AXIS_HEIGHT - 1, width, 1);
    ctx.font = p.font;
    ctx.fillStyle = p.fg;
    ctx.textBaseline = "middle";
    ctx.textAlign = "center";
    // labels centred on their ticks, pushed inside the plot at its edges, never overlapping
    let right = gutter + 2;
    for (const { t, label } of ticks) {
      const half = ctx.measureText(label).width / 2;
      const x = Math.min(Math.max(sx.x(t), gutter + 4 + half), width - 4 - half);
      if (x - half < right + 6) continue;
      ctx.fillText(label, x, AXIS_HEIGHT / 2);
      right = x + half;
    }
    ctx.textAlign = "left";
    ctx.fillStyle = p.muted;
    ctx.fillText(fitText(ctx, `${total.toLocaleString()} ${total === 1 ? "job" : "jobs"}`, gutter - 10), 6, AXIS_HEIGHT / 2);
    if (sx && extent?.open && now >= domain.start && now <= domain.end) {
      const x = Math.round(sx.x(now)) + 0.5;
      ctx.strokeStyle = p.brand;
      ctx.lineWidth = 1;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, AXIS_HEIGHT - 6);
      ctx.lineTo(x, height);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  function hideTip() {
    tip.hidden = true;
    setAttr(canvas, "aria-describedby", `${summary.id} ${current.id}`);
  }

  /** The tooltip: under the pointer when it is on a span, else next to the keyboard's lane. */
  function updateTip() {
    if (!geometry || highlight < 0) return hideTip();
    const row = rowAt(highlight);
    if (!row) return hideTip();
    const { sx, scrollTop, now } = geometry;
    let x;
    if (pointer) {
      if (!sx || pointer.x < geometry.gutter || !onBoxes(spanBoxes(spansOf(row, now), sx), pointer.x)) {
        if (pointer.x >= geometry.gutter) return hideTip();
      }
      x = pointer.x;
    } else {
      const spans = spansOf(row, now);
      const boxes = sx ? spanBoxes(spans, sx) : [];
      x = boxes.length ? boxes[boxes.length - 1].x + boxes[boxes.length - 1].w : geometry.gutter;
    }
    const lines = describeRow(row, now);
    tip.replaceChildren(...lines.map((line, i) => h("div", i === 0 ? "jw-tl-tip-id" : "", line)));
    tip.hidden = false;
    const top = laneTop(highlight, scrollTop) + LANE_HEIGHT + 4;
    const tipWidth = tip.offsetWidth || 200;
    tip.style.left = `${Math.max(0, Math.min(x + 8, width - tipWidth - 4))}px`;
    const tipHeight = tip.offsetHeight || 60;
    tip.style.top = `${top + tipHeight > height ? Math.max(0, top - LANE_HEIGHT - tipHeight - 8) : top}px`;
    setAttr(canvas, "aria-describedby", `${summary.id} ${current.id} ${tip.id}`);
  }

  function setHighlight(index, announce) {
    if (index === highlight) return;
    highlight = index;
    if (announce) {
      const row = rowAt(index);
      setText(current, row ? describeRow(row, store.now()).join(", ") : "");
    }
    needsDraw = true;
    actions.schedule();
  }

  function pointAt(event) {
    const r = canvas.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  }

  function onMove(event) {
    pointer = pointAt(event);
    const index = laneAt(pointer.y, box.scrollTop, state.viewKeys.length);
    canvas.style.cursor = index >= 0 ? "pointer" : "";
    if (index !== highlight) setHighlight(index, false);
    else updateTip();
  }

  function onLeave() {
    pointer = null;
    setHighlight(-1, false);
    hideTip();
  }

  function onClick(event) {
    const { y } = pointAt(event);
    const index = laneAt(y, box.scrollTop, state.viewKeys.length);
    if (index < 0) return;
    actions.toggleDetails(state.viewKeys[index]);
    invalidate();
  }

  function onKey(event) {
    const total = state.viewKeys.length;
    if (total === 0) return;
    const page = Math.max(1, Math.floor((height - AXIS_HEIGHT) / LANE_HEIGHT) - 1);
    let next = null;
    if (event.key === "ArrowDown") next = highlight < 0 ? 0 : Math.min(total - 1, highlight + 1);
    else if (event.key === "ArrowUp") next = highlight < 0 ? 0 : Math.max(0, highlight - 1);
    else if (event.key === "PageDown") next = Math.min(total - 1, Math.max(0, highlight) + page);
    else if (event.key === "PageUp") next = Math.max(0, highlight - page);
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = total - 1;
    else if ((event.key === "Enter" || event.key === " ") && highlight >= 0) {
      event.preventDefault();
      actions.toggleDetails(state.viewKeys[highlight]);
      invalidate();
      return;
    } else if (event.key === "Escape" && highlight >= 0) {
      event.preventDefault();
      setHighlight(-1, true);
      hideTip();
      return;
    }
    if (next === null) return;
    event.preventDefault();
    pointer = null;
    box.scrollTop = scrollToLane(next, box.scrollTop, height);
    scroller.scrollTop = box.scrollTop;
    setHighlight(next, true);
  }

  function onFocus() {
    if (highlight < 0 && state.viewKeys.length) {
      const selected = state.selectedKey === null ? -1 : state.viewKeys.indexOf(state.selectedKey);
      setHighlight(selected >= 0 ? selected : laneRange(box.scrollTop, height, state.viewKeys.length).start, true);
    }
  }

  function onBlur() {
    if (!pointer) {
      highlight = -1;
      hideTip();
      invalidate();
    }
  }

  // The theme (JupyterLab's light/dark, the OS scheme) changes the colours.
  function themeChanged() {
    palette = null;
    labels.clear(); // the font may differ
    invalidate();
  }
  const themeObserver = typeof MutationObserver === "function" ? new MutationObserver(themeChanged) : null;
  if (typeof document !== "undefined" && document.body) {
    themeObserver?.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name", "data-jp-theme-light", "class"] });
  }
  const scheme = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  scheme?.addEventListener?.("change", themeChanged);
  const resizeObserver =
    typeof ResizeObserver === "function"
      ? new ResizeObserver(() => {
          // layout is clean here: reading it costs nothing
          box.width = scroller.clientWidth; // without the scroll bar
          box.height = scroller.clientHeight;
          invalidate();
        })
      : null;
  resizeObserver?.observe(scroller);

  const cleanups = [
    listen(tableBtn, "click", () => {
      if (active) {
        setActive(false);
        actions.modeChanged(false);
      }
    }),
    listen(timelineBtn, "click", () => {
      if (!active) {
        setActive(true);
        actions.modeChanged(true);
      }
    }),
    listen(scroller, "scroll", () => {
      box.scrollTop = scroller.scrollTop;
      if (pointer) {
        const index = laneAt(pointer.y, box.scrollTop, state.viewKeys.length);
        if (index !== highlight) highlight = index;
      }
      invalidate();
    }, { passive: true }),
    listen(canvas, "pointermove", onMove),
    listen(canvas, "pointerleave", onLeave),
    listen(canvas, "click", onClick),
    listen(canvas, "keydown", onKey),
    listen(canvas, "focus", onFocus),
    listen(canvas, "blur", onBlur),
  ];

  return {
    /** The "Table | Timeline" switch, for the header. */
    toggle,
    /** The timeline's element, in page order after the table's grid. */
    element: root,
    get active() {
      return active;
    },
    render,
    /** The rows, their order or the filter changed. */
    invalidate,
    /** Back to the first lane (after a filter change). */
    scrollToTop() {
      scroller.scrollTop = 0;
      box.scrollTop = 0;
    },
    /** The clock moved to `t`: redraw while some span ends at now. */
    tick() {
      if (active && extent?.open) invalidate();
    },
    dispose() {
      for (const off of cleanups) off();
      themeObserver?.disconnect();
      scheme?.removeEventListener?.("change", themeChanged);
      resizeObserver?.disconnect();
    },
  };
}
