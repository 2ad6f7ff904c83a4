// Polygon vertex editing of the selected segment. The server turns its mask into simplified
// rings (every outer boundary and hole; they fill even-odd) in pixel-edge coordinates; drag a
// vertex, click an edge to add one, Alt+click or right-click a vertex (or Delete on the
// selected one) to remove it. Each finished gesture is committed as one polygon edit, which
// the server rasterises.
import { api } from "./api.js";

const VERTEX_PX = 7; // how near (screen px) a press must land to grab a vertex
const EDGE_PX = 5;

/** Distance from p to segment a-b and the nearest point on it (all [x, y]). */
function toSegment([px, py], [ax, ay], [bx, by]) {
  const dx = bx - ax,
    dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1)));
  const x = ax + t * dx,
    y = ay + t * dy;
  return { distance: Math.hypot(px - x, py - y), at: [x, y] };
}

/**
 * Install on `canvas` (capture phase, before the prompt listeners) while `active()` is true.
 * getSegment(): the selected segment {id, version} or null; onChange(): repaint;
 * onCommit(segment, rings): save, resolving once the store holds the new version;
 * say(text): a hint for the person.
 */
export function installPolygonEditor(
  canvas,
  { view, active, getSegment, onChange, onCommit, say },
) {
  let loaded = null; // {key: "id:version" it was read at, rings}
  let loading = null;
  let selected = null; // {ring, index}
  let drag = null; // {ring, index, moved}
  let committing = false; // the store's version moves mid-commit: no reload then

  const keyOf = (segment) => `${segment.id}:${segment.version}`;
  const screen = (point) => view.toScreen(point[0], point[1]);

  async function load(segment) {
    const key = keyOf(segment);
    loading = key;
    try {
      const answer = await api(`/api/segments/${segment.id}/polygon`);
      if (loading !== key) return;
      loaded = { key, rings: answer.rings };
      selected = null;
      document.body.dataset.polygonVertices = String(answer.rings.flat().length);
      onChange();
    } finally {
      if (loading === key) loading = null;
    }
  }

  /** Load the rings when the selection or its version moved on (live edits, undo). */
  function sync() {
    const segment = active() ? getSegment() : null;
    if (!segment) {
      loaded = selected = drag = null;
      return;
    }
    if (drag || committing) return;
    if (loaded?.key !== keyOf(segment) && loading !== keyOf(segment))
      load(segment).catch((err) => say(`Could not load the polygon: ${err.message}`));
  }

  function vertexAt(client) {
    const [cx, cy] = client;
    for (const [r, ring] of (loaded?.rings ?? []).entries()) {
      for (const [i, point] of ring.entries()) {
        const [sx, sy] = screen(point);
        if (Math.hypot(sx - cx, sy - cy) <= VERTEX_PX) return { ring: r, index: i };
      }
    }
    return null;
  }

  function edgeAt(client) {
    for (const [r, ring] of (loaded?.rings ?? []).entries()) {
      for (let i = 0; i < ring.length; i++) {
        const a = screen(ring[i]),
          b = screen(ring[(i + 1) % ring.length]);
        if (toSegment(client, a, b).distance <= EDGE_PX) return { ring: r, index: i };
      }
    }
    return null;
  }

  async function commit() {
    const segment = getSegment();
    const rings = loaded.rings.map((ring) => ring.map((point) => [...point]));
    committing = true;
    try {
      await onCommit(segment, rings);
      const now = getSegment();
      if (now) loaded = { key: keyOf(now), rings };
    } catch {
      loaded = null; // refused (stale, empty): show the server's mask again
    } finally {
      committing = false;
    }
    document.body.dataset.polygonVertices = String(loaded?.rings.flat().length ?? 0);
    onChange();
  }

  function removeVertex({ ring, index }) {
    const points = loaded.rings[ring];
    if (points.length <= 3) return say("A ring keeps at least 3 vertices");
    points.splice(index, 1);
    selected = null;
    return commit();
  }

  function localPoint(event) {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  canvas.addEventListener(
    "mousedown",
    (event) => {
      if (!active() || view.panning || event.ctrlKey || event.metaKey) return;
      if (event.button !== 0 && event.button !== 2) return;
      event.stopImmediatePropagation();
      if (!loaded) return say("Select a segment first (Ctrl+click it), then edit its polygon");
      const client = localPoint(event);
      const vertex = vertexAt(client);
      if (vertex && (event.button === 2 || event.altKey)) return removeVertex(vertex);
      if (event.button !== 0) return;
      if (vertex) {
        selected = vertex;
        drag = { ...vertex, moved: false };
      } else {
        const edge = edgeAt(client);
        if (!edge)
          return say("Drag a vertex, click an edge to add one, Alt+click one to remove it");
        const points = loaded.rings[edge.ring];
        points.splice(edge.index + 1, 0, view.toImage(event.clientX, event.clientY));
        selected = { ring: edge.ring, index: edge.index + 1 };
        drag = { ...selected, moved: false };
        document.body.dataset.polygonVertices = String(loaded.rings.flat().length);
      }
      onChange();
    },
    { capture: true },
  );
  canvas.addEventListener(
    "contextmenu",
    (event) => {
      if (active()) event.preventDefault();
    },
    { capture: true },
  );
  window.addEventListener("mousemove", (event) => {
    if (!drag) return;
    loaded.rings[drag.ring][drag.index] = view.toImage(event.clientX, event.clientY);
    drag.moved = true;
    onChange();
  });
  window.addEventListener("mouseup", () => {
    if (!drag) return;
    const { moved } = drag;
    drag = null;
    if (moved) commit();
  });

  return {
    sync,
    /** What the painter draws: {rings, selected} or null. */
    get shape() {
      return active() && loaded ? { rings: loaded.rings, selected } : null;
    },
    /** Delete the selected vertex; never the segment (Esc leaves the tool first). */
    removeSelected() {
      if (loaded && selected) return removeVertex(selected);
      say("Click a vertex first; to delete the whole segment, leave the polygon tool (Esc)");
    },
  };
}
