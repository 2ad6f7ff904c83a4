"""Refining-click rules against setbacks (issue 14: an extra click should lower IoU by more than
0.05 in under 1% of clicks), on the same objects and first clicks, with real weights.

The standard simulated clicker (app/evaluation/noc.py) drives a SamSegmenter's decoder
directly. The first click is answered as the product answers it (--first picks: the candidate
app/inference/candidates.py ranks first on the picks learnt from the objects before, each
object's final mask counting as kept, as bench/sam_quality.py's annotator) or by the
top-scored candidate (--first top). Rules differ only in which token (0 = SAM's single mask,
1-3 its multimask candidates) of a refining click's decode (previous low-res logits fed back)
answers:

  base                   SAM's single mask (as SamPredictor)
  product                app/inference/refinement.py as /predict and the in-page decoder run it
  guard:M:K:S            refinement.py's rule at margin M and keep fraction K, from click S on,
                         without the first click's candidate (guard:0.05:0.3:2 is the rule
                         shipped before it, guard:0.1:0:3 the one before the keep fraction)
  product:M:K:F:D:N      the product rule at margin M, keep fraction K, FAR F, DEPTH D, NEAR N
  far:F                  the product rule with the first click's candidate at IoU F
  depth:D                the product rule with negative clicks at depth < D as trims (depth:0:
                         none is, so the candidate's branch answers positive clicks only)
  near:N                 the product rule at NEAR N (near:0: without it)
  gran:K                 at the second click the closer to the first click's candidate of the
                         single mask and the decode's token of that candidate (the single mask
                         when it keeps < K of it); later guard:0.05:0.3:2
  chosen:S               guard:0.05:0.3:2; where it answers with the single mask, from click S,
                         the closer of it and the token of the first click's candidate
  RULE@W                 RULE with the picks ranked at weight W (candidates.py's WEIGHT else)

A decode depends only on the tokens chosen before, so the rules of one object share decodes
(rules mostly agree): a run costs about one rule's decodes plus the points where rules differ.
The table counts drops (extra clicks that lowered IoU by more than 0.05) by click: the second
click refines a first click's candidate, later ones a refined mask.

    nice -n 10 .venv/bin/python bench/setback_rules.py --checkpoint PATH --data DATASETS_DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as coco_mask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation.datasets import Sample, camvid_samples, nuclei_samples  # noqa: E402
from app.evaluation.metrics import mask_iou  # noqa: E402
from app.evaluation.noc import MAX_CLICKS, WORSE_MARGIN, Click, next_click, summarize  # noqa: E402
from app.evaluation.report import table  # noqa: E402
from app.inference.base import PredictedMask, PreparedImage, Prompt  # noqa: E402
from app.inference.candidates import WEIGHT, CandidatePicks  # noqa: E402
from app.inference.refinement import (  # noqa: E402
    DEPTH,
    FAR,
    KEEP,
    MARGIN,
    NEAR,
    added_near_click,
    click_depth,
    refining_token,
)

# A refining click's decode: 4x256x256 float32 low-res logits, 4 predicted IoUs in [0, 1].
Decode = tuple[np.ndarray, np.ndarray]
# (decode, the token answering, its clicks): the answer a next click refines.
Answer = tuple[Decode, int]
# (decode, previous answer, tokens answered so far: one per click before, the click just made
# in low-res pixels: x, y, positive) -> token
LowResClick = tuple[int, int, bool]
Rule = Callable[[Decode, Answer, tuple[int, ...], LowResClick], int]
First = Callable[[Decode], int]


class ObjectRun:
    """One object's simulated sessions; decodes are memoised by the tokens chosen before."""

    def __init__(self, segmenter: Any, state: PreparedImage, gt: np.ndarray) -> None:
        self.segmenter, self.state, self.gt = segmenter, state, gt
        self._decodes: dict[tuple[int, ...], Decode] = {}
        self._masks: dict[tuple[int, ...], np.ndarray] = {}
        self.final: tuple[int, ...] = ()  # the history of the last trace's answer
        self.log: list[dict[str, Any]] | None = None

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

    def trace(self, rule: Rule, first: First, stop_iou: float = 0.9) -> list[float]:
        """IoU after each click of the simulated session under `rule`, the first click
        answered by the candidate `first` chooses."""
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
                token = first(decode)
            else:
                decode = self.decode(history, clicks, answer[0][0][answer[1]])
                token = rule(decode, answer, history, self.low_res_click(clicks[-1]))
                if self.log is not None:
                    self.log.append(self._features(history, clicks, decode, answer, token))
            history, answer = (*history, token), (decode, token)
            ious.append(float(mask_iou(self.gt, self.mask(history, decode))))
            if ious[-1] >= stop_iou:
                break
        self.final = history
        return ious

    def low_res_click(self, click: Click) -> LowResClick:
        prompt = Prompt(points=np.array([[click.x, click.y]], np.float32),
                        point_labels=np.array([int(click.positive)], np.int32))  # fmt: skip
        return self.segmenter._low_res_click(self.state, prompt)  # type: ignore[no-any-return]

    def candidates(self) -> list[tuple[int, float, np.ndarray]]:
        """(token, predicted IoU, HxW mask) of the first click's three candidates."""
        decode = self._decodes[()]
        return [(t, float(decode[1][t]), self.mask((t,), decode)) for t in (1, 2, 3)]

    def _features(self, history: tuple[int, ...], clicks: list[Click], decode: Decode,
                  previous: Answer, token: int) -> dict[str, Any]:  # fmt: skip
        """What a rule could look at on one refining click, and each token's IoU with the
        truth (to find rules offline; the full runs measure them)."""
        before = previous[0][0][previous[1]] > 0
        low = decode[0] > 0
        click = self.low_res_click(clicks[-1])
        area = max(int(before.sum()), 1)
        full = [self.mask((*history, t), decode) for t in range(4)]
        ys = np.clip([int(c.y) for c in clicks], 0, self.gt.shape[0] - 1)
        xs = np.clip([int(c.x) for c in clicks], 0, self.gt.shape[1] - 1)
        wanted = np.array([c.positive for c in clicks])
        return {
            "click": len(clicks), "positive": clicks[-1].positive, "chosen": token,
            "history": list(history),
            "scores": decode[1].tolist(), "previous_score": float(previous[0][1][previous[1]]),
            "keep": [float((m & before).sum() / area) for m in low],
            "area": [float(m.sum() / area) for m in low],
            "iou_previous": [float(mask_iou(before, m)) for m in low],
            "violated": [int((m[ys, xs] != wanted).sum()) for m in full],
            "iou": [float(mask_iou(self.gt, m)) for m in full],
            "iou_before": float(mask_iou(self.gt, self.mask(history, previous[0]))),
            "depth": _relative_depth(before, click),
            "honours": [bool(m[click[1], click[0]]) == click[2] for m in low],
            "near": [added_near_click(m, before, click) for m in low],
        }  # fmt: skip


