// The annotator's viewport: zoom (wheel), pan (space-drag or middle-drag), fit.
// screen = image * scale + offset, in CSS pixels of the canvas.

export function createView(canvas, onChange) {
  let scale = 1,
    ox = 0,
    oy = 0,
    imageW = 1,
    imageH = 1;
  let spaceHeld = false,
    panFrom = null;

  const view = {
    /** The one conversion from a mouse event's client coordinates to canonical image pixels. */
    toImage(clientX, clientY) {
      const rect = canvas.getBoundingClientRect();
      return [(clientX - rect.left - ox) / scale, (clientY - rect.top - oy) / scale];
    },
    /** Canonical image pixels -> canvas CSS pixels (for drawing markers). */
    toScreen(x, y) {
      return [x * scale + ox, y * scale + oy];
    },
    get scale() {
      return scale;
    },
    get panning() {
      return spaceHeld || panFrom !== null;
    },
    /** Set the 2D context's transform so drawing happens in image pixels. */
    applyTo(ctx) {
      const dpr = window.devicePixelRatio || 1;
      ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * ox, dpr * oy);
    },
    fit(width, height) {
      imageW = width;
      imageH = height;
      const rect = canvas.getBoundingClientRect();
      scale = Math.min(rect.width / width, rect.height / height) * 0.95;
      ox = (rect.width - width * scale) / 2;
      oy = (rect.height - height * scale) / 2;
      onChange();
    },
    refit() {
      view.fit(imageW, imageH);
    },
  };

  canvas.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const mx = event.clientX - rect.left,
        my = event.clientY - rect.top;
      const factor = Math.exp(-event.deltaY * 0.0015);
      const next = Math.min(64, Math.max(0.02, scale * factor));
      ox = mx - ((mx - ox) * next) / scale;
      oy = my - ((my - oy) * next) / scale;
      scale = next;
      onChange();
    },
    { passive: false },
  );

  canvas.addEventListener("mousedown", (event) => {
    if (event.button === 1 || (event.button === 0 && spaceHeld)) {
      panFrom = [event.clientX - ox, event.clientY - oy];
      event.stopImmediatePropagation();
      event.preventDefault();
    }
  });
  window.addEventListener("mousemove", (event) => {
    if (!panFrom) return;
    ox = event.clientX - panFrom[0];
    oy = event.clientY - panFrom[1];
    onChange();
  });
  window.addEventListener("mouseup", () => {
    panFrom = null;
  });
  window.addEventListener("keydown", (event) => {
    if (event.key === " " && event.target === document.body) {
      spaceHeld = true;
      canvas.style.cursor = "grab";
      event.preventDefault();
    }
  });
  window.addEventListener("keyup", (event) => {
    if (event.key === " ") {
      spaceHeld = false;
      canvas.style.cursor = "";
    }
  });
  new ResizeObserver(() => onChange()).observe(canvas);
  return view;
}
