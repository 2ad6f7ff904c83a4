// Paints the annotator: image, segment outlines, the candidate mask, prompts, the drag box.
// Layers at image resolution are drawn through the view's transform; markers in screen space.

export function createPainter(canvas, view) {
  const ctx = canvas.getContext("2d");
  let scene = null;
  let queued = false;

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    const { width, height } = canvas.getBoundingClientRect();
    const w = Math.round(width * dpr),
      h = Math.round(height * dpr);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
  }

  function marker([x, y], positive) {
    const [sx, sy] = view.toScreen(x, y);
    ctx.beginPath();
    ctx.arc(sx, sy, 6, 0, 2 * Math.PI);
    ctx.fillStyle = positive ? "#2ecc71" : "#e74c3c";
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
  }

  function box([x0, y0, x1, y1], dashed) {
    const [a, b] = view.toScreen(x0, y0),
      [c, d] = view.toScreen(x1, y1);
    ctx.setLineDash(dashed ? [6, 4] : []);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#f1c40f";
    ctx.strokeRect(a, b, c - a, d - b);
    ctx.setLineDash([]);
  }

  function polyline(points) {
    ctx.beginPath();
    points.forEach(([x, y], i) => {
      const [sx, sy] = view.toScreen(x, y);
      if (i === 0) ctx.moveTo(sx, sy);
      else ctx.lineTo(sx, sy);
    });
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#e74c3c";
    ctx.stroke();
  }

  /** Rings (image pixels) filled even-odd, with a square handle per vertex. */
  function polygon({ rings, selected }) {
    ctx.beginPath();
    for (const ring of rings) {
      ring.forEach(([x, y], i) => {
        const [sx, sy] = view.toScreen(x, y);
        if (i === 0) ctx.moveTo(sx, sy);
        else ctx.lineTo(sx, sy);
      });
      ctx.closePath();
    }
    ctx.fillStyle = "rgba(52, 152, 219, 0.25)";
    ctx.fill("evenodd");
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#3498db";
    ctx.stroke();
    rings.forEach((ring, r) => {
      ring.forEach(([x, y], i) => {
        const [sx, sy] = view.toScreen(x, y);
        const chosen = selected?.ring === r && selected?.index === i;
        ctx.fillStyle = chosen ? "#f1c40f" : "#fff";
        ctx.fillRect(sx - 3.5, sy - 3.5, 7, 7);
        ctx.strokeRect(sx - 3.5, sy - 3.5, 7, 7);
      });
    });
  }

  function paint() {
    queued = false;
    resize();
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!scene?.image) return;
    view.applyTo(ctx);
    ctx.imageSmoothingEnabled = view.scale < 2;
    ctx.drawImage(scene.image, 0, 0);
    for (const layer of scene.outlines) ctx.drawImage(layer, 0, 0);
    if (scene.mask) {
      ctx.globalAlpha = 0.5;
      ctx.drawImage(scene.mask, 0, 0);
      ctx.globalAlpha = 1;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (scene.prompts.box) box(scene.prompts.box, false);
    if (scene.dragBox) box(scene.dragBox, true);
    if (scene.line?.length > 1) polyline(scene.line);
    if (scene.polygon) polygon(scene.polygon);
    scene.prompts.points.forEach((p, i) => {
      marker(p, scene.prompts.labels[i] === 1);
    });
  }

  return {
    /** scene: {image, outlines: [canvas], mask: canvas|null, prompts, dragBox, line,
     * polygon: {rings, selected}|null} */
    show(next) {
      scene = next;
      this.request();
    },
    request() {
      if (queued) return;
      queued = true;
      requestAnimationFrame(paint);
    },
  };
}
