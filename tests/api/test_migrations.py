from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from app.core.database import Base
from app.documents.models import is_lexical_index_object


def test_models_and_migrations_agree(database_url):
    """`alembic upgrade head` ran in the fixture; autogenerate must find nothing left to do."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, *_: not is_lexical_index_object(name),
            },
        )
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []
