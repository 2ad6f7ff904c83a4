// Annotator page: one image at a time; clicks and boxes ask SAM for a mask, Enter keeps it.
import { deniedReason, gatePage } from "./access.js";
import { api } from "./api.js";
import { createPainter } from "./annotator-canvas.js";
import { installAnnotatorLive } from "./annotator-live.js";
import { renderCandidates, renderLabels, renderSegments } from "./annotator-side.js";
import { $, el, guarded, showError } from "./dom.js";
import { createFilmstrip } from "./filmstrip.js";
import { createHistory } from "./history.js";
import { bind, gesture, installKeyboard } from "./keyboard.js";
import { hexToRgb, labelForDigit, loadLabels } from "./labels.js";
import { projectId, refreshHeader } from "./project-header.js";
import { addPoint, EMPTY_PROMPTS, installPromptInput, isEmpty, setBox } from "./prompts.js";
import { createPredictor } from "./predictor.js";
import { createLocalDecoder } from "./local-decoder.js";
import { createLocalPredictor } from "./local-predictor.js";
import { createUpscaler } from "./mask-upscale.js";
import { installHover } from "./hover.js";
import { fillHoles, installBrush } from "./mask-brush.js";
import { installPolygonEditor } from "./mask-polygon.js";
import { decodeRle, encodeRle, maskCanvas } from "./rle.js";
import { createSegmentStore } from "./segments.js";
import { createView } from "./view.js";

const PREFETCH_AHEAD = 2;
const canvas = $("#annotator-canvas");
const errorBox = $("#annotator-error");
const state = {
  images: [],
  index: -1,
  image: null,
  labels: [],
  current: null,
  prompts: EMPTY_PROMPTS,
  answer: null,
  chosen: 0,
  maskLayer: null,
  dragBox: null,
  selected: null,
  showAuto: true,
  granularity: "all",
  preparing: false,
  sam: true,
  hoverLayer: null,
  mergeInto: null, // the selected segment while waiting for the one to merge into it
  cutLine: null, // the split line being drawn, image pixels
};
const view = createView(canvas, () => painter.request());
const painter = createPainter(canvas, view);
let predictor = createPredictor(); // replaced by the in-page decoder when it loads
let upscaler = null;
const store = createSegmentStore(() => state.labels);
const steps = createHistory(() => {
  $("#undo").disabled = !steps.canUndo;
  $("#redo").disabled = !steps.canRedo;
});
const filmstrip = createFilmstrip($("#filmstrip"), (i) => openImage(i));
const imageId = () => state.images[state.index]?.id;

function say(text, spinner = false) {
  const box = $("#annotator-message");
  box.replaceChildren(...(spinner ? [el("span", { class: "spinner" }), " "] : []), text);
  box.hidden = !text;
}

function visible(segment) {
  if (!state.showAuto && segment.source === "auto") return false;
  if (!store.hasHierarchy) return true;
  if (state.granularity === "whole") return segment.parent_id == null;
  if (state.granularity === "part") return segment.parent_id != null;
  return true;
}

function paintCanvas() {
  editor?.sync();
  painter.show({
    image: state.image,
    outlines: store.outlines(visible, state.selected),
    mask: state.maskLayer ?? state.hoverLayer,
    prompts: state.prompts,
    dragBox: state.dragBox,
    line: state.cutLine,
    polygon: editor?.shape,
  });
}

function repaint() {
  paintCanvas();
  renderLabels(state.labels, state.current, pickLabel);
  renderCandidates(state.answer?.masks ?? [], state.chosen, chooseCandidate);
  renderSegments(store.items, state.labels, state.selected, visible, selectSegment);
  $("#accept").disabled = !state.answer?.masks.length;
  document.body.dataset.annotator = state.preparing ? "preparing" : state.answer ? "mask" : "idle";
}

/** A full-size canvas for a server mask (RLE) or a local one (low-res logits, GPU upscaled). */
function maskLayer(mask, rgba) {
  return mask.logits
    ? upscaler.paint(mask.logits, mask.frame, rgba)
    : maskCanvas(decodeRle(mask.rle), rgba);
}

function paintCandidate() {
  const mask = state.answer?.masks[state.chosen];
  const color = state.current?.color ?? "#4e79a7";
  // A local mask's pixels are read back once (its area, and its RLE when accepted).
  if (mask?.logits) mask.pixels ??= upscaler.mask(mask.logits, mask.frame);
  if (mask?.pixels) mask.area ??= mask.pixels.data.reduce((n, v) => n + v, 0);
  state.maskLayer = mask ? maskLayer(mask, [...hexToRgb(color), 255]) : null;
  repaint();
}

