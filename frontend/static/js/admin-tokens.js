// Your own API tokens: create with a name (the token is shown once), list, revoke.
import { api } from "./api.js";
import { $, el, guarded } from "./dom.js";
import { offerCopy } from "./copy.js";

export async function installTokens() {
  const box = $("#tokens-error");
  const act = (fn) =>
    guarded(box, async () => {
      await fn();
      await refresh();
    });

  function row(token) {
    return el(
      "tr",
      { "data-token": token.name },
      el("td", { text: token.name }),
      el("td", { text: new Date(token.created_at).toLocaleString() }),
      el(
        "td",
        {},
        el("button", {
          type: "button",
          class: "ghost",
          text: "Revoke",
          onclick: () => act(() => api(`/api/auth/tokens/${token.id}`, { method: "DELETE" })),
        }),
      ),
    );
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
