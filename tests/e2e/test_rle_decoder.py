"""frontend/static/js/rle.js decodes exactly what the server encodes (pycocotools strings)."""

from __future__ import annotations

import numpy as np

from app.masks import encode_rle


def masks() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:300, 0:401]
    return {
        "empty": np.zeros((5, 7), bool),
        "full": np.ones((6, 3), bool),
        "noise": rng.random((37, 53)) > 0.5,
        "disc": (yy - 140) ** 2 + (xx - 220) ** 2 < 90**2,  # long runs: multi-char counts
        "one_pixel": np.pad(np.ones((1, 1), bool), ((10, 20), (3, 40))),
    }


def test_decoder_matches_server_encoding(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    cases = {name: encode_rle(mask) for name, mask in masks().items()}
    decoded = page.evaluate(
        """async (cases) => {
            const { decodeRle } = await import("/static/js/rle.js");
            const out = {};
            for (const [name, rle] of Object.entries(cases)) {
                const mask = decodeRle(rle);
                out[name] = [mask.height, mask.width, Array.from(mask.data)];
            }
            return out;
        }""",
        cases,
    )
    for name, mask in masks().items():
        height, width, data = decoded[name]
        assert (height, width) == mask.shape, name
        np.testing.assert_array_equal(
            np.array(data, bool).reshape(height, width), mask, err_msg=name
        )


def test_decoder_rejects_inconsistent_size(page, console) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    rle = encode_rle(np.ones((4, 4), bool))
    message = page.evaluate(
        """async (rle) => {
            const { decodeRle } = await import("/static/js/rle.js");
            try { decodeRle({ size: [5, 4], counts: rle.counts }); return null; }
            catch (err) { return err.message; }
        }""",
        rle,
    )
    assert message == "RLE covers 16 pixels, expected 20"
