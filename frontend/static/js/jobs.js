// Background jobs: start, watch until finished, render with a live progress bar.
import { api } from "./api.js";
import { el, meter } from "./dom.js";

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 400;

export const isFinished = (job) => FINISHED.has(job.state);

export async function startJob(projectId, kind, params = {}) {
  const { id } = await api(`/api/projects/${projectId}/jobs`, {
    method: "POST",
    json: { kind, params },
  });
  return api(`/api/jobs/${id}`);
}

/** Call onUpdate(job) on every change until the job finishes; resolves with the final job. */
export async function watchJob(jobId, onUpdate) {
  let last = "";
  for (;;) {
    const job = await api(`/api/jobs/${jobId}`);
    const key = `${job.state}:${job.done}:${job.total}:${Math.round(job.duration_seconds ?? 0)}`;
    if (key !== last) onUpdate(job);
    last = key;
    if (isFinished(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function formatSeconds(seconds) {
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
}

export function renderJob(job, { onCancel } = {}) {
  const parts = [
    el("span", { class: "job-kind", text: job.kind }),
    meter(job.done, job.total),
    el("span", { class: `job-state state-${job.state}`, text: job.state }),
  ];
  if (job.duration_seconds != null) {
    const verb = isFinished(job) ? "took" : "running for";
    parts.push(
      el("span", {
        class: "muted job-duration",
        text: `${verb} ${formatSeconds(job.duration_seconds)}`,
      }),
    );
  }
  if (!isFinished(job) && job.eta_seconds != null) {
    parts.push(
      el("span", { class: "muted job-eta", text: `ETA ${formatSeconds(job.eta_seconds)}` }),
    );
  }
  if (job.failed_items)
    parts.push(el("span", { class: "error", text: `${job.failed_items} failed` }));
  if (job.error) parts.push(el("span", { class: "error", text: job.error }));
  if (!isFinished(job) && onCancel) {
    parts.push(
      el("button", {
        type: "button",
        class: "ghost",
        text: "Cancel",
        onclick: () => onCancel(job),
      }),
    );
  }
  return el("li", { "data-job-id": job.id, "data-state": job.state }, ...parts);
}
