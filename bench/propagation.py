"""Human actions to 90% correctly labelled segments, label propagation off vs on.

Synthetic embeddings: 6 clusters of 40 segments around random unit centres in 32-d, with
Gaussian noise of the given spread; the map is their 2-D PCA, so noisier clusters overlap
on the map (where the lasso works) while staying separable in 32-d (where propagation works).
See app/evaluation/propagation.py for the simulated user.

    .venv/bin/python bench/propagation.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.propagation import measure_propagation_effort  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    rows = [["spread", "threshold", "off", "on", "lassos", "accepts", "corrections", "on/off"]]
    for spread in SPREADS:
        for threshold in THRESHOLDS:
            runs = [
                measure_propagation_effort(*clusters(spread, seed), threshold=threshold)
                for seed in range(args.seeds)
            ]
            off = float(np.mean([r.off for r in runs]))
            on = float(np.mean([r.on for r in runs]))
            parts = [
                float(np.mean([getattr(r, k) for r in runs]))
                for k in ("lassos", "accepts", "corrections")
            ]
            rows.append(
                [
                    f"{spread}",
                    f"{threshold}",
                    f"{off:.1f}",
                    f"{on:.1f}",
                    *(f"{p:.1f}" for p in parts),
                    f"{on / off:.2f}",
                ]
            )
    print(table(rows))


if __name__ == "__main__":
    main()
