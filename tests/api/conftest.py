"""API tests run on both databases."""

from tests.postgres import both_backends  # noqa: F401  (the parametrized `backend` fixture)
