"""Map frame time: the real map modules drawing N synthetic points in headless Chromium.

Serves frontend/static and a bench page from a throwaway HTTP server, then measures with
performance.now() and requestAnimationFrame: the first draw (upload + frame), a recolour of
every 7th point (what Assign does), a camera redraw (a wheel zoom: above 150k points a
sampled frame, every point once the view rests), and a programmatic lasso, with a brute-force
point-in-polygon over the same points as the peer.

    .venv/bin/python bench/map_render.py --points 200000
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

STATIC = Path(__file__).resolve().parents[1] / "frontend" / "static"
PAGE = """<!doctype html><html><head>
<style>body{margin:0} canvas{width:1000px;height:700px;display:block}</style></head>
<body><canvas id="c"></canvas><script type="module">
import { createScatter } from "/static/js/scatter.js";
window.createScatter = createScatter;
window.benchReady = true;
</script></body></html>"""

MEASURE = """async ([n, repeats]) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const x = new Float32Array(n), y = new Float32Array(n), cat = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 20, a = rand() * 6.283, r = Math.sqrt(rand());
    x[i] = (c % 5) * 3 + Math.cos(a) * r; y[i] = Math.floor(c / 5) * 3 + Math.sin(a) * r; cat[i] = c % 5;
  }
  const colors = ["#8a8f98", "#e15759", "#4e79a7", "#59a14f", "#f28e2b"];
  let selected = [];
  const canvas = document.getElementById("c");
  const scatter = window.createScatter(canvas, { onSelect: (s) => { selected = s; }, onHover: () => {} });
  const out = {};
  let t = performance.now();
  await scatter.draw(x, y, cat, colors, [-1, -1, 13, 10]);
  await frame();
  await frame();
  out.first_draw = performance.now() - t;
  const recolor = [], camera = [], lasso = [], brute = [];
  const poly = [[-1, -1], [4, -1], [4, 4], [-1, 4]];
  for (let k = 0; k < repeats; k++) {
    await new Promise((r) => setTimeout(r, 400)); // the full frame after a view change
    await frame();
    for (let i = 0; i < n; i += 7) cat[i] = (cat[i] + 1) % 5;
    t = performance.now(); await scatter.recolor(cat, [], null); await frame(); recolor.push(performance.now() - t);
    t = performance.now(); canvas.dispatchEvent(new WheelEvent("wheel", { deltaY: k % 2 ? 120 : -120, clientX: 500, clientY: 350, cancelable: true })); await frame(); camera.push(performance.now() - t);
    t = performance.now(); scatter.lasso(poly); lasso.push(performance.now() - t);
    t = performance.now();
    let hits = 0;
    for (let i = 0; i < n; i++) {
      let inside = false;
      for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
        const [xa, ya] = poly[a], [xb, yb] = poly[b];
        if ((ya > y[i]) !== (yb > y[i]) && x[i] < ((xb - xa) * (y[i] - ya)) / (yb - ya) + xa) inside = !inside;
      }
      if (inside) hits++;
    }
    brute.push(performance.now() - t);
    out.lasso_matches_brute_force = selected.length === hits;
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { ...out, recolor: median(recolor), camera_redraw: median(camera), lasso: median(lasso), brute_force: median(brute) };
}"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/":
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.path = self.path.removeprefix("/static")
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chromium", default=str(CHROMIUM))
    args = parser.parse_args()
    handler = functools.partial(_Handler, directory=str(STATIC))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.wait_for_function("window.benchReady === true")
            result = page.evaluate(MEASURE, [args.points, args.repeats])
            browser.close()
    finally:
        server.shutdown()
    print(
        f"map render, {args.points:,} points, headless Chromium (SwiftShader), median of {args.repeats}"
    )
    print(f"{'step':<28}{'ms':>10}")
    for key in ("first_draw", "recolor", "camera_redraw", "lasso", "brute_force"):
        print(f"{key:<28}{result[key]:>10.1f}")
    ratio = result["lasso"] / max(result["brute_force"], 1e-9)
    print(
        f"lasso time / brute-force JS time: {ratio:.2f}; same count: {result['lasso_matches_brute_force']}"
    )


if __name__ == "__main__":
    main()
