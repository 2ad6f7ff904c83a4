// SAM's 256x256 low-res logits -> a full-size mask: painted on the GPU where the browser has
// a hardware WebGL2 (mask-upscale-gl.js), else in plain JavaScript as below.
// Same arithmetic as the server (app/inference/sam.py _upscale): bilinear (half-pixel centres)
// to the 1024 padded square, crop to the input size, bilinear to the original size, logit > 0.
// Both resizes are separable and linear, so each output column (row) is a fixed blend of at
// most 4 low-res columns (rows): two passes of 4 taps, ~1.5M multiply-adds for 512x512.
// (The WebGL shader evaluating the same 16 taps per pixel took ~35 ms per paint under
// SwiftShader, the CPU GL of GPU-less machines; this takes a few ms anywhere.)
import { createGlPainter } from "./mask-upscale-gl.js";

const LOW = 256,
  PADDED = 1024;

/**
 * One axis: output pixel n of `size` (original px) -> 4 (low-res index, weight) taps.
 * input: the resized image's extent along this axis in the padded frame.
 */
function axisTaps(size, input) {
  const index = new Int32Array(size * 4),
    weight = new Float32Array(size * 4);
  const padded = (p) => {
    // padded px p -> [k, g]: low-res cell and its right neighbour's share
    const q = Math.max((p + 0.5) * (LOW / PADDED) - 0.5, 0),
      k = Math.floor(q);
    return [k, q - k];
  };
  for (let n = 0; n < size; n++) {
    const p = Math.max((n + 0.5) * (input / size) - 0.5, 0),
      i = Math.floor(p),
      f = p - i;
    const [ki, gi] = padded(i),
      [kj, gj] = padded(Math.min(i + 1, input - 1));
    index.set([ki, Math.min(ki + 1, LOW - 1), kj, Math.min(kj + 1, LOW - 1)], 4 * n);
    weight.set([(1 - f) * (1 - gi), (1 - f) * gi, f * (1 - gj), f * gj], 4 * n);
  }
  return { index, weight };
}

/** Float32Array(256*256) logits -> Uint8Array(h*w) with 1 = foreground, row 0 = image top. */
function upscale(logits, columns, rows, h, w) {
  const across = new Float32Array(LOW * w); // every low-res row resampled to w columns
  const { index: ci, weight: cw } = columns;
  for (let r = 0; r < LOW; r++) {
    const src = r * LOW,
      dst = r * w;
    for (let x = 0, t = 0; x < w; x++, t += 4) {
      across[dst + x] =
        cw[t] * logits[src + ci[t]] +
        cw[t + 1] * logits[src + ci[t + 1]] +
        cw[t + 2] * logits[src + ci[t + 2]] +
        cw[t + 3] * logits[src + ci[t + 3]];
    }
  }
  const out = new Uint8Array(h * w);
  const { index: ri, weight: rw } = rows;
  for (let y = 0, t = 0; y < h; y++, t += 4) {
    const a = ri[t] * w,
      b = ri[t + 1] * w,
      c = ri[t + 2] * w,
      d = ri[t + 3] * w;
    const wa = rw[t],
      wb = rw[t + 1],
      wc = rw[t + 2],
      wd = rw[t + 3],
      dst = y * w;
    for (let x = 0; x < w; x++) {
      out[dst + x] =
        wa * across[a + x] + wb * across[b + x] + wc * across[c + x] + wd * across[d + x] > 0
          ? 1
          : 0;
    }
  }
  return out;
}

/**
 * An upscaler: paint(logits, frame, rgba) -> HxW canvas; mask(logits, frame) -> rle.js' mask
 * form; backend: "webgl" or "js" (what paints). `?upscale=webgl|js` in the page URL forces one.
 */
export function createUpscaler() {
  const forced = new URLSearchParams(self.location?.search ?? "").get("upscale");
  const gpu = forced === "js" ? null : createGlPainter({ force: forced === "webgl" });
  const taps = new Map(); // "h,w,ih,iw" -> {rows, columns}: computed once per image geometry

  function bits(logits, { originalSize: [h, w], inputSize: [ih, iw] }) {
    const key = `${h},${w},${ih},${iw}`;
    if (!taps.has(key)) taps.set(key, { rows: axisTaps(h, ih), columns: axisTaps(w, iw) });
    const { rows, columns } = taps.get(key);
    return upscale(logits, columns, rows, h, w);
  }

  return {
    backend: gpu ? "webgl" : "js",
    /** logits: Float32Array(256*256) row-major; frame: {originalSize, inputSize} as [h, w]. -> HxW canvas. */
    paint(logits, frame, rgba) {
      return gpu ? gpu.paint(logits, frame, rgba) : paintBits(bits(logits, frame), frame, rgba);
    },
    /** -> {width, height, data: Uint8Array(h*w) row-major, 1 = foreground} (rle.js' mask form). */
    mask(logits, frame) {
      const [h, w] = frame.originalSize;
      return { width: w, height: h, data: bits(logits, frame) };
    },
  };
}

/** Uint8Array(h*w) mask -> HxW canvas in colour rgba. */
function paintBits(data, { originalSize: [h, w] }, [r, g, b, a]) {
  const image = new ImageData(w, h);
  const pixels = new Uint32Array(image.data.buffer);
  const colour = new Uint32Array(Uint8ClampedArray.of(r, g, b, a).buffer)[0];
  for (let i = 0; i < data.length; i++) if (data[i]) pixels[i] = colour;
  const layer = new OffscreenCanvas(w, h);
  layer.getContext("2d").putImageData(image, 0, 0);
  return layer;
}
