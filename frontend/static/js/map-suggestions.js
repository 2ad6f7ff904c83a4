// Colour the map by suggested label: an unlabelled point takes its best suggestion's label colour,
// more opaque the more confident; labelled points are dimmed to context. Data: the columns of
// GET /api/projects/{id}/suggestions/map?format=binary (best suggestion per still-unlabelled
// segment, in the map's binary layout).
import { request } from "./api.js";
import { UNLABELLED_COLOR } from "./labels.js";
import { parseMap } from "./map-data.js";

// Opacity per confidence band [0, .25), [.25, .5), [.5, .75), [.75, 1]: sure ones stand out.
const BAND_ALPHA = [0.3, 0.5, 0.75, 1];
const LABELLED_ALPHA = 0.15;
const withAlpha = (hex, alpha) =>
  hex +
  Math.round(alpha * 255)
    .toString(16)
    .padStart(2, "0");

/** {header, segmentId, labelId, confidence}: typed arrays of one entry per suggestion. */
export async function fetchSuggestionColumns(projectId) {
  const response = await request(`/api/projects/${projectId}/suggestions/map?format=binary`);
  return parseMap(await response.arrayBuffer());
}

/**
 * createSuggestionLayer(model, {segmentId, labelId, confidence}) -> {count, colors,
 * categories(), note(segmentId)}. Display categories: 0 unlabelled and unsuggested, 1..L labelled
 * (dimmed), then BAND_ALPHA.length per label for suggestions ("#rrggbbaa" colours).
 */
export function createSuggestionLayer(model, columns) {
  const bands = BAND_ALPHA.length;
  const suggested = new Int32Array(model.count).fill(-1); // label index per point
  const confidence = new Float32Array(model.count);
  const indexOfLabel = new Map(model.labels.map((label, i) => [label.id, i]));
  for (let i = 0; i < columns.segmentId.length; i++) {
    const point = model.pointOf(columns.segmentId[i]);
    const index = indexOfLabel.get(columns.labelId[i]);
    if (point === undefined || index === undefined) continue;
    suggested[point] = index;
    confidence[point] = columns.confidence[i];
  }
  const offset = 1 + model.labels.length;

  return {
    count: columns.segmentId.length,
    colors: [
      UNLABELLED_COLOR,
      ...model.labels.map((label) => withAlpha(label.color, LABELLED_ALPHA)),
      ...model.labels.flatMap((label) => BAND_ALPHA.map((alpha) => withAlpha(label.color, alpha))),
    ],

    /** Int32Array of display categories; a label given since the suggestion wins. */
    categories() {
      const out = new Int32Array(model.count);
      for (let p = 0; p < model.count; p++) {
        const c = model.categories[p];
        if (c !== 0 || suggested[p] < 0) out[p] = c;
        else
          out[p] =
            offset + suggested[p] * bands + Math.min(bands - 1, Math.floor(confidence[p] * bands));
      }
      return out;
    },

    /** "suggested: cat (0.87)" for a still-unlabelled suggested segment, else null. */
    note(segmentId) {
      const p = model.pointOf(segmentId);
      if (p === undefined || suggested[p] < 0 || model.categories[p] !== 0) return null;
      return `suggested: ${model.labels[suggested[p]].name} (${confidence[p].toFixed(2)})`;
    },
  };
}
