// History page: every audit batch (who, when, what, how many) with undo where it is allowed.
import { allows, authStatus, deniedReason, projectRole } from "./access.js";
import { api } from "./api.js";
import { $, el, guarded } from "./dom.js";
import { installKeyboard } from "./keyboard.js";
import { projectId, refreshHeader, setStatus } from "./project-header.js";

const PAGE = 50;
const WHAT = {
  assign: "assigned a label",
  accept: "accepted suggestions",
  create: "drew a segment",
  delete: "deleted a segment",
  edit: "edited a mask",
  merge: "merged two segments",
  split: "split a segment",
  undo: "undid step",
};
// Mirrors app/history/undo.py: mask batches logged before the history kept masks (their
// masks_kept is false) are refused; said before the click.
const BEFORE = "recorded before the history kept masks:";
const NOT_UNDOABLE = {
  create: `${BEFORE} delete the segment instead`,
  delete: `${BEFORE} a deleted segment cannot be restored`,
  edit: `${BEFORE} undo the mask edit in the annotator (Ctrl+Z)`,
  merge: `${BEFORE} undo the merge in the annotator (Ctrl+Z)`,
  split: `${BEFORE} undo the split in the annotator (Ctrl+Z)`,
};
const errorBox = $("#history-error");
let me = null;
let role = "viewer";
let oldest = null;

function undoRefusal(batch) {
  if (batch.undone_by !== null) return `undone by step #${batch.undone_by}`;
  if (NOT_UNDOABLE[batch.kind] && !batch.masks_kept) return NOT_UNDOABLE[batch.kind];
  if (!allows(role, "annotator")) return deniedReason(role, "annotator");
  const own = batch.user_id === me.id;
  if (role !== "admin" && !own) return "only its author or an admin can undo it";
  return null;
}

function row(batch) {
  const refusal = undoRefusal(batch);
  const what = WHAT[batch.kind] ?? batch.kind;
  const undo = el("button", {
    type: "button",
    class: "ghost",
    text: "Undo",
    disabled: refusal !== null,
    title:
      refusal ??
      (batch.masks_kept
        ? `Put back the masks and segments of these ${batch.segment_count} segment(s)`
        : `Put back the labels of these ${batch.segment_count} segment(s)`),
    onclick: () => undoBatch(batch),
  });
  return el(
    "tr",
    { "data-batch-id": batch.id, "data-kind": batch.kind },
    el("td", { text: new Date(batch.created_at).toLocaleString() }),
    el("td", { text: batch.username }),
    el("td", { text: batch.undo_of ? `${what} #${batch.undo_of}` : what }),
    el("td", { class: "count", text: String(batch.segment_count) }),
    el("td", {}, undo, refusal ? el("span", { class: "denied-note", text: ` ${refusal}` }) : null),
  );
}

async function load({ more = false } = {}) {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (more && oldest !== null) params.set("before", String(oldest));
  const { items } = await api(`/api/projects/${projectId}/history?${params}`);
  const rows = items.map(row);
  if (more) $("#batches").append(...rows);
  else $("#batches").replaceChildren(...rows);
  if (items.length) oldest = items[items.length - 1].id;
  $("#history-more").hidden = items.length < PAGE;
}

function undoBatch(batch) {
  return guarded(errorBox, async () => {
    const { count } = await api(`/api/projects/${projectId}/history/${batch.id}/undo`, {
      method: "POST",
    });
    const what = batch.masks_kept ? "are back as they were" : "have their previous label";
    setStatus(`Step #${batch.id} undone: ${count} segment(s) ${what}`);
    await Promise.all([load(), refreshHeader()]);
  });
}

async function start() {
  const [status, myRole] = await Promise.all([authStatus(), projectRole(projectId)]);
  me = status.user;
  role = myRole;
  await Promise.all([load(), refreshHeader()]);
  document.body.dataset.historyReady = "true";
}

$("#history-more").addEventListener("click", () => guarded(errorBox, () => load({ more: true })));
installKeyboard();
guarded(errorBox, start);
