// Your own API tokens: create with a name (the token is shown once), list, revoke.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { offerCopy } from "./copy.js";
import { actionButton, namedRow, refreshingAct } from "./admin-table.js";

export async function installTokens() {
  const box = $("#tokens-error");
  const act = refreshingAct(box, refresh);

  function row(token) {
    const created = el("td", { text: new Date(token.created_at).toLocaleString() });
    const revoke = actionButton("Revoke", () =>
      act(() => api(`/api/auth/tokens/${token.id}`, { method: "DELETE" })),
    );
    return namedRow("token", token.name, [created], [revoke]);
  }

  async function refresh() {
    const { items } = await api("/api/auth/tokens");
    $("#tokens").replaceChildren(...items.map(row));
  }

  const form = $("#create-token");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      const created = await api("/api/auth/tokens", {
        method: "POST",
        json: { name: form.name.value },
      });
      form.reset();
      offerCopy($("#new-token-value"), $("#copy-token"), created.token);
    });
  });
  await refresh();
}
