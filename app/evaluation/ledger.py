"""The action ledger of a simulated labelling session: every human action, and how many
segments were correctly labelled after it.

labels: (N,) int class index per segment, -1 = unlabelled; truth: (N,) true class, -1 for the
ambiguous segments that accuracy leaves out (tables still count them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNLABELLED = -1
CHECKPOINTS = (10, 25, 50, 100)
TARGETS = (0.8, 0.9, 0.95)


@dataclass
class Ledger:
    truth: np.ndarray
    labels: np.ndarray
    kinds: dict[str, int] = field(default_factory=dict)
    correct: list[int] = field(default_factory=list)  # after action k+1
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def start(cls, truth: np.ndarray) -> Ledger:
        truth = np.asarray(truth, np.int64)
        return cls(truth, np.full(len(truth), UNLABELLED, np.int64))

    @property
    def scored(self) -> int:
        return int(np.count_nonzero(self.truth >= 0))

    @property
    def actions(self) -> int:
        return len(self.correct)

    def now_correct(self) -> int:
        return int(np.count_nonzero((self.labels == self.truth) & (self.truth >= 0)))

    def spend(self, kind: str) -> None:
        """Record one action of `kind`, taken after `labels` already shows its effect."""
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        correct = self.now_correct()
        self.correct.append(correct)
        if self.actions in CHECKPOINTS:
            self.snapshots[f"n{self.actions}"] = self.labels.copy()
        for target in TARGETS:
            key = f"t{target}"
            if key not in self.snapshots and correct >= np.ceil(target * self.scored):
                self.snapshots[key] = self.labels.copy()

    def actions_to(self, target: float) -> int | None:
        """Actions until `target` of the scored segments were correct; None if never."""
        need = np.ceil(target * self.scored)
        reached = np.flatnonzero(np.asarray(self.correct) >= need)
        return int(reached[0]) + 1 if reached.size else None

    def labels_at(self, key: str) -> np.ndarray | None:
        """Labels after checkpoint `n10`..`n100` or on first reaching `t0.9` etc.; the final
        labels for a checkpoint the session ended before."""
        if key in self.snapshots:
            return self.snapshots[key]
        if key.startswith("n"):
            return self.labels.copy()
        return None
