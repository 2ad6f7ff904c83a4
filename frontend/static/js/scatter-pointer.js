// The map's pointer: drag a lasso or a box (shift adds, alt subtracts), click a point, pan with
// the pan tool, zoom with the wheel, hover. Screen positions are CSS pixels from the canvas's
// top-left; the camera converts them to map coordinates.

const CLICK_PX = 4; // a drag shorter than this is a click
const PICK_PX = 6; // how near the pointer a point must be to hover or click it
const SVG = "http://www.w3.org/2000/svg";

function outlineLayer(canvas) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("style", "position:absolute;inset:0;width:100%;height:100%;pointer-events:none");
  const path = document.createElementNS(SVG, "polygon");
  path.setAttribute(
    "style",
    "fill:rgba(255,255,255,.08);stroke:#eee;stroke-width:1;stroke-dasharray:4 3",
  );
  svg.append(path);
  canvas.after(svg);
  return (screen) => path.setAttribute("points", screen.join(" "));
}

/**
 * installPointer(canvas, camera, {pick(mapX, mapY, radius) -> point | -1, onLasso(polygon,
 * {merge, remove}), onClick(point, {merge, remove}), onHover(point | -1), onView()}) ->
 * {setTool(tool)}. camera: {toMap(px, py) -> [x, y], scale(), pan(dx, dy), zoom(factor, px, py)}.
 */
export function installPointer(canvas, camera, { pick, onLasso, onClick, onHover, onView }) {
  const outline = outlineLayer(canvas);
  let tool = "lasso";
  let drag = null; // {mode, screen: [[px, py], ...], last: [px, py], modifiers}
  let hovered = -1;
  let hoverFrame = 0;

  const local = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
  const pickAt = ([px, py]) => pick(...camera.toMap(px, py), PICK_PX / camera.scale());

  function shape({ mode, screen }) {
    if (mode !== "box") return screen;
    const [[ax, ay], [bx, by]] = [screen[0], screen[screen.length - 1]];
    return [
      [ax, ay],
      [bx, ay],
      [bx, by],
      [ax, by],
    ];
  }

  function hover(at) {
    hoverFrame = 0;
    const point = drag ? -1 : pickAt(at);
    if (point !== hovered) onHover((hovered = point));
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    canvas.setPointerCapture(event.pointerId);
    const at = local(event);
    const modifiers = { merge: event.shiftKey, remove: event.altKey };
    drag = { mode: tool === "pan" ? "pan" : tool, screen: [at], last: at, modifiers };
  });

  canvas.addEventListener("pointermove", (event) => {
    const at = local(event);
    if (!drag) {
      if (!hoverFrame) hoverFrame = requestAnimationFrame(() => hover(at));
      return;
    }
    const [dx, dy] = [at[0] - drag.last[0], at[1] - drag.last[1]];
    drag.last = at;
    if (drag.mode === "pan") {
      camera.pan(dx, dy);
      return onView();
    }
    drag.screen.push(at);
    outline(shape(drag));
  });

  canvas.addEventListener("pointerup", (event) => {
    if (!drag) return;
    const done = drag;
    drag = null;
    outline([]);
    const at = local(event);
    const [sx, sy] = done.screen[0];
    // A lasso ends near where it began: it is a click only if it never went far.
    const moved = [...done.screen, at].some(([x, y]) => Math.hypot(x - sx, y - sy) >= CLICK_PX);
    if (done.mode === "pan" && moved) return;
    if (!moved || (done.mode === "lasso" && done.screen.length < 3))
      return onClick(pickAt(at), done.modifiers);
    done.screen.push(at);
    const polygon = shape(done).flatMap(([px, py]) => camera.toMap(px, py));
    onLasso(Float64Array.from(polygon), done.modifiers);
  });

  canvas.addEventListener("pointerleave", () => {
    if (!drag && hovered !== -1) onHover((hovered = -1));
  });

  canvas.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      camera.zoom(Math.exp(-event.deltaY * 0.0015), ...local(event));
      onView();
    },
    { passive: false },
  );

  return {
    setTool(next) {
      tool = next;
      canvas.style.cursor = next === "pan" ? "grab" : "crosshair";
    },
  };
}
