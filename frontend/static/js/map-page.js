// Map page: every segment as a point, lasso/box/click selection, batch labelling with undo.
import { deniedReason, gatePage } from "./access.js";
import { api } from "./api.js";
import { $, el, guarded } from "./dom.js";
import { createHoverCard, segmentDescriber } from "./hover-card.js";
import { bind, installKeyboard } from "./keyboard.js";
import { catchUp, conflictMessage, isStale } from "./map-conflict.js";
import { createMapLabels } from "./map-labels.js";
import { fetchMap } from "./map-data.js";
import { installMapLive } from "./map-live.js";
import { createMapModel } from "./map-model.js";
import { createSuggestionLayer, fetchSuggestionColumns } from "./map-suggestions.js";
import { projectId, refreshHeader } from "./project-header.js";
import { createScatter } from "./scatter.js";
import { createSelectionPanel } from "./selection-panel.js";
import { createSimilarPanel } from "./similar-gallery.js";

const state = {
  selected: [],
  current: null,
  hidden: new Set(),
  filtered: null,
  tool: "lasso",
  hovered: -1,
  colorBy: "labels",
};
const message = $("#map-message");
const errorBox = $("#assign-error");
let model, scatter, panel, labelList, hover, similar;
let suggestions = null; // the suggestion colour layer, once loaded

function say(text) {
  message.textContent = text;
  message.hidden = !text;
}

function renderPanels() {
  panel.render(state.selected, state.current);
  labelList.render(state.current, state.hidden);
  $("#undo-assign").disabled = !model.canUndo();
  $("#more-like-this").disabled = !similar || state.selected.length !== 1;
  similar?.sync(model.segmentIds(state.selected));
}

function setSelection(points) {
  state.selected = points;
  renderPanels();
}

function readFilters() {
  const number = (id) => ($(id).value === "" ? null : Number($(id).value));
  return {
    hiddenLabels: state.hidden,
    unlabelledOnly: $("#filter-unlabelled").checked,
    source: $("#filter-source").value,
    areaMin: number("#filter-area-min"),
    areaMax: number("#filter-area-max"),
  };
}

function applyFilters() {
  state.filtered = model.filtered(readFilters());
  scatter.filter(state.filtered);
  if (state.filtered) {
    const keep = new Uint8Array(model.count);
    for (let i = 0; i < state.filtered.length; i++) keep[state.filtered[i]] = 1;
    setSelection(state.selected.filter((p) => keep[p]));
  }
}

/** -> {count, batch_id?, versions?}. Sends the versions this page saw: the server refuses
 * (409 stale_version) rather than overwrite what someone else changed meanwhile. */
function sendAssign(points, labelId) {
  return api(`/api/projects/${projectId}/assign`, {
    method: "POST",
    json: {
      segment_ids: model.segmentIds(points),
      label_id: labelId,
      expected_versions: model.expectedVersions(points),
    },
  });
}

// The server's audit undo is atomic and refuses to overwrite later edits by others.
function sendUndo() {
  const batchId = model.lastBatchId();
  return api(`/api/projects/${projectId}/history/${batchId}/undo`, { method: "POST" });
}

/** After a 409 stale_version: show the server's current state of what changed. -> count */
async function catchUpWith(err) {
  const { count, unknownLabels } = await catchUp(model, err, () => fetchMap(projectId));
  noteUnknownLabels(unknownLabels);
  await afterLabelChange();
  return count;
}

/** Draw the points' colours for the colour mode: labels, or suggested labels. */
function paint() {
  const layer = state.colorBy === "suggestions" ? suggestions : null;
  scatter.setColors(layer ? layer.colors : model.colors);
  return scatter.recolor(
    layer ? layer.categories() : model.categories,
    state.selected,
    state.filtered,
  );
}

async function loadSuggestions() {
  suggestions = createSuggestionLayer(model, await fetchSuggestionColumns(projectId));
  return suggestions;
}

function setColorBy(mode) {
  if (!scatter) return; // no points placed yet: nothing to colour
  return guarded(errorBox, async () => {
    state.colorBy = mode;
    $("#color-note").hidden = mode !== "suggestions";
    if (mode === "suggestions" && !(await loadSuggestions()).count) {
      say("No suggestions yet: run propagate (project or review page).");
    }
    await paint();
    document.body.dataset.colorBy = mode;
  });
}

function selectPoints(points) {
  scatter.select(points);
  setSelection(points);
}