def _relative_depth(before: np.ndarray, click: LowResClick) -> float:
    """The low-res click's depth in the previous low-res mask over the mask's deepest point's
    (0 outside it), refinement.py's measure: near 0 a click trims an edge, near 1 it hits the
    mask's middle."""
    at_click, deepest = click_depth(before, click)
    return at_click / max(deepest, 1e-6)


class FirstCandidate:
    """The first click's answer: the top-scored candidate, or (`picks`) the one the product
    shows first, candidates.py's ranking on the candidates kept on the objects before (the
    simulated annotator keeps its final mask, as bench/sam_quality.py's does)."""

    def __init__(self, picks: bool, weight: float = WEIGHT) -> None:
        self.picks = CandidatePicks(weight) if picks else None
        self.first_ious: list[tuple[float, float, float]] = []  # (shown, top-scored, best of 3)

    def __call__(self, decode: Decode) -> int:
        by_score = sorted((1, 2, 3), key=lambda t: -float(decode[1][t]))
        if self.picks is None:
            return by_score[0]
        masks = [PredictedMask(np.zeros((1, 1), bool), float(decode[1][t]), decode[0][t], t)
                 for t in by_score]  # fmt: skip
        return self.picks.order(0, masks)[0].token

    def kept(self, run: ObjectRun) -> None:
        if not run.final:
            return
        offered = run.candidates()
        ious = {t: float(mask_iou(run.gt, m)) for t, _, m in offered}
        top = max(offered, key=lambda c: c[1])[0]
        self.first_ious.append((ious[run.final[0]], ious[top], max(ious.values())))
        if self.picks is None:
            return
        masks = [PredictedMask(m, score, np.zeros(1), t) for t, score, m in offered]
        self.picks.offered(0, masks, [_rle(m) for _, _, m in offered])
        self.picks.kept(0, 0, _rle(run.mask(run.final, run._decodes[run.final[:-1]])))


def _rle(mask: np.ndarray) -> dict:
    return coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))  # type: ignore[no-any-return]


def guard(margin: float, keep: float, start: int, far: float | None = None,
          depth: float = 0.0, near: float = 0.0) -> Rule:  # fmt: skip
    """refinement.py's rule at another margin and keep fraction, from click `start` on; with
    `far`, also its answer with the first click's candidate at that IoU (else without it);
    with `depth`, negative clicks at less than that depth count as trims (else none does);
    with `near`, positive clicks whose single mask spreads away from them keep close."""

    def rule(decode: Decode, previous: Answer, history: tuple[int, ...], click: LowResClick) -> int:
        if len(history) + 1 < start:
            return 0
        (low_res, scores), token = previous[0], previous[1]
        candidate = None if far is None else history[0]
        return refining_token(*decode, low_res[token], float(scores[token]), candidate, click,
                              margin=margin, keep=keep, far=FAR if far is None else far,
                              depth=depth, near=near)  # fmt: skip

    return rule


