"""One simulated annotator for the concurrency test: overlapping batch assigns, some of them
version-checked with what this client last saw (so some are refused as stale).

`python -m tests.team.load_client URL TOKEN PROJECT_ID FIRST_ID COUNT LABELS SEED N OUT`
writes a JSON list of outcomes: [status, batch_id or null, segment_ids, label_id].
"""

from __future__ import annotations

import json
import random
import sys

import httpx


def run(url: str, token: str, project_id: int, ids: list[int], labels: list[int | None],
        seed: int, n: int) -> list[list]:  # fmt: skip
    rng = random.Random(seed)
    seen: dict[int, int] = {}
    outcomes: list[list] = []
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        for _ in range(n):
            size = rng.choice([1, 5, 20, 50, 100, 200])
            start = rng.randrange(0, len(ids) - size)
            batch = ids[start : start + size]  # contiguous ranges: clients overlap a lot
            label = rng.choice(labels)
            body: dict = {"segment_ids": batch, "label_id": label}
            known = {sid: seen[sid] for sid in batch if sid in seen}
            if known and rng.random() < 0.3:
                body["expected_versions"] = known
            try:
                response = http.post(f"/api/projects/{project_id}/assign", json=body)
            except httpx.TransportError:
                outcomes.append([0, None, batch, label])
                continue
            batch_id = None
            if response.status_code == 200:
                receipt = response.json()
                batch_id = receipt["batch_id"]
                seen.update({int(k): v for k, v in receipt["versions"].items()})
            outcomes.append([response.status_code, batch_id, batch, label])
    return outcomes


def main() -> None:
    url, token, project_id, first, count, labels, seed, n, out = sys.argv[1:]
    ids = list(range(int(first), int(first) + int(count)))
    label_ids = [None if x == "none" else int(x) for x in labels.split(",")]
    result = run(url, token, int(project_id), ids, label_ids, int(seed), int(n))
    with open(out, "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main()
