// The order of one prompt's candidates that /predict gives (app/inference/candidates.py), for
// the in-page decoder: predicted IoU + weight * log(share of the project's picks of the token),
// on the counts and weight the server sends. Fetched when the decoder starts and after a save.
import { api } from "./api.js";

/**
 * masks: [{token, score}] by predicted IoU, best first -> best first for the project (a new
 * array; ties keep their order, as Python's stable sort does). counts: saved segments per
 * token 0..3, Laplace-smoothed here as there.
 */
export function orderCandidates(masks, { weight, counts }) {
  if (masks.length < 2) return masks;
  const smoothed = counts.map((c) => c + 1);
  const total = masks.reduce((sum, m) => sum + smoothed[m.token], 0);
  const rank = (m) => m.score + weight * Math.log(smoothed[m.token] / total);
  return masks
    .map((m) => [rank(m), m])
    .sort((a, b) => b[0] - a[0])
    .map(([, m]) => m);
}

/** The project's picks: `order(masks)` with the last counts fetched, `refresh()` them. */
export function createCandidatePicks(projectId) {
  let picks = { weight: 0, counts: [0, 0, 0, 0] };
  return {
    order: (masks) => orderCandidates(masks, picks),
    async refresh() {
      picks = await api(`/api/projects/${projectId}/candidate-picks`);
    },
  };
}
