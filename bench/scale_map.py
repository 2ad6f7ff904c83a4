"""The map page alone at scale: open, lasso 10%, assign, recolour, scroll in headless Chromium.

bench/scale.py's browser steps without its projection job: N synthetic segments (core inserts,
bench/scale_data.py) get clustered map positions written straight to the map store, then the
real server serves the map page to Chromium (bench/scale_browser.py). For developing the map.

    .venv/bin/python bench/scale_map.py --segments 10000 100000
    nice -n 10 timeout 1800 .venv/bin/python bench/scale_map.py --segments 100000 1000000 \
        --keep /tmp/scale-map          # a second run reuses the projects built there
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.maps.store import MapStore  # noqa: E402
from bench.scale import ENV  # noqa: E402
from bench.scale_browser import measure_page  # noqa: E402
from bench.scale_data import EMBEDDER, add_segments, create_project  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

ROWS = [
    "map_open_ms",
    "map_painted_ms",
    "map_server_ms",
    "map_transfer_ms",
    "map_draw_ms",
    "lasso_ms",
    "lasso_points",
    "page_assign_ms",
    "recolour_ms",
    "scroll_ms",
]


def clustered_xy(n: int, seed: int = 0) -> np.ndarray:
    """(n, 2) float32: 50 Gaussian blobs, like a UMAP map of clustered vectors."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, (50, 2))
    return (centres[rng.integers(0, 50, n)] + rng.normal(0, 0.6, (n, 2))).astype(np.float32)


def build(folder: Path, n: int) -> tuple[int, int]:
    """(project id, a label id) of a project of n placed segments in `folder`, built once."""
    meta = folder / "built.json"
    if meta.is_file():
        saved = json.loads(meta.read_text())
        return saved["project_id"], saved["label_id"]
    built = create_project(folder, images=min(20_000, max(1, n // 50)))
    ids = add_segments(folder, built, n, seed=1)
    MapStore(folder / "maps").write(built.project_id, EMBEDDER, ids, clustered_xy(n))
    meta.write_text(json.dumps({"project_id": built.project_id, "label_id": built.label_ids[0]}))
    return built.project_id, built.label_ids[0]


def run_size(root: Path, n: int) -> dict[str, float]:
    folder = root / f"map-{n}"
    project_id, label_id = build(folder, n)
    ids, xy = MapStore(folder / "maps").read(project_id, EMBEDDER)
    with ServerProcess(folder, env=ENV, log=root / f"server-{n}.log") as server:
        page = measure_page(server.url, project_id, xy, label_id)
    return {key: float(getattr(page, key)) for key in ROWS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, help="build (and reuse) the projects here")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="lassolabel-scale-map-"))
    results = []
    for n in args.segments:
        results.append(run_size(root, n))
        print(f"[{n:,}] {results[-1]}", flush=True)
    print(f"\n{'step':<20}" + "".join(f"{n:>12,}" for n in args.segments))
    for key in ROWS:
        print(f"{key:<20}" + "".join(f"{r[key]:>12.0f}" for r in results))
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
