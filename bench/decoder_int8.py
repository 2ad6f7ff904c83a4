"""int8 decoder (onnxruntime dynamic quantisation) vs the float graph: mask IoU and speed.

Real vit_b architecture with random weights: the float graph is the app's export
(app/inference/decoder.py); the int8 one is quantize_dynamic over its MatMul/Gemm weights.
Masks come from the random encoder's embedding of a real photograph; prompts are random
clicks, each giving 4 masks. Speed: native onnxruntime, interleaved, and onnxruntime-web in
headless Chromium (vendored build, 1 thread) on a static page, interleaved too.
The issue's rule: serve int8 only if every mask keeps IoU >= 0.99 with the float model.

    .venv/bin/python bench/decoder_int8.py --prompts 200
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from skimage import data

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.inference.decoder import OnnxDecoder  # noqa: E402
from app.inference.decoder_export import export_decoder  # noqa: E402
from bench.interactive import plain_predictor, random_clicks, random_vit_b  # noqa: E402
from tests.fixtures.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

VENDOR = REPO / "frontend" / "static" / "vendor" / "onnxruntime-web"
PAGE = """<!doctype html><script type=module>
const ort = await import('/ort/ort.wasm.min.mjs');
ort.env.wasm.wasmPaths = '/ort/'; ort.env.wasm.numThreads = 1;
const sessions = {};
window.load = async (name) => { sessions[name] = await ort.InferenceSession.create(
  new Uint8Array(await (await fetch('/' + name)).arrayBuffer()), {executionProviders: ['wasm']}); };
window.prepare = async () => {
  const features = new Float32Array(await (await fetch('/features.bin')).arrayBuffer());
  const feeds = {image_embeddings: new ort.Tensor('float32', features, [1, 256, 64, 64]),
    point_coords: new ort.Tensor('float32', Float32Array.of(0, 0, 0, 0), [1, 2, 2]),
    point_labels: new ort.Tensor('float32', Float32Array.of(1, -1), [1, 2]),
    mask_input: new ort.Tensor('float32', new Float32Array(65536), [1, 1, 256, 256]),
    has_mask_input: new ort.Tensor('float32', Float32Array.of(0), [1])};
  window.feeds = feeds;
};
window.time = async (name, x, y) => {
  feeds.point_coords = new ort.Tensor('float32', Float32Array.of(x, y, 0, 0), [1, 2, 2]);
  const t0 = performance.now(); await sessions[name].run(feeds); return performance.now() - t0;
};
window.ready = true;
</script>"""


def main() -> None:
    args = parse_args()
    workdir = Path(args.workdir)
    torch.set_num_threads(args.threads)
    predictor, _ = plain_predictor(random_vit_b(workdir), data.astronaut(), "cpu")
    features = predictor.features.numpy().astype(np.float32)
    scale = 1024 / max(predictor.original_size)
    clicks = random_clicks(predictor.original_size, args.prompts) * scale
    float_path = export_decoder(predictor.model, workdir / "int8-bench" / "float.onnx")
    int8_path = quantise(float_path)
    runners = {
        name: OnnxDecoder(path, args.threads)
        for name, path in [("float", float_path), ("int8", int8_path)]
    }
    ious = agreement(runners, features, clicks)
    native = timings(
        lambda name, x, y: native_ms(runners[name], features, x, y), clicks[: args.timed]
    )
    page = in_page(float_path, int8_path, features, clicks[: args.timed])
    report(args, ious, native, page)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--timed", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "lassolabel-bench"))
    return parser.parse_args()


def quantise(float_path: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = float_path.with_name("int8.onnx")
    # Per-tensor uint8 weights: per-channel graphs failed in onnxruntime-web 1.30
    # ("MatmulInteger : b zero point is not valid").
    quantize_dynamic(
        float_path, path, weight_type=QuantType.QUInt8, op_types_to_quantize=["MatMul", "Gemm"]
    )
    return path


def feed(x: float, y: float) -> tuple[np.ndarray, ...]:
    return (
        np.array([[[x, y], [0, 0]]], np.float32),
        np.array([[1, -1]], np.float32),
        np.zeros((1, 1, 256, 256), np.float32),
        np.zeros(1, np.float32),
    )


def agreement(runners: dict, features: np.ndarray, clicks: np.ndarray) -> np.ndarray:
    """IoU of each of the 4 masks per click, int8 vs float, at SAM's logit threshold 0."""
    ious = []
    for x, y in clicks:
        a = runners["float"](features, *feed(x, y))[0] > 0
        b = runners["int8"](features, *feed(x, y))[0] > 0
        for m, n in zip(a, b, strict=True):
            union = np.count_nonzero(m | n)
            ious.append(1.0 if union == 0 else np.count_nonzero(m & n) / union)
    return np.array(ious)


def native_ms(runner: OnnxDecoder, features: np.ndarray, x: float, y: float) -> float:
    started = time.perf_counter()
    runner(features, *feed(x, y))
    return (time.perf_counter() - started) * 1000


def timings(measure, clicks: np.ndarray) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Interleaved per click, so both graphs see the same machine load."""
    times: dict[str, list[float]] = {"float": [], "int8": []}
    for x, y in clicks:
        for name in times:
            times[name].append(measure(name, float(x), float(y)))
    return times


def in_page(float_path: Path, int8_path: Path, features: np.ndarray, clicks: np.ndarray):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    root = Path(tempfile.mkdtemp(prefix="int8-page-"))
    (root / "index.html").write_text(PAGE)
    (root / "ort").symlink_to(VENDOR)
    for name, path in [("float", float_path), ("int8", int8_path)]:
        shutil.copy(path, root / name)
    (root / "features.bin").write_bytes(features.astype("<f4").tobytes())
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            page.set_default_timeout(600_000)
            page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
            page.wait_for_function("window.ready === true")
            for name in ("float", "int8"):
                page.evaluate("(n) => load(n)", name)
            page.evaluate("prepare()")
            for name in ("float", "int8"):  # warm-up
                page.evaluate("([n]) => time(n, 10, 10)", [name])
            times = timings(
                lambda n, x, y: page.evaluate("([n, x, y]) => time(n, x, y)", [n, x, y]), clicks
            )
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(root)
    return times


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def report(args, ious: np.ndarray, native: dict, page: dict) -> None:  # type: ignore[no-untyped-def]
    p50 = lambda xs: float(np.median(xs))  # noqa: E731
    print(f"\nvit_b decoder (random weights), astronaut, {args.prompts} clicks x 4 masks")
    print(
        f"IoU int8 vs float: min {ious.min():.4f}  p1 {np.percentile(ious, 1):.4f}  "
        f"p5 {np.percentile(ious, 5):.4f}  median {np.median(ious):.4f}  "
        f"share >= 0.99: {np.mean(ious >= 0.99):.1%}"
    )
    print(f"{'path':<44}{'float p50':>11}{'int8 p50':>11}{'int8/float':>12}")
    for name, times in [
        (f"native onnxruntime ({args.threads} threads)", native),
        ("onnxruntime-web (1 thread)", page),
    ]:
        ratio = np.median(np.array(times["int8"]) / np.array(times["float"]))
        print(f"{name:<44}{p50(times['float']):>11.1f}{p50(times['int8']):>11.1f}{ratio:>11.2f}x")
    verdict = "serve int8" if ious.min() >= 0.99 else "keep float (IoU < 0.99)"
    print(
        f"decoder-int8 iou_min={ious.min():.4f} iou_median={np.median(ious):.4f} decision={verdict!r}"
    )


if __name__ == "__main__":
    main()
