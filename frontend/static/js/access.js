// Who is signed in and what their role lets them do: one session status per page, one role
// per project, and one way to disable a control with the reason (not refuse it after a click).
import { api } from "./api.js";

let status = null;

/** The /api/auth/status answer, fetched once per page. */
export function authStatus() {
  status ??= api("/api/auth/status");
  return status;
}

const RANK = { viewer: 0, annotator: 1, admin: 2 };

/** Your effective role in the project: "viewer" | "annotator" | "admin". */
export async function projectRole(projectId) {
  return (await api(`/api/projects/${projectId}/me`)).role;
}

export function allows(role, needed) {
  return RANK[role] >= RANK[needed];
}

export function deniedReason(role, needed, where = " in this project") {
  return `needs the ${needed} role${where} (yours: ${role})`;
}

/** Disable every control in `nodes` (controls or containers of them) unless `role` reaches
 * `needed`; the reason is the control's tooltip and `data-denied`. Returns whether allowed. */
export function gate(nodes, role, needed) {
  if (allows(role, needed)) return true;
  const reason = deniedReason(role, needed);
  for (const node of nodes) {
    if (!node) continue;
    const controls = node.matches("button, input, select, textarea")
      ? [node]
      : node.querySelectorAll("button, input, select, textarea");
    for (const control of controls) {
      control.disabled = true;
      control.title = reason;
    }
    node.dataset.denied = reason;
    node.classList.add("denied");
  }
  return false;
}

/** Hide every `[data-needs=ROLE]` element `role` does not reach, and say why once, at the top
 * of `container`. Returns whether `role` may label (annotator or better). */
export async function gatePage(projectId, container) {
  const role = await projectRole(projectId);
  const hidden = [...document.querySelectorAll("[data-needs]")].filter(
    (node) => !allows(role, node.dataset.needs),
  );
  for (const node of hidden) node.hidden = true;
  if (hidden.length) {
    const needed = hidden.some((n) => n.dataset.needs === "annotator") ? "annotator" : "admin";
    const note = document.createElement("p");
    note.className = "denied-note";
    note.id = "role-note";
    note.textContent = `Some tools are hidden: they need the ${needed} role in this project (yours: ${role}).`;
    container.prepend(note);
  }
  document.body.dataset.role = role;
  return allows(role, "annotator");
}
