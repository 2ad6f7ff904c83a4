// Per-label progress for the project page, read from the map (segments placed on it).
import { isMissingRoute } from "./api.js";
import { countLabels, fetchMap } from "./map-data.js";

/** {total, unlabelled, byLabel} or null when the server has no map endpoint. */
export async function labelCounts(projectId) {
  try {
    return countLabels(await fetchMap(projectId));
  } catch (err) {
    if (isMissingRoute(err)) return null;
    throw err;
  }
}
