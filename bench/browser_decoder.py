"""Click latency of SAM's decoder in the page (onnxruntime-web) vs native onnxruntime vs /predict.

Real vit_b architecture with random weights (speed only), served by a real uvicorn; Debian's
Chromium (headless, via Playwright) opens the annotator, which loads the decoder from the app.
In-page time per click: performance.now around the onnxruntime call plus painting the best mask
at image size (mask-upscale.js). The same clicks go through native onnxruntime on the same
.onnx file (2 threads) and through /predict from the same page (fetch + RLE decode + paint).

    .venv/bin/python bench/browser_decoder.py --clicks 120
    .venv/bin/python bench/browser_decoder.py --threads-web 2   # the page's ?threads=2
    .venv/bin/python bench/browser_decoder.py --no-split   # every click on the full graph

Clicks carry no mask input, so the page runs the prompt graph (split_decoder.py) on the image
graph's outputs, computed once per image (during the warm-up clicks); native onnxruntime runs
both the full graph and the prompt graph.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from skimage import data

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.inference.decoder_files import DECODER_GRAPH, graph_path  # noqa: E402
from app.inference.split_decoder import IMAGE_OUTPUTS  # noqa: E402
from bench.interactive import (  # noqa: E402
    import_photo,
    random_clicks,
    random_vit_b,
    start_server,
    wait_ready,
)
from tests.fixtures.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

IN_PAGE = """async ([imageId, clicks]) => {
  const { predictor, upscaler } = window.lassolabelAnnotator;
  const times = [], decodeOnly = [];
  for (const [x, y] of clicks) {
    const t0 = performance.now();
    const { masks, frame } = await predictor.local.decode(imageId, { points: [[x, y]], labels: [1], box: null });
    decodeOnly.push(performance.now() - t0);
    upscaler.paint(masks[0].logits, frame, [255, 0, 0, 255]);
    times.push(performance.now() - t0);
  }
  return [times, decodeOnly];
}"""

VIA_SERVER = """async ([imageId, clicks]) => {
  const { decodeRle, maskCanvas } = await import("/static/js/rle.js");
  const times = [];
  for (const [x, y] of clicks) {
    const t0 = performance.now();
    const answer = await (await fetch(`/api/images/${imageId}/predict`, { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ points: [[x, y]], point_labels: [1], multimask: true }) })).json();
    maskCanvas(decodeRle(answer.masks[0].rle), [255, 0, 0, 255]);
    times.push(performance.now() - t0);
  }
  return times;
}"""


def main() -> None:
    args = parse_args()
    workdir = Path(args.workdir)
    image = data.astronaut()
    checkpoint = random_vit_b(workdir)
    clicks = random_clicks(image.shape[:2], args.clicks)
    server = start_server(args, checkpoint, workdir / f"data-browser-{time.time_ns()}")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=600) as client:
            wait_ready(client)
            image_id = import_photo(client, image)
            project_id = client.get(f"/api/images/{image_id}").json()["project_id"]
            client.post(f"/api/images/{image_id}/predict", json=_click(clicks[0]))
            native = native_times(client, workdir, image_id, clicks, args.threads)
            browser = browser_times(args, project_id, image_id, clicks)
    finally:
        server.terminate()
        server.wait(30)
    report(args, native, browser)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=120)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--threads-web", type=int, default=0, help="onnxruntime-web threads (0: the page's choice)"
    )
    parser.add_argument(
        "--no-split", action="store_true", help="the page uses the full graph for every click"
    )
    parser.add_argument("--hover-seconds", type=float, default=3.0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "lassolabel-bench"))
    return parser.parse_args()


def _click(point: np.ndarray) -> dict:
    return {"points": [[float(point[0]), float(point[1])]], "point_labels": [1]}


def native_times(
    client: httpx.Client, workdir: Path, image_id: int, clicks: np.ndarray, threads: int
) -> dict[str, list[float]]:
    """The server's own embedding through native onnxruntime on the page's .onnx files:
    -> {"full": ms per click on the full graph, "prompt": ms per click on the prompt graph}."""
    answer = client.get(f"/api/images/{image_id}/embedding")
    shape = [int(n) for n in answer.headers["X-Embedding-Shape"].split(",")]
    features = np.frombuffer(answer.content, "<f2").reshape(shape).astype(np.float32)
    h, w = (int(n) for n in answer.headers["X-Original-Size"].split(","))
    ih, iw = (int(n) for n in answer.headers["X-Input-Size"].split(","))
    full = workdir / "models" / "onnx" / f"{answer.headers['X-Model-Id']}.{DECODER_GRAPH}.onnx"
    full_session, image_session, prompt_session = (
        _native_session(graph_path(full, part), threads) for part in ("full", "image", "prompt")
    )
    outputs = image_session.run(IMAGE_OUTPUTS, {"image_embeddings": features})
    projected = dict(zip(IMAGE_OUTPUTS, outputs, strict=True))
    no_mask = {
        "mask_input": np.zeros((1, 1, 256, 256), np.float32),
        "has_mask_input": np.zeros(1, np.float32),
    }
    times: dict[str, list[float]] = {"full": [], "prompt": []}
    for x, y in clicks:
        points = {
            "image_embeddings": features,
            "point_coords": np.array([[[x * iw / w, y * ih / h], [0, 0]]], np.float32),
            "point_labels": np.array([[1, -1]], np.float32),
        }
        for name, session, extra in (
            ("full", full_session, no_mask),
            ("prompt", prompt_session, projected),
        ):
            started = time.perf_counter()
            session.run(None, points | extra)
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def _native_session(path: Path, threads: int):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def browser_times(args, project_id: int, image_id: int, clicks: np.ndarray) -> dict:
    from playwright.sync_api import sync_playwright

    points = clicks.tolist()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(base_url=f"http://127.0.0.1:{args.port}")
        page.set_default_timeout(600_000)
        threads = f"&threads={args.threads_web}" if args.threads_web else ""
        threads += "&split=0" if args.no_split else ""
        page.goto(f"/projects/{project_id}/annotate?image={image_id}&decoder=local{threads}")
        page.wait_for_function("document.body.dataset.decoder && window.lassolabelAnnotator")
        if page.evaluate("document.body.dataset.decoder") != "local":
            raise SystemExit("the page did not load the local decoder")
        threads = page.evaluate("window.lassolabelAnnotator.predictor.local.threads")
        split = page.evaluate("window.lassolabelAnnotator.predictor.local.split")
        page.evaluate(IN_PAGE, [image_id, points[:3]])  # warm-up (embedding, wasm JIT)
        local, decode_only = page.evaluate(IN_PAGE, [image_id, points])
        server = page.evaluate(VIA_SERVER, [image_id, points])
        hover_hz, requests = hover_rate(page, args.hover_seconds)
        browser.close()
    return {
        "local": local,
        "decode": decode_only,
        "server": server,
        "threads": threads,
        "split": split,
        "hz": hover_hz,
        "req": requests,
    }


def hover_rate(page, seconds: float) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Sweep the cursor over the image; -> (previews painted per second, requests sent)."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    box = page.locator("#annotator-canvas").bounding_box()
    before = int(page.evaluate("Number(document.body.dataset.hover) || 0"))
    started = time.perf_counter()
    step = 0
    while time.perf_counter() - started < seconds:
        fraction = 0.2 + 0.6 * ((step * 0.013) % 1.0)
        page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(16)
        step += 1
    elapsed = time.perf_counter() - started
    after = int(page.evaluate("Number(document.body.dataset.hover) || 0"))
    return (after - before) / elapsed, len(requests)


def report(args, native: dict[str, list[float]], browser: dict) -> None:
    p = lambda xs, q: float(np.percentile(xs, q))  # noqa: E731
    graph = "prompt" if browser["split"] else "full"
    rows = [
        ("native onnxruntime, full graph (decoder only)", native["full"]),
        ("native onnxruntime, prompt graph (decoder only)", native["prompt"]),
        (
            f"in-page onnxruntime-web ({browser['threads']} threads, {graph}) + paint",
            browser["local"],
        ),
        ("    of which onnxruntime-web decode only", browser["decode"]),
        ("/predict from the page (+ RLE decode, paint)", browser["server"]),
    ]
    print(f"\nvit_b decoder (random weights), astronaut 512x512, {args.clicks} clicks")
    print(f"{'path':<60}{'p50 ms':>10}{'p95 ms':>10}")
    for name, xs in rows:
        print(f"{name:<60}{p(xs, 50):>10.1f}{p(xs, 95):>10.1f}")
    same = native[graph]
    print(
        f"ratio in-page/native on the same graph ({graph}, p50): {p(browser['local'], 50) / p(same, 50):.2f}x"
    )
    print(
        f"browser-decoder graph={graph} p50_ms={p(browser['local'], 50):.1f} "
        f"native_ms={p(same, 50):.1f} native_full_ms={p(native['full'], 50):.1f} "
        f"server_ms={p(browser['server'], 50):.1f} hover_hz={browser['hz']:.1f} "
        f"server_requests_while_hovering={browser['req']}"
    )


if __name__ == "__main__":
    main()
