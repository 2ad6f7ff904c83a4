// A big label batch's changes, read when its live event leaves them out (app/live/stream.py
// sends only the count above live_inline_changes). GET .../history/{id}/columns answers the
// audit block (app/history/block.py): one version byte, then zlib of a (4, K) little-endian
// int64 table by segment id: [segment id differences, old label, new label (0 = none), new
// version]. A 1M-segment assign is a few hundred kB on the wire instead of ~20 MB of JSON.
import { request } from "./api.js";

const FORMAT = 1;
const ROWS = 4;
const HIGH = 2 ** 32;

/** {segmentIds, labels, versions}: Float64Array(K) each, by segment id ascending; label 0 is
 * none. */
export async function fetchBatchColumns(projectId, batchId) {
  const response = await request(`/api/projects/${projectId}/history/${batchId}/columns`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes[0] !== FORMAT) throw new Error(`batch ${batchId} came in an unknown format`);
  const inflate = new DecompressionStream("deflate"); // "deflate" is the zlib format
  const table = await new Response(
    new Blob([bytes.subarray(1)]).stream().pipeThrough(inflate),
  ).arrayBuffer();
  // Every value is >= 0 and < 2^53: (low, high) uint32 words, little-endian like every
  // browser's host.
  const words = new Uint32Array(table);
  const k = words.length / (2 * ROWS);
  const row = (r) => {
    const out = new Float64Array(k);
    for (let i = 0, j = 2 * r * k; i < k; i++, j += 2) out[i] = words[j] + words[j + 1] * HIGH;
    return out;
  };
  const segmentIds = row(0);
  for (let i = 1; i < k; i++) segmentIds[i] += segmentIds[i - 1];
  return { segmentIds, labels: row(2), versions: row(3) };
}
