"""Refining-click rules against setbacks (issue 14: an extra click should lower IoU by more than
0.05 in under 1% of clicks), on the same objects and first clicks, with real weights.

The standard simulated clicker (app/evaluation/noc.py) drives a SamSegmenter directly; every
rule answers the first click with the top-scored of three candidates and differs only in how a
refining click (previous low-res logits fed back) is answered:

  base       SAM's single mask (as SamPredictor)
  product    guard-refined at refinement.MARGIN: what /predict and the in-page decoder do
  guard<m>   the single mask unless its predicted IoU falls more than m below the previous
             answer's; then the token of the same decode closest to the previous mask
  guard-once<m>, guard-refined<m>  the same, never twice in a row / from the third click on
  clamp<k>, binary<k>, scale<f>  the single mask with the fed-back logits clamped to [-k, k],
             binarised to +-k, or scaled by f
  multi      the top-scored of three candidates on every click (what the annotator asked for
             before it refined with one mask)
  keep       the previous mask when SAM's predicted IoU falls by more than 0.05 (for ever)
  keep-once  the same, but a click repeated from a kept answer goes through
  merge      FocalClick's progressive merge: only the changed region holding the click changes
  consistent the single mask unless a click lands on the wrong side of it; then the multimask
             candidate that honours every click and is closest to the previous mask
  no-logits  the single mask from the clicks alone (no mask_input)

    nice -n 10 .venv/bin/python bench/setback_rules.py --checkpoint PATH --data DATASETS_DIR
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.datasets import Sample, camvid_samples, nuclei_samples  # noqa: E402
from app.evaluation.metrics import mask_iou  # noqa: E402
from app.evaluation.noc import MAX_CLICKS, WORSE_MARGIN, Click, next_click, summarize  # noqa: E402
from app.evaluation.report import table  # noqa: E402
from app.inference.base import PredictedMask, PreparedImage, Prompt  # noqa: E402
from app.inference.refinement import MARGIN, refining_token  # noqa: E402

Answer = Callable[[list[Click], PredictedMask, bool], PredictedMask]


class Rules:
    """The refining-click rules over one segmenter and one prepared image."""

    def __init__(self, segmenter: Any, state: PreparedImage) -> None:
        self.segmenter, self.state = segmenter, state

    def decode(self, clicks: list[Click], previous: PredictedMask | None, multi: bool):  # type: ignore[no-untyped-def]
        points = np.array([[c.x, c.y] for c in clicks], np.float32)
        labels = np.array([int(c.positive) for c in clicks], np.int32)
        logits = None if previous is None else previous.low_res_logits[None]
        prompt = Prompt(points=points, point_labels=labels, mask_input=logits, multimask=multi)
        return self.segmenter.predict(self.state, prompt)

    def base(self, clicks, previous, kept):  # type: ignore[no-untyped-def]
        return self.decode(clicks, previous, False)[0]

    def keep(self, clicks, previous, kept):  # type: ignore[no-untyped-def]
        answer = self.base(clicks, previous, kept)
        return previous if answer.score < previous.score - WORSE_MARGIN else answer

    def keep_once(self, clicks, previous, kept):  # type: ignore[no-untyped-def]
        return self.base(clicks, previous, kept) if kept else self.keep(clicks, previous, kept)

    def merge(self, clicks, previous, kept):  # type: ignore[no-untyped-def]
        answer = self.base(clicks, previous, kept)
        changed = (answer.mask != previous.mask).astype(np.uint8)
        x, y = int(round(clicks[-1].x)), int(round(clicks[-1].y))
        if not changed[y, x]:
            return answer
        _, regions = cv2.connectedComponents(changed, connectivity=8)
        mask = np.where(regions == regions[y, x], answer.mask, previous.mask)
        return PredictedMask(mask, answer.score, answer.low_res_logits)

    def consistent(self, clicks, previous, kept):  # type: ignore[no-untyped-def]
        answer = self.base(clicks, previous, kept)
        if _honours(answer.mask, clicks):
            return answer
        fits = [m for m in self.decode(clicks, previous, True) if _honours(m.mask, clicks)]
        return max(fits, key=lambda m: mask_iou(m.mask, previous.mask), default=answer)

    def no_logits(self, clicks, previous, kept):  # type: ignore[no-untyped-def]
        return self.decode(clicks, None, False)[0]

    def multi(self, clicks, previous, kept):  # type: ignore[no-untyped-def]
        return self.decode(clicks, previous, True)[0]

    def fed(self, clicks, previous, logits):  # type: ignore[no-untyped-def]
        """The single mask with `logits` (256x256) fed back instead of previous's own."""
        answer = self.decode(clicks, replace(previous, low_res_logits=logits), False)[0]
        return answer

    def all_tokens(self, clicks, logits):  # type: ignore[no-untyped-def]
        """All four tokens (0 single-mask first) of one decode with `logits` fed back."""
        seg = self.segmenter
        points = np.array([[c.x, c.y] for c in clicks], np.float32)
        labels = np.array([int(c.positive) for c in clicks], np.int32)
        prompt = Prompt(points=points, point_labels=labels, mask_input=logits[None], multimask=True)
        low_res, scores = seg.decoder(*seg._decoder_inputs(self.state, prompt))
        masks = seg._upscale(low_res, self.state)
        return [PredictedMask(masks[t], float(np.clip(scores[t], 0, 1)),
                              low_res[t].astype(np.float32), t) for t in range(4)]  # fmt: skip


