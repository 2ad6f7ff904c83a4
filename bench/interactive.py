"""Click latency: plain SamPredictor.predict in-process vs our HTTP /predict round trip.

Builds the real vit_b architecture with random weights (saved as a checkpoint the server
loads like any other), imports a real photograph from scikit-image, warms the embedding cache,
then times >= 50 clicks each way and prints p50/p95 and the ratio (a)/(b).

    .venv/bin/python bench/interactive.py                 # CPU, 2 threads
    .venv/bin/python bench/interactive.py --device cuda   # adds encoder images/s at batch 1/4/8
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import torch
from PIL import Image
from segment_anything import SamPredictor
from skimage import data

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.inference.architecture import PRESETS, build_sam  # noqa: E402


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    image = getattr(data, args.image)()
    checkpoint = random_vit_b(Path(args.workdir))
    clicks = random_clicks(image.shape[:2], args.clicks)
    if args.cpu_time:
        cpu_time_breakdown(args, checkpoint, image, clicks)
        return
    server = start_server(args, checkpoint, Path(args.workdir) / f"data-{os.getpid()}")
    try:
        predictor, encode_s = plain_predictor(checkpoint, image, args.device)
        ours = in_process_segmenter(args, checkpoint, predictor)
        with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=600) as client:
            wait_ready(client)
            image_id = import_photo(client, image)
            warm = client.post(f"/api/images/{image_id}/predict", json=click(clicks[0])).json()
            times = time_interleaved(predictor, ours, client, image_id, clicks)
    finally:
        server.terminate()
        server.wait(30)
    report(args, encode_s, warm["timing_ms"]["encode"], times)
    if args.device == "cuda":
        encoder_throughput(checkpoint, image)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clicks", type=int, default=60)
    parser.add_argument("--image", default="astronaut", choices=["astronaut", "chelsea", "coffee"])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="per-click CPU time on one thread (robust when other processes load the machine)",
    )
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "lassolabel-bench"))
    return parser.parse_args()


def random_vit_b(workdir: Path) -> Path:
    """The vit_b architecture with seeded random weights, saved once as a plain checkpoint."""
    path = workdir / "sam_vit_b_random.pth"
    if not path.is_file():
        workdir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(0)
        torch.save(build_sam(PRESETS["vit_b"]).state_dict(), path)
    return path


def random_clicks(shape: tuple[int, int], count: int) -> np.ndarray:
    height, width = shape
    rng = np.random.default_rng(0)
    return np.stack([rng.uniform(0, width - 1, count), rng.uniform(0, height - 1, count)], 1)


def plain_predictor(checkpoint: Path, image: np.ndarray, device: str) -> tuple[SamPredictor, float]:
    """segment-anything as its users use it: build, load, set_image once."""
    sam = build_sam(PRESETS["vit_b"])
    sam.load_state_dict(torch.load(checkpoint, weights_only=True))
    predictor = SamPredictor(sam.to(device))
    started = time.perf_counter()
    predictor.set_image(image)
    return predictor, time.perf_counter() - started


def in_process_segmenter(args, checkpoint: Path, predictor: SamPredictor):
    """Our SamSegmenter (same code as the server) on the predictor's features, no HTTP."""
    from app.inference.base import PreparedImage
    from app.inference.sam_loader import load_sam_segmenter
    from tests.fixtures.settings import make_settings

    settings = make_settings(
        None,
        sam_checkpoint=checkpoint,
        device=args.device,
        torch_threads=args.threads,
        model_dir=Path(args.workdir) / "models",
    )
    segmenter = load_sam_segmenter(settings, checkpoint)
    features = predictor.features.to(torch.float16).cpu().numpy()
    state = PreparedImage(
        segmenter.model_id, {"features": features}, predictor.original_size, predictor.input_size
    )
    return segmenter, state


