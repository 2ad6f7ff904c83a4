// The propagate job from a page other than the project page: start it, show its progress
// (jobs.js), pick up one already running, and tell the page when it is done.
import { api } from "./api.js";
import { guarded } from "./dom.js";
import { isFinished, renderJob, startJob, watchJob } from "./jobs.js";

// Jobs whose results are suggestions.
const SUGGESTING = new Set(["propagate", "exemplar"]);

export function createPropagateLauncher({ projectId, button, embedMissing, jobs, errorBox, onFinished }) {
  function show(job) {
    const node = renderJob(job);
    const old = jobs.querySelector(`[data-job-id="${job.id}"]`);
    if (old) old.replaceWith(node);
    else jobs.prepend(node);
  }

  async function follow(job) {
    show(job);
    button.disabled = true;
    try {
      if (!isFinished(job)) await watchJob(job.id, show);
    } finally {
      button.disabled = false;
    }
    await onFinished();
  }

  button.addEventListener("click", () => guarded(errorBox, async () => {
    await follow(await startJob(projectId, "propagate", { embed_missing: embedMissing.checked }));
  }));

  return {
    /** Follow a suggesting job that is already queued or running (started elsewhere). */
    async resume() {
      const { items } = await api(`/api/projects/${projectId}/jobs`);
      const running = items.find((job) => SUGGESTING.has(job.kind) && !isFinished(job));
      if (running) await follow(running);
    },
    highlight(on) { button.classList.toggle("ghost", !on); },
  };
}
