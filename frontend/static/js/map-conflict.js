// Stale writes from the map: the server refuses (409 stale_version) a batch whose segments someone
// else changed since this page saw them, and names their current state (app/services/assign.py,
// app/history/undo.py). The page catches up with that state and lets the user decide again.
import { ApiError } from "./api.js";

export const isStale = (err) =>
  err instanceof ApiError && err.status === 409 && err.code === "stale_version";

/**
 * Apply the server's current labels and versions of what `err` says changed to `model`; the
 * whole map again (`fetchFresh()` -> a parsed map) when the list may be cut short.
 * Returns {count: how many segments had changed, unknownLabels: label ids the map cannot colour}.
 */
export async function catchUp(model, err, fetchFresh) {
  const changed = err.detail?.changed ?? [];
  // The server lists at most 100 changed segments, and counts them all.
  const count = err.detail?.changed_count ?? changed.length;
  const { unknownLabels } =
    count > changed.length
      ? model.refreshFrom(await fetchFresh())
      : model.applyChanges(changed.map((c) => [c.segment_id, c.label_id, c.version]));
  return { count, unknownLabels };
}

/** What to tell the user after an assign (labelId) or clear (null) was refused. */
export function conflictMessage(count, labelId) {
  const again = labelId === null ? "Clear" : "Assign";
  return (
    `${count} of the selected segments were changed by someone else since you loaded them: ` +
    `they now show the new labels. ${again} again to overwrite.`
  );
}