function chooseCandidate(i) {
  state.chosen = i;
  paintCandidate();
}

async function ask() {
  const fresh = state.preparing;
  if (fresh) say("Computing the image embedding…", true);
  try {
    const answer = await predictor.predict(imageId(), state.prompts);
    if (answer === null) return;
    state.answer = answer;
    state.chosen = 0;
    state.preparing = false;
    say("");
    const t = answer.timing_ms ?? {};
    $("#status").textContent =
      `encode ${Math.round(t.encode ?? 0)} ms · decode ${Math.round(t.decode ?? 0)} ms`;
    paintCandidate();
  } catch (err) {
    say("");
    showError(errorBox, err);
  }
}

/** Replace the prompts; `record` adds an undo step. Empty prompts clear the mask. */
function setPrompts(next, { record = true, fromHistory = false } = {}) {
  const previous = state.prompts;
  state.prompts = next;
  state.dragBox = null;
  showError(errorBox, null);
  if (record)
    steps.push({
      undo: () => setPrompts(previous, { record: false, fromHistory: true }),
      redo: () => setPrompts(next, { record: false, fromHistory: true }),
    });
  // An undone prompt's refinement handle belongs to a newer answer: start from scratch.
  if (fromHistory || isEmpty(next)) predictor.reset();
  if (isEmpty(next)) {
    state.answer = null;
    state.maskLayer = null;
    repaint();
    return Promise.resolve();
  }
  repaint();
  return ask();
}

async function createSegment(rle, labelId) {
  const segment = await store.create(rle, labelId);
  refreshHeader().catch(() => {});
  return segment;
}

function accept() {
  const mask = state.answer?.masks[state.chosen];
  if (!mask) return;
  return guarded(errorBox, async () => {
    const labelId = state.current?.id ?? null;
    const rle = mask.rle ?? encodeRle(mask.pixels);
    let segment = await createSegment(rle, labelId);
    steps.push({
      undo: async () => {
        await store.remove(segment.id);
        state.selected = null;
        repaint();
      },
      redo: async () => {
        segment = await createSegment(rle, labelId);
        repaint();
      },
    });
    setPrompts(EMPTY_PROMPTS, { record: false });
  });
}

function deleteSelected() {
  const segment = store.items.find((s) => s.id === state.selected);
  if (!segment) return;
  return guarded(errorBox, async () => {
    let current = segment;
    await store.remove(current.id);
    state.selected = null;
    steps.push({
      undo: async () => {
        current = await createSegment(segment.rle, segment.label_id);
        repaint();
      },
      redo: async () => {
        await store.remove(current.id);
        repaint();
      },
    });
    repaint();
  });
}

function relabelSelected(label) {
  const segment = store.items.find((s) => s.id === state.selected);
  if (!segment || segment.label_id === label.id) return;
  if (!state.canLabel) return viewOnly();
  return guarded(errorBox, async () => {
    const before = segment.label_id;
    await store.relabel(segment.id, label.id);
    steps.push({
      undo: async () => {
        await store.relabel(segment.id, before);
        repaint();
      },
      redo: async () => {
        await store.relabel(segment.id, label.id);
        repaint();
      },
    });
    repaint();
  });
}

function pickLabel(label) {
  state.current = label;
  if (state.selected !== null) relabelSelected(label);
  paintCandidate();
}

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

let brush = null;
let editor = null;

function viewOnly() {
  state.dragBox = null;
  say($("#role-note")?.textContent ?? "Viewing only");
}

function selectSegment(id) {
  state.selected = state.selected === id ? null : id;
  repaint();
}

async function openImage(index) {
  if (index < 0 || index >= state.images.length) return;
  state.index = index;
  const image = state.images[index];
  steps.clear();
  predictor.reset();
  Object.assign(state, {
    prompts: EMPTY_PROMPTS,
    answer: null,
    maskLayer: null,
    hoverLayer: null,
    selected: null,
    preparing: true,
  });
  $("#image-name").textContent = `${image.filename} (${index + 1} / ${state.images.length})`;
  history.replaceState(null, "", `?image=${image.id}`);
  filmstrip.render(state.images, index);
  predictor.prefetch(state.images.slice(index, index + 1 + PREFETCH_AHEAD).map((i) => i.id));
  const element = new Image();
  element.src = `/api/images/${image.id}/file`;
  await Promise.all([element.decode(), store.load(image.id)]);
  if (state.index !== index) return;
  state.image = element;
  $("#granularity").disabled = !store.hasHierarchy;
  $("#granularity").title = store.hasHierarchy
    ? "Filter by granularity"
    : "This server sends no part/whole links";
  view.fit(image.width, image.height);
  repaint();
}

