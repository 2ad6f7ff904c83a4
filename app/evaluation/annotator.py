"""A simulated person labelling a project on the map, who knows only what the screen showed.

Actions, one each (issue 15's rule): a lasso on the map with its assign (the person then sees
the selection's first gallery page, PAGE thumbnails, and knows their classes; the rest stays
unseen); fixing one seen segment; one more gallery page (here: a review page); propagate;
accept-all above a threshold. The person never learns that a label is wrong unless a page
showed that segment. The oracle (`truth_of`) answers only for segments on a page.

Lassos: the person lassoes a blob of the unlabelled points on the map (k-means cells of about
`lasso_size` points, largest first), names the majority class of the page and fixes the page's
others. With a policy's `propagate_every`, the product then propagates from the labels the
person confirmed and the person accepts every suggestion at >= `accept_at`. Last, with
`review`, the person pages through labelled-but-unseen segments in the product's review
order (likely wrong first), fixing what each page shows, until a page holds few errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sklearn.cluster import KMeans

from app.evaluation.ledger import UNLABELLED, Ledger

PAGE = 50


@dataclass(frozen=True)
class Policy:
    name: str
    lasso_size: int = PAGE
    propagate_every: int = 0  # lassos between propagate+accept rounds; 0 = never
    accept_at: float = 0.9
    review: bool = True
    # Stop reviewing when a page shows fewer wrong labels than this.
    review_min_fixes: int = 3


class Product(Protocol):
    """What the simulated person does through the product. Segments are row indices
    0..N-1 of the session; classes are indices into the project's class list."""

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows (M,) on the map, xy (M, 2))."""
        ...

    def labels(self) -> np.ndarray:
        """(N,) current class per row, -1 unlabelled."""
        ...

    def assign(self, rows: np.ndarray, cls: int, seen: np.ndarray) -> None: ...
    def fix(self, row: int, cls: int) -> None: ...
    def propagate(self) -> None: ...
    def accept_all(self, min_confidence: float) -> None: ...
    def review_page(self, limit: int) -> np.ndarray | None:
        """Rows of the next review page (labelled, never seen, likely wrong first); None when
        the product has no review order. Showing it marks the rows as seen."""
        ...


class Annotator:
    def __init__(
        self, product: Product, truth_of: Callable[[int], int], ledger: Ledger, budget: int
    ) -> None:
        self.product, self.truth_of, self.ledger, self.budget = product, truth_of, ledger, budget
        self.skipped = np.zeros(len(ledger.labels), bool)  # pages with nothing nameable
        self._cells: list[np.ndarray] = []

    @property
    def _spent(self) -> bool:
        return self.ledger.actions >= self.budget

    def run(self, policy: Policy) -> Ledger:
        lassos = 0
        while not self._spent and self._lasso(policy):
            lassos += 1
            if policy.propagate_every and lassos % policy.propagate_every == 0:
                self._propagate(policy)
        if policy.review:
            while not self._spent and self._review(policy):
                pass
        return self.ledger

    def _lasso(self, policy: Policy) -> bool:
        """One lasso over the next blob of unlabelled points; False when none is left."""
        selection = self._next_blob(policy.lasso_size)
        if selection is None:
            return False
        page = np.sort(selection)[:PAGE]
        seen = {int(r): self.truth_of(int(r)) for r in page}
        named = [c for c in seen.values() if c >= 0]
        if not named:  # nothing on the page has a class a person could name
            self.skipped[selection] = True
            return True
        cls = int(np.bincount(named).argmax())
        agree = np.array([r for r, c in seen.items() if c == cls], np.int64)
        self.product.assign(selection, cls, agree)
        self.ledger.labels[selection] = cls
        self.ledger.spend("lasso")
        self._fix_seen(seen, cls)
        return True

    def _next_blob(self, size: int) -> np.ndarray | None:
        """The largest remaining k-means cell of the unlabelled map points (cells are cut
        once per map state: lassoing a cell removes only that cell's points)."""
        while True:
            if not self._cells:
                rows, xy = self.product.positions()
                open_ = (self.ledger.labels[rows] == UNLABELLED) & ~self.skipped[rows]
                if not open_.any():
                    return None
                self._cells = _blobs(rows[open_], xy[open_], size)
            cell = self._cells.pop(0)
            cell = cell[(self.ledger.labels[cell] == UNLABELLED) & ~self.skipped[cell]]
            if len(cell):
                return cell

    def _fix_seen(self, seen: dict[int, int], named: int | None = None) -> int:
        fixes = 0
        for row, cls in seen.items():
            current = named if named is not None else int(self.ledger.labels[row])
            if cls >= 0 and cls != current and not self._spent:
                self.product.fix(row, cls)
                self.ledger.labels[row] = cls
                self.ledger.spend("fix")
                fixes += 1
        return fixes

    def _propagate(self, policy: Policy) -> None:
        if self.budget - self.ledger.actions < 2:
            return
        self.product.propagate()
        self.ledger.spend("propagate")
        self.product.accept_all(policy.accept_at)
        self.ledger.labels[:] = self.product.labels()
        self._cells = []  # the unlabelled map changed
        self.ledger.spend("accept")

    def _review(self, policy: Policy) -> bool:
        page = self.product.review_page(PAGE)
        if page is None or not len(page):
            return False
        self.ledger.spend("page")
        fixes = self._fix_seen({int(r): self.truth_of(int(r)) for r in page})
        return fixes >= policy.review_min_fixes


def _blobs(rows: np.ndarray, xy: np.ndarray, size: int) -> list[np.ndarray]:
    """The points' k-means cells (about `size` points each) as row arrays, largest first."""
    k = max(1, int(round(len(rows) / size)))
    if k == 1:
        return [rows]
    cells = KMeans(k, n_init=1, random_state=0).fit_predict(xy)
    return sorted((rows[cells == c] for c in range(k)), key=len, reverse=True)
