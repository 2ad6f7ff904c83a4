// A refining click that does not set the mask back: app/inference/refinement.py's rule, on the
// same numbers, so the in-page decoder answers with the server's token.
const LOW = 256 * 256;
export const MARGIN = 0.05;
export const KEEP = 0.3;

/** |a > 0 and b > 0| and |a > 0 or b > 0| of token t of logits (a) and previous (b). */
function overlap(logits, t, previous) {
  let inter = 0,
    union = 0;
  for (let i = 0, j = t * LOW; i < LOW; i++, j++) {
    const a = logits[j] > 0,
      b = previous[i] > 0;
    inter += a && b;
    union += a || b;
  }
  return [inter, union];
}

/**
 * The token (0..3) answering a refining single-mask click. logits: the decode's 4x256x256
 * low-res logits (Float32Array); scores: its 4 predicted IoUs clipped to [0, 1]; previous: the
 * 256x256 logits fed back as mask_input; previousScore: the (clipped) predicted IoU of the
 * answer they came from.
 */
export function refiningToken(
  logits,
  scores,
  previous,
  previousScore,
  margin = MARGIN,
  keep = KEEP,
) {
  if (scores[0] >= previousScore - margin) return 0;
  let area = 0;
  for (let i = 0; i < LOW; i++) area += previous[i] > 0;
  // A single mask that keeps little of the previous one moved to another object: a correction.
  if (area === 0 || overlap(logits, 0, previous)[0] < keep * area) return 0;
  let best = 0,
    bestIou = -1;
  for (let t = 0; t < 4; t++) {
    const [inter, union] = overlap(logits, t, previous);
    const iou = union === 0 ? 1 : inter / union;
    if (iou > bestIou) [best, bestIou] = [t, iou];
  }
  return best;
}
