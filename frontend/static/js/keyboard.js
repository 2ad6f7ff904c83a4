// Keyboard-first: one registry of shortcuts, dispatched from one listener, listed in one sheet.
import { el } from "./dom.js";

const bindings = [];
let refuse = () => {}; // says in the page why a key was refused (installKeyboard's option)

// "ctrl+shift+z", "Enter", "?", "1": ctrl/meta, alt, and shift (when not implied by the key).
export function comboOf(event) {
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const ctrl = event.ctrlKey || event.metaKey;
  const parts = [];
  if (ctrl) parts.push("ctrl");
  if (event.altKey) parts.push("alt");
  if (event.shiftKey && (key.length > 1 || ctrl)) parts.push("shift");
  parts.push(key);
  return parts.join("+");
}

function typingIn(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

/**
 * Register `handler(event)` for `combos` (a string or list). `label` is what the sheet shows;
 * `when()` (optional) gates the binding. A handler returning false lets the event through.
 * `denied()` (optional) returns why your role may not use it (null: it may): the key is then
 * refused in the page, with that reason, before any request, and the sheet says so.
 */
export function bind(
  combos,
  label,
  handler,
  { when = () => true, hidden = false, denied = () => null } = {},
) {
  bindings.push({ combos: [].concat(combos), label, handler, when, hidden, denied });
}

/** List a mouse gesture in the sheet (it has no key: the page handles the mouse itself). */
export function gesture(names, label) {
  bindings.push({
    combos: [].concat(names),
    label,
    handler: () => false,
    when: () => false,
    hidden: false,
    denied: () => null,
  });
}

function dispatch(event) {
  // An open dialog (this sheet, a confirmation) takes the keys: Esc closes it, page shortcuts
  // wait (the annotator's own Esc binding would otherwise keep the sheet open over the image).
  const open = document.querySelector("dialog[open]");
  if (open) {
    if (event.key === "Escape") {
      open.close();
      event.preventDefault();
    }
    return;
  }
  if (typingIn(event.target) && event.key !== "Escape") return;
  const combo = comboOf(event);
  for (const binding of bindings) {
    if (!binding.combos.includes(combo) || !binding.when()) continue;
    const reason = binding.denied();
    if (reason) {
      refuse(`${binding.label}: ${reason}`);
      event.preventDefault();
      return;
    }
    if (binding.handler(event) === false) return;
    event.preventDefault();
    return;
  }
}

function renderSheet(table) {
  const rows = bindings
    .filter((b) => !b.hidden)
    .map((b) => {
      const reason = b.denied();
      return el(
        "tr",
        reason ? { "data-denied": reason, class: "denied" } : {},
        el("td", {}, ...b.combos.map((c) => el("kbd", { text: c }))),
        el(
          "td",
          {},
          b.label,
          reason ? el("span", { class: "denied-note", text: ` (${reason})` }) : null,
        ),
      );
    });
  table.replaceChildren(...rows);
}

export function toggleSheet() {
  const dialog = document.getElementById("shortcuts");
  if (dialog.open) return dialog.close();
  renderSheet(document.getElementById("shortcut-table"));
  dialog.showModal();
}

/** `onRefused(text)`: where a key refused for the role says why (e.g. the status line). */
export function installKeyboard({ onRefused = () => {} } = {}) {
  refuse = onRefused;
  bind("?", "Show this list of shortcuts", toggleSheet);
  bind("Escape", "Close this list (and any dialog)", () => false, { when: () => false });
  document.getElementById("help-button")?.addEventListener("click", toggleSheet);
  window.addEventListener("keydown", dispatch);
}