def same_granularity(keep: float) -> Rule:
    """At click 2: whichever of the single mask and the decode's token of the first click's
    candidate is closer to that candidate (unless the single mask keeps < keep of it: a
    correction); from click 3 on the product rule."""
    later = guard(MARGIN, KEEP, 3)  # the rule before the chosen candidate's token (FAR)

    def rule(decode: Decode, previous: Answer, history: tuple[int, ...], click: LowResClick) -> int:
        if len(history) != 1:
            return later(decode, previous, history, click)
        before = previous[0][0][previous[1]] > 0
        low = decode[0] > 0
        if (low[0] & before).sum() < keep * max(before.sum(), 1):
            return 0
        return max((0, previous[1]), key=lambda t: float(mask_iou(before, low[t])))

    return rule


def chosen_granularity(start: int) -> Rule:
    """guard:0.05:0.3:2; where it answers with the single mask, from click `start` on, the
    single mask or the decode's token of the first click's candidate, whichever is closer to
    the mask refined."""
    before_far = guard(MARGIN, KEEP, 2)

    def rule(decode: Decode, previous: Answer, history: tuple[int, ...], click: LowResClick) -> int:
        token = before_far(decode, previous, history, click)
        if token != 0 or len(history) + 1 < start:
            return token
        before = previous[0][0][previous[1]] > 0
        low = decode[0] > 0
        return max((0, history[0]), key=lambda t: float(mask_iou(before, low[t])))

    return rule


def _weight(spec: str) -> float:
    """A rule spec's weight of the project's picks (NAME@WEIGHT; candidates.py's by default)."""
    return float(spec.split("@")[1]) if "@" in spec else WEIGHT


def rule_named(name: str) -> Rule:
    if name.startswith("far:"):
        return guard(MARGIN, KEEP, 2, float(name.split(":")[1]), DEPTH, NEAR)
    if name.startswith("near:"):
        return guard(MARGIN, KEEP, 2, FAR, DEPTH, near=float(name.split(":")[1]))
    if name.startswith("depth:"):
        return guard(MARGIN, KEEP, 2, FAR, float(name.split(":")[1]), NEAR)
    if name.startswith("chosen:"):
        return chosen_granularity(int(name.split(":")[1]))
    if name.startswith("gran:"):
        return same_granularity(float(name.split(":")[1]))
    if name == "base":
        return guard(0.0, 0.0, MAX_CLICKS + 1)
    if name == "product":
        return guard(MARGIN, KEEP, 2, FAR, DEPTH, NEAR)
    if name.startswith("product:"):
        m, k, f, d, n = map(float, name.split(":")[1:])
        return guard(m, k, 2, f, d, n)
    kind, margin, keep, start = name.split(":")
    if kind != "guard":
        raise SystemExit(f"unknown rule {name!r}")
    return guard(float(margin), float(keep), int(start))


def measure(name: str, samples: list[Sample], states: list[PreparedImage], segmenter: Any,
            args: argparse.Namespace) -> None:  # fmt: skip
    started = time.perf_counter()
    rules = args.rules.split(",")
    traces: dict[str, list[list[float]]] = {r: [] for r in rules}
    firsts = {r: FirstCandidate(args.first == "picks", _weight(r)) for r in rules}
    log: list[dict[str, Any]] = []
    for sample, state in zip(samples, states, strict=True):
        for gt in sample.objects:
            run = ObjectRun(segmenter, state, gt)
            for r in rules:
                run.log = log if args.dump and r == rules[0] else None
                traces[r].append(run.trace(rule_named(r.split("@")[0]), firsts[r]))
                firsts[r].kept(run)
    if args.dump:
        path = args.dump.with_name(f"{args.dump.stem}-{name}{args.dump.suffix}")
        path.write_text("\n".join(json.dumps(record) for record in log))
    rows = [["rule", "objects", "1-click shown/top/best3", "gap closed", "NoC@85", "NoC@90",
             "never@85", "drops>.05", "share", "click 2", "3+"]]  # fmt: skip
    for r in rules:
        s = summarize(traces[r])
        drops, steps = _drops(traces[r])
        shown, top, best = np.mean(firsts[r].first_ious, axis=0)
        rows.append([r, str(s.objects), f"{shown:.3f} / {top:.3f} / {best:.3f}",
                     f"{(shown - top) / max(best - top, 1e-9):.0%}", f"{s.noc[0.85]:.2f}", f"{s.noc[0.9]:.2f}",
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
                                              per_image=args.per_image or None, min_area=16,
                                              seed=args.seed))  # fmt: skip
    if "camvid" in args.sets and (args.data / "camvid-dev" / "images").is_dir():
        found["camvid"] = list(camvid_samples(args.data / "camvid-dev", images=args.images,
                                              per_image=args.per_image or None, min_area=200,
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
        measure(name, samples, states, segmenter, args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--sets", default="nuclei,camvid")
    parser.add_argument("--rules", default="base,guard:0.1:0:3,product")
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--per-image", type=int, default=4, help="objects per image (0: all)")
    parser.add_argument("--part", choices=("all", "even", "odd"), default="all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--first",
        choices=("top", "picks"),
        default="picks",
        help="first click: top-scored candidate, or the product's (picks)",
    )
    parser.add_argument("--dump", type=Path, help="JSON lines of the first rule's refining clicks")
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
