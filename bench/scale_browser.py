"""The map page's interactive steps in real headless Chromium, for bench/scale.py.

Opens the product's own map page from the running server (same Chromium flags as the e2e
tests) and times, with performance.now() in the page: map open (navigation start until the
page marks itself ready: server answer, transfer, parse and first draw call; "painted" two
frames later, once software GL has rasterised it), a lasso of about 10% of the points until
the gallery shows them, an assign from the page (server round trip and repaint), the recolour
alone (the lassoed points relabelled in the page's model, then drawn), and gallery scroll
steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from playwright.sync_api import sync_playwright

from tests.fixtures.chromium import CHROMIUM, CHROMIUM_ARGS

# Records when the page marks the map ready, without polling latency.
READY_PROBE = """
document.addEventListener("DOMContentLoaded", () => {
  new MutationObserver((_, observer) => {
    if (document.body.dataset.mapReady === "true") {
      window.__mapReadyAt = performance.now();
      observer.disconnect();
      // Software GL rasterises after the draw call returns: painted = two frames later.
      requestAnimationFrame(() =>
        requestAnimationFrame(() => (window.__mapPaintedAt = performance.now())));
    }
  }).observe(document.body, { attributes: true, attributeFilter: ["data-map-ready"] });
});
"""

OPEN_TIMES = """() => {
  const entry = performance.getEntriesByType("resource").find((e) => /\\/map(\\?|$)/.test(e.name));
  return { open: window.__mapReadyAt, painted: window.__mapPaintedAt, server: entry.responseStart - entry.requestStart,
           transfer: entry.responseEnd - entry.responseStart, fetched_at: entry.responseEnd,
           bytes: entry.encodedBodySize };
}"""

FRAME = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"

LASSO = f"""async ([poly]) => {{
  const frame = {FRAME};
  const m = window.lassolabelMap;
  const t = performance.now();
  m.lasso(poly);
  while (!m.state.selected.length) await frame();
  await frame();
  return {{ ms: performance.now() - t, selected: m.state.selected.length,
           cells: document.querySelectorAll("#gallery .cell").length }};
}}"""

ASSIGN = f"""async ([labelId]) => {{
  const frame = {FRAME};
  const m = window.lassolabelMap;
  let t = performance.now();
  await m.assign(labelId);
  await frame();
  const assign = performance.now() - t;
  // What an assign's receipt or a live batch does to the page: the selection takes another
  // label in the model, then the map shows it.
  const recolour = [];
  for (let k = 0; k < 3; k++) {{
    m.model.setLabel(m.state.selected, m.model.labels[(k + 1) % m.model.labels.length].id);
    t = performance.now();
    await m.scatter.recolor(m.model.categories, m.state.selected, m.state.filtered);
    await frame();
    recolour.push(performance.now() - t);
  }}
  recolour.sort((a, b) => a - b);
  return {{ assign, recolour: recolour[1], error: document.getElementById("assign-error")?.textContent || "" }};
}}"""

SCROLL = f"""async ([steps]) => {{
  const frame = {FRAME};
  const gallery = document.getElementById("gallery");
  const times = [];
  for (let k = 1; k <= steps; k++) {{
    const t = performance.now();
    gallery.scrollTop = k * 2000;
    await frame();
    times.push(performance.now() - t);
  }}
  times.sort((a, b) => a - b);
  return {{ median: times[Math.floor(times.length / 2)], max: times[times.length - 1] }};
}}"""


@dataclass(frozen=True)
class PageTimes:
    map_open_ms: float
    map_painted_ms: float
    map_server_ms: float
    map_transfer_ms: float
    map_draw_ms: float
    map_bytes: int
    lasso_ms: float
    lasso_points: int
    page_assign_ms: float
    recolour_ms: float
    scroll_ms: float


def ten_percent_band(xy: np.ndarray) -> list[list[float]]:
    """A rectangle (map coordinates) holding about 10% of the points: a vertical band."""
    lo, hi = np.quantile(xy[:, 0], [0.45, 0.55])
    y0, y1 = float(xy[:, 1].min()) - 1, float(xy[:, 1].max()) + 1
    return [[float(lo), y0], [float(hi), y0], [float(hi), y1], [float(lo), y1]]


def measure_page(url: str, project_id: int, xy: np.ndarray, label_id: int) -> PageTimes:
    """Open the map page of `project_id` on the server at `url` and time each step."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.add_init_script(READY_PROBE)
            page.goto(f"{url}/projects/{project_id}/map")
            page.wait_for_function("window.__mapPaintedAt !== undefined", timeout=180_000)
            opened = page.evaluate(OPEN_TIMES)
            lasso = page.evaluate(LASSO, [ten_percent_band(xy)])
            assigned = page.evaluate(ASSIGN, [label_id])
            if assigned["error"]:
                raise RuntimeError(f"assign from the page failed: {assigned['error']}")
            scroll = page.evaluate(SCROLL, [10])
        finally:
            browser.close()
    return PageTimes(
        map_open_ms=opened["open"],
        map_painted_ms=opened["painted"],
        map_server_ms=opened["server"],
        map_transfer_ms=opened["transfer"],
        map_draw_ms=opened["open"] - opened["fetched_at"],
        map_bytes=int(opened["bytes"]),
        lasso_ms=lasso["ms"],
        lasso_points=int(lasso["selected"]),
        page_assign_ms=assigned["assign"],
        recolour_ms=assigned["recolour"],
        scroll_ms=scroll["median"],
    )