def _guard(margin: float) -> Callable[..., PredictedMask]:
    """The product's rule (app/inference/refinement.py) at another margin."""

    def rule(
        self: Rules, clicks: list[Click], previous: PredictedMask, kept: bool
    ) -> PredictedMask:
        tokens = self.all_tokens(clicks, previous.low_res_logits)
        logits = np.stack([m.low_res_logits for m in tokens])
        scores = np.array([m.score for m in tokens])
        return tokens[
            refining_token(logits, scores, previous.low_res_logits, previous.score, margin)
        ]

    return rule


def _guard_once(margin: float) -> Callable[..., PredictedMask]:
    """_guard, but never twice in a row: a click after a guarded answer gets the single mask."""
    guard = _guard(margin)

    def rule(
        self: Rules, clicks: list[Click], previous: PredictedMask, kept: bool
    ) -> PredictedMask:
        return self.base(clicks, previous, kept) if kept else guard(self, clicks, previous, kept)

    return rule


def _guard_refined(margin: float) -> Callable[..., PredictedMask]:
    """_guard only when the previous mask answered a refining click itself (from the third
    click on): a first click's multimask candidate scores higher than single masks do."""
    guard = _guard(margin)

    def rule(
        self: Rules, clicks: list[Click], previous: PredictedMask, kept: bool
    ) -> PredictedMask:
        if len(clicks) < 3:
            return self.base(clicks, previous, kept)
        return guard(self, clicks, previous, kept)

    return rule


def _clamp(k: float) -> Callable[..., PredictedMask]:
    def rule(
        self: Rules, clicks: list[Click], previous: PredictedMask, kept: bool
    ) -> PredictedMask:
        return self.fed(clicks, previous, np.clip(previous.low_res_logits, -k, k))

    return rule


def _binary(k: float) -> Callable[..., PredictedMask]:
    def rule(
        self: Rules, clicks: list[Click], previous: PredictedMask, kept: bool
    ) -> PredictedMask:
        logits = np.where(previous.low_res_logits > 0, k, -k).astype(np.float32)
        return self.fed(clicks, previous, logits)

    return rule


def _scale(f: float) -> Callable[..., PredictedMask]:
    def rule(
        self: Rules, clicks: list[Click], previous: PredictedMask, kept: bool
    ) -> PredictedMask:
        return self.fed(clicks, previous, previous.low_res_logits * f)

    return rule


RULES = {
    "base": Rules.base,
    "keep": Rules.keep,
    "keep-once": Rules.keep_once,
    "merge": Rules.merge,
    "consistent": Rules.consistent,
    "no-logits": Rules.no_logits,
    "multi": Rules.multi,
    **{f"guard{m:g}": _guard(m) for m in (0.05, 0.08, 0.1, 0.15)},
    **{f"guard-once{m:g}": _guard_once(m) for m in (0.05, 0.1)},
    **{f"guard-refined{m:g}": _guard_refined(m) for m in (0.05, 0.1)},
    "product": _guard_refined(MARGIN),  # what /predict and the in-page decoder do
    **{f"clamp{k:g}": _clamp(k) for k in (1, 2, 4, 8, 16)},
    **{f"binary{k:g}": _binary(k) for k in (1, 2, 4, 8, 16)},
    **{f"scale{f:g}": _scale(f) for f in (0.25, 0.5, 2)},
}


