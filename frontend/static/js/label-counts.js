// Per-label progress for the project page: every segment of the project, on the map or not.
import { api } from "./api.js";

/** {total, unlabelled, byLabel: Map(label id -> segments)}. */
export async function labelCounts(projectId) {
  const stats = await api(`/api/projects/${projectId}/stats`);
  return {
    total: stats.segments_total,
    unlabelled: stats.unlabelled,
    byLabel: new Map(stats.per_label.map((l) => [l.label_id, l.count])),
  };
}
