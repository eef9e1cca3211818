"""Shared fixtures live in tests/fixtures/; each part registers its module here."""

pytest_plugins: list[str] = ["tests.fixtures.server", "tests.fixtures.cli"]
