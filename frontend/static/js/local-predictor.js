// predictor.js' interface over the in-page decoder: same calls, answers without a network
// round trip. Masks carry low-res logits (painted on the GPU by mask-upscale.js) instead of RLE;
// the newest prompt wins and the chosen mask's logits refine the next prompt.

export function createLocalPredictor(local) {
  let generation = 0;
  let answered = []; // the last answer's masks
  let refined = false; // whether the last answer refined a mask (its scores then compare)
  let refining = null; // {logits, score} of the mask the next prompt refines

  return {
    local,
    reset() {
      generation++;
      answered = [];
      refined = false;
      refining = null;
    },
    /**
     * -> {masks: [{logits, frame, score}] best first, timing_ms}, or null if superseded.
     * A refining prompt asks for one mask, as predictor.js does.
     */
    async predict(imageId, prompts, multimask = true) {
      const mine = ++generation;
      const started = performance.now();
      // Only a refined mask's score compares with a single mask's (app/api/routes/inference.py).
      const { masks, frame } = await local.decode(imageId, prompts, {
        maskInput: refining?.logits ?? null,
        multimask: multimask && refining === null,
        previousScore: refined ? refining.score : null,
      });
      if (mine !== generation) return null;
      refined = refining !== null;
      answered = masks;
      refining = masks[0];
      const decode = performance.now() - started;
      return { masks: masks.map((m) => ({ ...m, frame })), timing_ms: { decode }, local: true };
    },
    /** The next prompt refines the last answer's i-th mask (the candidate the user chose). */
    refineFrom(i) {
      if (answered[i]) refining = answered[i];
    },
    /** One prompt's best mask without touching the refinement chain (hover previews). */
    async preview(imageId, prompts) {
      const { masks, frame } = await local.decode(imageId, prompts, {
        maskInput: null,
        multimask: true,
      });
      return { ...masks[0], frame };
    },
    prefetch(imageIds) {
      local.prefetch(imageIds);
    },
  };
}
