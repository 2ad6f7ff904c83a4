// The map's live side: other sessions' label batches recolour the points as they commit,
// suggestion changes reload the suggestion colours, and the header lists who else is here.
import { fetchBatchColumns } from "./batch-columns.js";
import { openProjectStream } from "./live.js";
import { joinProject } from "./presence.js";

// Batches replayed after a reconnect come in a burst: one repaint for all of them.
const REPAINT_DELAY_MS = 50;
const SUGGESTIONS_DELAY_MS = 300;
const OPEN_WAIT_MS = 3000;

/**
 * Start listening before the map is downloaded, so no batch falls between the download and the
 * stream; batches wait until ready(model) is called, then apply oldest first.
 *   onLabels(points, unknownLabels): after a burst of batches changed these points;
 *   onSuggestions(): the project's suggestions changed (a job finished, someone reviewed).
 * Returns {opened, ready(model)}: download the map after `opened`.
 */
export function installMapLive(projectId, { onLabels, onSuggestions }) {
  let model = null;
  let waiting = []; // batches before the model exists
  const changed = new Set();
  const unknown = new Set();
  let repaint = null;
  let reloadSuggestions = null;

  function apply(batch) {
    if (!model) return waiting.push(batch);
    if (batch.changes !== null) return note(batch, model.applyChanges(batch.changes));
    // A big batch comes as its count: read its changes as columns. Order does not matter:
    // a point takes a change only when its version is newer than what the map holds.
    if (model.madeBatch(batch.batch_id)) return note(batch, { points: [], unknownLabels: [] });
    fetchBatchColumns(projectId, batch.batch_id).then(
      (columns) => note(batch, model.applyColumns(columns)),
      () => location.reload(), // the map cannot tell what changed: start again from the server
    );
  }

  function note(batch, { points, unknownLabels }) {
    for (const p of points) changed.add(p);
    for (const id of unknownLabels) unknown.add(id);
    document.body.dataset.liveBatch = String(batch.batch_id);
    if (repaint === null) repaint = setTimeout(flush, REPAINT_DELAY_MS);
  }

  function flush() {
    repaint = null;
    const points = [...changed],
      labels = [...unknown];
    changed.clear();
    unknown.clear();
    if (points.length || labels.length) onLabels(points, labels);
  }

  const stream = openProjectStream(projectId, {
    onLabels: apply,
    onPresence: joinProject(projectId),
    onSuggestions: () => {
      clearTimeout(reloadSuggestions);
      reloadSuggestions = setTimeout(onSuggestions, SUGGESTIONS_DELAY_MS);
    },
    onReset: () => location.reload(),
  });

  return {
    /** Resolves once the stream is open, or after OPEN_WAIT_MS without it (a server without
     * events still shows its map). */
    opened: Promise.race([
      stream.opened,
      new Promise((resolve) => setTimeout(resolve, OPEN_WAIT_MS)),
    ]),
    ready(loaded) {
      model = loaded;
      const backlog = waiting;
      waiting = [];
      backlog.forEach(apply);
    },
  };
}
