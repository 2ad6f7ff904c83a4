"""Refining-click rules against setbacks (issue 14: an extra click should lower IoU by more than
0.05 in under 1% of clicks), on the same objects and first clicks, with real weights.

The standard simulated clicker (app/evaluation/noc.py) drives a SamSegmenter's decoder
directly; every rule answers the first click with the top-scored of three candidates and
differs only in which token (0 = SAM's single mask, 1-3 its multimask candidates) of a refining
click's decode (previous low-res logits fed back) answers:

  base                   SAM's single mask (as SamPredictor)
  product                app/inference/refinement.py as /predict and the in-page decoder run it
  guard:M:K:S            refinement.py's rule at margin M and keep fraction K, from click S on
                         (guard:0.1:0:3 is the rule shipped before the keep fraction)

A decode depends only on the tokens chosen before, so the rules of one object share decodes
(rules mostly agree): a run costs about one rule's decodes plus the points where rules differ.
The table counts drops (extra clicks that lowered IoU by more than 0.05) by click: the second
click refines a first click's candidate, later ones a refined mask.

    nice -n 10 .venv/bin/python bench/setback_rules.py --checkpoint PATH --data DATASETS_DIR
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.datasets import Sample, camvid_samples, nuclei_samples  # noqa: E402
from app.evaluation.metrics import mask_iou  # noqa: E402
from app.evaluation.noc import MAX_CLICKS, WORSE_MARGIN, Click, next_click, summarize  # noqa: E402
from app.evaluation.report import table  # noqa: E402
from app.inference.base import PreparedImage, Prompt  # noqa: E402
from app.inference.refinement import KEEP, MARGIN, refining_token  # noqa: E402

# A refining click's decode: 4x256x256 float32 low-res logits, 4 predicted IoUs in [0, 1].
Decode = tuple[np.ndarray, np.ndarray]
# (decode, the token answering, its clicks): the answer a next click refines.
Answer = tuple[Decode, int]
Rule = Callable[[Decode, Answer, int], int]


class ObjectRun:
    """One object's simulated sessions; decodes are memoised by the tokens chosen before."""

    def __init__(self, segmenter: Any, state: PreparedImage, gt: np.ndarray) -> None:
        self.segmenter, self.state, self.gt = segmenter, state, gt
        self._decodes: dict[tuple[int, ...], Decode] = {}
        self._masks: dict[tuple[int, ...], np.ndarray] = {}

    def decode(self, history: tuple[int, ...], clicks: list[Click], logits: Any) -> Decode:
        if history not in self._decodes:
            points = np.array([[c.x, c.y] for c in clicks], np.float32)
            labels = np.array([int(c.positive) for c in clicks], np.int32)
            fed = None if logits is None else logits[None]
            prompt = Prompt(points=points, point_labels=labels, mask_input=fed, multimask=True)
            seg = self.segmenter
            low_res, scores = seg.decoder(*seg._decoder_inputs(self.state, prompt))
            self._decodes[history] = (low_res.astype(np.float32), np.clip(scores, 0.0, 1.0))
        return self._decodes[history]

    def mask(self, history: tuple[int, ...], decode: Decode) -> np.ndarray:
        """HxW bool mask of the last token of `history` (the answer after those clicks)."""
        if history not in self._masks:
            token = history[-1]
            low_res = decode[0][token : token + 1]
            self._masks[history] = self.segmenter._upscale(low_res, self.state)[0]
        return self._masks[history]

    def trace(self, rule: Rule, stop_iou: float = 0.9) -> list[float]:
        """IoU after each click of the simulated session under `rule`."""
        clicks: list[Click] = []
        history: tuple[int, ...] = ()
        answer: Answer | None = None
        ious: list[float] = []
        while len(clicks) < MAX_CLICKS:
            click = next_click(self.gt, None if answer is None else self.mask(history, answer[0]))
            if click is None:
                break
            clicks.append(click)
            if answer is None:
                decode = self.decode(history, clicks, None)
                token = max((1, 2, 3), key=lambda t: float(decode[1][t]))
            else:
                decode = self.decode(history, clicks, answer[0][0][answer[1]])
                token = rule(decode, answer, len(clicks))
            history, answer = (*history, token), (decode, token)
            ious.append(float(mask_iou(self.gt, self.mask(history, decode))))
            if ious[-1] >= stop_iou:
                break
        return ious


