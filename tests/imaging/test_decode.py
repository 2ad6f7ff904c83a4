"""decode_image / open_canonical behaviour beyond the corpus: limits, hashes, side effects."""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from app.imaging import ImageRejected, as_array, decode_image, open_canonical
from tests.hostile_corpus import all_cases, encode, zero_png

BIG = {"max_bytes": 10**8, "max_pixels": 10**8}


def case_data(filename: str) -> bytes:
    return next(case.data for case in all_cases() if case.filename == filename)


def test_result_carries_format_hash_and_size():
    data = encode(Image.new("RGB", (7, 5), (9, 8, 7)), "PNG")
    decoded = decode_image(data, **BIG)
    assert decoded.format == "PNG"
    assert decoded.sha256 == hashlib.sha256(data).hexdigest()
    assert (decoded.width, decoded.height) == (7, 5)
    assert as_array(decoded.image)[4, 6].tolist() == [9, 8, 7]


def test_byte_cap_is_inclusive_and_checked_before_decoding():
    data = encode(Image.new("RGB", (7, 5)), "PNG")
    assert decode_image(data, max_bytes=len(data), max_pixels=35).width == 7
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, max_bytes=len(data) - 1, max_pixels=35)
    assert caught.value.code == "too_large" and str(len(data)) in str(caught.value)
    with pytest.raises(ImageRejected) as caught:  # garbage over the cap is never parsed
        decode_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, max_bytes=50, max_pixels=35)
    assert caught.value.code == "too_large"


def test_pixel_cap_is_inclusive():
    data = zero_png(10, 4)
    assert decode_image(data, max_bytes=10**6, max_pixels=40).height == 4
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, max_bytes=10**6, max_pixels=39)
    assert caught.value.code == "too_many_pixels" and "10x4" in str(caught.value)


def test_no_global_pillow_or_warning_state_changes():
    limit_before = Image.MAX_IMAGE_PIXELS
    filters_before = list(warnings.filters)
    for name in ("bomb_png_144mpx.png", "orientation_6.jpg", "malformed_exif.jpg"):
        with contextlib.suppress(ImageRejected):
            decode_image(case_data(name), **BIG)
    assert limit_before == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters_before


def test_bomb_rejected_even_when_caller_ignores_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ImageRejected) as caught:
            decode_image(case_data("bomb_png_144mpx.png"), **BIG)
    assert caught.value.code == "decompression_bomb"


def test_concurrent_decodes_agree_and_leave_filters_alone():
    names = ["bomb_png_144mpx.png", "orientation_6.jpg", "mode_I16.tif", "malformed_exif.jpg"] * 8
    filters_before = list(warnings.filters)

    def outcome(name: str) -> str:
        try:
            return str(decode_image(case_data(name), **BIG).image.size)
        except ImageRejected as error:
            return error.code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(outcome, names))
    assert results == [outcome(name) for name in names]
    assert set(results[::4]) == {"decompression_bomb"}
    assert warnings.filters == filters_before


def test_canonical_image_is_detached_and_metadata_free():
    decoded = decode_image(case_data("orientation_6.jpg"), **BIG)
    assert decoded.image.info == {}
    assert len(decoded.image.getexif()) == 0
    decoded.image.load()  # fully loaded, independent of the source buffer
    assert decoded.image.mode == "RGB"


def test_open_canonical_reads_the_stored_original(tmp_path):
    data = case_data("orientation_8.webp")
    path = tmp_path / "stored.bin"  # stored name carries no extension on purpose
    path.write_bytes(data)
    image = open_canonical(path, max_pixels=10**6)
    assert np.array_equal(as_array(image), as_array(decode_image(data, **BIG).image))
    with pytest.raises(ImageRejected) as caught:
        open_canonical(path, max_pixels=100)
    assert caught.value.code == "too_many_pixels"


def test_open_canonical_empty_and_missing(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageRejected) as caught:
        open_canonical(tmp_path / "empty.png", max_pixels=100)
    assert caught.value.code == "empty"
    with pytest.raises(FileNotFoundError):
        open_canonical(tmp_path / "missing.png", max_pixels=100)


def test_rejection_is_a_value_error_with_code_and_message():
    error = ImageRejected("corrupt", "PNG pixel data is corrupt.")
    assert isinstance(error, ValueError)
    assert (error.code, str(error)) == ("corrupt", "PNG pixel data is corrupt.")


@pytest.mark.parametrize(
    "filename", ["animated.png", "animated.webp", "multipage.tif", "multipicture.jpg"]
)
def test_multi_frame_files_decode_their_first_frame(filename: str):
    with Image.open(io.BytesIO(case_data(filename))) as source:
        assert source.n_frames == 2  # the corpus file really has a second (green) frame
    pixel = as_array(decode_image(case_data(filename), **BIG).image)[6, 8].astype(int)
    assert np.abs(pixel - [255, 0, 0]).max() <= 8
