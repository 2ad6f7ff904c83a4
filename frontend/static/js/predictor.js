// /predict calls for one image at a time: the newest prompt wins (older requests are aborted)
// and each answer's mask_input handle is sent back with the next prompt for refinement.
import { api } from "./api.js";
import { predictBody } from "./prompts.js";

export function createPredictor() {
  let controller = null;
  let maskInput = null;

  return {
    /** Forget the refinement handle (new image, cleared or undone prompts). */
    reset() {
      controller?.abort();
      controller = null;
      maskInput = null;
    },
    /** -> {masks: [{rle, bbox, area, score}] best first, mask_input, timing_ms}, or null if superseded. */
    async predict(imageId, prompts, multimask = true) {
      controller?.abort();
      const mine = (controller = new AbortController());
      try {
        const answer = await api(`/api/images/${imageId}/predict`, {
          method: "POST",
          json: predictBody(prompts, maskInput, multimask),
          signal: mine.signal,
        });
        if (mine !== controller) return null;
        maskInput = answer.mask_input ?? null;
        return answer;
      } catch (err) {
        if (err.name === "AbortError") return null;
        throw err;
      }
    },
    /** Ask the server to compute embeddings ahead of time (best effort, never blocks the UI). */
    prefetch(imageIds) {
      for (const id of imageIds)
        api(`/api/images/${id}/prefetch`, { method: "POST" }).catch(() => {});
    },
  };
}
