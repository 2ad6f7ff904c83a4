// Review page: suggested labels (propagate and exemplar jobs) to accept, reject or correct one
// by one from the keyboard, most informative first; accept everything above a threshold in one
// action; start propagate or exemplar. Other sessions' label changes refresh the list live.
import { deniedReason, gatePage } from "./access.js";
import { api } from "./api.js";
import { confirmAction } from "./confirm.js";
import { $, el, guarded } from "./dom.js";
import { bind, installKeyboard } from "./keyboard.js";
import { labelForDigit, loadLabels } from "./labels.js";
import { openProjectStream } from "./live.js";
import { joinProject } from "./presence.js";
import { projectId, refreshHeader, setStatus } from "./project-header.js";
import { createSuggestLauncher } from "./suggest-launcher.js";
import { createReviewQueue } from "./review-queue.js";
import { suggestionCard, suggestionMeta, thumbnailUrl } from "./suggestion-card.js";
import { createThreshold } from "./threshold.js";

const queue = createReviewQueue(projectId);
const errorBox = $("#review-error");
const list = $("#review-list");
const cards = new Map(); // queue key -> card element, reused so thumbnails never reload
// Load more before the walk reaches the end of what is loaded.
const PREFETCH_MARGIN = 10;
let labels = [];
let busy = Promise.resolve();
let labelDenied = null; // why this role may not label here (a viewer), said before any request

// One action at a time: a fast A A A sends three accepts for three different cards.
const serial = (action) => (busy = busy.then(() => guarded(errorBox, action)));

function renderList() {
  const keys = new Set();
  const nodes = queue.items.map((item, index) => {
    const key = queue.keyOf(item);
    keys.add(key);
    if (!cards.has(key))
      cards.set(
        key,
        suggestionCard(item, labels, () => {
          queue.moveTo(queue.items.indexOf(item));
          render();
        }),
      );
    const card = cards.get(key);
    card.setAttribute("aria-selected", String(index === queue.cursor));
    return card;
  });
  for (const key of cards.keys()) if (!keys.has(key)) cards.delete(key);
  list.replaceChildren(...nodes);
  list.children[queue.cursor]?.scrollIntoView({ block: "nearest" });
}

function renderCurrent() {
  const item = queue.current();
  $("#review-current").replaceChildren(
    ...(item
      ? [
          el("img", { src: thumbnailUrl(item.segment_id, 256), alt: `segment ${item.segment_id}` }),
          suggestionMeta(item, labels),
        ]
      : [el("p", { class: "muted", text: "Nothing to review." })]),
  );
  $("#review-accept").disabled = $("#review-reject").disabled = !item;
  const similar = $("#review-similar");
  similar.hidden = !item;
  if (item) similar.href = `/projects/${projectId}/map?similar=${item.segment_id}`;
  for (const row of $("#review-labels").children)
    row.classList.toggle("current", Number(row.dataset.labelId) === item?.label_id);
}

function renderCorrections() {
  const rows = [];
  for (let digit = 1; digit <= 9; digit++) {
    const label = labelForDigit(labels, digit);
    if (!label) continue;
    rows.push(
      el(
        "li",
        {
          "data-label-id": label.id,
          title: `Assign “${label.name}” instead (${digit})`,
          onclick: () => correct(label),
        },
        el("kbd", { text: String(digit) }),
        el("span", { class: "swatch", style: { background: label.color } }),
        el("span", { class: "label-name", text: label.name }),
      ),
    );
  }
  $("#review-labels").replaceChildren(...rows);
}

async function renderEmpty() {
  const empty = $("#review-empty");
  empty.hidden = queue.total > 0;
  if (!empty.hidden) {
    const project = await refreshHeader();
    const labelled = project.labelled_count;
    const filtered = queue.filters.kind ? ` of kind ${queue.filters.kind}` : "";
    empty.textContent = labelled
      ? `No suggestions${filtered} to review. Run propagate to predict labels for the unlabelled segments from the ${labelled} labelled ones.`
      : "No suggestions yet: label some segments (annotator or map), then run propagate.";
    propagate.highlight(labelled > 0 && !queue.filters.kind);
  } else {
    propagate.highlight(false);
  }
}

function render() {
  $("#review-total").textContent = `${queue.total} to review`;
  $("#review-more").hidden = !queue.hasMore();
  renderList();
  renderCurrent();
  renderEmpty().catch((err) =>
    guarded(errorBox, () => {
      throw err;
    }),
  );
}

async function reload() {
  await queue.reload();
  render();
  threshold.refresh();
}

async function afterReview(segmentId, kind = null) {
  queue.drop(segmentId, kind);
  if (queue.hasMore() && queue.items.length - queue.cursor < PREFETCH_MARGIN)
    await queue.loadMore();
  render();
  threshold.refresh();
  await refreshHeader();
}

const accept = () =>
  serial(async () => {
    const item = queue.current();
    if (!item) return;
    await api(`/api/projects/${projectId}/suggestions/accept`, {
      method: "POST",
      json: { segment_ids: [item.segment_id], kind: item.kind },
    });
    await afterReview(item.segment_id);
  });

const reject = () =>
  serial(async () => {
    const item = queue.current();
    if (!item) return;
    await api(`/api/projects/${projectId}/suggestions/reject`, {
      method: "POST",
      json: { segment_ids: [item.segment_id], kind: item.kind },
    });
    await afterReview(item.segment_id, item.kind);
  });

