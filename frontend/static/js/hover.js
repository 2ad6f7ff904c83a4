// Hover preview: the mask a click at the cursor would give, decoded in the page.
// At most one decode in flight and one per animation frame; a newer cursor position replaces
// an older one that has not started (stale work is dropped, never queued).

/**
 * canvas: the annotator canvas; toImage(clientX, clientY) -> [x, y] canonical pixels or null;
 * decode([x, y]) -> Promise<preview | null>; show(preview | null) paints it.
 * enabled() says whether previews are wanted now (no drag, embedding ready, ...).
 */
export function installHover(canvas, { toImage, decode, show, enabled }) {
  let wanted = null; // latest cursor position not yet decoded
  let busy = false;
  let frameRequested = false;

  async function step() {
    frameRequested = false;
    if (busy || !wanted) return;
    const at = wanted;
    wanted = null;
    busy = true;
    try {
      const preview = await decode(at);
      if (!wanted) show(preview); // a newer position makes this one stale
    } finally {
      busy = false;
      if (wanted) schedule();
    }
  }

  function schedule() {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(step);
  }

  canvas.addEventListener("mousemove", (event) => {
    if (event.buttons !== 0 || !enabled()) return;
    wanted = toImage(event.clientX, event.clientY);
    schedule();
  });
  canvas.addEventListener("mouseleave", () => {
    wanted = null;
    show(null);
  });
}
