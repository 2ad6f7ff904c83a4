"""Shared fixtures: a real SQLite file in tmp_path, the real app, a client that runs the lifespan."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from app.config import Settings
from app.inference.sam import SamSegmenter
from app.inference.sam_loader import load_sam_segmenter
from app.main import create_app
from tests.fixtures.mobile_sam import mobile_sam_checkpoint
from tests.fixtures.settings import make_settings
from tests.fixtures.tiny_sam import write_tiny_checkpoint
from tests.postgres import PostgresCluster, database_for

# Every app a test starts (in-process or a server subprocess, which inherits the environment)
# would otherwise spend a minute of CPU compiling UMAP's kernels in the background.
os.environ.setdefault("LASSOLABEL_WARM_NUMBA_AT_STARTUP", "false")

# An app a test starts finds no SAM weights unless the test gives them, and fetches none: the
# per-user model cache (where MobileSAM lives after `make test`) is not the tests' model dir.
os.environ["LASSOLABEL_MODEL_FETCH"] = "false"
os.environ.setdefault(
    "LASSOLABEL_MODEL_DIR",
    str(Path(tempfile.gettempdir()) / f"lassolabel-test-models-{os.getuid()}"),
)

# Tests run in single-user mode on loopback unless they ask for accounts (tests/team does):
# this covers Settings built directly in a test and `lassolabel serve` subprocesses too.
os.environ["LASSOLABEL_AUTH"] = "none"
os.environ["LASSOLABEL_ALLOWED_HOSTS"] = '["testserver"]'

E2E_DIR = Path(__file__).parent / "e2e"


# pytest reads `pytestmark` only from test modules, never from a conftest: the browser tests are
# marked here, by directory, before `-m "not e2e"` deselects (hence tryfirst). So are the tests
# that need the PostgreSQL server or the real MobileSAM weights by asking for their fixtures
# (the parametrized PostgreSQL cases carry the mark from tests/postgres.py's BACKENDS).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
        fixtures = getattr(item, "fixturenames", ())
        if "postgres" in fixtures:
            item.add_marker(pytest.mark.postgresql)
        if "mobile_sam_path" in fixtures:
            item.add_marker(pytest.mark.real_weights)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One PostgreSQL server for the session, started only when a test asks for it. Its
    directory is not under pytest's (mode 0700): as root the server runs as its own user."""
    parent = Path(tempfile.mkdtemp(prefix="lassolabel-pg-"))
    cluster = PostgresCluster(parent / "pgdata")
    yield cluster
    cluster.stop()
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def backend() -> str:
    """The database a test runs on; test packages where it matters parametrize it (below)."""
    return "sqlite"


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (the data directory's SQLite file) or a fresh migrated PostgreSQL database."""
    with database_for(backend, request) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


# The one tiny SAM (segment-anything's classes, random weights, loaded through the real
# checkpoint code), written once per session: for the pipeline, inference, the browser tests
# and anything that predicts.
@pytest.fixture(scope="session")
def tiny_sam_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("sam") / "tiny_sam.pth")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared so the ONNX decoder is exported once per session (it is keyed by model id)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def sam_settings(tmp_path: Path, tiny_sam_checkpoint: Path, models_dir: Path) -> Settings:
    return make_settings(
        tmp_path / "data", sam_checkpoint=tiny_sam_checkpoint, model_dir=models_dir
    )


@pytest.fixture
def sam_client(sam_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sam_settings)) as client:
        yield client


# The real MobileSAM (vit_t) loaded once per session through the real loading code: for the
# tests that prove SAM features on real content (the tiny random SAM serves the rest).
@pytest.fixture(scope="session")
def mobile_sam_path() -> Path:
    return mobile_sam_checkpoint()


@pytest.fixture(scope="session")
def mobile_sam_settings(
    mobile_sam_path: Path, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return make_settings(
        tmp_path_factory.mktemp("mobile_sam_data"),
        sam_checkpoint=mobile_sam_path,
        model_dir=models_dir,
    )


@pytest.fixture(scope="session")
def mobile_sam(mobile_sam_settings: Settings) -> SamSegmenter:
    return load_sam_segmenter(mobile_sam_settings)


@pytest.fixture
def project(client: TestClient) -> dict:
    response = client.post("/api/projects", json={"name": "test project"})
    assert response.status_code == 201, response.text
    return response.json()


def png_bytes(
    width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client: TestClient, project_id: int, files: list[tuple[str, bytes]]) -> dict:
    response = client.post(
        f"/api/projects/{project_id}/images",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )
    assert response.status_code == 200, response.text
    return response.json()


def assert_error_shape(response, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]
