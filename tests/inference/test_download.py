"""Resumable, verified download against a local HTTP server that honours Range requests."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator

import pytest

from app.inference.checkpoints import ChecksumMismatch, OfficialCheckpoint, download

PAYLOAD = bytes(range(256)) * 4000  # ~1 MB


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.requests.append(self.headers.get("Range"))
        start = (
            int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        )
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/sam_test.pth"
    httpd.shutdown()
    httpd.server_close()


def test_partial_download_is_resumed_and_verified(server, tmp_path):
    checkpoint = OfficialCheckpoint("vit_b", server, hashlib.sha256(PAYLOAD).hexdigest())
    (tmp_path / "sam_test.pth.part").write_bytes(PAYLOAD[:300_000])
    path = download(checkpoint, tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "sam_test.pth.part").exists()
    assert _RangeHandler.requests == ["bytes=300000-"]
    assert download(checkpoint, tmp_path, progress=False) == path  # present: no request
    assert len(_RangeHandler.requests) == 1


def test_download_with_wrong_hash_is_discarded(server, tmp_path):
    checkpoint = OfficialCheckpoint("vit_b", server, "0" * 64)
    with pytest.raises(ChecksumMismatch, match="expected 0000"):
        download(checkpoint, tmp_path, progress=False)
    assert not list(tmp_path.iterdir())