/** More like the segment under the pointer, else the one selected alone. */
function moreLikeThis(segmentId = null) {
  const point =
    state.hovered >= 0 ? state.hovered : state.selected.length === 1 ? state.selected[0] : -1;
  const id = segmentId ?? (point >= 0 ? model.map.segmentId[point] : null);
  if (id === null) return;
  return guarded(errorBox, () => similar.open(id));
}

async function afterLabelChange() {
  if (scatter) await paint();
  renderPanels();
  await refreshHeader();
}

function noteUnknownLabels(labelIds) {
  if (labelIds.length)
    say("Someone added a label since this map loaded: reload the page to show it.");
}

/** Other sessions' label batches changed these points (already in the model). */
function showLiveLabels(_points, unknownLabels) {
  noteUnknownLabels(unknownLabels);
  return guarded(errorBox, async () => {
    const batch = document.body.dataset.liveBatch;
    await afterLabelChange();
    document.body.dataset.livePainted = batch;
  });
}

/** The project's suggestions changed: reload the suggestion colours (and hover notes). */
function refreshSuggestions() {
  if (!suggestions) return; // never loaded: this server has none, or the map is not up yet
  return guarded(errorBox, async () => {
    const layer = await loadSuggestions();
    if (state.colorBy === "suggestions") await paint();
    document.body.dataset.suggestions = String(layer.count);
  });
}

function assign(labelId) {
  const points = state.selected;
  if (!points.length || !state.canLabel) return;
  return guarded(errorBox, async () => {
    let receipt;
    try {
      receipt = await sendAssign(points, labelId);
    } catch (err) {
      if (!isStale(err)) throw err;
      throw new Error(conflictMessage(await catchUpWith(err), labelId));
    }
    const { count, batch_id: batchId = null, versions = null } = receipt;
    model.apply(points, labelId, batchId, versions);
    await afterLabelChange();
    const name =
      labelId === null ? "no label" : `“${model.labels.find((l) => l.id === labelId).name}”`;
    say(`${count} segments now have ${name}`);
  });
}

function undoAssign() {
  if (!model.canUndo()) return;
  return guarded(errorBox, async () => {
    await sendUndo().catch(async (err) => {
      if (isStale(err)) await catchUpWith(err); // show what blocked the undo
      throw err;
    });
    model.commitUndo();
    await afterLabelChange();
    say("last batch undone");
  });
}

function pick(label) {
  state.current = label;
  renderPanels();
}

function setTool(tool) {
  state.tool = tool;
  scatter.setTool(tool);
  for (const b of document.querySelectorAll("[data-tool]"))
    b.classList.toggle("active", b.dataset.tool === tool);
}

function removeFromSelection(segmentId) {
  selectPoints(state.selected.filter((p) => model.map.segmentId[p] !== segmentId));
}

function installControls() {
  $("#assign-label").addEventListener("click", () => assign(state.current?.id ?? null));
  $("#clear-label").addEventListener("click", () => assign(null));
  $("#undo-assign").addEventListener("click", undoAssign);
  $("#reset-view").addEventListener("click", () => scatter.reset());
  for (const b of document.querySelectorAll("[data-tool]"))
    b.addEventListener("click", () => setTool(b.dataset.tool));
  for (const id of [
    "#filter-unlabelled",
    "#filter-source",
    "#filter-area-min",
    "#filter-area-max",
  ]) {
    $(id).addEventListener("change", applyFilters);
  }
  $("#label-search").addEventListener("input", renderPanels);
  $("#color-mode").addEventListener("change", (event) => setColorBy(event.target.value));
  $("#more-like-this").addEventListener("click", () =>
    moreLikeThis(model.map.segmentId[state.selected[0]]),
  );
  bind(
    "m",
    "More like this (the segment under the pointer, or the one selected)",
    () => moreLikeThis(),
    { when: () => similar !== undefined },
  );
  const ready = () => model !== undefined;
  // A viewer's labelling keys are refused in the page, with the reason, before any request.
  const denied = () =>
    state.canLabel === false ? deniedReason(document.body.dataset.role, "annotator") : null;
  bind(
    ["a", "Enter"],
    "Assign the current label to the selection",
    () => state.current && assign(state.current.id),
    { when: ready, denied },
  );
  bind("c", "Clear the label of the selection", () => assign(null), { when: ready, denied });
  bind("ctrl+z", "Undo the last batch assign", undoAssign, { when: ready, denied });
  bind(
    "Escape",
    "Deselect",
    () => {
      scatter?.select([]); // a project with no points placed has no scatter
      setSelection([]);
    },
    { when: ready },
  );
  bind("l", "Lasso tool (shift adds, alt subtracts)", () => setTool("lasso"), { when: ready });
  bind("b", "Box select tool", () => setTool("box"), { when: ready });
  bind("p", "Pan and zoom tool (or hold Space)", () => setTool("pan"), { when: ready });
  bind("r", "Reset the view", () => scatter.reset(), { when: ready });
  bind("/", "Search labels", () => $("#label-search").focus());
  for (let k = 1; k <= 9; k++) {
    bind(String(k), "Pick label 1-9", () => model.labels[k - 1] && pick(model.labels[k - 1]), {
      when: ready,
      hidden: k > 1,
    });
  }
  let before = null;
  window.addEventListener("keydown", (e) => {
    if (e.key === " " && ready() && before === null && e.target === document.body) {
      before = state.tool;
      setTool("pan");
      e.preventDefault();
    }
  });
  window.addEventListener("keyup", (e) => {
    if (e.key === " " && before !== null) {
      setTool(before);
      before = null;
    }
  });
}

