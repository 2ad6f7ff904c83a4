// The annotator's side panel: label picker, candidate masks with scores, segment list.
import { $, el } from "./dom.js";
import { UNLABELLED_COLOR } from "./labels.js";

export function renderLabels(labels, current, onPick) {
  $("#no-labels").hidden = labels.length > 0;
  $("#annotator-labels").replaceChildren(
    ...labels.map((label, i) =>
      el(
        "li",
        {
          class: label.id === current?.id ? "current" : "",
          "data-label-id": label.id,
          onclick: () => onPick(label),
        },
        el("kbd", { text: String(label.hotkey ?? (i < 9 ? i + 1 : "")) }),
        el("span", { class: "swatch", style: { background: label.color } }),
        el("span", { class: "label-name", text: label.name }),
      ),
    ),
  );
}

export function renderCandidates(masks, chosen, onChoose) {
  $("#candidates").replaceChildren(
    ...masks.map((mask, i) =>
      el("button", {
        type: "button",
        class: i === chosen ? "active" : "",
        "data-candidate": i,
        title: `${mask.area} px`,
        text: `${i + 1}: ${mask.score.toFixed(2)}`,
        onclick: () => onChoose(i),
      }),
    ),
  );
}

export function renderSegments(segments, labels, selectedId, visible, onSelect) {
  const shown = segments.filter(visible);
  $("#segment-count").textContent = `${shown.length} / ${segments.length}`;
  $("#segment-list").replaceChildren(
    ...shown.map((segment) => {
      const label = labels.find((l) => l.id === segment.label_id);
      return el(
        "li",
        {
          class: segment.id === selectedId ? "selected" : "",
          "data-segment-id": segment.id,
          onclick: () => onSelect(segment.id),
        },
        el("span", { class: "swatch", style: { background: label?.color ?? UNLABELLED_COLOR } }),
        el("span", { class: "label-name", text: label?.name ?? "unlabelled" }),
        el("span", { class: "muted", text: `${segment.source} · ${segment.area} px` }),
      );
    }),
  );
  $("#delete-segment").disabled = selectedId === null;
}
