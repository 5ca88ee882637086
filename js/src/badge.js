// StatusBadge view: an inline pill  [icon] STATUS · job_id · elapsed
//
// Synced traits: `row` (the job's row, the same data a JobTable row carries;
// see ../PROTOCOL.md) and `kernel_time`. The elapsed text ticks here, once a
// second, while the job is not final; the kernel sends nothing per tick.
//
// A failed job's error shows in a tooltip on hover and on keyboard focus. The
// tooltip is this view's element in document.body (an output area would clip
// it), placed next to the badge with position: fixed while shown; the view
// removes it on cleanup.

import { clockOffset, elapsedText, formatProgress, isFinal, statusInfo } from "./model.js";
import { createPill, h, listen, setAttr, setText, uniqueId } from "./dom.js";

function render({ model, el }) {
  const pill = createPill("jw-badge");
  const badge = pill.root;
  badge.setAttribute("role", "status");
  badge.setAttribute("aria-live", "polite");

  const sep1 = h("span", "jw-sep", "\u00B7");
  const id = h("span", "jw-badge-id");
  const sepPct = h("span", "jw-sep", "\u00B7");
  // The percentage done, while the job runs and reports it.
  const pct = h("span", "jw-badge-pct");
  pct.setAttribute("aria-hidden", "true"); // in the label; ticking steps aren't announced
  const sep2 = h("span", "jw-sep", "\u00B7");
  // The ticking text is hidden from assistive technology: the live region
  // should announce status changes, not every second.
  const elapsed = h("span", "jw-badge-elapsed");
  elapsed.setAttribute("aria-hidden", "true");
  for (const node of [sep1, sepPct, sep2]) node.setAttribute("aria-hidden", "true");
  const tooltip = h("div", "jw-root jw-tooltip");
  tooltip.setAttribute("role", "tooltip");
  tooltip.id = uniqueId("jw-tip");
  tooltip.hidden = true;
  badge.append(sep1, id, sepPct, pct, sep2, elapsed);
  el.classList.add("jw-root");
  el.appendChild(badge);
  document.body.appendChild(tooltip);
  let hovered = false;
  let focused = false;
  let dismissed = false;

  let offset = clockOffset(model.get("kernel_time"), Date.now() / 1000);
  let timer = null;
  const now = () => Date.now() / 1000 - offset;

  const row = () => model.get("row") ?? {};

  function tick() {
    setText(elapsed, elapsedText(row(), now()));
  }

  function update() {
    const r = row();
    const info = statusInfo(r.status);
    pill.update(r.status);
    const jobId = r.job_id == null ? "(no id yet)" : String(r.job_id);
    setText(id, jobId);
    setAttr(id, "title", r.backend ? `${jobId} on ${r.backend}` : jobId || null);
    tick();
    const done = isFinal(r.status) ? "" : formatProgress(r.progress);
    setText(pct, done);
    setAttr(pct, "title", done && r.progress_text ? String(r.progress_text) : null);

    const error = r.status === "ERROR" || r.error ? r.error : null;
    let label = `Job ${jobId || "(no id)"}: ${info.label}`;
    if (r.backend) label += ` on ${r.backend}`;
    if (done) label += `, ${done} done`;
    if (error) label += `. Error: ${error}`;
    setAttr(badge, "aria-label", label);

    // The error shows on hover and on keyboard focus, and as a title.
    setText(tooltip, error ?? "");
    setAttr(badge, "title", error ? String(error) : null);
    setAttr(badge, "tabindex", error ? "0" : null);
    setAttr(badge, "aria-describedby", error ? tooltip.id : null);
    badge.classList.toggle("jw-has-error", Boolean(error));
    placeTooltip();

    // Tick only while the job can still change.
    if (isFinal(r.status)) {
      if (timer !== null) {
        clearInterval(timer);
        timer = null;
      }
    } else if (timer === null) {
      timer = setInterval(tick, 1000);
    }
  }

  function onKernelTime() {
    offset = clockOffset(model.get("kernel_time"), Date.now() / 1000);
    tick();
  }

  /** Show the tooltip (below the badge, else above it, inside the window) or hide it. */
  function placeTooltip() {
    const show = (hovered || focused) && !dismissed && tooltip.textContent !== "" && badge.isConnected;
    tooltip.hidden = !show;
    if (!show) return;
    const gap = 4;
    const r = badge.getBoundingClientRect();
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const vh = document.documentElement.clientHeight || window.innerHeight;
    tooltip.style.maxWidth = `${Math.max(120, Math.min(560, vw - 2 * gap))}px`;
    const t = tooltip.getBoundingClientRect();
    const left = Math.max(gap, Math.min(r.left, vw - t.width - gap));
    const below = r.bottom + gap;
    const top = below + t.height <= vh - gap || r.top - gap - t.height < gap ? below : r.top - gap - t.height;
    tooltip.style.left = `${Math.round(left)}px`;
    tooltip.style.top = `${Math.round(top)}px`;
  }

  const hoverTo = (on) => () => {
    hovered = on;
    placeTooltip();
  };
  const offs = [
    listen(badge, "mouseenter", hoverTo(true)),
    listen(badge, "mouseleave", hoverTo(false)),
    listen(badge, "focus", () => {
      focused = true;
      placeTooltip();
    }),
    listen(badge, "blur", () => {
      focused = false;
      dismissed = false;
      placeTooltip();
    }),
    // Escape hides the tooltip for keyboard users without moving focus.
    listen(badge, "keydown", (e) => {
      if (e.key !== "Escape") return;
      dismissed = true;
      placeTooltip();
    }),
    // the page scrolled under a shown tooltip: it follows its badge
    listen(window, "scroll", () => {
      if (!tooltip.hidden) placeTooltip();
    }, { capture: true, passive: true }),
  ];
  model.on("change:row", update);
  model.on("change:kernel_time", onKernelTime);
  update();

  return () => {
    model.off("change:row", update);
    model.off("change:kernel_time", onKernelTime);
    for (const off of offs) off();
    if (timer !== null) clearInterval(timer);
    timer = null;
    badge.remove();
    tooltip.remove();
  };
}

export default { render };
