// The one door to the HTTP API. Every failure becomes an ApiError carrying the server's message.

export class ApiError extends Error {
  constructor(status, code, message, detail = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

// Turn a non-2xx response into an ApiError using the {"error": {code, message, detail}} shape.
export async function errorFrom(response) {
  const data = await response.json().catch(() => null);
  const info = data?.error ?? {};
  const message = info.message ?? `${response.status} ${response.statusText || "error"}`;
  return new ApiError(response.status, info.code ?? "http_error", message, info.detail ?? null);
}

// With sign-in on, the server sets a readable CSRF cookie that state-changing requests echo.
export function csrfHeaders(method = "POST") {
  if (["GET", "HEAD", "OPTIONS"].includes(method)) return {};
  const match = document.cookie.match(/(?:^|; )lassolabel_csrf=([^;]*)/);
  return match ? { "X-CSRF-Token": decodeURIComponent(match[1]) } : {};
}

// A signed-out user (401) goes to the sign-in page and comes back here afterwards.
function toSignIn() {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/login?next=${next}`);
}

export async function request(path, { method = "GET", json, body, signal } = {}) {
  const init = { method, headers: csrfHeaders(method), signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", `network error: ${err.message}`);
  }
  if (response.status === 401 && !path.startsWith("/api/auth/")) toSignIn();
  if (!response.ok) throw await errorFrom(response);
  return response;
}

// JSON API call; null for 204.
export async function api(path, options = {}) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}
