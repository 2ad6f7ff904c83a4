import { api, el } from "./api.js";

const tbody = document.getElementById("projects");
const form = document.getElementById("create-project");
const errorBox = document.getElementById("create-error");

async function refresh() {
  const { items } = await api("/api/projects");
  tbody.replaceChildren(
    ...items.map((p) =>
      el("tr", {},
        el("td", {}, el("a", { href: `/projects/${p.id}`, text: p.name })),
        el("td", { text: String(p.image_count) }),
        el("td", { text: String(p.segment_count) }),
        el("td", { text: String(p.labelled_count) }),
      ),
    ),
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.textContent = "";
  try {
    await api("/api/projects", { method: "POST", json: { name: form.name.value } });
    form.reset();
    await refresh();
  } catch (err) {
    errorBox.textContent = err.message;
  }
});

refresh().catch((err) => (errorBox.textContent = err.message));