/** The Source filter offers the sources this map's points have. */
function installSourceFilter(map) {
  const present = new Uint8Array(256);
  for (let p = 0; p < map.source.length; p++) present[map.source[p]] = 1;
  const options = map.header.sources.filter((_, i) => present[i]);
  $("#filter-source").replaceChildren(
    el("option", { value: "", text: "any" }),
    ...options.map((name) => el("option", { value: name, text: name })),
  );
}

function installSimilar(thumbnailUrl) {
  similar = createSimilarPanel({
    section: $("#similar-panel"),
    results: $("#similar-results"),
    k: $("#similar-k"),
    caption: $("#similar-caption"),
    close: $("#similar-close"),
    thumbnailUrl,
    pointOf: (id) => model.pointOf(id),
    onSelect: selectPoints,
    onError: (err) =>
      guarded(errorBox, () => {
        throw err;
      }),
  });
  renderPanels();
  const asked = Number(new URLSearchParams(location.search).get("similar"));
  if (asked) moreLikeThis(asked);
}

async function start() {
  installKeyboard({ onRefused: (text) => say(text) });
  installControls();
  state.canLabel = await gatePage(projectId, $(".side"));
  refreshHeader().catch((err) => say(err.message));
  const live = installMapLive(projectId, {
    onLabels: showLiveLabels,
    onSuggestions: refreshSuggestions,
  });
  await live.opened;
  const map = await fetchMap(projectId);
  model = createMapModel(map);
  const thumbnailUrl = (id) => `/api/segments/${id}/thumbnail`;
  panel = createSelectionPanel({
    model,
    thumbnailUrl,
    onRemove: removeFromSelection,
    onSimilar: (id) => moreLikeThis(id),
  });
  labelList = createMapLabels({
    model,
    list: $("#map-labels"),
    search: $("#label-search"),
    onPick: pick,
    onToggle: (id, visible) => {
      if (visible) state.hidden.delete(id);
      else state.hidden.add(id);
      applyFilters();
    },
  });
  hover = createHoverCard($("#hover-card"), {
    thumbnailUrl,
    describe: segmentDescriber(),
    note: (id) => suggestions?.note(id) ?? null,
  });
  state.current = model.labels[0] ?? null;
  installSourceFilter(map);
  renderPanels();
  live.ready(model);
  if (!map.header.count) {
    return say(
      `No map yet: ${map.header.segments_total} segments, none placed. Run Segment, Embed and Project on the project page.`,
    );
  }
  scatter = createScatter($("#map-canvas"), {
    onSelect: setSelection,
    onHover: (i) => {
      state.hovered = i;
      return i < 0 ? hover.hide() : hover.show(map.segmentId[i], scatter.screenPosition(i));
    },
  });
  await scatter.draw(map.x, map.y, model.categories, model.colors, map.header.bounds);
  setTool("lasso");
  installSimilar(thumbnailUrl);
  loadSuggestions().catch((err) => say(err.message)); // hover notes
  if (map.header.unplaced)
    say(`${map.header.unplaced} segments are not on the map yet (run Embed and Project).`);
  // A handle for automation and the e2e tests (programmatic lasso, reading the state).
  window.lassolabelMap = {
    model,
    scatter,
    state,
    lasso: (v, o) => scatter.lasso(v, o),
    assign,
    moreLikeThis,
  };
  document.body.dataset.mapReady = "true";
}

start().catch((err) => say(err.message));