// A correction is an ordinary assign (versioned, audited); the suggestion then hides itself.
const correct = (label) =>
  labelDenied ? setStatus(`Assign another label: ${labelDenied}`) : correctNow(label);

const correctNow = (label) =>
  serial(async () => {
    const item = queue.current();
    if (!item || !label) return;
    await api(`/api/projects/${projectId}/assign`, {
      method: "POST",
      json: { segment_ids: [item.segment_id], label_id: label.id },
    });
    await afterReview(item.segment_id);
  });

let lastAccept = null; // the audit batch of the last bulk accept, for its one-step undo

const acceptAll = (value) =>
  serial(async () => {
    const n = Number($("#review-accept-all").dataset.count ?? 0);
    const question =
      `Give ${n} unlabelled segment(s) their suggested label (confidence ≥ ${value.toFixed(2)})? ` +
      "It is one step in the history: Undo accept (here or on the History page) takes it back.";
    if (!(await confirmAction(question, `Accept ${n}`))) return;
    const json = {
      min_confidence: value,
      ...(queue.filters.kind ? { kind: queue.filters.kind } : {}),
    };
    const { count, batch_ids: batches } = await api(
      `/api/projects/${projectId}/suggestions/accept`,
      { method: "POST", json },
    );
    lastAccept = batches[0] ?? null;
    $("#review-undo-accept").hidden = lastAccept === null;
    setStatus(`${count} suggestions accepted`);
    await reload();
    await refreshHeader();
  });

const undoAccept = () =>
  serial(async () => {
    const { count } = await api(`/api/projects/${projectId}/history/${lastAccept}/undo`, {
      method: "POST",
    });
    lastAccept = null;
    $("#review-undo-accept").hidden = true;
    setStatus(`Accept undone: ${count} segments unlabelled again (Propagate suggests them anew)`);
    await reload();
    await refreshHeader();
  });
$("#review-undo-accept").addEventListener("click", undoAccept);

const threshold = createThreshold({
  range: $("#review-threshold"),
  number: $("#review-threshold-value"),
  button: $("#review-accept-all"),
  count: (value) => queue.countAbove(value),
  onAccept: acceptAll,
});

const propagate = createSuggestLauncher({
  projectId,
  jobs: $("#review-jobs"),
  errorBox,
  onFinished: () => serial(reload),
  launchers: [
    {
      button: $("#review-propagate"),
      kind: "propagate",
      params: () => ({ embed_missing: $("#review-embed-missing").checked }),
    },
    {
      button: $("#review-exemplar"),
      kind: "exemplar",
      params: () => ({
        label_id: Number($("#review-exemplar-label").value),
        max_per_image: Number($("#review-exemplar-count").value),
        min_score: Number($("#review-exemplar-min-score").value),
      }),
    },
  ],
});

function renderExemplarLabels() {
  const options = labels.map((label) =>
    el("option", { value: String(label.id), text: label.name }),
  );
  $("#review-exemplar-label").replaceChildren(...options);
  $("#review-exemplar").disabled = !labels.length;
}

function columns() {
  return getComputedStyle(list).gridTemplateColumns.split(" ").length || 1;
}

function installControls() {
  const ready = () => queue.current() !== null;
  const denied = () => labelDenied;
  const step = (n) => () => {
    queue.move(n);
    render();
  };
  bind(["a", "Enter"], "Accept the suggested label", accept, { when: ready, denied });
  bind(["r", "Backspace"], "Reject the suggestion", reject, { when: ready, denied });
  for (let digit = 1; digit <= 9; digit++) {
    bind(String(digit), "Assign label 1-9 instead", () => correct(labelForDigit(labels, digit)), {
      when: ready,
      hidden: digit > 1,
      denied,
    });
  }
  bind("ArrowRight", "Next suggestion", step(1), { when: ready });
  bind("ArrowLeft", "Previous suggestion", step(-1), { when: ready });
  bind("ArrowDown", "Next row", () => step(columns())(), { when: ready });
  bind("ArrowUp", "Previous row", () => step(-columns())(), { when: ready });
  $("#review-accept").addEventListener("click", accept);
  $("#review-reject").addEventListener("click", reject);
  $("#review-more").addEventListener("click", () =>
    serial(async () => {
      await queue.loadMore();
      render();
    }),
  );
  for (const [id, name] of [
    ["#review-order", "order"],
    ["#review-kind", "kind"],
  ]) {
    $(id).addEventListener("change", (event) =>
      serial(async () => {
        queue.filters[name] = event.target.value;
        queue.moveTo(0);
        await reload();
      }),
    );
  }
}

// Label batches and suggestion changes from anyone (this page's own included) may add or hide
// suggestions: reload, at most once per burst. The header shows who else is here.
function installLive() {
  let pending = null;
  const later = () => {
    clearTimeout(pending);
    pending = setTimeout(() => serial(reload), 250);
  };
  openProjectStream(projectId, {
    onLabels: later,
    onSuggestions: later,
    onPresence: joinProject(projectId),
    onReset: later,
  });
}

async function start() {
  installKeyboard({ onRefused: setStatus });
  installControls();
  const canLabel = await gatePage(projectId, $(".side"));
  labelDenied = canLabel ? null : deniedReason(document.body.dataset.role, "annotator");
  [labels] = await Promise.all([loadLabels(projectId), refreshHeader()]);
  renderCorrections();
  renderExemplarLabels();
  await reload();
  installLive();
  document.body.dataset.reviewReady = "true";
}

// Not awaited inside start: a job it follows reloads the list through serial() when done.
serial(start).then(() => guarded(errorBox, propagate.resume));
