// The map's label list: colour, name, count, visibility toggle; search; current label.
import { el } from "./dom.js";

export function createMapLabels({ model, list, search, onPick, onToggle }) {
  function item(label, i, counts, current, hidden) {
    const visible = el("input", {
      type: "checkbox",
      title: "Show on the map",
      "aria-label": `Show ${label.name}`,
    });
    visible.checked = !hidden.has(label.id);
    visible.addEventListener("click", (e) => {
      e.stopPropagation();
      onToggle(label.id, visible.checked);
    });
    const key = i < 9 ? el("kbd", { text: String(i + 1) }) : null;
    return el(
      "li",
      {
        class: label.id === current?.id ? "current" : "",
        "data-label-id": label.id,
        onclick: () => onPick(label),
      },
      visible,
      key,
      el("span", { class: "swatch", style: { background: label.color } }),
      el("span", { class: "label-name", text: label.name }),
      el("span", { class: "count", text: `${counts[i + 1]}` }),
    );
  }

  return {
    render(current, hidden) {
      const counts = model.countByCategory();
      const query = search.value.trim().toLowerCase();
      const rows = model.labels
        .map((label, i) => [label, i])
        .filter(([label]) => !query || label.name.toLowerCase().includes(query))
        .map(([label, i]) => item(label, i, counts, current, hidden));
      rows.push(
        el(
          "li",
          { class: "muted" },
          el("span", { class: "label-name", text: "unlabelled" }),
          el("span", { class: "count", text: `${counts[0]} / ${model.count}` }),
        ),
      );
      list.replaceChildren(...rows);
    },
  };
}
