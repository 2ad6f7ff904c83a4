"""Mask painting: the WebGL painter (hardware GL) and the JS path (software GL, the default
under SwiftShader) paint the same pixels for the same logits."""

from __future__ import annotations

import numpy as np

PAINT = """async ([logits, originalSize, inputSize]) => {
  const { createUpscaler } = await import("/static/js/mask-upscale.js");
  const upscaler = createUpscaler();
  const canvas = upscaler.paint(Float32Array.from(logits), { originalSize, inputSize }, [255, 0, 0, 255]);
  const [h, w] = originalSize;
  const alpha = canvas.getContext("2d").getImageData(0, 0, w, h).data.filter((_, i) => i % 4 === 3);
  return [upscaler.backend, Array.from(alpha, (a) => (a > 127 ? 1 : 0))];
}"""


def painted(page, upscale: str, logits: np.ndarray, original, input_size) -> tuple[str, np.ndarray]:  # type: ignore[no-untyped-def]
    page.goto(f"/?upscale={upscale}")
    backend, bits = page.evaluate(
        PAINT, [logits.ravel().tolist(), list(original), list(input_size)]
    )
    return backend, np.array(bits, bool).reshape(original)


def test_webgl_and_js_painters_agree(page) -> None:  # type: ignore[no-untyped-def]
    yy, xx = np.mgrid[0:256, 0:256] / 256
    logits = (np.sin(9 * xx + 2) * np.cos(7 * yy) * 5 + xx - yy).astype(np.float32)
    original, input_size = (333, 517), (661, 1024)
    gl_backend, gl = painted(page, "webgl", logits, original, input_size)
    js_backend, js = painted(page, "js", logits, original, input_size)
    assert (gl_backend, js_backend) == ("webgl", "js")
    assert 0.2 < js.mean() < 0.8
    assert np.mean(gl == js) > 0.9995


def test_software_gl_paints_with_js(page) -> None:  # type: ignore[no-untyped-def]
    """Headless Chromium here renders WebGL with SwiftShader: the default must be the JS path."""
    page.goto("/")
    backend = page.evaluate(
        """async () => (await import("/static/js/mask-upscale.js")).createUpscaler().backend"""
    )
    assert backend == "js"
