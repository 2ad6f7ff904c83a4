// Mask correction on the selected segment: brush (adds) and eraser (removes) strokes, with the
// radius changed by [ and ], and hole filling. Masks are {width, height, data} in canonical
// image pixels (row-major, 1 = inside), as rle.js decodes them.

const PAINTING = new Set(["brush", "eraser", "cut"]); // the tools this module draws with

/** Set (value 1) or clear (0) a disc of `radius` px around (cx, cy), in place. */
function stamp(mask, cx, cy, radius, value) {
  const { width, height, data } = mask;
  const r2 = radius * radius;
  for (let y = Math.max(0, Math.floor(cy - radius)); y <= Math.min(height - 1, cy + radius); y++) {
    for (let x = Math.max(0, Math.floor(cx - radius)); x <= Math.min(width - 1, cx + radius); x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r2) data[y * width + x] = value;
    }
  }
}

/** Stamp discs along the segment a -> b, spaced under a radius apart (a continuous stroke). */
export function strokeLine(mask, [ax, ay], [bx, by], radius, value) {
  const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / Math.max(1, radius / 2)));
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    stamp(mask, ax + (bx - ax) * t, ay + (by - ay) * t, radius, value);
  }
}

/** A copy of `mask` with every hole (background not connected to the border) filled. */
export function fillHoles(mask) {
  const { width, height, data } = mask;
  const outside = new Uint8Array(width * height);
  const stack = [];
  const push = (x, y) => {
    const i = y * width + x;
    if (!data[i] && !outside[i]) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < width; x++) {
    push(x, 0);
    push(x, height - 1);
  }
  for (let y = 0; y < height; y++) {
    push(0, y);
    push(width - 1, y);
  }
  while (stack.length) {
    const i = stack.pop();
    const x = i % width,
      y = (i - x) / width;
    if (x > 0) push(x - 1, y);
    if (x < width - 1) push(x + 1, y);
    if (y > 0) push(x, y - 1);
    if (y < height - 1) push(x, y + 1);
  }
  return { width, height, data: outside.map((o) => (o ? 0 : 1)) };
}

/**
 * Brush/eraser strokes on `canvas`: while a tool is on, a left-button drag paints into a copy
 * of getMask() (null: nothing selected), previewed with onPreview(mask), and committed once,
 * on release, with onStroke(mask). Other canvas listeners (prompts) do not see these events.
 */
export function installBrush(
  canvas,
  { toImage, getMask, onPreview, onStroke, onNoTarget, onCutPreview, onCut },
) {
  // "brush" | "eraser" | "cut" (draw a line to split along) | another page tool ("polygon",
  // which this module only keeps as the one current tool) | null
  let tool = null;
  let radius = 8;
  let stroke = null; // {mask, last}

  canvas.addEventListener(
    "mousedown",
    (event) => {
      if (!PAINTING.has(tool) || event.button !== 0) return;
      event.stopImmediatePropagation();
      const source = getMask();
      if (!source) return onNoTarget();
      const at = toImage(event.clientX, event.clientY);
      if (tool === "cut") {
        stroke = { line: [at] };
        return onCutPreview(stroke.line);
      }
      stroke = { mask: { ...source, data: Uint8Array.from(source.data) }, last: at };
      strokeLine(stroke.mask, at, at, radius, tool === "brush" ? 1 : 0);
      onPreview(stroke.mask);
    },
    { capture: true },
  );
  window.addEventListener("mousemove", (event) => {
    if (!stroke) return;
    const at = toImage(event.clientX, event.clientY);
    if (stroke.line) {
      stroke.line.push(at);
      return onCutPreview(stroke.line);
    }
    strokeLine(stroke.mask, stroke.last, at, radius, tool === "brush" ? 1 : 0);
    stroke.last = at;
    onPreview(stroke.mask);
  });
  window.addEventListener("mouseup", () => {
    if (!stroke) return;
    const { mask, line } = stroke;
    stroke = null;
    if (line) onCut(line);
    else onStroke(mask);
  });

  return {
    get tool() {
      return tool;
    },
    get radius() {
      return radius;
    },
    /** Turn `name` on (or off when it is already on). */
    toggle(name) {
      tool = tool === name ? null : name;
      return tool;
    },
    off() {
      tool = null;
    },
    /** [ and ]: about a fifth smaller or larger (at least 1 px), within 1-200 px. */
    resize(factor) {
      const next = Math.round(radius * factor);
      radius = Math.min(
        200,
        Math.max(1, factor > 1 ? Math.max(radius + 1, next) : Math.min(radius - 1, next)),
      );
      return radius;
    },
  };
}
