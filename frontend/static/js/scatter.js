// The WebGL scatter (regl-scatterplot): points coloured by category, lasso/box/click select.
// Map coordinates are the server's UMAP units; points are drawn normalised to [-1, 1] (the
// library's point space), and programmatic lassos are converted to that space here.
import createScatterplot from "regl-scatterplot";

// "#rrggbb" or "#rrggbbaa" -> [r, g, b, a] in [0, 1].
function rgba(hex) {
  const channel = (i) => parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
  return [channel(0), channel(1), channel(2), hex.length === 9 ? channel(3) : 1];
}

function paddedBounds([x0, y0, x1, y1]) {
  // Equal aspect, so a cluster keeps its shape; a 5% margin so edge points stay visible.
  const cx = (x0 + x1) / 2,
    cy = (y0 + y1) / 2;
  const half = (Math.max(x1 - x0, y1 - y0, 1e-6) / 2) * 1.05;
  return [cx - half, cy - half, cx + half, cy + half];
}

/**
 * createScatter(canvas, {onSelect(indices), onHover(index|-1)}) -> handle.
 * Categories are small ints indexing the `colors` list ("#rrggbb", or "#rrggbbaa" for opacity).
 */
export function createScatter(canvas, { onSelect, onHover }) {
  const { width, height } = canvas.getBoundingClientRect();
  const plot = createScatterplot({
    canvas,
    width,
    height,
    pointSize: 3,
    pointSizeSelected: 2,
    pointOutlineWidth: 1,
    lassoInitiator: false,
    lassoClearEvent: "lassoEnd",
    deselectOnEscape: false,
    mouseMode: "lasso",
    // Shift adds to the selection and alt subtracts, for lasso, box and click alike.
    actionKeyMap: { merge: "shift", remove: "alt", lasso: null, rotate: null },
    colorBy: "valueA",
    backgroundColor: [0.05, 0.05, 0.06, 1],
  });
  let points = null;
  let bounds = [-1, -1, 1, 1];

  plot.subscribe("select", ({ points: selected }) => onSelect([...selected]));
  plot.subscribe("deselect", () => onSelect([]));
  plot.subscribe("pointover", (index) => onHover(index));
  plot.subscribe("pointout", () => onHover(-1));
  new ResizeObserver(() => {
    const rect = canvas.getBoundingClientRect();
    if (rect.width && rect.height) plot.set({ width: rect.width, height: rect.height });
  }).observe(canvas);

  // Map coordinates -> point space [-1, 1]: the one conversion, used for points and lassos.
  const toPointSpace = (mx, my) => {
    const [x0, y0, x1, y1] = bounds;
    return [((mx - x0) / (x1 - x0)) * 2 - 1, ((my - y0) / (y1 - y0)) * 2 - 1];
  };

  function normalised(xs, ys, categories) {
    const x = new Float32Array(xs.length),
      y = new Float32Array(xs.length);
    for (let i = 0; i < xs.length; i++) [x[i], y[i]] = toPointSpace(xs[i], ys[i]);
    return { x, y, valueA: categories };
  }

  // regl-scatterplot rejects a draw while the previous one runs ("Ignoring draw call..."):
  // draws wait their turn, so a live recolour during an assign's recolour is never lost.
  let drawing = Promise.resolve();
  const inTurn = (fn) => (drawing = drawing.then(fn, fn));

  return {
    plot,
    /** xs, ys: Float32Array map coordinates; categories: Int32Array indexes into colors. */
    draw(xs, ys, categories, colors, mapBounds) {
      bounds = paddedBounds(mapBounds);
      this.setColors(colors);
      points = normalised(xs, ys, categories);
      return inTurn(() => plot.draw(points, { zDataType: "categorical" }));
    },
    setColors(colors) {
      plot.set({ pointColor: colors.map(rgba) });
    },
    /** Recolour without moving points; keeps selection, filter and the spatial index. */
    recolor(categories, selected, filtered) {
      return inTurn(() => {
        points = { ...points, valueA: categories };
        return plot.draw(points, {
          zDataType: "categorical",
          preventFilterReset: true,
          spatialIndex: plot.get("spatialIndex"),
          select: selected,
          filter: filtered ?? undefined,
        });
      });
    },
    select(indices) {
      indices.length
        ? plot.select(indices, { preventEvent: true })
        : plot.deselect({ preventEvent: true });
    },
    filter(indices) {
      indices === null
        ? plot.unfilter({ preventEvent: true })
        : plot.filter(indices, { preventEvent: true });
    },
    /** Lasso in map coordinates ([[x, y], ...]); fires onSelect like a mouse lasso. */
    lasso(vertices, { merge = false, remove = false } = {}) {
      // isGl: point space. The library's own data-space path (xScale/yScale) also applies the
      // inverse camera, which is wrong unless the canvas is square and the view untouched.
      plot.lassoSelect(
        vertices.map(([x, y]) => toPointSpace(x, y)),
        { merge, remove, isGl: true },
      );
    },
    setTool(tool) {
      if (tool === "pan") plot.set({ mouseMode: "panZoom" });
      else plot.set({ mouseMode: "lasso", lassoType: tool === "box" ? "rectangle" : "freeform" });
    },
    screenPosition(index) {
      return plot.getScreenPosition(index);
    },
    reset() {
      plot.zoomToOrigin();
    },
  };
}