function installInput() {
  installPromptInput(canvas, {
    toImage: view.toImage,
    isPanning: () => view.panning,
    onDrag: (a, b) => {
      state.dragBox = setBox(EMPTY_PROMPTS, a, b).box;
      painter.request();
      repaint();
    },
    onBox: (a, b) => (state.canLabel ? setPrompts(setBox(state.prompts, a, b)) : viewOnly()),
    onPoint: (at, positive) =>
      state.canLabel ? setPrompts(addPoint(state.prompts, at, positive)) : viewOnly(),
    onSelectAt: (at) => {
      const id = store.hit(at, visible)?.id ?? null;
      if (state.mergeInto !== null && id !== null) return mergeWith(id);
      selectSegment(id);
    },
  });
  brush = installBrush(canvas, {
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
  editor = installPolygonEditor(canvas, {
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
  const undoStep = () => guarded(errorBox, steps.undo);
  const redoStep = () => guarded(errorBox, steps.redo);
  $("#accept").addEventListener("click", accept);
  $("#clear-prompts").addEventListener("click", () => setPrompts(EMPTY_PROMPTS));
  $("#undo").addEventListener("click", undoStep);
  $("#redo").addEventListener("click", redoStep);
  $("#delete-segment").addEventListener("click", deleteSelected);
  $("#prev-image").addEventListener("click", () => openImage(state.index - 1));
  $("#next-image").addEventListener("click", () => openImage(state.index + 1));
  $("#show-auto").addEventListener("change", (e) => {
    state.showAuto = e.target.checked;
    repaint();
  });
  $("#granularity").addEventListener("change", (e) => {
    state.granularity = e.target.value;
    repaint();
  });

  // A viewer's editing keys are refused here, with the reason, before any request.
  const denied = () =>
    state.canLabel ? null : deniedReason(document.body.dataset.role, "annotator");
  const editing = { denied };
  bind("Enter", "Accept the mask as a segment with the current label", accept, editing);
  bind(
    "Tab",
    "Next candidate mask",
    () => state.answer && chooseCandidate((state.chosen + 1) % state.answer.masks.length),
  );
  bind(
    "shift+Tab",
    "Previous candidate mask",
    () =>
      state.answer &&
      chooseCandidate((state.chosen + state.answer.masks.length - 1) % state.answer.masks.length),
  );
  bind("Escape", "Clear prompts (and the selection, a merge or a tool)", () => {
    state.selected = null;
    state.mergeInto = null;
    if (brush.tool) setTool(brush.tool);
    setPrompts(EMPTY_PROMPTS);
  });
  bind(["ctrl+z"], "Undo (prompts and segments)", undoStep);
  bind(["ctrl+shift+z", "ctrl+y"], "Redo", redoStep);
  bind(
    ["Delete", "Backspace"],
    "Polygon on: delete the selected vertex (never the segment)",
    () => editor.removeSelected(),
    { when: () => brush.tool === "polygon", ...editing },
  );
  bind(["Delete", "Backspace"], "Delete the selected segment", deleteSelected, editing);
  bind(["ArrowRight", "n"], "Next image", () => openImage(state.index + 1));
  bind(["ArrowLeft", "p"], "Previous image", () => openImage(state.index - 1));
  bind("v", "Show or hide automatic segments", () => {
    $("#show-auto").click();
  });
  bind("f", "Fit the image to the window", () => view.refit());
  bind("b", "Brush: paint onto the selected segment (drag)", () => setTool("brush"), editing);
  bind("e", "Eraser: remove from the selected segment (drag)", () => setTool("eraser"), editing);
  bind("[", "Smaller brush or eraser", () => resizeBrush(0.8));
  bind("]", "Larger brush or eraser", () => resizeBrush(1.25));
  bind("h", "Fill the holes of the selected segment", fillSelectedHoles, editing);
  bind("m", "Merge: then Ctrl+click the segment to add to the selected one", startMerge, editing);
  bind("s", "Split: then drag a line across the selected segment", () => setTool("cut"), editing);
  bind(
    "o",
    "Polygon: edit the selected segment's outline vertex by vertex",
    () => setTool("polygon"),
    editing,
  );
  gesture("click", "Positive point (ask SAM for a mask)");
  gesture(["right-click", "alt+click"], "Negative point");
  gesture("drag", "Box prompt (with brush or eraser on: paint)");
  gesture("ctrl+click", "Select the segment under the pointer (click again to deselect)");
  gesture("wheel", "Zoom at the pointer");
  gesture("drag a vertex", "Polygon on: move it (click an edge adds one)");
  gesture(["alt+click", "right-click"], "Polygon on: remove the vertex under the pointer");
  gesture(["space+drag", "middle-drag"], "Pan");
  for (let k = 1; k <= 9; k++) {
    bind(
      String(k),
      "Pick label 1-9 (relabels the selected segment)",
      () => {
        const l = labelForDigit(state.labels, k);
        if (l) pickLabel(l);
      },
      { hidden: k > 1 },
    );
  }
}

function hoverPreview(at) {
  const image = state.images[state.index];
  const inside = image && at[0] >= 0 && at[1] >= 0 && at[0] <= image.width && at[1] <= image.height;
  return inside
    ? predictor.preview(image.id, addPoint(EMPTY_PROMPTS, at, true))
    : Promise.resolve(null);
}

function showHover(preview) {
  const color = state.current?.color ?? "#4e79a7";
  state.hoverLayer =
    preview && isEmpty(state.prompts) ? maskLayer(preview, [...hexToRgb(color), 110]) : null;
  document.body.dataset.hover = String(
    (Number(document.body.dataset.hover) || 0) + (preview ? 1 : 0),
  );
  paintCanvas(); // a preview changes nothing beside the canvas
}

// In-page decoding pays off only with cores to spare for wasm threads beside the page: wasm
// GEMMs run ~3x slower per core than the server's native ones, and on a 2-core machine the
// page (one wasm thread) still answered clicks ~3x slower than /predict (bench/browser_decoder.py).
// ?decoder=local or ?decoder=server overrides the choice.
function wantLocalDecoder() {
  const forced = new URLSearchParams(location.search).get("decoder");
  return forced ? forced === "local" : (navigator.hardwareConcurrency ?? 1) >= 4;
}

/** Decode in the page when this browser and model allow it; /predict stays the fallback. */
async function useLocalDecoder(modelId) {
  if (!wantLocalDecoder()) {
    document.body.dataset.decoder = "server";
    return;
  }
  upscaler = createUpscaler();
  const local = upscaler ? await createLocalDecoder(modelId) : null;
  document.body.dataset.decoder = local ? "local" : "server";
  if (!local) return;
  predictor = createLocalPredictor(local);
  installHover(canvas, {
    toImage: view.toImage,
    decode: hoverPreview,
    show: showHover,
    enabled: () => isEmpty(state.prompts) && !view.panning && local.ready(imageId()),
  });
}

// "offline segmenter: configure a SAM checkpoint for better masks", or why no model answers.
async function showSegmenterNotice() {
  const { segmenter } = await api("/api/health");
  const text = segmenter?.available === false ? segmenter.reason : segmenter?.notice;
  const box = $("#segmenter-notice");
  box.textContent = text ?? "";
  box.hidden = !text;
  return segmenter;
}

async function start() {
  installKeyboard({ onRefused: say });
  state.canLabel = await gatePage(projectId, $(".side"));
  installInput();
  const [labels, page] = await Promise.all([
    loadLabels(projectId),
    api(`/api/projects/${projectId}/images?limit=1000`),
    refreshHeader(),
  ]);
  state.labels = labels;
  state.current = labels[0] ?? null;
  state.images = page.items;
  const segmenter = await showSegmenterNotice();
  if (segmenter?.available) {
    await useLocalDecoder(segmenter.model_id).catch((err) => {
      console.warn("local decoder unavailable:", err);
      document.body.dataset.decoder = "server";
    });
  }
  if (!state.images.length) return say("No images yet: import some on the project page.");
  const wanted = Number(new URLSearchParams(location.search).get("image"));
  await openImage(
    Math.max(
      0,
      state.images.findIndex((i) => i.id === wanted),
    ),
  );
  installAnnotatorLive({ projectId, state, store, filmstrip, repaint }).catch((err) =>
    console.warn("live updates unavailable:", err),
  );
  // A handle for automation and the e2e tests.
  window.lassolabelAnnotator = {
    state,
    store,
    view,
    polygon: editor,
    get predictor() {
      return predictor;
    },
    get upscaler() {
      return upscaler;
    },
  };
}

start().catch((err) => showError(errorBox, err));
