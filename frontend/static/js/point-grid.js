// A uniform grid over the map's points (typed arrays, built by one counting sort) for the lasso,
// the box and the pointer: a lasso tests only the points of the cells its outline crosses, and
// takes or skips every other cell of its bounding box whole.

const POINTS_PER_CELL = 16;
const MAX_SIDE = 1024;

/** Whether (x, y) is inside `polygon` (flat [x0, y0, x1, y1, ...], implicitly closed). */
export function insidePolygon(polygon, x, y) {
  let inside = false;
  const n = polygon.length;
  for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
    const xi = polygon[i],
      yi = polygon[i + 1],
      xj = polygon[j],
      yj = polygon[j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * createPointGrid(xs, ys) over Float32Array(N) map coordinates -> {inPolygon(polygon, shown),
 * nearest(x, y, radius, shown)}. `shown`: Uint8Array(N) (1 = drawn) or null for every point.
 */
export function createPointGrid(xs, ys) {
  const n = xs.length;
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xs[i],
      y = ys[i];
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  const side = Math.max(1, Math.min(MAX_SIDE, Math.ceil(Math.sqrt(n / POINTS_PER_CELL))));
  const width = Math.max(x1 - x0, 1e-9) / side,
    height = Math.max(y1 - y0, 1e-9) / side;
  const column = (x) => Math.min(side - 1, Math.max(0, Math.floor((x - x0) / width)));
  const row = (y) => Math.min(side - 1, Math.max(0, Math.floor((y - y0) / height)));

  // Counting sort of the points by cell: cell c holds order[start[c] .. start[c + 1]).
  const cellOf = new Uint32Array(n);
  const start = new Uint32Array(side * side + 1);
  for (let i = 0; i < n; i++) {
    const c = row(ys[i]) * side + column(xs[i]);
    cellOf[i] = c;
    start[c + 1]++;
  }
  for (let c = 0; c < side * side; c++) start[c + 1] += start[c];
  const order = new Uint32Array(n);
  const fill = start.slice(0, side * side);
  for (let i = 0; i < n; i++) order[fill[cellOf[i]]++] = i;
  let out = null; // the result buffer, reused

  /** Cells of [c0, c1] x [r0, r1] that an edge of `polygon` may cross: 1 = test each point. */
  function crossed(polygon, c0, r0, c1, r1) {
    const cols = c1 - c0 + 1;
    const marks = new Uint8Array(cols * (r1 - r0 + 1));
    for (let i = 0, j = polygon.length - 2; i < polygon.length; j = i, i += 2) {
      const ea = column(Math.min(polygon[i], polygon[j])),
        eb = column(Math.max(polygon[i], polygon[j]));
      const fa = row(Math.min(polygon[i + 1], polygon[j + 1])),
        fb = row(Math.max(polygon[i + 1], polygon[j + 1]));
      for (let r = Math.max(fa, r0); r <= Math.min(fb, r1); r++)
        marks.fill(
          1,
          (r - r0) * cols + Math.max(ea, c0) - c0,
          (r - r0) * cols + Math.min(eb, c1) - c0 + 1,
        );
    }
    return marks;
  }

  return {
    /** Sorted Uint32Array of the shown points inside `polygon` (flat map coordinates). */
    inPolygon(polygon, shown = null) {
      if (!n || polygon.length < 6) return new Uint32Array(0);
      let px0 = Infinity,
        py0 = Infinity,
        px1 = -Infinity,
        py1 = -Infinity;
      for (let i = 0; i < polygon.length; i += 2) {
        px0 = Math.min(px0, polygon[i]);
        px1 = Math.max(px1, polygon[i]);
        py0 = Math.min(py0, polygon[i + 1]);
        py1 = Math.max(py1, polygon[i + 1]);
      }
      if (px1 < x0 || px0 > x1 || py1 < y0 || py0 > y1) return new Uint32Array(0);
      const c0 = column(px0),
        c1 = column(px1),
        r0 = row(py0),
        r1 = row(py1);
      const marks = crossed(polygon, c0, r0, c1, r1);
      out ??= new Uint32Array(n);
      let k = 0;
      for (let r = r0; r <= r1; r++) {
        for (let c = c0; c <= c1; c++) {
          const cell = r * side + c;
          const exact = marks[(r - r0) * (c1 - c0 + 1) + c - c0];
          if (!exact && !insidePolygon(polygon, x0 + (c + 0.5) * width, y0 + (r + 0.5) * height))
            continue;
          for (let o = start[cell]; o < start[cell + 1]; o++) {
            const p = order[o];
            if (shown !== null && !shown[p]) continue;
            if (exact && !insidePolygon(polygon, xs[p], ys[p])) continue;
            out[k++] = p;
          }
        }
      }
      return out.slice(0, k).sort();
    },

    /** The shown point nearest (x, y) within `radius` (map units), or -1. */
    nearest(x, y, radius, shown = null) {
      let best = -1,
        bestDistance = radius * radius;
      for (let r = row(y - radius); r <= row(y + radius); r++) {
        for (let c = column(x - radius); c <= column(x + radius); c++) {
          const cell = r * side + c;
          for (let o = start[cell]; o < start[cell + 1]; o++) {
            const p = order[o];
            const d = (xs[p] - x) ** 2 + (ys[p] - y) ** 2;
            if (d <= bestDistance && (shown === null || shown[p])) {
              best = p;
              bestDistance = d;
            }
          }
        }
      }
      return best;
    },
  };
}
