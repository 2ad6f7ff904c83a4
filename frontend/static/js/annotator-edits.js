// The selected segment's mask tools on the annotator: brush, eraser, polygon vertices, hole
// filling, merge and split. Each edit is one undoable step saved through the segment store with
// the version this page last saw: someone else's newer edit is a 409, never overwritten.
import { $, guarded, showError } from "./dom.js";
import { hexToRgb } from "./labels.js";
import { fillHoles, installBrush } from "./mask-brush.js";
import { installPolygonEditor } from "./mask-polygon.js";
import { encodeRle, maskCanvas } from "./rle.js";

/** Install the tools on the annotator canvas. ctx is the page's {canvas, view, state, store,
 * steps, painter, errorBox, say, repaint, paintCanvas, createSegment, viewOnly}; returns the
 * brush, the polygon editor and the actions the page binds to keys. */
export function installMaskEdits(ctx) {
  const { canvas, view, state, store, steps, painter, errorBox, say, repaint, paintCanvas } = ctx;
  const { createSegment, viewOnly } = ctx;
  const selectedSegment = () => store.items.find((s) => s.id === state.selected) ?? null;

  /** Save a new mask of the selected segment as one undoable, versioned step: write(version)
   * sends it (an RLE or polygon rings); undo puts the RLE from before back. Rejects on failure. */
  async function saveEdit(segment, write) {
    const before = segment.rle;
    // Each direction sends the version this page last saw: someone else's edit meanwhile is a
    // 409, never overwritten.
    const version = () => store.items.find((s) => s.id === segment.id).version;
    const put = async (send) => {
      try {
        await send(version());
      } finally {
        state.maskLayer = null;
        repaint();
      }
    };
    const undo = () => put((v) => store.editMask(segment.id, before, v));
    try {
      await put(write);
    } catch (err) {
      showError(errorBox, err);
      throw err;
    }
    showError(errorBox, null);
    steps.push({ undo, redo: () => put(write) });
    document.body.dataset.maskSaved = String(version());
  }

  function saveMask(segment, mask) {
    const rle = encodeRle(mask);
    return saveEdit(segment, (v) => store.editMask(segment.id, rle, v)).catch(() => {});
  }

  /** A polygon edit; on a refusal the segment is reloaded so the editor shows what stands. */
  function savePolygon(segment, rings) {
    return saveEdit(segment, (v) => store.editPolygon(segment.id, rings, v)).catch(async (err) => {
      await store.refresh([segment.id]).catch(() => {});
      throw err;
    });
  }

  function previewMask(mask) {
    state.maskLayer = maskCanvas(mask, [...hexToRgb(state.current?.color ?? "#4e79a7"), 255]);
    painter.request();
    paintCanvas();
  }

  function setTool(name) {
    if (!state.canLabel && !brush.tool) return viewOnly();
    const tool = brush.toggle(name);
    for (const b of document.querySelectorAll("[data-mask-tool]"))
      b.classList.toggle("active", b.dataset.maskTool === tool);
    document.body.dataset.maskTool = tool ?? "";
    const hint = {
      brush: `brush on (radius ${brush.radius}px, [ and ] change it): drag on the selected segment`,
      eraser: `eraser on (radius ${brush.radius}px, [ and ] change it): drag on the selected segment`,
      cut: "split: drag a line across the selected segment",
      polygon:
        "polygon: drag a vertex, click an edge to add one, Alt+click or right-click one (or Delete) to remove it",
    };
    say(hint[tool] ?? "");
    paintCanvas(); // the polygon tool draws (and loads) the selected segment's rings
  }

  function resizeBrush(factor) {
    const radius = brush.resize(factor);
    $("#brush-size").textContent = `${radius}px`;
    if (brush.tool) say(`${brush.tool} radius ${radius}px`);
  }

  function fillSelectedHoles() {
    const segment = selectedSegment();
    if (!segment) return say("Select a segment first (Ctrl+click it)");
    return saveMask(segment, fillHoles(store.maskOf(segment.id)));
  }

  /** Merge the segment ctrl+clicked next into the selected one (M, then Ctrl+click). */
  function mergeWith(otherId) {
    const keep = selectedSegment();
    const other = store.items.find((s) => s.id === otherId);
    state.mergeInto = null;
    say("");
    if (!keep || !other || keep.id === other.id) return;
    return guarded(errorBox, async () => {
      const before = keep.rle;
      let again = other;
      await store.merge(keep.id, other.id);
      repaint();
      steps.push({
        undo: async () => {
          const current = store.items.find((s) => s.id === keep.id);
          await store.editMask(keep.id, before, current.version);
          again = await createSegment(other.rle, other.label_id);
          repaint();
        },
        redo: async () => {
          await store.merge(keep.id, again.id);
          repaint();
        },
      });
      document.body.dataset.merged = String(keep.id);
    });
  }

  /** Cut the selected segment along the line just drawn (S, then drag across it). */
  function splitSelected(line) {
    const segment = selectedSegment();
    state.cutLine = null;
    if (!segment) return repaint();
    return guarded(errorBox, async () => {
      const before = segment.rle;
      try {
        let [, piece] = await store.split(segment.id, line);
        steps.push({
          undo: async () => {
            await store.remove(piece.id);
            const current = store.items.find((s) => s.id === segment.id);
            await store.editMask(segment.id, before, current.version);
            repaint();
          },
          redo: async () => {
            [, piece] = await store.split(segment.id, line);
            repaint();
          },
        });
        document.body.dataset.split = String(piece.id);
      } finally {
        repaint();
      }
    });
  }

  function startMerge() {
    if (!selectedSegment()) return say("Select a segment first (Ctrl+click it)");
    state.mergeInto = state.selected;
    say("Ctrl+click the segment to merge into the selected one (Esc cancels)");
  }

  const brush = installBrush(canvas, {
    toImage: view.toImage,
    getMask: () => (selectedSegment() ? store.maskOf(state.selected) : null),
    onPreview: previewMask,
    onStroke: (mask) => saveMask(selectedSegment(), mask),
    onNoTarget: () => say("Select a segment first (Ctrl+click it), then paint on it"),
    onCutPreview: (line) => {
      state.cutLine = line;
      paintCanvas();
    },
    onCut: splitSelected,
  });
  const editor = installPolygonEditor(canvas, {
    view,
    active: () => brush.tool === "polygon",
    getSegment: selectedSegment,
    onChange: paintCanvas,
    onCommit: savePolygon,
    say,
  });
  for (const b of document.querySelectorAll("[data-mask-tool]"))
    b.addEventListener("click", () => setTool(b.dataset.maskTool));
  $("#fill-holes").addEventListener("click", fillSelectedHoles);
  $("#merge-segments").addEventListener("click", startMerge);
  return { brush, editor, setTool, resizeBrush, fillSelectedHoles, startMerge, mergeWith };
}
