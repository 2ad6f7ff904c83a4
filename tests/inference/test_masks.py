import numpy as np
import pytest

from app.masks import decode_rle, encode_rle, normalize_rle, rle_area, rle_bbox


def random_mask(seed: int, shape=(37, 53)) -> np.ndarray:
    return np.random.default_rng(seed).random(shape) > 0.6


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_and_compact_string(seed):
    mask = random_mask(seed)
    rle = encode_rle(mask)
    assert rle["size"] == [37, 53] and isinstance(rle["counts"], str)
    np.testing.assert_array_equal(decode_rle(rle), mask)


def test_uncompressed_list_counts_are_column_major_runs():
    mask = np.zeros((4, 5), bool)
    mask[2:4, 1:3] = True  # column-major: 6 zeros, 2 ones, 2 zeros, 2 ones, 8 zeros
    rle = {"size": [4, 5], "counts": [6, 2, 2, 2, 8]}
    np.testing.assert_array_equal(decode_rle(rle), mask)
    assert normalize_rle(rle) == encode_rle(mask)


def test_area_and_bbox_match_numpy():
    mask = np.zeros((20, 30), bool)
    mask[3:9, 5:17] = True
    mask[15, 25] = True
    rle = encode_rle(mask)
    assert rle_area(rle) == mask.sum()
    assert rle_bbox(rle) == [5.0, 3.0, 21.0, 13.0]
    assert rle_bbox(encode_rle(np.zeros((4, 4), bool))) == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("rle", "message"),
    [
        ({"size": [4, 5]}, "counts"),
        ({"size": [4], "counts": [20]}, "size"),
        ({"size": [0, 5], "counts": []}, "size"),
        ({"size": [4, 5], "counts": [6, 2, 2]}, "cover 10 pixels"),
        ({"size": [4, 5], "counts": [25, -5]}, "non-negative"),
        ({"size": [4, 5], "counts": "\x01\x02"}, "invalid character"),
        ({"size": [4, 5], "counts": "o"}, "truncated"),
        ("not an object", "object"),
    ],
)
def test_invalid_rles_raise_value_error_with_a_message(rle, message):
    with pytest.raises(ValueError, match=message):
        decode_rle(rle)


def test_compact_string_with_wrong_total_is_rejected():
    rle = encode_rle(random_mask(1))
    with pytest.raises(ValueError, match="pixels"):
        rle_area({"size": [37, 54], "counts": rle["counts"]})
