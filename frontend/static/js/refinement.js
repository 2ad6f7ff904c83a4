// A refining click that does not set the mask back: app/inference/refinement.py's rule, on the
// same numbers, so the in-page decoder answers with the server's token.
const LOW = 256 * 256;
export const MARGIN = 0.05;
export const KEEP = 0.3;
export const DEPTH = 0.5;
export const FAR = 0.8;
export const NEAR = 0.3;

/** IoU of token t of logits (> 0) with previous (> 0); 1 when both are empty. */
function iouWith(logits, t, previous) {
  const [inter, union] = overlap(logits, t, previous);
  return union === 0 ? 1 : inter / union;
}

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
 * answer they came from; candidate: the token (1..3) of the one-click candidate this chain of
 * refinements began with, or null; click: [x, y, positive] of the click just made in low-res
 * pixels (lowResClick), or null, which the candidate's token must honour to answer.
 */
export function refiningToken(
  logits,
  scores,
  previous,
  previousScore,
  candidate = null,
  click = null,
  { margin = MARGIN, keep = KEEP, far = FAR, depth = DEPTH, near = NEAR } = {},
) {
  // A negative click near the mask's edge trims it; deep inside, it says "not this object".
  const negative = Boolean(click) && !click[2];
  const trim = negative && trims(previous, click, depth);
  if (scores[0] < previousScore - margin) {
    let area = 0;
    for (let i = 0; i < LOW; i++) area += previous[i] > 0;
    // A single mask that keeps little of the previous one moved to another object: a correction.
    const kept = overlap(logits, 0, previous)[0] >= keep * area;
    if (area > 0 && (kept || trim)) return closestToken(logits, previous);
  }
  const honoured = [0, 1, 2, 3].map(
    (t) => !click || logits[t * LOW + click[1] * 256 + click[0]] > 0 === click[2],
  );
  if (candidate !== null && !(negative && !trim) && honoured[candidate]) {
    // A single mask that changed much of the previous one may have left the chosen granularity.
    const single = iouWith(logits, 0, previous);
    if (single < far && single < iouWith(logits, candidate, previous)) return candidate;
  }
  if (click?.[2] && honoured[0]) {
    // A positive click whose single mask grows mostly away from it: keep close to the mask.
    const share = addedNearClick(logits, previous, click);
    if (share >= 0 && share < near) return closestToken(logits, previous, honoured);
  }
  return 0;
}

/** The token whose mask has the highest IoU with previous among the allowed; the first of equals. */
function closestToken(logits, previous, allowed = [true, true, true, true]) {
  let best = -1,
    bestIou = -1;
  for (let t = 0; t < 4; t++) {
    const iou = allowed[t] ? iouWith(logits, t, previous) : -1;
    if (iou > bestIou || best < 0) [best, bestIou] = [t, iou];
  }
  return best;
}

/**
 * The share of the pixels the single mask (token 0 of logits) adds to the previous mask that
 * lie in the added pieces (8-connected) the click is in or touches; -1 when it adds none
 * (refinement.py's added_near_click).
 */
export function addedNearClick(logits, previous, [x, y]) {
  const added = new Uint8Array(LOW);
  let total = 0;
  for (let i = 0; i < LOW; i++) {
    added[i] = logits[i] > 0 && !(previous[i] > 0) ? 1 : 0;
    total += added[i];
  }
  if (!total) return -1;
  const stack = [];
  const visit = (px, py) => {
    if (px < 0 || px > 255 || py < 0 || py > 255 || added[py * 256 + px] !== 1) return;
    added[py * 256 + px] = 2;
    stack.push(py * 256 + px);
  };
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) visit(x + dx, y + dy);
  let near = 0;
  while (stack.length) {
    const i = stack.pop(),
      px = i % 256,
      py = (i - px) / 256;
    near++;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) visit(px + dx, py + dy);
  }
  return near / total;
}

/**
 * Whether the low-res click lies inside the previous mask (logits > 0) at less than `depth` of
 * its deepest point's L1 distance to the edge, the grid's border counting as edge: two passes
 * of the exact city-block transform (refinement.py's cv2.DIST_L1).
 */
function trims(previous, [x, y], depth) {
  if (!(previous[y * 256 + x] > 0)) return false;
  const distance = new Int32Array(LOW);
  for (let i = 0; i < LOW; i++) {
    if (!(previous[i] > 0)) continue;
    const up = i >= 256 ? distance[i - 256] : 0,
      left = i % 256 ? distance[i - 1] : 0;
    distance[i] = Math.min(up, left) + 1;
  }
  let deepest = 0;
  for (let i = LOW - 1; i >= 0; i--) {
    if (!distance[i]) continue;
    const down = i < LOW - 256 ? distance[i + 256] : 0,
      right = (i + 1) % 256 ? distance[i + 1] : 0;
    distance[i] = Math.min(distance[i], down + 1, right + 1);
    deepest = Math.max(deepest, distance[i]);
  }
  return distance[y * 256 + x] < depth * deepest;
}

/**
 * [x, y, positive] of point (x, y) in canonical pixels on the 256x256 low-res grid of an image
 * of originalSize [h, w] resized to inputSize [ih, iw] (app/inference/sam.py's _low_res_click).
 */
export function lowResClick([x, y], label, [h, w], [ih, iw]) {
  const lowX = Math.floor((x * (iw / w)) / 4),
    lowY = Math.floor((y * (ih / h)) / 4);
  return [Math.min(lowX, 255), Math.min(lowY, 255), label === 1];
}
