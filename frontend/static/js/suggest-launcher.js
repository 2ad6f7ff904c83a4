// The suggesting jobs (propagate, exemplar) from a page other than the project page: start one,
// show its progress (jobs.js), pick up one already running, and tell the page when it is done.
import { api } from "./api.js";
import { guarded } from "./dom.js";
import { isFinished, renderJob, startJob, watchJob } from "./jobs.js";

// Jobs whose results are suggestions.
const SUGGESTING = new Set(["propagate", "exemplar"]);

/** launchers: [{button, kind, params: () => params object}]; one job at a time. */
export function createSuggestLauncher({ projectId, launchers, jobs, errorBox, onFinished }) {
  const buttons = launchers.map((l) => l.button);
  function show(job) {
    const node = renderJob(job);
    const old = jobs.querySelector(`[data-job-id="${job.id}"]`);
    if (old) old.replaceWith(node);
    else jobs.prepend(node);
  }

  async function follow(job) {
    show(job);
    for (const button of buttons) button.disabled = true;
    try {
      if (!isFinished(job)) await watchJob(job.id, show);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
    await onFinished();
  }

  for (const { button, kind, params } of launchers) {
    button.addEventListener("click", () =>
      guarded(errorBox, async () => {
        await follow(await startJob(projectId, kind, params()));
      }),
    );
  }

  return {
    /** Follow a suggesting job that is already queued or running (started elsewhere). */
    async resume() {
      const { items } = await api(`/api/projects/${projectId}/jobs`);
      const running = items.find((job) => SUGGESTING.has(job.kind) && !isFinished(job));
      if (running) await follow(running);
    },
    /** Draw attention to the first launcher (propagate) when there is nothing to review. */
    highlight(on) {
      buttons[0].classList.toggle("ghost", !on);
    },
  };
}
