// The map's client-side state: points, their label categories and versions, filters and batch
// history. category = label index + 1 (0 = unlabelled), the index into the colour list. Each
// point's segment version (1 and up) comes with the map, then from assign receipts and live
// batches.
import { UNLABELLED_COLOR } from "./labels.js";

export function createMapModel(map) {
  const labels = map.header.labels; // [{index, id, name, color}]
  const indexOfLabel = new Map(labels.map((label, i) => [label.id, i]));
  const categories = new Int32Array(map.label.length);
  for (let i = 0; i < categories.length; i++) categories[i] = map.label[i] + 1;
  const history = [];
  const versions = Uint32Array.from(map.version);

  /** One live change: recolours its point unless this page holds that version or a later one
   * (adding the point to `points`), or notes a label this map has no colour for. */
  function applyChange(segmentId, labelId, version, points, unknownLabels) {
    const p = model.pointOf(segmentId);
    if (p === undefined || !fresher(p, version)) return;
    if (labelId !== null && !indexOfLabel.has(labelId)) {
      unknownLabels.add(labelId);
      return;
    }
    categories[p] = labelId === null ? 0 : indexOfLabel.get(labelId) + 1;
    points.push(p);
  }

  /** Whether `version` of a point's segment is newer than any this page has seen; remembers it. */
  function fresher(point, version) {
    if (versions[point] >= version) return false;
    versions[point] = version;
    return true;
  }

  const model = {
    map,
    labels,
    categories,
    colors: [UNLABELLED_COLOR, ...labels.map((label) => label.color)],
    count: categories.length,

    labelIdAt(point) {
      const c = categories[point];
      return c === 0 ? null : labels[c - 1].id;
    },

    /** Counts per category over `points` (all points when omitted): Int32Array(labels + 1). */
    countByCategory(points = null) {
      const counts = new Int32Array(labels.length + 1);
      // Indexed loops: an iterator over a million-entry typed array costs ~15x more.
      if (points === null) for (let p = 0; p < categories.length; p++) counts[categories[p]]++;
      else for (let i = 0; i < points.length; i++) counts[categories[points[i]]]++;
      return counts;
    },

    /** Point indices passing the filters (ascending Uint32Array), or null when nothing is
     * filtered. `source` is a source name ("" for any); areas are in pixels (null for no bound). */
    filtered({ hiddenLabels, unlabelledOnly, source, areaMin, areaMax }) {
      const active =
        hiddenLabels.size || unlabelledOnly || source || areaMin !== null || areaMax !== null;
      if (!active) return null;
      const sourceIndex = source ? map.header.sources.indexOf(source) : -1;
      // Per category (0 = unlabelled): whether the label filters hide it.
      const hidden = Uint8Array.from([
        0,
        ...labels.map((l) => unlabelledOnly || hiddenLabels.has(l.id)),
      ]);
      const keep = new Uint32Array(categories.length);
      let k = 0;
      for (let p = 0; p < categories.length; p++) {
        if (hidden[categories[p]]) continue;
        if (source && map.source[p] !== sourceIndex) continue;
        if (areaMin !== null && map.area[p] < areaMin) continue;
        if (areaMax !== null && map.area[p] > areaMax) continue;
        keep[k++] = p;
      }
      return keep.slice(0, k);
    },

    /** Set `labelId` (null clears) on points; remembers the previous labels (and the
     * server's audit batch id, when it sends one) for undo. With the receipt's `versions`
     * ({segment id: version}), a point some later batch already changed keeps that change. */
    apply(points, labelId, batchId = null, receiptVersions = null) {
      const previous = points.map((p) => categories[p]);
      history.push({ points: [...points], previous, batchId, receiptVersions });
      const current = (p) => {
        const version = receiptVersions?.[map.segmentId[p]];
        return version === undefined || fresher(p, version);
      };
      model.setLabel(points.filter(current), labelId);
    },

    /** {segment id: version} of the points whose version this page knows, for an assign's
     * expected_versions; null when it knows none. */
    expectedVersions(points) {
      const known = points.filter((p) => versions[p] > 0);
      return known.length
        ? Object.fromEntries(known.map((p) => [map.segmentId[p], versions[p]]))
        : null;
    },

    /** Apply label changes made anywhere, [[segment_id, label_id|null, version]] (a live batch),
     * skipping those no newer than what this page holds (its own assigns, echoed). Returns
     * {points: the changed points, unknownLabels: label ids this map has no colour for}. */
    applyChanges(changes) {
      const points = [];
      const unknownLabels = new Set();
      for (const [segmentId, labelId, version] of changes) {
        applyChange(segmentId, labelId, version, points, unknownLabels);
      }
      return { points, unknownLabels: [...unknownLabels] };
    },

    /** applyChanges for a big batch read as columns (batch-columns.js; label 0 is none). */
    applyColumns({ segmentIds, labels, versions }) {
      const points = [];
      const unknownLabels = new Set();
      for (let i = 0; i < segmentIds.length; i++) {
        applyChange(segmentIds[i], labels[i] || null, versions[i], points, unknownLabels);
      }
      return { points, unknownLabels: [...unknownLabels] };
    },

    /** Whether this page made the batch (its own assign, echoed by the live stream). */
    madeBatch: (batchId) => history.some((entry) => entry.batchId === batchId),

    setLabel(points, labelId) {
      const category = labelId === null ? 0 : indexOfLabel.get(labelId) + 1;
      for (const p of points) categories[p] = category;
    },

    canUndo: () => history.length > 0,

    lastBatchId: () => history[history.length - 1]?.batchId ?? null,

    /** Apply a freshly downloaded map's labels and versions to the points this map shows
     * (after a conflict listing only part of what changed). Returns applyChanges' result. */
    refreshFrom(fresh) {
      const ids = fresh.header.labels.map((label) => label.id);
      const changes = Array.from(fresh.segmentId, (id, i) => [
        id,
        fresh.label[i] < 0 ? null : ids[fresh.label[i]],
        fresh.version[i],
      ]);
      return model.applyChanges(changes);
    },

    /** Restore the last batch locally, once the server has confirmed it. The server's undo
     * bumps each segment's version once more than the batch's receipt said. */
    commitUndo() {
      const { points, previous, receiptVersions } = history.pop();
      points.forEach((p, i) => {
        categories[p] = previous[i];
        const version = receiptVersions?.[map.segmentId[p]];
        if (version !== undefined) fresher(p, version + 1);
      });
    },

    segmentIds(points) {
      return points.map((p) => map.segmentId[p]);
    },

    /** The point of a segment id, or undefined when the segment is not on the map. */
    pointOf(segmentId) {
      // The server sends points in segment id order: a binary search, no million-entry Map.
      const ids = map.segmentId;
      let lo = 0,
        hi = ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ids[mid] < segmentId) lo = mid + 1;
        else hi = mid;
      }
      return ids[lo] === segmentId ? lo : undefined;
    },
  };
  return model;
}
