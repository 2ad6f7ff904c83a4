// The map's side panel for the selection: count, per-label breakdown, gallery, buttons.
import { el } from "./dom.js";
import { createGallery } from "./gallery.js";
import { UNLABELLED_COLOR } from "./labels.js";

export function createSelectionPanel({ model, thumbnailUrl, onRemove, onSimilar = null }) {
  const count = document.getElementById("selection-count");
  const breakdown = document.getElementById("selection-breakdown");
  const buttons = ["assign-label", "clear-label"].map((id) => document.getElementById(id));
  const gallery = createGallery(document.getElementById("gallery"), {
    thumbnailUrl,
    onClick: (segmentId) => onRemove(segmentId),
    onSimilar,
  });

  function row(color, name, n) {
    return el(
      "li",
      {},
      el("span", { class: "swatch", style: { background: color } }),
      el("span", { text: name }),
      el("span", { class: "count", text: String(n) }),
    );
  }

  return {
    render(points, currentLabel) {
      count.textContent = `${points.length} selected`;
      const counts = model.countByCategory(points);
      const rows = [];
      if (counts[0]) rows.push(row(UNLABELLED_COLOR, "unlabelled", counts[0]));
      model.labels.forEach((label, i) => {
        if (counts[i + 1]) rows.push(row(label.color, label.name, counts[i + 1]));
      });
      breakdown.replaceChildren(...rows);
      buttons[0].disabled = !points.length || !currentLabel;
      buttons[0].textContent = currentLabel ? `Assign “${currentLabel.name}”` : "Assign label";
      buttons[1].disabled = !points.length;
      gallery.setItems(model.segmentIds(points));
    },
  };
}
