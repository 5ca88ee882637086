// Small DOM helpers shared by the views.
//
// Security: job ids, backend names and error messages are untrusted. Text
// reaches the page only through textContent and setAttribute on safe
// attributes (title, aria-*, role, ...); every element is made with
// document.createElement. Nothing here parses markup.

import { statusInfo } from "./model.js";

/** document.createElement(tag) with a class name and optional text. */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

/** Set textContent only when it differs (cheap re-renders, no layout churn). */
export function setText(node, text) {
  const value = text == null ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** Set or remove an attribute, only when it differs. */
export function setAttr(node, name, value) {
  if (value == null || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
    return;
  }
  const v = value === true ? "" : String(value);
  if (node.getAttribute(name) !== v) node.setAttribute(name, v);
}

/** Add an event listener and return the function that removes it. */
export function listen(target, type, handler, options) {
  target.addEventListener(type, handler, options);
  return () => target.removeEventListener(type, handler, options);
}

let uid = 0;
/** A page-unique id for aria-describedby / aria-controls links. */
export function uniqueId(prefix) {
  uid += 1;
  return `${prefix}-${uid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A status pill: icon, label, and (for RUNNING) an animated activity
 * indicator. Returns `{root, update(status)}`; the badge appends more
 * children to `root`. `extraClass` stays on `root` across updates.
 */
export function createPill(extraClass = "") {
  const base = extraClass ? `jw-pill ${extraClass}` : "jw-pill";
  const root = h("span", base);
  const icon = h("span", "jw-pill-icon");
  icon.setAttribute("aria-hidden", "true");
  const spin = h("span", "jw-spin");
  spin.setAttribute("aria-hidden", "true");
  const label = h("span", "jw-pill-label");
  root.append(icon, label, spin);
  let current;
  return {
    root,
    update(status) {
      if (status === current) return;
      current = status;
      const info = statusInfo(status);
      root.className = `${base} ${info.cls}`;
      setText(icon, info.icon);
      setText(label, info.label === "UNKNOWN" && status ? String(status) : info.label);
    },
  };
}
