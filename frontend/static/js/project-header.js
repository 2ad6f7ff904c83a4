// The project's name and overall progress (labelled / total segments) in the top bar.
import { api } from "./api.js";

export const projectId = Number(document.body.dataset.projectId);

export function setStatus(text) {
  document.getElementById("status").textContent = text;
}

export async function refreshHeader() {
  const project = await api(`/api/projects/${projectId}`);
  document.getElementById("project-title").textContent = project.name;
  document.getElementById("project-progress").textContent =
    `${project.labelled_count} / ${project.segment_count} labelled`;
  document.title = `${project.name} · lassolabel`;
  showModel();
  return project;
}

// Which model answers clicks and why, e.g. "MobileSAM (vit_t) · official vit_t checkpoint from
// the model cache"; while its weights are fetched, the classic segmenter answers and the
// progress shows (polled until the server switches).
async function showModel() {
  const { segmenter } = await api("/api/health");
  const box = document.getElementById("model-status");
  if (!box || !segmenter) return;
  const text = `${modelName(segmenter)} · ${fetchText(segmenter.fetch) ?? segmenter.why ?? ""}`;
  box.textContent = text;
  box.title = segmenter.available === false ? segmenter.reason : text;
  if (["fetching", "loading"].includes(segmenter.fetch?.state)) setTimeout(showModel, 2000);
}

function modelName(segmenter) {
  if (segmenter.available === false) return "no segmenter";
  if (segmenter.name !== "sam") return `${segmenter.name} segmenter`;
  const arch = segmenter.model_id.split("-")[1];
  return arch === "vit_t" ? "MobileSAM (vit_t)" : `SAM ${arch}`;
}

function fetchText(fetch) {
  if (!fetch || fetch.state === "ready") return null;
  if (fetch.state === "failed") return `fetching the ${fetch.arch} weights failed: ${fetch.error}`;
  if (fetch.state === "loading") return `loading the ${fetch.arch} weights`;
  const total = fetch.total_bytes;
  const share = total ? ` ${Math.floor((100 * fetch.done_bytes) / total)}%` : "";
  return `while the ${fetch.arch} weights download${share}`;
}
