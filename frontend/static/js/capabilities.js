// Which optional endpoints this server has, read once from its OpenAPI schema (no 404 probes).
let routes = null;

async function load() {
  const response = await fetch("/openapi.json");
  const schema = response.ok ? await response.json() : { paths: {} };
  return new Map(
    Object.entries(schema.paths).map(([path, ops]) => [path, new Set(Object.keys(ops))]),
  );
}

/** has("post", "/api/images/{image_id}/predict") -> true when the server serves it. */
export async function has(method, path) {
  routes ??= load();
  return (await routes).get(path)?.has(method.toLowerCase()) ?? false;
}
