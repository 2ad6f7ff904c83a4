// The map's scatter: WebGL points coloured by category (gl-points.js), lasso/box/click select
// and pan/zoom (scatter-pointer.js) over a grid index (point-grid.js). Every per-point array is
// typed; positions stay in map coordinates (the server's UMAP units) and the camera alone maps
// them to the screen, so a lasso in map coordinates needs no conversion.
import { createGlPoints } from "./gl-points.js";
import { createPointGrid } from "./point-grid.js";
import { installPointer } from "./scatter-pointer.js";

const MARGIN = 1.05; // the fitted view leaves 5% around the points
// A software-GL frame costs ~0.6 us a point: while the view, the filter or the colours change,
// a larger map shows an even sample of this many points, and every point SETTLE_MS later. A
// GPU draws millions of points a frame: it samples only above GPU_POINTS.
const PREVIEW_POINTS = 150_000;
const GPU_POINTS = 4_000_000;
const SETTLE_MS = 250;

/** Every k-th of `indices` (Uint32Array), at most about PREVIEW_POINTS of them. */
function sample(indices) {
  const step = Math.ceil(indices.length / PREVIEW_POINTS);
  if (step <= 1) return indices;
  const out = new Uint32Array(Math.ceil(indices.length / step));
  for (let i = 0, k = 0; i < indices.length; i += step) out[k++] = indices[i];
  return out;
}

