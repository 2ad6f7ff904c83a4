// Label classes of a project: fetch, look up, colour conversion.
import { api } from "./api.js";

export async function loadLabels(projectId) {
  const { items } = await api(`/api/projects/${projectId}/labels`);
  return items;
}

// "#4e79a7" -> [78, 121, 167].
export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export const UNLABELLED_COLOR = "#8a8f98";

export function labelById(labels, id) {
  return labels.find((label) => label.id === id) ?? null;
}

// The label a digit key picks: its explicit hotkey first, else its position (1-based).
export function labelForDigit(labels, digit) {
  const byPosition = labels[digit - 1];
  return (
    labels.find((l) => l.hotkey === digit) ?? (byPosition && !byPosition.hotkey ? byPosition : null)
  );
}