def guard(margin: float, keep: float, start: int) -> Rule:
    """refinement.py's rule at another margin and keep fraction, from click `start` on."""

    def rule(decode: Decode, previous: Answer, click: int) -> int:
        if click < start:
            return 0
        (low_res, scores), token = previous[0], previous[1]
        return refining_token(*decode, low_res[token], float(scores[token]), margin, keep)

    return rule


def rule_named(name: str) -> Rule:
    if name == "base":
        return guard(0.0, 0.0, MAX_CLICKS + 1)
    if name == "product":
        return guard(MARGIN, KEEP, 2)
    kind, margin, keep, start = name.split(":")
    if kind != "guard":
        raise SystemExit(f"unknown rule {name!r}")
    return guard(float(margin), float(keep), int(start))


def measure(name: str, samples: list[Sample], states: list[PreparedImage], rules: list[str],
            segmenter: Any) -> None:  # fmt: skip
    started = time.perf_counter()
    traces: dict[str, list[list[float]]] = {r: [] for r in rules}
    for sample, state in zip(samples, states, strict=True):
        for gt in sample.objects:
            run = ObjectRun(segmenter, state, gt)
            for r in rules:
                traces[r].append(run.trace(rule_named(r)))
    rows = [["rule", "objects", "NoC@85", "NoC@90", "never@85", "drops>.05", "share", "click 2", "3+"]]  # fmt: skip
    for r in rules:
        s = summarize(traces[r])
        drops, steps = _drops(traces[r])
        rows.append([r, str(s.objects), f"{s.noc[0.85]:.2f}", f"{s.noc[0.9]:.2f}",
                     str(s.failures[0.85]), f"{len(drops)}/{steps}",
                     f"{100 * len(drops) / max(steps, 1):.2f}%",
                     str(drops.count(2)), str(sum(n > 2 for n in drops))])  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"\n{name}: {len(traces[rules[0]])} objects on {len(samples)} images ({seconds:.0f} s)")
    print(table(rows), flush=True)


def _drops(traces: list[list[float]]) -> tuple[list[int], int]:
    """The click numbers of the extra clicks that lowered IoU by more than WORSE_MARGIN, and
    how many extra clicks there were."""
    pairs = [enumerate(zip(ious, ious[1:], strict=False), 2) for ious in traces]
    steps = [(n, b - a) for clicks in pairs for n, (a, b) in clicks]
    return [n for n, step in steps if step < -WORSE_MARGIN], len(steps)


def prepared(segmenter: Any, sample: Sample, workdir: Path) -> PreparedImage:
    """The sample's encoding, from workdir when an earlier run saved it."""
    import pickle

    path = workdir / f"{segmenter.model_id}-{sample.name}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())  # type: ignore[no-any-return]  # noqa: S301 - ours
    state = segmenter.prepare([sample.image])[0]
    path.write_bytes(pickle.dumps(state))
    return state


def datasets(args: argparse.Namespace) -> dict[str, list[Sample]]:
    """The samples of each set; --part even|odd keeps every other image (tune on one, report
    on the other), --seed draws other objects of the same images."""
    found = {}
    if "nuclei" in args.sets and (args.data / "nuclei" / "images").is_dir():
        found["nuclei"] = list(nuclei_samples(args.data / "nuclei", images=args.images,
                                              per_image=args.per_image, min_area=16,
                                              seed=args.seed))  # fmt: skip
    if "camvid" in args.sets and (args.data / "camvid-dev" / "images").is_dir():
        found["camvid"] = list(camvid_samples(args.data / "camvid-dev", images=args.images,
                                              per_image=args.per_image, min_area=200,
                                              seed=args.seed))  # fmt: skip
    offset = {"all": None, "even": 0, "odd": 1}[args.part]
    return {k: v if offset is None else v[offset::2] for k, v in found.items()}


def run(args: argparse.Namespace) -> None:
    from app.config import Settings
    from app.inference.sam_loader import load_sam_segmenter

    args.workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings(sam_checkpoint=args.checkpoint, torch_threads=args.threads,
                        model_dir=args.workdir / "models", _env_file=None)  # type: ignore[call-arg]  # fmt: skip
    segmenter = load_sam_segmenter(settings)
    for name, samples in datasets(args).items():
        states = [prepared(segmenter, s, args.workdir) for s in samples]
        measure(name, samples, states, args.rules.split(","), segmenter)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--sets", default="nuclei,camvid")
    parser.add_argument("--rules", default="base,guard:0.1:0:3,product")
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--per-image", type=int, default=4)
    parser.add_argument("--part", choices=("all", "even", "odd"), default="all")
    parser.add_argument("--seed", type=int, default=0)
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
