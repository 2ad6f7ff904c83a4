// One confirmation dialog for every page (never window.confirm): says what will happen first.
import { $ } from "./dom.js";

/** Ask `question`; resolves true when the user presses `ok`, false on Cancel or Esc. */
export function confirmAction(question, ok = "OK") {
  const dialog = $("#confirm-dialog");
  $("#confirm-text").textContent = question;
  $("#confirm-ok").textContent = ok;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}
