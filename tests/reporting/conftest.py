"""The fixture month in the test database (rolled back after each test)."""

from __future__ import annotations

import pytest

from storage.database import Database
from tests.reporting.fixture import build_fixture_month


@pytest.fixture
def november(db: Database) -> dict[str, int]:
    """Writes the fixture month; November's consultations' ids by name."""
    with db.session() as session:
        return {name: row.id for name, row in build_fixture_month(session).items()}
