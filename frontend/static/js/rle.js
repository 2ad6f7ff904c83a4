// COCO run-length encoded masks (pycocotools' compact string form), decoded in the browser.
// An RLE is {size: [h, w], counts}; counts alternate runs of 0s and 1s over the mask read
// column by column (Fortran order), starting with 0s. counts is a string or a list of ints.

/** Decode pycocotools' compact counts string into run lengths (port of rleFrString). */
export function decodeCounts(text) {
  const counts = [];
  let p = 0;
  while (p < text.length) {
    let x = 0,
      k = 0,
      more = true;
    while (more) {
      const c = text.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** RLE -> {width, height, data: Uint8Array(h*w) row-major, 1 = foreground}. */
export function decodeRle(rle) {
  const [height, width] = rle.size;
  const runs = typeof rle.counts === "string" ? decodeCounts(rle.counts) : rle.counts;
  const data = new Uint8Array(height * width);
  let index = 0;
  for (let r = 0; r < runs.length; r++) {
    const end = index + runs[r];
    if (r % 2 === 1) {
      for (let i = index; i < end; i++) data[(i % height) * width + Math.floor(i / height)] = 1;
    }
    index = end;
  }
  if (index !== height * width)
    throw new Error(`RLE covers ${index} pixels, expected ${height * width}`);
  return { width, height, data };
}

/** Paint a decoded mask into a new canvas: fill (RGBA) inside, optionally only the outline. */
export function maskCanvas(mask, [r, g, b, a], { outline = false } = {}) {
  const { width, height, data } = mask;
  const canvas = new OffscreenCanvas(width, height);
  const image = new ImageData(width, height);
  const px = image.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!data[i] || (outline && !isEdge(data, x, y, width, height))) continue;
      px[4 * i] = r;
      px[4 * i + 1] = g;
      px[4 * i + 2] = b;
      px[4 * i + 3] = a;
    }
  }
  canvas.getContext("2d").putImageData(image, 0, 0);
  return canvas;
}

function isEdge(data, x, y, width, height) {
  return (
    x === 0 ||
    y === 0 ||
    x === width - 1 ||
    y === height - 1 ||
    !data[y * width + x - 1] ||
    !data[y * width + x + 1] ||
    !data[(y - 1) * width + x] ||
    !data[(y + 1) * width + x]
  );
}

/** Whether canonical pixel (x, y) is inside the mask. */
export function maskContains(mask, x, y) {
  const col = Math.floor(x),
    row = Math.floor(y);
  if (col < 0 || row < 0 || col >= mask.width || row >= mask.height) return false;
  return mask.data[row * mask.width + col] === 1;
}

/** {width, height, data} (row-major, 1 = foreground) -> RLE with counts as a list of runs. */
export function encodeRle({ width, height, data }) {
  const counts = [];
  let value = 0,
    run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      if (data[y * width + x] !== value) {
        counts.push(run);
        value ^= 1;
        run = 0;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}
