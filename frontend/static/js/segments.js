// The segments of the image being annotated: server calls plus decoded masks and outlines.
import { api } from "./api.js";
import { hexToRgb, UNLABELLED_COLOR } from "./labels.js";
import { decodeRle, maskCanvas, maskContains } from "./rle.js";

export function createSegmentStore(getLabels) {
  let imageId = null;
  let items = [];
  const decoded = new Map(); // segment id -> {mask, outline, color}

  function colorOf(segment) {
    return getLabels().find((l) => l.id === segment.label_id)?.color ?? UNLABELLED_COLOR;
  }

  function entryOf(segment) {
    let entry = decoded.get(segment.id);
    if (!entry) {
      entry = { mask: decodeRle(segment.rle) };
      decoded.set(segment.id, entry);
    }
    return entry;
  }

  function view(segment, selected) {
    const color = selected ? "#ffffff" : colorOf(segment);
    const entry = entryOf(segment);
    if (entry.color !== color) {
      entry.outline = maskCanvas(entry.mask, [...hexToRgb(color), 255], { outline: true });
      entry.color = color;
    }
    return entry;
  }

  async function patchMask(segmentId, body) {
    const updated = await api(`/api/segments/${segmentId}`, { method: "PATCH", json: body });
    items = items.map((s) => (s.id === segmentId ? { ...s, ...updated } : s));
    decoded.delete(segmentId);
    return updated;
  }

  return {
    get items() {
      return items;
    },
    /** Whether the server sends the part -> whole links the granularity filter needs. */
    get hasHierarchy() {
      return items.some((s) => "parent_id" in s);
    },
    /** Load an image's segments. */
    async load(id) {
      imageId = id;
      decoded.clear();
      items = [];
      items = (await api(`/api/images/${id}/segments`)).segments;
    },
    /** candidateToken: the one-click candidate's SAM token, when the page decoded it. */
    async create(rle, labelId, candidateToken = null) {
      const segment = await api(`/api/images/${imageId}/segments`, {
        method: "POST",
        json: { rle, label_id: labelId, candidate_token: candidateToken },
      });
      // The live echo of this creation may have reloaded the list before this answer came.
      items = [...items.filter((s) => s.id !== segment.id), segment];
      return segment;
    },
    async remove(segmentId) {
      await api(`/api/segments/${segmentId}`, { method: "DELETE" });
      items = items.filter((s) => s.id !== segmentId);
      decoded.delete(segmentId);
    },
    /** The decoded mask of a segment of this image (null when it is not here). */
    maskOf(segmentId) {
      const segment = items.find((s) => s.id === segmentId);
      return segment ? entryOf(segment).mask : null;
    },
    /** Replace a segment's mask; `version` is the one this page saw (a stale one is a 409). */
    editMask(segmentId, rle, version) {
      return patchMask(segmentId, { rle, version });
    },
    /** Replace a segment's mask by polygon rings ([[[x, y], ...]], pixel-edge coordinates,
     * even-odd) the server rasterises; `version` as for editMask. */
    editPolygon(segmentId, polygon, version) {
      return patchMask(segmentId, { polygon, version });
    },
    /** Merge `otherId` into `keepId` (server-side, versioned); returns the merged segment. */
    async merge(keepId, otherId) {
      const versionOf = (id) => items.find((s) => s.id === id).version;
      const merged = await api(`/api/segments/${keepId}/merge`, {
        method: "POST",
        json: {
          other_id: otherId,
          versions: { [keepId]: versionOf(keepId), [otherId]: versionOf(otherId) },
        },
      });
      items = items.filter((s) => s.id !== otherId).map((s) => (s.id === keepId ? merged : s));
      decoded.delete(keepId);
      decoded.delete(otherId);
      return merged;
    },
    /** Cut a segment along `line` ([[x, y], ...] image pixels); returns [it, the new piece]. */
    async split(segmentId, line) {
      const version = items.find((s) => s.id === segmentId).version;
      const { segments } = await api(`/api/segments/${segmentId}/split`, {
        method: "POST",
        json: { line, version },
      });
      const [kept, piece] = segments;
      items = [...items.map((s) => (s.id === segmentId ? kept : s)), piece];
      decoded.delete(segmentId);
      return segments;
    },
    async relabel(segmentId, labelId) {
      const updated = await api(`/api/segments/${segmentId}`, {
        method: "PATCH",
        json: { label_id: labelId },
      });
      items = items.map((s) => (s.id === segmentId ? { ...s, ...updated } : s));
      return updated;
    },
    /** Apply label changes made elsewhere, [[segment_id, label_id|null, version]] (a live
     * batch); a change no newer than what this page holds (its own, echoed) is skipped.
     * Returns whether a segment of this image changed. */
    applyChanges(changes) {
      const at = new Map(items.map((s, i) => [s.id, i]));
      const next = [...items];
      let changed = false;
      for (const [id, labelId, version] of changes) {
        const i = at.get(id);
        if (i === undefined || next[i].version >= version) continue;
        next[i] = { ...next[i], label_id: labelId, version };
        changed = true;
      }
      if (changed) items = next;
      return changed;
    },
    /** Drop segments deleted elsewhere; returns whether one of this image's was among them. */
    forget(ids) {
      const gone = new Set(ids);
      const kept = items.filter((s) => !gone.has(s.id));
      for (const id of ids) decoded.delete(id);
      const changed = kept.length !== items.length;
      items = kept;
      return changed;
    },
    /** Whether any of these segment ids is unknown here (made elsewhere, maybe on this image). */
    hasUnknown(ids) {
      const known = new Set(items.map((s) => s.id));
      return ids.some((id) => !known.has(id));
    },
    /** Reload this image's segments (someone else made or edited some), keeping the decoded
     * masks of all but `edited` (ids whose mask changed). */
    async refresh(edited = []) {
      if (imageId === null) return;
      const id = imageId,
        data = await api(`/api/images/${id}/segments`);
      if (id !== imageId) return;
      items = data.segments;
      for (const segmentId of edited) decoded.delete(segmentId);
    },
    /** Outline canvases of the segments passing `visible(segment)`; the selected one in white. */
    outlines(visible, selectedId) {
      return items.filter(visible).map((s) => view(s, s.id === selectedId).outline);
    },
    /** The smallest visible segment containing canonical pixel (x, y), or null. */
    hit([x, y], visible) {
      const hits = items.filter(visible).filter((s) => maskContains(entryOf(s).mask, x, y));
      hits.sort((a, b) => a.area - b.area);
      return hits[0] ?? null;
    },
  };
}
