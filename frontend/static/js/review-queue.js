// The review queue's state: the loaded suggestions (in server order), the cursor, paging, and
// dropping reviewed ones locally so walking never waits for a reload.
import { api } from "./api.js";

export const PAGE = 60;
const keyOf = (item) => `${item.segment_id}:${item.kind}`;

export function createReviewQueue(projectId) {
  let items = [];
  let total = 0;
  let cursor = 0;
  const filters = { order: "uncertain", kind: "" };
  const clamp = (i) => Math.min(Math.max(i, 0), Math.max(items.length - 1, 0));

  function query(offset, limit, extra = {}) {
    const params = new URLSearchParams({ offset, limit, order: filters.order, ...extra });
    if (filters.kind) params.set("kind", filters.kind);
    return api(`/api/projects/${projectId}/suggestions?${params}`);
  }

  return {
    filters,
    get items() {
      return items;
    },
    get total() {
      return total;
    },
    get cursor() {
      return cursor;
    },
    current: () => items[cursor] ?? null,
    hasMore: () => items.length < total,
    keyOf,

    /** Reload from the top; the cursor stays on the same suggestion while it is listed. */
    async reload() {
      const kept = items[cursor] ? keyOf(items[cursor]) : null;
      const page = await query(0, Math.max(PAGE, items.length));
      items = page.items;
      total = page.total;
      const at = items.findIndex((item) => keyOf(item) === kept);
      cursor = at >= 0 ? at : clamp(cursor);
    },

    async loadMore() {
      const page = await query(items.length, PAGE);
      const seen = new Set(items.map(keyOf));
      items = items.concat(page.items.filter((item) => !seen.has(keyOf(item))));
      total = page.total;
    },

    move(step) {
      cursor = clamp(cursor + step);
    },
    moveTo(index) {
      cursor = clamp(index);
    },

    /** Forget reviewed suggestions: all of the segment's (it has a label now) or one kind's. */
    drop(segmentId, kind = null) {
      const gone = (item) => item.segment_id === segmentId && (kind === null || item.kind === kind);
      const before = items.length;
      const aboveCursor = items.slice(0, cursor).filter(gone).length;
      items = items.filter((item) => !gone(item));
      total -= before - items.length;
      cursor = clamp(cursor - aboveCursor);
    },

    /** How many suggestions (of the kind filter) are at or above `threshold`. */
    /** How many segments accepting everything >= threshold would label (a segment with both a
     * propagate and an exemplar suggestion counts once). */
    async countAbove(threshold) {
      return (await query(0, 1, { min_confidence: threshold })).segments;
    },
  };
}
