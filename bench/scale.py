"""How every interactive step grows with the project: 10k, 100k, 1M segments on one box.

    .venv/bin/python bench/scale.py --segments 10000 100000          # develop
    nice -n 10 timeout 5400 .venv/bin/python bench/scale.py --segments 10000 100000 1000000

Per size N: a synthetic project (N segments with small RLE masks over min(20k, N/50) images,
1280-d float16 clustered vectors) built with core inserts, then the real server (uvicorn
subprocess, single-user mode) does the projection job over N, is restarted with 10k more
segments embedded, places them on the map without a refit (the projection job again), and
serves the map page to headless Chromium (bench/scale_browser.py) and the HTTP steps
(bench/scale_server.py): assign 100k and all N+10k with expected_versions and undo each,
similar search (k=50; recall@50 against exact), propagate, streamed COCO export. Sizes on
disk and the server's high-water RSS close each column; the growth factor is the last size's
figure over the one before. Map quality: trustworthiness (10 neighbours) of our map on a 20k
sample against plain umap-learn fitted on the same sample; plain umap-learn's time on all N
(up to --plain-max; above it extrapolated from its measured growth, and printed as such)
beside the projection job's. Then the small-project layout
(3,187 segments) with each candidate. Timings on a shared 2-core box are pessimistic.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.maps.store import MapStore  # noqa: E402
from bench import scale_quality as quality  # noqa: E402
from bench import scale_server as srv  # noqa: E402
from bench.scale_browser import measure_page  # noqa: E402
from bench.scale_data import EMBEDDER, add_segments, add_vectors, create_project, open_store  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

PLACED = 10_000
ASSIGN_SMALL = 100_000
SAMPLE = 20_000
QUERIES = 21

# No numba warm-up thread: it holds the GIL for minutes on a loaded box and would stall every
# request measured meanwhile; the projection job compiles what it needs (counted in its time).
ENV = {
    "LASSOLABEL_SEED_DEMO": "false",
    "LASSOLABEL_SEGMENTER": "classic",
    "LASSOLABEL_WARM_NUMBA_AT_STARTUP": "false",
}

ROWS = [
    ("build_s", "build synthetic data (s)"),
    ("projection_s", "projection job, N (s)"),
    ("place_10k_s", "place 10k new, no refit (s)"),
    ("map_server_s", "map request, HTTP client (s)"),
    ("map_mb", "map payload (MB)"),
    ("map_open_ms", "map open in Chromium (ms)"),
    ("map_painted_ms", "  until painted (ms)"),
    ("map_page_server_ms", "  of which server answer (ms)"),
    ("map_page_transfer_ms", "  of which transfer (ms)"),
    ("map_draw_ms", "  of which parse + first draw (ms)"),
    ("lasso_ms", "lasso 10% -> gallery (ms)"),
    ("lasso_points", "  points lassoed"),
    ("page_assign_ms", "assign the lasso from the page (ms)"),
    ("recolour_ms", "recolour (ms)"),
    ("scroll_ms", "gallery scroll step (ms)"),
    ("assign_100k_s", "assign 100k, HTTP (s)"),
    ("undo_100k_s", "undo 100k (s)"),
    ("assign_s", "assign all, HTTP (s)"),
    ("undo_s", "undo all (s)"),
    ("similar_first_ms", "similar k=50, first (ms)"),
    ("similar_index_s", "  until the answer is fast (s)"),
    ("similar_ms", "similar k=50, median (ms)"),
    ("similar_recall", "similar recall@50 vs exact"),
    ("propagate_s", "propagate job (s)"),
    ("export_s", "export COCO, streamed (s)"),
    ("export_mb", "export size (MB)"),
    ("export_rss_gb", "server RSS growth in export (GB)"),
    ("db_gb", "database size (GB)"),
    ("vectors_gb", "vector store size (GB)"),
    ("peak_rss_gb", "server peak RSS (GB)"),
    ("trust_ours", "trustworthiness ours (20k sample)"),
    ("trust_plain", "trustworthiness plain UMAP (same)"),
    ("plain_umap_sample_s", "plain UMAP on the sample (s)"),
    ("plain_umap_all_s", "plain umap-learn on all N (s)"),
    ("plain_umap_extrapolated_s", "  extrapolated, not run (s)"),
    ("projection_vs_plain", "projection job / plain umap-learn"),
]


def run_size(n: int, root: Path, plain_max: int) -> dict[str, float]:
    data_dir = root / f"scale-{n}"
    out = _Results(n)
    timer = _Timer()
    built = create_project(data_dir, images=min(20_000, max(1, n // 50)))
    ids = add_segments(data_dir, built, n, seed=1)
    clusters = add_vectors(data_dir, built.project_id, ids, seed=1)
    out["build_s"] = timer.lap()
    pid = built.project_id
    with ServerProcess(data_dir, env=ENV, log=root / f"server-{n}.log") as server:
        out["projection_s"] = srv.run_job(server.url, pid, "projection", {})
        peak = srv.peak_rss_gb(server.process.pid)
    more = add_segments(data_dir, built, PLACED, seed=2)
    add_vectors(data_dir, pid, more, seed=2)
    with ServerProcess(data_dir, env=ENV, log=root / f"server-{n}.log") as server:
        url = server.url
        out["place_10k_s"] = srv.run_job(url, pid, "projection", {})
        out["map_server_s"], header, cols = srv.fetch_map(url, pid)
        xy = np.stack([cols["x"], cols["y"]], axis=1)
        page = measure_page(url, pid, xy, built.label_ids[0])
        out.update(
            map_mb=page.map_bytes / 1e6,
            map_open_ms=page.map_open_ms,
            map_painted_ms=page.map_painted_ms,
            map_page_server_ms=page.map_server_ms,
            map_page_transfer_ms=page.map_transfer_ms,
            map_draw_ms=page.map_draw_ms,
            lasso_ms=page.lasso_ms,
            lasso_points=page.lasso_points,
            page_assign_ms=page.page_assign_ms,
            recolour_ms=page.recolour_ms,
            scroll_ms=page.scroll_ms,
        )
        _, _, cols = srv.fetch_map(url, pid)  # versions after the page's assign
        map_ids, versions = cols["segment_id"].astype(np.int64), cols["version"]
        small = slice(0, min(ASSIGN_SMALL, len(map_ids)))
        out["assign_100k_s"], out["undo_100k_s"] = srv.assign_and_undo(
            url, pid, map_ids[small], versions[small], built.label_ids[1]
        )
        _, _, cols = srv.fetch_map(url, pid)
        out["assign_s"], out["undo_s"] = srv.assign_and_undo(
            url, pid, map_ids, cols["version"], built.label_ids[2]
        )
        queries = np.random.default_rng(3).choice(ids, QUERIES, replace=False)
        out["similar_first_ms"] = srv.similar(url, queries[:1])[0] * 1e3
        out["similar_index_s"] = srv.wait_for_fast_similar(url, int(queries[0]))
        _, median, answers = srv.similar(url, queries)
        out["similar_ms"] = median * 1e3
        _label_some(url, pid, ids, clusters, built.label_ids)
        out["propagate_s"] = srv.run_job(url, pid, "propagate", {"embed_missing": False})
        out["export_s"], size, out["export_rss_gb"] = srv.export_coco(url, pid, server.process.pid)
        out["export_mb"] = size / 1e6
        out["peak_rss_gb"] = max(peak, srv.peak_rss_gb(server.process.pid))
    out["db_gb"] = sum(p.stat().st_size for p in data_dir.glob("lassolabel.db*")) / 2**30
    out["vectors_gb"] = srv.folder_gb(data_dir / "vectors")
    store = open_store(data_dir, pid)
    store_ids, vectors = store.all()
    out["similar_recall"] = quality.recall(
        answers, quality.exact_neighbours(store_ids, vectors, queries, 50)
    )
    _map_quality(out, data_dir, pid, store_ids, vectors)
    if n <= plain_max:
        out["plain_umap_all_s"] = quality.plain_umap(vectors)[1]
    shutil.rmtree(data_dir)
    return out


def _label_some(
    url: str, pid: int, ids: np.ndarray, clusters: np.ndarray, labels: list[int]
) -> None:
    """Label 2,000 segments by cluster (cluster % 4 picks the label): propagate's train set."""
    pick = np.random.default_rng(4).choice(len(ids), min(2000, len(ids)), replace=False)
    for i, label in enumerate(labels):
        chosen = ids[pick[clusters[pick] % len(labels) == i]]
        if len(chosen):
            body = {"segment_ids": chosen.tolist(), "label_id": label}
            srv.httpx.post(
                f"{url}/api/projects/{pid}/assign", json=body, timeout=srv.TIMEOUT
            ).raise_for_status()


