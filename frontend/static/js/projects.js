// Projects page: list with progress, create.
import { api } from "./api.js";
import { el, guarded, meter } from "./dom.js";
import { installKeyboard } from "./keyboard.js";
import { authStatus, deniedReason } from "./access.js";

const tbody = document.getElementById("projects");
const form = document.getElementById("create-project");

function row(p) {
  return el(
    "tr",
    { "data-project-id": p.id },
    el("td", {}, el("a", { href: `/projects/${p.id}`, text: p.name })),
    el("td", { text: String(p.image_count) }),
    el("td", { text: String(p.segment_count) }),
    el("td", {}, meter(p.labelled_count, p.segment_count)),
    el(
      "td",
      {},
      el("a", { href: `/projects/${p.id}/annotate`, text: "annotate" }),
      " · ",
      el("a", { href: `/projects/${p.id}/map`, text: "map" }),
    ),
  );
}

async function refresh() {
  const [{ items }, { user }] = await Promise.all([api("/api/projects"), authStatus()]);
  tbody.replaceChildren(...items.map(row));
  const isAdmin = user?.role === "admin";
  // A member of no project sees why the list is empty, not an empty table.
  document.getElementById("no-projects").hidden = items.length > 0 || isAdmin;
  form.hidden = !isAdmin;
  document.getElementById("create-denied").hidden = isAdmin;
  document.getElementById("create-denied").textContent =
    `Creating a project ${deniedReason(user?.role, "admin", "")}.`;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(document.getElementById("create-error"), async () => {
    const project = await api("/api/projects", { method: "POST", json: { name: form.name.value } });
    form.reset();
    await refresh();
    tbody.querySelector(`[data-project-id="${project.id}"] a`)?.focus();
  });
});

installKeyboard();
guarded(document.getElementById("list-error"), refresh);
