// Users: create with a role (and get an invite link), change role, deactivate, reset by invite.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { offerCopy } from "./copy.js";
import { actionButton, namedRow, refreshingAct, roleCell } from "./admin-table.js";

export async function installUsers({ me, onChange }) {
  const box = $("#users-error");
  const act = refreshingAct(box, refresh);
  const patch = (user, json) => api(`/api/users/${user.id}`, { method: "PATCH", json });

  function showInvite(user) {
    $("#invite-user").textContent = user.username;
    offerCopy($("#invite-url"), $("#copy-invite"), new URL(user.invite_url, location.origin).href);
  }

  function row(user) {
    const self = user.id === me.id;
    const selfReason = self ? "you cannot do this to your own account" : null;
    const role = roleCell(
      user.role,
      (e) => act(() => patch(user, { role: e.target.value })),
      `Role of ${user.username}`,
    );
    const state = el("td", {
      class: user.is_active ? "" : "muted",
      text: user.is_active ? "active" : "deactivated",
    });
    const toggle = actionButton(
      user.is_active ? "Deactivate" : "Activate",
      () => act(() => patch(user, { is_active: !user.is_active })),
      { "data-action": "toggle", disabled: self, title: selfReason },
    );
    const reset = actionButton(
      "Reset (new invite)",
      () =>
        act(async () => showInvite(await api(`/api/users/${user.id}/invite`, { method: "POST" }))),
      {
        "data-action": "reset",
        disabled: self,
        title: selfReason ?? "Sign them out and send a new invite link",
      },
    );
    return namedRow("user", user.username, [role, state], [toggle, reset]);
  }

  async function refresh() {
    const { items } = await api("/api/users");
    $("#users").replaceChildren(...items.map(row));
    onChange(items);
  }

  const form = $("#create-user");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      const user = await api("/api/users", {
        method: "POST",
        json: { username: form.username.value, role: form.role.value },
      });
      form.reset();
      showInvite(user);
    });
  });
  await refresh();
}
