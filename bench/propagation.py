"""Human actions to 90% correctly labelled segments, label propagation off vs on.

Synthetic embeddings: 6 clusters of 40 segments around random unit centres in 32-d, with
Gaussian noise of the given spread; the map is their 2-D PCA, so noisier clusters overlap
on the map (where the lasso works) while staying separable in 32-d (where propagation works).
See app/evaluation/propagation.py for the simulated user.

With --data (imagenette-mini: 150 photos, 10 classes) the same count runs on a real case:
each photo is one segment (a centred-ellipse stand-in mask, as in bench/embed_quality.py),
embedded by the real timm lite0 weights and placed on the map by our UMAP projector, one
row per UMAP seed.

    .venv/bin/python bench/propagation.py [--seeds 3]
    .venv/bin/python bench/propagation.py --data ../shared/datasets/imagenette-mini
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.propagation import PropagationEffort, measure_propagation_effort  # noqa: E402
from app.evaluation.report import table  # noqa: E402

SPREADS = (0.1, 0.2, 0.3)
THRESHOLDS = (0.9, 0.95)


def clusters(spread: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors (240, 32), map positions (240, 2), classes (240,))."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 32))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    classes = np.repeat(np.arange(6), 40)
    vectors = centres[classes] + spread * rng.normal(size=(len(classes), 32))
    centred = vectors - vectors.mean(axis=0)
    positions = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    return vectors, positions, classes


def photo_segments(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """(lite0 vectors of each photo's centred-ellipse crop (150, 1280), classes (150,))."""
    from app.embeddings.timm_embedder import TimmEmbedder
    from bench.embed_quality import centre_ellipse, load_dataset

    images, names = load_dataset(root)
    embedder = TimmEmbedder()
    vectors = np.concatenate([embedder.embed(im, [centre_ellipse(im.shape)]) for im in images])
    return vectors, np.unique(names, return_inverse=True)[1]


def umap_positions(vectors: np.ndarray, seed: int) -> np.ndarray:
    from app.projection.registry import build_projector

    return build_projector("umap", random_state=seed).fit_transform(vectors)


def effort_row(case: str, threshold: float, runs: list[PropagationEffort]) -> list[str]:
    """Means over runs; a workflow that never reached the target counts as every segment."""
    mean = lambda key: float(np.mean([getattr(r, key) or 0 for r in runs]))  # noqa: E731
    off, on = mean("off"), mean("on")
    parts = (f"{mean(k):.1f}" for k in ("lassos", "accepts", "corrections"))
    return [case, f"{threshold}", f"{off:.1f}", f"{on:.1f}", *parts, f"{on / off:.2f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data", type=Path, help="imagenette-mini folder: the real case")
    args = parser.parse_args()
    rows = [["case", "threshold", "off", "on", "lassos", "accepts", "corrections", "on/off"]]
    if args.data:
        vectors, classes = photo_segments(args.data)
        maps = [umap_positions(vectors, seed) for seed in range(args.seeds)]
        for threshold in THRESHOLDS:
            runs = [
                measure_propagation_effort(vectors, xy, classes, threshold=threshold) for xy in maps
            ]
            rows.append(effort_row(f"imagenette-mini, {len(classes)} photos", threshold, runs))
    else:
        for spread in SPREADS:
            for threshold in THRESHOLDS:
                runs = [
                    measure_propagation_effort(*clusters(spread, seed), threshold=threshold)
                    for seed in range(args.seeds)
                ]
                rows.append(effort_row(f"synthetic spread {spread}", threshold, runs))
    print("actions to 90% correctly labelled, propagation off vs on (mean over seeds)")
    print(table(rows))


if __name__ == "__main__":
    main()
