"""Seed a running server's data dir with segments and map positions (the map test's fixture).

The map endpoint reads positions written by the projection job; these tests need a known
layout, so they write segments and positions the way that job does, through the app's own
Database and MapStore.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.config import Settings
from app.db import Database
from app.maps.store import MapStore
from app.masks import encode_rle
from app.models import Segment, SegmentSource


def seed_segments(
    data_dir: Path, *, project_id: int, image: dict, embedder: str, xy: np.ndarray
) -> list[int]:
    """One small square segment per row of xy (N x 2 map coordinates); returns their ids."""
    settings = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    db = Database(settings.resolved_database_url)
    height, width = image["height"], image["width"]
    try:
        with db.write() as session:
            rows = []
            for i in range(len(xy)):
                mask = np.zeros((height, width), bool)
                x, y = i % (width - 4), (i // (width - 4)) % (height - 4)
                mask[y : y + 4, x : x + 4] = True
                rows.append(
                    Segment(
                        project_id=project_id,
                        image_id=image["id"],
                        rle_counts=encode_rle(mask)["counts"],
                        height=height,
                        width=width,
                        bbox_x=x,
                        bbox_y=y,
                        bbox_w=4,
                        bbox_h=4,
                        area=16,
                        source=SegmentSource.auto if i % 2 else SegmentSource.manual,
                    )
                )
            session.add_all(rows)
            session.flush()
            ids = [row.id for row in rows]
    finally:
        db.dispose()
    MapStore(data_dir / "maps").write(project_id, embedder, np.array(ids), xy)
    return ids