def _map_quality(
    out: dict[str, float], data_dir: Path, pid: int, ids: np.ndarray, vectors: np.ndarray
) -> None:
    placed, xy = MapStore(data_dir / "maps").read(pid, EMBEDDER)
    rng = np.random.default_rng(5)
    sample = np.sort(rng.choice(len(placed), min(SAMPLE, len(placed)), replace=False))
    high = np.asarray(vectors[np.searchsorted(ids, placed[sample])], np.float32)
    plain_xy, out["plain_umap_sample_s"] = quality.plain_umap(high)
    out["trust_ours"] = quality.trustworthiness(high, xy[sample])
    out["trust_plain"] = quality.trustworthiness(high, plain_xy)


class _Results(dict[str, float]):
    """The figures of one size, each printed as soon as it is measured (a run cut short by
    its timeout still reports the steps it finished)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def __setitem__(self, key: str, value: float) -> None:
        super().__setitem__(key, float(value))
        print(f"[{self.n:,}] {key} = {float(value):.4g}", flush=True)

    def update(self, *args: object, **kwargs: float) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():  # type: ignore[call-overload]
            self[key] = value


class _Timer:
    def __init__(self) -> None:
        self._last = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        seconds, self._last = now - self._last, now
        return seconds


def _compare_plain(sizes: list[int], results: list[dict[str, float]]) -> None:
    """The projection job against plain umap-learn on all N: measured up to --plain-max,
    above it extrapolated from the growth between the two largest measured sizes,
    t(N) = t(n2) * (N / n2) ** (log(t2 / t1) / log(n2 / n1)), and labelled as such."""
    measured = [
        (n, r["plain_umap_all_s"])
        for n, r in zip(sizes, results, strict=True)
        if "plain_umap_all_s" in r
    ]
    for n, result in zip(sizes, results, strict=True):
        plain = result.get("plain_umap_all_s")
        if plain is None and len(measured) >= 2:
            (n1, t1), (n2, t2) = measured[-2:]
            plain = t2 * (n / n2) ** (math.log(t2 / t1) / math.log(n2 / n1))
            result["plain_umap_extrapolated_s"] = plain
        if plain:
            result["projection_vs_plain"] = result["projection_s"] / plain


def print_table(sizes: list[int], results: list[dict[str, float]]) -> None:
    heads = [f"{n:,}" for n in sizes] + (["growth"] if len(sizes) > 1 else [])
    print(f"\n{'step':<40}" + "".join(f"{h:>12}" for h in heads))
    for key, name in ROWS:
        values = [r.get(key, float("nan")) for r in results]
        cells = [f"{v:>12.3f}" if abs(v) < 100 else f"{v:>12.0f}" for v in values]
        if len(values) > 1:
            cells.append(f"{values[-1] / values[-2]:>11.1f}x" if values[-2] else f"{'':>12}")
        print(f"{name:<40}" + "".join(cells))
    growth = sizes[-1] / sizes[-2] if len(sizes) > 1 else 1
    print(f"(growth = last size / the one before; the sizes grow {growth:.0f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, help="work here instead of a temporary folder")
    parser.add_argument("--skip-small", action="store_true", help="skip the 3k layout table")
    parser.add_argument(
        "--plain-max",
        type=int,
        default=100_000,
        help="largest size plain umap-learn runs on all N; above, its time is extrapolated",
    )
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="lassolabel-scale-"))
    results = []
    for n in args.segments:
        results.append(run_size(n, root, args.plain_max))
        print(f"done {n:,}: {results[-1]}", flush=True)
    _compare_plain(args.segments, results)
    if not args.skip_small:
        print("\nsmall project: 3,187 segments, 1280-d, 2-D layout")
        print(f"{'method':<26}{'s':>8}{'trust':>8}")
        for name, seconds, trust in quality.small_project():
            print(f"{name:<26}{seconds:>8.2f}{trust:>8.3f}")
    print_table(args.segments, results)
    last = results[-1]
    print(
        f"scale segments={args.segments[-1]} map_open_ms={last['map_open_ms']:.0f} "
        f"lasso_ms={last['lasso_ms']:.0f} recolour_ms={last['recolour_ms']:.0f} "
        f"assign_s={last['assign_s']:.2f} undo_s={last['undo_s']:.2f} "
        f"similar_ms={last['similar_ms']:.0f} projection_s={last['projection_s']:.0f} "
        f"place_10k_s={last['place_10k_s']:.1f} export_s={last['export_s']:.1f} "
        f"peak_rss_gb={last['peak_rss_gb']:.2f}"
    )
    if "plain_umap_extrapolated_s" in last:
        print(
            f"plain umap-learn on {args.segments[-1]:,}: {last['plain_umap_extrapolated_s']:.0f} s "
            "EXTRAPOLATED from its measured growth (not run)"
        )
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
