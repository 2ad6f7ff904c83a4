// Annotator page: one image at a time; clicks and boxes ask SAM for a mask, Enter keeps it.
import { gatePage } from "./access.js";
import { api } from "./api.js";
import { createPainter } from "./annotator-canvas.js";
import { createCandidatePicks } from "./candidate-picks.js";
import { installMaskEdits } from "./annotator-edits.js";
import { bindAnnotatorKeys } from "./annotator-keys.js";
import { installAnnotatorLive } from "./annotator-live.js";
import { renderCandidates, renderLabels, renderSegments } from "./annotator-side.js";
import { $, el, guarded, showError } from "./dom.js";
import { createFilmstrip } from "./filmstrip.js";
import { createHistory } from "./history.js";
import { installKeyboard } from "./keyboard.js";
import { hexToRgb, labelForDigit, loadLabels } from "./labels.js";
import { projectId, refreshHeader } from "./project-header.js";
import { addPoint, EMPTY_PROMPTS, installPromptInput, isEmpty, setBox } from "./prompts.js";
import { createPredictor } from "./predictor.js";
import { createLocalDecoder } from "./local-decoder.js";
import { createLocalPredictor } from "./local-predictor.js";
import { createUpscaler } from "./mask-upscale.js";
import { installHover } from "./hover.js";
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
let picks = null; // the project's candidate picks, with the in-page decoder
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
  predictor.refineFrom(i);
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

async function createSegment(rle, labelId, candidateToken = null) {
  const segment = await store.create(rle, labelId, candidateToken);
  refreshHeader().catch(() => {});
  return segment;
}

function accept() {
  const mask = state.answer?.masks[state.chosen];
  if (!mask) return;
  return guarded(errorBox, async () => {
    const labelId = state.current?.id ?? null;
    const rle = mask.rle ?? encodeRle(mask.pixels);
    let segment = await createSegment(rle, labelId, predictor.pickedToken?.() ?? null);
    // This save (or others' since the last fetch) may change which candidate comes first.
    picks?.refresh().catch((err) => console.warn("candidate picks not refreshed:", err));
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

let edits = null; // the mask tools (annotator-edits.js), installed with the input
let editor = null; // edits.editor, read by paintCanvas before the tools exist

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
      if (state.mergeInto !== null && id !== null) return edits.mergeWith(id);
      selectSegment(id);
    },
  });
  edits = installMaskEdits({
    canvas,
    view,
    state,
    store,
    steps,
    painter,
    errorBox,
    say,
    repaint,
    paintCanvas,
    createSegment,
    viewOnly,
  });
  editor = edits.editor;
  const { brush, setTool, resizeBrush, fillSelectedHoles, startMerge } = edits;
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

  bindAnnotatorKeys({
    canLabel: () => state.canLabel,
    accept,
    cycleCandidate: (step) =>
      state.answer &&
      chooseCandidate(
        (state.chosen + step + state.answer.masks.length) % state.answer.masks.length,
      ),
    clear: () => {
      state.selected = null;
      state.mergeInto = null;
      if (brush.tool) setTool(brush.tool);
      setPrompts(EMPTY_PROMPTS);
    },
    undoStep,
    redoStep,
    polygonOn: () => brush.tool === "polygon",
    removeVertex: () => editor.removeSelected(),
    deleteSelected,
    openImage: (step) => openImage(state.index + step),
    toggleAuto: () => $("#show-auto").click(),
    fit: () => view.refit(),
    setTool,
    resizeBrush,
    fillSelectedHoles,
    startMerge,
    pickDigit: (k) => {
      const l = labelForDigit(state.labels, k);
      if (l) pickLabel(l);
    },
  });
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
  const projectPicks = createCandidatePicks(projectId);
  const [local] = await Promise.all([
    upscaler ? createLocalDecoder(modelId) : null,
    projectPicks.refresh(),
  ]);
  document.body.dataset.decoder = local ? "local" : "server";
  if (!local) return;
  picks = projectPicks;
  predictor = createLocalPredictor(local, picks);
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
