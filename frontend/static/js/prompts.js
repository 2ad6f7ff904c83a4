// Prompt state for one image: points (positive/negative) and an optional box, all in canonical
// image pixels. Values are immutable; every change makes a new state (so undo keeps old ones).

export const EMPTY_PROMPTS = Object.freeze({ points: [], labels: [], box: null });

export function addPoint(prompts, [x, y], positive) {
  return {
    ...prompts,
    points: [...prompts.points, [x, y]],
    labels: [...prompts.labels, positive ? 1 : 0],
  };
}

export function setBox(prompts, [x0, y0], [x1, y1]) {
  return {
    ...prompts,
    box: [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)],
  };
}

export const isEmpty = (prompts) => prompts.points.length === 0 && prompts.box === null;

/** The /predict request body (mask_input: the previous answer's handle, for refinement). */
export function predictBody(prompts, maskInput, multimask = true) {
  return {
    points: prompts.points.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]),
    point_labels: prompts.labels,
    box: prompts.box,
    mask_input: maskInput,
    multimask,
  };
}

/**
 * Turn mouse gestures on `canvas` into prompts: click = positive point, right/alt-click =
 * negative, drag = box. `toImage(clientX, clientY)` converts; `onPrompt(kind, ...)` receives.
 */
export function installPromptInput(
  canvas,
  { toImage, isPanning, onPoint, onBox, onDrag, onSelectAt },
) {
  const DRAG_PX = 5;
  let down = null;
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  canvas.addEventListener("mousedown", (event) => {
    if (isPanning() || (event.button !== 0 && event.button !== 2)) return;
    down = {
      x: event.clientX,
      y: event.clientY,
      button: event.button,
      at: toImage(event.clientX, event.clientY),
    };
  });
  window.addEventListener("mousemove", (event) => {
    if (!down || down.button !== 0) return;
    if (Math.hypot(event.clientX - down.x, event.clientY - down.y) >= DRAG_PX) {
      onDrag(down.at, toImage(event.clientX, event.clientY));
    }
  });
  window.addEventListener("mouseup", (event) => {
    if (!down) return;
    const start = down;
    down = null;
    const end = toImage(event.clientX, event.clientY);
    const dragged = Math.hypot(event.clientX - start.x, event.clientY - start.y) >= DRAG_PX;
    if (start.button === 0 && dragged) return onBox(start.at, end);
    if (start.button === 0 && (event.ctrlKey || event.metaKey)) return onSelectAt(start.at);
    onPoint(start.at, start.button === 0 && !event.altKey);
  });
}
