// Label classes editor (project page): name, colour, hotkey; add, edit in place, delete.
import { api } from "./api.js";
import { confirmAction } from "./confirm.js";
import { el, guarded, meter } from "./dom.js";

function hotkeySelect(value) {
  const select = el("select", { "aria-label": "Hotkey" }, el("option", { value: "", text: "—" }));
  for (let k = 1; k <= 9; k++) select.append(el("option", { value: String(k), text: String(k) }));
  select.value = value ? String(value) : "";
  return select;
}

/** Render into `tbody`; `counts` is {total, byLabel: Map(label id -> segments)}. */
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
    const count = counts.byLabel.get(label.id) ?? 0;
    remove.addEventListener("click", () =>
      guarded(errorBox, async () => {
        const question = `Delete “${label.name}”? ${count} segment(s) carry it and will become unlabelled.`;
        if (count > 0 && !(await confirmAction(question, "Delete label"))) return;
        await api(`${base}/${label.id}`, { method: "DELETE" });
        await onChange();
      }),
    );
    const progress = meter(count, counts.total);
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

  form.color.addEventListener("input", () => (form.color.dataset.picked = "true"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(errorBox, async () => {
      const hotkey = form.hotkey.value ? Number(form.hotkey.value) : null;
      // Unless the user picked a colour, the server picks one no other label uses.
      const color = form.color.dataset.picked ? form.color.value : undefined;
      await api(base, { method: "POST", json: { name: form.name.value, color, hotkey } });
      form.name.value = "";
      delete form.color.dataset.picked;
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
