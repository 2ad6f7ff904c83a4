// Users: create with a role (and get an invite link), change role, deactivate, reset by invite.
import { api } from "./api.js";
import { $, el, guarded } from "./dom.js";
import { offerCopy } from "./copy.js";

const ROLES = ["viewer", "annotator", "admin"];

export function roleSelect(value, onchange, label) {
  const select = el(
    "select",
    { "aria-label": label, onchange },
    ...ROLES.map((r) => el("option", { value: r, text: r, selected: r === value })),
  );
  return select;
}

export async function installUsers({ me, onChange }) {
  const box = $("#users-error");
  const act = (fn) =>
    guarded(box, async () => {
      await fn();
      await refresh();
    });
  const patch = (user, json) => api(`/api/users/${user.id}`, { method: "PATCH", json });

  function showInvite(user) {
    $("#invite-user").textContent = user.username;
    offerCopy($("#invite-url"), $("#copy-invite"), new URL(user.invite_url, location.origin).href);
  }

  function row(user) {
    const self = user.id === me.id;
    const selfReason = self ? "you cannot do this to your own account" : null;
    return el(
      "tr",
      { "data-user": user.username },
      el("td", { text: user.username }),
      el(
        "td",
        {},
        roleSelect(
          user.role,
          (e) => act(() => patch(user, { role: e.target.value })),
          `Role of ${user.username}`,
        ),
      ),
      el("td", {
        class: user.is_active ? "" : "muted",
        text: user.is_active ? "active" : "deactivated",
      }),
      el(
        "td",
        {},
        el("button", {
          type: "button",
          class: "ghost",
          "data-action": "toggle",
          disabled: self,
          title: selfReason,
          text: user.is_active ? "Deactivate" : "Activate",
          onclick: () => act(() => patch(user, { is_active: !user.is_active })),
        }),
        " ",
        el("button", {
          type: "button",
          class: "ghost",
          "data-action": "reset",
          disabled: self,
          title: selfReason ?? "Sign them out and send a new invite link",
          text: "Reset (new invite)",
          onclick: () =>
            act(async () =>
              showInvite(await api(`/api/users/${user.id}/invite`, { method: "POST" })),
            ),
        }),
      ),
    );
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
