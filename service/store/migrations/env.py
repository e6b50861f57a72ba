"""Alembic's environment: runs on the connection the service hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import service.store.account_models  # noqa: F401 - their tables join Base.metadata
import service.store.channel_models  # noqa: F401
import service.store.mail_models  # noqa: F401
import service.store.queue_models  # noqa: F401
import service.store.review_models  # noqa: F401
import service.store.role_models  # noqa: F401
from service.store.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` run by hand: take the URL from the ini or -x url=...
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database: alembic -x url=postgresql://... upgrade head")
    with create_engine(url).begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata)
    context.run_migrations()
