// One suggestion as a card: the segment's masked thumbnail, the suggested label (colour chip and
// name, set as text), the confidence and a badge naming the predictor (propagate / exemplar).
import { el } from "./dom.js";
import { labelById, UNLABELLED_COLOR } from "./labels.js";

export const thumbnailUrl = (segmentId, size = 160) =>
  `/api/segments/${segmentId}/thumbnail?size=${size}`;

/** item: {segment_id, label_id, confidence, kind}; labels: the project's label classes. */
export function suggestionMeta(item, labels) {
  const label = labelById(labels, item.label_id);
  const name = label?.name ?? `label ${item.label_id}`;
  return el(
    "div",
    { class: "suggestion-meta" },
    el("span", { class: "swatch", style: { background: label?.color ?? UNLABELLED_COLOR } }),
    el("span", { class: "label-name", text: name, title: name }),
    el("span", { class: `badge kind-${item.kind}`, text: item.kind }),
    el("span", { class: "confidence", text: item.confidence.toFixed(2) }),
  );
}

export function suggestionCard(item, labels, onClick) {
  return el(
    "div",
    {
      class: "review-card",
      role: "option",
      "data-segment-id": item.segment_id,
      "data-kind": item.kind,
      onclick: onClick,
    },
    el("img", {
      src: thumbnailUrl(item.segment_id),
      alt: `segment ${item.segment_id}`,
      loading: "lazy",
    }),
    suggestionMeta(item, labels),
  );
}
