// predictor.js' interface over the in-page decoder: same calls, answers without a network
// round trip. Masks carry low-res logits (painted on the GPU by mask-upscale.js) instead of RLE;
// the newest prompt wins and the best mask's logits refine the next prompt.

export function createLocalPredictor(local) {
  let generation = 0;
  let maskInput = null;

  return {
    local,
    reset() {
      generation++;
      maskInput = null;
    },
    /** -> {masks: [{logits, frame, score}] best first, timing_ms}, or null if superseded. */
    async predict(imageId, prompts, multimask = true) {
      const mine = ++generation;
      const started = performance.now();
      const { masks, frame } = await local.decode(imageId, prompts, { maskInput, multimask });
      if (mine !== generation) return null;
      maskInput = masks[0].logits;
      const decode = performance.now() - started;
      return { masks: masks.map((m) => ({ ...m, frame })), timing_ms: { decode }, local: true };
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
