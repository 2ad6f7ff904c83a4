"""The one error the imaging package raises for a file it will not accept."""

from __future__ import annotations


class ImageRejected(ValueError):
    """An uploaded or stored file is not an acceptable image.

    ``code`` is a stable machine token: "empty", "too_large", "unsupported_format",
    "corrupt", "truncated", "too_many_pixels" or "decompression_bomb".
    ``str(error)`` is a sentence for a human saying why.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
