// Label classes editor (project page): name, colour, hotkey; add, edit in place, delete.
import { api } from "./api.js";
import { el, guarded, meter } from "./dom.js";

function hotkeySelect(value) {
  const select = el("select", { "aria-label": "Hotkey" }, el("option", { value: "", text: "—" }));
  for (let k = 1; k <= 9; k++) select.append(el("option", { value: String(k), text: String(k) }));
  select.value = value ? String(value) : "";
  return select;
}

/** Render into `tbody`; `counts` maps label id -> segment count (or null when unknown). */
export function createLabelsEditor({ projectId, tbody, form, errorBox, onChange }) {
  const base = `/api/projects/${projectId}/labels`;
  const patch = (id, json) =>
    guarded(errorBox, async () => {
      await api(`${base}/${id}`, { method: "PATCH", json });
      await onChange();
    });

  function row(label, counts) {
    const color = el("input", { type: "color", value: label.color, "aria-label": "Colour" });
    const name = el("input", {
      value: label.name,
      maxlength: "100",
      "aria-label": "Name",
      class: "label-name-input",
    });
    const hotkey = hotkeySelect(label.hotkey);
    color.addEventListener("change", () => patch(label.id, { color: color.value }));
    name.addEventListener("change", () => patch(label.id, { name: name.value }));
    hotkey.addEventListener("change", () =>
      patch(label.id, { hotkey: hotkey.value ? Number(hotkey.value) : null }),
    );
    const remove = el("button", {
      type: "button",
      class: "ghost",
      text: "Delete",
      title: `Delete ${label.name}`,
    });
    remove.addEventListener("click", () =>
      guarded(errorBox, async () => {
        await api(`${base}/${label.id}`, { method: "DELETE" });
        await onChange();
      }),
    );
    const count = counts?.byLabel.get(label.id);
    const progress =
      count === undefined ? el("span", { class: "muted", text: "–" }) : meter(count, counts.total);
    return el(
      "tr",
      { "data-label-id": label.id },
      el("td", {}, color),
      el("td", {}, name),
      el("td", {}, hotkey),
      el("td", {}, progress),
      el("td", {}, remove),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(errorBox, async () => {
      const hotkey = form.hotkey.value ? Number(form.hotkey.value) : null;
      await api(base, {
        method: "POST",
        json: { name: form.name.value, color: form.color.value, hotkey },
      });
      form.name.value = "";
      await onChange();
      form.name.focus();
    });
  });

  return {
    render(labels, counts) {
      tbody.replaceChildren(...labels.map((label) => row(label, counts)));
    },
  };
}
