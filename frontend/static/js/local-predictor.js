// predictor.js' interface over the in-page decoder: same calls, answers without a network
// round trip. Masks carry low-res logits (painted on the GPU by mask-upscale.js) instead of RLE;
// the newest prompt wins and the chosen mask's logits refine the next prompt. Candidates come
// in /predict's order (candidate-picks.js), and the one-click candidate a saved mask came from
// is reported with the save, so the project learns the picks made here too.

export function createLocalPredictor(local, picks) {
  let generation = 0;
  let answered = []; // the last answer's masks
  let refining = null; // {logits, score, candidate} of the mask the next prompt refines
  let offer = null; // {masks, chosen}: the one-click candidates this chain of prompts began with

  return {
    local,
    reset() {
      generation++;
      answered = [];
      refining = null;
      offer = null;
    },
    /**
     * -> {masks: [{logits, frame, score, token}] best first, timing_ms}, or null if superseded.
     * A refining prompt asks for one mask, as predictor.js does.
     */
    async predict(imageId, prompts, multimask = true) {
      const mine = ++generation;
      const started = performance.now();
      const decoded = await local.decode(imageId, prompts, {
        maskInput: refining?.logits ?? null,
        multimask: multimask && refining === null,
        previousScore: refining?.score ?? null,
        candidate: refining?.candidate ?? null,
      });
      if (mine !== generation) return null;
      // The candidate token refinements keep to, as /predict's handles carry it (_chain).
      const chain = (m) =>
        decoded.masks.length > 1 && m.token > 0 ? m.token : (refining?.candidate ?? null);
      const masks = picks.order(decoded.masks).map((m) => ({ ...m, candidate: chain(m) }));
      // What /predict remembers as an offer: candidates for points alone, nothing refined.
      if (masks.length > 1 && !prompts.box && refining === null) offer = { masks, chosen: 0 };
      answered = masks;
      refining = masks[0];
      const decode = performance.now() - started;
      const frame = decoded.frame;
      return { masks: masks.map((m) => ({ ...m, frame })), timing_ms: { decode }, local: true };
    },
    /** The next prompt refines the last answer's i-th mask (the candidate the user chose). */
    refineFrom(i) {
      if (!answered[i]) return;
      refining = answered[i];
      if (offer?.masks === answered) offer.chosen = i;
    },
    /** The token of the one-click candidate the shown mask began as, or null (none offered). */
    pickedToken() {
      return offer ? offer.masks[offer.chosen].token : null;
    },
    /** One prompt's best mask without touching the refinement chain (hover previews). */
    async preview(imageId, prompts) {
      const { masks, frame } = await local.decode(imageId, prompts, {
        maskInput: null,
        multimask: true,
      });
      return { ...picks.order(masks)[0], frame };
    },
    prefetch(imageIds) {
      local.prefetch(imageIds);
    },
  };
}
