"""Every hostile-corpus case through decode_image and open_canonical."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.imaging import ImageRejected, as_array, decode_image, open_canonical
from tests.hostile_corpus import (
    CORPUS_MAX_BYTES,
    CORPUS_MAX_PIXELS,
    HostileCase,
    all_cases,
    build_corpus,
)

LIMITS = {"max_bytes": CORPUS_MAX_BYTES, "max_pixels": CORPUS_MAX_PIXELS}
CASES = all_cases()
ACCEPTED = [case for case in CASES if case.expect == "accept"]
REJECTED = [case for case in CASES if case.expect == "reject"]


def ids(cases: list[HostileCase]) -> list[str]:
    return [case.filename for case in cases]


def assert_probes(pixels: np.ndarray, case: HostileCase) -> None:
    for x, y, expected in case.probes:
        got = pixels[y, x].astype(int)
        assert np.abs(got - expected).max() <= case.tolerance, (case.filename, x, y, got)


def test_corpus_is_large_and_varied(tmp_path):
    cases = build_corpus(tmp_path / "corpus")
    assert len(cases) >= 25
    assert {case.expect for case in cases} == {"accept", "reject"}
    for case in cases:
        assert (tmp_path / "corpus" / case.filename).read_bytes() == case.data
        assert (case.code is None) == (case.expect == "accept")


@pytest.mark.parametrize("case", REJECTED, ids=ids(REJECTED))
def test_rejected_with_code_and_reason(case: HostileCase):
    with pytest.raises(ImageRejected) as caught:
        decode_image(case.data, **LIMITS)
    assert caught.value.code == case.code
    assert len(str(caught.value)) > 10


@pytest.mark.parametrize("case", ACCEPTED, ids=ids(ACCEPTED))
def test_accepted_as_canonical_rgb(case: HostileCase):
    decoded = decode_image(case.data, **LIMITS)
    assert decoded.image.mode == "RGB"
    assert (decoded.width, decoded.height) == case.expected_size
    assert decoded.image.info == {}
    assert_probes(as_array(decoded.image), case)


@pytest.mark.parametrize("case", ACCEPTED, ids=ids(ACCEPTED))
def test_open_canonical_matches_decode(case: HostileCase, tmp_path):
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    reopened = open_canonical(path, max_pixels=CORPUS_MAX_PIXELS)
    decoded = decode_image(case.data, **LIMITS)
    assert reopened.mode == "RGB"
    assert np.array_equal(as_array(reopened), as_array(decoded.image))


@pytest.mark.parametrize("case", REJECTED, ids=ids(REJECTED))
def test_open_canonical_rejects_what_decode_rejects(case: HostileCase, tmp_path):
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    if case.code == "too_large":  # open_canonical has no byte cap: stored files passed it
        open_canonical(path, max_pixels=CORPUS_MAX_PIXELS)
        return
    with pytest.raises(ImageRejected) as caught:
        open_canonical(path, max_pixels=CORPUS_MAX_PIXELS)
    assert caught.value.code == case.code


@pytest.mark.parametrize("orientation", range(5, 9))
def test_orientation_files_store_transposed_pixels(orientation: int):
    # Guards the corpus itself: 5..8 must be stored sideways or the test above proves nothing.
    case = next(c for c in CASES if c.filename == f"orientation_{orientation}.jpg")
    with Image.open(io.BytesIO(case.data)) as stored:
        assert stored.size == (case.expected_size[1], case.expected_size[0])