function createCamera(canvas) {
  let bounds = [-1, -1, 1, 1];
  let cx = 0,
    cy = 0,
    scale = 1; // CSS pixels per map unit
  const size = () => [canvas.clientWidth || 1, canvas.clientHeight || 1];
  return {
    fit(mapBounds = bounds) {
      bounds = mapBounds;
      const [x0, y0, x1, y1] = bounds;
      const [w, h] = size();
      [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
      scale = Math.min(w, h) / (Math.max(x1 - x0, y1 - y0, 1e-6) * MARGIN);
    },
    toMap(px, py) {
      const [w, h] = size();
      return [cx + (px - w / 2) / scale, cy - (py - h / 2) / scale];
    },
    toScreen(x, y) {
      const [w, h] = size();
      return [(x - cx) * scale + w / 2, h / 2 - (y - cy) * scale];
    },
    scale: () => scale,
    pan(dx, dy) {
      cx -= dx / scale;
      cy += dy / scale;
    },
    zoom(factor, px, py) {
      const [mx, my] = this.toMap(px, py);
      scale *= factor;
      const [nx, ny] = this.toMap(px, py);
      cx += mx - nx;
      cy += my - ny;
    },
    view() {
      const [w, h] = size();
      return { cx, cy, sx: (2 * scale) / w, sy: (2 * scale) / h };
    },
  };
}

/** Sorted Uint32Array of point indices from any list of them. */
const sortedIndices = (points) => Uint32Array.from(points).sort();

/** A transparent canvas over `canvas` for the selection rings (the pointer passes through). */
function ringCanvas(canvas) {
  const rings = document.createElement("canvas");
  rings.style.pointerEvents = "none";
  canvas.after(rings);
  return rings;
}

/**
 * createScatter(canvas, {onSelect(points: number[]), onHover(point | -1)}) -> handle.
 * Categories are Int32Array indexes into a `colors` list ("#rrggbb" or "#rrggbbaa").
 * The points and the selection's rings are two canvases: selecting redraws only the rings, and
 * a recolour draws only the points whose category changed over the last frame (a full frame of
 * a million points costs ~0.6 s in software GL).
 */
export function createScatter(canvas, { onSelect, onHover }) {
  const ringsCanvas = ringCanvas(canvas);
  const points = createGlPoints(canvas);
  const rings = createGlPoints(ringsCanvas, { rings: true });
  const camera = createCamera(canvas);
  let xs = new Float32Array(0),
    ys = new Float32Array(0);
  let grid = null; // built after the first frame, or on first use
  let shown = null; // Uint8Array(N) of the filter, null when every point is shown
  let filterSource = null; // the array the filter was made from, to skip repeats
  let subset = null; // the filter's sorted Uint32Array
  let selected = new Uint32Array(0);
  let announced = null; // the array onSelect last gave out: recolor(…, it) keeps `selected`
  let drawn = new Int32Array(0); // the categories on screen
  let palette = "";
  // What the next frame draws: every point, or only these (changed) ones; and the rings. While
  // the view moves, frames show a sample (`preview`), then every point once it rests.
  const dirty = { full: false, changed: [], rings: false, preview: false };
  const samples = { points: null, rings: null };
  let pending = null;
  let settle = 0;

  function render() {
    pending = null;
    const view = camera.view();
    const preview = dirty.preview && dirty.full;
    if (preview) points.draw(view, { points: (samples.points ??= sample(shownPoints())) });
    else if (dirty.full) points.draw(view);
    else for (const changed of dirty.changed) points.draw(view, { points: changed, keep: true });
    if (preview) rings.draw(view, { points: (samples.rings ??= sample(selected)) });
    else if (dirty.full || dirty.rings) rings.draw(view);
    Object.assign(dirty, { full: false, changed: [], rings: false, preview: false });
  }

  function frame({ full = false, changed = null, rings: ringsToo = false, preview = false } = {}) {
    dirty.full ||= full;
    dirty.rings ||= ringsToo;
    dirty.preview = (dirty.preview || preview) && (preview || !full);
    if (changed?.length) dirty.changed.push(changed);
    pending ??= new Promise((resolve) =>
      requestAnimationFrame(() => {
        render();
        resolve();
      }),
    );
    return pending;
  }

  /** Match the drawing buffers to the canvas's size; false when unchanged (resizing clears
   * them, and a full frame of a million points is not free). */
  function resize() {
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [
      Math.round(canvas.clientWidth * ratio),
      Math.round(canvas.clientHeight * ratio),
    ];
    if (!w || !h || (w === canvas.width && h === canvas.height)) return false;
    for (const c of [canvas, ringsCanvas]) [c.width, c.height] = [w, h];
    return true;
  }

  const index = () => (grid ??= createPointGrid(xs, ys));

  function setSelected(next) {
    selected = next;
    samples.rings = null;
    rings.setSubset(selected);
  }

  /** The shown points' indices (Uint32Array). */
  function shownPoints() {
    if (subset !== null) return subset;
    const all = new Uint32Array(xs.length);
    for (let p = 0; p < all.length; p++) all[p] = p;
    return all;
  }

  /** Every point again (a view, filter or palette change): on a large map a sampled frame
   * now, and every point once nothing has changed for SETTLE_MS. */
  function redrawAll() {
    clearTimeout(settle);
    settle = setTimeout(() => frame({ full: true }), SETTLE_MS);
    return frame({
      full: true,
      preview: xs.length > (points.software ? PREVIEW_POINTS : GPU_POINTS),
    });
  }

  /** A new selection from a lasso or a click, combined with the current one, announced. */
  function choose(chosen, { merge = false, remove = false } = {}) {
    if (merge || remove) {
      const mark = new Uint8Array(xs.length);
      for (let i = 0; i < selected.length; i++) mark[selected[i]] = 1;
      for (let i = 0; i < chosen.length; i++) mark[chosen[i]] = merge ? 1 : 0;
      chosen = new Uint32Array(mark.reduce((n, m) => n + m, 0));
      for (let p = 0, k = 0; p < mark.length; p++) if (mark[p]) chosen[k++] = p;
    }
    setSelected(chosen);
    frame({ rings: true });
    announced = Array.from(chosen);
    onSelect(announced);
  }

  function setFilter(indices) {
    if (indices === filterSource) return false;
    filterSource = indices;
    samples.points = null;
    subset = indices === null || indices instanceof Uint32Array ? indices : sortedIndices(indices);
    points.setSubset(subset);
    if (subset === null) {
      shown = null;
      return true;
    }
    shown = new Uint8Array(xs.length);
    for (let i = 0; i < subset.length; i++) shown[subset[i]] = 1;
    setSelected(selected.filter((p) => shown[p]));
    return true;
  }

  /** The shown points whose category differs from what is drawn; updates `drawn`. */
  function changedPoints(categories) {
    const changed = [];
    for (let p = 0; p < categories.length; p++) {
      if (categories[p] === drawn[p]) continue;
      drawn[p] = categories[p];
      if (shown === null || shown[p]) changed.push(p);
    }
    return Uint32Array.from(changed);
  }

  function setPalette(colors) {
    const key = colors.join();
    if (key === palette) return false;
    palette = key;
    points.setPalette(colors);
    return true;
  }

  const pointer = installPointer(canvas, camera, {
    pick: (x, y, radius) => index().nearest(x, y, radius, shown),
    onLasso: (polygon, modifiers) => choose(index().inPolygon(polygon, shown), modifiers),
    onClick: (point, modifiers) => {
      if (point >= 0) choose(Uint32Array.of(point), modifiers);
      else if (!modifiers.merge && !modifiers.remove) choose(new Uint32Array(0));
    },
    onHover,
    onView: redrawAll,
  });
  new ResizeObserver(() => resize() && frame({ full: true })).observe(canvas);

  return {
    /** xs, ys: Float32Array map coordinates; categories: Int32Array indexes into colors;
     * mapBounds: [x0, y0, x1, y1]. Resolves once drawn. */
    draw(newXs, newYs, categories, colors, mapBounds) {
      [xs, ys, grid, samples.points] = [newXs, newYs, null, null];
      resize();
      camera.fit(mapBounds);
      points.setPoints(xs, ys);
      rings.setPoints(xs, ys);
      drawn = Int32Array.from(categories);
      points.setCategories(drawn);
      setPalette(colors);
      setSelected(new Uint32Array(0));
      return frame({ full: true }).then(() => setTimeout(index)); // the index after the first frame
    },
    setColors(colors) {
      if (setPalette(colors)) redrawAll();
    },
    /** Recolour without moving points: one buffer upload, and only the changed points drawn
     * (every point after a filter change or when most changed). */
    recolor(categories, selectedPoints, filtered) {
      const full = setFilter(filtered ?? null);
      const changed = changedPoints(categories);
      points.setCategories(drawn);
      const ringsToo = selectedPoints !== announced;
      if (ringsToo) setSelected(sortedIndices(selectedPoints));
      announced = selectedPoints;
      if (full || changed.length > xs.length / 4) {
        frame({ rings: ringsToo });
        return redrawAll();
      }
      return frame({ changed, rings: ringsToo });
    },
    /** Show these points as selected (no onSelect). */
    select(chosen) {
      announced = chosen;
      setSelected(sortedIndices(chosen).filter((p) => shown === null || shown[p]));
      frame({ rings: true });
    },
    /** Draw only these points (and lasso only them): any list of indices, or an ascending
     * Uint32Array (used as it is); null shows every point. */
    filter(chosen) {
      if (setFilter(chosen)) redrawAll();
    },
    /** Lasso in map coordinates ([[x, y], ...]); fires onSelect like a mouse lasso. */
    lasso(vertices, modifiers = {}) {
      choose(index().inPolygon(Float64Array.from(vertices.flat()), shown), modifiers);
    },
    setTool(tool) {
      pointer.setTool(tool);
    },
    /** [x, y] CSS pixels from the canvas's top-left. */
    screenPosition(point) {
      return camera.toScreen(xs[point], ys[point]);
    },
    reset() {
      camera.fit();
      frame({ full: true });
    },
  };
}
