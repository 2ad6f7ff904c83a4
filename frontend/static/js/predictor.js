// /predict calls for one image at a time: the newest prompt wins (older requests are aborted)
// and the chosen mask's handle is sent back as mask_input with the next prompt for refinement.
import { api } from "./api.js";
import { predictBody } from "./prompts.js";

export function createPredictor() {
  let controller = null;
  let answered = []; // the last answer's masks
  let maskInput = null;

  return {
    /** Forget the refinement handle (new image, cleared or undone prompts). */
    reset() {
      controller?.abort();
      controller = null;
      answered = [];
      maskInput = null;
    },
    /**
     * -> {masks: [{rle, bbox, area, score}] best first, mask_input, timing_ms}, or null if
     * superseded. A refining prompt asks for one mask: SAM's single mask, which the server
     * guards against setbacks (app/inference/refinement.py).
     */
    async predict(imageId, prompts, multimask = true) {
      controller?.abort();
      const mine = (controller = new AbortController());
      try {
        const answer = await api(`/api/images/${imageId}/predict`, {
          method: "POST",
          json: predictBody(prompts, maskInput, multimask && maskInput === null),
          signal: mine.signal,
        });
        if (mine !== controller) return null;
        answered = answer.masks;
        maskInput = answer.mask_input ?? null;
        return answer;
      } catch (err) {
        if (err.name === "AbortError") return null;
        throw err;
      }
    },
    /** The next prompt refines the last answer's i-th mask (the candidate the user chose). */
    refineFrom(i) {
      if (answered[i]) maskInput = answered[i].handle;
    },
    /** Ask the server to compute embeddings ahead of time (best effort, never blocks the UI). */
    prefetch(imageIds) {
      for (const id of imageIds)
        api(`/api/images/${id}/prefetch`, { method: "POST" }).catch(() => {});
    },
  };
}