def _honours(mask: np.ndarray, clicks: list[Click]) -> bool:
    return all(mask[int(round(c.y)), int(round(c.x))] == c.positive for c in clicks)


def trace(rules: Rules, rule: str, gt: np.ndarray, stop_iou: float = 0.9) -> list[float]:
    """IoU after each click of one object's simulated session under `rule`."""
    clicks: list[Click] = []
    current: PredictedMask | None = None
    kept, ious = False, []
    for _ in range(MAX_CLICKS):
        click = next_click(gt, None if current is None else current.mask)
        if click is None:
            break
        clicks.append(click)
        if current is None:
            answer = max(rules.decode(clicks, None, True), key=lambda m: m.score)
        else:
            answer = RULES[rule](rules, clicks, current, kept)
        # kept: the previous mask stayed, or a refining click was answered by a token other
        # than the single mask (the guard fired)
        kept = answer is current or (len(clicks) > 1 and answer.token > 0)
        current = answer
        ious.append(float(mask_iou(gt, current.mask)))
        if ious[-1] >= stop_iou:
            break
    return ious


def prepared(segmenter: Any, sample: Sample, workdir: Path) -> PreparedImage:
    """The sample's encoding, from workdir when an earlier run saved it."""
    path = workdir / f"{segmenter.model_id}-{sample.name}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own file
    state = segmenter.prepare([sample.image])[0]
    path.write_bytes(pickle.dumps(state))
    return state


def run(args: argparse.Namespace) -> None:
    from app.config import Settings
    from app.inference.sam_loader import load_sam_segmenter

    args.workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings(sam_checkpoint=args.checkpoint, torch_threads=args.threads,
                        model_dir=args.workdir / "models", _env_file=None)  # type: ignore[call-arg]  # fmt: skip
    segmenter = load_sam_segmenter(settings)
    for name, samples in datasets(args).items():
        states = [prepared(segmenter, s, args.workdir) for s in samples]
        rows = [["rule", "objects", "1-click", "NoC@85", "NoC@90", "never@85", "worse", "worse>.05", "drops", "s"]]  # fmt: skip
        for rule in args.rules.split(","):
            started = time.perf_counter()
            traces = [
                trace(Rules(segmenter, state), rule, gt)
                for sample, state in zip(samples, states, strict=True)
                for gt in sample.objects
            ]
            s = summarize(traces)
            rows.append([rule, str(s.objects), f"{s.first_click_miou:.3f}", f"{s.noc[0.85]:.2f}",
                         f"{s.noc[0.9]:.2f}", f"{s.failures[0.85] / s.objects:.3f}",
                         f"{s.worse_share:.3f}", f"{s.much_worse_share:.4f}", _drops(traces),
                         f"{time.perf_counter() - started:.0f}"])  # fmt: skip
            print(f"{name} {rule} done", flush=True)
        print(f"\n{name}: {sum(len(s.objects) for s in samples)} objects on {len(samples)} images")
        print(table(rows))


def _drops(traces: list[list[float]]) -> str:
    """Extra clicks that lowered IoU by more than WORSE_MARGIN, of all extra clicks: 'k/n'."""
    steps = [b - a for ious in traces for a, b in zip(ious, ious[1:], strict=False)]
    return f"{sum(step < -WORSE_MARGIN for step in steps)}/{len(steps)}"


def datasets(args: argparse.Namespace) -> dict[str, list[Sample]]:
    found = {}
    if "nuclei" in args.sets and (args.data / "nuclei" / "images").is_dir():
        found["nuclei"] = list(nuclei_samples(args.data / "nuclei", images=args.images,
                                              per_image=args.per_image, min_area=16))  # fmt: skip
    if "camvid" in args.sets and (args.data / "camvid-dev" / "images").is_dir():
        found["camvid"] = list(camvid_samples(args.data / "camvid-dev", images=args.images,
                                              per_image=args.per_image, min_area=200))  # fmt: skip
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--sets", default="nuclei,camvid")
    parser.add_argument("--rules", default="base,product,keep-once,merge,consistent,no-logits")
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--per-image", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/setback-rules"))
    args = parser.parse_args()
    if not datasets(args):
        print(f"no datasets under {args.data}: skipped")
        return 0
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
