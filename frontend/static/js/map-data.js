// The project map (app/maps/wire.py): a JSON header, then one little-endian column per entry
// of header.columns ("name:dtype"): x, y (float32), segment_id (uint32), label (int32, -1 =
// unlabelled), version (uint32), area (uint32 pixels), source (uint8, indexes header.sources).
import { request } from "./api.js";

const ARRAY_TYPES = {
  float32: Float32Array,
  int32: Int32Array,
  uint32: Uint32Array,
  uint8: Uint8Array,
};

/** Parse the binary map. Returns {header, x, y, segmentId, label, version, ...}: one typed array of
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
