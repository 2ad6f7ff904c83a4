// Project page: import, jobs, labels, images. Every action reports errors next to itself.
import { api } from "./api.js";
import { $, guarded } from "./dom.js";
import { isFinished, renderJob, startJob, watchJob } from "./jobs.js";
import { gate, projectRole } from "./access.js";
import { installKeyboard } from "./keyboard.js";
import { loadLabels } from "./labels.js";
import { createLabelsEditor } from "./labels-editor.js";
import { labelCounts } from "./label-counts.js";
import { installExport, installImport } from "./project-exchange.js";
import { createImageGrid } from "./project-images.js";
import { projectId, refreshHeader } from "./project-header.js";
import { installUpload } from "./upload.js";

const jobList = $("#jobs");

async function refreshStats() {
  const project = await refreshHeader();
  $("#project-name").textContent = project.name;
  $("#project-stats").textContent =
    `${project.image_count} images · ${project.segment_count} segments · ${project.labelled_count} labelled`;
}

const images = createImageGrid(projectId);
const refreshImages = () => images.refresh();
images.search.addEventListener("input", () => guarded($("#images-error"), refreshImages));
images.progress.addEventListener("change", () => guarded($("#images-error"), refreshImages));

const labelsEditor = createLabelsEditor({
  projectId,
  tbody: $("#labels"),
  form: $("#create-label"),
  errorBox: $("#label-error"),
  onChange: () => refreshLabels(),
});

async function refreshLabels() {
  const [labels, counts] = await Promise.all([loadLabels(projectId), labelCounts(projectId)]);
  labelsEditor.render(labels, counts);
}

function showJob(job) {
  const node = renderJob(job, {
    onCancel: (j) =>
      guarded($("#job-error"), () => api(`/api/jobs/${j.id}/cancel`, { method: "POST" })),
  });
  const old = jobList.querySelector(`[data-job-id="${job.id}"]`);
  if (old) old.replaceWith(node);
  else jobList.prepend(node);
}

async function follow(job) {
  showJob(job);
  if (isFinished(job)) return;
  await watchJob(job.id, showJob);
  await Promise.all([refreshStats(), refreshImages(), refreshLabels()]);
}

async function refreshJobs() {
  const { items } = await api(`/api/projects/${projectId}/jobs`);
  for (const job of items.slice(0, 10).reverse())
    follow(job).catch((err) =>
      guarded($("#job-error"), () => {
        throw err;
      }),
    );
}

// Only what the user set travels: each segmenter keeps its own defaults otherwise.
const SEGMENT_INPUTS = {
  points_per_side: "#points-per-side",
  pred_iou_thresh: "#pred-iou-thresh",
  stability_score_thresh: "#stability-thresh",
};

function jobParams(kind) {
  if (kind !== "segment") return {};
  const params = {};
  for (const [name, selector] of Object.entries(SEGMENT_INPUTS)) {
    const raw = $(selector).value.trim();
    if (raw !== "") params[name] = Number(raw);
  }
  return params;
}

for (const button of document.querySelectorAll("#job-buttons [data-job]")) {
  button.addEventListener("click", () =>
    guarded($("#job-error"), async () => {
      const kind = button.dataset.job;
      await follow(await startJob(projectId, kind, jobParams(kind)));
    }),
  );
}

const upload = installUpload({
  projectId,
  dropzone: $("#dropzone"),
  input: $("#file-input"),
  progressList: $("#upload-progress"),
  errorList: $("#upload-errors"),
  onDone: () => Promise.all([refreshImages(), refreshStats()]),
});

$("#folder-import").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded($("#folder-error"), async () => {
    const result = await api(`/api/projects/${projectId}/images/import-folder`, {
      method: "POST",
      json: { path: event.target.path.value },
    });
    for (const e of result.report?.errors ?? []) upload.reportError(e.filename, e.error);
    if (result.job_id) await follow(await api(`/api/jobs/${result.job_id}`));
    await Promise.all([refreshImages(), refreshStats()]);
  });
});

installExport(projectId);
installImport(projectId, () => Promise.all([refreshStats(), refreshLabels(), refreshImages()]));

/** Controls your role may not use are disabled, with the reason as their tooltip. */
async function gateByRole() {
  const role = await projectRole(projectId);
  const adminOnly = [
    "#dropzone",
    "#folder-import",
    "#job-buttons",
    "#create-label",
    "#labels",
    "#import-form",
  ];
  gate(
    adminOnly.map((s) => $(s)),
    role,
    "admin",
  );
  document.body.dataset.role = role;
}

installKeyboard();
guarded($("#images-error"), () =>
  Promise.all([refreshStats(), refreshLabels(), refreshImages(), refreshJobs(), gateByRole()]),
);
