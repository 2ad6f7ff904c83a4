// The project map (app/maps/wire.py): a JSON header, then little-endian columns
// float32 x[N], float32 y[N], uint32 segment_id[N], int32 label[N] (-1 = unlabelled).
import { request } from "./api.js";

/** Parse the binary map. Returns {header, x, y, segmentId, label} (typed arrays of length N). */
export function parseMap(buffer) {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  const n = header.count;
  let offset = 4 + headerLength;
  const column = (Type) => {
    const array = new Type(buffer.slice(offset, offset + 4 * n));
    offset += 4 * n;
    return array;
  };
  // The header is padded to 4 bytes, so the columns are aligned; slice() copies them out.
  return { header, x: column(Float32Array), y: column(Float32Array), segmentId: column(Uint32Array), label: column(Int32Array) };
}

export async function fetchMap(projectId) {
  const response = await request(`/api/projects/${projectId}/map`);
  return parseMap(await response.arrayBuffer());
}

/** Segments per label id among the map's points: {total, unlabelled, byLabel: Map(id -> n)}. */
export function countLabels(map) {
  const perIndex = new Array(map.header.labels.length).fill(0);
  let unlabelled = 0;
  for (const index of map.label) {
    if (index < 0) unlabelled++;
    else perIndex[index]++;
  }
  const byLabel = new Map(map.header.labels.map((label, i) => [label.id, perIndex[i]]));
  return { total: map.label.length, unlabelled, byLabel };
}