def time_interleaved(predictor, ours, client: httpx.Client, image_id: int, clicks: np.ndarray):
    """Paired timings (ms): (a) SamPredictor, (c) our segmenter in-process, (b) HTTP, per click.

    Interleaving makes the three paths see the same machine load.
    """
    from app.inference.base import Prompt

    segmenter, state = ours
    predictor.predict(clicks[:1], np.array([1]), multimask_output=True)  # warm-up
    times: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    for point in clicks:
        started = time.perf_counter()
        predictor.predict(point[None], np.array([1]), multimask_output=True)
        times["a"].append((time.perf_counter() - started) * 1000)
        prompt = Prompt(points=point[None].astype(np.float32), point_labels=np.array([1], np.int32))
        started = time.perf_counter()
        segmenter.predict(state, prompt)
        times["c"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        response = client.post(f"/api/images/{image_id}/predict", json=click(point))
        times["b"].append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times


def start_server(args, checkpoint: Path, data_dir: Path) -> subprocess.Popen:
    """Our server in a real uvicorn process, loading the checkpoint like any other."""
    env = {
        **os.environ,
        "LASSOLABEL_DATA_DIR": str(data_dir),
        "LASSOLABEL_MODEL_DIR": str(Path(args.workdir) / "models"),
        "LASSOLABEL_SAM_CHECKPOINT": str(checkpoint),
        "LASSOLABEL_DEVICE": args.device,
        "LASSOLABEL_TORCH_THREADS": str(args.threads),
        "LASSOLABEL_AUTH": "none",
        "LASSOLABEL_PORT": str(args.port),
        "LASSOLABEL_SEED_DEMO": "false",
        "LASSOLABEL_PREFETCH_AHEAD": "0",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=REPO, env=env)


def wait_ready(client: httpx.Client, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            health = client.get("/api/health").json()
            if "segmenter" not in health:
                raise SystemExit(f"unexpected health answer: {health}")
            if not health["segmenter"].get("available"):
                raise SystemExit(f"server has no model: {health['segmenter']}")
            print(f"server ready: {health['segmenter']}")
            return
        except httpx.TransportError:
            time.sleep(0.5)
    raise SystemExit("server did not start")


def import_photo(client: httpx.Client, image: np.ndarray) -> int:
    project = client.post("/api/projects", json={"name": f"bench {time.time()}"}).json()
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    files = [("files", ("photo.png", buffer.getvalue(), "image/png"))]
    report = client.post(f"/api/projects/{project['id']}/images", files=files).json()
    return report["imported"][0]["id"]


def click(point: np.ndarray) -> dict:
    return {"points": [[float(point[0]), float(point[1])]], "point_labels": [1], "multimask": True}


def report(args, encode_s: float, server_encode_ms: float, times: dict[str, list[float]]) -> None:
    p = lambda key, q: float(np.percentile(times[key], q))  # noqa: E731
    rows = [
        ("a", "(a) SamPredictor.predict in-process"),
        ("c", "    our SamSegmenter.predict in-process"),
        ("b", "(b) HTTP POST /predict (cached embedding)"),
    ]
    print(
        f"\nvit_b (random weights), {args.image}, device={args.device}, threads={args.threads}, "
        f"{len(times['a'])} clicks, multimask, paired"
    )
    print(f"{'path':<44}{'p50 ms':>10}{'p95 ms':>10}")
    for key, name in rows:
        print(f"{name:<44}{p(key, 50):>10.1f}{p(key, 95):>10.1f}")
    print(
        f"ratio a/b (p50): {p('a', 50) / p('b', 50):.2f}x   (p95: {p('a', 95) / p('b', 95):.2f}x)"
    )
    print(
        f"encoder: {encode_s:.2f} s/image in-process set_image, "
        f"{server_encode_ms / 1000:.2f} s on the server's first click"
    )


def cpu_time_breakdown(args, checkpoint: Path, image: np.ndarray, clicks: np.ndarray) -> None:
    """Where a click's time goes, as CPU ms on one thread (thread_time ignores waiting for a
    core, so a busy machine does not distort it). Features are random: only decoding is timed."""
    import cv2

    from app.inference.base import Prompt
    from app.masks import encode_rle

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    args.threads = 1
    sam = build_sam(PRESETS["vit_b"])
    sam.load_state_dict(torch.load(checkpoint, weights_only=True))
    predictor = SamPredictor(sam)
    predictor.original_size, predictor.is_image_set = image.shape[:2], True
    predictor.input_size = tuple(
        int(round(n * 1024 / max(image.shape[:2]))) for n in image.shape[:2]
    )
    predictor.features = torch.randn(1, 256, 64, 64, generator=torch.Generator().manual_seed(0))
    segmenter, state = in_process_segmenter(args, checkpoint, predictor)

    def prompt(point: np.ndarray) -> Prompt:
        return Prompt(points=point[None].astype(np.float32), point_labels=np.array([1], np.int32))

    low_res, _ = segmenter.decoder(*segmenter._decoder_inputs(state, prompt(clicks[0])))
    masks = segmenter._upscale(low_res[1:], state)
    steps = {
        "(a) SamPredictor.predict": lambda p: predictor.predict(p[None], np.array([1])),
        "(c) our SamSegmenter.predict": lambda p: segmenter.predict(state, prompt(p)),
        f"    decoder only ({segmenter.decoder.name})": lambda p: segmenter.decoder(
            *segmenter._decoder_inputs(state, prompt(p))
        ),
        "    upscale 3 masks": lambda p: segmenter._upscale(low_res[1:], state),
        "    RLE-encode 3 masks": lambda p: [encode_rle(m) for m in masks],
    }
    print(f"\nCPU ms per click, 1 thread, vit_b, {args.image}, {len(clicks)} clicks")
    for name, step in steps.items():
        step(clicks[0])
        spent = []
        for point in clicks:
            started = time.thread_time()
            step(point)
            spent.append((time.thread_time() - started) * 1000)
        print(f"{name:<40}{np.percentile(spent, 50):>8.1f}")


def encoder_throughput(checkpoint: Path, image: np.ndarray) -> None:
    from app.inference.sam_loader import load_sam_segmenter
    from tests.fixtures.settings import make_settings

    settings = make_settings(
        None, sam_checkpoint=checkpoint, device="cuda", model_dir=checkpoint.parent / "models"
    )
    segmenter = load_sam_segmenter(settings, checkpoint)
    print(f"encoder autocast: {segmenter.autocast_dtype}")
    for batch in (1, 4, 8):
        segmenter.prepare([image] * batch)
        torch.cuda.synchronize()
        started, rounds = time.perf_counter(), 5
        for _ in range(rounds):
            segmenter.prepare([image] * batch)
        torch.cuda.synchronize()
        print(f"batch {batch}: {batch * rounds / (time.perf_counter() - started):.1f} images/s")


if __name__ == "__main__":
    main()
