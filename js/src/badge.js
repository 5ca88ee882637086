// StatusBadge view: an inline pill  [icon] STATUS · job_id · elapsed
//
// Synced traits: `row` (the job's row, the same data a JobTable row carries;
// see ../PROTOCOL.md) and `kernel_time`. The elapsed text ticks here, once a
// second, while the job is not final; the kernel sends nothing per tick.

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
  const tooltip = h("span", "jw-tooltip");
  tooltip.setAttribute("role", "tooltip");
  tooltip.id = uniqueId("jw-tip");
  badge.append(sep1, id, sepPct, pct, sep2, elapsed, tooltip);
  el.classList.add("jw-root");
  el.appendChild(badge);

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

    // The error shows on hover and on keyboard focus (CSS), and as a title.
    setText(tooltip, error ?? "");
    setAttr(badge, "title", error ? String(error) : null);
    setAttr(badge, "tabindex", error ? "0" : null);
    setAttr(badge, "aria-describedby", error ? tooltip.id : null);
    badge.classList.toggle("jw-has-error", Boolean(error));

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

  model.on("change:row", update);
  model.on("change:kernel_time", onKernelTime);
  // Escape hides the tooltip for keyboard users without moving focus.
  const offKey = listen(badge, "keydown", (e) => {
    if (e.key === "Escape") badge.classList.add("jw-tip-dismissed");
  });
  const offBlur = listen(badge, "blur", () => badge.classList.remove("jw-tip-dismissed"));
  update();

  return () => {
    model.off("change:row", update);
    model.off("change:kernel_time", onKernelTime);
    offKey();
    offBlur();
    if (timer !== null) clearInterval(timer);
    timer = null;
    badge.remove();
  };
}

export default { render };
