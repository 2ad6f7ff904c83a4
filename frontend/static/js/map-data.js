// The project map (app/maps/wire.py): a JSON header, then one little-endian column per entry
// of header.columns ("name:dtype"): x, y (float32), segment_id (uint32), label (int32, -1 =
// unlabelled), version (uint32; absent from older servers).
import { request } from "./api.js";

const ARRAY_TYPES = { float32: Float32Array, int32: Int32Array, uint32: Uint32Array };

/** Parse the binary map. Returns {header, x, y, segmentId, label, version?}: one typed array of
 * length N per column the header lists, named in camelCase. */
export function parseMap(buffer) {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  const n = header.count;
  const map = { header };
  let offset = 4 + headerLength;
  // The header is padded to 4 bytes, so the columns are aligned; slice() copies them out.
  for (const column of header.columns) {
    const [name, dtype] = column.split(":");
    const Type = ARRAY_TYPES[dtype];
    if (!Type) throw new Error(`The map has a column of an unknown type: ${column}`);
    map[name.replace(/_(.)/g, (_, c) => c.toUpperCase())] = new Type(
      buffer.slice(offset, offset + Type.BYTES_PER_ELEMENT * n),
    );
    offset += Type.BYTES_PER_ELEMENT * n;
  }
  return map;
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
