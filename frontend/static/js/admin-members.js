// Project members: pick a project, list its members and their roles, add, change, remove.
import { api } from "./api.js";
import { $, el, guarded } from "./dom.js";
import { actionButton, namedRow, refreshingAct, roleCell } from "./admin-table.js";

export function installMembers() {
  const box = $("#members-error");
  const projectSelect = $("#member-project");
  const form = $("#add-member");
  let users = [];
  let members = [];
  const base = () => `/api/projects/${projectSelect.value}/members`;
  const act = refreshingAct(box, refresh);
  const put = (userId, role) => api(`${base()}/${userId}`, { method: "PUT", json: { role } });

  function row(member) {
    const role = roleCell(
      member.role,
      (e) => act(() => put(member.user_id, e.target.value)),
      `Project role of ${member.username}`,
    );
    const remove = actionButton("Remove", () =>
      act(() => api(`${base()}/${member.user_id}`, { method: "DELETE" })),
    );
    return namedRow("member", member.username, [role], [remove]);
  }

  function renderCandidates() {
    const inside = new Set(members.map((m) => m.user_id));
    const candidates = users.filter((u) => !inside.has(u.id) && u.role !== "admin");
    // A refresh landing while someone picks a user must not change their pick.
    const picked = form.user_id.value;
    form.user_id.replaceChildren(
      ...candidates.map((u) => el("option", { value: u.id, text: u.username })),
    );
    if (candidates.some((u) => String(u.id) === picked)) form.user_id.value = picked;
    form.querySelector("button").disabled = candidates.length === 0;
    form.querySelector("button").title = candidates.length
      ? ""
      : "every non-admin user is already a member (admins see every project)";
  }

  let asked = 0;
  async function refresh() {
    if (!projectSelect.value) return;
    const mine = ++asked;
    const items = (await api(base())).items;
    if (mine !== asked) return; // a later refresh (after a change) is on its way
    members = items;
    $("#members").replaceChildren(...members.map(row));
    renderCandidates();
  }

  projectSelect.addEventListener("change", () => guarded(box, refresh));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(() => put(form.user_id.value, form.role.value));
  });

  const ready = guarded(box, async () => {
    const { items } = await api("/api/projects");
    projectSelect.replaceChildren(...items.map((p) => el("option", { value: p.id, text: p.name })));
    form.hidden = items.length === 0;
    await refresh();
  });
  return {
    ready,
    refreshUsers: (list) => {
      users = list;
      renderCandidates();
    },
  };
}
